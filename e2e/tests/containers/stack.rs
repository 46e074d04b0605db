//! The stack under test: the chart rendered and installed, local-cognito, the three pods of
//! the chart as containers, and the calls the tests make on them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cognito_client_operator::cognito_client::CognitoClient;
use e2e::docker::{Container, Network};
use e2e::pod_runtime::{
    CONTAINER_PORT, PodRuntime, RenderedChart, chart_command, pod_of, run_helm,
};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::k8s_cluster::{self, create_namespace, secret_data, unique_name};
use test_support::{Load, eventually, free_port, kubelet_write, repo_root, temp_volume};

pub(crate) const POOL: &str = "us-east-1_LocalDev1";
/// local-cognito's host name on the network, and its port.
pub(crate) const ISSUER_HOST: &str = "local-cognito";
pub(crate) const ISSUER_PORT: u16 = 9229;
/// A client of the pool made at start (local-cognito needs one); the operator makes the other.
pub(crate) const LOAD_CLIENT: (&str, &str) = ("containerload1", "container-load-secret-1");
pub(crate) const SCOPES: &str = "premium_api/read,premium_api/write";

pub(crate) fn image(component: &str) -> String {
    let tag = std::env::var("IMAGE_TAG").unwrap_or_else(|_| "dev".to_owned());
    format!("cognito-m2m/{component}:{tag}")
}

pub(crate) fn issuer() -> String {
    format!("http://{ISSUER_HOST}:{ISSUER_PORT}/{POOL}")
}

/// The chart's values for this stack; `--set` pairs.
pub(crate) fn chart_values(namespace: &str, service_account: &str) -> Vec<(String, String)> {
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
pub(crate) struct Stack {
    pub(crate) http: reqwest::Client,
    pub(crate) kube: kube::Client,
    /// The cluster's kubeconfig (cluster-admin).
    pub(crate) kubeconfig: PathBuf,
    pub(crate) namespace: String,
    pub(crate) release: String,
    pub(crate) chart: RenderedChart,
    pub(crate) local_cognito: Container,
    /// local-cognito's token endpoint and admin API as the host reaches them.
    pub(crate) issuer_base: String,
    pub(crate) premium: Container,
    pub(crate) operator: Container,
    pub(crate) consumer: Container,
    /// The consumer's published port on the host's loopback.
    pub(crate) consumer_base: String,
    pub(crate) _volumes: Vec<PathBuf>,
    /// Last: fields drop in order, and a network goes only once its containers are gone.
    pub(crate) network: Network,
}

impl Stack {
    /// The stack on the test cluster (the one `KUBECONFIG` names, or test-support's).
    pub(crate) async fn start() -> Self {
        let kubeconfig = k8s_cluster::kubeconfig().to_path_buf();
        Self::start_on(kubeconfig, k8s_cluster::client(None).await).await
    }

    /// The stack on the cluster of `kubeconfig` (cluster-admin), reached by `kube`.
    pub(crate) async fn start_on(kubeconfig: PathBuf, kube: kube::Client) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .build()
            .expect("HTTP client");
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
        helm_install(&kubeconfig, &chart_dir, &release, &namespace, &set);

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
                async move { ok(&http, &url, Duration::from_secs(2)).await.then_some(()) }
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

        let (operator, _kubeconfig_dir) = start_operator(
            &chart,
            &kubeconfig,
            &namespace,
            &service_account,
            &issuer_base,
        );
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
            kubeconfig,
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
    pub(crate) fn on_network(&self, container: &Container) -> String {
        format!(
            "http://{}:{CONTAINER_PORT}",
            container.ip(&self.network.name)
        )
    }

    /// A token of the load client, from local-cognito.
    pub(crate) async fn load_token(&self) -> String {
        load_token(&self.http, &self.issuer_base).await
    }

    /// Steady load on the consumer's `/content/authorized-read` (consumer -> premium-content,
    /// tokens from local-cognito), straight to its container.
    pub(crate) fn consumer_load(&self, client: &reqwest::Client, workers: usize) -> Load {
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

    pub(crate) fn chart_containers(&self) -> [&Container; 3] {
        [&self.premium, &self.consumer, &self.operator]
    }

    /// A local-cognito admin API call (awsJson1_1), as the AWS SDKs make it.
    pub(crate) async fn cognito(&self, operation: &str, body: Value) -> Value {
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

    pub(crate) async fn app_client_names(&self) -> Vec<String> {
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

    /// `helm uninstall`. With `wait`, as docs/deploy-eks.md section 8 says: the CognitoClients
    /// first, deleted and gone while the operator runs (its finalizer deletes the app client;
    /// `helm uninstall` alone would take the operator's RBAC away mid-way), then the release,
    /// until its resources are gone.
    pub(crate) async fn uninstall(&self, wait: bool) {
        if wait {
            let clients: Api<CognitoClient> = Api::namespaced(self.kube.clone(), &self.namespace);
            clients
                .delete_collection(&Default::default(), &Default::default())
                .await
                .expect("delete the CognitoClients");
            eventually(
                "the CognitoClients gone",
                Duration::from_secs(120),
                || async {
                    let left = clients.list(&Default::default()).await.ok()?;
                    left.items.is_empty().then_some(())
                },
            )
            .await;
        }
        let mut command = std::process::Command::new(test_support::tool("helm"));
        command.args(["uninstall", &self.release, "--namespace", &self.namespace]);
        command.arg("--kubeconfig").arg(&self.kubeconfig);
        if wait {
            command.args(["--wait", "--timeout", "2m"]);
        }
        run_helm(command);
    }
}

/// A token of the load client from local-cognito's token endpoint at `issuer_base` (as the host
/// reaches it).
pub(crate) async fn load_token(http: &reqwest::Client, issuer_base: &str) -> String {
    let response = http
        .post(format!("{issuer_base}/oauth2/token"))
        .basic_auth(LOAD_CLIENT.0, Some(LOAD_CLIENT.1))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("local-cognito answers");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    body["access_token"].as_str().expect("a token").to_owned()
}

/// `{release}-cognito-m2m`, the chart's full name for a release without "cognito-m2m" in it.
pub(crate) fn fullname(release: &str) -> String {
    format!("{release}-cognito-m2m")
}

pub(crate) fn helm_install(
    kubeconfig: &Path,
    chart: &Path,
    release: &str,
    namespace: &str,
    set: &[(&str, &str)],
) {
    let mut command = chart_command("install", chart, release, namespace, set);
    command
        .arg("--skip-crds")
        .arg("--kubeconfig")
        .arg(kubeconfig);
    run_helm(command);
}

/// local-cognito is not in the chart (development only): it runs with the settings of
/// [`pod_of`]`("local-cognito")`.
pub(crate) fn start_local_cognito(
    release: &str,
    network: &Network,
    chart: &RenderedChart,
) -> Container {
    let like = chart.pod(pod_of("local-cognito"));
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
pub(crate) fn start_pod(
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
pub(crate) fn start_operator(
    chart: &RenderedChart,
    cluster_kubeconfig: &Path,
    namespace: &str,
    service_account: &str,
    issuer_base: &str,
) -> (Container, PathBuf) {
    let pod = chart.pod("operator");
    let dir = temp_volume("operator-kubeconfig");
    let mut kubeconfig: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(cluster_kubeconfig).unwrap())
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
    (Container::run(&pod.env["POD_NAME"], &args), dir)
}

/// Writes a Secret's data as the kubelet mounts it with the chart's `defaultMode` 0440 and the
/// pod's fsGroup 65532: owned by root, readable by the group only.
pub(crate) fn kubelet_mount(dir: &Path, data: &BTreeMap<String, String>) {
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

/// Whether a GET of `url` answers 200 within `timeout`.
pub(crate) async fn ok(http: &reqwest::Client, url: &str, timeout: Duration) -> bool {
    http.get(url)
        .timeout(timeout)
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

/// Polls the pod's readiness probe on its container, as the kubelet does, until it passes (the
/// container's logs are printed if it never does: `Container` prints them on a panic).
pub(crate) async fn wait_ready(
    http: &reqwest::Client,
    pod: &PodRuntime,
    container: &Container,
    network: &str,
) {
    let probe = pod.readiness.clone().expect("a readiness probe");
    let url = format!(
        "http://{}:{}{}",
        container.ip(network),
        probe.port,
        probe.path
    );
    eventually(
        &format!("{} ready", container.name),
        Duration::from_secs(60),
        || async { ok(http, &url, probe.timeout).await.then_some(()) },
    )
    .await;
}
