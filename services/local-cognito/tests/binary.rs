//! The `local-cognito` binary: it says it is not for production, and it serves tokens.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_local-cognito");

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn help_says_development_and_tests_only() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("development and"), "{help}");
    assert!(help.contains("never production"), "{help}");
    assert!(help.contains("NEVER PRODUCTION"), "{help}");
    assert!(help.contains("LOCAL_COGNITO_CLIENTS"), "{help}");
}

#[test]
fn help_never_shows_the_secrets_of_the_environment() {
    let output = Command::new(BIN)
        .arg("--help")
        .env("LOCAL_COGNITO_CLIENTS", "cli1:topsecret1:api/read")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("LOCAL_COGNITO_CLIENTS"), "{help}");
    assert!(!help.contains("topsecret1"), "{help}");
}

#[test]
fn missing_clients_fail_naming_the_variable() {
    let output = Command::new(BIN)
        .env_remove("LOCAL_COGNITO_CLIENTS")
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("LOCAL_COGNITO_CLIENTS"), "{stderr}");
}

#[tokio::test]
async fn serves_tokens_warns_at_startup_and_stops_on_sigterm() {
    let mut child = KillOnDrop(
        Command::new(BIN)
            .env("LISTEN_ADDR", "127.0.0.1:0")
            .env("COGNITO_USER_POOL_ID", "us-east-1_BinTest1")
            .env(
                "LOCAL_COGNITO_CLIENTS",
                "cli1:sec1:api/read,api/write;cli2:sec2:api/read",
            )
            .env("TOKEN_LIFETIME", "5m")
            .env("LOCAL_COGNITO_ADMIN_RATE_LIMIT", "0.001")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let token_url = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no token endpoint line in {seen:#?}"));
        if let Some(url) = line.strip_prefix("local-cognito: token endpoint ") {
            break url.trim().to_owned();
        }
        seen.push(line);
    };
    assert!(
        seen.iter().any(|l| l.contains("NEVER PRODUCTION")),
        "{seen:#?}"
    );
    assert!(
        !seen.iter().any(|l| l.contains("sec1")),
        "secrets are never printed"
    );
    let response = reqwest::Client::new()
        .post(&token_url)
        .basic_auth("cli2", Some("sec2"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 300);

    // The admin API on the same address, under LOCAL_COGNITO_ADMIN_RATE_LIMIT's quota (one
    // request a thousand seconds): the first call is served, the next one throttled.
    let admin_url = token_url.trim_end_matches("/oauth2/token");
    let list = || {
        reqwest::Client::new()
            .post(format!("{admin_url}/"))
            .header("content-type", "application/x-amz-json-1.1")
            .header(
                "x-amz-target",
                "AWSCognitoIdentityProviderService.ListUserPoolClients",
            )
            .body(r#"{"UserPoolId":"us-east-1_BinTest1"}"#)
            .send()
    };
    let listed: serde_json::Value = list().await.unwrap().json().await.unwrap();
    assert_eq!(
        listed["UserPoolClients"].as_array().unwrap().len(),
        2,
        "{listed}"
    );
    let throttled = list().await.unwrap();
    assert_eq!(throttled.status(), 400);
    let body: serde_json::Value = throttled.json().await.unwrap();
    assert_eq!(body["__type"], "TooManyRequestsException");

    // What process managers send (`docker stop`, systemd, `timeout`): a clean exit that frees
    // the port, as on Ctrl-C.
    let sent = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 30 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status:?}");
    let address = token_url
        .trim_start_matches("http://")
        .trim_end_matches("/oauth2/token");
    std::net::TcpListener::bind(address)
        .unwrap_or_else(|e| panic!("{address} still taken after exit: {e}"));
}

#[test]
fn a_rate_limit_that_is_not_positive_fails_naming_the_variable() {
    let output = Command::new(BIN)
        .env("LOCAL_COGNITO_CLIENTS", "cli1:secret1:api/read")
        .env("LOCAL_COGNITO_ADMIN_RATE_LIMIT", "0")
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("LOCAL_COGNITO_ADMIN_RATE_LIMIT"),
        "{stderr}"
    );
}

/// Each LOG_LEVEL name, Python's and tracing's in any case, means the same here as in every binary.
#[test]
fn every_log_level_name_is_read_as_every_binary_reads_it() {
    telemetry::testing::check_every_level_name_of_server(|| {
        let mut command = Command::new(BIN);
        command.env("LOCAL_COGNITO_CLIENTS", "cli1:secret1:api/read");
        command
    });
}
