//! The premium-content binary itself: bad configuration fails naming the variable, SIGTERM lets
//! in-flight requests finish, and debug logs carry rejection reasons but no token material.

mod support;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use local_cognito::jwks_server::JwksServer;
use local_cognito::keys::SigningKey;
use support::{ISSUER, claims, send};

const BINARY: &str = env!("CARGO_BIN_EXE_premium-content");

fn clean_command() -> Command {
    let mut command = Command::new(BINARY);
    for variable in [
        "AWS_REGION",
        "COGNITO_USER_POOL_ID",
        "COGNITO_ISSUER",
        "COGNITO_JWKS_URL",
        "COGNITO_CLIENT_IDS",
        "READ_SCOPE",
        "WRITE_SCOPE",
        "RESOURCE_SERVER",
        "RUST_LOG",
        "LOG_LEVEL",
        "LISTEN_ADDR",
        "SHUTDOWN_DELAY",
    ] {
        command.env_remove(variable);
    }
    command
}

#[test]
fn bad_configuration_names_the_variable() {
    for (env, variable) in [
        (vec![], "COGNITO_ISSUER"),
        (vec![("AWS_REGION", "us-east-1")], "COGNITO_USER_POOL_ID"),
        (vec![("COGNITO_ISSUER", "not a url")], "COGNITO_ISSUER"),
        (
            vec![("COGNITO_ISSUER", "https://x"), ("LISTEN_ADDR", "nowhere")],
            "LISTEN_ADDR",
        ),
        (
            vec![("COGNITO_ISSUER", "https://x"), ("LOG_LEVEL", "[broken")],
            "LOG_LEVEL",
        ),
        (
            vec![("COGNITO_ISSUER", "https://x"), ("READ_SCOPE", "a b")],
            "READ_SCOPE",
        ),
    ] {
        let mut command = clean_command();
        command.env("LISTEN_ADDR", "127.0.0.1:0");
        for (name, value) in &env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success(), "{env:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(variable), "{env:?}: {stderr}");
    }
}

#[tokio::test]
async fn sigterm_drains_in_flight_requests_and_logs_hold_no_token() {
    let key = SigningKey::generate("kid-1");
    let jwks = JwksServer::start(&[&key]);
    let address = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let child = clean_command()
        .env("LISTEN_ADDR", address.to_string())
        .env("COGNITO_ISSUER", ISSUER)
        .env("COGNITO_JWKS_URL", &jwks.url)
        .env("LOG_LEVEL", "DEBUG")
        // The request in flight outlasts the delay: it is drained after the listener closes.
        .env("SHUTDOWN_DELAY", "200ms")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Refused tokens, whose reasons must be logged without the tokens.
    let url = format!("{base}/home/premium");
    let expired = key.sign(&{
        let mut c = claims("premium_api/read");
        c["exp"] = serde_json::json!(1);
        c
    });
    let scope_less = key.sign(&claims("premium_api/readx"));
    let forged = SigningKey::generate("kid-1").sign(&claims("premium_api/read"));
    for token in [&expired, &scope_less, &forged] {
        let status = send(&client, "GET", &url, Some(&format!("Bearer {token}")))
            .await
            .status;
        assert!(matches!(status, 401 | 403));
    }

    // A request that waits on a slow JWKS refetch is in flight when SIGTERM arrives.
    let rotated = SigningKey::generate("kid-2");
    jwks.publish(&[&key, &rotated]);
    jwks.set_delay(Duration::from_millis(800));
    let token = rotated.sign(&claims("premium_api/read"));
    let in_flight = tokio::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move { send(&client, "GET", &url, Some(&token)).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let answer = in_flight.await.unwrap();
    assert_eq!(
        answer.status, 200,
        "in-flight request finished: {}",
        answer.body
    );

    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success(), "clean exit: {:?}", output.status);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for reason in ["\"expired\"", "\"insufficient_scope\"", "\"bad_signature\""] {
        assert!(
            log.contains(reason),
            "reason {reason} logged at debug:\n{log}"
        );
    }
    for token in [&expired, &scope_less, &forged] {
        for part in token.split('.') {
            // No part of any token, nor any 16-character window of one, appears in the log.
            for start in (0..part.len().saturating_sub(16)).step_by(8) {
                let window = &part[start..start + 16];
                assert!(!log.contains(window), "token material in the log:\n{log}");
            }
        }
    }
    jwks.stop().await;
}

/// Each LOG_LEVEL name, Python's and tracing's in any case, means the same here as in every binary.
#[test]
fn every_log_level_name_is_read_as_every_binary_reads_it() {
    telemetry::testing::check_every_level_name_of_server(|| {
        let mut command = clean_command();
        command.env("COGNITO_ISSUER", "https://x");
        command
    });
}
