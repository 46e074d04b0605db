//! The Secrets Manager source against moto: our key set, a rotation picked up on rejection, and
//! the refetch rate limit. Needs `moto_server` (scripts/install-test-tools; or MOTO_SERVER/PATH).
#![cfg(feature = "secrets-manager")]

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use cognito_auth::credentials::{CredentialsError, CredentialsProvider, SecretsManagerSource};

async fn start_moto() -> (test_support::Moto, aws_sdk_secretsmanager::Client) {
    let moto = test_support::Moto::start().await;
    // Explicit configuration: tests must not depend on (or change) the process environment.
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&moto.endpoint)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_arn_is_fetched_from_its_own_region() {
    use aws_sdk_secretsmanager::config::SharedCredentialsProvider;
    let moto = test_support::Moto::start().await;
    let credentials = Credentials::new("test", "test", None, None, "test");
    let in_region = |region: &'static str| {
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&moto.endpoint)
            .region(Region::new(region))
            .credentials_provider(SharedCredentialsProvider::new(credentials.clone()))
            .build()
    };
    let arn = aws_sdk_secretsmanager::Client::new(&in_region("eu-west-1"))
        .create_secret()
        .name("consumer-credentials")
        .secret_string(ours("secret-eu"))
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    // The service is configured for us-east-1; the ARN says eu-west-1, where the secret lives.
    let source = SecretsManagerSource::from_sdk_config(&in_region("us-east-1"), &arn);
    assert_eq!(source.current().await.unwrap().client_secret, "secret-eu");
    // A plain name is looked up in the configured region, where there is no such secret.
    let by_name =
        SecretsManagerSource::from_sdk_config(&in_region("us-east-1"), "consumer-credentials");
    assert!(matches!(
        by_name.current().await,
        Err(CredentialsError::SecretsManager { .. })
    ));
}
