//! The penalty box: how often a token naming an unknown kid (or arriving before any key set is
//! loaded) may cause a JWKS fetch. Without it, a stream of tokens with made-up kids would turn
//! into a stream of requests to the issuer.

use std::time::{Duration, Instant};

/// Admits at most one unknown-kid fetch per `cooldown`.
#[derive(Debug)]
pub(super) struct PenaltyBox {
    cooldown: Duration,
    /// When the last admitted fetch started.
    last_admitted: Option<Instant>,
}

impl PenaltyBox {
    /// A box that admits the first fetch at once.
    pub(super) fn new(cooldown: Duration) -> Self {
        Self {
            cooldown,
            last_admitted: None,
        }
    }

    /// Whether a fetch may start at `now` (monotonic); when it may, `now` starts the next
    /// cooldown.
    pub(super) fn admit(&mut self, now: Instant) -> bool {
        if self
            .last_admitted
            .is_some_and(|at| now.duration_since(at) < self.cooldown)
        {
            return false;
        }
        self.last_admitted = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_once_per_cooldown() {
        let start = Instant::now();
        let mut penalty_box = PenaltyBox::new(Duration::from_secs(10));
        assert!(penalty_box.admit(start));
        assert!(!penalty_box.admit(start));
        assert!(!penalty_box.admit(start + Duration::from_secs(9)));
        assert!(penalty_box.admit(start + Duration::from_secs(10)));
        assert!(!penalty_box.admit(start + Duration::from_secs(15)));
        assert!(penalty_box.admit(start + Duration::from_secs(25)));
    }
}
