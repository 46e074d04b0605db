//! The images users deploy, run as the chart runs the pods, then broken on purpose.
//!
//! Each pod's settings come from the rendered chart (`e2e::pod_runtime`): user 65532, read-only
//! root file system, every capability dropped, no privilege escalation, memory limits, the
//! chart's environment, Secret volumes laid out as the kubelet lays them out, restart policy
//! Always. The containers share a user-defined network, where names resolve as Services do; the
//! chart's Service URLs name the container port instead (a network has no Services). The
//! operator container runs on the host's network against the test API server, as its
//! ServiceAccount (impersonated: the stand-in for the token the kubelet would mount), with the
//! RBAC `helm install` gave it, and local-cognito's admin API as Cognito. Departures from the
//! chart are printed.
//!
//! The authorizer image runs alone (`authorizer.rs`): its standalone pod, the policy ConfigMap
//! changed under it.
//!
//! Only `scripts/check-images` runs this suite (feature `containers`), after building the images
//! it needs (`IMAGE_TAG`, default `dev`): `docker`, helm and the test API server are required.
//! What cannot run here, and so is not tested: a kubelet (the probes are polled the way it polls
//! them), Services and the ALB.

mod authorizer;
mod probes;
mod stack;

use std::path::Path;
use std::time::Duration;

use cognito_client_operator::cognito_client::CognitoClient;
use e2e::docker::{Container, docker};
use e2e::pod_runtime::{PodRuntime, pod_of};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use test_support::k8s_cluster::PrivateCluster;
use test_support::{Load, eventually};

use probes::ProbeWatch;
use stack::*;

/// How long after SIGTERM the test keeps sending, as endpoints and the ALB lag behind a pod's
/// deletion: 2 s, which must stay inside the pod's SHUTDOWN_DELAY (during which it serves on).
fn endpoint_lag(pod: &PodRuntime) -> Duration {
    let lag = Duration::from_secs(2);
    let delay = pod
        .env
        .get("SHUTDOWN_DELAY")
        .and_then(|d| d.strip_suffix('s'))
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or_else(|| {
            panic!(
                "{}: the chart sets SHUTDOWN_DELAY in seconds",
                pod.deployment
            )
        });
    assert!(
        lag < delay,
        "{}: SHUTDOWN_DELAY {delay:?} is shorter than the lag",
        pod.deployment
    );
    lag
}

async fn get_json(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = http.get(url).send().await.expect("answers");
    (
        response.status().as_u16(),
        response.json().await.expect("JSON"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs docker, the images and the test API server: scripts/check-images"]
async fn the_seed_flows_across_containers_run_as_the_chart_runs_the_pods() {
    let stack = Stack::start().await;

    for (container, binary) in [
        (&stack.premium, "premium-content"),
        (&stack.consumer, "content-consumer"),
        (&stack.operator, "cognito-client-operator"),
        (&stack.local_cognito, "local-cognito"),
    ] {
        assert_eq!(container.inspect("{{.Config.User}}"), "65532:65532");
        assert_eq!(container.inspect("{{.HostConfig.ReadonlyRootfs}}"), "true");
        assert_eq!(container.inspect("{{.HostConfig.CapDrop}}"), "[ALL]");
        // The binary itself is PID 1 of the container (no init, no shell to pass signals on).
        let pid = container.host_pid();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let ns_pid = status
            .lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .expect("NSpid");
        assert_eq!(
            ns_pid.split_whitespace().last(),
            Some("1"),
            "{}",
            container.name
        );
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
        assert_eq!(exe, Path::new("/usr/local/bin").join(binary));
        let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
        assert!(
            uid_line.split_whitespace().skip(1).all(|u| u == "65532"),
            "{uid_line}"
        );
        let caps = status.lines().find(|l| l.starts_with("CapEff:")).unwrap();
        assert!(
            caps.ends_with("0000000000000000"),
            "{}: {caps}",
            container.name
        );
    }

    let url = |path: &str| format!("{}/content/{path}", stack.consumer_base);
    assert_eq!(
        get_json(&stack.http, &url("unauthorized-read")).await,
        (401, json!({"message": "Unauthorized"}))
    );
    assert_eq!(
        get_json(&stack.http, &url("authorized-read")).await,
        (
            200,
            json!({"message": "Premium Content: OAuth Scope: Read"})
        )
    );
    assert_eq!(
        get_json(&stack.http, &url("authorized-write")).await,
        (
            200,
            json!({"message": "Premium Content: OAuth Scope: Write"})
        )
    );

    // The consumer's credentials are the app client the operator container made.
    let clients: Api<CognitoClient> = Api::namespaced(stack.kube.clone(), &stack.namespace);
    let list = clients.list(&Default::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    let names = stack.app_client_names().await;
    assert_eq!(
        names.len(),
        2,
        "the load client and the managed one: {names:?}"
    );
    for container in stack.chart_containers() {
        assert_eq!(container.restart_count(), 0, "{} restarted", container.name);
    }
    // Uninstalled, the operator container deletes the app client it made (deletionPolicy Delete).
    stack.uninstall(true).await;
    eventually(
        "the managed app client deleted",
        Duration::from_secs(60),
        || async { (stack.app_client_names().await.len() == 1).then_some(()) },
    )
    .await;
}

/// SIGTERM (docker stop, as the kubelet stops a container) to each container under steady load:
/// no accepted request fails, and each exits 0 well inside its grace period.
///
/// Each request opens its own connection, so "accepted" is exact: a connection the server
/// refused was never accepted; one it accepted must be answered. The load stops a moment after
/// the signal, as the endpoint's removal does in a cluster, well inside the services'
/// SHUTDOWN_DELAY, during which they keep serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs docker, the images and the test API server: scripts/check-images"]
async fn sigterm_under_load_fails_no_accepted_request() {
    let stack = Stack::start().await;
    let token = stack.load_token().await;
    let grace = |component: &str| stack.chart.pod(component).grace;
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .connect_timeout(Duration::from_secs(2))
        .build()
        .expect("HTTP client");

    // The consumer first: its load needs premium-content and local-cognito.
    let loads: [(&Container, &str, Load); 3] = [
        (
            &stack.consumer,
            "content-consumer",
            stack.consumer_load(&fresh, 8),
        ),
        (&stack.premium, "premium-content", {
            let url = format!("{}/home/premium", stack.on_network(&stack.premium));
            let token = token.clone();
            Load::start(
                fresh.clone(),
                8,
                Duration::from_millis(2),
                Duration::from_secs(10),
                StatusCode::OK,
                move |c| c.request(Method::GET, &url).bearer_auth(&token),
            )
        }),
        (&stack.local_cognito, "local-cognito", {
            let url = format!(
                "http://{}:{ISSUER_PORT}/oauth2/token",
                stack.local_cognito.ip(&stack.network.name)
            );
            Load::start(
                fresh.clone(),
                8,
                Duration::from_millis(2),
                Duration::from_secs(10),
                StatusCode::OK,
                move |c| {
                    c.post(&url)
                        .basic_auth(LOAD_CLIENT.0, Some(LOAD_CLIENT.1))
                        .form(&[("grant_type", "client_credentials")])
                },
            )
        }),
    ];
    // Each load runs on its own container; stop them one at a time, the consumer first.
    let mut loads = Vec::from(loads);
    loads.reverse();
    while let Some((container, component, load)) = loads.pop() {
        load.wait_for(300).await;
        let (grace, lag) = match stack.chart.pod(pod_of(component)) {
            pod if component == "local-cognito" => (pod.grace, Duration::ZERO),
            pod => (pod.grace, endpoint_lag(&pod)),
        };
        // SIGTERM, and the endpoint removed `lag` later, as a pod deletion does both at once
        // and kube-proxy / the ALB take a moment to stop sending.
        let (stopped, tally) = tokio::join!(container.stop(grace), async {
            tokio::time::sleep(lag).await;
            load.finish().await
        });
        let figure = format!(
            "SIGTERM to {component} under load, endpoint removed {} s later: {tally}; exit {} \
             after {:.2} s (grace {} s)",
            lag.as_secs(),
            stopped.exit_code,
            stopped.took.as_secs_f64(),
            grace.as_secs()
        );
        eprintln!("{figure}");
        assert!(tally.ok >= 300, "{figure}");
        // Exit 0: it stopped by itself, before the engine's SIGKILL at the end of the grace.
        assert_eq!(stopped.exit_code, 0, "{figure}");
        assert!(stopped.took < grace, "{figure}");
        if component != "local-cognito" {
            assert_eq!(tally.failed, 0, "{figure}");
        }
        // local-cognito (development only) stops accepting at once: connections the kernel had
        // queued but the server not yet accepted are reset by the closing listener, and a
        // client cannot tell those from accepted ones; its figure is reported, not held to 0.
    }
    let grace = grace("operator");
    let stopped = stack.operator.stop(grace).await;
    eprintln!(
        "SIGTERM to cognito-client-operator: exit {} after {:.2} s (grace {} s)",
        stopped.exit_code,
        stopped.took.as_secs_f64(),
        grace.as_secs()
    );
    assert_eq!(stopped.exit_code, 0);
    assert!(stopped.took < grace);
    stack.uninstall(false).await;
}

/// local-cognito cut off the network while traffic flows: premium-content's cached JWKS and the
/// consumer's cached token keep every valid call working.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs docker, the images and the test API server: scripts/check-images"]
async fn the_issuer_unreachable_cached_keys_and_tokens_keep_calls_working() {
    let stack = Stack::start().await;
    let watches = [
        ("premium-content", &stack.premium),
        ("content-consumer", &stack.consumer),
    ]
    .map(|(component, container)| {
        let pod = stack.chart.pod(component);
        (
            component,
            ProbeWatch::start(&stack.http, &pod, stack.on_network(container)),
        )
    });
    let load = stack.consumer_load(&stack.http, 4);
    load.wait_for(200).await;
    docker(&[
        "network",
        "disconnect",
        &stack.network.name,
        &stack.local_cognito.name,
    ]);
    let before = load.tally();
    load.wait_for(1000).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let during = load.tally();
    docker(&[
        "network",
        "connect",
        "--alias",
        ISSUER_HOST,
        &stack.network.name,
        &stack.local_cognito.name,
    ]);
    let tally = load.finish().await;
    let figure = format!(
        "issuer unreachable for {} requests: {tally}",
        during.requests - before.requests
    );
    eprintln!("{figure}");
    assert_eq!((tally.failed, tally.refused), (0, 0), "{figure}");
    assert!(during.requests - before.requests >= 1000, "{figure}");
    for (component, watch) in watches {
        watch.assert_never_tripped(component).await;
    }
    stack.uninstall(false).await;
}

/// premium-content restarted under load (stopped as the kubelet stops it, started again): the
/// consumer's calls recover without a restart of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs docker, the images and the test API server: scripts/check-images"]
async fn premium_content_restarted_under_load_the_consumer_recovers() {
    let stack = Stack::start().await;
    let consumer_started = stack.consumer.inspect("{{.State.StartedAt}}");
    let load = stack.consumer_load(&stack.http, 4);
    load.wait_for(200).await;
    let grace = stack.chart.pod("premium-content").grace;
    let before = load.tally();
    let stopped = stack.premium.stop(grace).await;
    stack.premium.start();
    wait_ready(
        &stack.http,
        &stack.chart.pod("premium-content"),
        &stack.premium,
        &stack.network.name,
    )
    .await;
    // Calls sent while it was down may still be waiting out the consumer's timeouts: let them
    // finish, then every call must succeed.
    let timeout = stack
        .chart
        .pod("content-consumer")
        .env
        .get("PREMIUM_API_TIMEOUT")
        .cloned();
    assert!(
        timeout.is_none(),
        "the consumer's default PREMIUM_API_TIMEOUT (5 s) is assumed here"
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    let ready = load.tally();
    load.wait_for(500).await;
    let tally = load.finish().await;
    let after_ready = tally.failed - ready.failed;
    let figure = format!(
        "premium-content restarted under load: {tally} ({} from its stop until 6 s after it was \
         ready again, {after_ready} after that); it exited {} after {:.2} s",
        ready.failed - before.failed,
        stopped.exit_code,
        stopped.took.as_secs_f64()
    );
    eprintln!("{figure}");
    assert_eq!(after_ready, 0, "{figure}");
    assert!(tally.ok > ready.ok + 400, "{figure}");
    assert_eq!(
        stack.consumer.inspect("{{.State.StartedAt}}"),
        consumer_started
    );
    assert_eq!(stack.consumer.restart_count(), 0);
    stack.uninstall(false).await;
}

/// The test API server's kube-apiserver killed and started again under the operator container:
/// it resumes (a CognitoClient made afterwards gets its Secret), loses nothing and writes
/// nothing twice (the first Secret untouched, one app client per CognitoClient).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs docker, the images and the test API server: scripts/check-images"]
async fn the_operator_resumes_after_an_api_server_restart() {
    // A control plane of this test's own: its kube-apiserver is killed and started again.
    let mut cluster = PrivateCluster::start();
    let stack = Stack::start_on(cluster.kubeconfig(), cluster.client().await).await;
    let secrets: Api<Secret> = Api::namespaced(stack.kube.clone(), &stack.namespace);
    let first = format!("{}-consumer-credentials", fullname(&stack.release));
    let version = secrets.get(&first).await.unwrap().metadata.resource_version;
    let clients_before = stack.app_client_names().await;

    // Killed (a crash; a SIGTERM'd kube-apiserver drains for a minute), away 5 s, started again.
    let stopped_at = std::time::Instant::now();
    cluster.stop_api_server();
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster.start_api_server().await;
    let away = stopped_at.elapsed();
    let answering_at = std::time::Instant::now();
    let kube = cluster.client().await;
    let clients: Api<CognitoClient> = Api::namespaced(kube.clone(), &stack.namespace);
    // The chart's CognitoClient under another name, for another Secret.
    let mut second = stack.chart.find("CognitoClient", "").clone();
    second["metadata"] = json!({"name": "after-restart", "namespace": stack.namespace});
    second["spec"]["target"]["secretName"] = json!("after-restart-credentials");
    let mut second: CognitoClient = serde_json::from_value(second).expect("a CognitoClient");
    second.metadata.namespace = Some(stack.namespace.clone());
    clients
        .create(&PostParams::default(), &second)
        .await
        .unwrap();
    let secrets: Api<Secret> = Api::namespaced(kube.clone(), &stack.namespace);
    eventually(
        "the operator writes the Secret of a CognitoClient made after the restart",
        Duration::from_secs(120),
        || async {
            secrets
                .get_opt("after-restart-credentials")
                .await
                .ok()
                .flatten()
        },
    )
    .await;
    let written_after = answering_at.elapsed();
    let version_after = secrets.get(&first).await.unwrap().metadata.resource_version;
    let clients_after = stack.app_client_names().await;
    let figure = format!(
        "API server away {:.1} s under the operator: the new CognitoClient's Secret written \
         {:.1} s after it answered again, {} operator restarts, {} app clients before and {} after \
         one more CognitoClient, first Secret {}",
        away.as_secs_f64(),
        written_after.as_secs_f64(),
        stack.operator.restart_count(),
        clients_before.len(),
        clients_after.len(),
        if version == version_after {
            "untouched"
        } else {
            "rewritten"
        }
    );
    eprintln!("{figure}");
    assert_eq!(version, version_after, "{figure}");
    // It stood by while the API server was away, never exiting (the engine would have
    // restarted it, as the kubelet would, and counted it).
    assert_eq!(stack.operator.restart_count(), 0, "{figure}");
    assert_eq!(
        clients_after.len(),
        clients_before.len() + 1,
        "{figure}: {clients_after:?}"
    );
    stack.uninstall(false).await;
}
