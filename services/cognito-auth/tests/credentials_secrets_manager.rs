//! The Secrets Manager source against moto: our key set, a rotation picked up on rejection, the
//! refetch rate limit, and concurrent callers sharing one fetch and its failure when Secrets
//! Manager is unreachable (a closed port) or hangs (moto paused with SIGSTOP). Needs
//! `moto_server` (scripts/install-test-tools; or MOTO_SERVER/PATH).
#![cfg(feature = "secrets-manager")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_secretsmanager::config::{BehaviorVersion, ConfigBag, Credentials, Intercept, Region};
use cognito_auth::credentials::{
    CredentialsError, CredentialsProvider, FetchLimits, SecretsManagerSource,
};

/// Counts the Secrets Manager operations a client starts (once each, whatever the SDK's own
/// retries of it): what the source cost Secrets Manager.
#[derive(Debug, Clone, Default)]
struct Operations(Arc<AtomicUsize>);

impl Operations {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Intercept for Operations {
    fn name(&self) -> &'static str {
        "count operations"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A client of the Secrets Manager at `endpoint`, counting its operations. Explicit
/// configuration: tests must not depend on (or change) the process environment.
fn client_at(endpoint: &str, operations: &Operations) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .interceptor(operations.clone())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

async fn start_moto() -> (test_support::Moto, aws_sdk_secretsmanager::Client) {
    let moto = test_support::Moto::start().await;
    let client = client_at(&moto.endpoint, &Operations::default());
    (moto, client)
}

/// `callers` concurrent `current()` calls: each one's result and how long it took.
async fn concurrent_calls(
    source: &Arc<SecretsManagerSource>,
    callers: usize,
) -> Vec<(Result<String, CredentialsError>, Duration)> {
    let calls = (0..callers).map(|_| {
        let source = source.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let result = source.current().await.map(|c| c.client_secret.clone());
            (result, started.elapsed())
        })
    });
    futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|joined| joined.expect("caller task"))
        .collect()
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

/// Creates the secret `consumer-credentials` holding [`ours`] with `secret`.
async fn create_ours(client: &aws_sdk_secretsmanager::Client, secret: &str) {
    client
        .create_secret()
        .name("consumer-credentials")
        .secret_string(ours(secret))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_key_set_rotation_and_refetch_limit() {
    let (_moto, client) = start_moto().await;
    create_ours(&client, "secret-1").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_secrets_manager_costs_concurrent_callers_one_fetch() {
    let operations = Operations::default();
    let limits = FetchLimits {
        timeout: Duration::from_secs(3),
        failure_cooldown: Duration::from_millis(500),
    };
    let source = Arc::new(
        SecretsManagerSource::with_client(
            client_at(&test_support::closed_url(""), &operations),
            "x",
        )
        .with_limits(limits),
    );
    let readiness = |source: &SecretsManagerSource| source.loaded().unwrap_err().to_string();
    assert!(readiness(&source).contains("not fetched yet"));

    let answers = concurrent_calls(&source, 10).await;
    let first = answers[0].0.clone().unwrap_err();
    for (result, elapsed) in &answers {
        assert_eq!(result.as_ref().unwrap_err(), &first, "one failure, shared");
        assert!(
            *elapsed < limits.timeout + Duration::from_secs(2),
            "answered after {elapsed:?}"
        );
    }
    assert!(
        matches!(&first, CredentialsError::SecretsManager { secret_id, .. } if secret_id == "x"),
        "{first:?}"
    );
    assert_eq!(operations.count(), 1, "ten callers, one GetSecretValue");
    // Within the cooldown the failure is answered again without a call; readiness sees it too.
    assert_eq!(source.current().await.unwrap_err(), first);
    assert_eq!(readiness(&source), first.to_string());
    assert_eq!(operations.count(), 1);
    // After it, the next caller tries again.
    tokio::time::sleep(limits.failure_cooldown).await;
    assert!(source.current().await.is_err());
    assert_eq!(operations.count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_secrets_manager_holds_no_caller_past_the_fetch_timeout() {
    let moto = test_support::Moto::start().await;
    let operations = Operations::default();
    let client = client_at(&moto.endpoint, &operations);
    create_ours(&client, "secret-1").await;
    let limits = FetchLimits {
        timeout: Duration::from_secs(1),
        failure_cooldown: Duration::from_millis(500),
    };
    let source = Arc::new(
        SecretsManagerSource::with_client(client, "consumer-credentials").with_limits(limits),
    );
    let before = operations.count();

    moto.process.pause();
    let answers = concurrent_calls(&source, 10).await;
    for (result, elapsed) in &answers {
        let error = result.as_ref().unwrap_err().to_string();
        assert!(error.contains("did not answer within 1s"), "{error}");
        assert!(
            *elapsed < limits.timeout + Duration::from_secs(2),
            "answered after {elapsed:?}"
        );
    }
    assert_eq!(operations.count(), before + 1, "ten callers, one fetch");

    // Secrets Manager answers again: once the cooldown is over, the next caller gets the secret.
    moto.process.resume();
    tokio::time::sleep(limits.failure_cooldown).await;
    assert_eq!(source.current().await.unwrap(), source.loaded().unwrap());
    assert_eq!(source.loaded().unwrap().client_secret, "secret-1");
}
