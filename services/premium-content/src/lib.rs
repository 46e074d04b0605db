//! premium-content library: the protected API, built from typed [`Settings`].
//!
//! [`start`] builds one self-contained instance (JWKS cache, verifier, metrics registry) so that
//! several can run in one process, as the tests and the local stack do.
//!
//! - [`config`]: the command line (clap), checked into [`Settings`] in `main`;
//! - [`settings`]: what the service runs on, with its defaults;
//! - `routes`: the API (`/home/premium`) and its route policy, judged by cognito-auth-actix's
//!   `Authorize` middleware (the same engine as cognito-authorizer's);
//! - `health`: `/healthz`, `/readyz`; [`metrics`]: the registry, request counting, `/metrics`.

pub mod config;
mod health;
pub mod metrics;
mod routes;
pub mod settings;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use cognito_auth::cognito::UserPool;
use cognito_auth::policy::PolicyError;
use cognito_auth_actix::verification::BuildError;
use cognito_auth_actix::{SharedAuthorizer, Verification};
use telemetry::shutdown::{self, Draining};

pub use crate::config::{Config, ConfigError};
pub use crate::health::{HEALTHZ_PATH, READYZ_PATH};
pub use crate::metrics::METRICS_PATH;
use crate::metrics::Metrics;
pub use crate::routes::PREMIUM_PATH;
pub use crate::settings::Settings;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The verifier could not be built (JWKS HTTP client, the same issuer twice).
    #[error("{0}")]
    Verifier(#[source] BuildError),
    /// The route policy the settings give is unusable (a scope the policy engine refuses).
    #[error("{0}")]
    Policy(#[source] PolicyError),
    /// The listener could not be served.
    #[error("cannot serve on the listener: {0}")]
    Listen(#[source] std::io::Error),
    /// The SIGTERM/SIGINT handlers could not be installed.
    #[error("cannot handle SIGTERM: {0}")]
    Signals(#[source] std::io::Error),
}

/// Builds the service on `listener` and returns the running server (await it, or spawn it and
/// stop it with `server.handle().stop(true)`). Starts loading the signing keys of every issuer
/// in the background; `/readyz` answers 503 until those of at least one are loaded (see
/// [`TrustedIssuers::is_ready`](cognito_auth::trusted_issuers::TrustedIssuers::is_ready)).
/// SIGTERM or SIGINT runs the shutdown sequence of [`telemetry::shutdown`] with
/// `settings.shutdown`: `/readyz` fails at once, the server stops accepting after the delay, and
/// the returned server completes once drained. Must be called within a tokio runtime.
pub async fn start(settings: Settings, listener: TcpListener) -> Result<Server, StartError> {
    let policy = routes::policy(&settings).map_err(StartError::Policy)?;
    let verification = Verification::new(
        settings.verification,
        concat!("premium-content/", env!("CARGO_PKG_VERSION")),
    )
    .map_err(StartError::Verifier)?;
    // The issuers as configured (one exact issuer, or both forms of a pool) form one pool.
    let pool = verification.pool(&settings.issuers, settings.client_ids.clone());
    let authorizer = verification
        .authorizer_with_pools(std::sync::Arc::new(policy), vec![pool])
        .map_err(StartError::Verifier)?;
    let verifier = authorizer.verifier().clone();
    let authorizer = SharedAuthorizer::new(authorizer);
    let metrics = web::Data::new(Metrics::new(verifier.clone()));
    let verifier = web::Data::from(verifier);
    let draining = Draining::default();
    let draining_data = web::Data::new(draining.clone());
    let address = listener.local_addr().map_err(StartError::Listen)?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            .app_data(metrics.clone())
            .app_data(draining_data.clone())
            .wrap(from_fn(metrics::count_requests))
            .wrap(from_fn(shutdown::close_connections_when_draining))
            .configure(|config| routes::configure(config, &authorizer))
            .configure(health::configure)
            .configure(metrics::configure)
            .default_service(web::to(routes::not_found))
    })
    // SIGTERM runs the shared shutdown sequence (`on_signals` below), not actix's own.
    .disable_signals()
    .shutdown_timeout(settings.shutdown.drain_timeout_secs());
    let server = match settings.http_workers {
        Some(workers) => server.workers(workers),
        None => server,
    };
    let server = server.listen(listener).map_err(StartError::Listen)?.run();
    shutdown::on_signals(server.handle(), draining, settings.shutdown)
        .map_err(StartError::Signals)?;
    log_serving(&settings, address);
    Ok(server)
}

fn log_serving(settings: &Settings, address: std::net::SocketAddr) {
    if let [only] = settings.issuers.as_slice()
        && let Some((form, pool)) = UserPool::from_issuer(&only.issuer)
    {
        tracing::info!(
            issuer = %only.issuer,
            "COGNITO_ISSUER is the {form} issuer of user pool {pool}: tokens carrying its other \
             issuer form are refused (set COGNITO_USER_POOL_ID instead to accept both)"
        );
    }
    let issuers: Vec<&str> = settings.issuers.iter().map(|i| i.issuer.as_str()).collect();
    let jwks_urls: Vec<&str> = settings
        .issuers
        .iter()
        .map(|i| i.jwks_url.as_str())
        .collect();
    tracing::info!(
        %address,
        issuers = ?issuers,
        jwks_urls = ?jwks_urls,
        read_scope = %settings.scopes.read,
        write_scope = %settings.scopes.write,
        allowed_clients = settings.client_ids.len(),
        "premium-content serving"
    );
}
