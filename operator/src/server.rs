//! The HTTP side: `/healthz`, `/readyz` and `/metrics`.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::metrics::Metrics;

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

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

async fn readyz(phase: web::Data<PhaseCell>) -> HttpResponse {
    let name = format!("{:?}", phase.get());
    if phase.is_ready() {
        HttpResponse::Ok().body(name)
    } else {
        HttpResponse::ServiceUnavailable().body(name)
    }
}

async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render())
}

/// Starts serving on `listener`; the caller awaits or spawns the returned server.
pub fn start(
    listener: TcpListener,
    metrics_data: Arc<Metrics>,
    phase: Arc<PhaseCell>,
) -> std::io::Result<Server> {
    let metrics_data = web::Data::from(metrics_data);
    let phase = web::Data::from(phase);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(metrics_data.clone())
            .app_data(phase.clone())
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics))
    })
    .workers(1)
    // The operator handles SIGTERM itself so that it can drain reconciles and release the Lease.
    .disable_signals()
    .listen(listener)?
    .run())
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
