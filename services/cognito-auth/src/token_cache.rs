//! Per-scope token cache with single flight and renewal before expiry.
//!
//! Cognito bills and rate-limits client-credentials requests, so a token is fetched once per scope
//! set and reused until a safety margin before it expires (the smaller of 60 s and 10 % of its
//! lifetime). Inside that margin the still-valid token keeps serving while one background task
//! renews it, so no caller waits for a renewal and a failing endpoint costs nothing until the
//! token really expires. Without a usable token, concurrent callers share one request.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rand::Rng;

use crate::clock::{Clock, SystemClock};
use crate::credentials::{ClientCredentials, CredentialsError, CredentialsProvider};
use crate::token_client::{AccessToken, OAuthErrorCode, TokenClient, TokenError, TokenResponse};

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

/// Timing and retry rules.
#[derive(Debug, Clone)]
pub struct CachePolicy {
    /// Renew at most this long before expiry ...
    pub max_margin: Duration,
    /// ... and at most this fraction of the lifetime (10 means 10 %) before expiry.
    pub margin_divisor: u32,
    /// Time allowed for one token request, body included.
    pub attempt_timeout: Duration,
    /// Time allowed for all attempts of one fetch together: what a caller waits at most.
    pub deadline: Duration,
    /// Attempts per fetch (transient failures only: 5xx, timeouts, connection errors).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time, with jitter.
    pub backoff_base: Duration,
    /// Longest backoff.
    pub backoff_max: Duration,
    /// After a failed fetch, callers without a token get that failure again for this long
    /// instead of starting another fetch with the same credentials.
    pub failure_cooldown: Duration,
    /// At most one token per scope set is dropped on an API's rejection within this long, so
    /// a misconfigured API that rejects every token cannot make each call cost a token request.
    pub invalidation_interval: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            max_margin: Duration::from_secs(60),
            margin_divisor: 10,
            attempt_timeout: Duration::from_secs(2),
            deadline: Duration::from_secs(5),
            max_attempts: 3,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            failure_cooldown: Duration::from_secs(1),
            invalidation_interval: Duration::from_secs(30),
        }
    }
}

impl CachePolicy {
    /// How long before expiry a token of `lifetime` is renewed.
    pub fn margin(&self, lifetime: Duration) -> Duration {
        self.max_margin.min(lifetime / self.margin_divisor.max(1))
    }

    /// The jittered wait before attempt `attempt + 1` (attempt counts from 1): uniform between
    /// half and all of `base * 2^(attempt-1)`, capped at `backoff_max`.
    pub fn backoff(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.backoff_max);
        let half = exp / 2;
        half + Duration::from_nanos(rng.random_range(0..=(exp - half).as_nanos() as u64))
    }
}

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
    inner: Arc<Inner>,
}

/// Builds a [`TokenCache`].
#[derive(Debug)]
pub struct TokenCacheBuilder {
    inner: Inner,
}

impl TokenCacheBuilder {
    /// Use this token endpoint whatever the credentials say.
    pub fn endpoint_override(mut self, endpoint: Option<String>) -> Self {
        self.inner.endpoint_override = endpoint;
        self
    }

    /// Timing and retry rules.
    pub fn policy(mut self, policy: CachePolicy) -> Self {
        self.inner.policy = policy;
        self
    }

    /// The clock deciding expiry.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.inner.clock = clock;
        self
    }

    /// Where to report requests and lookups.
    pub fn events(mut self, events: Arc<dyn TokenEvents>) -> Self {
        self.inner.events = events;
        self
    }

    /// The cache.
    pub fn build(self) -> TokenCache {
        TokenCache {
            inner: Arc::new(self.inner),
        }
    }
}

#[derive(Debug)]
struct Inner {
    client: TokenClient,
    credentials: CredentialsProvider,
    endpoint_override: Option<String>,
    policy: CachePolicy,
    clock: Arc<dyn Clock>,
    events: Arc<dyn TokenEvents>,
    slots: Mutex<HashMap<Vec<String>, Arc<Slot>>>,
}

/// The cache entry of one scope set.
#[derive(Debug, Default)]
struct Slot {
    token: RwLock<Option<Arc<Cached>>>,
    /// Held while a fetch runs: single flight.
    flight: Arc<tokio::sync::Mutex<()>>,
    failure: Mutex<Option<Failure>>,
    /// Finished fetches, so a caller that waited can tell whether one finished meanwhile.
    fetches: AtomicU64,
    /// When a token was last dropped because an API rejected it.
    last_invalidation: Mutex<Option<Instant>>,
}

#[derive(Debug)]
struct Cached {
    token: AccessToken,
    refresh_at: Instant,
    expires_at: Instant,
    credentials: Arc<ClientCredentials>,
}

#[derive(Debug, Clone)]
struct Failure {
    at: Instant,
    error: TokenCacheError,
    credentials: Arc<ClientCredentials>,
    /// The value of `fetches` after this failure.
    fetch: u64,
}

/// Whether a token obtained with `a` still belongs to what `b` describes.
fn same_client(a: &ClientCredentials, b: &ClientCredentials) -> bool {
    a.client_id == b.client_id
        && a.client_secret == b.client_secret
        && a.token_endpoint == b.token_endpoint
}

impl Slot {
    fn cached(&self) -> Option<Arc<Cached>> {
        self.token.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn failure(&self) -> Option<Failure> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl TokenCache {
    /// A cache fetching tokens with `client` and `credentials`, with default policy, the system
    /// clock and no events.
    pub fn builder(client: TokenClient, credentials: CredentialsProvider) -> TokenCacheBuilder {
        TokenCacheBuilder {
            inner: Inner {
                client,
                credentials,
                endpoint_override: None,
                policy: CachePolicy::default(),
                clock: Arc::new(SystemClock),
                events: Arc::new(NoEvents),
                slots: Mutex::new(HashMap::new()),
            },
        }
    }

    /// The credentials source (for readiness).
    pub fn credentials(&self) -> &CredentialsProvider {
        &self.inner.credentials
    }

    /// A token for `scopes` (order and duplicates do not matter): cached if possible, otherwise
    /// fetched once for all concurrent callers.
    pub async fn get(&self, scopes: &[String]) -> Result<AccessToken, TokenCacheError> {
        let key = scope_key(scopes);
        let slot = self.inner.slot(&key);
        let credentials = self.inner.credentials.current().await;
        let now = self.inner.clock.monotonic();

        if let Some(cached) = slot.cached()
            && now < cached.expires_at
        {
            let current = credentials
                .as_ref()
                .ok()
                .filter(|c| same_client(c, &cached.credentials));
            if current.is_some() && now < cached.refresh_at {
                self.inner.events.lookup(Lookup::Hit);
                tracing::debug!(scopes = ?key, "access token served from the cache");
                return Ok(cached.token.clone());
            }
            // Due for renewal, or the credentials changed: a still-valid token keeps serving
            // while one background task renews it.
            self.inner.events.lookup(Lookup::Renewing);
            tracing::debug!(
                scopes = ?key,
                "access token served from the cache; renewing it in the background"
            );
            if let Ok(credentials) = credentials {
                self.renew_in_background(key, slot.clone(), credentials, now);
            }
            return Ok(cached.token.clone());
        }

        self.inner.events.lookup(Lookup::Miss);
        tracing::debug!(scopes = ?key, "no cached access token: requesting one");
        let credentials = credentials?;
        let seen = slot.fetches.load(Ordering::SeqCst);
        let _flight = slot.flight.lock().await;
        if slot.fetches.load(Ordering::SeqCst) != seen {
            // A fetch finished while this caller waited: share its result.
            if let Some(cached) = slot.cached()
                && self.inner.clock.monotonic() < cached.expires_at
            {
                return Ok(cached.token.clone());
            }
            if let Some(failure) = slot.failure()
                && failure.fetch > seen
            {
                return Err(failure.error);
            }
        }
        if let Some(failure) = slot.failure()
            && same_client(&failure.credentials, &credentials)
            && self.inner.clock.monotonic() < failure.at + self.inner.policy.failure_cooldown
        {
            return Err(failure.error);
        }
        self.inner.fetch(&key, &slot, credentials).await
    }

    /// Drops the cached token for `scopes` if it is still `token` (the API it was sent to
    /// rejected it). Returns whether it was dropped: a newer token is left alone, and so is any
    /// token within `invalidation_interval` of the previous drop.
    pub fn invalidate(&self, scopes: &[String], token: &AccessToken) -> bool {
        let slot = self.inner.slot(&scope_key(scopes));
        let now = self.inner.clock.monotonic();
        let mut last = slot
            .last_invalidation
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| now < at + self.inner.policy.invalidation_interval) {
            tracing::warn!(scopes = ?scopes,
                "the API rejected a token again; keeping it (tokens are dropped at most once per interval)");
            return false;
        }
        let mut cached = slot.token.write().unwrap_or_else(|e| e.into_inner());
        if cached.as_ref().is_some_and(|c| &c.token == token) {
            *cached = None;
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
        slot: Arc<Slot>,
        credentials: Arc<ClientCredentials>,
        now: Instant,
    ) {
        if let Some(failure) = slot.failure()
            && same_client(&failure.credentials, &credentials)
            && now < failure.at + self.inner.policy.failure_cooldown
        {
            return;
        }
        let Ok(flight) = slot.flight.clone().try_lock_owned() else {
            return; // a fetch is already running
        };
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let _flight = flight;
            if let Err(error) = inner.fetch(&key, &slot, credentials).await {
                tracing::warn!(%error, "token renewal failed; the still-valid token keeps serving");
            }
        });
    }
}

impl Inner {
    fn slot(&self, key: &[String]) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slots.get(key) {
            return slot.clone();
        }
        slots.entry(key.to_vec()).or_default().clone()
    }

    fn endpoint_for(&self, credentials: &ClientCredentials) -> Result<String, TokenCacheError> {
        self.endpoint_override
            .clone()
            .or_else(|| credentials.token_endpoint.clone())
            .ok_or(TokenCacheError::NoTokenEndpoint)
    }

    /// Fetches a token and records the outcome in `slot`. The caller holds `slot.flight`.
    async fn fetch(
        &self,
        scopes: &[String],
        slot: &Slot,
        credentials: Arc<ClientCredentials>,
    ) -> Result<AccessToken, TokenCacheError> {
        let result = self.fetch_with_rotation(scopes, credentials.clone()).await;
        let outcome = match result {
            Ok((response, sent_at, used)) => {
                let lifetime = response.expires_in;
                tracing::debug!(
                    scopes = ?scopes,
                    expires_in_seconds = lifetime.as_secs(),
                    "access token fetched from the token endpoint"
                );
                let cached = Arc::new(Cached {
                    token: response.access_token,
                    refresh_at: sent_at + lifetime - self.policy.margin(lifetime),
                    expires_at: sent_at + lifetime,
                    credentials: used,
                });
                *slot.token.write().unwrap_or_else(|e| e.into_inner()) = Some(cached.clone());
                *slot.failure.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Ok(cached.token.clone())
            }
            Err(error) => {
                tracing::debug!(scopes = ?scopes, %error, "access token request failed");
                *slot.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(Failure {
                    at: self.clock.monotonic(),
                    error: error.clone(),
                    credentials,
                    fetch: slot.fetches.load(Ordering::SeqCst) + 1,
                });
                Err(error)
            }
        };
        slot.fetches.fetch_add(1, Ordering::SeqCst);
        outcome
    }

    /// One fetch; when the endpoint says `invalid_client`, the credentials are read again and,
    /// if they changed (a rotated secret), tried once more.
    async fn fetch_with_rotation(
        &self,
        scopes: &[String],
        credentials: Arc<ClientCredentials>,
    ) -> Result<(TokenResponse, Instant, Arc<ClientCredentials>), TokenCacheError> {
        let endpoint = self.endpoint_for(&credentials)?;
        let error = match self
            .request_with_retries(&endpoint, &credentials, scopes)
            .await
        {
            Ok((response, sent_at)) => return Ok((response, sent_at, credentials)),
            Err(error) => error,
        };
        let rejected = matches!(
            &error,
            TokenError::OAuth {
                code: OAuthErrorCode::InvalidClient,
                ..
            }
        );
        if !rejected {
            return Err(error.into());
        }
        let reloaded = match self.credentials.reload_after_rejection().await {
            Ok(reloaded) if !same_client(&reloaded, &credentials) => reloaded,
            _ => return Err(error.into()),
        };
        tracing::info!(client_id = %reloaded.client_id,
            "client rejected; retrying once with the credentials read again");
        let endpoint = self.endpoint_for(&reloaded)?;
        let (response, sent_at) = self
            .request_with_retries(&endpoint, &reloaded, scopes)
            .await?;
        Ok((response, sent_at, reloaded))
    }

    /// Up to `max_attempts` requests within `deadline`, retrying transient failures only.
    /// Returns the response and when (by the injected clock) its request was sent.
    async fn request_with_retries(
        &self,
        endpoint: &str,
        credentials: &ClientCredentials,
        scopes: &[String],
    ) -> Result<(TokenResponse, Instant), TokenError> {
        let deadline = tokio::time::Instant::now() + self.policy.deadline;
        let mut attempt = 1;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let timeout = self.policy.attempt_timeout.min(remaining);
            let sent_at = self.clock.monotonic();
            let started = Instant::now();
            let result = self
                .client
                .request_token(endpoint, credentials, scopes, timeout)
                .await;
            let outcome = match &result {
                Ok(_) => "success",
                Err(error) => error.outcome(),
            };
            self.events.token_request(outcome, started.elapsed());
            let error = match result {
                Ok(response) => return Ok((response, sent_at)),
                Err(error) => error,
            };
            if !error.is_transient() || attempt >= self.policy.max_attempts {
                return Err(error);
            }
            let delay = self.policy.backoff(attempt, &mut rand::rng());
            if tokio::time::Instant::now() + delay >= deadline {
                return Err(error);
            }
            tracing::warn!(attempt, %error, ?delay, "token request failed; retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
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
    use rand::SeedableRng;

    #[test]
    fn margin_is_the_smaller_of_a_minute_and_a_tenth() {
        let policy = CachePolicy::default();
        assert_eq!(
            policy.margin(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            policy.margin(Duration::from_secs(300)),
            Duration::from_secs(30)
        );
        assert_eq!(
            policy.margin(Duration::from_secs(5)),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = CachePolicy::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            let first = policy.backoff(1, &mut rng);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.backoff(3, &mut rng);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let late = policy.backoff(30, &mut rng);
            assert!(late >= Duration::from_millis(500) && late <= Duration::from_secs(1));
            seen.insert(first);
        }
        assert!(seen.len() > 10, "backoff must be jittered");
    }

    #[test]
    fn scope_sets_ignore_order_and_duplicates() {
        let a = scope_key(&["b".into(), "a".into(), "b".into()]);
        assert_eq!(a, ["a", "b"]);
    }
}
