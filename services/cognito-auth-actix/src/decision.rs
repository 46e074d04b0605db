//! One request judged: its path normalised, its bearer token read (RFC 6750 section 2.1) and
//! the [`Authorizer`]'s verdict, timed. The middleware and cognito-authorizer's checks (which
//! judge a method and path other than their own request's) both go through [`decide`].

use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use cognito_auth::authorization::{Authorizer, Denial, Grant, identity_headers};
use cognito_auth::bearer::{Presented, presented_token};
use cognito_auth::policy::RequestPath;
use cognito_auth::verifier::Claims;

/// The verdict on one request.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The allowed request's normalised path and grant, or the denial.
    pub outcome: Result<(RequestPath, Grant), Denial>,
    /// How long the token's verification took, when a token was verified (not for public
    /// routes, unusable paths or requests without a token).
    pub verification: Option<Duration>,
}

impl Decision {
    /// Metrics label and debug-log reason (snake_case): `public`, `verified`, or the denial's.
    pub fn reason(&self) -> &'static str {
        match &self.outcome {
            Ok((_, Grant::Public)) => "public",
            Ok((_, Grant::Verified(_))) => "verified",
            Err(denial) => denial.reason(),
        }
    }

    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.outcome.is_ok()
    }
}

/// Judges `method` on `raw_path` (a request target's path, without `?query`) presenting the
/// `Authorization` headers in `headers`.
pub async fn decide(
    authorizer: &Authorizer,
    method: &str,
    raw_path: &str,
    headers: &HeaderMap,
) -> Decision {
    let path = match RequestPath::normalize(raw_path) {
        Ok(path) => path,
        Err(error) => {
            return Decision {
                outcome: Err(Denial::InvalidPath(error)),
                verification: None,
            };
        }
    };
    let credentials = presented_token(
        headers
            .get_all(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
    );
    let started = Instant::now();
    let verdict = authorizer.authorize(method, &path, credentials).await;
    let took = started.elapsed();
    // A token was verified when one was presented and the route is not public (garbled
    // headers and public routes never reach the verifier).
    let verified =
        matches!(credentials, Presented::Token(_)) && !matches!(verdict, Ok(Grant::Public));
    Decision {
        outcome: verdict.map(|grant| (path, grant)),
        verification: verified.then_some(took),
    }
}

/// Removes every identity header ([`cognito_auth::authorization::IDENTITY_HEADERS`]) from
/// `headers`: a client never sets them.
pub fn strip_identity_headers(headers: &mut HeaderMap) {
    for name in cognito_auth::authorization::IDENTITY_HEADERS {
        headers.remove(name);
    }
}

/// The identity headers of verified `claims`, as actix header pairs. A value that is not a
/// valid header value (a control character in a claim) is left out rather than guessed at.
pub fn identity_header_pairs(
    claims: &Claims,
) -> impl Iterator<Item = (HeaderName, HeaderValue)> + '_ {
    identity_headers(claims)
        .into_iter()
        .filter_map(|(name, value)| {
            let value = HeaderValue::from_str(value).ok()?;
            Some((HeaderName::from_static(name), value))
        })
}
