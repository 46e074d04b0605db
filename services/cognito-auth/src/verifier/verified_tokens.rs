//! The verified-token cache: tokens already verified, remembered by digest until they expire,
//! so a client sending the same token again costs a hash instead of an RSA operation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{Claims, VerifierConfig, check_times};
use crate::jwks::{Jwk, JwksCache, KeyLookup};

/// Tokens already verified, by SHA-256 of the whole token. An entry is used only while the token
/// is within its `exp`/`nbf` and the JWK that verified it is still published under its kid, so
/// removing a key from the JWKS revokes the cached tokens it signed at the next refresh.
#[derive(Debug)]
pub(super) struct VerifiedTokens {
    capacity: usize,
    entries: Mutex<HashMap<[u8; 32], VerifiedToken>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug)]
struct VerifiedToken {
    claims: Claims,
    kid: String,
    jwk: Arc<Jwk>,
    /// The JWKS of the token's issuer, where `kid` must still publish `jwk`.
    jwks: Arc<JwksCache>,
}

impl VerifiedTokens {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
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

    /// The claims of the token with SHA-256 `digest` if it was verified, is still within its
    /// times at `now` and its key is still published; counts a hit or a miss.
    pub(super) fn get(
        &self,
        digest: &[u8; 32],
        now: f64,
        config: &VerifierConfig,
    ) -> Option<Claims> {
        let found = self.lookup(digest, now, config);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn lookup(&self, digest: &[u8; 32], now: f64, config: &VerifierConfig) -> Option<Claims> {
        let (claims, kid, jwk, jwks) = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let entry = entries.get(digest)?;
            (
                entry.claims.clone(),
                entry.kid.clone(),
                entry.jwk.clone(),
                entry.jwks.clone(),
            )
        };
        // An expired entry is left for eviction; the full path then refuses the token precisely.
        check_times(claims.expires_at, claims.not_before, config.leeway, now).ok()?;
        match jwks.cached_key(&kid) {
            KeyLookup::Found(current) if same_key(&current, &jwk) => Some(claims),
            _ => None,
        }
    }

    /// Remembers a token verified with `jwk`, published as `kid` in `jwks`. When full, expired
    /// entries go first, then an arbitrary eighth.
    pub(super) fn insert(
        &self,
        digest: [u8; 32],
        claims: &Claims,
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
                let excess = entries.len() - self.capacity * 7 / 8;
                let victims: Vec<_> = entries.keys().take(excess).copied().collect();
                for victim in victims {
                    entries.remove(&victim);
                }
            }
        }
        entries.insert(
            digest,
            VerifiedToken {
                claims: claims.clone(),
                kid,
                jwk,
                jwks,
            },
        );
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
