//! content-consumer: calls premium content with Cognito client-credentials tokens, fetched once
//! per scope and reused until shortly before they expire.
//!
//! The library exposes [`Settings`] and [`start`] so that the binary, the local stack and tests all
//! run the same service:
//!
//! - [`config`]: the command line (clap), checked into [`Settings`] in `main`;
//! - [`settings`]: what the service runs on, with its defaults;
//! - `routes`: the three content routes; `premium_api`: the calls to premium content;
//!   `error`: the one mapping of failures to HTTP;
//! - `health`: `/healthz`, `/readyz`; `metrics`: the registry and `/metrics`.

pub mod config;
mod error;
mod health;
mod metrics;
mod premium_api;
mod routes;
pub mod settings;

use std::sync::Arc;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use cognito_auth::credentials::{
    ClientCredentials, CredentialsError, CredentialsProvider, DirSource, FetchLimits,
    SecretsManagerSource,
};
use cognito_auth::token_cache::TokenCache;
use cognito_auth::token_client::TokenClient;
use telemetry::shutdown::{self, Draining};

pub use config::{Config, ConfigError};
pub use error::ConsumerError;
pub use metrics::Metrics;
use premium_api::PremiumApi;
pub use settings::{ClientSecret, CredentialsSource, Settings};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The credentials source cannot be used at all (e.g. CREDENTIALS_DIR is not a folder).
    #[error("{0}")]
    Credentials(#[from] CredentialsError),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    /// The listener could not be used, or the SIGTERM/SIGINT handlers installed.
    #[error("listener: {0}")]
    Listen(#[from] std::io::Error),
}

/// Builds the service on `listener` and returns the running (not yet awaited) server.
/// SIGTERM or SIGINT runs the shutdown sequence of [`telemetry::shutdown`] with
/// `settings.shutdown`: `/readyz` fails at once, the server stops accepting after the delay,
/// and the returned server completes once drained.
pub async fn start(
    settings: Settings,
    listener: std::net::TcpListener,
) -> Result<actix_web::dev::Server, StartError> {
    // One client, one connection pool, for Cognito and premium content alike; and one that
    // never reuses a connection, for premium_api's one retry.
    let http = http_client(&settings).build()?;
    let fresh = http_client(&settings).pool_max_idle_per_host(0).build()?;
    let token_url = settings.token_url.as_ref().map(reqwest::Url::to_string);
    // A Secrets Manager fetch is one request, as a token request is (TOKEN_TIMEOUT): a caller
    // without credentials waits for at most one of each, both within TOKEN_DEADLINE.
    let limits = FetchLimits {
        timeout: settings
            .token_cache
            .attempt_timeout
            .min(settings.token_cache.deadline),
        failure_cooldown: settings.token_cache.failure_cooldown,
    };
    let credentials = credentials_provider(&settings.credentials, &token_url, limits).await?;
    let metrics = Arc::new(Metrics::new());
    let tokens = TokenCache::builder(TokenClient::new(http.clone()), credentials)
        .endpoint_override(token_url)
        .policy(settings.token_cache.clone())
        .events(metrics.clone())
        .build();
    let premium = web::Data::new(PremiumApi {
        http,
        fresh,
        tokens: tokens.clone(),
        url: settings.premium_api_url.clone(),
        timeout: settings.premium_api_timeout,
        read_scopes: vec![settings.scopes.read.clone()],
        write_scopes: vec![settings.scopes.write.clone()],
        metrics: metrics.clone(),
    });
    // Start-up (and /healthz) never wait on Secrets Manager; /readyz says when it answered.
    tokens.load_credentials_in_background();
    let tokens = web::Data::new(tokens);
    let metrics = web::Data::from(metrics);
    let draining = Draining::default();
    let draining_data = web::Data::new(draining.clone());
    tracing::info!(
        premium_api_url = %settings.premium_api_url,
        read_scope = %settings.scopes.read,
        write_scope = %settings.scopes.write,
        source = ?source_name(&settings.credentials),
        "content-consumer starting"
    );
    let server = HttpServer::new(move || {
        App::new()
            .app_data(premium.clone())
            .app_data(tokens.clone())
            .app_data(metrics.clone())
            .app_data(draining_data.clone())
            .wrap(from_fn(shutdown::close_connections_when_draining))
            .configure(routes::configure)
            .configure(health::configure)
            .configure(metrics::configure)
    })
    // SIGTERM runs the shared shutdown sequence (`on_signals` below), not actix's own.
    .disable_signals()
    .shutdown_timeout(settings.shutdown.drain_timeout_secs())
    .listen(listener)?
    .run();
    shutdown::on_signals(server.handle(), draining, settings.shutdown)?;
    Ok(server)
}

/// The settings every HTTP client of the service shares.
fn http_client(settings: &Settings) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .user_agent(concat!("content-consumer/", env!("CARGO_PKG_VERSION")))
}

/// The credentials provider of `source`; fixed credentials get `token_url` as their endpoint.
async fn credentials_provider(
    source: &CredentialsSource,
    token_url: &Option<String>,
    limits: FetchLimits,
) -> Result<CredentialsProvider, CredentialsError> {
    Ok(match source {
        CredentialsSource::Dir(dir) => CredentialsProvider::Dir(DirSource::open(dir)?),
        CredentialsSource::Fixed {
            client_id,
            client_secret,
        } => {
            let credentials =
                ClientCredentials::new(client_id, &client_secret.0).map_err(|error| {
                    CredentialsError::Format {
                        origin: "COGNITO_CLIENT_ID/COGNITO_CLIENT_SECRET".into(),
                        error,
                    }
                })?;
            CredentialsProvider::fixed(ClientCredentials {
                token_endpoint: token_url.clone(),
                ..credentials
            })
        }
        CredentialsSource::SecretsManager(secret_id) => CredentialsProvider::SecretsManager(
            SecretsManagerSource::from_env(secret_id, limits).await,
        ),
    })
}

fn source_name(source: &CredentialsSource) -> &'static str {
    match source {
        CredentialsSource::Dir(_) => "CREDENTIALS_DIR",
        CredentialsSource::Fixed { .. } => "environment",
        CredentialsSource::SecretsManager(_) => "APP_SECRETS_ARN",
    }
}
