//! The AWS sample's Secrets Manager key set ("serverless-api-authorizer"), read by every source.
//!
//! The sample stores the resource server identifier and the scope *names* apart:
//! `{"unicorn_user_pool_res_srv_identifier": "premium_api", "unicorn_read_scope": "read",
//! "unicorn_write_scope": "write", ...}`, and its consumer requests `{identifier}/{name}`. This
//! module turns that into the full scope strings our own `scopes` key holds, so the operator and
//! the consumer read the sample's secret alike.

use super::CredentialsFormatError;
use crate::scopes::full_scope;

/// The app client id.
pub const CLIENT_ID: &str = "user_pool_client_id";
/// The app client secret.
pub const CLIENT_SECRET: &str = "app_client_secret";
/// The sample stores the full token URL under this name.
pub const OAUTH2_ENDPOINT: &str = "user_pool_oauth2_endpoint";
/// The user pool id.
pub const USER_POOL_ID: &str = "user_pool_id";
/// The resource server identifier (`premium_api`, or a URL).
pub const RESOURCE_SERVER: &str = "unicorn_user_pool_res_srv_identifier";
/// The read scope's name (or, as some copies of the sample hold, the full scope).
pub const READ_SCOPE: &str = "unicorn_read_scope";
/// The write scope's name (or the full scope).
pub const WRITE_SCOPE: &str = "unicorn_write_scope";

/// The full scopes the sample's keys describe, in read, write order; `get` returns a key's
/// normalised value. A name without a resource server identifier to qualify it is an error
/// naming the missing key, since Cognito would refuse the bare name as `invalid_scope`.
pub fn scopes(get: impl Fn(&str) -> Option<String>) -> Result<Vec<String>, CredentialsFormatError> {
    let identifier = get(RESOURCE_SERVER);
    // An identifier is `[\x21\x23-\x5B\x5D-\x7E]+` (CreateResourceServer, Cognito API
    // reference): whitespace inside one would end up inside every scope built from it.
    if identifier
        .as_deref()
        .is_some_and(|id| id.contains(char::is_whitespace))
    {
        return Err(CredentialsFormatError::Invalid {
            key: RESOURCE_SERVER,
            rule: "holds whitespace, which no resource server identifier does",
        });
    }
    let mut scopes = Vec::new();
    // One scope per key in the sample, but a scope holds no space (RFC 6749 section 3.3): a value
    // with several is split, so that what the Secret holds reads back the same.
    let values: Vec<String> = [READ_SCOPE, WRITE_SCOPE]
        .into_iter()
        .filter_map(get)
        .collect();
    for value in values.iter().flat_map(|value| value.split_whitespace()) {
        let scope = match &identifier {
            Some(identifier) => full_scope(identifier, value),
            None if value.contains('/') => value.to_owned(),
            None => return Err(CredentialsFormatError::Missing(RESOURCE_SERVER)),
        };
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn scopes_of(pairs: &[(&str, &str)]) -> Result<Vec<String>, CredentialsFormatError> {
        let map: BTreeMap<&str, &str> = pairs.iter().copied().collect();
        scopes(|key| map.get(key).map(|v| (*v).to_owned()))
    }

    #[test]
    fn an_identifier_with_whitespace_inside_is_refused_naming_its_key() {
        // Found by the credentials_json fuzz target: the identifier's inner line breaks ended up
        // inside each scope built from it.
        let scopes = scopes_of(&[(RESOURCE_SERVER, "premium\n_api"), (READ_SCOPE, "read")]);
        let error = scopes.unwrap_err();
        assert!(matches!(
            error,
            CredentialsFormatError::Invalid {
                key: RESOURCE_SERVER,
                ..
            }
        ));
        assert!(!error.to_string().contains("premium"), "{error}");
    }

    #[test]
    fn names_are_qualified_with_the_identifier() {
        let scopes = scopes_of(&[
            (RESOURCE_SERVER, "premium_api"),
            (READ_SCOPE, "read"),
            (WRITE_SCOPE, "write"),
        ]);
        assert_eq!(scopes.unwrap(), ["premium_api/read", "premium_api/write"]);
    }

    #[test]
    fn url_identifiers_and_full_scopes_are_kept() {
        let scopes = scopes_of(&[
            (RESOURCE_SERVER, "https://api.example.com"),
            (READ_SCOPE, "https://api.example.com/read"),
            (WRITE_SCOPE, "write"),
        ]);
        assert_eq!(
            scopes.unwrap(),
            [
                "https://api.example.com/read",
                "https://api.example.com/write"
            ]
        );
    }

    #[test]
    fn a_name_without_an_identifier_is_named() {
        assert_eq!(
            scopes_of(&[(READ_SCOPE, "read")]),
            Err(CredentialsFormatError::Missing(RESOURCE_SERVER))
        );
        // Full scopes need no identifier, and no scope keys at all mean no scopes.
        assert_eq!(scopes_of(&[(READ_SCOPE, "a/read")]).unwrap(), ["a/read"]);
        assert_eq!(scopes_of(&[]).unwrap(), Vec::<String>::new());
    }
}
