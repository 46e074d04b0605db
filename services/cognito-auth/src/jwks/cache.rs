//! The JWKS cache of one URL: the key set held, its loading and refresh in the background, and
//! the single flight every fetch goes through ([`crate::single_flight`], as for every remote
//! source).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use tokio::task::AbortHandle;

use super::penalty_box::PenaltyBox;
use super::{Jwk, JwksError, JwksSettings, KeySet, fetch};
use crate::clock::{Clock, SystemClock};
use crate::single_flight::{Flight, Meanwhile, SingleFlight};

/// Result of looking up a kid.
#[derive(Debug, Clone)]
pub enum KeyLookup {
    /// The key published under the kid.
    Found(Arc<Jwk>),
    /// The kid is not in the (loaded) key set.
    Unknown,
    /// No key set has been loaded yet.
    NotLoaded,
}

/// Fetch counters, for metrics.
#[derive(Debug, Default)]
pub struct JwksStats {
    fetches: AtomicU64,
    failures: AtomicU64,
}

impl JwksStats {
    /// Fetches attempted (any outcome).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Fetches that failed.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

/// The signing keys published at one JWKS URL.
#[derive(Debug)]
pub struct JwksCache {
    url: String,
    http: reqwest::Client,
    settings: JwksSettings,
    clock: Arc<dyn Clock>,
    keys: RwLock<Option<Arc<KeySet>>>,
    ready: AtomicBool,
    /// The freshness lifetime the last successful answer granted, if it stated one.
    freshness: Mutex<Option<Duration>>,
    /// Every fetch, one at a time; the last failure's message.
    fetches: SingleFlight<String>,
    /// Which fetches caused by unknown kids may start.
    penalty_box: Mutex<PenaltyBox>,
    stats: JwksStats,
    background: Mutex<Option<AbortHandle>>,
}

impl JwksCache {
    /// A cache for `url`, empty until [`start_background`](Self::start_background) or
    /// [`refresh`](Self::refresh) loads it.
    pub fn new(url: impl Into<String>, http: reqwest::Client, settings: JwksSettings) -> Self {
        Self::with_clock(url, http, settings, Arc::new(SystemClock))
    }

    /// As [`new`](Self::new), with an injected clock for the penalty box.
    pub fn with_clock(
        url: impl Into<String>,
        http: reqwest::Client,
        settings: JwksSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let penalty_box = PenaltyBox::new(settings.unknown_kid_cooldown);
        Self {
            url: url.into(),
            http,
            settings,
            clock,
            keys: RwLock::new(None),
            ready: AtomicBool::new(false),
            freshness: Mutex::new(None),
            fetches: SingleFlight::default(),
            penalty_box: Mutex::new(penalty_box),
            stats: JwksStats::default(),
            background: Mutex::new(None),
        }
    }

    /// The JWKS URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether a key set has been loaded (readiness).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Fetch counters.
    pub fn stats(&self) -> &JwksStats {
        &self.stats
    }

    /// The current key set, if one has been loaded.
    pub fn key_set(&self) -> Option<Arc<KeySet>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the cached keys with `set` (keys known out of band, tests) and marks the cache
    /// ready.
    pub fn install(&self, set: KeySet) {
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(set));
        self.ready.store(true, Ordering::Release);
    }

    /// Looks `kid` up in the cached set without any network access.
    pub fn cached_key(&self, kid: &str) -> KeyLookup {
        match &*self.keys.read().unwrap_or_else(|e| e.into_inner()) {
            None => KeyLookup::NotLoaded,
            Some(set) => set
                .get(kid)
                .map_or(KeyLookup::Unknown, |jwk| KeyLookup::Found(jwk.clone())),
        }
    }

    /// Looks `kid` up; when it is unknown, or no key set is loaded yet, fetches the JWKS unless
    /// such a fetch happened less than `unknown_kid_cooldown` ago (the penalty box). Callers
    /// arriving while a fetch is in flight wait for it and use its result instead of fetching
    /// again. Fetching when nothing is loaded lets a token load a JWKS whose background loading
    /// is backing off (a pool's second issuer, say) without waiting for the next retry.
    pub async fn key(&self, kid: &str) -> KeyLookup {
        if let found @ KeyLookup::Found(_) = self.cached_key(kid) {
            return found;
        }
        let (flight, meanwhile) = self.fetches.enter().await;
        if !matches!(meanwhile, Meanwhile::Nothing) {
            // A fetch finished while we waited: its key set is as fresh as ours would be.
            return self.cached_key(kid);
        }
        let admitted = self
            .penalty_box
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .admit(self.clock.monotonic());
        if !admitted {
            // Unknown, or still nothing loaded: the token's fault only in the first case.
            return self.cached_key(kid);
        }
        tracing::debug!(url = %self.url, "unknown kid or no keys: fetching JWKS");
        if let Err(error) = self.fetch_and_store(&flight).await {
            tracing::warn!(url = %self.url, %error, "JWKS refetch failed; keeping cached keys");
        }
        drop(flight);
        self.cached_key(kid)
    }

    /// Fetches the JWKS now (after any fetch in flight) and replaces the cached set on
    /// success. Returns the number of keys loaded.
    pub async fn refresh(&self) -> Result<usize, JwksError> {
        let (flight, _) = self.fetches.enter().await;
        self.fetch_and_store(&flight).await
    }

    /// One fetch; the caller holds the flight.
    async fn fetch_and_store(&self, flight: &Flight) -> Result<usize, JwksError> {
        self.stats.fetches.fetch_add(1, Ordering::Relaxed);
        let result = fetch::fetch(
            &self.http,
            &self.url,
            self.settings.fetch_timeout,
            self.settings.max_document_bytes,
        )
        .await
        .and_then(|fetched| {
            let set = KeySet::parse(&fetched.body).map_err(|error| match fetched.media_type {
                Some(media)
                    if matches!(error, JwksError::Malformed(_)) && !fetch::is_json(&media) =>
                {
                    JwksError::NotJson(media)
                }
                _ => error,
            })?;
            Ok((set, fetched.freshness))
        });
        match result {
            Ok((set, freshness)) => {
                let count = set.len();
                *self.freshness.lock().unwrap_or_else(|e| e.into_inner()) = freshness;
                self.install(set);
                self.fetches.succeeded(flight);
                tracing::debug!(url = %self.url, keys = count, "JWKS loaded");
                Ok(count)
            }
            Err(error) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                self.fetches
                    .failed(flight, self.clock.monotonic(), error.to_string());
                Err(error)
            }
        }
    }

    /// When the next periodic refresh is due after a successful fetch: `refresh_interval`, or
    /// sooner when the answer's freshness lifetime ran out earlier, but not before
    /// `min_refresh_interval`.
    pub fn next_refresh(&self) -> Duration {
        let freshness = *self.freshness.lock().unwrap_or_else(|e| e.into_inner());
        let settings = &self.settings;
        freshness.map_or(settings.refresh_interval, |lifetime| {
            lifetime
                .max(settings.min_refresh_interval)
                .min(settings.refresh_interval)
        })
    }

    /// Spawns the background task on the current tokio runtime: loads the keys (retrying with
    /// backoff until it succeeds), then refreshes them every `refresh_interval`, backing off
    /// again while refreshes fail. The task ends when the cache is dropped.
    pub fn start_background(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let task = tokio::spawn(background_loop(weak));
        let previous = self
            .background
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(task.abort_handle());
        if let Some(previous) = previous {
            previous.abort();
        }
    }
}

impl Drop for JwksCache {
    fn drop(&mut self) {
        if let Some(task) = self
            .background
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            task.abort();
        }
    }
}

async fn background_loop(cache: Weak<JwksCache>) {
    let mut consecutive_failures = 0u32;
    loop {
        let Some(strong) = cache.upgrade() else {
            return;
        };
        let delay = match strong.refresh().await {
            Ok(keys) => {
                if consecutive_failures > 0 {
                    tracing::info!(url = %strong.url, keys, "JWKS fetched after failures");
                }
                consecutive_failures = 0;
                strong.next_refresh()
            }
            Err(error) => {
                consecutive_failures = consecutive_failures.saturating_add(1);
                let delay = backoff_delay(
                    &strong.settings,
                    consecutive_failures,
                    rand::random::<f64>(),
                );
                tracing::warn!(
                    url = %strong.url,
                    %error,
                    attempt = consecutive_failures,
                    retry_in_ms = delay.as_millis() as u64,
                    loaded = strong.is_ready(),
                    "JWKS fetch failed"
                );
                delay
            }
        };
        drop(strong);
        tokio::time::sleep(delay).await;
    }
}

/// Delay before retry number `attempt` (1-based): exponential from `initial_backoff`, capped at
/// `max_backoff` (and never beyond `refresh_interval`), with "equal jitter": a random point in
/// the upper half, so that many replicas restarted together do not retry in lockstep.
/// `jitter` is in `[0, 1)`.
pub fn backoff_delay(settings: &JwksSettings, attempt: u32, jitter: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let cap = settings.max_backoff.min(settings.refresh_interval);
    let base = settings
        .initial_backoff
        .saturating_mul(1u32 << exponent)
        .min(cap);
    base.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let settings = JwksSettings {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            ..JwksSettings::default()
        };
        assert_eq!(backoff_delay(&settings, 1, 1.0), Duration::from_millis(100));
        assert_eq!(backoff_delay(&settings, 1, 0.0), Duration::from_millis(50));
        assert_eq!(backoff_delay(&settings, 3, 1.0), Duration::from_millis(400));
        assert_eq!(backoff_delay(&settings, 5, 1.0), Duration::from_secs(1));
        assert_eq!(
            backoff_delay(&settings, 500, 0.0),
            Duration::from_millis(500)
        );
    }

    #[tokio::test]
    async fn unreachable_url_is_not_ready_and_counts_failures() {
        // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
        let cache = JwksCache::new(
            "http://127.0.0.1:9/jwks.json",
            reqwest::Client::new(),
            JwksSettings::default(),
        );
        assert!(matches!(cache.cached_key("k"), KeyLookup::NotLoaded));
        assert!(cache.refresh().await.is_err());
        assert!(!cache.is_ready());
        assert_eq!(cache.stats().fetches(), 1);
        assert_eq!(cache.stats().failures(), 1);
        assert!(matches!(cache.key("k").await, KeyLookup::NotLoaded));
    }
}
