//! Development and tests only: what a caller of the admin API can observe and control — calls
//! counted per operation, Cognito's request-rate quota, and a fault that holds an operation's
//! answer after it took effect.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{Notify, watch};

use crate::faults::lock;

/// The admin API's counters, quota and hold fault; clones share them. Every
/// [`crate::issuer::Issuer`] has one ([`crate::issuer::Issuer::admin`]); tests reach it as
/// [`crate::faults::TestIssuer::admin`].
#[derive(Debug, Clone, Default)]
pub struct AdminControls(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// Requests received per operation, refused ones included.
    calls: Mutex<HashMap<String, usize>>,
    /// Operations that took effect, per operation.
    applied: Mutex<HashMap<String, usize>>,
    applied_changed: Notify,
    quota: Mutex<Option<TokenBucket>>,
    /// The operation whose answers wait, and the signal that releases them.
    hold: Mutex<Option<(String, watch::Sender<bool>)>>,
}

/// A token bucket: `rate` tokens a second, holding at most one second's worth (at least one),
/// full at the start. Cognito's quotas are requests per second per operation category; one
/// bucket for every operation is the simplification here.
#[derive(Debug)]
struct TokenBucket {
    rate: f64,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    fn new(rate: f64) -> Self {
        Self {
            rate,
            tokens: rate.max(1.0),
            refilled: Instant::now(),
        }
    }

    fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate.max(1.0));
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl AdminControls {
    /// Controls with a quota of `requests_per_second` (none when `None`).
    pub fn new(requests_per_second: Option<f64>) -> Self {
        let controls = Self::default();
        controls.set_request_rate(requests_per_second);
        controls
    }

    /// Sets the quota: above `requests_per_second` (a token bucket holding one second's worth)
    /// requests are answered `400 TooManyRequestsException`; `None` lifts it.
    pub fn set_request_rate(&self, requests_per_second: Option<f64>) {
        *lock(&self.0.quota) = requests_per_second.map(TokenBucket::new);
    }

    /// Requests received for `operation` (e.g. `"CreateUserPoolClient"`), whatever their
    /// outcome: throttled and refused requests count, as AWS counts them against quotas.
    pub fn calls(&self, operation: &str) -> usize {
        lock(&self.0.calls).get(operation).copied().unwrap_or(0)
    }

    /// Requests received for every operation.
    pub fn total_calls(&self) -> usize {
        lock(&self.0.calls).values().sum()
    }

    /// Requests received, by operation.
    pub fn calls_by_operation(&self) -> BTreeMap<String, usize> {
        lock(&self.0.calls)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// Zeroes the counters of calls and applied operations (e.g. between benchmark phases).
    pub fn reset_counters(&self) {
        lock(&self.0.calls).clear();
        lock(&self.0.applied).clear();
    }

    /// How many `operation` requests took effect (answered or held).
    pub fn applied(&self, operation: &str) -> usize {
        lock(&self.0.applied).get(operation).copied().unwrap_or(0)
    }

    /// Waits until `count` `operation` requests took effect, e.g. until a held
    /// CreateUserPoolClient created its client.
    pub async fn wait_applied(&self, operation: &str, count: usize) {
        loop {
            let changed = self.0.applied_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.applied(operation) >= count {
                return;
            }
            changed.await;
        }
    }

    /// From now on, `operation` takes effect and then its answer waits until
    /// [`release_hold`](Self::release_hold) (forever without it): a caller killed meanwhile
    /// never learns what Cognito did. Replaces a previous hold, releasing its answers.
    pub fn hold_after_apply(&self, operation: &str) {
        let (release, _) = watch::channel(false);
        if let Some((_, previous)) = lock(&self.0.hold).replace((operation.to_owned(), release)) {
            previous.send_replace(true);
        }
    }

    /// Sends the held answers and holds no more.
    pub fn release_hold(&self) {
        if let Some((_, release)) = lock(&self.0.hold).take() {
            release.send_replace(true);
        }
    }

    /// Counts a request for `operation`; `false` when the quota refuses it.
    pub(crate) fn admit(&self, operation: &str) -> bool {
        *lock(&self.0.calls).entry(operation.to_owned()).or_default() += 1;
        lock(&self.0.quota)
            .as_mut()
            .is_none_or(|bucket| bucket.try_take(Instant::now()))
    }

    /// Records that `operation` took effect, then waits while it is held.
    pub(crate) async fn applied_then_hold(&self, operation: &str) {
        let held = lock(&self.0.hold)
            .as_ref()
            .filter(|(held, _)| held == operation)
            .map(|(_, release)| release.subscribe());
        *lock(&self.0.applied)
            .entry(operation.to_owned())
            .or_default() += 1;
        self.0.applied_changed.notify_waiters();
        if let Some(mut released) = held {
            tracing::info!(operation, "admin API answer held after apply (test fault)");
            // An error means the hold was dropped without a release: keep holding.
            if released.wait_for(|released| *released).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// How far the bucket's tests step the clock.
    const STEP: Duration = Duration::from_millis(100);

    #[test]
    fn the_bucket_allows_its_rate_then_refills() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10.0);
        assert_eq!((0..12).filter(|_| bucket.try_take(start)).count(), 10);
        assert!(bucket.try_take(start + STEP));
        assert!(!bucket.try_take(start + STEP));
        // Never more than one second's worth, however long it rested.
        assert_eq!(
            (0..30)
                .filter(|_| bucket.try_take(start + 100 * STEP))
                .count(),
            10
        );
        let mut slow = TokenBucket::new(0.5);
        assert!(slow.try_take(start));
        assert!(!slow.try_take(start + STEP));
        assert!(slow.try_take(start + 20 * STEP));
    }

    #[test]
    fn calls_are_counted_and_the_quota_refuses() {
        let controls = AdminControls::new(Some(1.0));
        assert!(controls.admit("CreateUserPoolClient"));
        assert!(!controls.admit("CreateUserPoolClient"));
        assert_eq!(controls.calls("CreateUserPoolClient"), 2);
        assert_eq!(controls.total_calls(), 2);
        controls.set_request_rate(None);
        assert!(controls.admit("ListUserPoolClients"));
        assert_eq!(controls.calls_by_operation().len(), 2);
        controls.reset_counters();
        assert_eq!(controls.total_calls(), 0);
    }
}
