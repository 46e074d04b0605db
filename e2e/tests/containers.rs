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
//! Only `scripts/check-images` runs this suite (feature `containers`), after building the images
//! it needs (`IMAGE_TAG`, default `dev`): `docker`, helm and the test API server are required.
//! What cannot run here, and so is not tested: a kubelet (the probes are polled the way it polls
//! them), Services and the ALB.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cognito_client_operator::cognito_client::CognitoClient;
use e2e::docker::{Container, Network, docker};
use e2e::pod_runtime::{CONTAINER_PORT, PodRuntime, RenderedChart};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use test_support::k8s_cluster::{self, create_namespace, secret_data, unique_name};
use test_support::{Load, eventually, free_port, kubelet_write, repo_root, temp_volume};

const POOL: &str = "us-east-1_LocalDev1";
/// local-cognito's host name on the network, and its port.
const ISSUER_HOST: &str = "local-cognito";
const ISSUER_PORT: u16 = 9229;
/// A client of the pool made at start (local-cognito needs one); the operator makes the other.
const LOAD_CLIENT: (&str, &str) = ("containerload1", "container-load-secret-1");
const SCOPES: &str = "premium_api/read,premium_api/write";

fn image(component: &str) -> String {
    let tag = std::env::var("IMAGE_TAG").unwrap_or_else(|_| "dev".to_owned());
    format!("cognito-m2m/{component}:{tag}")
}

fn issuer() -> String {
    format!("http://{ISSUER_HOST}:{ISSUER_PORT}/{POOL}")
}

/// The chart's values for this stack; `--set` pairs.
fn chart_values(namespace: &str, service_account: &str) -> Vec<(String, String)> {
    [
        (
            "image.tag",
            std::env::var("IMAGE_TAG").unwrap_or_else(|_| "dev".to_owned()),
        ),
        ("cognito.userPoolId", POOL.to_owned()),
        ("cognito.issuer", issuer()),
        (
            "cognitoClient.tokenEndpoint",
            format!("http://{ISSUER_HOST}:{ISSUER_PORT}/oauth2/token"),
        ),
        (
            "cognitoClient.source.secretsManager.secretId",
            String::new(),
        ),
        ("cognitoClient.source.managed.enabled", "true".to_owned()),
        ("operator.replicaCount", "1".to_owned()),
        ("operator.watchNamespaces[0]", namespace.to_owned()),
        ("operator.serviceAccount.name", service_account.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The three services and the operator, each in its container, as the chart runs them.
struct Stack {
    http: reqwest::Client,
    kube: kube::Client,
    namespace: String,
    release: String,
    chart: RenderedChart,
    local_cognito: Container,
    /// local-cognito's token endpoint and admin API as the host reaches them.
    issuer_base: String,
    premium: Container,
    operator: Container,
    consumer: Container,
    /// The consumer's published port on the host's loopback.
    consumer_base: String,
    _volumes: Vec<PathBuf>,
    /// Last: fields drop in order, and a network goes only once its containers are gone.
    network: Network,
}

impl Stack {
    async fn start() -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .build()
            .expect("HTTP client");
        let kube = k8s_cluster::client(None).await;
        k8s_cluster::install_crds(&kube, cognito_client_operator::crd::crds()).await;
        let namespace = create_namespace(&kube, "images").await;
        let release = unique_name("img");
        let service_account = format!("{release}-operator");
        let values = chart_values(&namespace, &service_account);
        let set: Vec<(&str, &str)> = values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let chart_dir = repo_root().join("helm/cognito-m2m");
        let chart = RenderedChart::render(&chart_dir, &release, &namespace, None, &set);
        helm_install(&chart_dir, &release, &namespace, &set);

        let network = Network::create(&release);
        let local_cognito = start_local_cognito(&release, &network, &chart);
        let issuer_base = format!(
            "http://127.0.0.1:{}",
            local_cognito.published_port(ISSUER_PORT)
        );
        eventually(
            "local-cognito serves its JWKS",
            Duration::from_secs(60),
            || {
                let url = format!("{issuer_base}/{POOL}/.well-known/jwks.json");
                let http = http.clone();
                async move { ok(&http, &url).await.then_some(()) }
            },
        )
        .await;

        let premium = start_pod(&chart, "premium-content", &network, &[], &BTreeMap::new());
        wait_ready(
            &http,
            &chart.pod("premium-content"),
            &premium,
            &network.name,
        )
        .await;

        let (operator, _kubeconfig_dir) =
            start_operator(&chart, &release, &namespace, &service_account, &issuer_base);
        let secret_name = format!("{}-consumer-credentials", fullname(&release));
        let secrets: Api<Secret> = Api::namespaced(kube.clone(), &namespace);
        let secret = eventually(
            "the operator container writes the consumer's Secret",
            Duration::from_secs(120),
            || async { secrets.get_opt(&secret_name).await.ok().flatten() },
        )
        .await;
        let credentials = temp_volume("consumer-credentials");
        kubelet_mount(&credentials, &secret_data(&secret));

        let consumer_pod = chart.pod("content-consumer");
        // The chart's PREMIUM_API_URL names the Service's port; on the network it is the pod's.
        let mut premium_url = consumer_pod.env["PREMIUM_API_URL"].clone();
        for (service_url, pod_url) in chart.service_urls() {
            premium_url = premium_url.replace(&service_url, &pod_url);
        }
        let consumer = start_pod(
            &chart,
            "content-consumer",
            &network,
            &[("PREMIUM_API_URL", premium_url)],
            &BTreeMap::from([(secret_name, credentials.clone())]),
        );
        wait_ready(&http, &consumer_pod, &consumer, &network.name).await;
        let consumer_base = format!(
            "http://127.0.0.1:{}",
            consumer.published_port(CONTAINER_PORT)
        );
        Self {
            http,
            kube,
            namespace,
            release,
            network,
            chart,
            local_cognito,
            issuer_base,
            premium,
            operator,
            consumer,
            consumer_base,
            _volumes: vec![credentials, _kubeconfig_dir],
        }
    }

    /// `http://IP:8080` of a container on the stack's network.
    fn on_network(&self, container: &Container) -> String {
        format!(
            "http://{}:{CONTAINER_PORT}",
            container.ip(&self.network.name)
        )
    }

    /// A token of the load client, from local-cognito.
    async fn load_token(&self) -> String {
        let response = self
            .http
            .post(format!("{}/oauth2/token", self.issuer_base))
            .basic_auth(LOAD_CLIENT.0, Some(LOAD_CLIENT.1))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("local-cognito answers");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("JSON");
        body["access_token"].as_str().expect("a token").to_owned()
    }

    /// Steady load on the consumer's `/content/authorized-read` (consumer -> premium-content,
    /// tokens from local-cognito), straight to its container.
    fn consumer_load(&self, client: &reqwest::Client, workers: usize) -> Load {
        let url = format!(
            "{}/content/authorized-read",
            self.on_network(&self.consumer)
        );
        Load::start(
            client.clone(),
            workers,
            Duration::from_millis(5),
            Duration::from_secs(10),
            StatusCode::OK,
            move |client| client.get(&url),
        )
    }

    fn chart_containers(&self) -> [&Container; 3] {
        [&self.premium, &self.consumer, &self.operator]
    }

    /// A local-cognito admin API call (awsJson1_1), as the AWS SDKs make it.
    async fn cognito(&self, operation: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/", self.issuer_base))
            .header("content-type", "application/x-amz-json-1.1")
            .header(
                "x-amz-target",
                format!("AWSCognitoIdentityProviderService.{operation}"),
            )
            .json(&body)
            .send()
            .await
            .expect("the admin API answers");
        assert_eq!(response.status(), 200, "{operation}");
        response.json().await.expect("JSON")
    }

    async fn app_client_names(&self) -> Vec<String> {
        let list = self
            .cognito(
                "ListUserPoolClients",
                json!({"UserPoolId": POOL, "MaxResults": 60}),
            )
            .await;
        list["UserPoolClients"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["ClientName"].as_str().map(str::to_owned))
            .collect()
    }

    /// `helm uninstall`; with `wait`, until the resources are gone, which needs the operator
    /// and local-cognito running (the finalizers delete the app client first).
    async fn uninstall(&self, wait: bool) {
        let mut command = std::process::Command::new(test_support::tool("helm"));
        command.args(["uninstall", &self.release, "--namespace", &self.namespace]);
        if wait {
            command.args(["--wait", "--timeout", "2m"]);
        }
        let output = command.output().expect("run helm uninstall");
        assert!(
            output.status.success(),
            "helm uninstall: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// `{release}-cognito-m2m`, the chart's full name for a release without "cognito-m2m" in it.
fn fullname(release: &str) -> String {
    format!("{release}-cognito-m2m")
}

fn helm_install(chart: &Path, release: &str, namespace: &str, set: &[(&str, &str)]) {
    let mut command = std::process::Command::new(test_support::tool("helm"));
    command
        .args(["install", release])
        .arg(chart)
        .args(["--namespace", namespace, "--skip-crds"]);
    for (key, value) in set {
        command.args(["--set", &format!("{key}={value}")]);
    }
    let output = command.output().expect("run helm install");
    assert!(
        output.status.success(),
        "helm install: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// local-cognito is not in the chart (development only): it runs with the settings the chart
/// gives premium-content, so it too is tried read-only, unprivileged and as 65532.
fn start_local_cognito(release: &str, network: &Network, chart: &RenderedChart) -> Container {
    let like = chart.pod("premium-content");
    let mut args = like.security_args.clone();
    args.extend([
        format!("--network={}", network.name),
        format!("--network-alias={ISSUER_HOST}"),
        format!("--publish=127.0.0.1::{ISSUER_PORT}"),
        format!("--env=COGNITO_USER_POOL_ID={POOL}"),
        format!("--env=COGNITO_ISSUER={}", issuer()),
        format!(
            "--env=LOCAL_COGNITO_CLIENTS={}:{}:{SCOPES}",
            LOAD_CLIENT.0, LOAD_CLIENT.1
        ),
        image("local-cognito"),
    ]);
    Container::run(&format!("{release}-local-cognito"), &args)
}

/// Starts the chart's pod `component` on `network`, named and aliased as the pod and its Service.
fn start_pod(
    chart: &RenderedChart,
    component: &str,
    network: &Network,
    env_overrides: &[(&str, String)],
    secret_dirs: &BTreeMap<String, PathBuf>,
) -> Container {
    let pod = chart.pod(component);
    for (name, value) in env_overrides {
        eprintln!(
            "{component}: {name}={value} (the chart's {:?})",
            pod.env.get(*name)
        );
    }
    let service = pod.deployment.clone();
    let args = pod.docker_args(
        &image(component),
        env_overrides,
        secret_dirs,
        &[
            format!("--network={}", network.name),
            format!("--network-alias={service}"),
            format!("--publish=127.0.0.1::{CONTAINER_PORT}"),
            "--restart=always".to_owned(),
        ],
    );
    Container::run(&format!("{}-0", pod.deployment), &args)
}

/// The operator on the host's network (the test API server listens on loopback), as its
/// ServiceAccount. Returns the container and the folder holding its kubeconfig.
fn start_operator(
    chart: &RenderedChart,
    release: &str,
    namespace: &str,
    service_account: &str,
    issuer_base: &str,
) -> (Container, PathBuf) {
    let pod = chart.pod("operator");
    let dir = temp_volume("operator-kubeconfig");
    let mut kubeconfig: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(k8s_cluster::kubeconfig()).unwrap())
            .expect("the test kubeconfig");
    for user in kubeconfig["users"].as_array_mut().expect("users") {
        user["user"]["as"] = json!(format!(
            "system:serviceaccount:{namespace}:{service_account}"
        ));
    }
    std::fs::write(
        dir.join("config"),
        serde_yaml_ng::to_string(&kubeconfig).unwrap(),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let overrides = [
        // The host's network is shared: a free port instead of 8080.
        ("LISTEN_ADDR", listen),
        // Stand-ins for IRSA and the mounted ServiceAccount token.
        ("AWS_ENDPOINT_URL", issuer_base.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("KUBECONFIG", "/var/run/cognito-m2m/kube/config".to_owned()),
    ];
    for (name, value) in &overrides {
        eprintln!(
            "operator: {name}={value} (the chart's {:?})",
            pod.env.get(*name)
        );
    }
    let args = pod.docker_args(
        &image("cognito-client-operator"),
        &overrides,
        &BTreeMap::new(),
        &[
            "--network=host".to_owned(),
            format!(
                "--mount=type=bind,source={},target=/var/run/cognito-m2m/kube,readonly",
                dir.display()
            ),
            "--restart=always".to_owned(),
        ],
    );
    let _ = release;
    (Container::run(&pod.env["POD_NAME"], &args), dir)
}

/// Writes a Secret's data as the kubelet mounts it with the chart's `defaultMode` 0440 and the
/// pod's fsGroup 65532: owned by root, readable by the group only.
fn kubelet_mount(dir: &Path, data: &BTreeMap<String, String>) {
    use std::os::unix::fs::PermissionsExt;
    let values: Vec<(&String, &String)> = data.iter().collect();
    kubelet_write(dir, &values);
    let payload = std::fs::read_link(dir.join("..data")).expect("..data");
    for key in data.keys() {
        let file = dir.join(&payload).join(key);
        std::os::unix::fs::chown(&file, Some(0), Some(65532)).expect("chown a key");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o440)).unwrap();
    }
}

async fn ok(http: &reqwest::Client, url: &str) -> bool {
    http.get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

/// Polls the pod's readiness probe on its container, as the kubelet does, until it passes.
async fn wait_ready(
    http: &reqwest::Client,
    pod: &PodRuntime,
    container: &Container,
    network: &str,
) {
    let probe = pod.readiness.clone().expect("a readiness probe");
    let url = format!(
        "http://{}:{CONTAINER_PORT}{}",
        container.ip(network),
        probe.path
    );
    for _ in 0..120 {
        if http
            .get(&url)
            .timeout(probe.timeout)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!(
        "{} never became ready:\n{}",
        container.name,
        container.logs()
    );
}

/// The kubelet's view of a container during a test: its readiness and liveness probes polled at
/// their periods, remembering the longest run of failures of each.
struct ProbeWatch {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<Vec<(String, u32, u32)>>,
}

impl ProbeWatch {
    fn start(http: &reqwest::Client, pod: &PodRuntime, base: String) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let probes: Vec<_> = [("readiness", &pod.readiness), ("liveness", &pod.liveness)]
            .into_iter()
            .filter_map(|(name, probe)| probe.clone().map(|p| (name, p)))
            .collect();
        let (http, flag) = (http.clone(), stop.clone());
        let task = tokio::spawn(async move {
            let mut worst: Vec<(String, u32, u32)> = probes
                .iter()
                .map(|(name, p)| (format!("{name} {}", p.path), 0, p.failure_threshold))
                .collect();
            let mut streak = vec![0u32; probes.len()];
            let period = probes
                .iter()
                .map(|(_, p)| p.period)
                .min()
                .unwrap_or_default();
            while !flag.load(Ordering::SeqCst) {
                for (i, (_, probe)) in probes.iter().enumerate() {
                    let passed = http
                        .get(format!("{base}{}", probe.path))
                        .timeout(probe.timeout)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    streak[i] = if passed { 0 } else { streak[i] + 1 };
                    worst[i].1 = worst[i].1.max(streak[i]);
                }
                tokio::time::sleep(period).await;
            }
            worst
        });
        Self { stop, task }
    }

    /// Stops watching; panics when a probe failed `failureThreshold` times in a row (the
    /// kubelet would have restarted the container or taken it out of its Service).
    async fn assert_never_tripped(self, who: &str) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for (probe, worst, threshold) in self.task.await.expect("the probe watch") {
            assert!(
                worst < threshold,
                "{who}: {probe} failed {worst} times in a row (failureThreshold {threshold})"
            );
        }
    }
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
/// refused was never accepted; one it accepted must be answered. (On a kept-alive connection a
/// request can cross the server's close of that idle connection; callers retry those, and in a
/// cluster none arrive by then: the endpoint is gone first.)
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
        let grace = if component == "local-cognito" {
            grace("premium-content")
        } else {
            grace(component)
        };
        let stopped = container.stop(grace).await;
        let tally = load.finish().await;
        let figure = format!(
            "SIGTERM to {component} under load: {tally}; exit {} after {:.2} s (grace {} s)",
            stopped.exit_code,
            stopped.took.as_secs_f64(),
            grace.as_secs()
        );
        eprintln!("{figure}");
        assert_eq!(tally.failed, 0, "{figure}");
        assert!(tally.ok >= 300, "{figure}");
        // Exit 0: it stopped by itself, before the engine's SIGKILL at the end of the grace.
        assert_eq!(stopped.exit_code, 0, "{figure}");
        assert!(stopped.took < grace, "{figure}");
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

/// The test API server's kube-apiserver stopped and started again under the operator container:
/// it resumes (a CognitoClient made afterwards gets its Secret), loses nothing and writes
/// nothing twice (the first Secret untouched, one app client per CognitoClient).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs docker, the images and the test API server: scripts/check-images"]
async fn the_operator_resumes_after_an_api_server_restart() {
    let stack = Stack::start().await;
    let secrets: Api<Secret> = Api::namespaced(stack.kube.clone(), &stack.namespace);
    let first = format!("{}-consumer-credentials", fullname(&stack.release));
    let version = secrets.get(&first).await.unwrap().metadata.resource_version;
    let clients_before = stack.app_client_names().await;

    let away = restart_api_server(Duration::from_secs(5)).await;
    let kube = k8s_cluster::client(None).await;
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
    let version_after = secrets.get(&first).await.unwrap().metadata.resource_version;
    let clients_after = stack.app_client_names().await;
    let figure = format!(
        "API server away {:.1} s under the operator: {} operator restarts, {} app clients before \
         and {} after one more CognitoClient, first Secret {}",
        away.as_secs_f64(),
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
    assert_eq!(
        clients_after.len(),
        clients_before.len() + 1,
        "{figure}: {clients_after:?}"
    );
    stack.uninstall(false).await;
}

/// Stops the test cluster's kube-apiserver (`apiserver.pid` beside the kubeconfig, as
/// k8s-test-cluster/up.sh and scripts/test lay it out), waits `pause`, starts it again with the
/// same command line and waits until it is ready. Returns how long it was away.
// The new kube-apiserver must outlive this test (down.sh stops it): never waited for.
#[allow(clippy::zombie_processes)]
async fn restart_api_server(pause: Duration) -> Duration {
    let state = k8s_cluster::kubeconfig()
        .parent()
        .expect("the kubeconfig's folder")
        .to_path_buf();
    let pid_file = state.join("apiserver.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap_or_else(|_| {
            panic!(
                "{} is missing: restarting the API server needs the test control plane \
                 scripts/test starts, not a cluster of your own",
                pid_file.display()
            )
        })
        .trim()
        .parse()
        .expect("a pid");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("kube-apiserver runs");
    let argv: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let stopped_at = std::time::Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    while Path::new(&format!("/proc/{pid}")).exists() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(pause).await;
    let log = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(state.join("apiserver.log"))
        .unwrap();
    // Its own process group, as up.sh started it: it outlives this test, and down.sh stops it.
    let child = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .process_group(0)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start kube-apiserver again");
    std::fs::write(&pid_file, child.id().to_string()).unwrap();
    eventually(
        "kube-apiserver ready again",
        Duration::from_secs(120),
        || async {
            let kube = k8s_cluster::client(None).await;
            kube.apiserver_version().await.ok()
        },
    )
    .await;
    stopped_at.elapsed()
}
