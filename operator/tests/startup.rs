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

/// Each LOG_LEVEL name, Python's and tracing's in any case, means the same here as in every
/// binary: `WARNING` used to be read as a target name and silence every line.
#[test]
fn every_log_level_name_is_read_as_every_binary_reads_it() {
    telemetry::testing::check_every_level_name_of_server(|| {
        let mut command = Command::new(BINARY);
        command.env_clear();
        command
    });
}
