//! The operator binary's start-up: bad configuration stops it before it touches any cluster.

use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_cognito-client-operator");

#[test]
fn an_unparsable_log_level_is_named() {
    let output = Command::new(BINARY)
        .env_clear()
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("LOG_LEVEL", "info,=nonsense=")
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LOG_LEVEL"), "stderr: {stderr}");
}
