//! The token endpoint under injected faults, seen over HTTP by a client: each fault answers as
//! set and goes away when cleared, and the counters tell what each client asked for and got.

use std::time::{Duration, Instant};

use local_cognito::faults::{Fault, TestIssuer};
use local_cognito::issuer::{AppClient, Config};
use serde_json::Value;

const READ: &str = "premium_api/read";

fn issuer() -> TestIssuer {
    TestIssuer::start(Config::new(
        "us-east-1_Faults1",
        vec![
            AppClient::new("consumer", "secret-1", [READ]),
            AppClient::new("other", "other-secret", [READ]),
        ],
    ))
}

async fn ask(
    issuer: &TestIssuer,
    id: &str,
    secret: &str,
    timeout: Duration,
) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(issuer.token_endpoint())
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", READ)])
        .timeout(timeout)
        .send()
        .await
}

async fn token(issuer: &TestIssuer, id: &str, secret: &str) -> (u16, Value) {
    let response = ask(issuer, id, secret, Duration::from_secs(10))
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn payload(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

#[tokio::test]
async fn with_no_fault_set_tokens_are_served_and_counted_per_client() {
    let issuer = issuer();
    let (status, body) = token(&issuer, "consumer", "secret-1").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = token(&issuer, "consumer", "wrong").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client"))
    );
    let faults = &issuer.faults;
    assert_eq!(faults.requests(), 2);
    assert_eq!(faults.issued(), 1);
    let consumer = faults.client("consumer");
    assert_eq!(consumer.requests, 2);
    assert_eq!(consumer.secrets, ["secret-1", "wrong"]);
    assert_eq!(consumer.last_secret(), Some("wrong"));
    assert_eq!(consumer.tokens, faults.issued_tokens());
    assert_eq!(payload(&consumer.tokens[0])["client_id"], "consumer");
    assert_eq!(faults.client("other").requests, 0);
    let last = faults.last_request().unwrap();
    assert_eq!(last.request.scope.as_deref(), Some(READ));
    assert_eq!(
        last.request.basic,
        Some(("consumer".to_owned(), "wrong".to_owned()))
    );
    assert_eq!(
        last.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn an_answer_fault_is_sent_as_set_and_cleared() {
    let issuer = issuer();
    issuer.faults.set_fault(Some(Fault::Answer {
        status: 200,
        content_type: "text/html".into(),
        body: "<html>sign in</html>".into(),
    }));
    let response = ask(&issuer, "consumer", "secret-1", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(response.text().await.unwrap(), "<html>sign in</html>");
    issuer
        .faults
        .set_fault(Some(Fault::status(503, "maintenance")));
    let response = ask(&issuer, "consumer", "secret-1", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.text().await.unwrap(), "maintenance");
    assert_eq!(issuer.faults.issued(), 0);
    issuer.faults.set_fault(None);
    assert_eq!(token(&issuer, "consumer", "secret-1").await.0, 200);
    assert_eq!(issuer.faults.requests(), 3);
    assert_eq!(issuer.faults.issued(), 1);
}

#[tokio::test]
async fn a_hang_never_answers_and_a_delay_answers_late() {
    let issuer = issuer();
    issuer.faults.set_fault(Some(Fault::Hang));
    let err = ask(&issuer, "consumer", "secret-1", Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(issuer.faults.client("consumer").requests, 1);
    issuer.faults.set_fault(None);
    issuer.faults.set_delay(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(token(&issuer, "consumer", "secret-1").await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_dropped_connection_gets_no_answer_at_all() {
    let issuer = issuer();
    issuer.faults.set_fault(Some(Fault::DropConnection));
    let err = ask(&issuer, "consumer", "secret-1", Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(err.status().is_none() && !err.is_timeout(), "{err:?}");
    assert!(err.is_request(), "{err:?}");
    assert_eq!(issuer.faults.requests(), 1);
    issuer.faults.set_fault(None);
    assert_eq!(token(&issuer, "consumer", "secret-1").await.0, 200);
}

#[tokio::test]
async fn a_rotated_secret_replaces_the_configured_one_for_that_client_only() {
    let issuer = issuer();
    issuer.faults.rotate_secret("consumer", "secret-2");
    let (status, body) = token(&issuer, "consumer", "secret-1").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client"))
    );
    assert_eq!(token(&issuer, "consumer", "secret-2").await.0, 200);
    // Form credentials follow the rotation as Basic ones do.
    let response = reqwest::Client::new()
        .post(issuer.token_endpoint())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "consumer"),
            ("client_secret", "secret-2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(token(&issuer, "other", "other-secret").await.0, 200);
    assert_eq!(
        issuer.faults.client("consumer").secrets,
        ["secret-1", "secret-2", "secret-2"]
    );
}

#[tokio::test]
async fn id_tokens_are_issued_as_many_times_as_asked() {
    let issuer = issuer();
    issuer.faults.issue_id_tokens(1);
    let (_, first) = token(&issuer, "consumer", "secret-1").await;
    let (_, second) = token(&issuer, "consumer", "secret-1").await;
    let first = payload(first["access_token"].as_str().unwrap());
    assert_eq!(first["token_use"], "id");
    assert_eq!(first["scope"], READ);
    assert_eq!(
        payload(second["access_token"].as_str().unwrap())["token_use"],
        "access"
    );
    let signed = issuer.faults.issued_tokens();
    assert_eq!(payload(&signed[0])["token_use"], "id");
}

#[tokio::test]
async fn a_short_token_lifetime_applies_until_cleared() {
    let issuer = issuer();
    issuer
        .faults
        .set_token_lifetime(Some(Duration::from_secs(3)));
    let (status, body) = token(&issuer, "consumer", "secret-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 3);
    let claims = payload(body["access_token"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3
    );
    assert_eq!(claims["token_use"], "access");
    issuer.faults.set_token_lifetime(None);
    let (_, body) = token(&issuer, "consumer", "secret-1").await;
    assert_eq!(body["expires_in"], 3600);
}
