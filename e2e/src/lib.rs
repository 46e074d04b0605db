//! End-to-end harness: our binaries as real processes against third-party servers.
//! Other crates' tests use it too (as a dev-dependency) to start the same third-party servers.
//!
//! - [`Oauth2Cognito`]: `oauth2-mock-server` (npm) shaped like a Cognito user pool by
//!   `e2e/oauth2-cognito.js`, the token issuer.
//! - [`Moto`]: `moto_server` (PyPI) as AWS Secrets Manager.
//! - [`Service`]: `premium-content` and `content-consumer`, the binaries Cargo built into the
//!   target folder next to the test executable (`target/debug/`), or into `E2E_BIN_DIR`.
//!
//! The tests in `tests/` are `#[ignore]`d because they need those tools and the binaries built
//! first; `scripts/test` installs the tools (`scripts/install-test-tools`), builds everything
//! (`cargo test --workspace --no-run`, which builds both binaries for their own integration
//! tests) and runs all tests with `--include-ignored`. By hand: `cargo build -p premium-content
//! -p content-consumer && cargo test -p e2e -- --include-ignored` (the binaries are used as they
//! are in the target folder, so build them after changing them).
//!
//! Every process is killed when its handle drops; its output is kept and printed when a test
//! panics, so a failure shows what the servers said. Everything listens on 127.0.0.1 only.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long a server may take to become ready.
const STARTUP: Duration = Duration::from_secs(60);

/// The folder the test tools were installed into (`scripts/install-test-tools`).
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOOLS_DIR") {
        return dir.into();
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/".into());
    Path::new(&home).join(".cache/cognito-m2m/tools")
}

/// A third-party command: from `PATH`, else from the tools' `bin` folder
/// (`scripts/install-test-tools`). `MOTO_SERVER` names the `moto_server` to use, if set.
pub fn tool(name: &str) -> PathBuf {
    if name == "moto_server"
        && let Some(path) = std::env::var_os("MOTO_SERVER")
    {
        return path.into();
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    let path = on_path.unwrap_or_else(|| tools_dir().join("bin").join(name));
    assert!(
        path.is_file(),
        "{name} not found on PATH nor in {}: run scripts/install-test-tools",
        tools_dir().join("bin").display()
    );
    path
}

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

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("loopback has free ports")
        .port()
}

/// A child process killed on drop, with its output collected.
#[derive(Debug)]
pub struct Process {
    name: String,
    child: Child,
    output: Arc<Mutex<Vec<String>>>,
    lines: mpsc::Receiver<String>,
}

impl Process {
    /// Spawns `command` with piped output.
    pub fn spawn(name: &str, mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        collect(stdout, output.clone(), Some(tx));
        collect(stderr, output.clone(), None);
        Self {
            name: name.to_owned(),
            child,
            output,
            lines,
        }
    }

    /// Waits for a stdout line starting with `prefix` and returns the rest of it.
    pub fn wait_for_stdout_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + STARTUP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_owned();
                    }
                }
                Err(_) => panic!(
                    "{} printed no line starting with {prefix:?}; its output:\n{}",
                    self.name,
                    self.output()
                ),
            }
        }
    }

    /// Whether the process prints `text` within `limit` (its output is read by another thread,
    /// so a line written just before an HTTP answer may arrive just after it).
    pub fn printed_within(&self, text: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if self.output().contains(text) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.join("\n")).unwrap_or_default()
    }

    /// Kills the process now (a server that is down).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("----- {} output -----\n{}", self.name, self.output());
        }
    }
}

fn collect(
    stream: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<String>>>,
    lines: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(tx) = &lines {
                let _ = tx.send(line.clone());
            }
            if let Ok(mut sink) = sink.lock() {
                sink.push(line);
            }
        }
    });
}

/// Polls `url` until it answers 200.
pub async fn wait_until_ok(http: &reqwest::Client, url: &str, process: &Process) {
    let deadline = Instant::now() + STARTUP;
    loop {
        if let Ok(response) = http.get(url).send().await
            && response.status() == 200
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{url} never answered 200; {} printed:\n{}",
            process.name,
            process.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

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

/// oauth2-mock-server shaped like a Cognito user pool (`e2e/oauth2-cognito.js`).
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
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("oauth2-cognito.js");
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

/// moto_server, the AWS services mock, used as Secrets Manager.
#[derive(Debug)]
pub struct Moto {
    /// The moto process.
    pub process: Process,
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    http: reqwest::Client,
}

/// The AWS region the tests use.
pub const REGION: &str = "us-east-1";

impl Moto {
    /// Starts moto_server on a free port and waits until it answers.
    pub async fn start() -> Self {
        let port = free_port();
        let mut command = Command::new(tool("moto_server"));
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let process = Process::spawn("moto_server", command);
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        wait_until_ok(&http, &format!("{endpoint}/moto-api/"), &process).await;
        Self {
            process,
            endpoint,
            http,
        }
    }

    /// The environment an AWS SDK client needs to talk to this moto.
    pub fn aws_env(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ])
    }

    /// Creates a Secrets Manager secret (AWS JSON 1.1 protocol) and returns its ARN.
    pub async fn create_secret(&self, name: &str, secret_string: &str) -> String {
        let response = self
            .http
            .post(&self.endpoint)
            .header("x-amz-target", "secretsmanager.CreateSecret")
            .header("content-type", "application/x-amz-json-1.1")
            // moto routes by the credential scope of the (unchecked) signature.
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=test/20260101/{REGION}/secretsmanager/aws4_request, SignedHeaders=host, Signature=00"
                ),
            )
            .body(json!({ "Name": name, "SecretString": secret_string }).to_string())
            .send()
            .await
            .expect("moto answers");
        let status = response.status();
        let body: Value = response.json().await.expect("moto answers JSON");
        assert_eq!(status, 200, "CreateSecret failed: {body}");
        body["ARN"]
            .as_str()
            .expect("CreateSecret returns an ARN")
            .to_owned()
    }
}

/// The seed's Secrets Manager JSON for `client` of `pool`, exactly as the AWS sample's stack
/// writes it: the scope *names* beside the resource server identifier.
pub fn seed_secret_json(pool: &str, token_endpoint: &str, client: &PoolClient) -> String {
    json!({
        "user_pool_client_id": client.id,
        "app_client_secret": client.secret,
        "user_pool_oauth2_endpoint": token_endpoint,
        "user_pool_id": pool,
        "unicorn_user_pool_res_srv_identifier": "premium_api",
        "unicorn_read_scope": "read",
        "unicorn_write_scope": "write",
    })
    .to_string()
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
}
