//! `/healthz` and `/readyz`: the operator's phase, as probes see it.
//!
//! Liveness is about this process, not about the API server or the Lease: a standby, a
//! replica that lost the Lease, and one waiting for an API server that is away are all alive,
//! and a restart would mend none of them (it would only add restarts and back-off to an
//! outage). `/healthz` fails only when the runtime that runs the election and the controllers
//! has stopped making progress (no [`PhaseCell::beat`] for [`STALL_LIMIT`]); the probes' own
//! server runs on threads of its own, so it can tell.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};

/// Where the operator is in its life, as `/readyz` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Not yet talking to the API server.
    Starting = 0,
    /// Waiting for the leader lease: healthy and ready as a standby.
    Standby = 1,
    /// Leading, caches still filling.
    Syncing = 2,
    /// Leading with synced caches.
    Ready = 3,
    /// Shutting down or stepped down.
    Stopping = 4,
}

/// How often the operator's runtime beats ([`PhaseCell::beat`]).
pub const BEAT_INTERVAL: Duration = Duration::from_secs(1);

/// How long the runtime may go without a beat before `/healthz` fails.
pub const STALL_LIMIT: Duration = Duration::from_secs(10);

/// The shared phase, and when the operator's runtime last showed it was making progress.
#[derive(Debug)]
pub struct PhaseCell {
    phase: AtomicU8,
    since: Instant,
    /// Milliseconds from `since` to the last beat.
    last_beat: AtomicU64,
}

impl Default for PhaseCell {
    fn default() -> Self {
        Self {
            phase: AtomicU8::new(Phase::Starting as u8),
            since: Instant::now(),
            last_beat: AtomicU64::new(0),
        }
    }
}

impl PhaseCell {
    /// Sets the phase.
    pub fn set(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::SeqCst);
    }

    /// Records that the runtime is making progress (called every [`BEAT_INTERVAL`]).
    pub fn beat(&self) {
        let elapsed = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_beat.store(elapsed, Ordering::SeqCst);
    }

    /// Whether the last beat is less than [`STALL_LIMIT`] old at `now`.
    pub fn is_live(&self, now: Instant) -> bool {
        let last = self.since + Duration::from_millis(self.last_beat.load(Ordering::SeqCst));
        now.saturating_duration_since(last) < STALL_LIMIT
    }

    /// The current phase.
    pub fn get(&self) -> Phase {
        match self.phase.load(Ordering::SeqCst) {
            1 => Phase::Standby,
            2 => Phase::Syncing,
            3 => Phase::Ready,
            4 => Phase::Stopping,
            _ => Phase::Starting,
        }
    }

    /// Whether `/readyz` answers 200: a standby is ready to take over, a leader once synced.
    pub fn is_ready(&self) -> bool {
        matches!(self.get(), Phase::Standby | Phase::Ready)
    }
}

/// `/healthz`: 200 while the operator's runtime makes progress, whatever the phase (the body
/// names it: `ok: Standby`), 503 once it has stalled for [`STALL_LIMIT`].
pub(crate) async fn healthz(phase: web::Data<PhaseCell>) -> HttpResponse {
    if phase.is_live(Instant::now()) {
        HttpResponse::Ok().body(format!("ok: {:?}", phase.get()))
    } else {
        HttpResponse::ServiceUnavailable().body(format!(
            "stalled: no progress for {STALL_LIMIT:?} ({:?})",
            phase.get()
        ))
    }
}

/// `/readyz`: 200 for a standby or a synced leader, 503 otherwise; the body names the phase.
pub(crate) async fn readyz(phase: web::Data<PhaseCell>) -> HttpResponse {
    let name = format!("{:?}", phase.get());
    if phase.is_ready() {
        HttpResponse::Ok().body(name)
    } else {
        HttpResponse::ServiceUnavailable().body(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standby_and_synced_leader_are_ready() {
        let cell = PhaseCell::default();
        assert_eq!(cell.get(), Phase::Starting);
        let ready: Vec<bool> = [
            Phase::Starting,
            Phase::Standby,
            Phase::Syncing,
            Phase::Ready,
            Phase::Stopping,
        ]
        .into_iter()
        .map(|p| {
            cell.set(p);
            cell.is_ready()
        })
        .collect();
        assert_eq!(ready, [false, true, false, true, false]);
    }

    #[test]
    fn live_until_the_beats_stop_for_the_stall_limit() {
        let cell = PhaseCell::default();
        let now = Instant::now();
        cell.beat();
        assert!(cell.is_live(now));
        assert!(cell.is_live(now + STALL_LIMIT - Duration::from_secs(1)));
        assert!(!cell.is_live(now + STALL_LIMIT + Duration::from_secs(1)));
    }
}
