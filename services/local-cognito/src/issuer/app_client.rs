//! Development and tests only: the pool's app clients, their secrets and the scopes they may
//! request.

use std::fmt;

use crate::issuer::ConfigError;

/// An app client of the pool: its credentials and the custom scopes it may request.
#[derive(Clone, PartialEq, Eq)]
pub struct AppClient {
    /// The app client id (also the token's `sub` and `client_id`).
    pub client_id: String,
    /// The app client secret.
    pub client_secret: String,
    /// Full scope strings (`premium_api/read`) the client may request.
    pub allowed_scopes: Vec<String>,
}

impl AppClient {
    /// A client with the given credentials and allowed scopes.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        allowed_scopes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            allowed_scopes: allowed_scopes.into_iter().map(Into::into).collect(),
        }
    }

    /// Parses `CLIENT_ID:CLIENT_SECRET:SCOPE[,SCOPE...]`, the command line's client syntax (so
    /// neither the id nor the secret may contain `:`, as Cognito's never do).
    pub fn parse_spec(spec: &str) -> Result<Self, ConfigError> {
        let mut parts = spec.splitn(3, ':');
        let (Some(id), Some(secret), scopes) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ConfigError::ClientSpec(
                "expected CLIENT_ID:CLIENT_SECRET:SCOPE[,SCOPE...]",
            ));
        };
        let scopes = scopes
            .unwrap_or_default()
            .split([',', ' '])
            .filter(|s| !s.is_empty());
        Ok(Self::new(id, secret, scopes))
    }
}

impl fmt::Debug for AppClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("allowed_scopes", &self.allowed_scopes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: &str = "premium_api/read";

    #[test]
    fn client_spec_parses() {
        assert_eq!(
            AppClient::parse_spec("id1:secret:a/read,b/write").unwrap(),
            AppClient::new("id1", "secret", ["a/read", "b/write"])
        );
        assert_eq!(
            AppClient::parse_spec("id2:secret2:")
                .unwrap()
                .allowed_scopes,
            Vec::<String>::new()
        );
        assert!(AppClient::parse_spec("only-an-id").is_err());
        assert!(!format!("{:?}", AppClient::new("i", "hidden", [READ])).contains("hidden"));
    }
}
