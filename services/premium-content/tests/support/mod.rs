//! Test fixtures: a running premium-content, token minting, and (from local-cognito) a JWKS
//! server whose document and health the test controls and whose requests it counts.

#![allow(dead_code)]

use std::net::TcpListener;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::dev::ServerHandle;
use cognito_auth::trusted_issuers::IssuerJwks;
use premium_content::Settings;
use serde_json::{Value, json};

/// The user pool the tests pretend to be.
pub const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Premium";
/// An app client allowed by default.
pub const CLIENT: &str = "client-premium";

/// A running premium-content.
pub struct Premium {
    pub base: String,
    handle: ServerHandle,
}

/// Settings trusting [`ISSUER`] with its keys at `jwks_url`, every other value at its default.
pub fn settings(jwks_url: &str) -> Settings {
    Settings::new(vec![IssuerJwks {
        issuer: ISSUER.into(),
        jwks_url: jwks_url.into(),
    }])
}

impl Premium {
    /// Starts premium-content with `settings`.
    pub async fn start(settings: Settings) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = premium_content::start(settings, listener).await.unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        Self { base, handle }
    }

    /// Starts it and waits until `/readyz` says the keys are loaded.
    pub async fn start_ready(settings: Settings) -> Self {
        let premium = Self::start(settings).await;
        premium.wait_ready().await;
        premium
    }

    /// Waits (up to 10 s) for readiness.
    pub async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let status = client
                .get(format!("{}/readyz", self.base))
                .send()
                .await
                .unwrap()
                .status();
            if status == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("premium-content never became ready");
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server gracefully.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// Seconds since the epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        .floor()
}

/// The claims of a Cognito client-credentials access token for `scope`.
pub fn claims(scope: &str) -> Value {
    let now = now();
    json!({
        "sub": CLIENT,
        "token_use": "access",
        "scope": scope,
        "auth_time": now,
        "iss": ISSUER,
        "exp": now + 3600.0,
        "iat": now,
        "version": 2,
        "jti": "3f2b8d9e-1111-4222-8333-444455556666",
        "client_id": CLIENT,
    })
}

/// A response's status, `WWW-Authenticate` challenge and body.
pub struct Response {
    pub status: u16,
    pub challenge: Option<String>,
    pub body: String,
}

impl Response {
    /// Reads `response` to its end.
    pub async fn of(response: reqwest::Response) -> Response {
        Response {
            status: response.status().as_u16(),
            challenge: response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned()),
            body: response.text().await.unwrap(),
        }
    }
}

/// Sends `method` to `url` with an optional raw `Authorization` value.
pub async fn send(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    auth: Option<&str>,
) -> Response {
    let mut request = client.request(method.parse().unwrap(), url);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    Response::of(request.send().await.unwrap()).await
}
