//! Per-scope token cache with single flight and renewal before expiry.
//!
//! Cognito bills and rate-limits client-credentials requests, so a token is fetched once per scope
//! set and reused until a safety margin before it expires (the smaller of 60 s and 10 % of its
//! lifetime). Inside that margin the still-valid token keeps serving while one background task
//! renews it, so no caller waits for a renewal and a failing endpoint costs nothing until the
//! token really expires. Without a usable token, concurrent callers share one request, and its
//! failure for a short cooldown ([`crate::single_flight`]).
//!
//! Rooms: the timing and retry rules (`policy`), the entry of one scope set (`entry`) and the
//! token requests with their retries and credential reload (`request`); [`CachePolicy`] is
//! re-exported here.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::{Clock, SystemClock};
use crate::credentials::{ClientCredentials, CredentialsError, CredentialsProvider};
use crate::single_flight::Meanwhile;
use crate::token_client::{AccessToken, TokenClient, TokenError};

mod entry;
mod policy;
mod request;

use entry::{ScopeSetEntry, same_client};
pub use policy::CachePolicy;

/// How a token was found, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// A cached token well before its renewal time.
    Hit,
    /// A cached, still-valid token inside its renewal margin (a renewal runs or has just failed).
    Renewing,
    /// No usable token: the caller waited for a token request.
    Miss,
}

impl Lookup {
    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Renewing => "renewing",
            Self::Miss => "miss",
        }
    }
}

/// Receives what the cache does, for metrics. Both methods default to doing nothing.
pub trait TokenEvents: Send + Sync + fmt::Debug {
    /// One HTTP token request finished with `outcome` ("success" or [`TokenError::outcome`]).
    fn token_request(&self, outcome: &str, elapsed: Duration) {
        let _ = (outcome, elapsed);
    }
    /// One caller asked for a token.
    fn lookup(&self, lookup: Lookup) {
        let _ = lookup;
    }
}

/// Events nobody listens to.
#[derive(Debug, Default)]
pub struct NoEvents;

impl TokenEvents for NoEvents {}

/// Why no token could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenCacheError {
    /// No usable client credentials.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// Neither the credentials nor the configuration say where the token endpoint is.
    #[error(
        "no token endpoint: the credentials have no token_endpoint (or user_pool_oauth2_endpoint) and none is configured"
    )]
    NoTokenEndpoint,
    /// The token endpoint did not give a token.
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// A cloneable handle to one shared token cache.
#[derive(Debug, Clone)]
pub struct TokenCache {
    shared: Arc<SharedCache>,
}

/// Builds a [`TokenCache`].
#[derive(Debug)]
pub struct TokenCacheBuilder {
    shared: SharedCache,
}

impl TokenCacheBuilder {
    /// Use this token endpoint whatever the credentials say.
    pub fn endpoint_override(mut self, endpoint: Option<String>) -> Self {
        self.shared.endpoint_override = endpoint;
        self
    }

    /// Timing and retry rules.
    pub fn policy(mut self, policy: CachePolicy) -> Self {
        self.shared.policy = policy;
        self
    }

    /// The clock deciding expiry.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.shared.clock = clock;
        self
    }

    /// Where to report requests and lookups.
    pub fn events(mut self, events: Arc<dyn TokenEvents>) -> Self {
        self.shared.events = events;
        self
    }

    /// The cache.
    pub fn build(self) -> TokenCache {
        TokenCache {
            shared: Arc::new(self.shared),
        }
    }
}

/// The cache every [`TokenCache`] handle shares: how tokens are requested, and the entry of
/// each scope set (sorted, without duplicates).
#[derive(Debug)]
struct SharedCache {
    client: TokenClient,
    credentials: CredentialsProvider,
    endpoint_override: Option<String>,
    policy: CachePolicy,
    clock: Arc<dyn Clock>,
    events: Arc<dyn TokenEvents>,
    entries: Mutex<HashMap<Vec<String>, Arc<ScopeSetEntry>>>,
}

impl TokenCache {
    /// A cache fetching tokens with `client` and `credentials`, with default policy, the system
    /// clock and no events.
    pub fn builder(client: TokenClient, credentials: CredentialsProvider) -> TokenCacheBuilder {
        TokenCacheBuilder {
            shared: SharedCache {
                client,
                credentials,
                endpoint_override: None,
                policy: CachePolicy::default(),
                clock: Arc::new(SystemClock),
                events: Arc::new(NoEvents),
                entries: Mutex::new(HashMap::new()),
            },
        }
    }

    /// The credentials source (for readiness).
    pub fn credentials(&self) -> &CredentialsProvider {
        &self.shared.credentials
    }

    /// Asks the credentials source for its credentials on a task of its own (the current tokio
    /// runtime's), so that nobody waits: at start-up, and for a readiness probe, which may only
    /// look at what [`CredentialsProvider::loaded`] holds. The fetch is shared with any in
    /// flight and, after a failure, not repeated within the source's cooldown.
    pub fn load_credentials_in_background(&self) {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            if let Err(error) = shared.credentials.current().await {
                tracing::debug!(%error, "client credentials not available yet");
            }
        });
    }

    /// A token for `scopes` (order and duplicates do not matter): cached if possible, otherwise
    /// fetched once for all concurrent callers. A token request never runs past the policy's
    /// `deadline` counted from this call (time spent waiting for credentials included), and a
    /// failure is answered again to callers without a token for `failure_cooldown`.
    pub async fn get(&self, scopes: &[String]) -> Result<AccessToken, TokenCacheError> {
        let deadline = tokio::time::Instant::now() + self.shared.policy.deadline;
        let key = scope_key(scopes);
        let entry = self.shared.entry(&key);
        let credentials = self.shared.credentials.current().await;
        let now = self.shared.clock.monotonic();

        if let Some(cached) = entry.cached()
            && now < cached.expires_at
        {
            let current = credentials
                .as_ref()
                .ok()
                .filter(|c| same_client(c, &cached.credentials));
            if current.is_some() && now < cached.refresh_at {
                self.shared.events.lookup(Lookup::Hit);
                tracing::debug!(scopes = ?key, "access token served from the cache");
                return Ok(cached.token.clone());
            }
            // Due for renewal, or the credentials changed: a still-valid token keeps serving
            // while one background task renews it.
            self.shared.events.lookup(Lookup::Renewing);
            tracing::debug!(
                scopes = ?key,
                "access token served from the cache; renewing it in the background"
            );
            if let Ok(credentials) = credentials {
                self.renew_in_background(key, entry.clone(), credentials, now);
            }
            return Ok(cached.token.clone());
        }

        self.shared.events.lookup(Lookup::Miss);
        tracing::debug!(scopes = ?key, "no cached access token: requesting one");
        let credentials = credentials?;
        let (flight, meanwhile) = entry.fetches.enter().await;
        match meanwhile {
            // A fetch finished while this caller waited: share its result.
            Meanwhile::Succeeded => {
                if let Some(cached) = entry.cached()
                    && self.shared.clock.monotonic() < cached.expires_at
                {
                    return Ok(cached.token.clone());
                }
            }
            Meanwhile::Failed(failure) => return Err(failure.cause.error),
            Meanwhile::Nothing => {}
        }
        if let Some(failure) = entry.fetches.cooling(
            self.shared.clock.monotonic(),
            self.shared.policy.failure_cooldown,
        ) && same_client(&failure.cause.credentials, &credentials)
        {
            return Err(failure.cause.error);
        }
        self.shared
            .fetch_and_store(&key, &entry, &flight, credentials, deadline)
            .await
    }

    /// Drops the cached token for `scopes` if it is still `token` (the API it was sent to
    /// rejected it). Returns whether it was dropped: a newer token is left alone, and so is any
    /// token within `invalidation_interval` of the previous drop.
    pub fn invalidate(&self, scopes: &[String], token: &AccessToken) -> bool {
        let entry = self.shared.entry(&scope_key(scopes));
        let now = self.shared.clock.monotonic();
        let mut last = entry
            .last_invalidation
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| now < at + self.shared.policy.invalidation_interval) {
            tracing::warn!(scopes = ?scopes,
                "the API rejected a token again; keeping it (tokens are dropped at most once per interval)");
            return false;
        }
        if entry.drop_token(token) {
            *last = Some(now);
            tracing::info!(scopes = ?scopes, "cached token rejected by the API; dropped");
            true
        } else {
            false
        }
    }

    fn renew_in_background(
        &self,
        key: Vec<String>,
        entry: Arc<ScopeSetEntry>,
        credentials: Arc<ClientCredentials>,
        now: Instant,
    ) {
        if let Some(failure) = entry
            .fetches
            .cooling(now, self.shared.policy.failure_cooldown)
            && same_client(&failure.cause.credentials, &credentials)
        {
            return;
        }
        let Some(flight) = entry.fetches.try_enter() else {
            return; // a fetch is already running
        };
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + shared.policy.deadline;
            if let Err(error) = shared
                .fetch_and_store(&key, &entry, &flight, credentials, deadline)
                .await
            {
                tracing::warn!(%error, "token renewal failed; the still-valid token keeps serving");
            }
        });
    }
}

impl SharedCache {
    /// The entry of the scope set `key`, created on first use.
    fn entry(&self, key: &[String]) -> Arc<ScopeSetEntry> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entries.get(key) {
            return entry.clone();
        }
        entries.entry(key.to_vec()).or_default().clone()
    }
}

/// Scope sets are compared sorted and without duplicates.
fn scope_key(scopes: &[String]) -> Vec<String> {
    let mut key = scopes.to_vec();
    key.sort();
    key.dedup();
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_sets_ignore_order_and_duplicates() {
        let a = scope_key(&["b".into(), "a".into(), "b".into()]);
        assert_eq!(a, ["a", "b"]);
    }
}
