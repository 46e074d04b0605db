//! Whom a verifier trusts: user pools (or exact issuers), each with the `iss` values its tokens
//! carry, each `iss` with the JWKS published under it, and the pool's app-client allow-list.
//!
//! A token's `iss` selects its issuer and so the one JWKS cache its `kid` is looked up in: a key
//! published by one issuer never verifies a token naming another, even of the same pool.
//!
//! Readiness: a pool is ready once the keys of any one of its issuers are loaded. A Cognito pool
//! publishes the same keys under both issuer forms (`IssuerConfigurationType`: updated issuers
//! "host the same JWKS content"), AWS documents the original form's JWKS for every pool, and it
//! does not say whether a pool still on `ORIGINAL` serves the updated form's JWKS; so readiness
//! never waits on the second form. A pool's first issuer is its primary; the caches of the
//! others still load in the background, backing off up to the refresh interval rather than the
//! usual cap (an unserved URL is retried and logged rarely), and a token naming such an issuer
//! loads its keys at once (see [`JwksCache::key`]); until then it is answered as
//! [`Rejection::KeysUnavailable`](crate::verifier::Rejection::KeysUnavailable).

use std::collections::HashMap;
use std::sync::Arc;

use crate::cognito::{self, UserPool};
use crate::jwks::{JwksCache, JwksSettings};

/// One `iss` value and the JWKS its tokens are checked against.
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    issuer: String,
    jwks: Arc<JwksCache>,
}

impl TrustedIssuer {
    /// `issuer` (exactly as tokens carry it), its keys in `jwks`.
    pub fn new(issuer: impl Into<String>, jwks: Arc<JwksCache>) -> Self {
        Self {
            issuer: issuer.into(),
            jwks,
        }
    }

    /// The `iss` value.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The issuer's JWKS cache.
    pub fn jwks(&self) -> &Arc<JwksCache> {
        &self.jwks
    }
}

/// Where an issuer publishes its keys: configuration, before any cache exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerJwks {
    /// The `iss` value, exactly as tokens carry it.
    pub issuer: String,
    /// The URL of its JWKS.
    pub jwks_url: String,
}

impl IssuerJwks {
    /// `issuer` with its JWKS at the default place, `{issuer}/.well-known/jwks.json`.
    pub fn at_default_place(issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        let jwks_url = cognito::jwks_url(&issuer);
        Self { issuer, jwks_url }
    }

    /// Both issuers of a Cognito user pool, original first, each with the JWKS under it.
    pub fn of_user_pool(pool: &UserPool) -> Vec<Self> {
        pool.issuers()
            .into_iter()
            .map(|(_, issuer)| Self::at_default_place(issuer))
            .collect()
    }
}

/// A user pool, or one exact issuer: the issuers its tokens may carry and the app clients
/// allowed (empty: any client of the pool; access tokens name theirs in `client_id`).
#[derive(Debug, Clone)]
pub struct TrustedPool {
    issuers: Vec<TrustedIssuer>,
    client_ids: Vec<String>,
}

impl TrustedPool {
    /// A pool from its issuers (at least one) and client allow-list.
    pub fn new(issuers: Vec<TrustedIssuer>, client_ids: Vec<String>) -> Self {
        Self {
            issuers,
            client_ids,
        }
    }

    /// A pool of `issuers` (the first its primary), each with a new JWKS cache fetching over
    /// `http` with `settings`; the caches of the others back off up to
    /// `settings.refresh_interval` (see the module documentation).
    pub fn with_caches(
        issuers: &[IssuerJwks],
        client_ids: Vec<String>,
        http: &reqwest::Client,
        settings: &JwksSettings,
    ) -> Self {
        let issuers = issuers
            .iter()
            .enumerate()
            .map(|(i, configured)| {
                let settings = if i == 0 {
                    settings.clone()
                } else {
                    JwksSettings {
                        max_backoff: settings.refresh_interval.max(settings.max_backoff),
                        ..settings.clone()
                    }
                };
                let jwks = JwksCache::new(configured.jwks_url.clone(), http.clone(), settings);
                TrustedIssuer::new(configured.issuer.clone(), Arc::new(jwks))
            })
            .collect();
        Self::new(issuers, client_ids)
    }

    /// Both issuers of a Cognito user pool, each with its own cache of the JWKS published under
    /// it; see [`with_caches`](Self::with_caches).
    pub fn cognito(
        pool: &UserPool,
        client_ids: Vec<String>,
        http: &reqwest::Client,
        settings: &JwksSettings,
    ) -> Self {
        Self::with_caches(&IssuerJwks::of_user_pool(pool), client_ids, http, settings)
    }

    /// The pool's issuers.
    pub fn issuers(&self) -> &[TrustedIssuer] {
        &self.issuers
    }

    /// The allow-list (empty: any client).
    pub fn client_ids(&self) -> &[String] {
        &self.client_ids
    }

    /// Whether tokens of `client_id` are accepted.
    pub fn allows_client(&self, client_id: &str) -> bool {
        self.client_ids.is_empty() || self.client_ids.iter().any(|id| id == client_id)
    }

    /// Whether the keys of any of the pool's issuers are loaded.
    pub fn is_ready(&self) -> bool {
        self.issuers.iter().any(|issuer| issuer.jwks.is_ready())
    }
}

/// A set of trusted issuers is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// Nothing is trusted.
    #[error("no issuer is trusted")]
    Empty,
    /// A pool without any issuer.
    #[error("a trusted pool has no issuer")]
    PoolWithoutIssuer,
    /// The same `iss` in two places: which keys and allow-list apply would be ambiguous.
    #[error("issuer {0} is trusted twice")]
    Duplicate(String),
}

/// Every pool a verifier trusts, indexed by `iss`.
#[derive(Debug, Clone)]
pub struct TrustedIssuers {
    pools: Vec<TrustedPool>,
    by_issuer: HashMap<String, (usize, usize)>,
}

impl TrustedIssuers {
    /// Trusts `pools`. Errors: none given, a pool without issuers, an `iss` given twice.
    pub fn new(pools: Vec<TrustedPool>) -> Result<Self, TrustError> {
        if pools.is_empty() {
            return Err(TrustError::Empty);
        }
        let mut by_issuer = HashMap::new();
        for (p, pool) in pools.iter().enumerate() {
            if pool.issuers.is_empty() {
                return Err(TrustError::PoolWithoutIssuer);
            }
            for (i, issuer) in pool.issuers.iter().enumerate() {
                if by_issuer.insert(issuer.issuer.clone(), (p, i)).is_some() {
                    return Err(TrustError::Duplicate(issuer.issuer.clone()));
                }
            }
        }
        Ok(Self { pools, by_issuer })
    }

    /// Trusts one issuer whose keys are in `jwks`, any client.
    pub fn single(issuer: impl Into<String>, jwks: Arc<JwksCache>) -> Self {
        let pool = TrustedPool::new(vec![TrustedIssuer::new(issuer, jwks)], Vec::new());
        Self::new(vec![pool]).expect("one pool with one issuer is a valid set")
    }

    /// The pool and issuer a token's `iss` names, if trusted.
    pub fn get(&self, iss: &str) -> Option<(&TrustedPool, &TrustedIssuer)> {
        let &(p, i) = self.by_issuer.get(iss)?;
        let pool = &self.pools[p];
        Some((pool, &pool.issuers[i]))
    }

    /// The pools.
    pub fn pools(&self) -> &[TrustedPool] {
        &self.pools
    }

    /// Every trusted issuer, pool by pool.
    pub fn issuers(&self) -> impl Iterator<Item = &TrustedIssuer> {
        self.pools.iter().flat_map(|pool| pool.issuers.iter())
    }

    /// Readiness: every pool has the keys of at least one of its issuers.
    pub fn is_ready(&self) -> bool {
        self.pools.iter().all(TrustedPool::is_ready)
    }

    /// Starts background loading and refreshing of every issuer's JWKS (tokio runtime needed).
    pub fn start_background(&self) {
        for issuer in self.issuers() {
            issuer.jwks.start_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwks::KeySet;
    use local_cognito::keys::{SigningKey, jwks_document};

    fn cache(url: &str) -> Arc<JwksCache> {
        Arc::new(JwksCache::new(
            url,
            reqwest::Client::new(),
            JwksSettings::default(),
        ))
    }

    #[test]
    fn a_cognito_pool_trusts_both_forms_each_with_its_own_jwks() {
        let pool = UserPool::from_id("eu-west-1_Both1").unwrap();
        let trusted = TrustedPool::cognito(
            &pool,
            vec!["c".into()],
            &reqwest::Client::new(),
            &JwksSettings::default(),
        );
        let urls: Vec<(&str, &str)> = trusted
            .issuers()
            .iter()
            .map(|i| (i.issuer(), i.jwks().url()))
            .collect();
        assert_eq!(
            urls,
            [
                (
                    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Both1",
                    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Both1/.well-known/jwks.json"
                ),
                (
                    "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Both1",
                    "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Both1/.well-known/jwks.json"
                ),
            ]
        );
        assert!(trusted.allows_client("c"));
        assert!(!trusted.allows_client("d"));
    }

    #[test]
    fn a_pool_is_ready_with_any_issuer_and_the_set_with_every_pool() {
        let key = SigningKey::generate("k");
        let set = || KeySet::parse(&serde_json::to_vec(&jwks_document([&key])).unwrap()).unwrap();
        let (a1, a2, b) = (
            cache("http://127.0.0.1:9/a1"),
            cache("http://127.0.0.1:9/a2"),
            cache("http://127.0.0.1:9/b"),
        );
        let trusted = TrustedIssuers::new(vec![
            TrustedPool::new(
                vec![
                    TrustedIssuer::new("a1", a1.clone()),
                    TrustedIssuer::new("a2", a2),
                ],
                vec![],
            ),
            TrustedPool::new(vec![TrustedIssuer::new("b", b.clone())], vec![]),
        ])
        .unwrap();
        assert!(!trusted.is_ready());
        a1.install(set());
        assert!(trusted.pools()[0].is_ready());
        assert!(!trusted.is_ready(), "pool b has no keys yet");
        b.install(set());
        assert!(trusted.is_ready());
        assert_eq!(trusted.get("a2").unwrap().1.issuer(), "a2");
        assert!(trusted.get("c").is_none());
    }

    #[test]
    fn ambiguous_sets_are_refused() {
        let c = cache("http://127.0.0.1:9/x");
        assert_eq!(TrustedIssuers::new(vec![]).unwrap_err(), TrustError::Empty);
        assert_eq!(
            TrustedIssuers::new(vec![TrustedPool::new(vec![], vec![])]).unwrap_err(),
            TrustError::PoolWithoutIssuer
        );
        let twice = || TrustedPool::new(vec![TrustedIssuer::new("i", c.clone())], vec![]);
        assert_eq!(
            TrustedIssuers::new(vec![twice(), twice()]).unwrap_err(),
            TrustError::Duplicate("i".into())
        );
    }
}
