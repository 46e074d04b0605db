//! actix-web integration of [`cognito_auth::authorization`]: the [`Authorize`] middleware that
//! judges every request by a route policy, the [`VerifiedClaims`] extractor, and the one
//! conversion of a [`Denial`] into an actix `HttpResponse` ([`deny_response`]).
//!
//! A Rust service protects itself in a few lines (the runnable example
//! `examples/protected_api.rs`, `POLICY_FILE=policy.yaml cargo run -p cognito-auth-actix
//! --example protected_api`):
//!
//! ```no_run
//! use std::path::Path;
//! use std::sync::Arc;
//!
//! use actix_web::{App, HttpServer, web};
//! use cognito_auth::policy::Policy;
//! use cognito_auth_actix::{Authorize, VerifiedClaims, Verification, VerificationSettings};
//!
//! async fn hello(claims: VerifiedClaims) -> String {
//!     format!("hello, {}", claims.client_id)
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let policy = Policy::load(Path::new("policy.yaml"))?;
//!     let verification = Verification::new(VerificationSettings::default(), "my-api/1.0")?;
//!     let authorizer = verification.authorizer(Arc::new(policy), None)?;
//!     let authorize = Authorize::new(authorizer, "my-api");
//!     HttpServer::new(move || App::new().wrap(authorize.clone()).route("/hello", web::get().to(hello)))
//!         .bind("127.0.0.1:8080")?
//!         .run()
//!         .await?;
//!     Ok(())
//! }
//! ```
//!
//! Requests the policy refuses never reach the handlers: they get premium-content's answers
//! (`401 {"message":"Unauthorized"}` / `403 {"message":"Forbidden"}` with RFC 6750 challenges,
//! `400` for a path that cannot be judged). Allowed ones carry the verified identity in the
//! `x-cognito-*` headers too, whatever the client sent in them.

mod decision;
mod middleware;
pub mod verification;
pub mod verifier_metrics;

use std::future::{Ready, ready};
use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use cognito_auth::authorization::{Denial, Grant};
use cognito_auth::verifier::Claims;

pub use crate::decision::{Decision, decide, identity_header_pairs, strip_identity_headers};
pub use crate::middleware::{Authorize, AuthorizeMiddleware, SharedAuthorizer, Verdict};
pub use crate::verification::{BuildError, Verification, VerificationArgs, VerificationSettings};

/// The HTTP answer for `denial`, challenge naming `realm` (see [`Denial::http_answer`]).
pub fn deny_response(denial: &Denial, realm: &str) -> HttpResponse {
    let answer = denial.http_answer(realm);
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    if let Some(challenge) = answer.www_authenticate {
        response.insert_header((header::WWW_AUTHENTICATE, challenge));
    }
    if let Some(seconds) = answer.retry_after {
        response.insert_header((header::RETRY_AFTER, seconds.to_string()));
    }
    response
        .content_type(header::ContentType::json())
        .body(answer.body)
}

/// Extractor: the claims of the verified token the [`Authorize`] middleware let through.
/// Fails with [`ClaimsUnavailable`] (500) on a route the middleware does not wrap or a public
/// one (which never looks at the token); take `Option<VerifiedClaims>` there. The claims are
/// shared with the verified-token cache, not copied per request.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims(pub Arc<Claims>);

impl Deref for VerifiedClaims {
    type Target = Claims;

    fn deref(&self) -> &Claims {
        &self.0
    }
}

/// The request carries no verified claims: a programming error (the route is public or not
/// behind [`Authorize`]), answered 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no verified claims: the route is public or not behind the Authorize middleware")]
pub struct ClaimsUnavailable;

impl ResponseError for ClaimsUnavailable {
    fn error_response(&self) -> HttpResponse {
        HttpResponse::InternalServerError()
            .content_type(header::ContentType::json())
            .body(r#"{"message":"Internal Server Error"}"#)
    }
}

impl FromRequest for VerifiedClaims {
    type Error = ClaimsUnavailable;
    type Future = Ready<Result<Self, ClaimsUnavailable>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match request.extensions().get::<Grant>() {
            Some(Grant::Verified(claims)) => Ok(Self(claims.clone())),
            _ => Err(ClaimsUnavailable),
        })
    }
}
