//! The cognito-authorizer binary as a process, with a real local-cognito issuing the tokens and
//! serving the JWKS: Envoy ext_authz and ingress-nginx auth-url check requests in the shapes
//! their documentation gives, spoofed identity headers, the deny answers, 404 without an
//! upstream, the admin port, policy reloads through a ConfigMap-style `..data` swap, and
//! configuration errors.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use local_cognito::faults::TestIssuer;
use local_cognito::issuer::{AppClient, Config as IssuerConfig, Issuer};
use reqwest::header::HeaderMap;
use test_support::{
    Process, closed_url, eventually, free_port, kubelet_write, temp_volume, wait_until_ok,
};

const BINARY: &str = env!("CARGO_BIN_EXE_cognito-authorizer");
const READ: &str = "premium_api/read";
const WRITE: &str = "premium_api/write";

/// A local user pool on a loopback port (stopped when dropped): its issuer URL is what tokens
/// carry, its JWKS is at the default place.
struct Pool {
    issuer: Arc<Issuer>,
    _server: TestIssuer,
}

impl Pool {
    fn start() -> Self {
        let server = TestIssuer::start(IssuerConfig::new(
            "us-east-1_Authorizer",
            vec![
                AppClient::new("reader", "s3cret-r", [READ]),
                AppClient::new("writer", "s3cret-w", [READ, WRITE]),
                AppClient::new("stranger", "s3cret-s", [READ]),
            ],
        ));
        Self {
            issuer: server.issuer.clone(),
            _server: server,
        }
    }

    fn token(&self, client: &str, scopes: &[&str]) -> String {
        self.issuer.mint(client, scopes)
    }

    /// The test policy: premium reads and writes, an all-of admin tree, a public tree, and only
    /// `reader` and `writer` of the pool.
    fn policy(&self, extra_rules: &str) -> String {
        format!(
            "issuers:\n  - issuer: {issuer}\n    clientIds: [reader, writer]\nrules:\n{extra_rules}  \
             - path: /home/premium\n    methods: [GET, HEAD]\n    scopes: [{READ}]\n  \
             - path: /home/premium\n    methods: [POST]\n    scopes: [{WRITE}]\n  \
             - path: /admin/**\n    allScopes: [{READ}, {WRITE}]\n  \
             - path: /public/**\n    public: true\ndefault: deny\n",
            issuer = self.issuer.issuer_url()
        )
    }
}

/// cognito-authorizer running with its policy in a ConfigMap-style folder.
struct Authorizer {
    process: Process,
    traffic: String,
    admin: String,
    volume: PathBuf,
    http: reqwest::Client,
}

impl Authorizer {
    async fn start(policy: &str) -> Self {
        Self::start_with(policy, &[]).await
    }

    /// As [`start`](Self::start), with more variables.
    async fn start_with(policy: &str, env: &[(&str, &str)]) -> Self {
        let volume = temp_volume("authorizer-policy");
        kubelet_write(&volume, &[("policy.yaml", policy)]);
        let (traffic_port, admin_port) = (free_port(), free_port());
        let mut command = clean_command();
        command
            .env("POLICY_FILE", volume.join("policy.yaml"))
            .env("LISTEN_ADDR", format!("127.0.0.1:{traffic_port}"))
            .env("ADMIN_LISTEN_ADDR", format!("127.0.0.1:{admin_port}"))
            .env("LOG_LEVEL", "debug")
            .env("SHUTDOWN_DELAY", "0s")
            .envs(env.iter().copied());
        let process = Process::spawn("cognito-authorizer", command);
        let http = reqwest::Client::new();
        let admin = format!("http://127.0.0.1:{admin_port}");
        wait_until_ok(&http, &format!("{admin}/readyz"), &process).await;
        Self {
            process,
            traffic: format!("http://127.0.0.1:{traffic_port}"),
            admin,
            volume,
            http,
        }
    }

    /// Replaces the policy the way the kubelet updates a ConfigMap volume.
    fn update_policy(&self, policy: &str) {
        kubelet_write(&self.volume, &[("policy.yaml", policy)]);
    }

    async fn metrics(&self) -> String {
        let response = self
            .http
            .get(format!("{}/metrics", self.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// Envoy's HTTP ext_authz check of `method` `path` (with its query): the original method,
    /// `path_prefix` + the original path, `Host`, `Authorization` and `Content-Length: 0`.
    async fn ext_authz(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .http
            .request(
                method.parse().unwrap(),
                format!("{}/ext_authz{path}", self.traffic),
            )
            .header("host", "api.example.com")
            .header("content-length", "0")
            .header("x-forwarded-proto", "https")
            .header("x-request-id", "2cbd2bad-8298-4e75-af98-c9301b7ba061");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Answer::of(request.send().await.unwrap()).await
    }

    /// ingress-nginx's auth-url subrequest: `GET /auth` with the client's headers, and
    /// `X-Original-URL`, `X-Original-Method` and the others its template sets.
    async fn auth_url(&self, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .http
            .get(format!("{}/auth", self.traffic))
            .header("host", "cognito-authorizer.default.svc.cluster.local")
            .header("x-sent-from", "nginx-ingress-controller")
            .header("x-real-ip", "10.0.0.7")
            .header("x-forwarded-for", "10.0.0.7")
            .header("x-auth-request-redirect", "/home/premium")
            .header("x-forwarded-host", "api.example.com");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Answer::of(request.send().await.unwrap()).await
    }
}

impl Drop for Authorizer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.volume);
    }
}

/// A response, read to its end.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    async fn of(response: reqwest::Response) -> Self {
        Self {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

fn clean_command() -> Command {
    let mut command = Command::new(BINARY);
    for variable in [
        "POLICY_FILE",
        "UPSTREAM_URL",
        "LISTEN_ADDR",
        "ADMIN_LISTEN_ADDR",
        "RUST_LOG",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "CLOCK_LEEWAY_SECONDS",
        "VERIFIED_TOKEN_CACHE_SIZE",
        "JWKS_REFRESH_SECONDS",
        "SHUTDOWN_DELAY",
    ] {
        command.env_remove(variable);
    }
    command
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn envoy_ext_authz_checks_get_the_verdict_and_the_identity() {
    let pool = Pool::start();
    let authorizer = Authorizer::start(&pool.policy("")).await;
    let reader = bearer(&pool.token("reader", &[READ]));
    let writer = bearer(&pool.token("writer", &[READ, WRITE]));

    let allowed = authorizer
        .ext_authz("GET", "/home/premium?page=2", &[("authorization", &reader)])
        .await;
    assert_eq!(allowed.status, 200, "{allowed:?}");
    assert_eq!(allowed.header("x-cognito-client-id"), Some("reader"));
    assert_eq!(allowed.header("x-cognito-scopes"), Some(READ));
    assert_eq!(
        allowed.header("x-cognito-issuer"),
        Some(pool.issuer.issuer_url())
    );
    // No removal list beside a verified identity: Envoy removes after it sets, so one would
    // take the identity away again.
    assert_eq!(allowed.header("x-envoy-auth-headers-to-remove"), None);

    // The original method is judged: a POST needs the write scope.
    let refused = authorizer
        .ext_authz("POST", "/home/premium", &[("authorization", &reader)])
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body, r#"{"message":"Forbidden"}"#);
    assert_eq!(
        refused.header("www-authenticate"),
        Some(
            "Bearer realm=\"cognito-authorizer\", error=\"insufficient_scope\", \
             scope=\"premium_api/write\""
        )
    );
    assert!(refused.header("x-cognito-client-id").is_none());
    let written = authorizer
        .ext_authz("post", "/home/premium", &[("authorization", &writer)])
        .await;
    assert_eq!(written.status, 200, "method case does not matter");

    // HEAD is covered by the GET rule; all-of scopes; the default denies valid tokens.
    let head = authorizer
        .ext_authz("HEAD", "/home/premium", &[("authorization", &reader)])
        .await;
    assert_eq!(head.status, 200);
    let admin = authorizer
        .ext_authz("DELETE", "/admin/users/7", &[("authorization", &reader)])
        .await;
    assert_eq!(admin.status, 403);
    let admin = authorizer
        .ext_authz("DELETE", "/admin/users/7", &[("authorization", &writer)])
        .await;
    assert_eq!(admin.status, 200);
    let unruled = authorizer
        .ext_authz("GET", "/elsewhere", &[("authorization", &writer)])
        .await;
    assert_eq!(
        (unruled.status, unruled.body.as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );

    // Paths are judged normalised: dot segments cannot climb out of a public tree, encoded
    // slashes are refused.
    let climbed = authorizer
        .ext_authz("GET", "/public/%2e%2e/admin/users", &[])
        .await;
    assert_eq!(climbed.status, 401, "{climbed:?}");
    let encoded = authorizer
        .ext_authz("GET", "/public/..%2Fadmin", &[("authorization", &writer)])
        .await;
    assert_eq!(
        (encoded.status, encoded.body.as_str()),
        (400, r#"{"message":"Bad Request"}"#)
    );
    let doubled = authorizer
        .ext_authz("GET", "//home/premium/", &[("authorization", &reader)])
        .await;
    assert_eq!(doubled.status, 200);
    authorizer.process.terminate();
}

#[tokio::test]
async fn deny_answers_and_spoofed_identity_headers() {
    let pool = Pool::start();
    let authorizer = Authorizer::start(&pool.policy("")).await;

    let missing = authorizer.ext_authz("GET", "/home/premium", &[]).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.body, r#"{"message":"Unauthorized"}"#);
    assert_eq!(
        missing.header("www-authenticate"),
        Some("Bearer realm=\"cognito-authorizer\"")
    );
    let garbage = authorizer
        .ext_authz(
            "GET",
            "/home/premium",
            &[("authorization", "Bearer not.a.jwt")],
        )
        .await;
    assert_eq!(garbage.status, 401);
    assert!(
        garbage
            .header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\""),
        "{garbage:?}"
    );
    // A client of the pool outside the policy's allow-list.
    let stranger = bearer(&pool.token("stranger", &[READ]));
    let answer = authorizer
        .ext_authz("GET", "/home/premium", &[("authorization", &stranger)])
        .await;
    assert_eq!(answer.status, 401);

    // Identity headers sent by the client never come back as the verified identity.
    let reader = bearer(&pool.token("reader", &[READ]));
    let spoofed = [
        ("authorization", reader.as_str()),
        ("x-cognito-client-id", "writer"),
        ("x-cognito-scopes", "premium_api/write"),
        ("x-cognito-issuer", "https://evil.example.com"),
    ];
    let answer = authorizer
        .ext_authz("POST", "/home/premium", &spoofed)
        .await;
    assert_eq!(answer.status, 403, "spoofed scopes grant nothing");
    let answer = authorizer.ext_authz("GET", "/home/premium", &spoofed).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-cognito-client-id"), Some("reader"));
    assert_eq!(answer.header("x-cognito-scopes"), Some(READ));
    // A public route carries no identity, and tells Envoy to drop the client's.
    let public = authorizer
        .ext_authz("GET", "/public/logo.png", &spoofed[1..])
        .await;
    assert_eq!(public.status, 200);
    assert!(public.header("x-cognito-client-id").is_none());
    assert_eq!(
        public.header("x-envoy-auth-headers-to-remove"),
        Some("x-cognito-client-id,x-cognito-scopes,x-cognito-issuer")
    );
    authorizer.process.terminate();
}

#[tokio::test]
async fn ingress_nginx_auth_url_checks_the_original_method_and_url() {
    let pool = Pool::start();
    let authorizer = Authorizer::start(&pool.policy("")).await;
    let reader = bearer(&pool.token("reader", &[READ]));

    let allowed = authorizer
        .auth_url(&[
            ("authorization", &reader),
            ("x-original-method", "GET"),
            (
                "x-original-url",
                "https://api.example.com/home/premium?page=2",
            ),
        ])
        .await;
    assert_eq!(allowed.status, 200, "{allowed:?}");
    assert_eq!(allowed.header("x-cognito-client-id"), Some("reader"));
    let refused = authorizer
        .auth_url(&[
            ("authorization", &reader),
            ("x-original-method", "POST"),
            ("x-original-url", "https://api.example.com/home/premium"),
        ])
        .await;
    assert_eq!(refused.status, 403);
    assert!(
        refused
            .header("www-authenticate")
            .unwrap()
            .contains("insufficient_scope")
    );
    let anonymous = authorizer
        .auth_url(&[
            ("x-original-method", "GET"),
            ("x-original-url", "https://api.example.com/home/premium"),
        ])
        .await;
    assert_eq!(anonymous.status, 401);
    let public = authorizer
        .auth_url(&[
            ("x-original-method", "GET"),
            ("x-original-url", "http://api.example.com/public/a/b"),
        ])
        .await;
    assert_eq!(public.status, 200);

    for headers in [
        vec![("x-original-method", "GET")],
        vec![("x-original-url", "https://api.example.com/home/premium")],
        vec![
            ("x-original-method", "G E T"),
            ("x-original-url", "https://x/home/premium"),
        ],
        vec![
            ("x-original-method", "GET"),
            ("x-original-url", "not a url"),
        ],
    ] {
        let mut with_token = headers.clone();
        with_token.push(("authorization", &reader));
        let answer = authorizer.auth_url(&with_token).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (400, r#"{"message":"Bad Request"}"#),
            "{headers:?}"
        );
    }
    // Only GET is the auth-url check; other paths without an upstream are 404.
    for (method, path) in [
        ("POST", "/auth"),
        ("GET", "/home/premium"),
        ("GET", "/ext_authzx"),
    ] {
        let answer = authorizer
            .http
            .request(
                method.parse().unwrap(),
                format!("{}{path}", authorizer.traffic),
            )
            .header("authorization", &reader)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404, "{method} {path}");
        assert_eq!(answer.text().await.unwrap(), r#"{"message":"Not Found"}"#);
    }

    let metrics = authorizer.metrics().await;
    for series in [
        r#"cognito_authorizer_decisions_total{mode="auth_url",outcome="allow",reason="verified"} 1"#,
        r#"cognito_authorizer_decisions_total{mode="auth_url",outcome="allow",reason="public"} 1"#,
        r#"cognito_authorizer_decisions_total{mode="auth_url",outcome="deny",reason="insufficient_scope"} 1"#,
        r#"cognito_authorizer_decisions_total{mode="auth_url",outcome="deny",reason="missing_token"} 1"#,
        r#"cognito_authorizer_policy_rules 4"#,
    ] {
        assert!(
            metrics.contains(series),
            "{series} missing from:\n{metrics}"
        );
    }
    authorizer.process.terminate();
}

#[tokio::test]
async fn a_changed_policy_is_used_and_a_broken_one_keeps_the_old() {
    let pool = Pool::start();
    let authorizer = Authorizer::start(&pool.policy("")).await;
    let anonymous_reports = || authorizer.ext_authz("GET", "/reports/q3", &[]);
    assert_eq!(anonymous_reports().await.status, 401);
    // A token verified before the reload...
    let reader = bearer(&pool.token("reader", &[READ]));
    let answer = authorizer
        .ext_authz("GET", "/home/premium", &[("authorization", &reader)])
        .await;
    assert_eq!(answer.status, 200);

    authorizer.update_policy(&pool.policy("  - path: /reports/*\n    public: true\n"));
    eventually(
        "the new policy to be used",
        Duration::from_secs(20),
        || async { (anonymous_reports().await.status == 200).then_some(()) },
    )
    .await;
    let metrics = authorizer.metrics().await;
    assert!(
        metrics.contains(r#"cognito_authorizer_policy_reloads_total{result="success"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("cognito_authorizer_policy_rules 5"),
        "{metrics}"
    );
    // ...is still known after it: the issuers did not change, so the verifier (keys and
    // verified tokens) was kept.
    let answer = authorizer
        .ext_authz("GET", "/home/premium", &[("authorization", &reader)])
        .await;
    assert_eq!(answer.status, 200);
    let metrics = authorizer.metrics().await;
    assert!(
        metrics.contains("cognito_authorizer_verified_token_cache_hits_total 1"),
        "{metrics}"
    );

    // A typo on line 3: the previous policy stays in use, the error is logged and exposed.
    authorizer.update_policy(&pool.policy("  - path: /reports/*\n    publik: true\n"));
    let metrics = eventually(
        "the failed reload to be counted",
        Duration::from_secs(20),
        || async {
            let metrics = authorizer.metrics().await;
            metrics
                .contains(r#"cognito_authorizer_policy_reloads_total{result="failure"} 1"#)
                .then_some(metrics)
        },
    )
    .await;
    assert!(
        metrics.contains("cognito_authorizer_policy_reload_failing 1"),
        "{metrics}"
    );
    let policy_file = authorizer.volume.join("policy.yaml").display().to_string();
    let error_line = metrics
        .lines()
        .find(|line| line.starts_with("cognito_authorizer_policy_reload_error{"))
        .unwrap_or_else(|| panic!("no reload error series in:\n{metrics}"));
    assert!(
        error_line.contains(&format!("{policy_file}:")),
        "{error_line}"
    );
    assert!(error_line.contains("publik"), "{error_line}");
    assert_eq!(
        anonymous_reports().await.status,
        200,
        "the previous policy is still used"
    );
    assert!(
        authorizer
            .process
            .printed_within("previous one stays in use", Duration::from_secs(5)),
        "{}",
        authorizer.process.output()
    );
    let readyz = authorizer
        .http
        .get(format!("{}/readyz", authorizer.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(readyz.status(), 200);

    // Fixed again: used, and the error series is gone.
    authorizer.update_policy(&pool.policy(""));
    eventually(
        "the fixed policy to be used",
        Duration::from_secs(20),
        || async { (anonymous_reports().await.status == 401).then_some(()) },
    )
    .await;
    let metrics = authorizer.metrics().await;
    assert!(
        metrics.contains("cognito_authorizer_policy_reload_failing 0"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("cognito_authorizer_policy_reload_error{"),
        "{metrics}"
    );
    authorizer.process.terminate();
}

#[tokio::test]
async fn sigterm_fails_readiness_at_once_then_stops_both_ports() {
    let pool = Pool::start();
    let mut authorizer =
        Authorizer::start_with(&pool.policy(""), &[("SHUTDOWN_DELAY", "3s")]).await;
    let readyz = format!("{}/readyz", authorizer.admin);
    authorizer.process.terminate();
    eventually("readiness to fail", Duration::from_secs(10), || async {
        let response = authorizer.http.get(&readyz).send().await.ok()?;
        (response.status() == 503).then_some(())
    })
    .await;
    // Still judging during SHUTDOWN_DELAY.
    let check = authorizer.ext_authz("GET", "/public/a", &[]).await;
    assert_eq!(check.status, 200);
    let status = authorizer
        .process
        .exited_within(Duration::from_secs(30))
        .await;
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

/// Each LOG_LEVEL name, Python's and tracing's in any case, means the same here as in every binary.
#[test]
fn every_log_level_name_is_read_as_every_binary_reads_it() {
    let dir = temp_volume("authorizer-levels");
    let policy = policy_file(
        &dir,
        &format!(
            "issuers:\n  - issuer: {}\nrules:\n  - path: /a\n    public: true\n",
            closed_url("/pool")
        ),
    );
    telemetry::testing::check_every_level_name_of_server(|| {
        let mut command = clean_command();
        command
            .env("POLICY_FILE", &policy)
            .env("ADMIN_LISTEN_ADDR", format!("127.0.0.1:{}", free_port()));
        command
    });
    std::fs::remove_dir_all(dir).unwrap();
}

/// Starts the binary with `env` on free ports and returns its exit code and output.
fn fails_to_start(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = clean_command();
    command
        .env("LISTEN_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("ADMIN_LISTEN_ADDR", format!("127.0.0.1:{}", free_port()));
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

fn policy_file(dir: &Path, text: &str) -> String {
    let path = dir.join("policy.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn bad_configuration_fails_at_start_naming_the_variable_or_the_policy_line() {
    let dir = temp_volume("authorizer-config");
    let good = policy_file(
        &dir,
        "issuers:\n  - issuer: https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X\nrules:\n  - path: /a\n    public: true\n",
    );
    for (env, expected) in [
        (vec![], "POLICY_FILE"),
        (
            vec![("POLICY_FILE", good.as_str()), ("LISTEN_ADDR", "nowhere")],
            "LISTEN_ADDR",
        ),
        (
            vec![
                ("POLICY_FILE", good.as_str()),
                ("CLOCK_LEEWAY_SECONDS", "900"),
            ],
            "CLOCK_LEEWAY_SECONDS",
        ),
        (
            vec![
                ("POLICY_FILE", good.as_str()),
                ("JWKS_REFRESH_SECONDS", "0"),
            ],
            "JWKS_REFRESH_SECONDS",
        ),
        (
            vec![("POLICY_FILE", good.as_str()), ("LOG_LEVEL", "[broken")],
            "LOG_LEVEL",
        ),
        (
            vec![("POLICY_FILE", "/nonexistent/policy.yaml")],
            "/nonexistent/policy.yaml",
        ),
    ] {
        let (code, output) = fails_to_start(&env);
        assert_ne!(code, Some(0), "{env:?}");
        assert!(output.contains(expected), "{env:?}: {output}");
    }
    // A policy error names the file, the line and the key at fault.
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "issuers:\n  - issuer: https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X\nrules:\n  - path: /a\n    methods: [GET]\n    sopes: [x/read]\n",
    )
    .unwrap();
    let bad = bad.display().to_string();
    let (code, output) = fails_to_start(&[("POLICY_FILE", bad.as_str())]);
    assert_eq!(code, Some(2));
    assert!(
        output.contains(&format!("POLICY_FILE: {bad}:6:")) && output.contains("sopes"),
        "{output}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
