//! cognito-authorizer library: the verifier and a route policy in front of any HTTP API, as a
//! reverse proxy (`UPSTREAM_URL`), an Envoy HTTP `ext_authz` service and an ingress-nginx
//! `auth-url`. `main` fills the settings from the command line and calls [`start`].
//!
//! - [`config`]: the command line (clap), checked into [`Settings`] in `main`;
//! - [`settings`]: what the service runs on;
//! - `traffic`: the traffic port (checks, proxy); [`proxy`]: the reverse proxy;
//! - `admin`: `/healthz`, `/readyz`, `/metrics` on their own port; [`metrics`]: the registry;
//! - `reload`: the policy file, watched and reloaded.

pub mod config;
pub mod metrics;
pub mod proxy;
pub mod settings;

mod admin;
mod reload;
mod traffic;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use actix_web::dev::{Server, ServerHandle, fn_service};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use cognito_auth::policy::PolicyError;
use cognito_auth_actix::verification::BuildError;
use cognito_auth_actix::{SharedAuthorizer, Verification};
use telemetry::shutdown::{self, Draining};

pub use crate::admin::{HEALTHZ_PATH, METRICS_PATH, READYZ_PATH};
pub use crate::config::Config;
use crate::metrics::Metrics;
use crate::proxy::{ProxyError, Upstream};
use crate::reload::PolicySource;
pub use crate::settings::Settings;
pub use crate::traffic::{AUTH_PATH, EXT_AUTHZ_PREFIX, REALM};

/// Why the service could not start; each names the variable or the policy's file and line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The policy file does not load.
    #[error("POLICY_FILE: {0}")]
    Policy(#[source] PolicyError),
    /// The verifier could not be built.
    #[error("{0}")]
    Verifier(#[source] BuildError),
    /// `UPSTREAM_URL` is unusable.
    #[error("{0}")]
    Upstream(#[source] ProxyError),
    /// A listen address cannot be bound or served.
    #[error("{variable}: cannot listen on {address}: {error}")]
    Listen {
        /// `LISTEN_ADDR` or `ADMIN_LISTEN_ADDR`.
        variable: &'static str,
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        error: std::io::Error,
    },
    /// The SIGTERM/SIGINT handlers could not be installed.
    #[error("cannot handle SIGTERM: {0}")]
    Signals(#[source] std::io::Error),
}

/// The running service: its two servers and the addresses they listen on.
pub struct Running {
    /// Where the traffic port listens (the port picked when `LISTEN_ADDR` asked for 0).
    pub traffic_addr: SocketAddr,
    /// Where the admin port listens.
    pub admin_addr: SocketAddr,
    traffic: Server,
    admin: Server,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("traffic_addr", &self.traffic_addr)
            .field("admin_addr", &self.admin_addr)
            .finish_non_exhaustive()
    }
}

impl Running {
    /// Both servers' handles (`stop(true)` drains gracefully).
    pub fn handles(&self) -> [ServerHandle; 2] {
        [self.traffic.handle(), self.admin.handle()]
    }

    /// Runs until both servers have stopped (after SIGTERM's shutdown sequence).
    pub async fn wait(self) -> std::io::Result<()> {
        let (traffic, admin) = tokio::join!(self.traffic, self.admin);
        traffic.and(admin)
    }
}

/// Loads the policy, binds both ports and starts serving; the signing keys of the policy's
/// issuers load in the background (`/readyz` answers 503 until every user pool has them), and
/// the policy file is watched for changes. SIGTERM or SIGINT runs the shutdown sequence of
/// [`telemetry::shutdown`] on both servers. Must be called within a tokio runtime.
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    let (text, policy) = reload::read(&settings.policy_file).map_err(StartError::Policy)?;
    let rules = policy.rules().len();
    let issuers = policy.issuers().len();
    // Bound before any signing keys are fetched: a busy port ends start-up at once.
    let traffic_listener = bind("LISTEN_ADDR", settings.listen_addr)?;
    let admin_listener = bind("ADMIN_LISTEN_ADDR", settings.admin_listen_addr)?;
    let traffic_addr = local_addr("LISTEN_ADDR", settings.listen_addr, &traffic_listener)?;
    let admin_addr = local_addr(
        "ADMIN_LISTEN_ADDR",
        settings.admin_listen_addr,
        &admin_listener,
    )?;
    let verification = Verification::new(
        settings.verification,
        concat!("cognito-authorizer/", env!("CARGO_PKG_VERSION")),
    )
    .map_err(StartError::Verifier)?;
    let authorizer = verification
        .authorizer(Arc::new(policy), None)
        .map_err(StartError::Verifier)?;
    let authorizer = SharedAuthorizer::new(authorizer);
    let metrics = Arc::new(Metrics::new(authorizer.clone()));
    metrics.policy_loaded(rules, false);
    let upstream = settings
        .upstream_url
        .as_deref()
        .map(Upstream::new)
        .transpose()
        .map_err(StartError::Upstream)?
        .map(|upstream| upstream.with_response_timeout(settings.upstream_timeout));
    let proxying = upstream.is_some();

    let draining = Draining::default();
    let traffic = Arc::new(traffic::Traffic {
        authorizer: authorizer.clone(),
        metrics: metrics.clone(),
        upstream,
    });
    let draining_data = web::Data::new(draining.clone());
    let server = HttpServer::new(move || {
        let traffic = traffic.clone();
        App::new()
            .app_data(draining_data.clone())
            .wrap(from_fn(shutdown::close_connections_when_draining))
            .default_service(fn_service(move |request| {
                let traffic = traffic.clone();
                async move { Ok(traffic::serve(request, &traffic).await) }
            }))
    })
    .disable_signals()
    .shutdown_timeout(settings.shutdown.drain_timeout_secs());
    let server = match settings.http_workers {
        Some(workers) => server.workers(workers),
        None => server,
    };
    let traffic_server = server
        .listen(traffic_listener)
        .map_err(|error| listen_error("LISTEN_ADDR", traffic_addr, error))?
        .run();

    let admin_data = web::Data::new(admin::Admin {
        authorizer: authorizer.clone(),
        metrics: metrics.clone(),
        draining: draining.clone(),
    });
    let draining_data = web::Data::new(draining.clone());
    let admin_server = HttpServer::new(move || {
        App::new()
            .app_data(admin_data.clone())
            .app_data(draining_data.clone())
            .wrap(from_fn(shutdown::close_connections_when_draining))
            .configure(admin::configure)
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(settings.shutdown.drain_timeout_secs())
    .listen(admin_listener)
    .map_err(|error| listen_error("ADMIN_LISTEN_ADDR", admin_addr, error))?
    .run();

    for server in [&traffic_server, &admin_server] {
        shutdown::on_signals(server.handle(), draining.clone(), settings.shutdown)
            .map_err(StartError::Signals)?;
    }
    reload::watch(Arc::new(PolicySource {
        file: settings.policy_file.clone(),
        verification,
        authorizer,
        metrics,
        last_text: Mutex::new(text),
    }));
    tracing::info!(
        %traffic_addr,
        %admin_addr,
        policy_file = %settings.policy_file.display(),
        rules,
        issuers,
        proxying,
        "cognito-authorizer serving"
    );
    Ok(Running {
        traffic_addr,
        admin_addr,
        traffic: traffic_server,
        admin: admin_server,
    })
}

fn bind(variable: &'static str, address: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(address).map_err(|error| listen_error(variable, address, error))
}

fn local_addr(
    variable: &'static str,
    address: SocketAddr,
    listener: &TcpListener,
) -> Result<SocketAddr, StartError> {
    listener
        .local_addr()
        .map_err(|error| listen_error(variable, address, error))
}

fn listen_error(variable: &'static str, address: SocketAddr, error: std::io::Error) -> StartError {
    StartError::Listen {
        variable,
        address,
        error,
    }
}
