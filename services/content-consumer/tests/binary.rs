//! The content-consumer binary's start-up: bad configuration stops it, naming the variable.

use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_content-consumer");

/// The binary with a valid environment and nothing else.
fn valid_command() -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("PREMIUM_API_URL", "http://127.0.0.1:9/home/premium")
        .env("COGNITO_CLIENT_ID", "client")
        .env("COGNITO_CLIENT_SECRET", "secret")
        .env("COGNITO_TOKEN_URL", "http://127.0.0.1:9/oauth2/token");
    command
}

/// Runs the binary with a valid environment plus `extra`, expecting it to refuse to start.
fn refuses_to_start(extra: &[(&str, &str)]) -> String {
    let output = valid_command()
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

/// Starts the binary with `LOG_FORMAT` and returns its first log line, then stops it.
fn first_log_line(log_format: &str) -> String {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(BINARY)
        .env_clear()
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("PREMIUM_API_URL", "http://127.0.0.1:9/home/premium")
        .env("COGNITO_CLIENT_ID", "client")
        .env("COGNITO_CLIENT_SECRET", "secret")
        .env("COGNITO_TOKEN_URL", "http://127.0.0.1:9/oauth2/token")
        .env("LOG_FORMAT", log_format)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("a log line");
    let _ = child.kill();
    let _ = child.wait();
    line
}

#[test]
fn log_format_json_writes_one_object_per_line_and_text_does_not() {
    let json: serde_json::Value =
        serde_json::from_str(&first_log_line("json")).expect("a JSON log line");
    assert_eq!(json["level"], "INFO", "{json}");
    let text = first_log_line("text");
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );
    assert!(text.contains("INFO"), "{text}");
    // Not a terminal: no colour codes.
    assert!(!text.contains('\u{1b}'), "{text:?}");
}

#[test]
fn an_unknown_log_format_is_named() {
    let stderr = refuses_to_start(&[("LOG_FORMAT", "yaml")]);
    assert!(stderr.contains("LOG_FORMAT"), "stderr: {stderr}");
}

/// Each LOG_LEVEL name, Python's and tracing's in any case, means the same here as in every
/// binary: `WARNING` used to be read as a target name and silence every line.
#[test]
fn every_log_level_name_is_read_as_every_binary_reads_it() {
    telemetry::testing::check_every_level_name_of_server(valid_command);
}
