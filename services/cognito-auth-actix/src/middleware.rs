//! [`Authorize`]: the middleware judging every request of an `App`, scope or resource by the
//! [`SharedAuthorizer`] in use.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage};
use cognito_auth::authorization::{Authorizer, Denial, Grant};

use crate::decision::{decide, identity_header_pairs, strip_identity_headers};
use crate::deny_response;

/// The [`Authorizer`] in use, replaceable while requests are served (a policy reload): cheap
/// to clone, every clone sees the replacement.
#[derive(Debug, Clone)]
pub struct SharedAuthorizer(Arc<RwLock<Arc<Authorizer>>>);

impl SharedAuthorizer {
    /// Starts with `authorizer`.
    pub fn new(authorizer: Authorizer) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(authorizer))))
    }

    /// The authorizer in use now; a request keeps the one it started with.
    pub fn current(&self) -> Arc<Authorizer> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the authorizer for the requests that start from now on.
    pub fn replace(&self, authorizer: Authorizer) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(authorizer);
    }
}

impl From<Authorizer> for SharedAuthorizer {
    fn from(authorizer: Authorizer) -> Self {
        Self::new(authorizer)
    }
}

/// What the middleware decided, left in the response's extensions for metrics and logs.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The denial, `None` for an allowed request.
    pub denial: Option<Denial>,
    /// How long the token's verification took, when one was verified.
    pub verification: Option<Duration>,
}

/// Middleware (`.wrap(Authorize::new(authorizer, "my-api"))`): judges every request by the
/// authorizer's policy. A client's identity headers are always removed first. On allow the
/// request goes on with its [`Grant`] and normalised
/// [`RequestPath`](cognito_auth::policy::RequestPath) in its extensions (read the claims with
/// [`VerifiedClaims`](crate::VerifiedClaims)) and, for a verified token, the `x-cognito-*`
/// identity headers set from the claims; otherwise it is answered with [`deny_response`]
/// naming `realm`. Either way the response carries a [`Verdict`] in its extensions.
#[derive(Debug, Clone)]
pub struct Authorize {
    authorizer: SharedAuthorizer,
    realm: Arc<str>,
}

impl Authorize {
    /// Judges by `authorizer` (an [`Authorizer`] or a [`SharedAuthorizer`] to replace later);
    /// `realm` is named in the `WWW-Authenticate` challenges (RFC 6750 section 3).
    pub fn new(authorizer: impl Into<SharedAuthorizer>, realm: &str) -> Self {
        Self {
            authorizer: authorizer.into(),
            realm: realm.into(),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Authorize
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = AuthorizeMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthorizeMiddleware {
            service: Rc::new(service),
            authorizer: self.authorizer.clone(),
            realm: self.realm.clone(),
        }))
    }
}

/// The service [`Authorize`] wraps around the inner one.
#[derive(Debug)]
pub struct AuthorizeMiddleware<S> {
    service: Rc<S>,
    authorizer: SharedAuthorizer,
    realm: Arc<str>,
}

type Answer<B> = Result<ServiceResponse<EitherBody<B>>, Error>;

impl<S, B> Service<ServiceRequest> for AuthorizeMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Answer<B>>>>;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let authorizer = self.authorizer.current();
        let realm = self.realm.clone();
        Box::pin(async move {
            strip_identity_headers(request.headers_mut());
            let decision = decide(
                &authorizer,
                request.method().as_str(),
                request.path(),
                request.headers(),
            )
            .await;
            let verification = decision.verification;
            match decision.outcome {
                Ok((path, grant)) => {
                    if let Grant::Verified(claims) = &grant {
                        for (name, value) in identity_header_pairs(claims) {
                            request.headers_mut().insert(name, value);
                        }
                    }
                    request.extensions_mut().insert(path);
                    request.extensions_mut().insert(grant);
                    let mut response = service.call(request).await?;
                    response.response_mut().extensions_mut().insert(Verdict {
                        denial: None,
                        verification,
                    });
                    Ok(response.map_into_left_body())
                }
                Err(denial) => {
                    tracing::debug!(
                        reason = denial.reason(),
                        method = %request.method(),
                        path = request.path(),
                        "request refused"
                    );
                    let mut answer = deny_response(&denial, &realm);
                    answer.extensions_mut().insert(Verdict {
                        denial: Some(denial),
                        verification,
                    });
                    Ok(request.into_response(answer).map_into_right_body())
                }
            }
        })
    }
}
