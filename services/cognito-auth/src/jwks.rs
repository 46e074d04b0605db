//! JWKS fetching and caching: one cache per URL, refetch on unknown kid with a penalty box.
//!
//! The cache is loaded in the background at startup (retrying with backoff, forever: an
//! unreachable JWKS must never stop the process), refreshed periodically, and refetched when a
//! token names a kid it does not know, or arrives before any key set is loaded, at most once per
//! `unknown_kid_cooldown`. All fetches go through one async lock, so concurrent callers share a
//! single download. A failed fetch never replaces the keys already held: cached keys keep
//! working through a JWKS outage (RFC 5861's stale-if-error, for the keys we already trust).
//!
//! The periodic refresh comes every `refresh_interval`, sooner when the last answer's
//! `Cache-Control: max-age` (less its `Age`) ran out earlier, but never sooner than
//! `min_refresh_interval` after the last fetch; see [`fetch`] for the whole HTTP exchange.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde_json::Value;
use tokio::task::AbortHandle;

use crate::clock::{Clock, SystemClock};

pub mod fetch;
pub use fetch::http_client;

/// Tuning of a [`JwksCache`]. The defaults suit Cognito.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    /// Time allowed for one fetch, connection to last byte.
    pub fetch_timeout: Duration,
    /// How often the keys are refetched while everything is healthy (the longest the cache
    /// keeps a document, whatever the server's caching headers allow).
    pub refresh_interval: Duration,
    /// The soonest a periodic refresh follows a successful fetch, however short the server's
    /// `max-age` (or with `no-cache`): a floor that keeps a misconfigured server from being
    /// polled in a loop.
    pub min_refresh_interval: Duration,
    /// Minimum time between two fetches triggered by unknown kids (the penalty box).
    pub unknown_kid_cooldown: Duration,
    /// First retry delay after a failed fetch; doubled per failure up to `max_backoff`.
    pub initial_backoff: Duration,
    /// Longest retry delay after failed fetches.
    pub max_backoff: Duration,
    /// Largest JWKS document accepted (Cognito's is well under 2 KiB).
    pub max_document_bytes: usize,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            fetch_timeout: Duration::from_secs(5),
            refresh_interval: Duration::from_secs(600),
            min_refresh_interval: Duration::from_secs(60),
            unknown_kid_cooldown: Duration::from_secs(10),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_document_bytes: 256 * 1024,
        }
    }
}

/// Why a JWKS fetch failed. Carries no token material.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// Connection, timeout or body read failure.
    #[error("JWKS request failed: {0}")]
    Http(#[source] reqwest::Error),
    /// The endpoint answered with another status than 200.
    #[error("JWKS endpoint answered HTTP {0}")]
    Status(u16),
    /// The body came in a content coding we did not ask for and cannot decode.
    #[error("JWKS body came with Content-Encoding {0:?}; only identity was accepted")]
    ContentEncoding(String),
    /// The body is not JSON and its media type says it is not meant to be.
    #[error("JWKS answer is {0}, not a JWK Set")]
    NotJson(String),
    /// The document exceeded `max_document_bytes`.
    #[error("JWKS document larger than {0} bytes")]
    TooLarge(usize),
    /// The document is not a JSON object with a `keys` array.
    #[error("JWKS document is malformed: {0}")]
    Malformed(&'static str),
    /// The document holds no key that can verify RS256 signatures.
    #[error("JWKS document holds no usable RSA signing key")]
    NoUsableKeys,
}

/// One key of the set, as published, with the verdict on whether it may verify RS256 tokens.
#[derive(Debug)]
pub struct Jwk {
    alg: Option<String>,
    key: Result<ParsedPublicKey, &'static str>,
}

impl Jwk {
    /// The JWK's `alg`, when it declares one.
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// The RSA public key, or why this JWK cannot be used to verify signatures.
    pub fn verification_key(&self) -> Result<&ParsedPublicKey, &'static str> {
        self.key.as_ref().map_err(|reason| *reason)
    }
}

/// The keys of one fetched JWKS document, by kid.
#[derive(Debug, Default)]
pub struct KeySet {
    by_kid: HashMap<String, Arc<Jwk>>,
}

impl KeySet {
    /// Parses a JWKS document. Keys without a kid are dropped (they can never be selected);
    /// unsuitable keys are kept with the reason, so a token naming one is refused precisely.
    pub fn parse(document: &[u8]) -> Result<Self, JwksError> {
        let value: Value =
            serde_json::from_slice(document).map_err(|_| JwksError::Malformed("not JSON"))?;
        let keys = value
            .as_object()
            .ok_or(JwksError::Malformed("not a JSON object"))?
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(JwksError::Malformed("no \"keys\" array"))?;
        let mut by_kid: HashMap<String, Arc<Jwk>> = HashMap::with_capacity(keys.len());
        for jwk in keys {
            let Some(kid) = jwk.get("kid").and_then(Value::as_str) else {
                continue;
            };
            let parsed = Jwk {
                alg: jwk.get("alg").and_then(Value::as_str).map(str::to_owned),
                key: rsa_signing_key(jwk),
            };
            if by_kid.contains_key(kid) {
                // Two keys under one kid: which one a token means is ambiguous, so neither counts.
                by_kid.insert(
                    kid.to_owned(),
                    Arc::new(Jwk {
                        alg: None,
                        key: Err("duplicate kid"),
                    }),
                );
            } else {
                by_kid.insert(kid.to_owned(), Arc::new(parsed));
            }
        }
        if !by_kid.values().any(|jwk| jwk.key.is_ok()) {
            return Err(JwksError::NoUsableKeys);
        }
        Ok(Self { by_kid })
    }

    /// The key published under `kid`.
    pub fn get(&self, kid: &str) -> Option<&Arc<Jwk>> {
        self.by_kid.get(kid)
    }

    /// Number of keys (usable or not) in the set.
    pub fn len(&self) -> usize {
        self.by_kid.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.by_kid.is_empty()
    }
}

/// Builds the verification key of one JWK, or says why it is unsuitable.
fn rsa_signing_key(jwk: &Value) -> Result<ParsedPublicKey, &'static str> {
    if jwk.get("kty").and_then(Value::as_str) != Some("RSA") {
        return Err("kty is not RSA");
    }
    match jwk.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" => {}
        Some(_) => return Err("use is not sig"),
    }
    match jwk.get("alg") {
        None | Some(Value::String(_)) => {}
        Some(_) => return Err("alg is not a string"),
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err("key_ops lacks verify");
        }
    }
    let component = |name| {
        jwk.get(name)
            .and_then(Value::as_str)
            .and_then(|v| LENIENT_BASE64URL.decode(v).ok())
    };
    let (Some(n), Some(e)) = (component("n"), component("e")) else {
        return Err("n or e missing or not base64url");
    };
    let significant = n.iter().skip_while(|b| **b == 0).count();
    if !(256..=1024).contains(&significant) {
        return Err("modulus not between 2048 and 8192 bits");
    }
    RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .map_err(|_| "not a valid RSA public key")
}

/// The JWKS is trusted input from our configured issuer: accept it with or without padding.
const LENIENT_BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

// Keep the strict engine in one place for the verifier.
pub(crate) use general_purpose::URL_SAFE_NO_PAD as STRICT_BASE64URL;

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
    /// Held for the whole of every fetch (single flight); holds when the last fetch caused by
    /// an unknown kid started (the penalty box).
    fetch_gate: tokio::sync::Mutex<Option<Instant>>,
    /// Fetches finished (any outcome), so a caller that waited for the gate knows one happened.
    completed_fetches: AtomicU64,
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
        Self {
            url: url.into(),
            http,
            settings,
            clock,
            keys: RwLock::new(None),
            ready: AtomicBool::new(false),
            freshness: Mutex::new(None),
            fetch_gate: tokio::sync::Mutex::new(None),
            completed_fetches: AtomicU64::new(0),
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
        let completed_before = self.completed_fetches.load(Ordering::Acquire);
        let mut last_unknown_kid_fetch = self.fetch_gate.lock().await;
        if self.completed_fetches.load(Ordering::Acquire) != completed_before {
            // A fetch finished while we waited: its key set is as fresh as ours would be.
            return self.cached_key(kid);
        }
        let now = self.clock.monotonic();
        if last_unknown_kid_fetch
            .is_some_and(|at| now.duration_since(at) < self.settings.unknown_kid_cooldown)
        {
            // Unknown, or still nothing loaded: the token's fault only in the first case.
            return self.cached_key(kid);
        }
        *last_unknown_kid_fetch = Some(now);
        tracing::debug!(url = %self.url, "unknown kid or no keys: fetching JWKS");
        if let Err(error) = self.fetch_and_store().await {
            tracing::warn!(url = %self.url, %error, "JWKS refetch failed; keeping cached keys");
        }
        drop(last_unknown_kid_fetch);
        self.cached_key(kid)
    }

    /// Fetches the JWKS now (sharing any fetch in flight) and replaces the cached set on
    /// success. Returns the number of keys loaded.
    pub async fn refresh(&self) -> Result<usize, JwksError> {
        let _single_flight = self.fetch_gate.lock().await;
        self.fetch_and_store().await
    }

    async fn fetch_and_store(&self) -> Result<usize, JwksError> {
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
        self.completed_fetches.fetch_add(1, Ordering::Release);
        match result {
            Ok((set, freshness)) => {
                let count = set.len();
                *self.freshness.lock().unwrap_or_else(|e| e.into_inner()) = freshness;
                self.install(set);
                tracing::debug!(url = %self.url, keys = count, "JWKS loaded");
                Ok(count)
            }
            Err(error) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
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
    use local_cognito::keys::{SigningKey, jwks_document};
    use serde_json::json;

    fn doc(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    #[test]
    fn parses_cognito_style_document() {
        let a = SigningKey::generate("a");
        let b = SigningKey::generate("b");
        let set = KeySet::parse(&doc(jwks_document([&a, &b]))).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set.get("a").unwrap().verification_key().is_ok());
        assert_eq!(set.get("b").unwrap().alg(), Some("RS256"));
        assert!(set.get("c").is_none());
    }

    #[test]
    fn unsuitable_keys_are_kept_with_their_reason() {
        let good = SigningKey::generate("good");
        let mut enc = good.public_jwk();
        enc["kid"] = json!("enc");
        enc["use"] = json!("enc");
        let mut ec = good.public_jwk();
        ec["kid"] = json!("ec");
        ec["kty"] = json!("EC");
        let mut ops = good.public_jwk();
        ops["kid"] = json!("ops");
        ops["key_ops"] = json!(["encrypt"]);
        let mut bad_n = good.public_jwk();
        bad_n["kid"] = json!("bad-n");
        bad_n["n"] = json!("!!!");
        let mut small = good.public_jwk();
        small["kid"] = json!("small");
        small["n"] = json!(STRICT_BASE64URL.encode([0xffu8; 128]));
        let mut no_kid = good.public_jwk();
        no_kid.as_object_mut().unwrap().remove("kid");
        let set = KeySet::parse(&doc(
            json!({"keys": [good.public_jwk(), enc, ec, ops, bad_n, small, no_kid]}),
        ))
        .unwrap();
        assert!(set.get("good").unwrap().verification_key().is_ok());
        for (kid, reason) in [
            ("enc", "use is not sig"),
            ("ec", "kty is not RSA"),
            ("ops", "key_ops lacks verify"),
            ("bad-n", "n or e missing or not base64url"),
            ("small", "modulus not between 2048 and 8192 bits"),
        ] {
            assert_eq!(
                set.get(kid).unwrap().verification_key().unwrap_err(),
                reason,
                "{kid}"
            );
        }
        assert_eq!(set.len(), 6, "the key without kid is dropped");
    }

    #[test]
    fn duplicate_kids_are_unusable() {
        let a = SigningKey::generate("same");
        let b = SigningKey::generate("same");
        let other = SigningKey::generate("other");
        let set = KeySet::parse(&doc(jwks_document([&a, &b, &other]))).unwrap();
        assert_eq!(
            set.get("same").unwrap().verification_key().unwrap_err(),
            "duplicate kid"
        );
    }

    #[test]
    fn documents_without_usable_keys_are_errors() {
        assert!(matches!(
            KeySet::parse(b"{\"keys\":[]}"),
            Err(JwksError::NoUsableKeys)
        ));
        assert!(matches!(KeySet::parse(b"[]"), Err(JwksError::Malformed(_))));
        assert!(matches!(
            KeySet::parse(b"{\"keys\":{}}"),
            Err(JwksError::Malformed(_))
        ));
        assert!(matches!(
            KeySet::parse(b"<html>"),
            Err(JwksError::Malformed(_))
        ));
    }

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
