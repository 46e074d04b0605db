//! What every reconciliation shares: the Kubernetes, Secrets Manager and Cognito clients, the Event recorder, the
//! metrics and the retry backoff.

use std::sync::Arc;

use kube::runtime::events::Recorder;

use crate::aws::AwsClients;
use crate::backoff::FailureBackoff;
use crate::cognito_api::CognitoApi;
use crate::metrics::Metrics;

/// Shared state of all reconciliations.
pub struct Context {
    /// Kubernetes client.
    pub client: kube::Client,
    /// Secrets Manager clients per Region.
    pub aws: AwsClients,
    /// The Cognito admin API (every Cognito call goes through it: rate-limited, counted).
    pub cognito: CognitoApi,
    /// Event publisher.
    pub recorder: Recorder,
    /// Metrics of this instance.
    pub metrics: Arc<Metrics>,
    /// Consecutive failures per object, and the delays they earn.
    pub retries: FailureBackoff,
}
