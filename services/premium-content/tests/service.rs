//! premium-content run through `start` against a local JWKS server: the contract end to end.

mod support;

use local_cognito::keys::SigningKey;
use support::{JwksServer, Premium, call, claims};

const READ: &str = r#"{"message":"Premium Content: OAuth Scope: Read"}"#;
const WRITE: &str = r#"{"message":"Premium Content: OAuth Scope: Write"}"#;
const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const FORBIDDEN: &str = r#"{"message":"Forbidden"}"#;

#[tokio::test]
async fn serves_the_contract() {
    let key = SigningKey::generate("kid-1");
    let jwks = JwksServer::start(&[&key]);
    let premium = Premium::start_ready(&jwks.url, &[]).await;
    let client = reqwest::Client::new();
    let url = premium.url("/home/premium");

    let read = key.sign(&claims("premium_api/read"));
    let write = key.sign(&claims("premium_api/write"));
    let both = key.sign(&claims("premium_api/read premium_api/write"));

    let a = call(&client, "GET", &url, Some(&format!("Bearer {read}"))).await;
    assert_eq!((a.status, a.body.as_str()), (200, READ));
    let a = call(&client, "GET", &url, Some(&format!("bEaReR {both}"))).await;
    assert_eq!((a.status, a.body.as_str()), (200, READ));
    let a = call(&client, "GET", &url, Some(&read)).await;
    assert_eq!((a.status, a.body.as_str()), (200, READ), "bare token");
    let a = call(&client, "POST", &url, Some(&format!("Bearer {write}"))).await;
    assert_eq!((a.status, a.body.as_str()), (200, WRITE));

    let a = call(&client, "POST", &url, Some(&format!("Bearer {read}"))).await;
    assert_eq!((a.status, a.body.as_str()), (403, FORBIDDEN));
    assert_eq!(
        a.challenge.as_deref(),
        Some(
            "Bearer realm=\"premium-content\", error=\"insufficient_scope\", \
             scope=\"premium_api/write\""
        )
    );
    let a = call(&client, "GET", &url, Some(&format!("Bearer {write}"))).await;
    assert_eq!((a.status, a.body.as_str()), (403, FORBIDDEN));
    assert!(a.challenge.unwrap().contains("scope=\"premium_api/read\""));

    let a = call(&client, "GET", &url, None).await;
    assert_eq!((a.status, a.body.as_str()), (401, UNAUTHORIZED));
    assert_eq!(
        a.challenge.as_deref(),
        Some("Bearer realm=\"premium-content\"")
    );

    let a = call(&client, "GET", &url, Some("Bearer not.a.token")).await;
    assert_eq!((a.status, a.body.as_str()), (401, UNAUTHORIZED));
    assert!(a.challenge.unwrap().contains("error=\"invalid_token\""));

    let a = call(&client, "GET", &premium.url("/healthz"), None).await;
    assert_eq!(a.status, 200);
    let a = call(&client, "GET", &premium.url("/readyz"), None).await;
    assert_eq!(a.status, 200);

    let metrics = call(&client, "GET", &premium.url("/metrics"), None).await;
    assert_eq!(metrics.status, 200);
    let text = metrics.body;
    for line in [
        "premium_content_http_requests_total{route=\"/home/premium\",method=\"GET\",status=\"200\"} 3",
        "premium_content_http_requests_total{route=\"/home/premium\",method=\"POST\",status=\"403\"} 1",
        "premium_content_auth_rejections_total{reason=\"insufficient_scope\"} 2",
        "premium_content_auth_rejections_total{reason=\"missing_token\"} 1",
        "premium_content_auth_rejections_total{reason=\"malformed\"} 1",
        "premium_content_jwks_fetches_total 1",
        "premium_content_jwks_fetch_failures_total 0",
        "premium_content_jwks_ready 1",
        "premium_content_token_verification_seconds_count 7",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    premium.stop().await;
    jwks.stop().await;
}
