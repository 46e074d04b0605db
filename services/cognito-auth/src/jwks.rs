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
//!
//! One room per concern: the JWK model and JWK Set parsing (`jwk`), the cache with its
//! background refresh and single flight (`cache`), the unknown-kid rate limit (`penalty_box`)
//! and the HTTP exchange ([`fetch`]). Their public items are re-exported here.

use std::time::Duration;

mod cache;
pub mod fetch;
mod jwk;
mod penalty_box;

pub use cache::{JwksCache, JwksStats, KeyLookup, backoff_delay};
pub use fetch::http_client;
pub(crate) use jwk::STRICT_BASE64URL;
pub use jwk::{Jwk, KeySet};

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
