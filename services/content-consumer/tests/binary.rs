//! The content-consumer binary's start-up: bad configuration stops it, naming the variable.

use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_content-consumer");

/// Runs the binary with a valid environment plus `extra`, expecting it to refuse to start.
fn refuses_to_start(extra: &[(&str, &str)]) -> String {
    let output = Command::new(BINARY)
        .env_clear()
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("PREMIUM_API_URL", "http://127.0.0.1:9/home/premium")
        .env("COGNITO_CLIENT_ID", "client")
        .env("COGNITO_CLIENT_SECRET", "secret")
        .env("COGNITO_TOKEN_URL", "http://127.0.0.1:9/oauth2/token")
        .envs(extra.iter().copied())
        .output()
        .expect("the binary runs");
    assert_eq!(
        output.status.code(),
        Some(2),
        "exit status of a refused start"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_unparsable_log_level_is_named() {
    let stderr = refuses_to_start(&[("LOG_LEVEL", "info,=nonsense=")]);
    assert!(stderr.contains("LOG_LEVEL"), "stderr: {stderr}");
}

#[test]
fn an_unparsable_rust_log_is_named() {
    let stderr = refuses_to_start(&[("RUST_LOG", "debug=bogus=x")]);
    assert!(stderr.contains("RUST_LOG"), "stderr: {stderr}");
}
