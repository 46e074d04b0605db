//! The operator as users deploy it (its binary, a real kube-apiserver) managing app clients in
//! local-cognito's admin API, with premium-content and content-consumer as real processes: a
//! secret rotation under steady load fails no call, an operator killed between Cognito's
//! answer and its status write leaves one app client, not two, and two replicas with leader
//! election ride out a 30 s kube-apiserver outage and 20 s of it hanging (neither exits, never
//! two leaders, one leads afterwards).
//!
//! Ignored by default (they need the test cluster and the built binaries); `scripts/test` runs
//! them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use cognito_client_operator::cognito_client::{CognitoClient, CognitoClientSpec};
use cognito_client_operator::managed::ROTATE_SECRET_ANNOTATION;
use e2e::Service;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use local_cognito::faults::TestIssuer;
use local_cognito::issuer::{AppClient, Config};
use test_support::{eventually, kubelet_write, temp_volume};

const POOL: &str = "us-east-1_E2eOperator1";
const READ: &str = "premium_api/read";
const WRITE: &str = "premium_api/write";

async fn kube_client() -> kube::Client {
    test_support::k8s_cluster::client(None).await
}

/// The CRDs installed and a fresh namespace.
async fn namespace(client: &kube::Client, prefix: &str) -> String {
    test_support::k8s_cluster::install_crds(client, cognito_client_operator::crd::crds()).await;
    test_support::k8s_cluster::create_namespace(client, prefix).await
}

/// local-cognito whose pool already has the AWS sample's resource server (`premium_api` with
/// read and write): a configured client's scopes define it.
fn cognito() -> TestIssuer {
    TestIssuer::start(Config::new(
        POOL,
        vec![AppClient::new(
            "bootstrap",
            "bootstrap-secret-0000000",
            [READ, WRITE],
        )],
    ))
}

/// The operator binary watching `ns`, with local-cognito as AWS.
async fn operator(kubeconfig: &Path, ns: &str, aws: &str, http: &reqwest::Client) -> Service {
    let election = BTreeMap::from([("LEADER_ELECTION", "false".to_owned())]);
    operator_with(kubeconfig, ns, aws, http, election).await
}

/// One replica of the operator binary watching `ns`, with leader election through a Lease in
/// `ns` as `pod` (short timings: a 6 s lease renewed every second, given up after 4 s without).
async fn replica(
    kubeconfig: &Path,
    ns: &str,
    pod: &str,
    aws: &str,
    http: &reqwest::Client,
) -> Service {
    let election = BTreeMap::from([
        ("LEADER_ELECTION", "true".to_owned()),
        ("LEADER_ELECTION_NAMESPACE", ns.to_owned()),
        ("POD_NAME", pod.to_owned()),
        ("LEASE_DURATION", "6s".to_owned()),
        ("LEASE_RENEW_DEADLINE", "4s".to_owned()),
        ("LEASE_RETRY_PERIOD", "1s".to_owned()),
    ]);
    operator_with(kubeconfig, ns, aws, http, election).await
}

/// The operator binary watching `ns`, with local-cognito as AWS and `election` settings.
async fn operator_with(
    kubeconfig: &Path,
    ns: &str,
    aws: &str,
    http: &reqwest::Client,
    election: BTreeMap<&'static str, String>,
) -> Service {
    let mut env = BTreeMap::from([
        ("KUBECONFIG", kubeconfig.display().to_string()),
        ("WATCH_NAMESPACES", ns.to_owned()),
        ("AWS_ENDPOINT_URL", aws.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("RETRY_BASE_DELAY", "200ms".to_owned()),
        ("RETRY_MAX_DELAY", "2s".to_owned()),
    ]);
    env.extend(election);
    Service::start("cognito-client-operator", &env, "/readyz", http).await
}

fn managed_client(name: &str, token_endpoint: &str, overlap: &str) -> CognitoClient {
    let spec: CognitoClientSpec = serde_json::from_value(serde_json::json!({
        "userPoolId": POOL,
        "tokenEndpoint": token_endpoint,
        "scopes": [READ, WRITE],
        "source": {"managed": {"secretRotation": {"interval": "720h", "overlap": overlap}}},
        "target": {"secretName": format!("{name}-credentials")},
    }))
    .unwrap();
    CognitoClient::new(name, spec)
}

use test_support::k8s_cluster::secret_data as data;

/// The condition of `type_` of a CognitoClient: (status, reason).
async fn condition(api: &Api<CognitoClient>, name: &str, type_: &str) -> Option<(String, String)> {
    let cc = api.get(name).await.ok()?;
    let c = cc
        .status?
        .conditions
        .into_iter()
        .find(|c| c.type_ == type_)?;
    Some((c.status, c.reason))
}

/// Plays the kubelet for one Secret: every change is written into `dir` with the `..data` swap,
/// `delay` after the API server has it (the kubelet's sync period), until `stop`.
fn kubelet(
    secrets: Api<Secret>,
    name: String,
    dir: std::path::PathBuf,
    delay: Duration,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut version = String::new();
        let mut writes = 0;
        while !stop.load(Ordering::SeqCst) {
            if let Ok(Some(secret)) = secrets.get_opt(&name).await
                && secret.resource_version().unwrap_or_default() != version
            {
                version = secret.resource_version().unwrap_or_default();
                if writes > 0 {
                    tokio::time::sleep(delay).await;
                }
                let files: Vec<(String, String)> = data(&secret).into_iter().collect();
                kubelet_write(&dir, &files);
                writes += 1;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        writes
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the Kubernetes test cluster and the built binaries: scripts/test"]
async fn a_secret_rotation_under_steady_load_fails_no_call() {
    let http = reqwest::Client::new();
    let client = kube_client().await;
    let ns = namespace(&client, "e2e-rotation").await;
    let idp = cognito();
    // Tokens of a few seconds: the consumer fetches new ones all through the rotation, with
    // whatever its mounted folder holds at the time.
    idp.faults.set_token_lifetime(Some(Duration::from_secs(2)));
    let _operator = operator(test_support::kubeconfig(), &ns, idp.admin_endpoint(), &http).await;
    let clients: Api<CognitoClient> = Api::namespaced(client.clone(), &ns);
    clients
        .create(
            &PostParams::default(),
            &managed_client("consumer", &idp.token_endpoint(), "8s"),
        )
        .await
        .unwrap();
    eventually("the client Ready", Duration::from_secs(60), || async {
        condition(&clients, "consumer", "Ready")
            .await
            .filter(|(s, _)| s == "True")
    })
    .await;

    let dir = temp_volume("rotation");
    let stop = Arc::new(AtomicBool::new(false));
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let kubelet = kubelet(
        secrets.clone(),
        "consumer-credentials".into(),
        dir.clone(),
        Duration::from_secs(2),
        stop.clone(),
    );
    eventually("the volume filled", Duration::from_secs(20), || async {
        dir.join("client_secret").exists().then_some(())
    })
    .await;
    let old = data(&secrets.get("consumer-credentials").await.unwrap());

    let premium = Service::start(
        "premium-content",
        &BTreeMap::from([("COGNITO_ISSUER", idp.issuer.issuer_url().to_owned())]),
        "/readyz",
        &http,
    )
    .await;
    let consumer = Service::start(
        "content-consumer",
        &BTreeMap::from([
            ("CREDENTIALS_DIR", dir.display().to_string()),
            ("PREMIUM_API_URL", format!("{}/home/premium", premium.base)),
        ]),
        "/healthz",
        &http,
    )
    .await;

    // Steady load: two callers, back to back, for the whole rotation.
    let (calls, failures) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load: Vec<_> = (0..2)
        .map(|_| {
            let (http, url) = (
                http.clone(),
                format!("{}/content/authorized-read", consumer.base),
            );
            let (stop, calls, failures) = (stop.clone(), calls.clone(), failures.clone());
            tokio::spawn(async move {
                let mut first_failure = None;
                while !stop.load(Ordering::SeqCst) {
                    let answer = http.get(&url).send().await;
                    calls.fetch_add(1, Ordering::SeqCst);
                    match answer {
                        Ok(r) if r.status() == 200 => {}
                        Ok(r) => {
                            failures.fetch_add(1, Ordering::SeqCst);
                            let status = r.status();
                            first_failure.get_or_insert(format!(
                                "{status}: {}",
                                r.text().await.unwrap_or_default()
                            ));
                        }
                        Err(e) => {
                            failures.fetch_add(1, Ordering::SeqCst);
                            first_failure.get_or_insert(e.to_string());
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                first_failure
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = calls.load(Ordering::SeqCst);
    assert!(
        before > 10,
        "the load runs before the rotation ({before} calls)"
    );

    clients
        .patch(
            "consumer",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({
                "metadata": {"annotations": {ROTATE_SECRET_ANNOTATION: "1"}}
            })),
        )
        .await
        .unwrap();
    eventually("Rotating=True", Duration::from_secs(30), || async {
        condition(&clients, "consumer", "Rotating")
            .await
            .filter(|(s, _)| s == "True")
    })
    .await;
    let new = data(&secrets.get("consumer-credentials").await.unwrap());
    assert_eq!(new["client_id"], old["client_id"], "same app client");
    assert_ne!(new["client_secret"], old["client_secret"], "a new secret");
    eventually(
        "the old secret deleted",
        Duration::from_secs(60),
        || async {
            condition(&clients, "consumer", "Rotating")
                .await
                .filter(|(s, _)| s == "False")
        },
    )
    .await;
    // Tokens fetched after the old secret is gone must use the new one.
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::SeqCst);
    let mut first_failures = Vec::new();
    for task in load {
        first_failures.extend(task.await.unwrap());
    }
    let writes = kubelet.await.unwrap();

    let (calls, failures) = (
        calls.load(Ordering::SeqCst),
        failures.load(Ordering::SeqCst),
    );
    assert_eq!(
        failures, 0,
        "{failures} of {calls} calls failed: {first_failures:?}"
    );
    assert!(
        calls > before + 50,
        "the load ran through the rotation ({calls} calls)"
    );
    assert!(
        writes >= 2,
        "the kubelet delivered the rotated Secret ({writes} writes)"
    );
    let record = idp.faults.client(&new["client_id"]);
    assert!(
        record.secrets.iter().any(|s| *s == old["client_secret"])
            && record.secrets.iter().any(|s| *s == new["client_secret"]),
        "the consumer fetched tokens with the old secret and then the new one"
    );
    let summary = idp
        .pool()
        .clients()
        .into_iter()
        .find(|c| c.client_id == new["client_id"])
        .unwrap();
    assert_eq!(summary.secrets, 1, "the old secret is gone, one is left");
    let refused = http
        .post(idp.token_endpoint())
        .basic_auth(&old["client_id"], Some(&old["client_secret"]))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "the old secret no longer works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Kubernetes test cluster and the built binaries: scripts/test"]
async fn an_operator_killed_between_create_and_status_leaves_one_app_client() {
    let http = reqwest::Client::new();
    let client = kube_client().await;
    let ns = namespace(&client, "e2e-crash").await;
    let idp = cognito();
    // Cognito creates the client, and its answer never reaches the operator.
    idp.admin.hold_after_apply("CreateUserPoolClient");
    let mut first = operator(test_support::kubeconfig(), &ns, idp.admin_endpoint(), &http).await;
    let clients: Api<CognitoClient> = Api::namespaced(client.clone(), &ns);
    clients
        .create(
            &PostParams::default(),
            &managed_client("survivor", &idp.token_endpoint(), "10m"),
        )
        .await
        .unwrap();
    eventually(
        "Cognito created the client",
        Duration::from_secs(60),
        || async { (idp.admin.applied("CreateUserPoolClient") >= 1).then_some(()) },
    )
    .await;
    first.process.kill();
    idp.admin.release_hold();
    let name = format!("{ns}-survivor");
    let named = |idp: &TestIssuer| {
        idp.pool()
            .clients()
            .into_iter()
            .filter(|c| c.client_name == name)
            .map(|c| c.client_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        named(&idp).len(),
        1,
        "the killed operator's create took effect"
    );

    let _second = operator(test_support::kubeconfig(), &ns, idp.admin_endpoint(), &http).await;
    eventually(
        "Ready after the restart",
        Duration::from_secs(60),
        || async {
            condition(&clients, "survivor", "Ready")
                .await
                .filter(|(s, _)| s == "True")
        },
    )
    .await;
    let ids = named(&idp);
    assert_eq!(ids.len(), 1, "no second app client: {ids:?}");
    let secret = Api::<Secret>::namespaced(client.clone(), &ns)
        .get("survivor-credentials")
        .await
        .unwrap();
    let d = data(&secret);
    assert_eq!(d["client_id"], ids[0]);
    assert_eq!(
        idp.admin.calls("CreateUserPoolClient"),
        1,
        "never created twice"
    );
    // The credentials the Secret holds work.
    let token = http
        .post(idp.token_endpoint())
        .basic_auth(&d["client_id"], Some(&d["client_secret"]))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
}

/// What the two replicas' probes and metrics said, sampled throughout the outage test.
#[derive(Debug, Default)]
struct Samples {
    taken: usize,
    /// Samples where both said they lead.
    two_leaders: usize,
    /// Samples where neither led (the leader stepped down).
    no_leader: usize,
    /// `/healthz` answers other than 200.
    unhealthy: Vec<String>,
}

/// Samples both replicas every 200 ms into `samples` until `stop`.
fn sample(
    http: reqwest::Client,
    bases: [String; 2],
    samples: Arc<std::sync::Mutex<Samples>>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::SeqCst) {
            let (a, b) = tokio::join!(
                leads_and_health(&http, &bases[0]),
                leads_and_health(&http, &bases[1])
            );
            {
                let mut samples = samples.lock().unwrap();
                samples.taken += 1;
                samples.two_leaders += usize::from(a.0 && b.0);
                samples.no_leader += usize::from(!a.0 && !b.0);
                for (name, health) in [("one", a.1), ("two", b.1)] {
                    if health != 200 {
                        samples.unhealthy.push(format!("{name}: {health}"));
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

/// Whether the replica at `base` says it leads (its `leader` gauge), and its `/healthz` status.
async fn leads_and_health(http: &reqwest::Client, base: &str) -> (bool, u16) {
    let get = |path: &str| {
        http.get(format!("{base}{path}"))
            .timeout(Duration::from_secs(2))
            .send()
    };
    let leads = match get("/metrics").await {
        Ok(response) => response
            .text()
            .await
            .unwrap_or_default()
            .lines()
            // The sample line, not the HELP line (which mentions "1" too).
            .any(|line| line == "cognito_client_operator_leader 1"),
        Err(_) => false,
    };
    let health = get("/healthz")
        .await
        .map_or(0, |response| response.status().as_u16());
    (leads, health)
}

/// The operator's Lease holder in `leases`' namespace.
async fn holder(leases: &Api<k8s_openapi::api::coordination::v1::Lease>) -> Option<String> {
    leases
        .get("cognito-client-operator")
        .await
        .ok()?
        .spec?
        .holder_identity
}

/// Waits until exactly one of `replicas` (named `one`, `two`) says it leads, and it holds the
/// Lease.
async fn one_leader_again(
    http: &reqwest::Client,
    replicas: [&Service; 2],
    leases: &Api<k8s_openapi::api::coordination::v1::Lease>,
) {
    eventually(
        "one replica leading again",
        Duration::from_secs(60),
        || async {
            let leader = holder(leases).await?;
            let (a, b) = tokio::join!(
                leads_and_health(http, &replicas[0].base),
                leads_and_health(http, &replicas[1].base)
            );
            let leading = match (a.0, b.0) {
                (true, false) => "one",
                (false, true) => "two",
                _ => return None,
            };
            (leader == leading).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the k8s-test-cluster scripts and the built binaries: scripts/test"]
async fn two_replicas_ride_out_api_server_outages_with_one_leader() {
    use test_support::k8s_cluster::PrivateCluster;

    // A cluster of this test's own: its kube-apiserver is stopped for 30 s, then hangs for 20 s.
    let mut cluster = PrivateCluster::start();
    let client = cluster.client().await;
    test_support::k8s_cluster::install_crds(&client, cognito_client_operator::crd::crds()).await;
    let ns = test_support::k8s_cluster::create_namespace(&client, "e2e-outage").await;
    let idp = cognito();
    let http = reqwest::Client::new();
    let kubeconfig = cluster.kubeconfig();
    let mut one = replica(&kubeconfig, &ns, "one", idp.admin_endpoint(), &http).await;
    let leases = Api::namespaced(client.clone(), &ns);
    eventually("one to lead", Duration::from_secs(30), || async {
        (holder(&leases).await.as_deref() == Some("one")).then_some(())
    })
    .await;
    let mut two = replica(&kubeconfig, &ns, "two", idp.admin_endpoint(), &http).await;
    let samples = Arc::new(std::sync::Mutex::new(Samples::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample(
        http.clone(),
        [one.base.clone(), two.base.clone()],
        samples.clone(),
        stop.clone(),
    );
    let stepped_down = || samples.lock().unwrap().no_leader;

    let clients: Api<CognitoClient> = Api::namespaced(client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    // A managed CognitoClient `name`, Ready.
    let reconciled = |name: &'static str| {
        let (clients, token_endpoint) = (clients.clone(), idp.token_endpoint());
        async move {
            let client = managed_client(name, &token_endpoint, "10m");
            clients
                .create(&PostParams::default(), &client)
                .await
                .unwrap();
            eventually(
                &format!("{name} Ready"),
                Duration::from_secs(60),
                || async {
                    condition(&clients, name, "Ready")
                        .await
                        .filter(|(s, _)| s == "True")
                },
            )
            .await
        }
    };
    reconciled("before").await;
    let written = secrets.get("before-credentials").await.unwrap();

    // The API server is away: connections refused.
    let before = stepped_down();
    cluster.stop_api_server();
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(one.process.exited(), None, "one exited during the outage");
    assert_eq!(two.process.exited(), None, "two exited during the outage");
    assert!(stepped_down() > before, "the leader stepped down");
    cluster.start_api_server().await;
    one_leader_again(&http, [&one, &two], &leases).await;
    reconciled("after").await;

    // The API server hangs: connections accepted, nothing answered.
    let before = stepped_down();
    cluster.pause_api_server();
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(stepped_down() > before, "the leader stepped down");
    cluster.resume_api_server();
    one_leader_again(&http, [&one, &two], &leases).await;
    reconciled("last").await;
    // Give a second leader, were there one, time to act on the new client as well.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::SeqCst);
    sampler.await.unwrap();
    let samples = std::mem::take(&mut *samples.lock().unwrap());

    assert_eq!(one.process.exited(), None, "one exited");
    assert_eq!(two.process.exited(), None, "two exited");
    assert_eq!(samples.two_leaders, 0, "two leaders at once: {samples:?}");
    assert!(samples.unhealthy.is_empty(), "{samples:?}");
    let output = one.process.output() + &two.process.output();
    assert!(
        output.contains("lost the leader lease; stopped reconciling"),
        "the leader stepped down: {output}"
    );
    // Nothing written twice: one app client per CognitoClient, created once each, and the
    // Secret written before the outages untouched since.
    for name in ["before", "after", "last"] {
        let named = format!("{ns}-{name}");
        let count = idp
            .pool()
            .clients()
            .into_iter()
            .filter(|c| c.client_name == named)
            .count();
        assert_eq!(count, 1, "app clients named {named}");
    }
    assert_eq!(idp.admin.calls("CreateUserPoolClient"), 3);
    let now = secrets.get("before-credentials").await.unwrap();
    assert_eq!(
        now.resource_version(),
        written.resource_version(),
        "the Secret written before the outages was written again"
    );
    eprintln!(
        "outages: {} samples of both replicas, {} with two leaders, {} with none",
        samples.taken, samples.two_leaders, samples.no_leader
    );
}
