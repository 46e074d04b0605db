//! From an HTTP request to an authorised caller: token extraction, verification, scope check, and
//! the one place where a refusal becomes an HTTP answer (RFC 6750).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use cognito_auth::verifier::{Claims, Rejection};

/// The realm named in `WWW-Authenticate`.
const REALM: &str = "premium-content";

/// What the request's `Authorization` header offers.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented<'a> {
    /// No bearer credentials: no header, an empty one, or another scheme's credentials (`Basic
    /// ...`). RFC 6750 section 3.1: a request that "attempted using an unsupported authentication
    /// method" lacks authentication information, and its challenge carries no error code.
    Nothing,
    /// A token (after `Bearer `, or the bare value, as API Gateway's Cognito authorizer accepts).
    Token(&'a str),
    /// A header that holds no usable bearer token (`Bearer` alone or with two values, several
    /// headers, non-ASCII).
    Garbled,
}

/// Reads the bearer token of `request`.
pub fn presented_token(request: &HttpRequest) -> Presented<'_> {
    let mut values = request.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Presented::Nothing;
    };
    if values.next().is_some() {
        return Presented::Garbled;
    }
    parse_authorization(value)
}

fn parse_authorization(value: &HeaderValue) -> Presented<'_> {
    let Ok(value) = value.to_str() else {
        return Presented::Garbled;
    };
    let value = value.trim_matches(' ');
    if value.is_empty() {
        return Presented::Nothing;
    }
    // Only spaces separate the scheme (RFC 7235 section 2.1) and a b64token holds no whitespace
    // (RFC 6750 section 2.1); a tab, the one other whitespace a header value can hold, is garbage.
    if value.contains('\t') {
        return Presented::Garbled;
    }
    match value.split_once(' ') {
        None if value.eq_ignore_ascii_case("bearer") => Presented::Garbled,
        None => Presented::Token(value),
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim_start_matches(' ');
            if token.contains(' ') {
                Presented::Garbled
            } else {
                Presented::Token(token)
            }
        }
        Some(_) => Presented::Nothing,
    }
}

/// Why a request is not served.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No token was sent.
    #[error("no token")]
    MissingToken,
    /// The token was refused.
    #[error("token refused: {0}")]
    Rejected(Rejection),
    /// A valid token without the scope the route needs.
    #[error("scope {0} missing")]
    InsufficientScope(String),
}

impl AuthError {
    /// Metrics label and debug-log reason.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing_token",
            AuthError::Rejected(rejection) => rejection.reason(),
            AuthError::InsufficientScope(_) => "insufficient_scope",
        }
    }

    /// The HTTP answer: status, `WWW-Authenticate` challenge, and the `message` of the body.
    /// This is the only place refusals are mapped to HTTP.
    fn http_refusal(&self) -> (StatusCode, Option<String>, &'static str) {
        match self {
            AuthError::MissingToken => (
                StatusCode::UNAUTHORIZED,
                Some(format!("Bearer realm=\"{REALM}\"")),
                "Unauthorized",
            ),
            AuthError::Rejected(Rejection::KeysUnavailable) => {
                // Not the token's fault: we cannot judge it until the keys are loaded.
                (StatusCode::SERVICE_UNAVAILABLE, None, "Service Unavailable")
            }
            AuthError::Rejected(rejection) => {
                let description = if *rejection == Rejection::Expired {
                    "The access token expired"
                } else {
                    "The access token is invalid"
                };
                (
                    StatusCode::UNAUTHORIZED,
                    Some(format!(
                        "Bearer realm=\"{REALM}\", error=\"invalid_token\", \
                         error_description=\"{description}\""
                    )),
                    "Unauthorized",
                )
            }
            AuthError::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                Some(format!(
                    "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\""
                )),
                "Forbidden",
            ),
        }
    }
}

impl From<Rejection> for AuthError {
    fn from(rejection: Rejection) -> Self {
        AuthError::Rejected(rejection)
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        self.http_refusal().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, challenge, message) = self.http_refusal();
        let mut response = HttpResponse::build(status);
        if let Some(challenge) = challenge {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        response.json(serde_json::json!({ "message": message }))
    }
}

/// Checks that verified `claims` grant `scope`.
pub fn require_scope(claims: &Claims, scope: &str) -> Result<(), AuthError> {
    if claims.scopes.contains(scope) {
        Ok(())
    } else {
        Err(AuthError::InsufficientScope(scope.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use actix_web::test::TestRequest;

    fn presented(values: &[&str]) -> String {
        let mut request = TestRequest::default();
        for value in values {
            request = request.append_header((header::AUTHORIZATION, *value));
        }
        format!("{:?}", presented_token(&request.to_http_request()))
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_bare_tokens_work() {
        for value in [
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER   a.b.c",
            "a.b.c",
            " a.b.c ",
        ] {
            assert_eq!(presented(&[value]), "Token(\"a.b.c\")", "{value}");
        }
    }

    #[test]
    fn absent_or_empty_header_is_nothing() {
        assert_eq!(presented(&[]), "Nothing");
        assert_eq!(presented(&[""]), "Nothing");
        assert_eq!(presented(&["   "]), "Nothing");
    }

    #[test]
    fn other_schemes_are_no_bearer_credentials() {
        for value in ["Basic dXNlcjpwYXNz", "Bearerx a.b.c", "DPoP a.b.c"] {
            assert_eq!(presented(&[value]), "Nothing", "{value}");
        }
    }

    #[test]
    fn odd_bearer_headers_are_garbled() {
        for values in [
            &["Bearer"][..],
            &["Bearer a.b.c d"],
            &["Bearer a.b.c", "Bearer a.b.c"],
            // Found by the authorization_header fuzz target: tabs were kept inside the token.
            &["Bearer\ta.b.c"],
            &["Bearer a.b\tc"],
            &["a.b.c\t"],
        ] {
            assert_eq!(presented(values), "Garbled", "{values:?}");
        }
        let request = TestRequest::default()
            .insert_header((
                header::AUTHORIZATION,
                HeaderValue::from_bytes(b"Bearer \xff").unwrap(),
            ))
            .to_http_request();
        assert_eq!(presented_token(&request), Presented::Garbled);
    }

    async fn body(error: AuthError) -> (StatusCode, Option<String>, String) {
        let response = error.error_response();
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let status = response.status();
        let bytes = to_bytes(response.into_body()).await.unwrap();
        (
            status,
            challenge,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    #[actix_web::test]
    async fn answers_follow_rfc_6750() {
        let (status, challenge, text) = body(AuthError::MissingToken).await;
        assert_eq!(status, 401);
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer realm=\"premium-content\"")
        );
        assert_eq!(text, r#"{"message":"Unauthorized"}"#);

        let (status, challenge, text) = body(Rejection::BadSignature.into()).await;
        assert_eq!(status, 401);
        // RFC 6750 section 3: auth-params as quoted-strings, comma-separated.
        assert_eq!(
            challenge.as_deref(),
            Some(
                "Bearer realm=\"premium-content\", error=\"invalid_token\", \
                 error_description=\"The access token is invalid\""
            )
        );
        assert_eq!(text, r#"{"message":"Unauthorized"}"#);
        let response = AuthError::from(Rejection::Expired).error_response();
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );

        let (status, challenge, text) =
            body(AuthError::InsufficientScope("premium_api/write".into())).await;
        assert_eq!(status, 403);
        assert_eq!(
            challenge.as_deref(),
            Some(
                "Bearer realm=\"premium-content\", error=\"insufficient_scope\", \
                 scope=\"premium_api/write\""
            )
        );
        assert_eq!(text, r#"{"message":"Forbidden"}"#);

        let (status, challenge, _) = body(Rejection::KeysUnavailable.into()).await;
        assert_eq!(status, 503);
        assert!(challenge.is_none());
    }

    #[test]
    fn every_token_rejection_but_unavailability_is_a_401() {
        for rejection in Rejection::ALL {
            let status = AuthError::Rejected(rejection).status_code();
            if rejection.is_unavailable() {
                assert_eq!(status, 503);
            } else {
                assert_eq!(status, 401, "{rejection:?}");
            }
        }
    }
}
