//! When a cached token is renewed and how a token request is retried.

use std::time::Duration;

use rand::Rng;

/// Timing and retry rules.
#[derive(Debug, Clone)]
pub struct CachePolicy {
    /// Renew at most this long before expiry ...
    pub max_margin: Duration,
    /// ... and at most this fraction of the lifetime (10 means 10 %) before expiry.
    pub margin_divisor: u32,
    /// Time allowed for one token request, body included.
    pub attempt_timeout: Duration,
    /// Time allowed for all attempts of one fetch together: what a caller waits at most.
    pub deadline: Duration,
    /// Attempts per fetch (transient failures only: 5xx, timeouts, connection errors).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time, with jitter.
    pub backoff_base: Duration,
    /// Longest backoff.
    pub backoff_max: Duration,
    /// After a failed fetch, callers without a token get that failure again for this long
    /// instead of starting another fetch with the same credentials.
    pub failure_cooldown: Duration,
    /// At most one token per scope set is dropped on an API's rejection within this long, so
    /// a misconfigured API that rejects every token cannot make each call cost a token request.
    pub invalidation_interval: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            max_margin: Duration::from_secs(60),
            margin_divisor: 10,
            attempt_timeout: Duration::from_secs(2),
            deadline: Duration::from_secs(5),
            max_attempts: 3,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            failure_cooldown: Duration::from_secs(1),
            invalidation_interval: Duration::from_secs(30),
        }
    }
}

impl CachePolicy {
    /// How long before expiry a token of `lifetime` is renewed.
    pub fn margin(&self, lifetime: Duration) -> Duration {
        self.max_margin.min(lifetime / self.margin_divisor.max(1))
    }

    /// The jittered wait before attempt `attempt + 1` (attempt counts from 1): uniform between
    /// half and all of `base * 2^(attempt-1)`, capped at `backoff_max`.
    pub fn backoff(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.backoff_max);
        let half = exp / 2;
        half + Duration::from_nanos(rng.random_range(0..=(exp - half).as_nanos() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn margin_is_the_smaller_of_a_minute_and_a_tenth() {
        let policy = CachePolicy::default();
        assert_eq!(
            policy.margin(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            policy.margin(Duration::from_secs(300)),
            Duration::from_secs(30)
        );
        assert_eq!(
            policy.margin(Duration::from_secs(5)),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = CachePolicy::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            let first = policy.backoff(1, &mut rng);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.backoff(3, &mut rng);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let late = policy.backoff(30, &mut rng);
            assert!(late >= Duration::from_millis(500) && late <= Duration::from_secs(1));
            seen.insert(first);
        }
        assert!(seen.len() > 10, "backoff must be jittered");
    }
}
