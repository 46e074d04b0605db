//! The three flows against a real premium-content, and what they cost in token requests.

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use support::*;

async fn stack(lifetime_secs: u64) -> (TestIssuer, Service, Service) {
    let cognito = start_cognito("secret-1", lifetime_secs);
    let premium = start_premium(&cognito).await;
    let consumer =
        consumer_with_fixed_credentials(&premium.url("/home/premium"), &cognito, "secret-1").await;
    (cognito, premium, consumer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_flows_pass_premium_content_through() {
    let (cognito, _premium, consumer) = stack(3600).await;
    let client = reqwest::Client::new();

    let (status, body) = get(&client, &consumer.url("/content/unauthorized-read")).await;
    assert_eq!((status, body), (401, json!({"message": "Unauthorized"})));
    assert_eq!(
        cognito.faults.requests(),
        0,
        "no token for the unauthorized call"
    );

    let (status, body) = get(&client, &consumer.url("/content/authorized-read")).await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"message": "Premium Content: OAuth Scope: Read"})
        )
    );
    let (status, body) = get(&client, &consumer.url("/content/authorized-write")).await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"message": "Premium Content: OAuth Scope: Write"})
        )
    );
    let response = client
        .post(consumer.url("/content/authorized-write"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // One token per scope.
    assert_eq!(cognito.faults.requests(), 2);

    let (status, _) = get(&client, &consumer.url("/healthz")).await;
    assert_eq!(status, 200);
    let (status, _) = get(&client, &consumer.url("/readyz")).await;
    assert_eq!(status, 200);
    let metrics = client
        .get(consumer.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"content_consumer_token_requests_total{outcome="success"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"content_consumer_token_cache_lookups_total{result="hit"} 1"#));
    assert!(
        metrics.contains(
            r#"content_consumer_responses_total{route="unauthorized-read",status="401"} 1"#
        )
    );
    assert!(metrics.contains(r#"upstream="premium_content""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_cost_one_token_request() {
    let (cognito, _premium, consumer) = stack(3600).await;
    let client = reqwest::Client::new();
    let url = consumer.url("/content/authorized-read");
    let calls = (0..1000).map(|_| {
        let client = client.clone();
        let url = url.clone();
        async move { get(&client, &url).await.0 }
    });
    // 20 at a time, as a busy caller would.
    let statuses: Vec<u16> = futures::stream::iter(calls)
        .buffer_unordered(20)
        .collect()
        .await;
    assert_eq!(statuses.len(), 1000);
    assert!(statuses.iter().all(|s| *s == 200));
    assert_eq!(cognito.faults.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_burst_of_fifty_costs_one_token_request() {
    let (cognito, _premium, consumer) = stack(3600).await;
    // A slow endpoint, so all fifty arrive while the first request is in flight.
    cognito.faults.set_delay(Duration::from_millis(300));
    let client = reqwest::Client::new();
    let url = consumer.url("/content/authorized-read");
    let burst = (0..50).map(|_| get(&client, &url));
    let answers = futures::future::join_all(burst).await;
    assert!(answers.iter().all(|(status, _)| *status == 200));
    assert_eq!(cognito.faults.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_tokens_are_renewed_with_no_failed_call() {
    // Two-second tokens: renewed 0.2 s before expiry, in the background.
    let (cognito, _premium, consumer) = stack(2).await;
    let client = reqwest::Client::new();
    let url = consumer.url("/content/authorized-read");
    let until = Instant::now() + Duration::from_secs(7);
    let mut calls = 0;
    while Instant::now() < until {
        let (status, body) = get(&client, &url).await;
        assert_eq!(status, 200, "call {calls} failed: {body}");
        calls += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let requests = cognito.faults.requests();
    assert!(
        (3..=6).contains(&requests),
        "{requests} token requests for {calls} calls over 7 s of 2 s tokens"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_premium_content_rejects_is_replaced_once() {
    let (cognito, _premium, consumer) = stack(3600).await;
    // The first token is one premium content refuses (an id token, not an access token).
    cognito.faults.issue_id_tokens(1);
    let client = reqwest::Client::new();
    let (status, body) = get(&client, &consumer.url("/content/authorized-read")).await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"message": "Premium Content: OAuth Scope: Read"})
        )
    );
    assert_eq!(cognito.faults.requests(), 2);
    // Only once: a second bad token is passed through as premium content's 401.
    cognito.faults.issue_id_tokens(2);
    let (status, _) = get(&client, &consumer.url("/content/authorized-write")).await;
    assert_eq!(status, 401);
    assert_eq!(cognito.faults.requests(), 4);
    // A premium content that keeps rejecting does not cost a token request per call.
    for _ in 0..10 {
        let (status, _) = get(&client, &consumer.url("/content/authorized-write")).await;
        assert_eq!(status, 401);
    }
    assert_eq!(cognito.faults.requests(), 4);
}
