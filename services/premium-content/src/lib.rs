//! premium-content library: the protected API, built from typed [`Settings`].
//!
//! [`start`] builds one self-contained instance (JWKS cache, verifier, metrics registry) so that
//! several can run in one process, as the tests and the local stack do.
//!
//! - [`config`]: the command line (clap), checked into [`Settings`] in `main`;
//! - [`settings`]: what the service runs on, with its defaults;
//! - `routes`: the API (`/home/premium`); [`auth`]: from a request to an authorised caller and
//!   the one mapping of refusals to HTTP;
//! - `health`: `/healthz`, `/readyz`; [`metrics`]: the registry, request counting, `/metrics`.

pub mod auth;
pub mod config;
mod health;
pub mod metrics;
mod routes;
pub mod settings;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use cognito_auth::cognito::UserPool;
use cognito_auth::jwks::{self, JwksSettings};
use cognito_auth::trusted_issuers::{TrustError, TrustedIssuers, TrustedPool};
use cognito_auth::verifier::{Verifier, VerifierConfig};
use telemetry::shutdown::{self, Draining};

pub use crate::auth::AuthError;
pub use crate::config::{Config, ConfigError};
pub use crate::health::{HEALTHZ_PATH, READYZ_PATH};
pub use crate::metrics::METRICS_PATH;
use crate::metrics::Metrics;
pub use crate::routes::PREMIUM_PATH;
use crate::routes::ProtectedResource;
pub use crate::settings::Settings;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The HTTP client for the JWKS could not be built.
    #[error("cannot build the JWKS HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The issuers cannot be trusted together (the same one twice).
    #[error("{0}")]
    Trust(#[source] TrustError),
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
/// [`TrustedIssuers::is_ready`]). SIGTERM or SIGINT runs the shutdown sequence of
/// [`telemetry::shutdown`] with `settings.shutdown`: `/readyz` fails at once, the server stops
/// accepting after the delay, and the returned server completes once drained. Must be called
/// within a tokio runtime.
pub async fn start(settings: Settings, listener: TcpListener) -> Result<Server, StartError> {
    let verifier = Arc::new(verifier(&settings)?);
    let metrics = Arc::new(Metrics::new(verifier.clone()));
    let resource = web::Data::new(ProtectedResource {
        verifier: verifier.clone(),
        scopes: settings.scopes.clone(),
        metrics: metrics.clone(),
    });
    let verifier = web::Data::from(verifier);
    let metrics = web::Data::from(metrics);
    let draining = Draining::default();
    let draining_data = web::Data::new(draining.clone());
    let address = listener.local_addr().map_err(StartError::Listen)?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(resource.clone())
            .app_data(verifier.clone())
            .app_data(metrics.clone())
            .app_data(draining_data.clone())
            .wrap(from_fn(metrics::count_requests))
            .wrap(from_fn(shutdown::close_connections_when_draining))
            .configure(routes::configure)
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

/// The verifier of the settings' issuers, their signing keys loading in the background.
fn verifier(settings: &Settings) -> Result<Verifier, StartError> {
    let http = jwks::http_client(concat!("premium-content/", env!("CARGO_PKG_VERSION")))
        .map_err(StartError::HttpClient)?;
    let jwks_settings = JwksSettings {
        refresh_interval: settings.jwks_refresh_interval,
        min_refresh_interval: JwksSettings::default()
            .min_refresh_interval
            .min(settings.jwks_refresh_interval),
        ..JwksSettings::default()
    };
    let pool = TrustedPool::with_caches(
        &settings.issuers,
        settings.client_ids.clone(),
        &http,
        &jwks_settings,
    );
    let trusted = TrustedIssuers::new(vec![pool]).map_err(StartError::Trust)?;
    trusted.start_background();
    Ok(Verifier::new(
        VerifierConfig {
            leeway: settings.clock_leeway,
            cache_capacity: settings.verified_token_cache_size,
            ..VerifierConfig::default()
        },
        trusted,
    ))
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
