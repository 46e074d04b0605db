//! Time as the verifier and the JWKS cache see it, injectable so that expiry, `nbf`, refresh and
//! the unknown-kid penalty box are testable without sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time (for token claims) and monotonic time (for intervals).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Seconds since the Unix epoch, with sub-second precision.
    fn unix_seconds(&self) -> f64;
    /// A monotonic instant, for measuring intervals.
    fn monotonic(&self) -> Instant;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_seconds(&self) -> f64 {
        // A clock before 1970 is a broken machine; treating it as the epoch makes every token
        // look far in the future, so they are refused rather than accepted.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64()
    }

    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that only moves when told to (tests and benchmarks).
#[derive(Debug)]
pub struct ManualClock {
    start_unix: f64,
    start_instant: Instant,
    elapsed: Mutex<Duration>,
}

impl ManualClock {
    /// A clock standing at `unix_seconds`.
    pub fn at(unix_seconds: f64) -> Self {
        Self {
            start_unix: unix_seconds,
            start_instant: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves both the wall clock and the monotonic clock forward.
    pub fn advance(&self, by: Duration) {
        *self.elapsed.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }

    fn elapsed(&self) -> Duration {
        *self.elapsed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn unix_seconds(&self) -> f64 {
        self.start_unix + self.elapsed().as_secs_f64()
    }

    fn monotonic(&self) -> Instant {
        self.start_instant + self.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::at(1_000.0);
        let before = clock.monotonic();
        assert_eq!(clock.unix_seconds(), 1_000.0);
        clock.advance(Duration::from_millis(1_500));
        assert_eq!(clock.unix_seconds(), 1_001.5);
        assert_eq!(clock.monotonic() - before, Duration::from_millis(1_500));
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.unix_seconds() > 1_577_836_800.0);
    }
}
