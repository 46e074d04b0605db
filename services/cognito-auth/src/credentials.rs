//! App client credentials and the formats they are stored in.
//!
//! Two JSON key sets are accepted from AWS Secrets Manager: ours (the same keys as the Kubernetes
//! Secret the operator writes) and the AWS sample's, which existing deployments depend on.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

mod dir;
mod provider;
#[cfg(feature = "secrets-manager")]
mod secrets_manager;

pub use dir::DirSource;
pub use provider::{CredentialsError, CredentialsProvider};
#[cfg(feature = "secrets-manager")]
pub use secrets_manager::SecretsManagerSource;

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
    /// The token issuer (`https://cognito-idp.{region}.amazonaws.com/{poolId}`).
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
}

/// The seed's Secrets Manager keys, kept working unchanged.
mod seed_keys {
    pub const CLIENT_ID: &str = "user_pool_client_id";
    pub const CLIENT_SECRET: &str = "app_client_secret";
    /// The seed stores the token URL under this name.
    pub const OAUTH2_ENDPOINT: &str = "user_pool_oauth2_endpoint";
    pub const USER_POOL_ID: &str = "user_pool_id";
    pub const READ_SCOPE: &str = "unicorn_read_scope";
    pub const WRITE_SCOPE: &str = "unicorn_write_scope";
}

impl ClientCredentials {
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

    /// Builds credentials from key/value pairs in either key set (ours take precedence).
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Self, CredentialsFormatError> {
        let get = |key: &str| {
            map.get(key)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let client_id = get(keys::CLIENT_ID)
            .or_else(|| get(seed_keys::CLIENT_ID))
            .ok_or(CredentialsFormatError::Missing(
                "client_id (or user_pool_client_id)",
            ))?;
        let client_secret = get(keys::CLIENT_SECRET)
            .or_else(|| get(seed_keys::CLIENT_SECRET))
            .ok_or(CredentialsFormatError::Missing(
                "client_secret (or app_client_secret)",
            ))?;
        let scopes = match get(keys::SCOPES) {
            Some(list) => split_scopes(&list),
            // One scope per key in the seed's format, but a scope holds no space (RFC 6749
            // section 3.3): split these too, so that `to_map` round-trips.
            None => [seed_keys::READ_SCOPE, seed_keys::WRITE_SCOPE]
                .iter()
                .filter_map(|k| get(k))
                .flat_map(|list| split_scopes(&list))
                .collect(),
        };
        Ok(Self {
            client_id,
            client_secret,
            token_endpoint: get(keys::TOKEN_ENDPOINT).or_else(|| get(seed_keys::OAUTH2_ENDPOINT)),
            scopes,
            issuer: get(keys::ISSUER),
            user_pool_id: get(keys::USER_POOL_ID).or_else(|| get(seed_keys::USER_POOL_ID)),
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

    #[test]
    fn parses_the_seed_key_set() {
        let creds = ClientCredentials::from_secret_json(
            r#"{"user_pool_client_id":"abc","app_client_secret":"s3cret",
                "user_pool_oauth2_endpoint":"https://d.auth.us-east-1.amazoncognito.com/oauth2/token",
                "user_pool_id":"us-east-1_X","unicorn_user_pool_res_srv_identifier":"premium_api",
                "unicorn_read_scope":"premium_api/read","unicorn_write_scope":"premium_api/write"}"#,
        )
        .unwrap();
        assert_eq!(creds.client_id, "abc");
        assert_eq!(creds.client_secret, "s3cret");
        assert_eq!(
            creds.token_endpoint.as_deref(),
            Some("https://d.auth.us-east-1.amazoncognito.com/oauth2/token")
        );
        assert_eq!(creds.user_pool_id.as_deref(), Some("us-east-1_X"));
        assert_eq!(creds.scopes, ["premium_api/read", "premium_api/write"]);
        assert_eq!(creds.issuer, None);
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
