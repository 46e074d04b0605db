//! The whole flow in one process: the seed's three answers, through the library and through
//! the `local-stack` command itself.

use std::process::Command;

use local_stack::{Ports, SEED_CALLS, launch};
use serde_json::Value;

#[tokio::test]
async fn the_demo_gives_the_seed_three_answers() {
    let stack = launch(Ports::ANY).await.expect("the stack starts");
    let calls = stack.demo().await.expect("the calls are answered");
    assert_eq!(calls.len(), 3);
    let answers: Vec<(u16, Value)> = calls
        .iter()
        .map(|c| (c.status, serde_json::from_str(&c.body).expect("JSON")))
        .collect();
    assert_eq!(
        answers,
        vec![
            (401, serde_json::json!({"message": "Unauthorized"})),
            (
                200,
                serde_json::json!({"message": "Premium Content: OAuth Scope: Read"})
            ),
            (
                200,
                serde_json::json!({"message": "Premium Content: OAuth Scope: Write"})
            ),
        ]
    );
    assert!(calls.iter().all(|c| c.as_expected));
    assert!(calls[1].url.ends_with("/content/authorized-read"));
    // premium content itself refuses a request without a token.
    let direct = reqwest::get(format!("{}/home/premium", stack.premium_base))
        .await
        .unwrap();
    assert_eq!(direct.status(), 401);
    stack.stop().await;
}

#[test]
fn the_command_prints_each_url_with_its_answer() {
    let output = once_on_free_ports().output().expect("local-stack runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("never production"), "{stdout}");
    for (path, status, body) in SEED_CALLS {
        let url_line = stdout
            .lines()
            .position(|l| l.starts_with("GET http://127.0.0.1:") && l.ends_with(path))
            .unwrap_or_else(|| panic!("no line for {path} in {stdout}"));
        let answer = stdout.lines().nth(url_line + 1).unwrap().trim();
        assert_eq!(answer, format!("{status} {body}"), "{stdout}");
    }
}

/// Each LOG_LEVEL name, Python's and tracing's in any case, means the same here as in every
/// binary; the whole flow runs once per name (no error is expected, so none is checked).
#[test]
fn every_log_level_name_is_read_as_every_binary_reads_it() {
    telemetry::testing::check_every_level_name(
        |level| telemetry::testing::logs_of(&mut once_on_free_ports(), level),
        None,
    );
}

/// `local-stack --once` on ports the system picks, so tests can run side by side.
fn once_on_free_ports() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_local-stack"));
    command.args([
        "--once",
        "--consumer-port",
        "0",
        "--premium-port",
        "0",
        "--issuer-port",
        "0",
    ]);
    command
}
