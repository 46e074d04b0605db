//! What callers see when Cognito or premium content fails: 502/503/504 naming what failed, fast.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::*;
use test_support::{closed_url, kubelet_write, temp_volume};

/// Short timeouts so that failures are quick: one attempt 300 ms, a fetch 1 s in all.
/// `settings` with a short token request timeout (300 ms) and caller deadline (1 s).
fn quick(mut settings: Settings) -> Settings {
    settings.token_cache.attempt_timeout = Duration::from_millis(300);
    settings.token_cache.deadline = Duration::from_secs(1);
    settings
}

/// content-consumer with the fixed credentials and [`quick`] token timing.
async fn quick_consumer(premium_api_url: &str, cognito: &TestIssuer, secret: &str) -> Service {
    let token_url = cognito.token_endpoint();
    start_consumer(quick(fixed_settings(premium_api_url, &token_url, secret))).await
}

fn message(body: &serde_json::Value) -> String {
    body["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_failing_with_500_is_a_502_after_bounded_retries() {
    let cognito = start_cognito("secret-1", 3600);
    let premium = start_premium(&cognito).await;
    let consumer = quick_consumer(&premium.url("/home/premium"), &cognito, "secret-1").await;
    cognito.faults.set_fault(internal_error());
    let client = reqwest::Client::new();
    let (status, body) = get(&client, &consumer.url("/content/authorized-read")).await;
    assert_eq!(status, 502);
    assert_eq!(
        message(&body),
        "Cognito token endpoint failed with HTTP 500"
    );
    assert_eq!(cognito.faults.requests(), 3, "three attempts, then give up");
    // Straight after, the failure is answered again without hammering the endpoint.
    let (status, _) = get(&client, &consumer.url("/content/authorized-read")).await;
    assert_eq!(status, 502);
    assert_eq!(cognito.faults.requests(), 3);
    // The endpoint recovers; so does the consumer, without a restart.
    cognito.faults.set_fault(None);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = get(&client, &consumer.url("/content/authorized-read")).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_token_endpoint_is_a_504_within_the_deadline() {
    let cognito = start_cognito("secret-1", 3600);
    let premium = start_premium(&cognito).await;
    let consumer = quick_consumer(&premium.url("/home/premium"), &cognito, "secret-1").await;
    cognito.faults.set_fault(Some(Fault::Hang));
    let client = reqwest::Client::new();
    let started = Instant::now();
    let url = consumer.url("/content/authorized-read");
    let burst = (0..5).map(|_| get(&client, &url));
    for (status, body) in futures::future::join_all(burst).await {
        assert_eq!(status, 504, "{body}");
        // The caller's deadline, not the last attempt's share of it.
        assert_eq!(
            message(&body),
            "Cognito token endpoint did not answer within 1s"
        );
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1600), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_token_endpoint_is_a_502() {
    let cognito = start_cognito("secret-1", 3600);
    let premium = start_premium(&cognito).await;
    let closed = closed_url("/oauth2/token");
    let mut settings = fixed_settings(&premium.url("/home/premium"), &closed, "secret-1");
    settings.token_cache.deadline = Duration::from_secs(1);
    let consumer = start_consumer(settings).await;
    let (status, body) = get(
        &reqwest::Client::new(),
        &consumer.url("/content/authorized-read"),
    )
    .await;
    assert_eq!(status, 502);
    assert!(
        message(&body).starts_with("Cognito token endpoint unreachable"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_a_502_naming_invalid_client_and_is_not_retried() {
    let cognito = start_cognito("secret-1", 3600);
    let premium = start_premium(&cognito).await;
    let consumer = quick_consumer(&premium.url("/home/premium"), &cognito, "not-the-secret").await;
    let (status, body) = get(
        &reqwest::Client::new(),
        &consumer.url("/content/authorized-write"),
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(
        message(&body),
        "Cognito token endpoint refused the request: invalid_client (HTTP 400)"
    );
    assert!(!body.to_string().contains("not-the-secret"));
    assert_eq!(cognito.faults.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_keeps_serving_while_the_token_endpoint_is_down() {
    let cognito = start_cognito("secret-1", 5);
    let premium = start_premium(&cognito).await;
    let consumer = quick_consumer(&premium.url("/home/premium"), &cognito, "secret-1").await;
    let client = reqwest::Client::new();
    let url = consumer.url("/content/authorized-read");
    let started = Instant::now();
    assert_eq!(get(&client, &url).await.0, 200);
    cognito.faults.set_fault(internal_error());
    // The token lives 5 s and is renewed from 4.5 s on; those renewals fail, callers do not.
    while started.elapsed() < Duration::from_millis(4750) {
        let (status, body) = get(&client, &url).await;
        assert_eq!(status, 200, "at {:?}: {body}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(cognito.faults.requests() > 1, "renewal was attempted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn premium_content_down_is_a_502() {
    let cognito = start_cognito("secret-1", 3600);
    let closed = closed_url("/home/premium");
    let consumer = quick_consumer(&closed, &cognito, "secret-1").await;
    let client = reqwest::Client::new();
    for route in ["/content/unauthorized-read", "/content/authorized-read"] {
        let (status, body) = get(&client, &consumer.url(route)).await;
        assert_eq!(status, 502, "{route}");
        assert!(
            message(&body).starts_with("premium content unreachable"),
            "{body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn premium_content_hanging_is_a_504() {
    let cognito = start_cognito("secret-1", 3600);
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/home/premium", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let consumer = start_consumer(Settings {
        premium_api_timeout: Duration::from_millis(500),
        ..fixed_settings(&url, &cognito.token_endpoint(), "secret-1")
    })
    .await;
    let started = Instant::now();
    let (status, body) = get(
        &reqwest::Client::new(),
        &consumer.url("/content/authorized-read"),
    )
    .await;
    assert_eq!(status, 504);
    assert_eq!(
        body,
        json!({"message": "premium content did not answer within 500ms"})
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_until_the_credentials_folder_is_filled_in() {
    let cognito = start_cognito("secret-1", 3600);
    let premium = start_premium(&cognito).await;
    let dir = temp_volume("not-ready");
    let consumer = start_consumer(dir_settings(&premium.url("/home/premium"), &dir)).await;
    let client = reqwest::Client::new();
    let (status, body) = get(&client, &consumer.url("/readyz")).await;
    assert_eq!(status, 503);
    assert!(message(&body).contains("client_id"), "{body}");
    let (status, body) = get(&client, &consumer.url("/content/authorized-read")).await;
    assert_eq!(status, 503);
    assert!(message(&body).starts_with("client credentials unavailable"));
    // Credentials without a token endpoint, and no COGNITO_TOKEN_URL: a clear 503.
    kubelet_write(
        &dir,
        &[("client_id", CLIENT_ID), ("client_secret", "secret-1")],
    );
    let (status, _) = get(&client, &consumer.url("/readyz")).await;
    assert_eq!(status, 200);
    let (status, body) = get(&client, &consumer.url("/content/authorized-read")).await;
    assert_eq!(status, 503);
    assert!(message(&body).contains("COGNITO_TOKEN_URL"), "{body}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn bad_configurations_fail_at_startup_naming_the_variables() {
    let config = <content_consumer::Config as clap::Parser>::try_parse_from([
        "content-consumer",
        "--premium-api-url",
        "http://127.0.0.1:9/",
        "--credentials-dir",
        "/tmp",
        "--cognito-client-id",
        "x",
    ])
    .unwrap();
    let err = config.settings().expect_err("the settings must be refused");
    assert!(
        err.to_string()
            .contains("CREDENTIALS_DIR, COGNITO_CLIENT_ID/COGNITO_CLIENT_SECRET"),
        "{err}"
    );
    let missing = std::path::Path::new("/nonexistent/creds");
    let err = content_consumer::start(
        dir_settings("http://127.0.0.1:9/", missing),
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
    )
    .await
    .err()
    .expect("start must fail");
    assert!(err.to_string().contains("/nonexistent/creds"), "{err}");
}
