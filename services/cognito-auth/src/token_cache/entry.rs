//! The cache entry of one scope set: its token, and its fetches (single flight, last failure).

use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use super::TokenCacheError;
use crate::credentials::ClientCredentials;
use crate::single_flight::SingleFlight;
use crate::token_client::AccessToken;

/// The cache entry of one scope set.
#[derive(Debug, Default)]
pub(super) struct ScopeSetEntry {
    token: RwLock<Option<Arc<CachedToken>>>,
    /// One token request at a time; the last failure, shared for the policy's cooldown.
    pub(super) fetches: SingleFlight<FailedFetch>,
    /// When a token was last dropped because an API rejected it.
    pub(super) last_invalidation: Mutex<Option<Instant>>,
}

/// A token with the times that matter to the cache (by the cache's monotonic clock).
#[derive(Debug)]
pub(super) struct CachedToken {
    pub(super) token: AccessToken,
    /// When renewal starts: the policy's margin before `expires_at`.
    pub(super) refresh_at: Instant,
    pub(super) expires_at: Instant,
    /// The credentials the token was obtained with.
    pub(super) credentials: Arc<ClientCredentials>,
}

/// What a failed fetch leaves for the callers after it.
#[derive(Debug, Clone)]
pub(super) struct FailedFetch {
    pub(super) error: TokenCacheError,
    /// The credentials it failed with: other credentials deserve a fetch of their own.
    pub(super) credentials: Arc<ClientCredentials>,
}

/// Whether a token obtained with `a` still belongs to what `b` describes.
pub(super) fn same_client(a: &ClientCredentials, b: &ClientCredentials) -> bool {
    a.client_id == b.client_id
        && a.client_secret == b.client_secret
        && a.token_endpoint == b.token_endpoint
}

impl ScopeSetEntry {
    pub(super) fn cached(&self) -> Option<Arc<CachedToken>> {
        self.token.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records a fetched token. The caller records the fetch's success in `fetches`.
    pub(super) fn record_token(&self, token: Arc<CachedToken>) {
        *self.token.write().unwrap_or_else(|e| e.into_inner()) = Some(token);
    }

    /// Drops the cached token if it is still `token`; returns whether it did.
    pub(super) fn drop_token(&self, token: &AccessToken) -> bool {
        let mut cached = self.token.write().unwrap_or_else(|e| e.into_inner());
        if cached.as_ref().is_some_and(|c| &c.token == token) {
            *cached = None;
            true
        } else {
            false
        }
    }
}
