//! `local-cognito`: development and tests only — never production. A Cognito-compatible issuer
//! of client-credentials access tokens on loopback.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use clap::Parser;
use cognito_auth::cognito::IssuerForm;
use local_cognito::issuer::{AppClient, Config, IssuerUrl};

const NOT_FOR_PRODUCTION: &str = "FOR DEVELOPMENT AND TESTS ONLY, NEVER PRODUCTION: keys are \
generated at startup and kept in memory, and anyone who can reach it can ask for tokens.";

/// Command line and environment of `local-cognito`.
#[derive(Debug, Parser)]
#[command(
    name = "local-cognito",
    version,
    about = "A Cognito-compatible OAuth2 token issuer (client credentials) for development and \
             tests only, never production.",
    long_about = None,
    after_help = NOT_FOR_PRODUCTION
)]
struct Cli {
    /// Address to serve on (keep it on loopback).
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:9229")]
    listen_addr: SocketAddr,

    /// User pool id: the path of /{poolId}/.well-known/jwks.json and part of the issuer.
    #[arg(
        long,
        env = "COGNITO_USER_POOL_ID",
        default_value = "us-east-1_LocalDev1"
    )]
    user_pool_id: String,

    /// Exact issuer (`iss`); default: http://LISTEN_ADDR/{poolId}.
    #[arg(long, env = "COGNITO_ISSUER", conflicts_with = "region")]
    issuer: Option<String>,

    /// Make `iss` real Cognito's: https://cognito-idp.{region}.amazonaws.com/{poolId}, or with
    /// LOCAL_COGNITO_ISSUER_FORM=updated https://issuer-cognito-idp.{region}.amazonaws.com/{poolId}.
    #[arg(long, env = "LOCAL_COGNITO_REGION")]
    region: Option<String>,

    /// Which of the pool's two issuers tokens carry (Cognito's IssuerConfiguration): `original`
    /// (http://LISTEN_ADDR/{poolId}) or `updated` (http://LISTEN_ADDR/issuer/{poolId}); the JWKS
    /// and discovery document of both are always served.
    #[arg(
        long,
        env = "LOCAL_COGNITO_ISSUER_FORM",
        default_value = "original",
        value_parser = ["original", "updated"],
        conflicts_with = "issuer"
    )]
    issuer_form: String,

    /// App clients as CLIENT_ID:CLIENT_SECRET:SCOPE[,SCOPE...]; repeat the flag, or separate
    /// them with `;` in the variable.
    #[arg(
        long = "client",
        env = "LOCAL_COGNITO_CLIENTS",
        value_delimiter = ';',
        value_name = "ID:SECRET:SCOPES",
        hide_env_values = true,
        value_parser = AppClient::parse_spec
    )]
    clients: Vec<AppClient>,

    /// The admin API's request quota (requests per second, all operations together) above which
    /// it answers 400 TooManyRequestsException, as Cognito throttles; unset for none.
    #[arg(
        long,
        env = "LOCAL_COGNITO_ADMIN_RATE_LIMIT",
        value_name = "REQUESTS_PER_SECOND"
    )]
    admin_rate_limit: Option<f64>,

    /// Lifetime of access tokens (`expires_in`) of clients without AccessTokenValidity, e.g.
    /// 1h, 5m, 30s.
    #[arg(long, env = "TOKEN_LIFETIME", default_value = "1h", value_parser = humantime::parse_duration)]
    token_lifetime: Duration,

    /// LOG_LEVEL and LOG_FORMAT (text by default), as every binary of this project reads them.
    #[command(flatten)]
    log: telemetry::LogArgs,
}

/// Its logs go to standard error, as text, beside the lines it prints for the person running it.
const LOGS: telemetry::Defaults = telemetry::Defaults {
    level: "info",
    format: telemetry::LogFormat::Text,
    output: telemetry::LogOutput::Stderr,
};

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Err(error) = telemetry::init("local-cognito", env!("CARGO_PKG_VERSION"), &cli.log, LOGS)
    {
        eprintln!("local-cognito: {error}");
        return std::process::ExitCode::from(2);
    }
    eprintln!("local-cognito: {NOT_FOR_PRODUCTION}");
    if !cli.listen_addr.ip().is_loopback() {
        eprintln!(
            "local-cognito: warning: LISTEN_ADDR {} is not a loopback address",
            cli.listen_addr
        );
    }
    if cli.clients.is_empty() {
        eprintln!(
            "local-cognito: no app client: set LOCAL_COGNITO_CLIENTS (or --client) to \
             CLIENT_ID:CLIENT_SECRET:SCOPE[,SCOPE...]"
        );
        return std::process::ExitCode::from(2);
    }
    let mut config = Config::new(cli.user_pool_id, cli.clients);
    config.token_lifetime = cli.token_lifetime;
    config.admin_requests_per_second = cli.admin_rate_limit;
    if let Some(rate) = cli.admin_rate_limit
        && !(rate.is_finite() && rate > 0.0)
    {
        eprintln!(
            "local-cognito: LOCAL_COGNITO_ADMIN_RATE_LIMIT (--admin-rate-limit) must be a \
             positive number of requests per second, not {rate}"
        );
        return std::process::ExitCode::from(2);
    }
    config.issuer = match (cli.issuer, cli.region) {
        (Some(url), _) => IssuerUrl::Explicit(url),
        (None, Some(region)) => IssuerUrl::Region(region),
        (None, None) => IssuerUrl::Local,
    };
    if cli.issuer_form == "updated" {
        config.issuer_form = IssuerForm::Updated;
    }
    if let Err(error) = config.validate() {
        eprintln!("local-cognito: invalid configuration: {error}");
        return std::process::ExitCode::from(2);
    }
    for client in &config.clients {
        eprintln!(
            "local-cognito: client {} may request: {}",
            client.client_id,
            client.allowed_scopes.join(" ")
        );
    }
    let listener = match TcpListener::bind(cli.listen_addr) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, address = %cli.listen_addr, "cannot listen on LISTEN_ADDR");
            return std::process::ExitCode::FAILURE;
        }
    };
    // The bound address, not the asked one: LISTEN_ADDR may name port 0.
    let base_url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(error) => {
            eprintln!("local-cognito: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let issuer = match local_cognito::issuer::Issuer::new(config, &base_url) {
        Ok(issuer) => std::sync::Arc::new(issuer),
        Err(error) => {
            eprintln!("local-cognito: invalid configuration: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    eprintln!("local-cognito: issuer         {}", issuer.issuer_url());
    eprintln!("local-cognito: token endpoint {}", issuer.token_endpoint());
    eprintln!("local-cognito: JWKS           {}", issuer.jwks_uri());
    eprintln!(
        "local-cognito: admin API      {}/ (AWS_ENDPOINT_URL)",
        issuer.base_url()
    );
    let server = match local_cognito::serve(issuer, listener) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("local-cognito: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match server.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("local-cognito: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
