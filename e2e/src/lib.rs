//! End-to-end tests: our binaries as real processes against third-party servers. This library
//! holds only what those tests alone use; the third-party servers (oauth2-mock-server, moto) and
//! the process handling are `test-support`'s, shared with other crates' tests.
//!
//! - [`Service`]: `premium-content` and `content-consumer`, the binaries Cargo built into the
//!   target folder next to the test executable (`target/debug/`), or into `E2E_BIN_DIR`.
//! - [`pod_runtime`]: the rendered chart's pods as `docker run` settings (the one source the
//!   container suite and `compose.yaml` are checked against).
//! - [`docker`]: networks and containers through the docker client, for the container suite
//!   (`tests/containers/`, feature `containers`, run by `scripts/check-images`).
//! - [`peers`]: Envoy and nginx configured as Istio and ingress-nginx configure them, in front
//!   of an echo upstream, with `cognito-authorizer` (`tests/peers.rs`).
//!
//! The tests in `tests/` are `#[ignore]`d because they need those tools and the binaries built
//! first; `scripts/test` installs the tools (`scripts/install-test-tools`), builds everything
//! (`cargo test --workspace --no-run`, which builds both binaries for their own integration
//! tests) and runs all tests with `--include-ignored`. By hand: `cargo build -p premium-content
//! -p content-consumer && cargo test -p e2e -- --include-ignored` (the binaries are used as they
//! are in the target folder, so build them after changing them).

pub mod docker;
pub mod peers;
pub mod pod_runtime;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use test_support::{Process, free_port, wait_until_ok};

/// Where Cargo put the workspace's binaries: `E2E_BIN_DIR`, else the profile folder holding
/// this test executable (`target/debug/deps/e2e-...` -> `target/debug/`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("E2E_BIN_DIR") {
        return dir.into();
    }
    let exe = std::env::current_exe().expect("the test executable has a path");
    let deps = exe.parent().expect("the test executable is in a folder");
    deps.parent().unwrap_or(deps).to_path_buf()
}

/// The path of one of our binaries, which must have been built (`cargo build --bins`).
pub fn our_binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: build it first with `cargo build -p {name}` (scripts/test does)",
        path.display()
    );
    path
}

/// One of our services running as its real binary.
#[derive(Debug)]
pub struct Service {
    /// The process.
    pub process: Process,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Service {
    /// Starts binary `name` on a free port with exactly `env` (plus PATH, HOME and logging: no
    /// variable of the test's own environment leaks in), and waits for `ready_path` to answer 200.
    pub async fn start(
        name: &str,
        env: &BTreeMap<&'static str, String>,
        ready_path: &str,
        http: &reqwest::Client,
    ) -> Self {
        let port = free_port();
        let mut command = Command::new(our_binary(name));
        command.env_clear();
        for key in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        command
            .env("LOG_LEVEL", "info")
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .envs(env);
        let process = Process::spawn(name, command);
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ok(http, &format!("{base}{ready_path}"), &process).await;
        Self { process, base }
    }

    /// Waits up to `limit` for the process to exit after the SIGTERM sent at `signalled`;
    /// panics unless it exits 0 in time. Returns the time from the signal to the exit.
    pub async fn clean_exit(&mut self, signalled: Instant, limit: Duration) -> Duration {
        let status = self
            .process
            .exited_within(limit)
            .await
            .expect("the process exits after SIGTERM");
        assert!(status.success(), "clean exit: {status:?}");
        signalled.elapsed()
    }
}
