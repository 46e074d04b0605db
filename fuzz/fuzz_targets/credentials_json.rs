//! Client credentials from a Secrets Manager `SecretString`: `ClientCredentials::from_secret_json`
//! (our key set or the AWS sample's), and through it `from_map`.
//!
//! Input: the secret string.

#![no_main]

use cognito_auth::credentials::{ClientCredentials, CredentialsFormatError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ClientCredentials::from_secret_json(text) {
        Ok(credentials) => {
            for required in [&credentials.client_id, &credentials.client_secret] {
                assert!(!required.is_empty());
                assert_eq!(required.trim(), required.as_str(), "not trimmed");
            }
            for optional in [
                &credentials.token_endpoint,
                &credentials.issuer,
                &credentials.user_pool_id,
            ]
            .into_iter()
            .flatten()
            {
                assert!(!optional.is_empty());
                assert_eq!(optional.trim(), optional.as_str(), "not trimmed");
            }
            for scope in &credentials.scopes {
                assert!(!scope.is_empty() && !scope.contains(char::is_whitespace));
            }
            // What the operator writes into a Secret reads back the same.
            assert_eq!(
                ClientCredentials::from_map(&credentials.to_map()).as_ref(),
                Ok(&credentials)
            );
            // Debug never shows the secret (unless it also occurs in what Debug may show).
            let shown = format!("{credentials:?}");
            let without_secret = format!(
                "{:?}",
                ClientCredentials {
                    client_secret: String::new(),
                    ..credentials.clone()
                }
            );
            if !without_secret.contains(&credentials.client_secret) {
                assert!(!shown.contains(&credentials.client_secret), "{shown}");
            }
        }
        // The message quotes none of the input: a secret is often almost valid JSON.
        Err(CredentialsFormatError::NotJson(message)) => {
            assert!(
                !message.contains(['"', '`', '\'']),
                "error message quotes the input: {message}"
            );
        }
        Err(CredentialsFormatError::Missing(_) | CredentialsFormatError::Invalid { .. }) => {}
    }
});
