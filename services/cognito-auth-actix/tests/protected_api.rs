//! The `protected_api` example, run as the process `cargo run --example protected_api` starts,
//! against tokens of a real local-cognito: its policy file protects its routes, the handlers
//! see the verified claims, client-sent identity headers never reach them.

use std::path::PathBuf;
use std::process::Command;

use local_cognito::faults::TestIssuer;
use local_cognito::issuer::{AppClient, Config as IssuerConfig};
use test_support::{Process, free_port, temp_volume, wait_until_ok};

/// The example's executable: `cargo test` builds the examples next to the test binaries'
/// `deps` folder.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(|deps| deps.parent()).unwrap();
    profile.join("examples").join("protected_api")
}

#[tokio::test]
async fn the_example_protects_its_routes_by_its_policy_file() {
    let pool = TestIssuer::start(IssuerConfig::new(
        "us-east-1_Example",
        vec![
            AppClient::new("reader", "r", ["orders/read"]),
            AppClient::new("writer", "w", ["orders/read", "orders/write"]),
        ],
    ));
    let issuer = &pool.issuer;

    let dir = temp_volume("protected-api");
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        format!(
            "issuers:\n  - issuer: {}\nrules:\n  - path: /status\n    public: true\n  \
             - path: /api/whoami\n    methods: [GET]\n    scopes: [orders/read]\n  \
             - path: /api/orders\n    methods: [POST]\n    scopes: [orders/write]\n",
            issuer.issuer_url()
        ),
    )
    .unwrap();
    let port = free_port();
    let mut command = Command::new(example());
    command
        .env("POLICY_FILE", &policy)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"));
    let process = Process::spawn("protected_api", command);
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    wait_until_ok(&http, &url("/status"), &process).await;

    let status: serde_json::Value = http
        .get(url("/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        status["authenticated"], false,
        "a public route sees no claims"
    );

    let anonymous = http.get(url("/api/whoami")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"protected-api\""
    );
    assert_eq!(
        anonymous.text().await.unwrap(),
        r#"{"message":"Unauthorized"}"#
    );

    let reader = issuer.mint("reader", &["orders/read"]);
    // The first token may wait for the keys: retry while the example answers 503.
    let whoami = test_support::eventually(
        "the keys to load",
        std::time::Duration::from_secs(20),
        || async {
            let response = http
                .get(url("/api/whoami"))
                .bearer_auth(&reader)
                .header("x-cognito-client-id", "writer")
                .send()
                .await
                .unwrap();
            (response.status() != 503).then_some(response)
        },
    )
    .await;
    assert_eq!(whoami.status(), 200);
    let body: serde_json::Value = whoami.json().await.unwrap();
    assert_eq!(body["client_id"], "reader");
    assert_eq!(body["scopes"], serde_json::json!(["orders/read"]));
    assert_eq!(
        body["identity_header"], "reader",
        "the client's own value is replaced"
    );

    let post = http
        .post(url("/api/orders"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 403);
    assert!(
        post.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("scope=\"orders/write\"")
    );
    let writer = issuer.mint("writer", &["orders/read", "orders/write"]);
    let post = http
        .post(url("/api/orders"))
        .bearer_auth(&writer)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);
    // No rule: refused even with a valid token.
    let other = http
        .get(url("/api/other"))
        .bearer_auth(&writer)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);

    process.terminate();
    std::fs::remove_dir_all(dir).unwrap();
}
