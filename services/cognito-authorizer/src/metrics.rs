//! Prometheus metrics of one instance (its own registry): the decisions by mode, outcome and
//! reason, token verification time, policy reloads and their state, and the verifier's and JWKS
//! caches' series of the policy in use. Served on the admin port.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use cognito_auth::authorization::Grant;
use cognito_auth::verifier::Rejection;
use cognito_auth_actix::verifier_metrics::VerifierCollector;
use cognito_auth_actix::{Decision, SharedAuthorizer};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// How a request reached the authorizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    // The discriminants index `Metrics::allowed`.
    /// Envoy HTTP `ext_authz` (`/ext_authz/...`).
    ExtAuthz,
    /// ingress-nginx `auth-url` (`GET /auth`).
    AuthUrl,
    /// The reverse proxy (`UPSTREAM_URL`).
    Proxy,
}

impl Mode {
    /// The `mode` label.
    pub fn label(self) -> &'static str {
        match self {
            Mode::ExtAuthz => "ext_authz",
            Mode::AuthUrl => "auth_url",
            Mode::Proxy => "proxy",
        }
    }
}

/// Labels of a decision.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// `ext_authz`, `auth_url` or `proxy`.
    pub mode: &'static str,
    /// `allow` or `deny`.
    pub outcome: &'static str,
    /// `public`, `verified`, or the denial's reason (`missing_token`, `insufficient_scope`, ...).
    pub reason: &'static str,
}

/// Labels of a reload.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `success` or `failure`.
    pub result: &'static str,
}

/// Longest error text put in a label (a YAML error can quote a long line).
const MAX_ERROR_LABEL: usize = 512;

/// `text` as an OpenMetrics label value: prometheus-client writes label values as given, so
/// `\`, `"` and line feeds are escaped here (OpenMetrics, "Escaping"); cut to
/// [`MAX_ERROR_LABEL`] characters.
fn label_value(text: &str) -> String {
    let mut value = String::with_capacity(text.len());
    for c in text.chars().take(MAX_ERROR_LABEL) {
        match c {
            '\\' => value.push_str("\\\\"),
            '"' => value.push_str("\\\""),
            '\n' => value.push_str("\\n"),
            c if c.is_control() => value.push(' '),
            c => value.push(c),
        }
    }
    value
}

/// Labels of the reload error series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// `file:line:column: reason`.
    pub error: String,
}

/// The instance's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    decisions: Family<DecisionLabels, Counter>,
    /// The `allow` series of `decisions` by mode, `public` then `verified`: resolved on first
    /// use (so a series appears only once counted, as any other), then counted without a
    /// label lookup, on the path of every allowed request.
    allowed: [[OnceLock<Counter>; 2]; 3],
    verification: Histogram,
    reloads: Family<ReloadLabels, Counter>,
    policy_rules: Gauge,
    reload_failing: Gauge,
    reload_error: Family<ErrorLabels, Gauge>,
    last_error: Mutex<Option<ErrorLabels>>,
}

impl Metrics {
    /// Registers every metric; the verifier series read `authorizer`'s verifier in use at
    /// each scrape.
    pub fn new(authorizer: SharedAuthorizer) -> Self {
        let mut registry = Registry::with_prefix("cognito_authorizer");
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "decisions",
            "Requests judged, by mode (ext_authz, auth_url, proxy), outcome and reason",
            decisions.clone(),
        );
        // Dashboards see zeros rather than missing series for the common refusals.
        for mode in [Mode::ExtAuthz, Mode::AuthUrl, Mode::Proxy] {
            let reasons = Rejection::ALL
                .iter()
                .map(|rejection| rejection.reason())
                .chain(["missing_token", "insufficient_scope", "no_rule"]);
            for reason in reasons {
                let _ = decisions.get_or_create(&DecisionLabels {
                    mode: mode.label(),
                    outcome: "deny",
                    reason,
                });
            }
        }
        // 2 µs .. ~65 ms, as premium-content's.
        let verification = Histogram::new(exponential_buckets(2e-6, 2.0, 16));
        registry.register(
            "token_verification_seconds",
            "Time to verify a presented token (including any JWKS refetch it waited for)",
            verification.clone(),
        );
        let reloads = Family::<ReloadLabels, Counter>::default();
        for result in ["success", "failure"] {
            let _ = reloads.get_or_create(&ReloadLabels { result });
        }
        registry.register(
            "policy_reloads",
            "Changes of POLICY_FILE read, by result (a failure keeps the previous policy)",
            reloads.clone(),
        );
        let policy_rules = Gauge::default();
        registry.register(
            "policy_rules",
            "Rules of the policy in use",
            policy_rules.clone(),
        );
        let reload_failing = Gauge::default();
        registry.register(
            "policy_reload_failing",
            "1 while POLICY_FILE holds a policy that does not load (the previous one is in use)",
            reload_failing.clone(),
        );
        let reload_error = Family::<ErrorLabels, Gauge>::default();
        registry.register(
            "policy_reload_error",
            "The error of the POLICY_FILE that does not load, while it does not",
            reload_error.clone(),
        );
        registry.register_collector(Box::new(VerifierCollector::new(move || {
            authorizer.current().verifier().clone()
        })));
        Self {
            registry,
            decisions,
            allowed: Default::default(),
            verification,
            reloads,
            policy_rules,
            reload_failing,
            reload_error,
            last_error: Mutex::new(None),
        }
    }

    /// Counts a decision made in `mode`.
    pub fn decision(&self, mode: Mode, decision: &Decision) {
        match &decision.outcome {
            Ok((_, grant)) => {
                let verified = matches!(grant, Grant::Verified(_));
                self.allowed[mode as usize][usize::from(verified)]
                    .get_or_init(|| self.counter(mode, "allow", decision.reason()))
                    .inc();
            }
            Err(denial) => {
                self.counter(mode, "deny", denial.reason()).inc();
            }
        }
        if let Some(took) = decision.verification {
            self.verification(took);
        }
    }

    /// The `decisions` series of `mode`, `outcome`, `reason` (a handle sharing its count).
    fn counter(&self, mode: Mode, outcome: &'static str, reason: &'static str) -> Counter {
        let labels = DecisionLabels {
            mode: mode.label(),
            outcome,
            reason,
        };
        self.decisions.get_or_create(&labels).clone()
    }

    fn verification(&self, took: Duration) {
        self.verification.observe(took.as_secs_f64());
    }

    /// A policy with `rules` rules is in use (at start or after a reload).
    pub fn policy_loaded(&self, rules: usize, reload: bool) {
        self.policy_rules.set(rules as i64);
        if reload {
            self.reloads
                .get_or_create(&ReloadLabels { result: "success" })
                .inc();
        }
        self.reload_failing.set(0);
        if let Some(old) = self.lock_last_error().take() {
            self.reload_error.remove(&old);
        }
    }

    /// A changed policy file did not load: `error` names its file, line and reason.
    pub fn reload_failed(&self, error: String) {
        self.reloads
            .get_or_create(&ReloadLabels { result: "failure" })
            .inc();
        self.reload_failing.set(1);
        let labels = ErrorLabels {
            error: label_value(&error),
        };
        let mut last = self.lock_last_error();
        if let Some(old) = last.take() {
            self.reload_error.remove(&old);
        }
        self.reload_error.get_or_create(&labels).set(1);
        *last = Some(labels);
    }

    fn lock_last_error(&self) -> std::sync::MutexGuard<'_, Option<ErrorLabels>> {
        self.last_error.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn allowed_decisions_count_in_their_own_series_once_seen() {
        use std::sync::Arc;

        use cognito_auth::policy::{Policy, RequestPath};
        use cognito_auth_actix::{Verification, VerificationSettings};

        let yaml = "issuers:\n  - issuer: http://127.0.0.1:9/p\n    clientIds: [x]\n\
                    rules:\n  - path: /a\n    public: true\n";
        let policy = Arc::new(Policy::parse("test.yaml", yaml).unwrap());
        let verification = Verification::new(VerificationSettings::default(), "test").unwrap();
        let authorizer = verification.authorizer(policy, None).unwrap();
        let metrics = Metrics::new(SharedAuthorizer::new(authorizer));
        let series = |mode: &str| {
            format!(
                "cognito_authorizer_decisions_total{{mode=\"{mode}\",outcome=\"allow\",reason=\"public\"}}"
            )
        };
        assert!(!metrics.encode().unwrap().contains(&series("auth_url")));

        let public = Decision {
            outcome: Ok((RequestPath::normalize("/a").unwrap(), Grant::Public)),
            verification: None,
        };
        metrics.decision(Mode::AuthUrl, &public);
        metrics.decision(Mode::AuthUrl, &public);
        metrics.decision(Mode::Proxy, &public);
        let text = metrics.encode().unwrap();
        assert!(
            text.contains(&format!("{} 2\n", series("auth_url"))),
            "{text}"
        );
        assert!(text.contains(&format!("{} 1\n", series("proxy"))), "{text}");
        assert!(!text.contains(&series("ext_authz")), "{text}");
    }

    #[test]
    fn error_labels_are_escaped_and_bounded() {
        assert_eq!(
            label_value("p.yaml:3:5: unknown field `publik`, \"x\"\\y\nz\t"),
            "p.yaml:3:5: unknown field `publik`, \\\"x\\\"\\\\y\\nz "
        );
        assert_eq!(label_value(&"a".repeat(2000)).len(), MAX_ERROR_LABEL);
    }
}
