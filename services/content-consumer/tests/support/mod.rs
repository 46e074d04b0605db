//! Test environment: a local Cognito-style token endpoint minting real RS256 tokens (and serving
//! their JWKS), a real premium-content started in-process, and content-consumer itself.
//!
//! The token endpoint counts requests and can fail with 500, hang, or reject a wrong secret with
//! Cognito's `{"error":"invalid_client"}`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use clap::Parser;
use local_cognito::client_auth::decode_basic;
use local_cognito::keys::{SigningKey, jwks_document};
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "1example23456789";
pub const POOL: &str = "us-east-1_Test";
pub const READ: &str = "premium_api/read";
pub const WRITE: &str = "premium_api/write";

/// What the token endpoint does with the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Fail500,
    Hang,
}

pub struct CognitoState {
    key: SigningKey,
    issuer: String,
    secret: Mutex<String>,
    mode: Mutex<Mode>,
    lifetime_secs: AtomicU64,
    /// Tokens still to mint with a wrong `token_use`, so premium content rejects them.
    bad_tokens: AtomicUsize,
    requests: AtomicUsize,
    issued: AtomicUsize,
    delay_ms: AtomicU64,
    seen_secrets: Mutex<Vec<String>>,
}

/// The local token endpoint and JWKS; stopped when dropped.
pub struct FakeCognito {
    pub state: Arc<CognitoState>,
    pub base: String,
    handle: ServerHandle,
}

impl Drop for FakeCognito {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

impl FakeCognito {
    pub async fn start(secret: &str, lifetime_secs: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(CognitoState {
            key: SigningKey::generate("test-key-1"),
            issuer: format!("{base}/{POOL}"),
            secret: Mutex::new(secret.to_owned()),
            mode: Mutex::new(Mode::Normal),
            lifetime_secs: AtomicU64::new(lifetime_secs),
            bad_tokens: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            issued: AtomicUsize::new(0),
            delay_ms: AtomicU64::new(0),
            seen_secrets: Mutex::new(Vec::new()),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/oauth2/token", web::post().to(token))
                .route(
                    &format!("/{POOL}/.well-known/jwks.json"),
                    web::get().to(jwks),
                )
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            state,
            base,
            handle,
        }
    }

    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.base)
    }

    pub fn issuer(&self) -> String {
        self.state.issuer.clone()
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.state.issuer)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    pub fn set_secret(&self, secret: &str) {
        *self.state.secret.lock().unwrap() = secret.to_owned();
    }

    pub fn set_delay(&self, delay: Duration) {
        self.state
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn mint_bad_tokens(&self, count: usize) {
        self.state.bad_tokens.store(count, Ordering::SeqCst);
    }

    /// Token requests received (whatever their outcome).
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Tokens issued.
    pub fn issued(&self) -> usize {
        self.state.issued.load(Ordering::SeqCst)
    }

    /// The client secrets of all requests, in order.
    pub fn state_secrets(&self) -> Vec<String> {
        self.state.seen_secrets.lock().unwrap().clone()
    }

    /// The client secret of the last request.
    pub fn last_secret(&self) -> Option<String> {
        self.state.seen_secrets.lock().unwrap().last().cloned()
    }
}

fn oauth_error(code: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": code }))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn token(state: web::Data<CognitoState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mode = *state.mode.lock().unwrap();
    match mode {
        Mode::Normal => {}
        Mode::Fail500 => return HttpResponse::InternalServerError().body("internal error"),
        Mode::Hang => futures::future::pending::<()>().await,
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error("unsupported_grant_type");
    }
    // Read as Cognito (and local-cognito) read it.
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| decode_basic(v).ok().flatten());
    let Some((id, secret)) = basic else {
        return oauth_error("invalid_client");
    };
    state.seen_secrets.lock().unwrap().push(secret.clone());
    if id != CLIENT_ID || secret != *state.secret.lock().unwrap() {
        return oauth_error("invalid_client");
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    if scope.split_whitespace().any(|s| s != READ && s != WRITE) {
        return oauth_error("invalid_scope");
    }
    let n = state.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let bad = state
        .bad_tokens
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
        .is_ok();
    let lifetime = state.lifetime_secs.load(Ordering::SeqCst);
    let now = now_secs();
    let claims = json!({
        "sub": CLIENT_ID,
        "token_use": if bad { "id" } else { "access" },
        "scope": scope,
        "auth_time": now,
        "iss": state.issuer,
        "exp": now + lifetime,
        "iat": now,
        "version": 2,
        "jti": format!("jti-{n}"),
        "client_id": CLIENT_ID,
    });
    HttpResponse::Ok().json(json!({
        "access_token": state.key.sign(&claims),
        "expires_in": lifetime,
        "token_type": "Bearer",
    }))
}

async fn jwks(state: web::Data<CognitoState>) -> HttpResponse {
    HttpResponse::Ok().json(jwks_document([&state.key]))
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
pub async fn start_premium(cognito: &FakeCognito) -> Service {
    let config = premium_content::Config::try_parse_from([
        "premium-content",
        "--listen-addr",
        "127.0.0.1:0",
        "--cognito-issuer",
        &cognito.issuer(),
        "--cognito-jwks-url",
        &cognito.jwks_url(),
    ])
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = premium_content::start(config, listener).await.unwrap();
    let service = spawn(server, base);
    wait_ready(&service.url("/readyz")).await;
    service
}

/// content-consumer with `args` (flags, as in `--help`) added to `--premium-api-url`.
pub async fn start_consumer(premium_api_url: &str, args: &[&str]) -> Service {
    let mut all = vec![
        "content-consumer".to_owned(),
        "--premium-api-url".to_owned(),
        premium_api_url.to_owned(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    let config = content_consumer::Config::try_parse_from(all).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = content_consumer::start(config, listener).await.unwrap();
    spawn(server, base)
}

/// content-consumer with credentials from the environment-variable flags.
pub async fn consumer_with_env_credentials(
    premium_api_url: &str,
    cognito: &FakeCognito,
    secret: &str,
    extra: &[&str],
) -> Service {
    let token_url = cognito.token_url();
    let mut args = vec![
        "--cognito-client-id",
        CLIENT_ID,
        "--cognito-client-secret",
        secret,
        "--cognito-token-url",
        &token_url,
    ];
    args.extend_from_slice(extra);
    start_consumer(premium_api_url, &args).await
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

/// A loopback URL where nothing listens.
pub fn closed_url(path: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// A fresh temporary folder.
pub fn temp_dir(name: &str) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "content-consumer-{name}-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `values` as a new Secret payload and swaps `..data` to it atomically, as the kubelet
/// does; the visible names are symlinks through `..data`.
pub fn kubelet_write(dir: &Path, values: &[(&str, &str)]) {
    use std::os::unix::fs::symlink;
    static VERSION: AtomicUsize = AtomicUsize::new(0);
    let payload = format!(
        "..2026_11_25_10_00_00.{:09}",
        VERSION.fetch_add(1, Ordering::SeqCst)
    );
    std::fs::create_dir(dir.join(&payload)).unwrap();
    for (key, value) in values {
        std::fs::write(dir.join(&payload).join(key), value).unwrap();
    }
    let old = std::fs::read_link(dir.join("..data")).ok();
    symlink(&payload, dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    for (key, _) in values {
        let link = dir.join(key);
        if std::fs::symlink_metadata(&link).is_err() {
            symlink(Path::new("..data").join(key), &link).unwrap();
        }
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(dir.join(old)).unwrap();
    }
}
