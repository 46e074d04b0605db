//! Retrying after failures: exponential backoff with jitter, the per-object failure counts it
//! grows by, and the backoff of each watch of the API server. The jitter keeps objects (and
//! watches) that failed together (a Cognito throttle, an outage) from retrying together.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failing objects the backoff remembers before it starts over.
const MAX_TRACKED_FAILURES: usize = 10_000;

/// Exponential backoff: `base * 2^(attempt-1)`, capped at `max`; attempt 0 is treated as 1.
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let exp = attempt.saturating_sub(1).min(30);
    base.saturating_mul(1u32 << exp).min(max)
}

/// Consecutive failures per object (keyed by [`crate::report::object_key`]), turned into retry
/// delays by [`backoff`].
#[derive(Debug)]
pub struct FailureBackoff {
    base: Duration,
    max: Duration,
    failures: Mutex<HashMap<String, u32>>,
    /// Per object: the inputs (a fingerprint) a failed attempt saw, and when the next is due.
    holds: Mutex<HashMap<String, (u64, Instant)>>,
}

impl FailureBackoff {
    /// Delays starting at `base`, doubling per consecutive failure, capped at `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            failures: Mutex::default(),
            holds: Mutex::default(),
        }
    }

    /// Counts a failure of `key` and returns the delay before the next attempt: [`backoff`]
    /// with "equal jitter" (a uniformly random point in its upper half), so it still grows.
    pub fn next_delay(&self, key: &str) -> Duration {
        jittered(self.exact_delay(key), rand::random::<f64>())
    }

    /// Counts a failure of `key` and returns [`backoff`]'s delay, without jitter.
    fn exact_delay(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Entries of objects deleted while failing are never removed one by one; bounding the
        // map instead only costs those still failing a shorter next delay.
        if failures.len() >= MAX_TRACKED_FAILURES && !failures.contains_key(key) {
            failures.clear();
        }
        let attempt = failures.entry(key.to_owned()).or_insert(0);
        *attempt = attempt.saturating_add(1);
        backoff(*attempt, self.base, self.max)
    }

    /// Counts a failure of `key` (whose inputs hash to `fingerprint`), holds it for the delay
    /// [`next_delay`](Self::next_delay) gives and returns that delay. A reconcile triggered
    /// meanwhile by the operator's own writes (a status change) finds it [`held`](Self::held)
    /// and waits too, so a failure never retries faster than its backoff.
    pub fn hold(&self, key: &str, fingerprint: u64) -> Duration {
        let delay = self.next_delay(key);
        let mut holds = self.holds.lock().unwrap_or_else(|e| e.into_inner());
        if holds.len() >= MAX_TRACKED_FAILURES && !holds.contains_key(key) {
            holds.clear();
        }
        holds.insert(key.to_owned(), (fingerprint, Instant::now() + delay));
        delay
    }

    /// How long `key` is still held, if its inputs are still those of the failed attempt
    /// (a change by the user, with another fingerprint, is acted on at once).
    pub fn held(&self, key: &str, fingerprint: u64) -> Option<Duration> {
        let holds = self.holds.lock().unwrap_or_else(|e| e.into_inner());
        let (seen, until) = holds.get(key)?;
        (*seen == fingerprint)
            .then(|| until.checked_duration_since(Instant::now()))
            .flatten()
            .filter(|d| !d.is_zero())
    }

    /// Forgets the failures (and hold) of `key` after a success.
    pub fn forget(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        self.holds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// First delay before a failed watch of the API server is tried again.
pub const WATCH_RETRY_BASE: Duration = Duration::from_millis(500);

/// Longest delay between tries of a failed watch. client-go's reflectors wait up to 30 s; a
/// shorter cap lets the operator see changes within seconds of an API server's return (after
/// an outage, a watch fails several times in a row: refused connections, then 403s while the
/// restarted server loads its RBAC, then 410 Gone for the resource version it resumes from),
/// for one request per watch every 10 s while the server is away.
pub const WATCH_RETRY_MAX: Duration = Duration::from_secs(10);

/// The backoff of one watch (a kube-runtime `watcher` stream, through `WatchStreamExt::backoff`):
/// [`backoff`] from [`WATCH_RETRY_BASE`] to [`WATCH_RETRY_MAX`] with the same jitter as
/// [`FailureBackoff`], started over by anything the watch delivers. One per watch, never one
/// for all of a Controller's watches: shared, the errors of one watch would delay the events of
/// the others (a new object seen minutes late) and grow the delay for all.
#[derive(Debug, Default)]
pub struct WatchBackoff {
    failures: u32,
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    /// The delay before the next try; never ends (a watch is retried as long as it runs).
    fn next(&mut self) -> Option<Duration> {
        self.failures = self.failures.saturating_add(1);
        let exact = backoff(self.failures, WATCH_RETRY_BASE, WATCH_RETRY_MAX);
        Some(jittered(exact, rand::random::<f64>()))
    }
}

impl kube::runtime::utils::Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.failures = 0;
    }
}

/// No delay: for a Controller's merged trigger stream, whose watches each back off on their
/// own ([`WatchBackoff`]); kube-runtime's default would add one shared backoff on top.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoBackoff;

impl Iterator for NoBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        Some(Duration::ZERO)
    }
}

impl kube::runtime::utils::Backoff for NoBackoff {
    fn reset(&mut self) {}
}

/// `delay` scaled into `[delay/2, delay]` by `unit` in `[0, 1)`.
fn jittered(delay: Duration, unit: f64) -> Duration {
    delay.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_the_upper_half_and_keeps_growing() {
        let d = Duration::from_secs(8);
        assert_eq!(jittered(d, 0.0), Duration::from_secs(4));
        assert_eq!(jittered(d, 1.0), d);
        let retries = FailureBackoff::new(Duration::from_secs(1), Duration::from_secs(300));
        for attempt in 1..=6u32 {
            let exact = backoff(attempt, Duration::from_secs(1), Duration::from_secs(300));
            let delay = retries.next_delay("ns/a");
            assert!(delay >= exact / 2 && delay <= exact, "{attempt}: {delay:?}");
        }
    }

    #[test]
    fn a_hold_binds_the_same_inputs_until_its_delay_passes() {
        let retries = FailureBackoff::new(Duration::from_secs(60), Duration::from_secs(300));
        let delay = retries.hold("ns/a", 7);
        assert!(delay >= Duration::from_secs(30), "{delay:?}");
        let left = retries.held("ns/a", 7).expect("held");
        assert!(left <= delay && left > Duration::from_secs(29), "{left:?}");
        assert_eq!(retries.held("ns/a", 8), None, "new inputs go at once");
        assert_eq!(retries.held("ns/b", 7), None);
        retries.forget("ns/a");
        assert_eq!(retries.held("ns/a", 7), None);
        let quick = FailureBackoff::new(Duration::from_millis(1), Duration::from_millis(1));
        quick.hold("ns/a", 7);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            quick.held("ns/a", 7),
            None,
            "due again once the delay passed"
        );
    }

    #[test]
    fn a_watch_backoff_grows_to_its_cap_and_starts_over_after_an_event() {
        use kube::runtime::utils::Backoff;
        let mut watch = WatchBackoff::default();
        for failure in 1..=8u32 {
            let exact = backoff(failure, WATCH_RETRY_BASE, WATCH_RETRY_MAX);
            let delay = watch.next().expect("a watch is retried forever");
            assert!(delay >= exact / 2 && delay <= exact, "{failure}: {delay:?}");
        }
        assert_eq!(
            backoff(8, WATCH_RETRY_BASE, WATCH_RETRY_MAX),
            WATCH_RETRY_MAX
        );
        watch.reset();
        assert!(watch.next().unwrap() <= WATCH_RETRY_BASE);
    }

    /// After an API server outage a Controller's watches fail several times each; kube-runtime
    /// put one backoff over all of them, so a watch that was ready again still waited out the
    /// delay the others' errors had grown (a new CognitoClient seen two minutes late). Each
    /// watch backing off on its own, one that recovers delivers after its own delays only.
    #[tokio::test(start_paused = true)]
    async fn a_failing_watch_does_not_delay_the_events_of_another() {
        use futures::{StreamExt, stream};
        use kube::runtime::utils::StreamBackoff;
        // One watch refused on every try, one refused twice and then delivering an event.
        let refused = stream::repeat_with(|| Err::<u32, &str>("connection refused"));
        let recovering =
            stream::iter([Err("connection refused"), Err("403"), Ok(7)]).chain(stream::pending());
        let merged = StreamBackoff::new(
            stream::select_all([
                StreamBackoff::new(refused, WatchBackoff::default()).boxed(),
                StreamBackoff::new(recovering, WatchBackoff::default()).boxed(),
            ]),
            NoBackoff,
        );
        let started = tokio::time::Instant::now();
        let events = merged.filter_map(|r| async move { r.ok() });
        let event = std::pin::pin!(events).next().await;
        assert_eq!(event, Some(7));
        let own_delays = backoff(1, WATCH_RETRY_BASE, WATCH_RETRY_MAX)
            + backoff(2, WATCH_RETRY_BASE, WATCH_RETRY_MAX);
        assert!(started.elapsed() <= own_delays, "{:?}", started.elapsed());
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(300);
        let delays: Vec<u64> = (1..=10).map(|a| backoff(a, base, max).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
        assert_eq!(backoff(0, base, max), base);
        assert_eq!(backoff(u32::MAX, base, max), max);
    }

    #[test]
    fn consecutive_failures_grow_the_delay_until_a_success() {
        let retries = FailureBackoff::new(Duration::from_secs(1), Duration::from_secs(300));
        let delays: Vec<u64> = (0..3)
            .map(|_| retries.exact_delay("ns/a").as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4]);
        assert_eq!(retries.exact_delay("ns/b").as_secs(), 1, "per object");
        retries.forget("ns/a");
        assert_eq!(retries.exact_delay("ns/a").as_secs(), 1);
    }
}
