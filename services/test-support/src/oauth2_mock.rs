//! oauth2-mock-server (npm), a third-party OAuth2 server, shaped like a Cognito user pool by
//! `oauth2-cognito.js` beside this crate's manifest.

use std::process::Command;

use serde_json::Value;

use crate::process::{Process, tool, tools_dir};

/// An app client of the mock user pool.
#[derive(Debug, Clone)]
pub struct PoolClient {
    /// Client id.
    pub id: String,
    /// Client secret.
    pub secret: String,
    /// Scopes it may request.
    pub scopes: Vec<String>,
}

impl PoolClient {
    /// A client with these credentials and scopes.
    pub fn new(id: &str, secret: &str, scopes: &[&str]) -> Self {
        Self {
            id: id.to_owned(),
            secret: secret.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// oauth2-mock-server shaped like a Cognito user pool (`oauth2-cognito.js`).
#[derive(Debug)]
pub struct Oauth2Cognito {
    /// The node process.
    pub process: Process,
    /// The `iss` of its tokens: `http://127.0.0.1:PORT/{pool}`.
    pub issuer: String,
    /// `http://127.0.0.1:PORT/oauth2/token`.
    pub token_endpoint: String,
    /// `http://127.0.0.1:PORT/{pool}/.well-known/jwks.json`.
    pub jwks_uri: String,
}

impl Oauth2Cognito {
    /// Starts the mock pool `pool` with `clients` on a free port.
    pub fn start(pool: &str, clients: &[PoolClient]) -> Self {
        let script = crate::repo_root().join("services/test-support/oauth2-cognito.js");
        let spec = clients
            .iter()
            .map(|c| format!("{}:{}:{}", c.id, c.secret, c.scopes.join(",")))
            .collect::<Vec<_>>()
            .join(";");
        let mut command = Command::new(tool("node"));
        command
            .arg(script)
            .args(["--port", "0", "--pool", pool, "--clients", &spec])
            .env("TOOLS_DIR", tools_dir());
        let mut process = Process::spawn("oauth2-mock-server", command);
        let ready: Value = serde_json::from_str(&process.wait_for_stdout_line("READY "))
            .expect("the READY line is JSON");
        let field = |k: &str| ready[k].as_str().expect("READY names it").to_owned();
        Self {
            issuer: field("issuer"),
            token_endpoint: field("token_endpoint"),
            jwks_uri: field("jwks_uri"),
            process,
        }
    }
}
