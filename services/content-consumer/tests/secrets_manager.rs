//! The content-consumer binary reading the seed's Secrets Manager secret from moto (through
//! `AWS_ENDPOINT_URL`), and following a secret rotation when Cognito answers `invalid_client`.
//!
//! Needs `moto_server` (scripts/install-test-tools puts it in ~/.cache/cognito-m2m/tools/bin;
//! `MOTO_SERVER` or PATH also work).

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::*;
use test_support::PoolClient;
use test_support::temp_volume;

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The AWS sample's key set, exactly as its stack writes it, for [`CLIENT_ID`] with `secret`.
fn seed_secret(secret: &str, token_url: &str) -> String {
    test_support::seed_secret_json(POOL, token_url, &PoolClient::new(CLIENT_ID, secret, &[]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_secret_works_and_a_rotation_is_followed() {
    let moto = test_support::Moto::start().await;
    let moto_url = moto.endpoint.clone();
    // Two-second tokens, so a renewal (with the then stale secret) comes quickly.
    let cognito = start_cognito("secret-1", 2);
    let premium = start_premium(&cognito).await;
    let arn = moto
        .create_secret(
            "cognito_us-east-1_Test-xYz",
            &seed_secret("secret-1", &cognito.token_endpoint()),
        )
        .await;

    let log = temp_volume("sm-log").join("consumer.log");
    let port = test_support::free_port();
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
    assert_eq!(
        cognito.faults.client(CLIENT_ID).last_secret(),
        Some("secret-1")
    );

    // Rotation: a new secret in Secrets Manager (pasted with a stray CRLF, which must not reach
    // Cognito), and Cognito no longer takes the old one.
    moto.put_secret_value(
        &arn,
        &seed_secret("secret-2\r\n", &cognito.token_endpoint()),
    )
    .await;
    cognito.faults.rotate_secret(CLIENT_ID, "secret-2");
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        let (status, body) = get(&client, &read).await;
        assert_eq!(status, 200, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = cognito.faults.client(CLIENT_ID).secrets;
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
