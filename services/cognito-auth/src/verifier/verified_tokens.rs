//! The verified-token cache: tokens already verified, remembered until they expire, so a client
//! sending the same token again costs a hash and a comparison instead of an RSA operation.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{Claims, VerifierConfig, check_times};
use crate::jwks::{Jwk, JwksCache, KeyLookup};

/// Tokens already verified, keyed by the whole token. The map hashes it with a keyed fast hash
/// (a random seed per cache, so nobody can aim tokens at one bucket) and compares the whole
/// token on a hit, so two tokens are never confused, whatever their hashes: a digest such as
/// SHA-256 would cost more than the rest of a cached check. The price is the token's bytes per
/// entry (about 1 KiB for a Cognito access token).
///
/// An entry is used only while the token is within its `exp`/`nbf` and the JWK that verified it
/// is still published under its kid, so removing a key from the JWKS revokes the cached tokens
/// it signed at the next refresh.
#[derive(Debug)]
pub(super) struct VerifiedTokens<S = foldhash::quality::RandomState> {
    capacity: usize,
    entries: Mutex<HashMap<Box<str>, Arc<VerifiedToken>, S>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug)]
struct VerifiedToken {
    /// Shared with every request presenting the token: a hit clones no string.
    claims: Arc<Claims>,
    kid: String,
    jwk: Arc<Jwk>,
    /// The JWKS of the token's issuer, where `kid` must still publish `jwk`.
    jwks: Arc<JwksCache>,
}

impl VerifiedTokens {
    pub(super) fn new(capacity: usize) -> Self {
        Self::with_hasher(capacity, foldhash::quality::RandomState::default())
    }
}

impl<S: BuildHasher> VerifiedTokens<S> {
    /// A cache hashing tokens with `hasher` (tests give one where every token collides).
    pub(super) fn with_hasher(capacity: usize, hasher: S) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::with_hasher(hasher)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Hits and misses so far.
    pub(super) fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The claims of `token` if it was verified, is still within its times at `now` and its key
    /// is still published; counts a hit or a miss.
    pub(super) fn get(
        &self,
        token: &str,
        now: f64,
        config: &VerifierConfig,
    ) -> Option<Arc<Claims>> {
        let found = self.lookup(token, now, config);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn lookup(&self, token: &str, now: f64, config: &VerifierConfig) -> Option<Arc<Claims>> {
        // The entry is shared, not copied: the lock is held for the map lookup alone.
        let entry = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)?
            .clone();
        let claims = &entry.claims;
        // An expired entry is left for eviction; the full path then refuses the token precisely.
        check_times(claims.expires_at, claims.not_before, config.leeway, now).ok()?;
        match entry.jwks.cached_key(&entry.kid) {
            KeyLookup::Found(current) if same_key(&current, &entry.jwk) => Some(claims.clone()),
            _ => None,
        }
    }

    /// Remembers `token`, verified with `jwk`, published as `kid` in `jwks`. When full, expired
    /// entries go first, then an arbitrary eighth.
    pub(super) fn insert(
        &self,
        token: &str,
        claims: Arc<Claims>,
        kid: String,
        jwk: Arc<Jwk>,
        jwks: Arc<JwksCache>,
        now: f64,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, entry| entry.claims.expires_at > now);
            if entries.len() >= self.capacity {
                // Still full of live tokens: drop an arbitrary eighth rather than growing.
                // In place, as the keys are whole tokens (about 1 KiB each): no copies of them.
                let mut excess = entries.len() - self.capacity * 7 / 8;
                entries.retain(|_, _| {
                    let keep = excess == 0;
                    excess = excess.saturating_sub(1);
                    keep
                });
            }
        }
        let entry = VerifiedToken {
            claims,
            kid,
            jwk,
            jwks,
        };
        entries.insert(token.into(), Arc::new(entry));
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

fn same_key(a: &Arc<Jwk>, b: &Arc<Jwk>) -> bool {
    if Arc::ptr_eq(a, b) {
        return true;
    }
    // A periodic refresh rebuilds every JWK; the same public key under the same kid still counts.
    match (a.verification_key(), b.verification_key()) {
        (Ok(a_key), Ok(b_key)) => a_key.as_ref() == b_key.as_ref() && a.alg() == b.alg(),
        _ => false,
    }
}
