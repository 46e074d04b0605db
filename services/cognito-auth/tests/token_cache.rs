//! Token client and token cache against local-cognito's token endpoint, which counts requests and
//! can fail, hang, answer garbage or reject the client like Cognito does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cognito_auth::clock::ManualClock;
use cognito_auth::credentials::{ClientCredentials, CredentialsProvider};
use cognito_auth::token_cache::{CachePolicy, TokenCache, TokenCacheError};
use cognito_auth::token_client::{OAuthErrorCode, TokenClient, TokenError};
use local_cognito::faults::{Fault, TestIssuer};
use local_cognito::issuer::{AppClient, Config};
use test_support::wait_until;

const CLIENT_ID: &str = "client-1";

/// local-cognito with one client, `client-1` / `secret-1`, allowed `api/read` and `api/write`,
/// issuing tokens that live `lifetime_secs`.
fn start_cognito(lifetime_secs: u64) -> TestIssuer {
    let client = AppClient::new(CLIENT_ID, "secret-1", ["api/read", "api/write"]);
    let mut config = Config::new("us-east-1_TokenCache1", vec![client]);
    config.token_lifetime = Duration::from_secs(lifetime_secs);
    TestIssuer::start(config)
}

/// Cognito failing with a 500 and a body that is not JSON.
fn internal_error() -> Option<Fault> {
    Some(Fault::status(500, "internal error"))
}

fn credentials(cognito: &TestIssuer, secret: &str) -> ClientCredentials {
    ClientCredentials {
        client_id: CLIENT_ID.into(),
        client_secret: secret.into(),
        token_endpoint: Some(cognito.token_endpoint()),
        scopes: vec![],
        issuer: None,
        user_pool_id: None,
    }
}

/// The `n`th access token the endpoint issued, counting from 1.
fn issued(cognito: &TestIssuer, n: usize) -> String {
    cognito.faults.issued_tokens()[n - 1].clone()
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

fn cache(cognito: &TestIssuer, clock: &Arc<ManualClock>, policy: CachePolicy) -> TokenCache {
    TokenCache::builder(
        TokenClient::new(reqwest::Client::new()),
        CredentialsProvider::fixed(credentials(cognito, "secret-1")),
    )
    .policy(policy)
    .clock(clock.clone())
    .build()
}

fn read() -> Vec<String> {
    vec!["api/read".to_owned()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_a_client_credentials_request_with_basic_auth() {
    let cognito = start_cognito(3600);
    let client = TokenClient::new(reqwest::Client::new());
    let token = client
        .request_token(
            &cognito.token_endpoint(),
            &credentials(&cognito, "secret-1"),
            &["api/read".into(), "api/write".into()],
            Duration::from_secs(2),
        )
        .await
        .unwrap();
    assert_eq!(token.access_token.expose(), issued(&cognito, 1));
    assert_eq!(token.expires_in, Duration::from_secs(3600));
    let last = cognito.faults.last_request().unwrap();
    assert_eq!(
        last.request.grant_type.as_deref(),
        Some("client_credentials")
    );
    assert_eq!(last.request.scope.as_deref(), Some("api/read api/write"));
    assert!(
        last.request.client_secret.is_none(),
        "the secret goes in the header only"
    );
    // Read as Cognito reads it (local-cognito's one Basic decoder).
    assert_eq!(
        last.request.basic,
        Some(("client-1".into(), "secret-1".into()))
    );
    // Cognito's token endpoint: the body "must always be application/x-www-form-urlencoded";
    // the answer is JSON.
    assert_eq!(
        (last.content_type.as_deref(), last.accept.as_deref()),
        (
            Some("application/x-www-form-urlencoded"),
            Some("application/json")
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_errors_for_each_kind_of_failure() {
    let cognito = start_cognito(3600);
    let client = TokenClient::new(reqwest::Client::new());
    let ask = |secret: &'static str, scope: &'static str| {
        let client = client.clone();
        let creds = credentials(&cognito, secret);
        let url = cognito.token_endpoint();
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
    cognito.faults.set_fault(Some(Fault::Answer {
        status: 200,
        content_type: "text/html".into(),
        body: "<html>sign in</html>".into(),
    }));
    let garbage = ask("secret-1", "api/read").await.unwrap_err();
    assert!(matches!(
        garbage,
        TokenError::InvalidResponse { status: 200, .. }
    ));
    cognito.faults.set_fault(internal_error());
    let failed = ask("secret-1", "api/read").await.unwrap_err();
    assert_eq!(failed, TokenError::ServerError { status: 500 });
    cognito.faults.set_fault(Some(Fault::Hang));
    let started = Instant::now();
    let hung = ask("secret-1", "api/read").await.unwrap_err();
    assert!(matches!(hung, TokenError::Timeout(_)));
    assert!(started.elapsed() < Duration::from_secs(2));
    // A connection closed without an answer, as by a crashed server.
    cognito.faults.set_fault(Some(Fault::DropConnection));
    let dropped = ask("secret-1", "api/read").await.unwrap_err();
    assert!(matches!(dropped, TokenError::Unreachable(_)), "{dropped:?}");
    assert!(dropped.is_transient());
    // Nothing listens on a port just released.
    let url = test_support::closed_url("/oauth2/token");
    let err = client
        .request_token(
            &url,
            &credentials(&cognito, "s"),
            &[],
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::Unreachable(_)), "{err:?}");
    assert!(!err.to_string().contains("secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_calls_cost_one_token_request() {
    let cognito = start_cognito(3600);
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&cognito, &clock, quick_policy());
    for _ in 0..1000 {
        let token = cache.get(&read()).await.unwrap();
        assert_eq!(token.expose(), issued(&cognito, 1));
    }
    assert_eq!(cognito.faults.requests(), 1);
    // Scope order does not make a different entry; another scope set does.
    cache
        .get(&["api/write".into(), "api/read".into()])
        .await
        .unwrap();
    cache
        .get(&["api/read".into(), "api/write".into()])
        .await
        .unwrap();
    assert_eq!(cognito.faults.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_burst_of_fifty_costs_one_request() {
    let cognito = start_cognito(3600);
    cognito.faults.set_delay(Duration::from_millis(200));
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&cognito, &clock, quick_policy());
    let calls = (0..50).map(|_| {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get(&read()).await })
    });
    let tokens = futures::future::join_all(calls).await;
    for token in tokens {
        assert_eq!(token.unwrap().unwrap().expose(), issued(&cognito, 1));
    }
    assert_eq!(cognito.faults.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renews_inside_the_margin_without_a_failed_call() {
    // Lifetime 100 s: renewal margin is 10 s (10 %, below 60 s).
    let cognito = start_cognito(100);
    cognito.faults.set_delay(Duration::from_millis(50));
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&cognito, &clock, quick_policy());
    assert_eq!(
        cache.get(&read()).await.unwrap().expose(),
        issued(&cognito, 1)
    );
    clock.advance(Duration::from_secs(89));
    assert_eq!(
        cache.get(&read()).await.unwrap().expose(),
        issued(&cognito, 1)
    );
    assert_eq!(
        cognito.faults.requests(),
        1,
        "not renewed before the margin"
    );
    clock.advance(Duration::from_secs(2));
    // Inside the margin: the caller is not kept waiting, the old token serves.
    let started = Instant::now();
    assert_eq!(
        cache.get(&read()).await.unwrap().expose(),
        issued(&cognito, 1)
    );
    assert!(started.elapsed() < Duration::from_millis(40));
    wait_until("the background renewal", || cognito.faults.issued() == 2).await;
    // The endpoint counts a token just before sending it: the cache holds it a moment later, and
    // serves the old one until then.
    let renewed = issued(&cognito, 2);
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let served = cache.get(&read()).await.unwrap();
        if served.expose() == renewed {
            break;
        }
        assert_eq!(served.expose(), issued(&cognito, 1));
        assert!(Instant::now() < until, "the renewed token never served");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(cognito.faults.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_keeps_serving_while_the_endpoint_fails() {
    let cognito = start_cognito(100);
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&cognito, &clock, quick_policy());
    assert_eq!(
        cache.get(&read()).await.unwrap().expose(),
        issued(&cognito, 1)
    );
    cognito.faults.set_fault(internal_error());
    clock.advance(Duration::from_secs(95));
    for _ in 0..20 {
        assert_eq!(
            cache.get(&read()).await.unwrap().expose(),
            issued(&cognito, 1)
        );
    }
    // One background renewal with bounded retries (3 attempts), then a cooldown.
    wait_until("the renewal attempts", || cognito.faults.requests() == 4).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        cache.get(&read()).await.unwrap().expose(),
        issued(&cognito, 1)
    );
    assert_eq!(
        cognito.faults.requests(),
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
    assert_eq!(cognito.faults.requests(), 7, "three more attempts, no more");
    // The endpoint recovers: after the cooldown the next caller gets a token.
    cognito.faults.set_fault(None);
    assert!(cache.get(&read()).await.is_err(), "inside the cooldown");
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        cache.get(&read()).await.unwrap().expose(),
        issued(&cognito, 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_endpoint_costs_a_caller_at_most_the_deadline() {
    let cognito = start_cognito(3600);
    cognito.faults.set_fault(Some(Fault::Hang));
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&cognito, &clock, quick_policy());
    let started = Instant::now();
    let burst = (0..10).map(|_| {
        let cache = cache.clone();
        tokio::spawn(async move { cache.get(&read()).await })
    });
    for result in futures::future::join_all(burst).await {
        // The error names the caller's deadline, not the last attempt's share of it (three
        // 400 ms attempts and their backoff do not fit in 1.2 s: the last is cut short).
        assert_eq!(
            result.unwrap().unwrap_err(),
            TokenCacheError::Token(TokenError::Timeout(quick_policy().deadline))
        );
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(1200 + 400),
        "waited {elapsed:?}"
    );
    assert!(
        cognito.faults.requests() <= 3,
        "{} requests",
        cognito.faults.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_never_retried() {
    let cognito = start_cognito(3600);
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = TokenCache::builder(
        TokenClient::new(reqwest::Client::new()),
        CredentialsProvider::fixed(credentials(&cognito, "wrong")),
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
    assert_eq!(cognito.faults.requests(), 1);
    clock.advance(Duration::from_secs(5));
    let err = cache.get(&["api/admin".into()]).await.unwrap_err();
    assert!(matches!(
        err,
        TokenCacheError::Token(TokenError::OAuth { .. })
    ));
    assert_eq!(cognito.faults.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidate_drops_only_the_rejected_token() {
    let cognito = start_cognito(3600);
    let clock = Arc::new(ManualClock::at(1_800_000_000.0));
    let cache = cache(&cognito, &clock, quick_policy());
    let first = cache.get(&read()).await.unwrap();
    assert!(!cache.invalidate(
        &read(),
        &cognito_auth::token_client::AccessToken::new("other")
    ));
    assert_eq!(cache.get(&read()).await.unwrap(), first);
    assert!(cache.invalidate(&read(), &first));
    let second = cache.get(&read()).await.unwrap();
    assert_eq!(second.expose(), issued(&cognito, 2));
    assert_eq!(cognito.faults.requests(), 2);
    // An API rejecting every token does not make every call cost a token request.
    assert!(!cache.invalidate(&read(), &second));
    assert_eq!(cache.get(&read()).await.unwrap(), second);
    assert_eq!(cognito.faults.requests(), 2);
    clock.advance(Duration::from_secs(31));
    assert!(cache.invalidate(&read(), &second));
    assert_eq!(
        cache.get(&read()).await.unwrap().expose(),
        issued(&cognito, 3)
    );
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
