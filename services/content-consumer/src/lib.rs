//! content-consumer: calls premium content with Cognito client-credentials tokens, fetched once
//! per scope and reused until shortly before they expire.
//!
//! The library exposes [`Config`] and [`start`] so that the binary, the local stack and tests all
//! run the same service.

mod config;
mod error;
mod metrics;
mod routes;

use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use cognito_auth::credentials::{
    ClientCredentials, CredentialsError, CredentialsProvider, DirSource, SecretsManagerSource,
};
use cognito_auth::token_cache::TokenCache;
use cognito_auth::token_client::TokenClient;

pub use config::{ClientSecret, Config, ConfigError, CredentialsSourceConfig, Settings};
pub use error::ConsumerError;
pub use metrics::Metrics;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is unusable (the message names the variables).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The credentials source cannot be used at all (e.g. CREDENTIALS_DIR is not a folder).
    #[error("{0}")]
    Credentials(#[from] CredentialsError),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    /// The listener could not be used.
    #[error("listener: {0}")]
    Listen(#[from] std::io::Error),
}

/// Builds the service on `listener` and returns the running (not yet awaited) server.
pub async fn start(
    config: Config,
    listener: std::net::TcpListener,
) -> Result<actix_web::dev::Server, StartError> {
    let settings = config.settings()?;
    // One client, one connection pool, for Cognito and premium content alike.
    let http = reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .user_agent(concat!("content-consumer/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let credentials = match &settings.source {
        CredentialsSourceConfig::Dir(dir) => CredentialsProvider::Dir(DirSource::open(dir)?),
        CredentialsSourceConfig::Env {
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
                token_endpoint: settings.token_url.clone(),
                ..credentials
            })
        }
        CredentialsSourceConfig::SecretsManager(secret_id) => {
            CredentialsProvider::SecretsManager(SecretsManagerSource::from_env(secret_id).await)
        }
    };
    let metrics = Arc::new(Metrics::new());
    let tokens = TokenCache::builder(TokenClient::new(http.clone()), credentials)
        .endpoint_override(settings.token_url.clone())
        .policy(settings.policy.clone())
        .events(metrics.clone())
        .build();
    let state = web::Data::new(routes::AppState {
        http,
        tokens,
        premium_api_url: settings.premium_api_url.clone(),
        premium_api_timeout: settings.premium_api_timeout,
        read_scopes: vec![settings.read_scope.clone()],
        write_scopes: vec![settings.write_scope.clone()],
        metrics,
    });
    tracing::info!(
        premium_api_url = %settings.premium_api_url,
        read_scope = %settings.read_scope,
        write_scope = %settings.write_scope,
        source = ?source_name(&settings.source),
        "content-consumer starting"
    );
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(routes::configure)
    })
    .listen(listener)?
    .run();
    Ok(server)
}

fn source_name(source: &CredentialsSourceConfig) -> &'static str {
    match source {
        CredentialsSourceConfig::Dir(_) => "CREDENTIALS_DIR",
        CredentialsSourceConfig::Env { .. } => "environment",
        CredentialsSourceConfig::SecretsManager(_) => "APP_SECRETS_ARN",
    }
}
