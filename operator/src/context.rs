//! What every reconciliation shares: the Kubernetes and AWS clients, the Event recorder, the
//! metrics and the retry backoff.

use std::sync::Arc;

use kube::runtime::events::Recorder;

use crate::aws::AwsClients;
use crate::backoff::FailureBackoff;
use crate::metrics::Metrics;

/// Shared state of all reconciliations.
pub struct Context {
    /// Kubernetes client.
    pub client: kube::Client,
    /// AWS clients per Region.
    pub aws: AwsClients,
    /// Event publisher.
    pub recorder: Recorder,
    /// Metrics of this instance.
    pub metrics: Arc<Metrics>,
    /// Consecutive failures per object, and the delays they earn.
    pub retries: FailureBackoff,
}
