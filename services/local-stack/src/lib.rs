//! Development only: the whole machine-to-machine flow in one process on loopback.
//!
//! [`launch`] starts the embedded Cognito-compatible issuer (`local-cognito`, never for
//! production), premium-content and content-consumer, each on its own 127.0.0.1 listener, wired
//! together exactly as in AWS: content-consumer gets client-credentials tokens from the issuer's
//! `/oauth2/token`, premium-content verifies them against the pool's JWKS. [`Stack::demo`] then
//! makes the seed's three calls.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::time::{Duration, Instant};
use telemetry::shutdown::ShutdownSettings;

use actix_web::dev::{Server, ServerHandle};
use cognito_auth::scopes::ResourceScopes;
use cognito_auth::trusted_issuers::IssuerJwks;
use local_cognito::issuer::{AppClient, Config as IssuerConfig};
use rand::RngCore;
use tokio::task::JoinHandle;

/// The pool the local issuer pretends to be.
pub const USER_POOL_ID: &str = "us-east-1_LocalStack1";
/// The app client content-consumer authenticates as.
pub const CLIENT_ID: &str = "localstackconsumer";
/// The resource server whose scopes protect premium content.
pub const RESOURCE_SERVER: &str = "premium_api";

/// The three consumer paths of the seed, with the answer each must give.
pub const SEED_CALLS: [(&str, u16, &str); 3] = [
    (
        "/content/unauthorized-read",
        401,
        r#"{"message":"Unauthorized"}"#,
    ),
    (
        "/content/authorized-read",
        200,
        r#"{"message":"Premium Content: OAuth Scope: Read"}"#,
    ),
    (
        "/content/authorized-write",
        200,
        r#"{"message":"Premium Content: OAuth Scope: Write"}"#,
    ),
];

/// Where the three services listen; port 0 picks a free port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// The issuer's port.
    pub issuer: u16,
    /// premium-content's port.
    pub premium: u16,
    /// content-consumer's port.
    pub consumer: u16,
}

impl Ports {
    /// Every port chosen by the system.
    pub const ANY: Self = Self {
        issuer: 0,
        premium: 0,
        consumer: 0,
    };
}

/// Why the stack could not start or answer.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// No listener on loopback.
    #[error("cannot listen on 127.0.0.1: {0}")]
    Listen(#[source] std::io::Error),
    /// The issuer did not start.
    #[error("local-cognito: {0}")]
    Issuer(#[from] local_cognito::issuer::StartError),
    /// premium-content's configuration or start failed.
    #[error("premium-content: {0}")]
    Premium(String),
    /// content-consumer's configuration or start failed.
    #[error("content-consumer: {0}")]
    Consumer(String),
    /// premium-content did not load the signing keys in time.
    #[error("premium-content was not ready within {0:?}")]
    NotReady(Duration),
    /// A server stopped with an I/O error (or its task panicked) instead of a clean stop.
    #[error("a server failed: {0}")]
    Server(#[source] std::io::Error),
    /// A demo call failed at the HTTP level.
    #[error("calling {url}: {source}")]
    Call {
        /// The URL called.
        url: String,
        /// What failed.
        #[source]
        source: reqwest::Error,
    },
}

/// The running stack: three servers in this process.
#[derive(Debug)]
pub struct Stack {
    /// The issuer's `iss`.
    pub issuer_url: String,
    /// The issuer's token endpoint.
    pub token_endpoint: String,
    /// premium-content's base URL.
    pub premium_base: String,
    /// content-consumer's base URL.
    pub consumer_base: String,
    handles: Vec<ServerHandle>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
    http: reqwest::Client,
}

/// One demo call and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCall {
    /// The URL called.
    pub url: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The body answered.
    pub body: String,
    /// Whether status and body are the seed's.
    pub as_expected: bool,
}

/// Binds `port` on 127.0.0.1; a busy fixed port falls back to a free one, since the URLs are
/// printed anyway.
fn bind(port: u16) -> Result<TcpListener, StackError> {
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    TcpListener::bind(addr)
        .or_else(|error| {
            if port == 0 {
                Err(error)
            } else {
                tracing::warn!(port, %error, "port busy, using a free one");
                TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
            }
        })
        .map_err(StackError::Listen)
}

fn address(listener: &TcpListener) -> Result<SocketAddr, StackError> {
    listener.local_addr().map_err(StackError::Listen)
}

/// A fresh random client secret for this run only; never printed.
fn random_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts the issuer, premium-content and content-consumer on loopback and waits until
/// premium-content has the signing keys. Must be called within a tokio runtime.
pub async fn launch(ports: Ports) -> Result<Stack, StackError> {
    let issuer_listener = bind(ports.issuer)?;
    let premium_listener = bind(ports.premium)?;
    let consumer_listener = bind(ports.consumer)?;
    let issuer_base = format!("http://{}", address(&issuer_listener)?);
    let premium_base = format!("http://{}", address(&premium_listener)?);
    let consumer_base = format!("http://{}", address(&consumer_listener)?);

    let secret = random_secret();
    let ResourceScopes { read, write } = resource_scopes();
    let issuer_config = IssuerConfig::new(
        USER_POOL_ID,
        vec![AppClient::new(CLIENT_ID, secret.clone(), [read, write])],
    );
    let issuer_url = format!("{issuer_base}/{USER_POOL_ID}");
    let token_endpoint = format!("{issuer_base}/oauth2/token");
    let issuer = local_cognito::issuer::start(issuer_config, issuer_listener).await?;

    let premium = premium_content::start(premium_settings(&issuer_url), premium_listener)
        .await
        .map_err(|e| StackError::Premium(e.to_string()))?;

    let consumer_settings = consumer_settings(&premium_base, &token_endpoint, secret)?;
    let consumer = content_consumer::start(consumer_settings, consumer_listener)
        .await
        .map_err(|e| StackError::Consumer(e.to_string()))?;

    let (handles, servers) = [issuer, premium, consumer].map(spawn).into_iter().unzip();
    let stack = Stack {
        issuer_url,
        token_endpoint,
        premium_base,
        consumer_base,
        handles,
        servers,
        http: reqwest::Client::new(),
    };
    stack.wait_until_ready(Duration::from_secs(20)).await?;
    Ok(stack)
}

/// Runs `server` on the runtime; its handle stops it, the task ends once it has stopped.
fn spawn(server: Server) -> (ServerHandle, JoinHandle<std::io::Result<()>>) {
    (server.handle(), tokio::spawn(server))
}

/// premium-content's settings: the local issuer, its JWKS at the default place, the scopes of
/// [`RESOURCE_SERVER`], and only [`CLIENT_ID`] allowed.
fn premium_settings(issuer_url: &str) -> premium_content::Settings {
    premium_content::Settings {
        scopes: resource_scopes(),
        client_ids: vec![CLIENT_ID.to_owned()],
        // No load balancer has to drop a process on a laptop: Ctrl-C stops accepting at once.
        shutdown: ShutdownSettings::IMMEDIATE,
        ..premium_content::Settings::new(vec![IssuerJwks::at_default_place(issuer_url)])
    }
}

/// The read and write scopes of [`RESOURCE_SERVER`].
fn resource_scopes() -> ResourceScopes {
    ResourceScopes::of(RESOURCE_SERVER)
}

/// content-consumer's settings: fixed credentials of [`CLIENT_ID`] with `secret`, tokens from the
/// local issuer's `token_endpoint`, the scopes of [`RESOURCE_SERVER`].
fn consumer_settings(
    premium_base: &str,
    token_endpoint: &str,
    secret: String,
) -> Result<content_consumer::Settings, StackError> {
    let url = |value: &str| {
        value
            .parse::<reqwest::Url>()
            .map_err(|e| StackError::Consumer(format!("{value}: {e}")))
    };
    let credentials = content_consumer::CredentialsSource::Fixed {
        client_id: CLIENT_ID.to_owned(),
        client_secret: content_consumer::ClientSecret(secret),
    };
    Ok(content_consumer::Settings {
        token_url: Some(url(token_endpoint)?),
        scopes: resource_scopes(),
        shutdown: ShutdownSettings::IMMEDIATE,
        ..content_consumer::Settings::new(
            url(&format!("{premium_base}/home/premium"))?,
            credentials,
        )
    })
}

impl Stack {
    async fn wait_until_ready(&self, limit: Duration) -> Result<(), StackError> {
        let deadline = Instant::now() + limit;
        let url = format!("{}/readyz", self.premium_base);
        loop {
            if let Ok(response) = self.http.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(StackError::NotReady(limit));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The consumer URLs of the seed's three calls.
    pub fn demo_urls(&self) -> Vec<String> {
        SEED_CALLS
            .iter()
            .map(|(path, _, _)| format!("{}{path}", self.consumer_base))
            .collect()
    }

    /// Makes the seed's three calls to content-consumer and returns each answer.
    pub async fn demo(&self) -> Result<Vec<DemoCall>, StackError> {
        let mut calls = Vec::new();
        for (url, (_, status, body)) in self.demo_urls().into_iter().zip(SEED_CALLS) {
            let call_error = |source| StackError::Call {
                url: url.clone(),
                source,
            };
            let response = self.http.get(&url).send().await.map_err(call_error)?;
            let got_status = response.status().as_u16();
            let got_body = response.text().await.map_err(call_error)?;
            let as_expected = got_status == status && same_json(&got_body, body);
            calls.push(DemoCall {
                url,
                status: got_status,
                body: got_body,
                as_expected,
            });
        }
        Ok(calls)
    }

    /// What to type to try it by hand.
    pub fn curl_commands(&self) -> Vec<String> {
        let mut commands: Vec<String> = self
            .demo_urls()
            .into_iter()
            .map(|url| format!("curl -s {url}"))
            .collect();
        commands.push(format!(
            "curl -si {}/home/premium    # premium content itself, without a token: 401 and WWW-Authenticate",
            self.premium_base
        ));
        commands.push(format!(
            "curl -s {}/.well-known/openid-configuration",
            self.issuer_url
        ));
        commands
    }

    /// Stops the three servers, letting requests in flight finish.
    pub async fn stop(self) {
        for handle in &self.handles {
            handle.stop(true).await;
        }
        // Already stopped: only their outcome is left, and a stopped server has nothing to add.
        drop(self.stopped().await);
    }

    /// Waits until the three servers have stopped, which they do by themselves on a stop
    /// request, as premium-content and content-consumer do when run alone (actix-web's signal
    /// handling): on SIGTERM (`docker stop`, systemd, `timeout`, CI runners) they stop
    /// accepting and let requests in flight finish (premium-content waits up to 20 s, the
    /// issuer 2 s); on SIGINT (Ctrl-C) they stop at once. Either way the ports are released.
    ///
    /// Errors: the first server that failed (its I/O error), or one whose task panicked.
    pub async fn stopped(self) -> Result<(), StackError> {
        let mut outcome = Ok(());
        for server in self.servers {
            let result = match server.await {
                Ok(result) => result,
                Err(join) => Err(std::io::Error::other(join)),
            };
            if let (Ok(()), Err(error)) = (&outcome, result) {
                outcome = Err(StackError::Server(error));
            }
        }
        outcome
    }
}

/// Whether two bodies are the same JSON (key order and spacing aside).
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_json_ignores_formatting_only() {
        assert!(same_json(r#"{"message": "x"}"#, r#"{"message":"x"}"#));
        assert!(!same_json(r#"{"message":"y"}"#, r#"{"message":"x"}"#));
        assert!(!same_json("not json", "not json"));
    }

    #[test]
    fn a_busy_fixed_port_falls_back_to_a_free_one() {
        let busy = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = busy.local_addr().unwrap().port();
        let other = bind(port).unwrap();
        assert_ne!(other.local_addr().unwrap().port(), port);
        assert!(other.local_addr().unwrap().ip().is_loopback());
    }

    #[test]
    fn the_services_agree_on_issuer_client_and_scopes() {
        let issuer = format!("http://127.0.0.1:1/{USER_POOL_ID}");
        let premium = premium_settings(&issuer);
        let consumer = consumer_settings(
            "http://127.0.0.1:2",
            "http://127.0.0.1:1/oauth2/token",
            "s".into(),
        )
        .unwrap();
        assert_eq!(premium.issuers, [IssuerJwks::at_default_place(&issuer)]);
        assert_eq!(premium.client_ids, [CLIENT_ID]);
        assert_eq!(premium.scopes, consumer.scopes);
        assert_eq!(consumer.scopes.read, "premium_api/read");
        assert_eq!(
            consumer.premium_api_url.as_str(),
            "http://127.0.0.1:2/home/premium"
        );
        assert_eq!(
            consumer.token_url.map(String::from).as_deref(),
            Some("http://127.0.0.1:1/oauth2/token")
        );
    }

    #[test]
    fn secrets_are_fresh() {
        assert_ne!(random_secret(), random_secret());
        assert_eq!(random_secret().len(), 48);
    }
}
