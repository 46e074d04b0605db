//! Token client and token cache against a local token endpoint that counts requests and can fail,
//! hang, answer garbage or reject the client like Cognito does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use cognito_auth::clock::ManualClock;
use cognito_auth::credentials::{ClientCredentials, CredentialsProvider};
use cognito_auth::token_cache::{CachePolicy, TokenCache, TokenCacheError};
use cognito_auth::token_client::{OAuthErrorCode, TokenClient, TokenError};
use local_cognito::client_auth::decode_basic;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    Fail500,
    Hang,
    NotJson,
}

#[derive(Debug)]
struct Endpoint {
    client_id: String,
    secret: Mutex<String>,
    allowed_scopes: Vec<String>,
    lifetime_secs: u64,
    mode: Mutex<Mode>,
    delay: Duration,
    requests: AtomicUsize,
    issued: AtomicUsize,
    last_form: Mutex<HashMap<String, String>>,
    last_credentials: Mutex<Option<(String, String)>>,
    /// `content-type` and `accept` of the last request.
    last_headers: Mutex<(String, String)>,
}

/// The local token endpoint; stopped when dropped.
struct FakeCognito {
    state: Arc<Endpoint>,
    url: String,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for FakeCognito {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

impl FakeCognito {
    async fn start(lifetime_secs: u64, delay: Duration) -> Self {
        let state = Arc::new(Endpoint {
            client_id: "client-1".into(),
            secret: Mutex::new("secret-1".into()),
            allowed_scopes: vec!["api/read".into(), "api/write".into()],
            lifetime_secs,
            mode: Mutex::new(Mode::Normal),
            delay,
            requests: AtomicUsize::new(0),
            issued: AtomicUsize::new(0),
            last_form: Mutex::new(HashMap::new()),
            last_credentials: Mutex::new(None),
            last_headers: Mutex::default(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/oauth2/token", listener.local_addr().unwrap());
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/oauth2/token", web::post().to(token))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { state, url, handle }
    }

    fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    fn credentials(&self, secret: &str) -> ClientCredentials {
        ClientCredentials {
            client_id: self.state.client_id.clone(),
            client_secret: secret.into(),
            token_endpoint: Some(self.url.clone()),
            scopes: vec![],
            issuer: None,
            user_pool_id: None,
        }
    }
}

fn oauth_error(code: &str) -> HttpResponse {
    // Cognito answers 400 (not 401) with just the code.
    HttpResponse::BadRequest().json(serde_json::json!({ "error": code }))
}

async fn token(state: web::Data<Endpoint>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    state.requests.fetch_add(1, Ordering::SeqCst);
    if !state.delay.is_zero() {
        tokio::time::sleep(state.delay).await;
    }
    let mode = *state.mode.lock().unwrap();
    match mode {
        Mode::Normal => {}
        Mode::Fail500 => return HttpResponse::InternalServerError().body("internal error"),
        Mode::Hang => futures::future::pending::<()>().await,
        Mode::NotJson => {
            return HttpResponse::Ok()
                .content_type("text/html")
                .body("<html>sign in</html>");
        }
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    *state.last_form.lock().unwrap() = form.clone();
    // Read as Cognito (and local-cognito) read it.
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| decode_basic(v).ok().flatten());
    *state.last_credentials.lock().unwrap() = basic.clone();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    *state.last_headers.lock().unwrap() = (header("content-type"), header("accept"));
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error("unsupported_grant_type");
    }
    match basic {
        Some((id, secret)) if id == state.client_id && secret == *state.secret.lock().unwrap() => {}
        _ => return oauth_error("invalid_client"),
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    if scope
        .split_whitespace()
        .any(|s| !state.allowed_scopes.iter().any(|a| a == s))
    {
        return oauth_error("invalid_scope");
    }
    let n = state.issued.fetch_add(1, Ordering::SeqCst) + 1;
    HttpResponse::Ok().json(serde_json::json!({
        "access_token": format!("token-{n}"),
        "expires_in": state.lifetime_secs,
        "token_type": "Bearer",
    }))
}

fn quick_policy() -> CachePolicy {
    CachePolicy {
        attempt_timeout: Duration::from_millis(400),
        deadline: Duration::from_millis(1200),
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(80),
        ..CachePolicy::default()
    }
}

fn cache(fake: &FakeCognito, clock: &Arc<ManualClock>, policy: CachePolicy) -> TokenCache {
    TokenCache::builder(
        TokenClient::new(reqwest::Client::new()),
        CredentialsProvider::fixed(fake.credentials("secret-1")),
    )
    .policy(policy)
    .clock(clock.clone())
    .build()
}

fn read() -> Vec<String> {
    vec!["api/read".to_owned()]
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_a_client_credentials_request_with_basic_auth() {
    let fake = FakeCognito::start(3600, Duration::ZERO).await;
    let client = TokenClient::new(reqwest::Client::new());
    let token = client
        .request_token(
            &fake.url,
            &fake.credentials("secret-1"),
            &["api/read".into(), "api/write".into()],
            Duration::from_secs(2),
        )
        .await
        .unwrap();
    assert_eq!(token.access_token.expose(), "token-1");
    assert_eq!(token.expires_in, Duration::from_secs(3600));
    let form = fake.state.last_form.lock().unwrap().clone();
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "api/read api/write");
    assert!(
        !form.contains_key("client_secret"),
        "the secret goes in the header only"
    );
    assert_eq!(
        fake.state.last_credentials.lock().unwrap().clone(),
        Some(("client-1".into(), "secret-1".into()))
    );
    // Cognito's token endpoint: the body "must always be application/x-www-form-urlencoded";
    // the answer is JSON.
    assert_eq!(
        fake.state.last_headers.lock().unwrap().clone(),
        (
            "application/x-www-form-urlencoded".to_owned(),
            "application/json".to_owned()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_errors_for_each_kind_of_failure() {
    let fake = FakeCognito::start(3600, Duration::ZERO).await;
    let client = TokenClient::new(reqwest::Client::new());
    let ask = |secret: &'static str, scope: &'static str| {
        let client = client.clone();
        let creds = fake.credentials(secret);
        let url = fake.url.clone();
        async move {
            client
                .request_token(&url, &creds, &[scope.into()], Duration::from_millis(500))
                .await
        }
    };
    let wrong_secret = ask("nope", "api/read").await.unwrap_err();
    assert!(matches!(
        wrong_secret,
        TokenError::OAuth {
            code: OAuthErrorCode::InvalidClient,
            status: 400,
            ..
        }
    ));
    let bad_scope = ask("secret-1", "api/delete").await.unwrap_err();
    assert!(matches!(
        bad_scope,
        TokenError::OAuth {
            code: OAuthErrorCode::InvalidScope,
            ..
        }
    ));
    fake.set_mode(Mode::NotJson);
    let garbage = ask("secret-1", "api/read").await.unwrap_err();
    assert!(matches!(
        garbage,
        TokenError::InvalidResponse { status: 200, .. }
    ));
    fake.set_mode(Mode::Fail500);
    let failed = ask("secret-1", "api/read").await.unwrap_err();
    assert_eq!(failed, TokenError::ServerError { status: 500 });
    fake.set_mode(Mode::Hang);
    let started = Instant::now();
    let hung = ask("secret-1", "api/read").await.unwrap_err();
    assert!(matches!(hung, TokenError::Timeout(_)));
    assert!(started.elapsed() < Duration::from_secs(2));
    // Nothing listens on a port just released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/oauth2/token", closed.local_addr().unwrap());
    drop(closed);
    let err = client
        .request_token(&url, &fake.credentials("s"), &[], Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::Unreachable(_)), "{err:?}");
    assert!(!err.to_string().contains("secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_calls_cost_one_token_request() {
    let fake = FakeCognito::start(3600, Duration::ZERO).await;
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&fake, &clock, quick_policy());
    for _ in 0..1000 {
        let token = cache.get(&read()).await.unwrap();
        assert_eq!(token.expose(), "token-1");
    }
    assert_eq!(fake.requests(), 1);
    // Scope order does not make a different entry; another scope set does.
    cache
        .get(&["api/write".into(), "api/read".into()])
        .await
        .unwrap();
    cache
        .get(&["api/read".into(), "api/write".into()])
        .await
        .unwrap();
    assert_eq!(fake.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_burst_of_fifty_costs_one_request() {
    let fake = FakeCognito::start(3600, Duration::from_millis(200)).await;
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&fake, &clock, quick_policy());
    let calls = (0..50).map(|_| {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get(&read()).await })
    });
    let tokens = futures::future::join_all(calls).await;
    for token in tokens {
        assert_eq!(token.unwrap().unwrap().expose(), "token-1");
    }
    assert_eq!(fake.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renews_inside_the_margin_without_a_failed_call() {
    // Lifetime 100 s: renewal margin is 10 s (10 %, below 60 s).
    let fake = FakeCognito::start(100, Duration::from_millis(50)).await;
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&fake, &clock, quick_policy());
    assert_eq!(cache.get(&read()).await.unwrap().expose(), "token-1");
    clock.advance(Duration::from_secs(89));
    assert_eq!(cache.get(&read()).await.unwrap().expose(), "token-1");
    assert_eq!(fake.requests(), 1, "not renewed before the margin");
    clock.advance(Duration::from_secs(2));
    // Inside the margin: the caller is not kept waiting, the old token serves.
    let started = Instant::now();
    assert_eq!(cache.get(&read()).await.unwrap().expose(), "token-1");
    assert!(started.elapsed() < Duration::from_millis(40));
    wait_for("the background renewal", || {
        fake.state.issued.load(Ordering::SeqCst) == 2
    })
    .await;
    assert_eq!(cache.get(&read()).await.unwrap().expose(), "token-2");
    assert_eq!(fake.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_keeps_serving_while_the_endpoint_fails() {
    let fake = FakeCognito::start(100, Duration::ZERO).await;
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&fake, &clock, quick_policy());
    assert_eq!(cache.get(&read()).await.unwrap().expose(), "token-1");
    fake.set_mode(Mode::Fail500);
    clock.advance(Duration::from_secs(95));
    for _ in 0..20 {
        assert_eq!(cache.get(&read()).await.unwrap().expose(), "token-1");
    }
    // One background renewal with bounded retries (3 attempts), then a cooldown.
    wait_for("the renewal attempts", || fake.requests() == 4).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(cache.get(&read()).await.unwrap().expose(), "token-1");
    assert_eq!(
        fake.requests(),
        4,
        "no renewal storm while the cooldown lasts"
    );
    // Once the token has expired, the failure reaches the caller.
    clock.advance(Duration::from_secs(6));
    let err = cache.get(&read()).await.unwrap_err();
    assert_eq!(
        err,
        TokenCacheError::Token(TokenError::ServerError { status: 500 })
    );
    assert_eq!(fake.requests(), 7, "three more attempts, no more");
    // The endpoint recovers: after the cooldown the next caller gets a token.
    fake.set_mode(Mode::Normal);
    assert!(cache.get(&read()).await.is_err(), "inside the cooldown");
    clock.advance(Duration::from_secs(2));
    assert_eq!(cache.get(&read()).await.unwrap().expose(), "token-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_endpoint_costs_a_caller_at_most_the_deadline() {
    let fake = FakeCognito::start(3600, Duration::ZERO).await;
    fake.set_mode(Mode::Hang);
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&fake, &clock, quick_policy());
    let started = Instant::now();
    let burst = (0..10).map(|_| {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get(&read()).await })
    });
    for result in futures::future::join_all(burst).await {
        assert!(matches!(
            result.unwrap(),
            Err(TokenCacheError::Token(TokenError::Timeout(_)))
        ));
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(1200 + 400),
        "waited {elapsed:?}"
    );
    assert!(fake.requests() <= 3, "{} requests", fake.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_never_retried() {
    let fake = FakeCognito::start(3600, Duration::ZERO).await;
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = TokenCache::builder(
        TokenClient::new(reqwest::Client::new()),
        CredentialsProvider::fixed(fake.credentials("wrong")),
    )
    .policy(quick_policy())
    .clock(clock.clone())
    .build();
    let err = cache.get(&read()).await.unwrap_err();
    assert!(matches!(
        err,
        TokenCacheError::Token(TokenError::OAuth {
            code: OAuthErrorCode::InvalidClient,
            ..
        })
    ));
    assert_eq!(fake.requests(), 1);
    clock.advance(Duration::from_secs(5));
    let err = cache.get(&["api/admin".into()]).await.unwrap_err();
    assert!(matches!(
        err,
        TokenCacheError::Token(TokenError::OAuth { .. })
    ));
    assert_eq!(fake.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidate_drops_only_the_rejected_token() {
    let fake = FakeCognito::start(3600, Duration::ZERO).await;
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&fake, &clock, quick_policy());
    let first = cache.get(&read()).await.unwrap();
    assert!(!cache.invalidate(
        &read(),
        &cognito_auth::token_client::AccessToken::new("other")
    ));
    assert_eq!(cache.get(&read()).await.unwrap(), first);
    assert!(cache.invalidate(&read(), &first));
    let second = cache.get(&read()).await.unwrap();
    assert_eq!(second.expose(), "token-2");
    assert_eq!(fake.requests(), 2);
    // An API rejecting every token does not make every call cost a token request.
    assert!(!cache.invalidate(&read(), &second));
    assert_eq!(cache.get(&read()).await.unwrap(), second);
    assert_eq!(fake.requests(), 2);
    clock.advance(Duration::from_secs(31));
    assert!(cache.invalidate(&read(), &second));
    assert_eq!(cache.get(&read()).await.unwrap().expose(), "token-3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_endpoint_is_a_clear_error() {
    let creds = ClientCredentials {
        client_id: "c".into(),
        client_secret: "s".into(),
        token_endpoint: None,
        scopes: vec![],
        issuer: None,
        user_pool_id: None,
    };
    let cache = TokenCache::builder(
        TokenClient::new(reqwest::Client::new()),
        CredentialsProvider::fixed(creds),
    )
    .build();
    assert_eq!(
        cache.get(&read()).await.unwrap_err(),
        TokenCacheError::NoTokenEndpoint
    );
}
