//! The token endpoint's answer: `token_client::interpret` (RFC 6749 sections 5.1 and 5.2).
//!
//! Input: two bytes of HTTP status (big-endian, taken modulo 600), then the body.

#![no_main]

use cognito_auth::token_client::{OAuthErrorCode, TokenError, interpret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [high, low, body @ ..] = data else {
        return;
    };
    let status = u16::from_be_bytes([*high, *low]) % 600;
    match interpret(status, body) {
        Ok(token) => {
            assert!((200..300).contains(&status), "token from HTTP {status}");
            assert!(!token.access_token.expose().is_empty());
            // A token re-encoded as an endpoint would send it reads back the same.
            let again = serde_json::json!({
                "access_token": token.access_token.expose(),
                "token_type": "Bearer",
                "expires_in": token.expires_in.as_secs(),
                "scope": token.scope,
            });
            let again = interpret(200, &serde_json::to_vec(&again).unwrap()).unwrap();
            assert_eq!(again.access_token, token.access_token);
            assert_eq!(again.expires_in, token.expires_in);
            assert_eq!(again.scope, token.scope);
            assert_eq!(
                format!("{:?}", token.access_token),
                "AccessToken(<redacted>)"
            );
        }
        Err(error) => {
            match &error {
                TokenError::ServerError { status: s } => {
                    assert_eq!(*s, status);
                    assert!(status >= 500);
                }
                TokenError::OAuth {
                    code, status: s, ..
                } => {
                    assert_eq!(*s, status);
                    assert!((400..500).contains(&status));
                    assert_eq!(&OAuthErrorCode::parse(code.as_str()), code);
                }
                TokenError::InvalidResponse { status: s, .. } => {
                    assert_eq!(*s, status);
                    assert!(status < 500);
                }
                other => panic!("{other:?} from a status and a body"),
            }
            assert_eq!(error.is_transient(), status >= 500);
            assert!(!error.outcome().is_empty());
        }
    }
});
