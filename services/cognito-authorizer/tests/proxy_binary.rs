//! The cognito-authorizer binary in proxy mode (`UPSTREAM_URL`) between a client and a real
//! upstream in another language (test-support's Python `EchoUpstream`), with local-cognito
//! issuing the tokens: allowed requests arrive with the verified identity and the normalised
//! path, refused and unjudgeable ones never arrive, public ones arrive without identity, and a
//! dead upstream is a 502.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use local_cognito::faults::TestIssuer;
use local_cognito::issuer::{AppClient, Config as IssuerConfig};
use serde_json::Value;
use test_support::{
    EchoUpstream, Process, closed_url, echoed_header, free_port, temp_volume, wait_until_ok,
};

const BINARY: &str = env!("CARGO_BIN_EXE_cognito-authorizer");
const READ: &str = "premium_api/read";
const WRITE: &str = "premium_api/write";

/// The binary proxying to `upstream_url` for a local pool with `reader` and `writer`.
struct Proxy {
    pool: TestIssuer,
    folder: PathBuf,
    base: String,
    process: Process,
    http: reqwest::Client,
}

impl Proxy {
    async fn start(upstream_url: &str) -> Self {
        Self::start_with(upstream_url, &[]).await
    }

    /// As [`Proxy::start`], with more variables in the binary's environment.
    async fn start_with(upstream_url: &str, env: &[(&str, &str)]) -> Self {
        let pool = TestIssuer::start(IssuerConfig::new(
            "us-east-1_Proxy",
            vec![
                AppClient::new("reader", "s3cret-r", [READ]),
                AppClient::new("writer", "s3cret-w", [READ, WRITE]),
            ],
        ));
        let folder = temp_volume("authorizer-proxy");
        let policy = folder.join("policy.yaml");
        std::fs::write(
            &policy,
            format!(
                "issuers:\n  - issuer: {}\nrules:\n  \
                 - path: /home/premium\n    methods: [GET]\n    scopes: [{READ}]\n  \
                 - path: /home/premium\n    methods: [POST]\n    scopes: [{WRITE}]\n  \
                 - path: /admin/**\n    allScopes: [{READ}, {WRITE}]\n  \
                 - path: /public/**\n    public: true\ndefault: deny\n",
                pool.issuer.issuer_url()
            ),
        )
        .unwrap();
        let (traffic, admin) = (free_port(), free_port());
        let mut command = Command::new(BINARY);
        command
            .env("POLICY_FILE", &policy)
            .env("UPSTREAM_URL", upstream_url)
            .env("LISTEN_ADDR", format!("127.0.0.1:{traffic}"))
            .env("ADMIN_LISTEN_ADDR", format!("127.0.0.1:{admin}"))
            .env("LOG_LEVEL", "debug")
            .envs(env.iter().copied());
        let process = Process::spawn("cognito-authorizer", command);
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        wait_until_ok(&http, &format!("http://127.0.0.1:{admin}/readyz"), &process).await;
        Self {
            pool,
            folder,
            base: format!("http://127.0.0.1:{traffic}"),
            process,
            http,
        }
    }

    fn bearer(&self, client: &str, scopes: &[&str]) -> String {
        format!("Bearer {}", self.pool.issuer.mint(client, scopes))
    }

    fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// The upstream's echo of an allowed request.
async fn echoed(request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A refusal by the proxy itself: its status and JSON body (never the upstream's echo).
async fn refusal(request: reqwest::RequestBuilder) -> (u16, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn allowed_requests_reach_the_python_upstream_with_the_verified_identity() {
    let upstream = EchoUpstream::start();
    let proxy = Proxy::start(&upstream.url).await;

    let token = proxy.bearer("reader", &[READ]);
    let echo = echoed(
        proxy
            .request("GET", "//home/premium?page=2&sort=-date")
            .header("authorization", &token)
            .header("x-cognito-client-id", "writer")
            .header("x-cognito-scopes", WRITE),
    )
    .await;
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["target"], "/home/premium?page=2&sort=-date");
    assert_eq!(echoed_header(&echo, "x-cognito-client-id"), ["reader"]);
    assert_eq!(echoed_header(&echo, "x-cognito-scopes"), [READ]);
    assert_eq!(
        echoed_header(&echo, "x-cognito-issuer"),
        [proxy.pool.issuer.issuer_url()]
    );
    // The token goes on too: the upstream may want to read more of it.
    assert_eq!(echoed_header(&echo, "authorization"), [token.as_str()]);

    let echo = echoed(
        proxy
            .request("POST", "/home/premium/")
            .header("authorization", proxy.bearer("writer", &[READ, WRITE]))
            .header("content-type", "application/json")
            .body(r#"{"title":"new"}"#),
    )
    .await;
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["target"], "/home/premium");
    assert_eq!(echo["body"], r#"{"title":"new"}"#);
    assert_eq!(echoed_header(&echo, "x-cognito-client-id"), ["writer"]);

    // HEAD is judged as GET and answered with the upstream's head.
    let response = proxy
        .request("HEAD", "/home/premium")
        .header("authorization", proxy.bearer("reader", &[READ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn refused_and_unjudgeable_requests_never_reach_the_upstream() {
    let upstream = EchoUpstream::start();
    let proxy = Proxy::start(&upstream.url).await;
    let reader = proxy.bearer("reader", &[READ]);

    let (status, body) = refusal(proxy.request("GET", "/home/premium")).await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    let (status, body) = refusal(
        proxy
            .request("POST", "/home/premium")
            .header("authorization", &reader),
    )
    .await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    // `..` is resolved before judging: this is /admin, which needs both scopes.
    let (status, body) = refusal(
        proxy
            .request("GET", "/home/%2e%2e/admin")
            .header("authorization", &reader),
    )
    .await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    for path in ["/public%2F..%2Fadmin", "/public/..%5Cadmin"] {
        let (status, body) =
            refusal(proxy.request("GET", path).header("authorization", &reader)).await;
        assert_eq!(
            (status, body.as_str()),
            (400, r#"{"message":"Bad Request"}"#),
            "{path}"
        );
    }
    assert_eq!(upstream.requests_received().await, 0);
    echoed(proxy.request("GET", "/public/ok")).await;
    assert_eq!(upstream.requests_received().await, 1);
}

#[tokio::test]
async fn public_routes_reach_the_upstream_without_any_identity() {
    let upstream = EchoUpstream::start();
    let proxy = Proxy::start(&upstream.url).await;

    let echo = echoed(
        proxy
            .request("GET", "/public/docs/index.html")
            .header("x-cognito-client-id", "writer")
            .header("x-cognito-scopes", WRITE)
            .header("x-cognito-issuer", "https://attacker.example"),
    )
    .await;
    assert_eq!(echo["target"], "/public/docs/index.html");
    for name in [
        "x-cognito-client-id",
        "x-cognito-scopes",
        "x-cognito-issuer",
    ] {
        assert!(echoed_header(&echo, name).is_empty(), "{name} reached it");
    }
}

#[tokio::test]
async fn a_dead_upstream_is_a_502_with_a_json_message() {
    let proxy = Proxy::start(&closed_url("")).await;

    let (status, body) = refusal(proxy.request("GET", "/public/page")).await;
    assert_eq!(status, 502);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot connect to the upstream"),
        "{body}"
    );
    assert!(
        proxy
            .process
            .printed_within("proxied request failed", Duration::from_secs(30)),
        "the failure is logged"
    );
    assert!(
        proxy
            .process
            .output()
            .contains("cannot connect to the upstream")
    );
}

#[tokio::test]
async fn an_upstream_slower_than_upstream_timeout_seconds_is_a_504() {
    let upstream = EchoUpstream::start();
    let proxy = Proxy::start_with(&upstream.url, &[("UPSTREAM_TIMEOUT_SECONDS", "1")]).await;

    let (status, body) = refusal(proxy.request("GET", "/public/page?fixture=hang")).await;
    assert_eq!(status, 504, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(body["message"].as_str().is_some(), "{body}");
}
