//! Development and tests only: the user pool's registry — its resource servers and app clients
//! with their secrets — that the token endpoint, the admin API ([`crate::admin_api`]) and the
//! configured clients all share, so a client created or rotated through the API gets tokens at
//! once and a deleted one is refused at once.
//!
//! One concern per module: `user_pool` (the pool's name and prefix domain), `resource_servers`,
//! `clients` (app clients), `client_settings` (the rules of their settings), `constraints`
//! (string rules the reference repeats), `secrets` (up to two secrets per client) and `error`
//! (Cognito's exceptions).

mod client_settings;
mod clients;
mod constraints;
mod error;
mod resource_servers;
mod secrets;
mod user_pool;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognito_auth::clock::Clock;

use crate::faults::lock;
use crate::issuer::AppClient;

pub use client_settings::{ClientSettings, STANDARD_SCOPES, TokenValidityUnits, validate_settings};
pub use clients::UserPoolClient;
pub use error::PoolError;
pub use resource_servers::{ResourceServer, ResourceServerScope};
pub use secrets::{ClientSecret, MAX_SECRETS};
pub use user_pool::{RESERVED_DOMAIN_WORDS, UserPoolDescription, validate_domain_prefix};

/// The pool's registry. Shared (`Arc`) by the issuer and the admin API; every method locks it
/// briefly, so changes are seen by the next token request.
pub struct Pool {
    user_pool_id: String,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("user_pool_id", &self.user_pool_id)
            .field("clients", &self.clients())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    user_pool: user_pool::UserPoolSettings,
    resource_servers: BTreeMap<String, ResourceServer>,
    clients: BTreeMap<String, UserPoolClient>,
}

/// What the token endpoint needs to know of an authenticated app client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grantee {
    /// The app client id (`sub` and `client_id` of its tokens).
    pub client_id: String,
    /// `AllowedOAuthScopes`: what it may request.
    pub allowed_scopes: Vec<String>,
    /// Whether it may use the client-credentials grant (`AllowedOAuthFlows` has
    /// `client_credentials` and `AllowedOAuthFlowsUserPoolClient` is true).
    pub client_credentials: bool,
    /// Its `AccessTokenValidity` in its units; `None` when unset (the issuer's default applies).
    pub access_token_lifetime: Option<Duration>,
}

/// An app client as tests inspect it ([`Pool::clients`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSummary {
    /// `ClientId`.
    pub client_id: String,
    /// `ClientName`.
    pub client_name: String,
    /// `AllowedOAuthScopes`.
    pub allowed_scopes: Vec<String>,
    /// `AllowedOAuthFlows`.
    pub allowed_flows: Vec<String>,
    /// How many secrets it has (0 for a public client, at most [`MAX_SECRETS`]).
    pub secrets: usize,
    /// Its access-token lifetime when `AccessTokenValidity` is set.
    pub access_token_lifetime: Option<Duration>,
}

impl Pool {
    /// The pool `user_pool_id` with `clients` configured up front: each may use the
    /// client-credentials grant with its one secret, and the custom scopes they name
    /// (`identifier/name`) make up the pool's resource servers.
    pub fn new(
        user_pool_id: impl Into<String>,
        clients: &[AppClient],
        clock: Arc<dyn Clock>,
    ) -> Self {
        let pool = Self {
            user_pool_id: user_pool_id.into(),
            clock,
            state: Mutex::new(State::default()),
        };
        {
            let mut state = lock(&pool.state);
            for client in clients {
                resource_servers::derive_from_scopes(
                    &pool.user_pool_id,
                    &mut state.resource_servers,
                    &client.allowed_scopes,
                );
                let configured = UserPoolClient::configured(&pool, client);
                state.clients.insert(client.client_id.clone(), configured);
            }
        }
        pool
    }

    /// The user pool id.
    pub fn user_pool_id(&self) -> &str {
        &self.user_pool_id
    }

    /// The client with this id when `secret` is one of its current secrets (compared in
    /// constant time, so a guess learns nothing from how long a refusal takes).
    pub fn authenticate(&self, client_id: &str, secret: &str) -> Option<Grantee> {
        let state = self.state();
        let client = state.clients.get(client_id)?;
        let matches = client
            .secrets
            .iter()
            .fold(false, |found, candidate| found | candidate.matches(secret));
        matches.then(|| client.grantee())
    }

    /// Replaces every secret of `client_id` with `secret` (Cognito after a rotation finished);
    /// nothing happens to an unknown client. For tests of clients that must follow a rotation.
    pub fn rotate_secret(&self, client_id: &str, secret: &str) {
        let now = self.now();
        let mut state = self.state();
        if let Some(client) = state.clients.get_mut(client_id) {
            client.secrets.clear();
            let id = secrets::secret_id(client_id, now, &client.secrets);
            client
                .secrets
                .push(ClientSecret::new(id, secret.to_owned(), now));
        }
    }

    /// The pool's app clients, by id.
    pub fn clients(&self) -> Vec<ClientSummary> {
        self.state()
            .clients
            .values()
            .map(UserPoolClient::summary)
            .collect()
    }

    /// The pool's resource servers, by identifier.
    pub fn resource_servers(&self) -> Vec<ResourceServer> {
        self.state().resource_servers.values().cloned().collect()
    }

    /// `ResourceNotFoundException` unless `user_pool_id` is this pool's.
    fn check_pool(&self, user_pool_id: &str) -> Result<(), PoolError> {
        if user_pool_id == self.user_pool_id {
            Ok(())
        } else {
            Err(PoolError::ResourceNotFound(format!(
                "User pool {user_pool_id} does not exist."
            )))
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Now, in Unix seconds (the API's timestamps).
    fn now(&self) -> f64 {
        self.clock.unix_seconds()
    }
}

/// One page of a listing and the token of the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The page's items, in key order.
    pub items: Vec<T>,
    /// `NextToken`: present it to get the next page.
    pub next_token: Option<String>,
}

/// One page of `items` in key order after `next_token`, at most `max_results` (1..=`limit`,
/// `limit` when unset), and the token of the next page when there is one. Tokens are the
/// base64url of the last key returned: opaque to callers, as Cognito's are.
fn page<T: Clone>(
    items: &BTreeMap<String, T>,
    max_results: Option<i32>,
    next_token: Option<&str>,
    limit: i32,
) -> Result<Page<T>, PoolError> {
    let max = max_results.unwrap_or(limit);
    if !(1..=limit).contains(&max) {
        return Err(PoolError::invalid(
            "MaxResults",
            format!("{max} is outside 1..={limit}"),
        ));
    }
    let after = match next_token {
        None => None,
        Some(token) => Some(
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|key| String::from_utf8(key).ok())
                .ok_or_else(|| PoolError::invalid("NextToken", "not a token this API returned"))?,
        ),
    };
    let mut rest = items
        .iter()
        .filter(|(key, _)| after.as_ref().is_none_or(|after| *key > after));
    let chosen: Vec<(&String, &T)> = rest.by_ref().take(max as usize).collect();
    let next = match (rest.next(), chosen.last()) {
        (Some(_), Some((last, _))) => Some(URL_SAFE_NO_PAD.encode(last.as_bytes())),
        _ => None,
    };
    Ok(Page {
        items: chosen.into_iter().map(|(_, v)| v.clone()).collect(),
        next_token: next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_each_other_and_end() {
        let items: BTreeMap<String, u8> = (0..5u8).map(|i| (format!("k{i}"), i)).collect();
        let first = page(&items, Some(2), None, 60).unwrap();
        assert_eq!(first.items, [0, 1]);
        let second = page(&items, Some(2), first.next_token.as_deref(), 60).unwrap();
        assert_eq!(second.items, [2, 3]);
        let last = page(&items, Some(2), second.next_token.as_deref(), 60).unwrap();
        assert_eq!((last.items, last.next_token), (vec![4], None));
        assert!(matches!(
            page(&items, Some(61), None, 60),
            Err(PoolError::InvalidParameter(m)) if m.starts_with("MaxResults")
        ));
        assert!(matches!(
            page(&items, None, Some("!!"), 60),
            Err(PoolError::InvalidParameter(m)) if m.starts_with("NextToken")
        ));
    }
}
