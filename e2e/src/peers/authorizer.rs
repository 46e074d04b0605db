//! The `cognito-authorizer` binary as a process: its policy in a folder laid out as the kubelet
//! lays out a ConfigMap volume, the traffic and admin ports on loopback, ready once `/readyz`
//! answers 200 (the policy loaded and every user pool's JWKS fetched).

use std::path::PathBuf;
use std::process::Command;

use test_support::{Process, free_port, kubelet_write, temp_volume, wait_until_ok};

use crate::our_binary;

/// A running authorizer; killed when dropped.
#[derive(Debug)]
pub struct Authorizer {
    /// The process.
    pub process: Process,
    /// Its traffic port (checks, and the proxy with an upstream).
    pub port: u16,
    /// `http://127.0.0.1:PORT` of its admin port.
    pub admin: String,
    /// The policy folder (`policy.yaml` in it).
    pub volume: PathBuf,
}

impl Authorizer {
    /// Starts it with `policy` (YAML text), proxying to `upstream_url` when given.
    pub async fn start(policy: &str, upstream_url: Option<&str>, http: &reqwest::Client) -> Self {
        let volume = temp_volume("authorizer-policy");
        kubelet_write(&volume, &[("policy.yaml", policy)]);
        let (port, admin_port) = (free_port(), free_port());
        let mut command = Command::new(our_binary("cognito-authorizer"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("POLICY_FILE", volume.join("policy.yaml"))
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("ADMIN_LISTEN_ADDR", format!("127.0.0.1:{admin_port}"))
            .env("LOG_LEVEL", "info")
            .env("SHUTDOWN_DELAY", "0s");
        if let Some(url) = upstream_url {
            command.env("UPSTREAM_URL", url);
        }
        let process = Process::spawn("cognito-authorizer", command);
        let admin = format!("http://127.0.0.1:{admin_port}");
        wait_until_ok(http, &format!("{admin}/readyz"), &process).await;
        Self {
            process,
            port,
            admin,
            volume,
        }
    }
}
