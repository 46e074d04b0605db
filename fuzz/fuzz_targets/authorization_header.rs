//! The `Authorization` header reader of every web glue (`cognito_auth::bearer`) (RFC 6750 section 2.1 `Bearer`, case
//! insensitive, or a bare JWT as API Gateway's Cognito authorizer accepts).
//!
//! Input: the header values, separated by `\n` (a byte no header value can hold); each becomes
//! one `Authorization` header of a request. Values `http` refuses (control bytes) are dropped, as
//! no server would hand them over.

#![no_main]

use actix_web::http::header::HeaderValue;
use cognito_auth::bearer::{Presented, presented_token};
use libfuzzer_sys::fuzz_target;

/// [`Presented`], owning its token.
#[derive(Debug, PartialEq)]
enum Verdict {
    Nothing,
    Token(String),
    Garbled,
}

fn present(values: &[HeaderValue]) -> Verdict {
    match presented_token(values.iter().map(HeaderValue::as_bytes)) {
        Presented::Nothing => Verdict::Nothing,
        Presented::Token(token) => Verdict::Token(token.to_owned()),
        Presented::Garbled => Verdict::Garbled,
    }
}

fuzz_target!(|data: &[u8]| {
    let values: Vec<HeaderValue> = data
        .split(|&b| b == b'\n')
        .take(4)
        .filter_map(|value| HeaderValue::from_bytes(value).ok())
        .collect();
    let verdict = present(&values);
    if values.len() > 1 {
        assert_eq!(verdict, Verdict::Garbled, "several Authorization headers");
    }
    let raw = values
        .first()
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if values.len() == 1
        && let Some(expected) = well_formed(raw)
    {
        assert_eq!(verdict, Verdict::Token(expected.to_owned()));
    }
    match verdict {
        // Nothing: no value, or credentials of another scheme (RFC 6750 section 3.1: no Bearer
        // credentials, so no error code in the challenge).
        Verdict::Nothing => {
            let value = std::str::from_utf8(raw).expect("text").trim_matches(' ');
            let other_scheme = value
                .split_once(' ')
                .is_some_and(|(scheme, _)| !scheme.eq_ignore_ascii_case("bearer"));
            assert!(
                value.is_empty() || other_scheme,
                "{raw:?} read as no credentials"
            );
        }
        Verdict::Garbled => {}
        Verdict::Token(token) => {
            assert_eq!(values.len(), 1);
            // A b64token (RFC 6750 section 2.1) has no whitespace, and it is what the client sent.
            assert!(!token.is_empty());
            assert!(
                !token.bytes().any(|b| b.is_ascii_whitespace()),
                "token {token:?} holds whitespace"
            );
            let raw = std::str::from_utf8(raw).expect("a token is text");
            assert!(raw.trim_end_matches(' ').ends_with(&token));
            // The same token under any spelling of the scheme reads back the same.
            for scheme in ["Bearer", "bearer", "BEARER"] {
                let again = HeaderValue::from_str(&format!("{scheme} {token}")).unwrap();
                assert_eq!(present(&[again]), Verdict::Token(token.clone()));
            }
        }
    }
});

/// The token of a value that is clearly fine: `Bearer` in any case, spaces, one b64token (RFC
/// 6750 section 2.1), or that b64token alone; spaces around it.
fn well_formed(raw: &[u8]) -> Option<&str> {
    let value = std::str::from_utf8(raw).ok()?.trim_matches(' ');
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            token.trim_start_matches(' ')
        }
        Some(_) => return None,
        None if value.eq_ignore_ascii_case("bearer") => return None,
        None => value,
    };
    let body = token.trim_end_matches('=');
    let b64token = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    b64token.then_some(token)
}
