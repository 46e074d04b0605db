//! Prometheus metrics of one operator instance (no global registry).

use std::time::Duration;

use actix_web::{HttpResponse, web};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::condition::Reason;

/// Label set of the failure counter.
type ReasonLabels = Vec<(String, String)>;
/// Label set of the Cognito request counter: `operation` and `outcome`.
type CognitoLabels = Vec<(String, String)>;

/// The operator's metrics.
pub struct Metrics {
    registry: Registry,
    reconciles: Counter,
    failures: Family<ReasonLabels, Counter>,
    duration: Histogram,
    secret_writes: Counter,
    leader: Gauge,
    cognito_requests: Family<CognitoLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cognito_client_operator");
        let reconciles = Counter::default();
        let failures = Family::<ReasonLabels, Counter>::default();
        let duration = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let secret_writes = Counter::default();
        let leader = Gauge::default();
        let cognito_requests = Family::<CognitoLabels, Counter>::default();
        registry.register("reconciles", "Reconciliations run", reconciles.clone());
        registry.register(
            "reconcile_failures",
            "Failed reconciliations by condition reason",
            failures.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time spent in one reconciliation",
            duration.clone(),
        );
        registry.register(
            "secret_writes",
            "Secrets created or updated",
            secret_writes.clone(),
        );
        registry.register(
            "leader",
            "1 while this instance holds the leader lease",
            leader.clone(),
        );
        registry.register(
            "cognito_requests",
            "Cognito admin API calls by operation and outcome (ok, throttled, not_found, ...)",
            cognito_requests.clone(),
        );
        // Zero-valued series for every failure reason make rate() queries work from the start.
        for reason in Reason::ALL.into_iter().filter(|r| *r != Reason::Synced) {
            let _ = failures.get_or_create(&labels(reason));
        }
        Self {
            registry,
            reconciles,
            failures,
            duration,
            secret_writes,
            leader,
            cognito_requests,
        }
    }

    /// Records one reconciliation and how it ended.
    pub fn reconciled(&self, took: Duration, failure: Option<Reason>) {
        self.reconciles.inc();
        self.duration.observe(took.as_secs_f64());
        if let Some(reason) = failure {
            self.failures.get_or_create(&labels(reason)).inc();
        }
    }

    /// Records a Secret create or update.
    pub fn secret_written(&self) {
        self.secret_writes.inc();
    }

    /// Records one Cognito admin call: its operation (`CreateUserPoolClient`) and outcome
    /// (`ok` or [`crate::cognito_api::CognitoApiError::outcome`]).
    pub fn cognito_request(&self, operation: &str, outcome: &str) {
        self.cognito_requests
            .get_or_create(&vec![
                ("operation".to_owned(), operation.to_owned()),
                ("outcome".to_owned(), outcome.to_owned()),
            ])
            .inc();
    }

    /// Cognito admin calls so far, all operations and outcomes.
    pub fn cognito_request_count(&self) -> u64 {
        let mut total = 0;
        // Family has no iterator; the text exposition is the one complete view of it.
        for line in self.render().lines() {
            if let Some(rest) = line.strip_prefix("cognito_client_operator_cognito_requests_total{")
                && let Some((_, value)) = rest.rsplit_once(' ')
            {
                total += value.parse::<u64>().unwrap_or(0);
            }
        }
        total
    }

    /// Sets whether this instance leads.
    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    /// Reconciliations so far.
    pub fn reconcile_count(&self) -> u64 {
        self.reconciles.get()
    }

    /// Secret writes so far.
    pub fn secret_write_count(&self) -> u64 {
        self.secret_writes.get()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

fn labels(reason: Reason) -> ReasonLabels {
    vec![("reason".to_owned(), reason.as_str().to_owned())]
}

/// `/metrics`: the registry in the OpenMetrics text format.
pub(crate) async fn endpoint(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_by_reason() {
        let m = Metrics::new();
        m.reconciled(Duration::from_millis(3), None);
        m.reconciled(Duration::from_millis(3), Some(Reason::SourceNotFound));
        m.secret_written();
        let text = m.render();
        assert!(
            text.contains("cognito_client_operator_reconciles_total 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "cognito_client_operator_reconcile_failures_total{reason=\"SourceNotFound\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "cognito_client_operator_reconcile_failures_total{reason=\"SecretConflict\"} 0"
            ),
            "{text}"
        );
        assert!(text.contains("cognito_client_operator_secret_writes_total 1"));
        assert!(text.contains("cognito_client_operator_reconcile_duration_seconds_count 2"));
        assert_eq!(m.reconcile_count(), 2);
    }

    #[test]
    fn counts_cognito_requests_by_operation_and_outcome() {
        let m = Metrics::new();
        m.cognito_request("CreateUserPoolClient", "ok");
        m.cognito_request("CreateUserPoolClient", "ok");
        m.cognito_request("DescribeUserPoolClient", "throttled");
        let text = m.render();
        assert!(
            text.contains("cognito_client_operator_cognito_requests_total{operation=\"CreateUserPoolClient\",outcome=\"ok\"} 2"),
            "{text}"
        );
        assert_eq!(m.cognito_request_count(), 3);
    }
}
