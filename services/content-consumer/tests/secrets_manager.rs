//! The content-consumer binary reading the seed's Secrets Manager secret from moto (through
//! `AWS_ENDPOINT_URL`), following a secret rotation when Cognito answers `invalid_client`, and
//! with Secrets Manager unreachable (a closed port) or hanging (moto paused with SIGSTOP):
//! `/healthz` and `/readyz` answer at once, and concurrent callers each within `TOKEN_DEADLINE`.
//!
//! Needs `moto_server` (scripts/install-test-tools puts it in ~/.cache/cognito-m2m/tools/bin;
//! `MOTO_SERVER` or PATH also work).

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::*;
use test_support::PoolClient;
use test_support::temp_volume;

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The content-consumer binary on a free port, calling `premium_url`, with credentials from the
/// Secrets Manager secret `secret_id` at `aws_endpoint` (test keys), logging into `log` (and
/// `log` with extension `out`) at DEBUG; no other variable of the test's environment leaks in.
/// Returns the process and its base URL, without waiting for it.
fn consumer(
    premium_url: &str,
    secret_id: &str,
    aws_endpoint: &str,
    log: &std::path::Path,
) -> (Running, String) {
    let port = test_support::free_port();
    let process = Command::new(env!("CARGO_BIN_EXE_content-consumer"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("PREMIUM_API_URL", premium_url)
        .env("APP_SECRETS_ARN", secret_id)
        .env("AWS_ENDPOINT_URL", aws_endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TOKEN_DEADLINE", "5s")
        .env("LOG_LEVEL", "DEBUG")
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .stdout(std::fs::File::create(log.with_extension("out")).unwrap())
        .spawn()
        .expect("start content-consumer");
    (Running(process), format!("http://127.0.0.1:{port}"))
}

/// What the consumer's own `TOKEN_DEADLINE` is in these tests.
const TOKEN_DEADLINE: Duration = Duration::from_secs(5);

/// The chart's probe timeout: `/healthz` and `/readyz` must answer within it.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// GET `url` once the server listens (connection refused is retried for up to 30 s: the
/// process is starting); the status and how long the answering request took.
async fn timed_get(client: &reqwest::Client, url: &str) -> (u16, Duration) {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let started = Instant::now();
        match client.get(url).send().await {
            Ok(response) => return (response.status().as_u16(), started.elapsed()),
            Err(error) if error.is_connect() && Instant::now() < until => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("GET {url}: {error}"),
        }
    }
}

/// 10 concurrent reads and 3 readiness probes sent with them: each read answers 503 within
/// `TOKEN_DEADLINE`, each probe 503 within the probe timeout, and `/healthz` 200 at once.
async fn callers_and_probes_answer_in_time(client: &reqwest::Client, base: &str) {
    let read = format!("{base}/content/authorized-read");
    let readyz = format!("{base}/readyz");
    let reads = futures::future::join_all((0..10).map(|_| timed_get(client, &read)));
    let probes = futures::future::join_all((0..3).map(|_| timed_get(client, &readyz)));
    let (reads, probes) = futures::join!(reads, probes);
    for (status, elapsed) in reads {
        assert_eq!(status, 503, "no credentials: 503");
        assert!(
            elapsed <= TOKEN_DEADLINE,
            "a read answered after {elapsed:?}"
        );
    }
    for (status, elapsed) in probes {
        assert_eq!(status, 503, "not ready without credentials");
        assert!(
            elapsed <= PROBE_TIMEOUT,
            "/readyz answered after {elapsed:?}"
        );
    }
    healthz_answers_at_once(client, base).await;
}

/// `/healthz` answers 200 within the probe timeout (once the process listens).
async fn healthz_answers_at_once(client: &reqwest::Client, base: &str) {
    let (status, elapsed) = timed_get(client, &format!("{base}/healthz")).await;
    assert_eq!(status, 200);
    assert!(
        elapsed <= PROBE_TIMEOUT,
        "/healthz answered after {elapsed:?}"
    );
}

/// moto holding the seed's secret `name` for [`CLIENT_ID`] with `secret-1`, local-cognito
/// issuing tokens of `lifetime_secs` and premium-content trusting it; the secret's ARN.
async fn seeded_world(
    name: &str,
    lifetime_secs: u64,
) -> (test_support::Moto, TestIssuer, Service, String) {
    let moto = test_support::Moto::start().await;
    let cognito = start_cognito("secret-1", lifetime_secs);
    let premium = start_premium(&cognito).await;
    let arn = moto
        .create_secret(name, &seed_secret("secret-1", &cognito.token_endpoint()))
        .await;
    (moto, cognito, premium, arn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_secrets_manager_answers_callers_and_probes_in_time() {
    // The smallest input: APP_SECRETS_ARN=x, Secrets Manager on a closed port.
    let log = temp_volume("sm-closed").join("consumer.log");
    let (_consumer, base) = consumer(
        &test_support::closed_url("/home/premium"),
        "x",
        &test_support::closed_url(""),
        &log,
    );
    let client = reqwest::Client::new();
    healthz_answers_at_once(&client, &base).await;
    callers_and_probes_answer_in_time(&client, &base).await;
    let (_, body) = get(&client, &format!("{base}/content/authorized-read")).await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Secrets Manager secret x")),
        "{body}"
    );
    std::fs::remove_dir_all(log.parent().unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secrets_manager_hanging_at_start_blocks_neither_start_nor_probes() {
    let (moto, _cognito, premium, arn) = seeded_world("cognito_us-east-1_Hang-xYz", 3600).await;
    moto.process.pause();
    let log = temp_volume("sm-hang").join("consumer.log");
    let (_consumer, base) = consumer(&premium.url("/home/premium"), &arn, &moto.endpoint, &log);
    let client = reqwest::Client::new();
    healthz_answers_at_once(&client, &base).await;
    callers_and_probes_answer_in_time(&client, &base).await;

    // Secrets Manager answers again: the probes' background fetches load the credentials.
    moto.process.resume();
    wait_ready(&format!("{base}/readyz")).await;
    let (status, body) = get(&client, &format!("{base}/content/authorized-read")).await;
    assert_eq!(status, 200, "{body}");
    std::fs::remove_dir_all(log.parent().unwrap()).unwrap();
}

/// The AWS sample's key set, exactly as its stack writes it, for [`CLIENT_ID`] with `secret`.
fn seed_secret(secret: &str, token_url: &str) -> String {
    test_support::seed_secret_json(POOL, token_url, &PoolClient::new(CLIENT_ID, secret, &[]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_secret_works_and_a_rotation_is_followed() {
    // Two-second tokens, so a renewal (with the then stale secret) comes quickly.
    let (moto, cognito, premium, arn) = seeded_world("cognito_us-east-1_Test-xYz", 2).await;
    let moto_url = moto.endpoint.clone();

    let log = temp_volume("sm-log").join("consumer.log");
    let (consumer, consumer_url) = consumer(&premium.url("/home/premium"), &arn, &moto_url, &log);
    wait_ready(&format!("{consumer_url}/readyz")).await;

    let client = reqwest::Client::new();
    let read = format!("{consumer_url}/content/authorized-read");
    let (status, body) = get(&client, &read).await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"message": "Premium Content: OAuth Scope: Read"})
        )
    );
    assert_eq!(
        cognito.faults.client(CLIENT_ID).last_secret(),
        Some("secret-1")
    );

    // Rotation: a new secret in Secrets Manager (pasted with a stray CRLF, which must not reach
    // Cognito), and Cognito no longer takes the old one.
    moto.put_secret_value(
        &arn,
        &seed_secret("secret-2\r\n", &cognito.token_endpoint()),
    )
    .await;
    cognito.faults.rotate_secret(CLIENT_ID, "secret-2");
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        let (status, body) = get(&client, &read).await;
        assert_eq!(status, 200, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = cognito.faults.client(CLIENT_ID).secrets;
    let rejected = seen.iter().rposition(|s| s == "secret-1").unwrap();
    assert!(
        rejected >= 1
            && seen[rejected + 1..].iter().all(|s| s == "secret-2")
            && seen.len() > rejected + 1,
        "the stale secret was rejected once, then the refetched one used: {seen:?}"
    );

    // At DEBUG the log tells what each request did, as the seed's LOG_LEVEL meant it; and what the
    // consumer logged, the rotation included, holds neither a secret nor a token.
    drop(consumer);
    let logged = std::fs::read_to_string(&log).unwrap()
        + &std::fs::read_to_string(log.with_extension("out")).unwrap();
    assert!(
        logged.contains("client credentials loaded from Secrets Manager"),
        "{logged}"
    );
    for step in [
        "access token served from the cache",
        "access token fetched from the token endpoint",
        "premium content answered",
        "\"status\":200",
    ] {
        assert!(logged.contains(step), "no {step:?} in {logged}");
    }
    for secret in ["secret-1", "secret-2", "eyJ"] {
        assert!(!logged.contains(secret), "the log shows {secret}: {logged}");
    }
    std::fs::remove_dir_all(log.parent().unwrap()).unwrap();
}
