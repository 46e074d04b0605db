//! The claims of an access token exactly as Amazon Cognito issues them for the client-credentials
//! grant, and minting a signed token from them.

use std::time::Duration;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys::SigningKey;

/// `token_use` of an access token.
pub const TOKEN_USE_ACCESS: &str = "access";

/// Cognito's access-token format version (`"version": 2`).
pub const ACCESS_TOKEN_VERSION: u32 = 2;

/// The payload of a Cognito client-credentials access token.
///
/// The fields are public so that tests can mint tokens that differ from a real one in exactly
/// one respect (an expired `exp`, a `token_use` of `id`, a foreign `iss`...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The subject: for the client-credentials grant, the app client id.
    pub sub: String,
    /// Always `access` for access tokens.
    pub token_use: String,
    /// Space-separated granted scopes.
    pub scope: String,
    /// When the client authenticated (seconds since the Unix epoch).
    pub auth_time: u64,
    /// The issuer: in AWS one of the pool's two forms (see `cognito_auth::cognito::UserPool`).
    pub iss: String,
    /// Expiry (seconds since the Unix epoch).
    pub exp: u64,
    /// Issued at (seconds since the Unix epoch).
    pub iat: u64,
    /// Token format version, 2.
    pub version: u32,
    /// Unique token id, a random UUID.
    pub jti: String,
    /// The app client id.
    pub client_id: String,
}

impl AccessTokenClaims {
    /// The claims Cognito would put in a token issued at `now` (Unix seconds) to `client_id` for
    /// `scopes`, valid for `lifetime`, with a fresh random `jti`.
    pub fn new(
        issuer: &str,
        client_id: &str,
        scopes: &[impl AsRef<str>],
        now: u64,
        lifetime: Duration,
    ) -> Self {
        Self {
            sub: client_id.to_owned(),
            token_use: TOKEN_USE_ACCESS.to_owned(),
            scope: scopes
                .iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(" "),
            auth_time: now,
            iss: issuer.to_owned(),
            exp: now + lifetime.as_secs(),
            iat: now,
            version: ACCESS_TOKEN_VERSION,
            jti: random_uuid(),
            client_id: client_id.to_owned(),
        }
    }

    /// The claims as a JSON object, in Cognito's field order.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("claims always serialise")
    }

    /// Signs the claims as an RS256 JWT under `key` (header `{"kid":..,"alg":"RS256"}`).
    pub fn sign(&self, key: &SigningKey) -> String {
        key.sign(&self.to_json())
    }
}

/// A random (version 4) UUID in its usual hyphenated lower-case form, as Cognito's `jti`.
pub fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_have_cognito_shape() {
        let claims = AccessTokenClaims::new(
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1",
            "client1",
            &["premium_api/read", "premium_api/write"],
            1_700_000_000,
            Duration::from_secs(3600),
        );
        let json = claims.to_json();
        let object = json.as_object().unwrap();
        let mut keys: Vec<_> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "auth_time",
                "client_id",
                "exp",
                "iat",
                "iss",
                "jti",
                "scope",
                "sub",
                "token_use",
                "version"
            ]
        );
        assert_eq!(json["sub"], "client1");
        assert_eq!(json["client_id"], "client1");
        assert_eq!(json["token_use"], "access");
        assert_eq!(json["scope"], "premium_api/read premium_api/write");
        assert_eq!(json["version"], 2);
        assert_eq!(json["iat"], 1_700_000_000u64);
        assert_eq!(json["auth_time"], 1_700_000_000u64);
        assert_eq!(json["exp"], 1_700_003_600u64);
    }

    #[test]
    fn jti_is_a_fresh_v4_uuid() {
        let a = random_uuid();
        let b = random_uuid();
        assert_ne!(a, b);
        let groups: Vec<_> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
