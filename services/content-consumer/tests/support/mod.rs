//! Test environment: local-cognito minting real RS256 tokens (and serving their JWKS), with
//! faults a test controls, a real premium-content started in-process, and content-consumer
//! itself.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use clap::Parser;
use cognito_auth::trusted_issuers::IssuerJwks;
pub use content_consumer::{ClientSecret, CredentialsSource, Settings};
pub use local_cognito::faults::{Fault, TestIssuer};
use local_cognito::issuer::{AppClient, Config as IssuerConfig};
use serde_json::Value;

pub const CLIENT_ID: &str = "1example23456789";
pub const POOL: &str = "us-east-1_Test";
pub const READ: &str = "premium_api/read";
pub const WRITE: &str = "premium_api/write";

/// local-cognito with one client, [`CLIENT_ID`] with `secret`, allowed [`READ`] and [`WRITE`],
/// issuing tokens that live `lifetime_secs`; its `faults` make it fail, rotate the secret and
/// count requests.
pub fn start_cognito(secret: &str, lifetime_secs: u64) -> TestIssuer {
    let mut config =
        IssuerConfig::new(POOL, vec![AppClient::new(CLIENT_ID, secret, [READ, WRITE])]);
    config.token_lifetime = Duration::from_secs(lifetime_secs);
    TestIssuer::start(config)
}

/// Cognito failing with a 500 and a body that is not JSON.
pub fn internal_error() -> Option<Fault> {
    Some(Fault::status(500, "internal error"))
}

/// A running in-process service; stopped when dropped.
pub struct Service {
    pub base: String,
    handle: ServerHandle,
}

impl Drop for Service {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

impl Service {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn spawn(server: actix_web::dev::Server, base: String) -> Service {
    let handle = server.handle();
    tokio::spawn(server);
    Service { base, handle }
}

/// The real premium-content, trusting `cognito`'s issuer; returns once it is ready.
pub async fn start_premium(cognito: &TestIssuer) -> Service {
    let settings = premium_content::Settings::new(vec![IssuerJwks {
        issuer: cognito.issuer.issuer_url().to_owned(),
        jwks_url: cognito.issuer.jwks_uri(),
    }]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = premium_content::start(settings, listener).await.unwrap();
    let service = spawn(server, base);
    wait_ready(&service.url("/readyz")).await;
    service
}

/// content-consumer with `settings`.
pub async fn start_consumer(settings: Settings) -> Service {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = content_consumer::start(settings, listener).await.unwrap();
    spawn(server, base)
}

/// content-consumer as `main` builds it: `args` (flags, as in `--help`) added to
/// `--premium-api-url`, checked into settings.
pub async fn consumer_from_args(premium_api_url: &str, args: &[&str]) -> Service {
    let mut all = vec!["content-consumer", "--premium-api-url", premium_api_url];
    all.extend_from_slice(args);
    let config = content_consumer::Config::try_parse_from(all).unwrap();
    start_consumer(config.settings().unwrap()).await
}

/// Settings with credentials from the mounted Secret folder `dir`.
pub fn dir_settings(premium_api_url: &str, dir: &Path) -> Settings {
    Settings::new(
        premium_api_url.parse().unwrap(),
        CredentialsSource::Dir(dir.to_owned()),
    )
}

/// Settings with the fixed credentials [`CLIENT_ID`] + `secret` and the token endpoint
/// `token_url`.
pub fn fixed_settings(premium_api_url: &str, token_url: &str, secret: &str) -> Settings {
    let credentials = CredentialsSource::Fixed {
        client_id: CLIENT_ID.into(),
        client_secret: ClientSecret(secret.into()),
    };
    Settings {
        token_url: Some(token_url.parse().unwrap()),
        ..Settings::new(premium_api_url.parse().unwrap(), credentials)
    }
}

/// content-consumer with the fixed credentials [`CLIENT_ID`] + `secret`, getting its tokens
/// from `cognito`.
pub async fn consumer_with_fixed_credentials(
    premium_api_url: &str,
    cognito: &TestIssuer,
    secret: &str,
) -> Service {
    start_consumer(fixed_settings(
        premium_api_url,
        &cognito.token_endpoint(),
        secret,
    ))
    .await
}

pub async fn wait_ready(url: &str) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(r) = reqwest::get(url).await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < until, "{url} never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// GET `url`: status and JSON body.
pub async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}
