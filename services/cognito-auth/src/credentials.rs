//! App client credentials and the formats they are stored in.
//!
//! Two JSON key sets are accepted from AWS Secrets Manager: ours (the same keys as the Kubernetes
//! Secret the operator writes) and the AWS sample's, which existing deployments depend on
//! ([`seed`]). Every source (environment, folder, Secrets Manager, and the operator writing a
//! Secret) builds its credentials through [`ClientCredentials::new`] or
//! [`ClientCredentials::from_map`], so every value passes the one [`normalise`].

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

mod dir;
mod provider;
#[cfg(feature = "secrets-manager")]
mod secrets_manager;
pub mod seed;

pub use dir::DirSource;
pub use provider::{CredentialsError, CredentialsProvider};
#[cfg(feature = "secrets-manager")]
pub use secrets_manager::{FetchLimits, SecretsManagerSource, arn_region};

/// Secret keys written by the operator and read from a mounted credentials folder.
pub mod keys {
    /// The app client id.
    pub const CLIENT_ID: &str = "client_id";
    /// The app client secret.
    pub const CLIENT_SECRET: &str = "client_secret";
    /// Full URL of the `/oauth2/token` endpoint.
    pub const TOKEN_ENDPOINT: &str = "token_endpoint";
    /// Space-separated full scope strings the client may request.
    pub const SCOPES: &str = "scopes";
    /// The token issuer, one of the pool's two forms (see [`crate::cognito::UserPool::issuer`]).
    pub const ISSUER: &str = "issuer";
    /// The user pool id.
    pub const USER_POOL_ID: &str = "user_pool_id";
}

/// An app client's credentials plus what is known about where to use them.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The app client id.
    pub client_id: String,
    /// The app client secret; never printed by `Debug`.
    pub client_secret: String,
    /// Full URL of the token endpoint, when the source knows it.
    pub token_endpoint: Option<String>,
    /// Full scope strings the client may request (may be empty when the source does not say).
    pub scopes: Vec<String>,
    /// The issuer, when the source knows it.
    pub issuer: Option<String>,
    /// The user pool id, when the source knows it.
    pub user_pool_id: Option<String>,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("token_endpoint", &self.token_endpoint)
            .field("scopes", &self.scopes)
            .field("issuer", &self.issuer)
            .field("user_pool_id", &self.user_pool_id)
            .finish()
    }
}

/// Why stored credentials could not be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsFormatError {
    /// The text is not a JSON object of strings.
    #[error("credentials are not a JSON object of strings: {0}")]
    NotJson(String),
    /// A required key is absent or empty (the message names every key that would do).
    #[error("credentials lack {0}")]
    Missing(&'static str),
    /// A key holds a value its kind never has (the message names the key and the rule, never
    /// the value).
    #[error("credentials' {key} {rule}")]
    Invalid {
        /// The key at fault.
        key: &'static str,
        /// What its values must be like.
        rule: &'static str,
    },
}

/// The one normalisation of a stored credential value: surrounding whitespace (spaces, tabs,
/// `\n`, `\r\n`: what `echo secret | base64`, a hand-edited file or a YAML block scalar leaves
/// behind) and a byte-order mark are removed. `None` when nothing is left.
///
/// Nothing real is lost: Cognito's client ids and secrets match `[\w+]+` (AddUserPoolClientSecret,
/// Cognito API reference), its URLs and pool ids hold no whitespace either, and a stray `\n` sent
/// to the token endpoint only earns `invalid_client`.
pub fn normalise(value: &str) -> Option<&str> {
    Some(value.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}'))
        .filter(|v| !v.is_empty())
}

impl ClientCredentials {
    /// Credentials for `client_id` and `client_secret`, both [`normalise`]d, with nothing else
    /// known yet. Fails naming the key that is empty once normalised.
    pub fn new(client_id: &str, client_secret: &str) -> Result<Self, CredentialsFormatError> {
        Ok(Self {
            client_id: normalise(client_id)
                .ok_or(CredentialsFormatError::Missing(keys::CLIENT_ID))?
                .to_owned(),
            client_secret: normalise(client_secret)
                .ok_or(CredentialsFormatError::Missing(keys::CLIENT_SECRET))?
                .to_owned(),
            token_endpoint: None,
            scopes: Vec::new(),
            issuer: None,
            user_pool_id: None,
        })
    }

    /// Parses a Secrets Manager `SecretString` in either accepted JSON key set.
    pub fn from_secret_json(text: &str) -> Result<Self, CredentialsFormatError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Value {
            Text(String),
            Other(serde::de::IgnoredAny),
        }
        let map: BTreeMap<String, Value> = serde_json::from_str(text)
            .map_err(|e| CredentialsFormatError::NotJson(describe_json_error(&e)))?;
        let strings = map
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::Text(s) => Some((k, s)),
                // The seed keeps non-string values (none today) next to ours; ignore them.
                Value::Other(_) => None,
            })
            .collect();
        Self::from_map(&strings)
    }

    /// Builds credentials from key/value pairs in either key set (ours take precedence), every
    /// value [`normalise`]d; the sample's scope names become full scopes ([`seed::scopes`]).
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Self, CredentialsFormatError> {
        let get = |key: &str| map.get(key).and_then(|v| normalise(v)).map(str::to_owned);
        let client_id = get(keys::CLIENT_ID)
            .or_else(|| get(seed::CLIENT_ID))
            .ok_or(CredentialsFormatError::Missing(
                "client_id (or user_pool_client_id)",
            ))?;
        let client_secret = get(keys::CLIENT_SECRET)
            .or_else(|| get(seed::CLIENT_SECRET))
            .ok_or(CredentialsFormatError::Missing(
                "client_secret (or app_client_secret)",
            ))?;
        let scopes = match get(keys::SCOPES) {
            Some(list) => split_scopes(&list),
            None => seed::scopes(get)?,
        };
        Ok(Self {
            token_endpoint: get(keys::TOKEN_ENDPOINT).or_else(|| get(seed::OAUTH2_ENDPOINT)),
            scopes,
            issuer: get(keys::ISSUER),
            user_pool_id: get(keys::USER_POOL_ID).or_else(|| get(seed::USER_POOL_ID)),
            ..Self::new(&client_id, &client_secret)?
        })
    }

    /// The key/value pairs of our own format, as the operator writes them into a Secret.
    ///
    /// Keys whose value is unknown are left out rather than written empty.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        map.insert(keys::CLIENT_ID.to_owned(), self.client_id.clone());
        map.insert(keys::CLIENT_SECRET.to_owned(), self.client_secret.clone());
        if !self.scopes.is_empty() {
            map.insert(keys::SCOPES.to_owned(), self.scopes.join(" "));
        }
        for (key, value) in [
            (keys::TOKEN_ENDPOINT, &self.token_endpoint),
            (keys::ISSUER, &self.issuer),
            (keys::USER_POOL_ID, &self.user_pool_id),
        ] {
            if let Some(value) = value {
                map.insert(key.to_owned(), value.clone());
            }
        }
        map
    }
}

/// What is wrong with a secret that is not a JSON object, without quoting any of it: serde_json's
/// own messages quote values (`invalid type: string "..."`), and a secret stored JSON-encoded twice
/// is one string holding the client secret.
fn describe_json_error(error: &serde_json::Error) -> String {
    let what = match error.classify() {
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Eof => "truncated JSON",
        serde_json::error::Category::Data => "JSON that is not an object",
        serde_json::error::Category::Io => "unreadable JSON",
    };
    format!("{what} at line {} column {}", error.line(), error.column())
}

/// Splits a space-separated scope list, dropping empty entries.
fn split_scopes(list: &str) -> Vec<String> {
    list.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AWS sample's secret, exactly as its stack writes it: scope names, not full scopes.
    const SAMPLE_SECRET: &str = r#"{"user_pool_id": "us-east-1_Example1", "user_pool_client_id": "1example23456789", "app_client_secret": "Ab3dEf6hIj+KlMnOp+QrStUv9x", "user_pool_oauth2_endpoint": "https://mydomain.auth.us-east-1.amazoncognito.com/oauth2/token", "unicorn_user_pool_res_srv_identifier": "premium_api", "unicorn_read_scope": "read", "unicorn_write_scope": "write"}"#;

    #[test]
    fn parses_the_samples_secret_into_full_scopes() {
        let creds = ClientCredentials::from_secret_json(SAMPLE_SECRET).unwrap();
        assert_eq!(creds.client_id, "1example23456789");
        assert_eq!(creds.client_secret, "Ab3dEf6hIj+KlMnOp+QrStUv9x");
        assert_eq!(
            creds.token_endpoint.as_deref(),
            Some("https://mydomain.auth.us-east-1.amazoncognito.com/oauth2/token")
        );
        assert_eq!(creds.user_pool_id.as_deref(), Some("us-east-1_Example1"));
        assert_eq!(creds.scopes, ["premium_api/read", "premium_api/write"]);
        assert_eq!(creds.issuer, None);
        // What the operator writes into the Secret: full scope strings, as the contract says.
        assert_eq!(
            creds.to_map()["scopes"],
            "premium_api/read premium_api/write"
        );
    }

    #[test]
    fn the_sample_keys_may_also_hold_full_scopes_and_url_identifiers() {
        for (identifier, read, write, expected) in [
            (
                "premium_api",
                "premium_api/read",
                "premium_api/write",
                ["premium_api/read", "premium_api/write"],
            ),
            (
                "https://api.example.com",
                "read",
                "https://api.example.com/write",
                [
                    "https://api.example.com/read",
                    "https://api.example.com/write",
                ],
            ),
        ] {
            let json = serde_json::json!({
                "user_pool_client_id": "id", "app_client_secret": "secret",
                "unicorn_user_pool_res_srv_identifier": identifier,
                "unicorn_read_scope": read, "unicorn_write_scope": write,
            });
            let creds = ClientCredentials::from_secret_json(&json.to_string()).unwrap();
            assert_eq!(creds.scopes, expected, "{json}");
        }
    }

    #[test]
    fn stray_whitespace_around_every_value_is_removed() {
        for stray in ["\n", "\r\n", " ", "\t", " \n\n", "\u{feff}"] {
            let map: BTreeMap<String, String> = [
                ("client_id", "1example23456789"),
                ("client_secret", "Ab3dEf6hIj+KlMnOp+QrStUv9x"),
                (
                    "token_endpoint",
                    "https://d.auth.us-east-1.amazoncognito.com/oauth2/token",
                ),
                ("scopes", "premium_api/read premium_api/write"),
                (
                    "issuer",
                    "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X",
                ),
                ("user_pool_id", "us-east-1_X"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), format!("{stray}{v}{stray}")))
            .collect();
            let creds = ClientCredentials::from_map(&map).unwrap();
            assert_eq!(creds.client_id, "1example23456789", "{stray:?}");
            assert_eq!(
                creds.client_secret, "Ab3dEf6hIj+KlMnOp+QrStUv9x",
                "{stray:?}"
            );
            assert_eq!(
                creds.token_endpoint.as_deref(),
                Some("https://d.auth.us-east-1.amazoncognito.com/oauth2/token")
            );
            assert_eq!(creds.scopes, ["premium_api/read", "premium_api/write"]);
            assert_eq!(creds.user_pool_id.as_deref(), Some("us-east-1_X"));
            let direct = ClientCredentials::new(
                &format!("{stray}1example23456789{stray}"),
                &format!("Ab3dEf6hIj+KlMnOp+QrStUv9x{stray}"),
            )
            .unwrap();
            assert_eq!(
                (direct.client_id.as_str(), direct.client_secret.as_str()),
                ("1example23456789", "Ab3dEf6hIj+KlMnOp+QrStUv9x")
            );
        }
        // Inner characters are the value's own and stay.
        assert_eq!(normalise(" a+b_c \n"), Some("a+b_c"));
        assert_eq!(normalise("\r\n"), None);
        assert_eq!(
            ClientCredentials::new("id", "\n").unwrap_err(),
            CredentialsFormatError::Missing("client_secret")
        );
    }

    #[test]
    fn parses_our_key_set_and_round_trips() {
        let text = r#"{"client_id":"abc","client_secret":"s","token_endpoint":"http://t/oauth2/token",
                       "scopes":"a/read  a/write","issuer":"http://i/pool","user_pool_id":"pool"}"#;
        let creds = ClientCredentials::from_secret_json(text).unwrap();
        assert_eq!(creds.scopes, ["a/read", "a/write"]);
        let again = ClientCredentials::from_map(&creds.to_map()).unwrap();
        assert_eq!(again, creds);
    }

    #[test]
    fn seed_scope_values_holding_spaces_are_split_and_round_trip() {
        // Found by the credentials_json fuzz target: the seed's keys kept "a b" as one scope.
        let creds = ClientCredentials::from_secret_json(
            r#"{"user_pool_client_id":"abc","app_client_secret":"s",
                "unicorn_read_scope":"a/read a/list","unicorn_write_scope":" a/write\t"}"#,
        )
        .unwrap();
        assert_eq!(creds.scopes, ["a/read", "a/list", "a/write"]);
        assert_eq!(ClientCredentials::from_map(&creds.to_map()), Ok(creds));
    }

    #[test]
    fn our_keys_win_over_the_seeds() {
        let creds = ClientCredentials::from_secret_json(
            r#"{"client_id":"ours","user_pool_client_id":"seed","client_secret":"s"}"#,
        )
        .unwrap();
        assert_eq!(creds.client_id, "ours");
    }

    #[test]
    fn missing_or_empty_secret_is_named() {
        let err = ClientCredentials::from_secret_json(r#"{"client_id":"abc","client_secret":" "}"#)
            .unwrap_err();
        assert_eq!(
            err,
            CredentialsFormatError::Missing("client_secret (or app_client_secret)")
        );
        let err = ClientCredentials::from_secret_json(r#"{"client_secret":"x"}"#).unwrap_err();
        assert!(matches!(err, CredentialsFormatError::Missing(k) if k.starts_with("client_id")));
    }

    #[test]
    fn non_json_is_rejected_without_echoing_the_input() {
        let err = ClientCredentials::from_secret_json("client_secret=hunter2").unwrap_err();
        match err {
            CredentialsFormatError::NotJson(msg) => assert!(!msg.contains("hunter2")),
            other => panic!("unexpected {other:?}"),
        }
        assert!(ClientCredentials::from_secret_json("[1,2]").is_err());
    }

    #[test]
    fn a_secret_encoded_twice_is_rejected_without_echoing_it() {
        // Found by the credentials_json fuzz target: serde_json quotes a string it did not expect.
        let twice =
            serde_json::to_string(r#"{"client_id":"abc","client_secret":"hunter2"}"#).unwrap();
        let err = ClientCredentials::from_secret_json(&twice).unwrap_err();
        assert_eq!(
            err,
            CredentialsFormatError::NotJson(
                "JSON that is not an object at line 1 column 55".into()
            )
        );
        let err = ClientCredentials::from_secret_json(r#"{"client_id": hunter2}"#).unwrap_err();
        assert_eq!(
            err,
            CredentialsFormatError::NotJson("invalid JSON at line 1 column 15".into())
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let creds =
            ClientCredentials::from_secret_json(r#"{"client_id":"abc","client_secret":"hunter2"}"#)
                .unwrap();
        assert!(!format!("{creds:?}").contains("hunter2"));
    }
}
