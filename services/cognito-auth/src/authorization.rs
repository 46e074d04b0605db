//! From a request (method, path, `Authorization` header) to a verdict, with no web framework:
//! [`Authorizer::authorize`] joins the [`Policy`] and the [`Verifier`], and [`Denial::http_answer`]
//! is the one place where a refusal becomes an HTTP status, challenge (RFC 6750 section 3) and
//! body, for premium-content, the actix-web integration and cognito-authorizer alike.

use std::sync::Arc;

use crate::bearer::Presented;
use crate::policy::{PathError, Policy, RequestPath};
use crate::verifier::{Claims, Rejection, Verifier};

/// The request headers carrying the verified identity to the protected service; requests from
/// clients never keep their own values of them.
pub const IDENTITY_HEADERS: [&str; 3] = [
    "x-cognito-client-id",
    "x-cognito-scopes",
    "x-cognito-issuer",
];

/// A policy with the verifier of its issuers.
#[derive(Debug)]
pub struct Authorizer {
    policy: Arc<Policy>,
    verifier: Arc<Verifier>,
}

/// An allowed request.
#[derive(Debug, Clone, PartialEq)]
pub enum Grant {
    /// A public route: no token was looked at.
    Public,
    /// A verified token that satisfies the route.
    Verified(Claims),
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Denial {
    /// The path cannot be judged (400).
    #[error("bad request path: {0}")]
    InvalidPath(PathError),
    /// No token was presented (401, challenge without error code).
    #[error("no token")]
    MissingToken,
    /// The token was refused (401 `invalid_token`; 503 when the keys are not loaded yet).
    #[error("token refused: {0}")]
    Rejected(Rejection),
    /// A valid token without the scopes the route needs (403 `insufficient_scope`, `scope` =
    /// the scopes named by the rule, space-separated).
    #[error("scope missing: {0}")]
    InsufficientScope(String),
    /// A valid token, but no rule allows the request and the default is `deny` (403).
    #[error("no rule allows the request")]
    NoRule,
}

/// A refusal as HTTP, framework-neutral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// Status code.
    pub status: u16,
    /// `WWW-Authenticate` value, when the status asks for one.
    pub www_authenticate: Option<String>,
    /// `Retry-After` seconds, for 503.
    pub retry_after: Option<u32>,
    /// The JSON body, `{"message":"..."}`.
    pub body: &'static str,
}

impl Denial {
    /// Metrics label and debug-log reason (snake_case).
    pub fn reason(&self) -> &'static str {
        unimplemented!("issue 15")
    }

    /// The HTTP answer, with `realm` in the challenge. The only mapping of refusals to HTTP.
    pub fn http_answer(&self, realm: &str) -> HttpAnswer {
        let _ = realm;
        unimplemented!("issue 15: move premium-content's auth::AuthError::http_refusal here")
    }
}

impl Authorizer {
    /// Judges requests by `policy`, verifying tokens with `verifier` (built from the policy's
    /// issuers).
    pub fn new(policy: Arc<Policy>, verifier: Arc<Verifier>) -> Self {
        Self { policy, verifier }
    }

    /// The policy.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The verifier.
    pub fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }

    /// The verdict on `method` `path` presenting `credentials`: the policy's requirement, then
    /// (unless public) the token verified and its scopes checked.
    pub async fn authorize(
        &self,
        method: &str,
        path: &RequestPath,
        credentials: Presented<'_>,
    ) -> Result<Grant, Denial> {
        let _ = (method, path, credentials);
        unimplemented!("issue 15")
    }
}

/// The identity headers for verified `claims`: name and value, in [`IDENTITY_HEADERS`] order
/// (scopes space-separated).
pub fn identity_headers(claims: &Claims) -> [(&'static str, String); 3] {
    let scopes: Vec<&str> = claims.scopes.iter().collect();
    [
        (IDENTITY_HEADERS[0], claims.client_id.clone()),
        (IDENTITY_HEADERS[1], scopes.join(" ")),
        (IDENTITY_HEADERS[2], claims.issuer.clone()),
    ]
}
