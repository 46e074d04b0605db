//! The content-consumer binary reading the seed's Secrets Manager secret from moto (through
//! `AWS_ENDPOINT_URL`), and following a secret rotation when Cognito answers `invalid_client`.
//!
//! Needs `moto_server` (scripts/install-test-tools puts it in ~/.cache/cognito-m2m/tools/bin;
//! `MOTO_SERVER` or PATH also work).

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One Secrets Manager API call (JSON protocol); moto does not check signatures.
async fn secrets_manager(endpoint: &str, action: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(endpoint)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("secretsmanager.{action}"))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{action}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// The AWS sample's key set, exactly as its stack writes it: the scope *names* beside the
/// resource server identifier (its consumer requests `{identifier}/{name}`).
fn seed_secret(secret: &str, token_url: &str) -> String {
    json!({
        "user_pool_client_id": CLIENT_ID,
        "app_client_secret": secret,
        "user_pool_oauth2_endpoint": token_url,
        "user_pool_id": POOL,
        "unicorn_user_pool_res_srv_identifier": "premium_api",
        "unicorn_read_scope": "read",
        "unicorn_write_scope": "write",
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_secret_works_and_a_rotation_is_followed() {
    let moto = e2e::Moto::start().await;
    let moto_url = moto.endpoint.clone();
    // Two-second tokens, so a renewal (with the then stale secret) comes quickly.
    let cognito = FakeCognito::start("secret-1", 2).await;
    let premium = start_premium(&cognito).await;
    let created = secrets_manager(
        &moto_url,
        "CreateSecret",
        json!({"Name": "cognito_us-east-1_Test-xYz",
               "SecretString": seed_secret("secret-1", &cognito.token_url())}),
    )
    .await;
    let arn = created["ARN"].as_str().unwrap().to_owned();

    let log = temp_dir("sm-log").join("consumer.log");
    let port = e2e::free_port();
    let consumer_url = format!("http://127.0.0.1:{port}");
    let consumer = Running(
        Command::new(env!("CARGO_BIN_EXE_content-consumer"))
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("PREMIUM_API_URL", premium.url("/home/premium"))
            .env("APP_SECRETS_ARN", &arn)
            .env("AWS_ENDPOINT_URL", &moto_url)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("LOG_LEVEL", "DEBUG")
            .env_remove("CREDENTIALS_DIR")
            .env_remove("COGNITO_CLIENT_ID")
            .env_remove("COGNITO_CLIENT_SECRET")
            .env_remove("COGNITO_TOKEN_URL")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .stdout(std::fs::File::create(log.with_extension("out")).unwrap())
            .spawn()
            .expect("start content-consumer"),
    );
    wait_ready(&format!("{consumer_url}/readyz")).await;

    let client = reqwest::Client::new();
    let read = format!("{consumer_url}/content/authorized-read");
    let (status, body) = get(&client, &read).await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"message": "Premium Content: OAuth Scope: Read"})
        )
    );
    assert_eq!(cognito.last_secret().as_deref(), Some("secret-1"));

    // Rotation: a new secret in Secrets Manager (pasted with a stray CRLF, which must not reach
    // Cognito), and Cognito no longer takes the old one.
    secrets_manager(
        &moto_url,
        "PutSecretValue",
        json!({"SecretId": arn, "SecretString": seed_secret("secret-2\r\n", &cognito.token_url())}),
    )
    .await;
    cognito.set_secret("secret-2");
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        let (status, body) = get(&client, &read).await;
        assert_eq!(status, 200, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = cognito.state_secrets();
    let rejected = seen.iter().rposition(|s| s == "secret-1").unwrap();
    assert!(
        rejected >= 1
            && seen[rejected + 1..].iter().all(|s| s == "secret-2")
            && seen.len() > rejected + 1,
        "the stale secret was rejected once, then the refetched one used: {seen:?}"
    );

    // At DEBUG the log tells what each request did, as the seed's LOG_LEVEL meant it; and what the
    // consumer logged, the rotation included, holds neither a secret nor a token.
    drop(consumer);
    let logged = std::fs::read_to_string(&log).unwrap()
        + &std::fs::read_to_string(log.with_extension("out")).unwrap();
    assert!(
        logged.contains("client credentials loaded from Secrets Manager"),
        "{logged}"
    );
    for step in [
        "access token served from the cache",
        "access token fetched from the token endpoint",
        "premium content answered",
        "\"status\":200",
    ] {
        assert!(logged.contains(step), "no {step:?} in {logged}");
    }
    for secret in ["secret-1", "secret-2", "eyJ"] {
        assert!(!logged.contains(secret), "the log shows {secret}: {logged}");
    }
    std::fs::remove_dir_all(log.parent().unwrap()).unwrap();
}
