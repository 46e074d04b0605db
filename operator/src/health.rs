//! `/healthz` and `/readyz`: the operator's phase, as probes see it.

use std::sync::atomic::{AtomicU8, Ordering};

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

/// The shared phase.
#[derive(Debug, Default)]
pub struct PhaseCell(AtomicU8);

impl PhaseCell {
    /// Sets the phase.
    pub fn set(&self, phase: Phase) {
        self.0.store(phase as u8, Ordering::SeqCst);
    }

    /// The current phase.
    pub fn get(&self) -> Phase {
        match self.0.load(Ordering::SeqCst) {
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

/// `/healthz`: 200 while the process serves.
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
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
}
