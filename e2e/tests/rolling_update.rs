//! content-consumer calling premium-content while premium-content is replaced as a Deployment
//! replaces a pod: the new process starts on its own port and becomes ready, the old one gets
//! SIGTERM, and a moment later the Service's endpoint moves to the new one (kube-proxy, played by
//! `test_support::ServiceProxy`: established connections stay with the old process). Both
//! services are the real binaries; the issuer is local-cognito in-process.
//!
//! Also content-consumer's own part: a GET that failed before any response byte is sent once
//! more on a new connection (a POST never is; a crashed premium-content shows it under load),
//! and a 504 names the time the caller waited.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use e2e::Service;
use local_cognito::faults::TestIssuer;
use local_cognito::issuer::{AppClient, Config};
use test_support::Load;
use test_support::ServiceProxy;

const POOL: &str = "us-east-1_Rolling1";
const CLIENT_ID: &str = "rollingclient1";
const SECRET: &str = "rolling-secret-1";
const READ: &str = "premium_api/read";
const WRITE: &str = "premium_api/write";
/// premium-content's SHUTDOWN_DELAY here: longer than [`ENDPOINT_LAG`], as the chart's 15 s is
/// longer than the time the endpoint and the ALB target take to go.
const SHUTDOWN_DELAY: &str = "3s";
/// Time between SIGTERM and the Service's endpoint change (asynchronous in Kubernetes).
const ENDPOINT_LAG: Duration = Duration::from_secs(1);
/// SHUTDOWN_DELAY + the 10 s drain + room for a loaded machine.
const EXIT_LIMIT: Duration = Duration::from_secs(40);

fn issuer() -> TestIssuer {
    TestIssuer::start(Config::new(
        POOL,
        vec![AppClient::new(CLIENT_ID, SECRET, [READ, WRITE])],
    ))
}

async fn premium(issuer: &TestIssuer) -> Service {
    let env = BTreeMap::from([
        ("COGNITO_ISSUER", issuer.issuer.issuer_url().to_owned()),
        ("SHUTDOWN_DELAY", SHUTDOWN_DELAY.to_owned()),
    ]);
    Service::start("premium-content", &env, "/readyz", &reqwest::Client::new()).await
}

/// content-consumer calling `premium_api_url`, with `extra` settings.
async fn consumer(
    issuer: &TestIssuer,
    premium_api_url: &str,
    extra: &[(&'static str, &str)],
) -> Service {
    let mut env = BTreeMap::from([
        ("PREMIUM_API_URL", premium_api_url.to_owned()),
        ("COGNITO_CLIENT_ID", CLIENT_ID.to_owned()),
        ("COGNITO_CLIENT_SECRET", SECRET.to_owned()),
        ("COGNITO_TOKEN_URL", issuer.token_endpoint()),
    ]);
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    Service::start("content-consumer", &env, "/readyz", &reqwest::Client::new()).await
}

fn address(service: &Service) -> SocketAddr {
    service
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("http://127.0.0.1:PORT")
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("content-consumer answers");
    (response.status().as_u16(), response.text().await.unwrap())
}

/// How the old premium-content goes.
#[derive(Debug, Clone, Copy)]
enum Replacement {
    /// A rolling update: SIGTERM, and [`ENDPOINT_LAG`] later the endpoint moves.
    RollingUpdate,
    /// A crash (SIGKILL) just after the endpoint moved: requests in flight on its connections
    /// are reset, and content-consumer must send them again on new connections.
    CrashAfterEndpointMoved,
}

/// content-consumer's `authorized-read` under steady load (16 callers) while premium-content
/// is replaced twice: prints the tally and asserts that no call failed.
async fn no_call_fails_while_replaced_twice(replacement: Replacement) {
    let issuer = issuer();
    let mut old = premium(&issuer).await;
    let service = ServiceProxy::start(address(&old)).await;
    let consumer = consumer(&issuer, &service.url("/home/premium"), &[]).await;
    let load = Load::get(
        &format!("{}/content/authorized-read", consumer.base),
        None,
        16,
        Duration::from_secs(20),
    );
    load.wait_for(300).await;
    for _ in 0..2 {
        let new = premium(&issuer).await;
        match replacement {
            Replacement::RollingUpdate => {
                old.process.terminate();
                let signalled = Instant::now();
                tokio::time::sleep(ENDPOINT_LAG).await;
                service.set_endpoint(address(&new));
                old.clean_exit(signalled, EXIT_LIMIT).await;
            }
            Replacement::CrashAfterEndpointMoved => {
                service.set_endpoint(address(&new));
                old.process.kill();
            }
        }
        load.wait_for(300).await;
        old = new;
    }
    let tally = load.finish().await;
    let retries = consumer.process.output().matches("retrying once").count();
    println!(
        "{replacement:?} of premium-content twice behind content-consumer: {tally} ({retries} \
         GETs retried on a new connection)"
    );
    assert_eq!(tally.failed + tally.refused, 0, "{tally}");
    assert!(tally.ok >= 900, "{tally}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built binaries; scripts/test runs it"]
async fn content_consumer_through_rolling_restarts_of_premium_content_fails_no_call() {
    no_call_fails_while_replaced_twice(Replacement::RollingUpdate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built binaries; scripts/test runs it"]
async fn content_consumer_through_crashes_of_premium_content_fails_no_call() {
    no_call_fails_while_replaced_twice(Replacement::CrashAfterEndpointMoved).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built binaries; scripts/test runs it"]
async fn a_get_reset_before_any_response_byte_is_sent_once_more_on_a_new_connection_a_post_never() {
    let issuer = issuer();
    let premium = premium(&issuer).await;
    let service = ServiceProxy::start(address(&premium)).await;
    let consumer = consumer(&issuer, &service.url("/home/premium"), &[]).await;
    let read = format!("{}/content/authorized-read", consumer.base);
    let write = format!("{}/content/authorized-write", consumer.base);
    assert_eq!(
        get(&read).await.0,
        200,
        "warm: token cached, connection kept"
    );

    // The request on the kept-alive connection is reset: answered on a new connection.
    let (connections, requests) = (service.connections(), service.requests());
    service.reset_next_requests(1);
    let (status, body) = get(&read).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        service.requests(),
        requests + 2,
        "the GET and its one retry"
    );
    assert!(
        service.connections() > connections,
        "the retry opened a connection"
    );

    // Reset twice: one retry only, then the failure.
    let requests = service.requests();
    service.reset_next_requests(2);
    let (status, body) = get(&read).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("premium content unreachable"), "{body}");
    assert_eq!(service.requests(), requests + 2);

    // A POST is never sent twice.
    assert_eq!(get(&write).await.0, 200, "warm the write token");
    let requests = service.requests();
    service.reset_next_requests(1);
    let (status, body) = get(&write).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(service.requests(), requests + 1, "no retry of a POST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built binaries; scripts/test runs it"]
async fn a_504_names_the_time_the_caller_waited() {
    let issuer = issuer();
    // Accepts connections (the kernel does) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());

    let hanging_cognito = consumer(
        &issuer,
        &test_support::closed_url("/home/premium"),
        &[
            ("COGNITO_TOKEN_URL", &format!("{silent_url}/oauth2/token")),
            ("TOKEN_TIMEOUT", "300ms"),
            ("TOKEN_DEADLINE", "1s"),
        ],
    )
    .await;
    let (status, body) = get(&format!("{}/content/authorized-read", hanging_cognito.base)).await;
    assert_eq!(status, 504, "{body}");
    assert!(
        body.contains("Cognito token endpoint did not answer within 1s"),
        "the deadline, not the last attempt's share: {body}"
    );

    let hanging_premium = consumer(
        &issuer,
        &format!("{silent_url}/home/premium"),
        &[("PREMIUM_API_TIMEOUT", "1s")],
    )
    .await;
    let (status, body) = get(&format!(
        "{}/content/unauthorized-read",
        hanging_premium.base
    ))
    .await;
    assert_eq!(status, 504, "{body}");
    assert!(
        body.contains("premium content did not answer within 1s"),
        "{body}"
    );
}
