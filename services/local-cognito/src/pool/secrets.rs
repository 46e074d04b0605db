//! Development and tests only: app client secrets, up to two per client for rotation without
//! downtime (AddUserPoolClientSecret, ListUserPoolClientSecrets, DeleteUserPoolClientSecret;
//! the `ClientSecretDescriptorType` page of the Cognito API reference).

use std::fmt;

use rand::Rng;

use crate::pool::{Pool, PoolError, UserPoolClient};

/// Most secrets a client holds at once ("up to 2 active secrets per app client").
pub const MAX_SECRETS: usize = 2;

/// Length of a secret this pool generates (Cognito's are 24..=64 of `[\w+]`).
const GENERATED_LENGTH: usize = 52;

/// One client secret.
#[derive(Clone, PartialEq)]
pub struct ClientSecret {
    /// `ClientSecretId`: `<client-id>--<epoch-create-time>`, the time in milliseconds (the
    /// reference does not say which unit; milliseconds keep two secrets of one second apart).
    pub id: String,
    value: String,
    /// `ClientSecretCreateDate`, Unix seconds.
    pub created: f64,
}

impl ClientSecret {
    pub(crate) fn new(id: String, value: String, created: f64) -> Self {
        Self { id, value, created }
    }

    /// The secret itself.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether `presented` is this secret, compared in constant time.
    pub(crate) fn matches(&self, presented: &str) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(
            self.value.as_bytes(),
            presented.as_bytes(),
        )
        .is_ok()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecret")
            .field("id", &self.id)
            .field("value", &"<redacted>")
            .field("created", &self.created)
            .finish()
    }
}

/// A fresh secret id for `client_id` created at `now`, distinct from the ids of `existing`.
pub(crate) fn secret_id(client_id: &str, now: f64, existing: &[ClientSecret]) -> String {
    let mut millis = (now * 1000.0) as u64;
    loop {
        let id = format!("{client_id}--{millis}");
        if existing.iter().all(|s| s.id != id) {
            return id;
        }
        millis += 1;
    }
}

/// A secret as Cognito generates one: lowercase letters and digits.
pub(crate) fn generate_secret() -> String {
    random_lowercase(GENERATED_LENGTH)
}

/// `length` random lowercase letters and digits, the alphabet of Cognito's generated client
/// ids and secrets.
pub(crate) fn random_lowercase(length: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..length)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// Checks a caller-chosen `ClientSecret`: 24..=64 characters of `[\w+]`.
pub fn validate_chosen_secret(secret: &str) -> Result<(), PoolError> {
    let length = secret.chars().count();
    if !(24..=64).contains(&length) {
        return Err(PoolError::invalid(
            "ClientSecret",
            format!("length {length} is outside 24..=64"),
        ));
    }
    if !secret
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '+')
    {
        return Err(PoolError::invalid(
            "ClientSecret",
            "may hold letters, digits, `_` and `+` only",
        ));
    }
    Ok(())
}

impl Pool {
    /// AddUserPoolClientSecret: a generated secret when `chosen` is `None`. The second value
    /// says whether it was generated (only then does the API return it).
    /// `LimitExceededException` past [`MAX_SECRETS`]; `InvalidParameterException` for a client
    /// without secrets (a public client: the reference speaks of confidential clients only).
    pub fn add_client_secret(
        &self,
        user_pool_id: &str,
        client_id: &str,
        chosen: Option<String>,
    ) -> Result<(ClientSecret, bool), PoolError> {
        self.check_pool(user_pool_id)?;
        if let Some(chosen) = &chosen {
            validate_chosen_secret(chosen)?;
        }
        let now = self.now();
        let mut state = self.state();
        let client = client_mut(&mut state.clients, client_id)?;
        if client.secrets.is_empty() {
            return Err(PoolError::InvalidParameter(format!(
                "User pool client {client_id} has no client secret: it is a public client."
            )));
        }
        if client.secrets.len() >= MAX_SECRETS {
            return Err(PoolError::LimitExceeded(format!(
                "User pool client {client_id} has {MAX_SECRETS} client secrets already; delete one first."
            )));
        }
        let generated = chosen.is_none();
        let value = chosen.unwrap_or_else(generate_secret);
        let secret = ClientSecret::new(secret_id(client_id, now, &client.secrets), value, now);
        client.secrets.push(secret.clone());
        client.last_modified_date = now;
        Ok((secret, generated))
    }

    /// ListUserPoolClientSecrets: every secret, oldest first (values are never listed).
    pub fn list_client_secrets(
        &self,
        user_pool_id: &str,
        client_id: &str,
    ) -> Result<Vec<ClientSecret>, PoolError> {
        self.check_pool(user_pool_id)?;
        let mut state = self.state();
        Ok(client_mut(&mut state.clients, client_id)?.secrets.clone())
    }

    /// DeleteUserPoolClientSecret: the secret stops working at once. The last secret cannot be
    /// deleted (the reference says so without naming the exception: `InvalidParameterException`
    /// here).
    pub fn delete_client_secret(
        &self,
        user_pool_id: &str,
        client_id: &str,
        secret_id: &str,
    ) -> Result<(), PoolError> {
        self.check_pool(user_pool_id)?;
        let now = self.now();
        let mut state = self.state();
        let client = client_mut(&mut state.clients, client_id)?;
        let index = client
            .secrets
            .iter()
            .position(|s| s.id == secret_id)
            .ok_or_else(|| {
                PoolError::ResourceNotFound(format!("Client secret {secret_id} does not exist."))
            })?;
        if client.secrets.len() == 1 {
            return Err(PoolError::InvalidParameter(format!(
                "ClientSecretId: {secret_id} is the last secret of {client_id} and cannot be deleted."
            )));
        }
        client.secrets.remove(index);
        client.last_modified_date = now;
        Ok(())
    }
}

/// The client `client_id` of `clients`, or `ResourceNotFoundException`.
pub(crate) fn client_mut<'a>(
    clients: &'a mut std::collections::BTreeMap<String, UserPoolClient>,
    client_id: &str,
) -> Result<&'a mut UserPoolClient, PoolError> {
    clients.get_mut(client_id).ok_or_else(|| {
        PoolError::ResourceNotFound(format!("User pool client {client_id} does not exist."))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_secrets_are_24_to_64_word_characters() {
        assert_eq!(validate_chosen_secret(&"a".repeat(24)), Ok(()));
        assert_eq!(validate_chosen_secret(&"A_b+9".repeat(12)), Ok(()));
        for bad in [
            "a".repeat(23),
            "a".repeat(65),
            format!("{}-", "a".repeat(30)),
            format!("{} ", "a".repeat(30)),
        ] {
            assert!(
                matches!(validate_chosen_secret(&bad), Err(PoolError::InvalidParameter(m)) if m.starts_with("ClientSecret:")),
                "{bad:?} accepted"
            );
        }
        let generated = generate_secret();
        assert_eq!(validate_chosen_secret(&generated), Ok(()));
        assert_ne!(generated, generate_secret());
    }

    #[test]
    fn secret_ids_are_client_and_creation_time_and_unique() {
        let first = ClientSecret::new(secret_id("abc", 1_700_000_000.5, &[]), "v".into(), 0.0);
        assert_eq!(first.id, "abc--1700000000500");
        assert_eq!(
            secret_id("abc", 1_700_000_000.5, &[first]),
            "abc--1700000000501"
        );
    }

    #[test]
    fn a_client_keeps_one_or_two_secrets() {
        use std::sync::Arc;

        use cognito_auth::clock::ManualClock;

        use crate::issuer::AppClient;

        let clients = [AppClient::new("c", "first", ["api/read"])];
        let pool = Pool::new("us-east-1_P1", &clients, Arc::new(ManualClock::at(1_000.0)));
        let (second, generated) = pool.add_client_secret("us-east-1_P1", "c", None).unwrap();
        assert!(generated);
        assert!(pool.authenticate("c", "first").is_some());
        assert!(pool.authenticate("c", second.value()).is_some());
        assert!(matches!(
            pool.add_client_secret("us-east-1_P1", "c", Some("x".repeat(24))),
            Err(PoolError::LimitExceeded(_))
        ));
        let first = pool.list_client_secrets("us-east-1_P1", "c").unwrap()[0]
            .id
            .clone();
        pool.delete_client_secret("us-east-1_P1", "c", &first)
            .unwrap();
        assert!(pool.authenticate("c", "first").is_none());
        assert!(matches!(
            pool.delete_client_secret("us-east-1_P1", "c", &second.id),
            Err(PoolError::InvalidParameter(_))
        ));
        assert!(matches!(
            pool.add_client_secret("us-east-1_Other1", "c", None),
            Err(PoolError::ResourceNotFound(_))
        ));
        assert!(matches!(
            pool.list_client_secrets("us-east-1_P1", "nobody"),
            Err(PoolError::ResourceNotFound(_))
        ));
    }
}
