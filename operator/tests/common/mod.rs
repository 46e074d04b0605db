//! Test environment: a real kube-apiserver (the shared k8s-test-cluster) and moto as Secrets
//! Manager and Cognito, both on loopback; plus helpers to run the operator in-process.

#![allow(dead_code)]

pub mod resource_server;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use cognito_client_operator::cognito_client::CognitoClient;
use cognito_client_operator::metrics::Metrics;
use cognito_client_operator::{Dependencies, RunError, Settings};

use k8s_openapi::api::events::v1::Event;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use test_support::free_port;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The operator's own ServiceAccount, as in k8s/operator-rbac.yaml.
pub const OPERATOR_SA: &str = "system:serviceaccount:cognito-m2m:cognito-client-operator";

/// Where the cluster and moto are.
pub struct TestEnv {
    /// Path of a cluster-admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// moto's endpoint URL.
    pub moto_url: String,
}

static ENV: OnceLock<TestEnv> = OnceLock::new();

/// The shared environment, started on first use.
pub fn env() -> &'static TestEnv {
    ENV.get_or_init(|| TestEnv {
        kubeconfig: test_support::kubeconfig().to_path_buf(),
        moto_url: start_moto(),
    })
}

// moto runs under a watcher that outlives the test process; it is never waited for.
#[allow(clippy::zombie_processes)]
fn start_moto() -> String {
    let port = free_port();
    let bin = test_support::tool("moto_server");
    let script = format!(
        "{bin} -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         while kill -0 {pid} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done; kill $m",
        bin = bin.display(),
        pid = std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    format!("http://127.0.0.1:{port}")
}

/// A client for the test cluster, optionally impersonating a user.
pub async fn kube_client(impersonate: Option<&str>) -> kube::Client {
    env();
    test_support::k8s_cluster::client(impersonate).await
}

/// AWS SDK configuration pointing at moto.
pub async fn aws() -> SdkConfig {
    aws_at(&env().moto_url).await
}

// Each test binary includes this module and uses a part of it (as dead_code above).
#[allow(unused_imports)]
pub use test_support::k8s_cluster::unique_name as unique;

/// Installs the CRDs (generated from the Rust types) and waits until they are established.
pub async fn ensure_crd(client: &kube::Client) {
    test_support::k8s_cluster::install_crds(client, cognito_client_operator::crd::crds()).await;
}

/// Creates a fresh namespace (the CRD installed) and returns its name.
pub async fn namespace(client: &kube::Client, prefix: &str) -> String {
    ensure_crd(client).await;
    test_support::k8s_cluster::create_namespace(client, prefix).await
}

/// Applies every document of a YAML manifest by server-side apply.
pub async fn apply_manifest(client: &kube::Client, yaml: &str) {
    use serde::Deserialize;
    for doc in serde_yaml_ng::Deserializer::from_str(yaml) {
        let value = serde_json::Value::deserialize(doc).expect("YAML document");
        if value.is_null() {
            continue;
        }
        let obj: DynamicObject = serde_json::from_value(value).expect("Kubernetes object");
        let types = obj.types.clone().expect("apiVersion and kind");
        let gvk = GroupVersionKind::try_from(&types).expect("gvk");
        let resource = ApiResource::from_gvk(&gvk);
        let api: Api<DynamicObject> = match obj.namespace() {
            Some(ns) => Api::namespaced_with(client.clone(), &ns, &resource),
            None => Api::all_with(client.clone(), &resource),
        };
        api.patch(
            &obj.name_any(),
            &PatchParams::apply("cognito-operator-tests").force(),
            &Patch::Apply(&obj),
        )
        .await
        .unwrap_or_else(|e| panic!("apply {} {}: {e}", types.kind, obj.name_any()));
    }
}

/// Polls `check` until it yields a value, failing the test after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Settings of an operator for one namespace: no leader election, quick retries, no Cognito
/// request cap.
pub fn namespace_settings(ns: &str) -> Settings {
    Settings {
        watch_namespaces: vec![ns.to_owned()],
        leader_election: None,
        retry_base_delay: Duration::from_millis(200),
        retry_max_delay: Duration::from_secs(2),
        cognito_rate_limit: None,
        ..Settings::default()
    }
}

/// AWS SDK configuration for another endpoint (local-cognito's admin API).
pub async fn aws_at(endpoint: &str) -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await
}

/// An operator running in this test's runtime.
pub struct RunningOperator {
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), RunError>>,
    /// Its metrics.
    pub metrics: Arc<Metrics>,
    /// Where it serves /healthz, /readyz, /metrics.
    pub addr: std::net::SocketAddr,
}

impl RunningOperator {
    /// Starts the operator with these settings, AWS being moto.
    pub async fn start(client: kube::Client, settings: Settings) -> Self {
        Self::start_with(client, settings, aws().await).await
    }

    /// Starts the operator with these settings and this AWS endpoint configuration.
    pub async fn start_with(client: kube::Client, settings: Settings, aws: SdkConfig) -> Self {
        settings.validate().expect("valid operator settings");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let metrics = Arc::new(Metrics::new());
        let deps = Dependencies { kube: client, aws };
        let task = tokio::spawn(cognito_client_operator::run_with_metrics(
            settings,
            deps,
            listener,
            shutdown.clone(),
            metrics.clone(),
        ));
        Self {
            shutdown,
            task,
            metrics,
            addr,
        }
    }

    /// Starts an operator for one namespace without leader election.
    pub async fn for_namespace(client: kube::Client, ns: &str) -> Self {
        Self::start(client, namespace_settings(ns)).await
    }

    /// Graceful shutdown; returns how `run` ended.
    pub async fn stop(self) -> Result<(), RunError> {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("operator stops within 30s")
            .expect("operator task")
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// GET `path` on the operator's HTTP port: (status code, body).
    pub async fn http_get(&self, path: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        let code = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (code, body)
    }
}

/// Secrets Manager client on moto.
pub async fn secrets_manager() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&aws().await)
}

/// Cognito client on moto.
pub async fn cognito() -> aws_sdk_cognitoidentityprovider::Client {
    aws_sdk_cognitoidentityprovider::Client::new(&aws().await)
}

/// Creates (or overwrites) a Secrets Manager secret with this string.
pub async fn put_source(name: &str, value: &str) {
    let sm = secrets_manager().await;
    let created = sm
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await;
    if created.is_err() {
        sm.put_secret_value()
            .secret_id(name)
            .secret_string(value)
            .send()
            .await
            .expect("put secret value");
    }
}

#[allow(unused_imports)]
pub use test_support::k8s_cluster::secret_data as data;

/// The Ready condition's (status, reason) once observedGeneration caught up.
pub async fn ready(client: &kube::Client, ns: &str, name: &str) -> Option<(String, String)> {
    let cc = Api::<CognitoClient>::namespaced(client.clone(), ns)
        .get(name)
        .await
        .ok()?;
    let status = cc.status?;
    if status.observed_generation != cc.metadata.generation {
        return None;
    }
    let c = status.conditions.iter().find(|c| c.type_ == "Ready")?;
    Some((c.status.clone(), c.reason.clone()))
}

pub async fn wait_reason(client: &kube::Client, ns: &str, name: &str, reason: &str, secs: u64) {
    let what = format!("{ns}/{name} to report {reason}");
    wait_for(&what, Duration::from_secs(secs), || async {
        ready(client, ns, name)
            .await
            .filter(|(_, r)| r == reason)
            .map(|_| ())
    })
    .await;
}

pub async fn events_for(client: &kube::Client, ns: &str, name: &str) -> Vec<Event> {
    Api::<Event>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .collect()
}

/// Waits for an Event about `name` with this reason (Events are published after the status).
pub async fn wait_event(client: &kube::Client, ns: &str, name: &str, reason: &str) -> Event {
    let what = format!("a {reason} event about {ns}/{name}");
    wait_for(&what, Duration::from_secs(30), || async {
        events_for(client, ns, name)
            .await
            .into_iter()
            .find(|e| e.reason.as_deref() == Some(reason))
    })
    .await
}

/// Creates a CognitoClient.
pub async fn create(client: &kube::Client, ns: &str, cc: &CognitoClient) -> CognitoClient {
    Api::<CognitoClient>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), cc)
        .await
        .expect("create CognitoClient")
}

/// Deletes a CognitoClient and waits until it is gone (its finalizer released).
pub async fn delete_client(client: &kube::Client, ns: &str, name: &str) {
    let api = Api::<CognitoClient>::namespaced(client.clone(), ns);
    api.delete(name, &kube::api::DeleteParams::default())
        .await
        .expect("delete CognitoClient");
    wait_for(
        &format!("{ns}/{name} gone"),
        Duration::from_secs(30),
        || async { api.get_opt(name).await.unwrap().is_none().then_some(()) },
    )
    .await;
}
