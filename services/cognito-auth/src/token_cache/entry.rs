//! The cache entry of one scope set: its token, its last failure and its single flight.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use super::TokenCacheError;
use crate::credentials::ClientCredentials;
use crate::token_client::AccessToken;

/// The cache entry of one scope set.
#[derive(Debug, Default)]
pub(super) struct ScopeSetEntry {
    token: RwLock<Option<Arc<CachedToken>>>,
    /// Held while a fetch runs: single flight.
    pub(super) flight: Arc<tokio::sync::Mutex<()>>,
    failure: Mutex<Option<FailedFetch>>,
    /// Finished fetches, so a caller that waited can tell whether one finished meanwhile.
    completed_fetches: AtomicU64,
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

/// The outcome of the last fetch, when it failed.
#[derive(Debug, Clone)]
pub(super) struct FailedFetch {
    pub(super) at: Instant,
    pub(super) error: TokenCacheError,
    pub(super) credentials: Arc<ClientCredentials>,
    /// The entry's `completed_fetches` once this failure was recorded.
    pub(super) completed_fetches: u64,
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

    pub(super) fn failure(&self) -> Option<FailedFetch> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Fetches finished so far (any outcome).
    pub(super) fn completed_fetches(&self) -> u64 {
        self.completed_fetches.load(Ordering::SeqCst)
    }

    /// Records a fetched token, clearing any failure. The caller holds `flight`.
    pub(super) fn record_token(&self, token: Arc<CachedToken>) {
        *self.token.write().unwrap_or_else(|e| e.into_inner()) = Some(token);
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.completed_fetches.fetch_add(1, Ordering::SeqCst);
    }

    /// Records a failed fetch, keeping any still-valid token. The caller holds `flight`.
    pub(super) fn record_failure(
        &self,
        at: Instant,
        error: TokenCacheError,
        credentials: Arc<ClientCredentials>,
    ) {
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(FailedFetch {
            at,
            error,
            credentials,
            completed_fetches: self.completed_fetches() + 1,
        });
        self.completed_fetches.fetch_add(1, Ordering::SeqCst);
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
