//! The operator's own HTTP server: [`health`] probes and [`metrics`].

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

use crate::health::{self, PhaseCell};
use crate::metrics::{self, Metrics};

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
            .route("/healthz", web::get().to(health::healthz))
            .route("/readyz", web::get().to(health::readyz))
            .route("/metrics", web::get().to(metrics::endpoint))
    })
    .workers(1)
    // The operator handles SIGTERM itself so that it can drain reconciles and release the Lease.
    .disable_signals()
    .listen(listener)?
    .run())
}
