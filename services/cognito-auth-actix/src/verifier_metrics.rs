//! Prometheus series of a [`Verifier`] and its JWKS caches, read at scrape time, for every
//! service's own registry (prometheus-client).

use std::sync::Arc;

use cognito_auth::jwks::JwksCache;
use cognito_auth::verifier::Verifier;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Reads the verifier's and JWKS caches' counters at scrape time (they know nothing of
/// Prometheus): per issuer `jwks_fetches`, `jwks_fetch_failures`, `jwks_keys`,
/// `jwks_issuer_ready`; `verified_token_cache_hits` / `_misses`; `jwks_ready`. Register it with
/// `Registry::register_collector`.
pub struct VerifierCollector(Box<dyn Fn() -> Arc<Verifier> + Send + Sync>);

impl VerifierCollector {
    /// Reads the verifier `current` gives at each scrape (the one in use after a policy reload).
    pub fn new(current: impl Fn() -> Arc<Verifier> + Send + Sync + 'static) -> Self {
        Self(Box::new(current))
    }
}

impl std::fmt::Debug for VerifierCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifierCollector")
    }
}

/// Labels of a per-issuer JWKS series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IssuerLabels {
    /// The trusted `iss` whose JWKS the series describes.
    issuer: String,
}

impl Collector for VerifierCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let verifier = (self.0)();
        let trusted = verifier.trusted();
        let per_issuer = |measure: fn(&JwksCache) -> i64| -> Vec<(IssuerLabels, i64)> {
            trusted
                .issuers()
                .map(|issuer| {
                    let labels = IssuerLabels {
                        issuer: issuer.issuer().to_owned(),
                    };
                    (labels, measure(issuer.jwks()))
                })
                .collect()
        };
        let counters = [
            (
                "jwks_fetches",
                "JWKS fetches attempted (startup, refresh, unknown kid), by issuer",
                per_issuer(|jwks| jwks.stats().fetches() as i64),
            ),
            (
                "jwks_fetch_failures",
                "JWKS fetches that failed (cached keys stay in use), by issuer",
                per_issuer(|jwks| jwks.stats().failures() as i64),
            ),
        ];
        for (name, help, series) in counters {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (labels, value) in &series {
                ConstCounter::new(*value as u64).encode(family.encode_family(labels)?)?;
            }
        }
        let gauges = [
            (
                "jwks_keys",
                "Keys in the cached JWKS, by issuer",
                per_issuer(|jwks| jwks.key_set().map_or(0, |set| set.len() as i64)),
            ),
            (
                "jwks_issuer_ready",
                "1 once the issuer's signing keys are loaded",
                per_issuer(|jwks| i64::from(jwks.is_ready())),
            ),
        ];
        for (name, help, series) in gauges {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (labels, value) in &series {
                ConstGauge::new(*value).encode(family.encode_family(labels)?)?;
            }
        }
        let (hits, misses) = verifier.cache_stats().unwrap_or_default();
        let counters = [
            (
                "verified_token_cache_hits",
                "Tokens accepted from the verified-token cache",
                hits,
            ),
            (
                "verified_token_cache_misses",
                "Tokens not in the verified-token cache (verified in full)",
                misses,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        let ready = ConstGauge::new(i64::from(verifier.is_ready()));
        let metric = encoder.encode_descriptor(
            "jwks_ready",
            "1 once signing keys are loaded (readiness: any issuer of the user pool)",
            None,
            ready.metric_type(),
        )?;
        ready.encode(metric)
    }
}
