//! The Secrets Manager source against moto: our key set, a rotation picked up on rejection, and
//! the refetch rate limit. Needs `moto_server` (scripts/install-test-tools; or MOTO_SERVER/PATH).
#![cfg(feature = "secrets-manager")]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use cognito_auth::credentials::{CredentialsError, CredentialsProvider, SecretsManagerSource};

/// moto, killed when dropped.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("moto_server"))
                .find(|p| p.exists())
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/cognito-m2m/tools/bin/moto_server"))
                .filter(|p| p.exists())
        })
        .expect("moto_server not found: run scripts/install-test-tools or set MOTO_SERVER")
}

async fn start_moto() -> (Moto, aws_sdk_secretsmanager::Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let moto = Moto(
        Command::new(moto_binary())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server"),
    );
    let until = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < until, "moto_server did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Explicit configuration: tests must not depend on (or change) the process environment.
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    (moto, aws_sdk_secretsmanager::Client::from_conf(config))
}

fn ours(secret: &str) -> String {
    serde_json::json!({
        "client_id": "client-1",
        "client_secret": secret,
        "token_endpoint": "http://127.0.0.1:9/oauth2/token",
        "scopes": "premium_api/read premium_api/write",
        "issuer": "http://127.0.0.1:9/us-east-1_Test",
        "user_pool_id": "us-east-1_Test",
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_key_set_rotation_and_refetch_limit() {
    let (_moto, client) = start_moto().await;
    client
        .create_secret()
        .name("consumer-credentials")
        .secret_string(ours("secret-1"))
        .send()
        .await
        .unwrap();
    let provider = CredentialsProvider::SecretsManager(SecretsManagerSource::with_client(
        client.clone(),
        "consumer-credentials",
    ));
    assert!(!provider.is_loaded(), "nothing fetched before first use");
    let creds = provider.current().await.unwrap();
    assert_eq!(creds.client_secret, "secret-1");
    assert_eq!(creds.scopes, ["premium_api/read", "premium_api/write"]);
    assert_eq!(
        creds.issuer.as_deref(),
        Some("http://127.0.0.1:9/us-east-1_Test")
    );
    assert!(provider.is_loaded());

    client
        .put_secret_value()
        .secret_id("consumer-credentials")
        .secret_string(ours("secret-2"))
        .send()
        .await
        .unwrap();
    // Kept until the token endpoint rejects the client...
    assert_eq!(provider.current().await.unwrap().client_secret, "secret-1");
    // ... then fetched again.
    let rotated = provider.reload_after_rejection().await.unwrap();
    assert_eq!(rotated.client_secret, "secret-2");
    assert_eq!(provider.current().await.unwrap().client_secret, "secret-2");

    // A second rejection right after does not cost another Secrets Manager call.
    client
        .put_secret_value()
        .secret_id("consumer-credentials")
        .secret_string(ours("secret-3"))
        .send()
        .await
        .unwrap();
    let again = provider.reload_after_rejection().await.unwrap();
    assert_eq!(again.client_secret, "secret-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_unusable_secret_is_named_and_never_echoed() {
    let (_moto, client) = start_moto().await;
    let missing = SecretsManagerSource::with_client(client.clone(), "no-such-secret");
    let err = missing.current().await.unwrap_err();
    assert!(
        matches!(&err, CredentialsError::SecretsManager { secret_id, .. } if secret_id == "no-such-secret"),
        "{err:?}"
    );
    assert!(!missing.is_loaded());

    client
        .create_secret()
        .name("half")
        .secret_string(r#"{"client_id":"c","app_secret_typo":"hunter2"}"#)
        .send()
        .await
        .unwrap();
    let half = SecretsManagerSource::with_client(client, "half");
    let err = half.current().await.unwrap_err();
    assert!(err.to_string().contains("client_secret"), "{err}");
    assert!(!err.to_string().contains("hunter2"));
}
