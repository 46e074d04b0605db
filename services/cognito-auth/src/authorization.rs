//! From a request (method, path, `Authorization` header) to a verdict, with no web framework:
//! [`Authorizer::authorize`] joins the [`Policy`] and the [`Verifier`], and [`Denial::http_answer`]
//! is the one place where a refusal becomes an HTTP status, challenge (RFC 6750 section 3) and
//! body, for premium-content, the actix-web integration and cognito-authorizer alike.

use std::sync::Arc;

use crate::bearer::Presented;
use crate::policy::{PathError, Policy, RequestPath, Requirement};
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
    /// A verified token that satisfies the route (its claims shared with the verified-token
    /// cache).
    Verified(Arc<Claims>),
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
    /// Metrics label and debug-log reason (snake_case): `invalid_path`, `missing_token`, the
    /// [`Rejection::reason`] of a refused token, `insufficient_scope`, `no_rule`.
    pub fn reason(&self) -> &'static str {
        match self {
            Denial::InvalidPath(_) => "invalid_path",
            Denial::MissingToken => "missing_token",
            Denial::Rejected(rejection) => rejection.reason(),
            Denial::InsufficientScope(_) => "insufficient_scope",
            Denial::NoRule => "no_rule",
        }
    }

    /// The HTTP answer, with `realm` in the challenge. The only mapping of refusals to HTTP:
    /// RFC 6750 section 3 challenges (auth-params as quoted-strings, comma-separated; no error
    /// code when no token was presented, section 3.1), 503 with `Retry-After` when the keys are
    /// not loaded yet (not the token's fault), 400 for a path that cannot be judged, and 403
    /// without a challenge when no rule allows the request (no token would help).
    pub fn http_answer(&self, realm: &str) -> HttpAnswer {
        let answer = |status, www_authenticate, body| HttpAnswer {
            status,
            www_authenticate,
            retry_after: None,
            body,
        };
        match self {
            Denial::InvalidPath(_) => answer(400, None, r#"{"message":"Bad Request"}"#),
            Denial::MissingToken => {
                answer(401, Some(format!("Bearer realm=\"{realm}\"")), UNAUTHORIZED)
            }
            Denial::Rejected(Rejection::KeysUnavailable) => HttpAnswer {
                retry_after: Some(1),
                ..answer(503, None, r#"{"message":"Service Unavailable"}"#)
            },
            Denial::Rejected(rejection) => {
                let description = if *rejection == Rejection::Expired {
                    "The access token expired"
                } else {
                    "The access token is invalid"
                };
                answer(
                    401,
                    Some(format!(
                        "Bearer realm=\"{realm}\", error=\"invalid_token\", \
                         error_description=\"{description}\""
                    )),
                    UNAUTHORIZED,
                )
            }
            Denial::InsufficientScope(scope) => answer(
                403,
                Some(format!(
                    "Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{scope}\""
                )),
                FORBIDDEN,
            ),
            Denial::NoRule => answer(403, None, FORBIDDEN),
        }
    }
}

const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const FORBIDDEN: &str = r#"{"message":"Forbidden"}"#;

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
        let requirement = self.policy.requirement(method, path);
        if requirement == Requirement::Public {
            return Ok(Grant::Public);
        }
        let token = match credentials {
            Presented::Nothing => return Err(Denial::MissingToken),
            Presented::Garbled => return Err(Denial::Rejected(Rejection::Malformed)),
            Presented::Token(token) => token,
        };
        let claims = self
            .verifier
            .verify(token)
            .await
            .map_err(Denial::Rejected)?;
        let granted = |scope: &String| claims.scopes.contains(scope);
        match requirement {
            // A valid token learns only "forbidden"; an invalid one is told so first.
            Requirement::Deny => Err(Denial::NoRule),
            Requirement::AnyScope(scopes) if !scopes.iter().any(granted) => {
                Err(Denial::InsufficientScope(scopes.join(" ")))
            }
            Requirement::AllScopes(scopes) if !scopes.iter().all(granted) => {
                Err(Denial::InsufficientScope(scopes.join(" ")))
            }
            _ => Ok(Grant::Verified(claims)),
        }
    }
}

/// The identity headers for verified `claims`: name and value, in [`IDENTITY_HEADERS`] order
/// (scopes space-separated). Borrowed from the claims: nothing is built per request.
pub fn identity_headers(claims: &Claims) -> [(&'static str, &str); 3] {
    [
        (IDENTITY_HEADERS[0], &claims.client_id),
        (IDENTITY_HEADERS[1], claims.scopes.as_str()),
        (IDENTITY_HEADERS[2], &claims.issuer),
    ]
}

#[cfg(test)]
mod tests;
