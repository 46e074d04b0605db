//! premium-content run through `start` against a local JWKS server: the contract end to end.

mod support;

use local_cognito::jwks_server::JwksServer;
use local_cognito::keys::SigningKey;
use support::{ISSUER, Premium, claims, send, settings};

const READ: &str = r#"{"message":"Premium Content: OAuth Scope: Read"}"#;
const WRITE: &str = r#"{"message":"Premium Content: OAuth Scope: Write"}"#;
const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const FORBIDDEN: &str = r#"{"message":"Forbidden"}"#;

#[tokio::test]
async fn serves_the_contract() {
    let key = SigningKey::generate("kid-1");
    let jwks = JwksServer::start(&[&key]);
    let premium = Premium::start_ready(settings(&jwks.url)).await;
    let client = reqwest::Client::new();
    let url = premium.url("/home/premium");

    let read = key.sign(&claims("premium_api/read"));
    let write = key.sign(&claims("premium_api/write"));
    let both = key.sign(&claims("premium_api/read premium_api/write"));

    let a = send(&client, "GET", &url, Some(&format!("Bearer {read}"))).await;
    assert_eq!((a.status, a.body.as_str()), (200, READ));
    let a = send(&client, "GET", &url, Some(&format!("bEaReR {both}"))).await;
    assert_eq!((a.status, a.body.as_str()), (200, READ));
    let a = send(&client, "GET", &url, Some(&read)).await;
    assert_eq!((a.status, a.body.as_str()), (200, READ), "bare token");
    let a = send(&client, "POST", &url, Some(&format!("Bearer {write}"))).await;
    assert_eq!((a.status, a.body.as_str()), (200, WRITE));

    let a = send(&client, "POST", &url, Some(&format!("Bearer {read}"))).await;
    assert_eq!((a.status, a.body.as_str()), (403, FORBIDDEN));
    assert_eq!(
        a.challenge.as_deref(),
        Some(
            "Bearer realm=\"premium-content\", error=\"insufficient_scope\", \
             scope=\"premium_api/write\""
        )
    );
    let a = send(&client, "GET", &url, Some(&format!("Bearer {write}"))).await;
    assert_eq!((a.status, a.body.as_str()), (403, FORBIDDEN));
    assert!(a.challenge.unwrap().contains("scope=\"premium_api/read\""));

    let a = send(&client, "GET", &url, None).await;
    assert_eq!((a.status, a.body.as_str()), (401, UNAUTHORIZED));
    assert_eq!(
        a.challenge.as_deref(),
        Some("Bearer realm=\"premium-content\"")
    );

    let a = send(&client, "GET", &url, Some("Bearer not.a.token")).await;
    assert_eq!((a.status, a.body.as_str()), (401, UNAUTHORIZED));
    assert!(a.challenge.unwrap().contains("error=\"invalid_token\""));

    let a = send(&client, "GET", &premium.url("/healthz"), None).await;
    assert_eq!(a.status, 200);
    let a = send(&client, "GET", &premium.url("/readyz"), None).await;
    assert_eq!(a.status, 200);

    let metrics = send(&client, "GET", &premium.url("/metrics"), None).await;
    assert_eq!(metrics.status, 200);
    let text = metrics.body;
    for line in [
        "premium_content_http_requests_total{route=\"/home/premium\",method=\"GET\",status=\"200\"} 3",
        "premium_content_http_requests_total{route=\"/home/premium\",method=\"POST\",status=\"403\"} 1",
        "premium_content_auth_rejections_total{reason=\"insufficient_scope\"} 2",
        "premium_content_auth_rejections_total{reason=\"missing_token\"} 1",
        "premium_content_auth_rejections_total{reason=\"malformed\"} 1",
        &format!("premium_content_jwks_fetches_total{{issuer=\"{ISSUER}\"}} 1"),
        &format!("premium_content_jwks_fetch_failures_total{{issuer=\"{ISSUER}\"}} 0"),
        &format!("premium_content_jwks_issuer_ready{{issuer=\"{ISSUER}\"}} 1"),
        "premium_content_jwks_ready 1",
        "premium_content_token_verification_seconds_count 7",
        // Each distinct token is verified in full once (read, both, write, not.a.token); later
        // uses of read (bare GET, POST) and of write (GET) come from the cache.
        "premium_content_verified_token_cache_hits_total 3",
        "premium_content_verified_token_cache_misses_total 4",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    premium.stop().await;
    jwks.stop().await;
}

#[tokio::test]
async fn not_ready_until_the_jwks_answers_and_never_exits_meanwhile() {
    let key = SigningKey::generate("kid-1");
    let jwks = JwksServer::start(&[&key]);
    jwks.set_failing(true);
    let premium = Premium::start(settings(&jwks.url)).await;
    let client = reqwest::Client::new();
    let token = key.sign(&claims("premium_api/read"));

    // Wait for a couple of failed attempts: still alive, not ready.
    for _ in 0..100 {
        if jwks.hits() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(jwks.hits() >= 2, "the loader retries");
    assert_eq!(
        send(&client, "GET", &premium.url("/healthz"), None)
            .await
            .status,
        200
    );
    assert_eq!(
        send(&client, "GET", &premium.url("/readyz"), None)
            .await
            .status,
        503
    );
    let a = send(&client, "GET", &premium.url("/home/premium"), Some(&token)).await;
    assert_eq!(
        a.status, 503,
        "cannot judge a token without keys: {}",
        a.body
    );

    jwks.set_failing(false);
    premium.wait_ready().await;
    let a = send(&client, "GET", &premium.url("/home/premium"), Some(&token)).await;
    assert_eq!(a.status, 200);
    premium.stop().await;
    jwks.stop().await;
}

#[tokio::test]
async fn rotation_to_a_new_kid_and_outage() {
    let old = SigningKey::generate("kid-old");
    let new = SigningKey::generate("kid-new");
    let jwks = JwksServer::start(&[&old]);
    let premium = Premium::start_ready(settings(&jwks.url)).await;
    let client = reqwest::Client::new();
    let url = premium.url("/home/premium");
    let old_token = old.sign(&claims("premium_api/read"));
    assert_eq!(
        send(&client, "GET", &url, Some(&old_token)).await.status,
        200
    );

    // Cognito rotates: the new kid is fetched on first sight.
    jwks.publish(&[&new]);
    let new_token = new.sign(&claims("premium_api/read"));
    assert_eq!(
        send(&client, "GET", &url, Some(&new_token)).await.status,
        200
    );
    assert_eq!(jwks.hits(), 2);
    // The old key left the JWKS: its tokens stop working, even the one verified (cached) before.
    assert_eq!(
        send(&client, "GET", &url, Some(&old_token)).await.status,
        401
    );

    // The JWKS goes down: cached keys keep serving.
    jwks.set_failing(true);
    for _ in 0..20 {
        assert_eq!(
            send(&client, "GET", &url, Some(&new_token)).await.status,
            200
        );
    }
    premium.stop().await;
    jwks.stop().await;
}

#[tokio::test]
async fn a_storm_of_random_kids_is_not_a_storm_of_jwks_downloads() {
    let key = SigningKey::generate("kid-1");
    let jwks = JwksServer::start(&[&key]);
    let premium = Premium::start_ready(settings(&jwks.url)).await;
    let client = reqwest::Client::new();
    let url = premium.url("/home/premium");
    assert_eq!(jwks.hits(), 1);

    let storm = |round: usize| {
        let requests = (0..150).map(|i| {
            let token = key.sign_with_header(
                &serde_json::json!({"alg": "RS256", "kid": format!("random-{round}-{i}")}),
                &claims("premium_api/read"),
            );
            let (client, url) = (client.clone(), url.clone());
            async move { send(&client, "GET", &url, Some(&token)).await.status }
        });
        futures::future::join_all(requests)
    };
    assert!(storm(0).await.iter().all(|status| *status == 401));
    assert_eq!(jwks.hits(), 2, "one refetch for the whole storm");
    assert!(storm(1).await.iter().all(|status| *status == 401));
    assert_eq!(jwks.hits(), 2, "the penalty box holds for 10 s");
    let a = send(
        &client,
        "GET",
        &url,
        Some(&key.sign(&claims("premium_api/read"))),
    )
    .await;
    assert_eq!(a.status, 200);
    premium.stop().await;
    jwks.stop().await;
}

#[tokio::test]
async fn graceful_stop_finishes_requests_in_flight() {
    let key = SigningKey::generate("kid-1");
    let jwks = JwksServer::start(&[&key]);
    let premium = Premium::start_ready(settings(&jwks.url)).await;
    let client = reqwest::Client::new();
    let url = premium.url("/home/premium");

    // An unknown kid makes the request wait for a slow JWKS refetch: it is in flight.
    let rotated = SigningKey::generate("kid-2");
    jwks.publish(&[&key, &rotated]);
    jwks.set_delay(std::time::Duration::from_millis(700));
    let token = rotated.sign(&claims("premium_api/read"));
    let in_flight = tokio::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move { send(&client, "GET", &url, Some(&token)).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    premium.stop().await;
    let answer = in_flight.await.unwrap();
    assert_eq!((answer.status, answer.body.as_str()), (200, READ));
    // And it no longer accepts.
    assert!(client.get(premium.url("/healthz")).send().await.is_err());
    jwks.stop().await;
}
