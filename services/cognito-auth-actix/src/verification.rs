//! How our Rust services verify tokens: the tuning premium-content and cognito-authorizer share
//! (`CLOCK_LEEWAY_SECONDS`, `VERIFIED_TOKEN_CACHE_SIZE`, `JWKS_REFRESH_SECONDS`, read and checked
//! here once), and the [`Authorizer`] built from a [`Policy`]'s issuers, keeping the JWKS caches
//! of the user pools a new policy still trusts.

use std::sync::Arc;
use std::time::Duration;

use cognito_auth::authorization::Authorizer;
use cognito_auth::jwks::{self, JwksSettings};
use cognito_auth::policy::Policy;
use cognito_auth::trusted_issuers::{
    IssuerJwks, TrustError, TrustedIssuer, TrustedIssuers, TrustedPool,
};
use cognito_auth::verifier::{Verifier, VerifierConfig};

/// Clock skew tolerated on `exp` and `nbf` by default (`CLOCK_LEEWAY_SECONDS`).
pub const DEFAULT_CLOCK_LEEWAY: Duration = VerifierConfig::DEFAULT_LEEWAY;
/// Longest clock leeway accepted: more defeats expiry.
pub const MAX_CLOCK_LEEWAY: Duration = Duration::from_secs(300);
/// Verified tokens remembered by default (`VERIFIED_TOKEN_CACHE_SIZE`).
pub const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE: usize = VerifierConfig::DEFAULT_CACHE_CAPACITY;
/// Time between periodic JWKS refreshes by default (`JWKS_REFRESH_SECONDS`).
pub const DEFAULT_JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(600);

/// How tokens are verified, checked: [`VerificationArgs::settings`] refuses values outside the
/// ranges documented here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerificationSettings {
    /// Clock skew tolerated on `exp` and `nbf`; at most [`MAX_CLOCK_LEEWAY`].
    pub clock_leeway: Duration,
    /// Verified tokens remembered until they expire (0 disables that cache).
    pub verified_token_cache_size: usize,
    /// Time between periodic JWKS refreshes; at least 1 s.
    pub jwks_refresh_interval: Duration,
}

impl Default for VerificationSettings {
    fn default() -> Self {
        Self {
            clock_leeway: DEFAULT_CLOCK_LEEWAY,
            verified_token_cache_size: DEFAULT_VERIFIED_TOKEN_CACHE_SIZE,
            jwks_refresh_interval: DEFAULT_JWKS_REFRESH_INTERVAL,
        }
    }
}

/// The verification variables, for a binary's command line (`#[command(flatten)]`).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct VerificationArgs {
    /// Clock skew tolerated on exp and nbf, in seconds (at most 300).
    #[arg(long, env = "CLOCK_LEEWAY_SECONDS", default_value_t = DEFAULT_CLOCK_LEEWAY.as_secs())]
    pub clock_leeway_seconds: u64,

    /// Verified tokens remembered until they expire (0 disables the cache).
    #[arg(long, env = "VERIFIED_TOKEN_CACHE_SIZE", default_value_t = DEFAULT_VERIFIED_TOKEN_CACHE_SIZE)]
    pub verified_token_cache_size: usize,

    /// Seconds between periodic JWKS refreshes (at least 1).
    #[arg(long, env = "JWKS_REFRESH_SECONDS", default_value_t = DEFAULT_JWKS_REFRESH_INTERVAL.as_secs())]
    pub jwks_refresh_seconds: u64,
}

/// A variable holding an unusable value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct InvalidVariable {
    /// The variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl VerificationArgs {
    /// The checked settings. Errors name `JWKS_REFRESH_SECONDS` (0) or `CLOCK_LEEWAY_SECONDS`
    /// (over 300).
    pub fn settings(&self) -> Result<VerificationSettings, InvalidVariable> {
        if self.jwks_refresh_seconds == 0 {
            return Err(InvalidVariable {
                variable: "JWKS_REFRESH_SECONDS",
                problem: "must be at least 1".into(),
            });
        }
        if self.clock_leeway_seconds > MAX_CLOCK_LEEWAY.as_secs() {
            return Err(InvalidVariable {
                variable: "CLOCK_LEEWAY_SECONDS",
                problem: "more than 300 s of leeway defeats expiry".into(),
            });
        }
        Ok(VerificationSettings {
            clock_leeway: Duration::from_secs(self.clock_leeway_seconds),
            verified_token_cache_size: self.verified_token_cache_size,
            jwks_refresh_interval: Duration::from_secs(self.jwks_refresh_seconds),
        })
    }
}

impl VerificationSettings {
    /// The JWKS cache settings: the refresh interval, and a floor between fetches never above it.
    pub fn jwks_settings(&self) -> JwksSettings {
        let defaults = JwksSettings::default();
        JwksSettings {
            refresh_interval: self.jwks_refresh_interval,
            min_refresh_interval: defaults
                .min_refresh_interval
                .min(self.jwks_refresh_interval),
            ..defaults
        }
    }

    /// The verifier configuration.
    pub fn verifier_config(&self) -> VerifierConfig {
        VerifierConfig {
            leeway: self.clock_leeway,
            cache_capacity: self.verified_token_cache_size,
            ..VerifierConfig::default()
        }
    }
}

/// Why an authorizer cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The HTTP client for the JWKS could not be built.
    #[error("cannot build the JWKS HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The issuers cannot be trusted together (the same one twice).
    #[error("{0}")]
    Trust(#[source] TrustError),
}

/// Builds [`Authorizer`]s from policies with one HTTP client and one [`VerificationSettings`].
#[derive(Debug, Clone)]
pub struct Verification {
    settings: VerificationSettings,
    http: reqwest::Client,
}

impl Verification {
    /// Fetches JWKS documents as `user_agent` (e.g. `my-api/1.0`).
    pub fn new(settings: VerificationSettings, user_agent: &str) -> Result<Self, BuildError> {
        let http = jwks::http_client(user_agent).map_err(BuildError::HttpClient)?;
        Ok(Self { settings, http })
    }

    /// The settings.
    pub fn settings(&self) -> &VerificationSettings {
        &self.settings
    }

    /// A pool of `issuers` (the first its primary) with new JWKS caches, allowing `client_ids`
    /// (empty: any client).
    pub fn pool(&self, issuers: &[IssuerJwks], client_ids: Vec<String>) -> TrustedPool {
        TrustedPool::with_caches(
            issuers,
            client_ids,
            &self.http,
            &self.settings.jwks_settings(),
        )
    }

    /// A verifier trusting `pools`, with the signing keys of `starting` (new caches) loading
    /// in the background from now on (call within a tokio runtime).
    fn verifier(
        &self,
        pools: Vec<TrustedPool>,
        starting: impl Fn(&TrustedIssuer) -> bool,
    ) -> Result<Arc<Verifier>, BuildError> {
        let trusted = TrustedIssuers::new(pools).map_err(BuildError::Trust)?;
        for issuer in trusted.issuers().filter(|issuer| starting(issuer)) {
            issuer.jwks().start_background();
        }
        Ok(Arc::new(Verifier::new(
            self.settings.verifier_config(),
            trusted,
        )))
    }

    /// An authorizer judging by `policy` with tokens verified against `pools` rather than the
    /// policy's issuers (premium-content's issuers are configured as variables, with JWKS URLs
    /// a policy file does not describe). Keys start loading in the background.
    pub fn authorizer_with_pools(
        &self,
        policy: Arc<Policy>,
        pools: Vec<TrustedPool>,
    ) -> Result<Authorizer, BuildError> {
        let verifier = self.verifier(pools, |_| true)?;
        Ok(Authorizer::new(policy, verifier))
    }

    /// An authorizer for `policy`, its issuers' signing keys loading in the background (call
    /// within a tokio runtime).
    ///
    /// With `previous` (a policy reload): when the issuers and allow-lists are unchanged the
    /// previous verifier is kept whole (its keys and verified tokens stay valid: neither
    /// depends on the rules); otherwise every user pool trusted before with the same issuers and
    /// JWKS URLs keeps its loaded keys, and only the caches of new ones start empty.
    pub fn authorizer(
        &self,
        policy: Arc<Policy>,
        previous: Option<&Authorizer>,
    ) -> Result<Authorizer, BuildError> {
        if let Some(previous) = previous
            && previous.policy().issuers() == policy.issuers()
        {
            return Ok(Authorizer::new(policy, previous.verifier().clone()));
        }
        let earlier = previous.map(|previous| previous.verifier().trusted());
        let pools = policy
            .issuers()
            .iter()
            .map(|entry| {
                let issuers = entry.issuer_jwks();
                let client_ids = entry.client_ids.clone();
                match earlier.and_then(|earlier| same_pool(earlier, &issuers)) {
                    Some(kept) => TrustedPool::new(kept.issuers().to_vec(), client_ids),
                    None => self.pool(&issuers, client_ids),
                }
            })
            .collect();
        // Kept caches already run their refresh loop: starting it again would refetch at once.
        let kept = |issuer: &TrustedIssuer| {
            earlier.is_some_and(|earlier| {
                earlier
                    .issuers()
                    .any(|old| Arc::ptr_eq(old.jwks(), issuer.jwks()))
            })
        };
        let verifier = self.verifier(pools, |issuer| !kept(issuer))?;
        Ok(Authorizer::new(policy, verifier))
    }
}

/// The pool of `earlier` trusting exactly `issuers` (same `iss` values and JWKS URLs, in order).
fn same_pool<'a>(earlier: &'a TrustedIssuers, issuers: &[IssuerJwks]) -> Option<&'a TrustedPool> {
    earlier.pools().iter().find(|pool| {
        pool.issuers().len() == issuers.len()
            && pool.issuers().iter().zip(issuers).all(|(kept, wanted)| {
                kept.issuer() == wanted.issuer && kept.jwks().url() == wanted.jwks_url
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        verification: VerificationArgs,
    }

    fn parse(args: &[&str]) -> Result<VerificationSettings, InvalidVariable> {
        let mut argv = vec!["x"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().verification.settings()
    }

    #[test]
    fn defaults_and_limits_name_their_variable() {
        assert_eq!(parse(&[]).unwrap(), VerificationSettings::default());
        let set = parse(&[
            "--clock-leeway-seconds",
            "300",
            "--verified-token-cache-size",
            "0",
            "--jwks-refresh-seconds",
            "1",
        ])
        .unwrap();
        assert_eq!(set.clock_leeway, Duration::from_secs(300));
        assert_eq!(set.verified_token_cache_size, 0);
        assert_eq!(
            set.jwks_settings().min_refresh_interval,
            Duration::from_secs(1)
        );
        for (args, variable) in [
            (["--clock-leeway-seconds", "301"], "CLOCK_LEEWAY_SECONDS"),
            (["--jwks-refresh-seconds", "0"], "JWKS_REFRESH_SECONDS"),
        ] {
            assert_eq!(parse(&args).unwrap_err().variable, variable);
        }
    }

    fn policy(issuers: &[&str], clients: &str) -> Arc<Policy> {
        let issuers: String = issuers
            .iter()
            .map(|issuer| format!("  - issuer: {issuer}\n    clientIds: [{clients}]\n"))
            .collect();
        let yaml = format!("issuers:\n{issuers}rules:\n  - path: /a\n    public: true\n");
        Arc::new(Policy::parse("test.yaml", &yaml).unwrap())
    }

    fn caches(authorizer: &Authorizer) -> Vec<Arc<cognito_auth::jwks::JwksCache>> {
        let trusted = authorizer.verifier().trusted();
        trusted
            .issuers()
            .map(|issuer| issuer.jwks().clone())
            .collect()
    }

    #[tokio::test]
    async fn a_rebuilt_authorizer_keeps_the_keys_of_the_pools_still_trusted() {
        let verification = Verification::new(VerificationSettings::default(), "test").unwrap();
        let (a, b, c) = (
            "http://127.0.0.1:9/a",
            "http://127.0.0.1:9/b",
            "http://127.0.0.1:9/c",
        );
        let first = verification.authorizer(policy(&[a, b], "x"), None).unwrap();

        // Same issuers and allow-lists: the very same verifier.
        let same = verification
            .authorizer(policy(&[a, b], "x"), Some(&first))
            .unwrap();
        assert!(Arc::ptr_eq(same.verifier(), first.verifier()));

        // Another allow-list, and one pool replaced: a new verifier, the kept pool's cache reused.
        let changed = verification
            .authorizer(policy(&[a, c], "y"), Some(&first))
            .unwrap();
        assert!(!Arc::ptr_eq(changed.verifier(), first.verifier()));
        let (before, after) = (caches(&first), caches(&changed));
        assert!(Arc::ptr_eq(&before[0], &after[0]), "pool a keeps its keys");
        assert!(!Arc::ptr_eq(&before[1], &after[1]));
        assert_eq!(after[1].url(), "http://127.0.0.1:9/c/.well-known/jwks.json");
        let pool = &changed.verifier().trusted().pools()[0];
        assert_eq!(pool.client_ids(), ["y"]);
    }
}
