//! cognito-authorizer with the real peers its docs pages set up, configured from those pages:
//! Envoy with the `ext_authz` filter Istio builds for the extension provider of
//! docs/authorizer-istio.md, nginx with the `auth_request` configuration ingress-nginx renders
//! for the annotations of docs/authorizer-ingress-nginx.md, each in front of an echo upstream;
//! the chart rendered with the values and Ingress of docs/authorizer-alb-sidecar.md; the pages'
//! Ingresses validated against Kubernetes 1.30's schemas. Tokens come from a local user pool
//! (local-cognito), the route policy from the pages' chart values.
//!
//! `#[ignore]`d: they need Envoy, nginx, helm and kubernetes-validate
//! (`scripts/install-test-tools`) and the authorizer binary built (`cargo build -p
//! cognito-authorizer`); `scripts/test` runs them.

use std::collections::BTreeMap;
use std::process::Command;

use e2e::peers::authorizer::Authorizer;
use e2e::peers::docs::yaml_block;
use e2e::peers::envoy::Envoy;
use e2e::peers::nginx::Nginx;
use local_cognito::faults::TestIssuer;
use local_cognito::issuer::{AppClient, Config};
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde_json::Value as Json;
use serde_yaml_ng::Value;
use test_support::echo_upstream::{EchoUpstream, echoed_header};
use test_support::{temp_volume, tool, wait_until_ok};

const POOL: &str = "us-east-1_PeersTest1";
const READ: &str = "orders_api/read";
const WRITE: &str = "orders_api/write";
const IDENTITY: [&str; 3] = [
    "x-cognito-client-id",
    "x-cognito-scopes",
    "x-cognito-issuer",
];

/// The user pool, the upstream and the authorizer with the route policy of `page`'s chart
/// values (`authorizer.policy`), trusting the local pool.
struct Stack {
    pool: TestIssuer,
    upstream: EchoUpstream,
    authorizer: Authorizer,
    http: reqwest::Client,
}

impl Stack {
    async fn start(page: &str) -> Self {
        let pool = TestIssuer::start(Config::new(
            POOL,
            vec![
                AppClient::new("orders-reader", "reader-secret-0000000000", [READ]),
                AppClient::new("orders-writer", "writer-secret-0000000000", [READ, WRITE]),
            ],
        ));
        let values = yaml_block(page, "authorizer:");
        let mut policy = values["authorizer"]["policy"].clone();
        let mut issuer = serde_yaml_ng::Mapping::new();
        issuer.insert("issuer".into(), pool.issuer.issuer_url().into());
        policy["issuers"] = Value::Sequence(vec![Value::Mapping(issuer)]);
        let policy = serde_yaml_ng::to_string(&policy).expect("a policy serialises");
        let http = reqwest::Client::new();
        let authorizer = Authorizer::start(&policy, None, &http).await;
        Self {
            pool,
            upstream: EchoUpstream::start(),
            authorizer,
            http,
        }
    }

    fn token(&self, client: &str, scopes: &[&str]) -> String {
        self.pool.issuer.mint(client, scopes)
    }

    /// `method` `url` with a bearer token (if any) and a client's forged identity headers.
    async fn call(&self, method: &str, url: &str, token: Option<&str>) -> Response {
        let mut request = self
            .http
            .request(method.parse().unwrap(), url)
            .header("x-cognito-client-id", "forged-admin")
            .header("x-cognito-scopes", "orders_api/read orders_api/write")
            .header("x-cognito-issuer", "https://attacker.example.com");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the peer answers")
    }
}

/// The loopback port the echo upstream listens on.
fn upstream_port(stack: &Stack) -> u16 {
    let url: reqwest::Url = stack.upstream.url.parse().expect("the echo's URL");
    url.port().expect("a loopback port")
}

/// The upstream's echo of an allowed request.
async fn echo_of(response: Response) -> Json {
    assert_eq!(response.status(), StatusCode::OK, "allowed");
    response.json().await.expect("the upstream's echo")
}

/// The one value of header `name` the upstream saw, if any.
fn seen_header<'a>(echo: &'a Json, name: &str) -> Option<&'a str> {
    let values = echoed_header(echo, name);
    assert!(
        values.len() <= 1,
        "{name} arrived {} times: {echo}",
        values.len()
    );
    values.first().copied()
}

fn challenge(response: &Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The upstream saw the verified identity of `client`, never the forged one.
fn assert_identity(seen: &Json, stack: &Stack, client: &str, scopes: &str) {
    assert_eq!(
        seen_header(seen, "x-cognito-client-id"),
        Some(client),
        "{seen}"
    );
    assert_eq!(
        seen_header(seen, "x-cognito-scopes"),
        Some(scopes),
        "{seen}"
    );
    assert_eq!(
        seen_header(seen, "x-cognito-issuer"),
        Some(stack.pool.issuer.issuer_url()),
        "{seen}"
    );
}

/// A public route: the upstream answers, and no identity header reaches it (the forged ones
/// are removed, none is added).
async fn assert_public_route_carries_no_identity(stack: &Stack, base: &str) {
    let seen = echo_of(stack.call("GET", &format!("{base}/healthz"), None).await).await;
    for name in IDENTITY {
        assert_eq!(
            seen_header(&seen, name),
            None,
            "{name} reached the upstream: {seen}"
        );
    }
}

/// What a peer in front of the authorizer does with allowed requests: a public route reaches
/// the upstream without identity; a reader's GET (path and query kept) and a writer's
/// `write_method` arrive with the verified identity, the forged one gone. Returns the reader's
/// token.
async fn assert_allowed_requests(stack: &Stack, base: &str, write_method: &str) -> String {
    assert_public_route_carries_no_identity(stack, base).await;
    let reader = stack.token("orders-reader", &[READ]);
    let url = format!("{base}/orders/7?expand=items");
    let seen = echo_of(stack.call("GET", &url, Some(&reader)).await).await;
    assert_eq!(
        (seen["method"].as_str(), seen["target"].as_str()),
        (Some("GET"), Some("/orders/7?expand=items"))
    );
    assert_identity(&seen, stack, "orders-reader", READ);
    // The original method is judged (the peer's check is a GET for nginx, a copy for Envoy).
    let writer = stack.token("orders-writer", &[READ, WRITE]);
    let url = format!("{base}/orders/7");
    let seen = echo_of(stack.call(write_method, &url, Some(&writer)).await).await;
    assert_eq!(seen["method"], write_method);
    assert_identity(&seen, stack, "orders-writer", &format!("{READ} {WRITE}"));
    reader
}

/// One refused request through a peer.
struct Refusal<'a> {
    method: &'a str,
    path: &'a str,
    token: Option<&'a str>,
    status: u16,
    /// A part of the `WWW-Authenticate` header the client gets ("" when none is expected).
    challenge: &'a str,
}

impl Refusal<'_> {
    /// Sends it, checks the status and challenge the client gets, and returns the body.
    async fn check(&self, stack: &Stack, base: &str) -> String {
        let url = format!("{base}{}", self.path);
        let response = stack.call(self.method, &url, self.token).await;
        let what = format!("{} {} with {:?}", self.method, self.path, self.token);
        assert_eq!(response.status().as_u16(), self.status, "{what}");
        let header = challenge(&response);
        assert!(
            header.contains(self.challenge),
            "{what}: WWW-Authenticate {header:?}"
        );
        response.text().await.expect("a body")
    }
}

/// The refusals both peers pass on, with the reader's token where one is sent, and the status
/// of an encoded slash (the authorizer's 400, as the peer relays it).
fn refusals(reader: &str, encoded_slash_status: u16) -> [Refusal<'_>; 5] {
    let refusal = |method, path, token, status, challenge| Refusal {
        method,
        path,
        token,
        status,
        challenge,
    };
    [
        refusal(
            "GET",
            "/orders/7",
            None,
            401,
            "Bearer realm=\"cognito-authorizer\"",
        ),
        refusal(
            "GET",
            "/orders/7",
            Some("not.a.jwt"),
            401,
            "error=\"invalid_token\"",
        ),
        refusal("DELETE", "/orders/7", Some(reader), 403, ""),
        refusal("GET", "/admin", Some(reader), 403, ""),
        refusal(
            "GET",
            "/orders/7%2F..%2F..%2Fadmin",
            Some(reader),
            encoded_slash_status,
            "",
        ),
    ]
}

#[tokio::test]
#[ignore = "needs Envoy (scripts/install-test-tools) and the cognito-authorizer binary"]
async fn istio_ext_authz_through_real_envoy() {
    let page = "authorizer-istio.md";
    let stack = Stack::start(page).await;
    let providers = yaml_block(page, "envoyExtAuthzHttp:");
    let provider = &providers["extensionProviders"][0]["envoyExtAuthzHttp"];
    let envoy = Envoy::start(provider, stack.authorizer.port, upstream_port(&stack));
    let base = envoy.base.clone();
    wait_until_ok(&stack.http, &format!("{base}/healthz"), &envoy.process).await;

    let reader = assert_allowed_requests(&stack, &base, "POST").await;

    // Refused: the authorizer's status, JSON body and challenge reach the client through Envoy.
    for refusal in refusals(&reader, 400) {
        let body = refusal.check(&stack, &base).await;
        let message = match refusal.status {
            401 => "Unauthorized",
            403 => "Forbidden",
            _ => "Bad Request",
        };
        let body: Json = serde_json::from_str(&body).expect("the authorizer's JSON body");
        assert_eq!(
            body,
            serde_json::json!({ "message": message }),
            "{}",
            refusal.path
        );
    }
    // A missing scope is named in the challenge (RFC 6750 section 3.1).
    let missing_scope = Refusal {
        method: "DELETE",
        path: "/orders/7",
        token: Some(&reader),
        status: 403,
        challenge: "error=\"insufficient_scope\"",
    };
    missing_scope.check(&stack, &base).await;
}

#[tokio::test]
#[ignore = "needs nginx (scripts/install-test-tools) and the cognito-authorizer binary"]
async fn nginx_auth_url_through_real_nginx() {
    let page = "authorizer-ingress-nginx.md";
    let stack = Stack::start("authorizer-istio.md").await;
    let ingress = yaml_block(page, "nginx.ingress.kubernetes.io/auth-url");
    let nginx = Nginx::start(&ingress, stack.authorizer.port, upstream_port(&stack));
    let base = nginx.base.clone();
    wait_until_ok(&stack.http, &format!("{base}/healthz"), &nginx.process).await;

    let reader = assert_allowed_requests(&stack, &base, "DELETE").await;

    // Refused, as the page says: the status and (for 401) the challenge, nginx's own body; the
    // authorizer's 400 becomes 500 (auth_request takes any other status for an error).
    for refusal in refusals(&reader, 500) {
        let body = refusal.check(&stack, &base).await;
        assert!(
            body.contains("nginx"),
            "{}: nginx's error page, got {body:?}",
            refusal.path
        );
    }
}

#[test]
#[ignore = "needs helm (scripts/install-test-tools)"]
fn alb_sidecar_page_renders() {
    let page = "authorizer-alb-sidecar.md";
    let values = yaml_block(page, "authorizer:");
    let ingress = yaml_block(page, "alb.ingress.kubernetes.io/healthcheck-port");
    let dir = temp_volume("alb-sidecar-values");
    let values_file = dir.join("values.yaml");
    std::fs::write(&values_file, serde_yaml_ng::to_string(&values).unwrap()).unwrap();
    let chart = test_support::repo_root().join("helm/cognito-m2m");
    let namespace = ingress["metadata"]["namespace"].as_str().unwrap();
    let output = Command::new(tool("helm"))
        .args(["template", "orders"])
        .arg(&chart)
        .args(["-n", namespace, "-f"])
        .arg(&values_file)
        .output()
        .expect("helm runs");
    assert!(
        output.status.success(),
        "helm template: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let objects: Vec<Value> = serde_yaml_ng::Deserializer::from_slice(&output.stdout)
        .map(|d| Value::deserialize(d).expect("helm prints YAML"))
        .filter(|d: &Value| !d.is_null())
        .collect();
    let named = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in the render"))
            .clone()
    };

    // The Ingress's backend is the authorizer's Service, on its traffic port.
    let backend = &ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"];
    let service = named("Service", backend["name"].as_str().unwrap());
    let port = service["spec"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| p["name"] == backend["port"]["name"])
        .expect("the backend's port is on the Service")
        .clone();
    let deployment = named("Deployment", backend["name"].as_str().unwrap());
    let pod = &deployment["spec"]["template"]["spec"];
    let containers = pod["containers"].as_sequence().unwrap();
    let authorizer = containers
        .iter()
        .find(|c| c["name"] == "cognito-authorizer")
        .expect("the authorizer container");
    let container_port = |name: &Value| {
        authorizer["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|p| &p["name"] == name)
            .map(|p| p["containerPort"].as_u64().unwrap())
            .unwrap_or_else(|| panic!("no container port {name:?}"))
    };
    let env: BTreeMap<String, String> = authorizer["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().into(),
                e["value"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let traffic = container_port(&port["targetPort"]);
    assert!(
        env["LISTEN_ADDR"].ends_with(&format!(":{traffic}")),
        "{env:?}"
    );

    // The ALB's health check: the admin port, /readyz, as the readiness probe.
    let annotations = &ingress["metadata"]["annotations"];
    let health_port: u64 = annotations["alb.ingress.kubernetes.io/healthcheck-port"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(health_port, container_port(&"admin".into()));
    assert!(
        env["ADMIN_LISTEN_ADDR"].ends_with(&format!(":{health_port}")),
        "{env:?}"
    );
    let readiness = &authorizer["readinessProbe"]["httpGet"];
    assert_eq!(
        readiness["path"],
        annotations["alb.ingress.kubernetes.io/healthcheck-path"]
    );
    assert_eq!(annotations["alb.ingress.kubernetes.io/target-type"], "ip");

    // The app beside it, reached on localhost at the page's port.
    let app = &values["authorizer"]["app"];
    assert_eq!(
        env["UPSTREAM_URL"],
        format!("http://127.0.0.1:{}", app["port"].as_u64().unwrap())
    );
    assert!(
        containers
            .iter()
            .any(|c| c["name"] == app["container"]["name"]),
        "the app's container is in the pod"
    );
}

#[test]
#[ignore = "needs kubernetes-validate (scripts/install-test-tools)"]
fn docs_ingresses_validate_against_kubernetes() {
    let dir = temp_volume("docs-ingresses");
    for (page, marker) in [
        ("authorizer-alb-sidecar.md", "kind: Ingress"),
        ("authorizer-ingress-nginx.md", "kind: Ingress"),
    ] {
        let file = dir.join(page.replace(".md", ".yaml"));
        let ingress = yaml_block(page, marker);
        std::fs::write(&file, serde_yaml_ng::to_string(&ingress).unwrap()).unwrap();
        let output = Command::new(tool("kubernetes-validate"))
            .args(["--strict", "-k", "1.30"])
            .arg(&file)
            .output()
            .expect("kubernetes-validate runs");
        let report = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && report.contains("passed"),
            "docs/{page}: its Ingress is not valid for Kubernetes 1.30:\n{report}"
        );
    }
}
