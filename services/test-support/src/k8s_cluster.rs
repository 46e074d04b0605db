//! The real Kubernetes control plane tests run against: the cluster `KUBECONFIG` names (CI and
//! `scripts/test` start one for the whole run), else a private one started on first use from
//! `../shared/k8s-test-cluster` (or `K8S_TEST_CLUSTER_DIR`) on free loopback ports, and stopped
//! after this test process exits.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::free_port;

/// The kubeconfig of the test cluster (cluster-admin), starting a private cluster if needed.
///
/// # Panics
/// When no cluster is configured and none can be started: these tests need a real API server.
pub fn kubeconfig() -> &'static Path {
    static KUBECONFIG: OnceLock<PathBuf> = OnceLock::new();
    KUBECONFIG.get_or_init(start_or_find)
}

fn start_or_find() -> PathBuf {
    if let Some(path) = std::env::var_os("KUBECONFIG").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let dir = std::env::var_os("K8S_TEST_CLUSTER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("../shared/k8s-test-cluster"));
    let up = dir.join("up.sh");
    assert!(
        up.exists(),
        "KUBECONFIG is not set and {} does not exist: these tests need a real API server. \
         Run `eval \"$(path/to/k8s-test-cluster/up.sh)\"` first, or set K8S_TEST_CLUSTER_DIR",
        up.display()
    );
    let state = std::env::temp_dir().join(format!("k8s-test-cluster-{}", std::process::id()));
    let (api, etcd) = (free_port(), free_port());
    let out = Command::new(&up)
        .arg(&state)
        .env("K8S_API_PORT", api.to_string())
        .env("K8S_ETCD_PORT", etcd.to_string())
        .stderr(Stdio::inherit())
        .output()
        .expect("run k8s-test-cluster/up.sh");
    after_exit(&format!(
        "{} {}",
        dir.join("down.sh").display(),
        state.display()
    ));
    assert!(out.status.success(), "k8s-test-cluster/up.sh failed");
    state.join("kubeconfig")
}

/// Runs `cleanup` (a shell command) once this test process has exited.
// The watcher must outlive this process, so it is deliberately never waited for.
#[allow(clippy::zombie_processes)]
fn after_exit(cleanup: &str) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {cleanup}",
        pid = std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the cleanup watcher");
}

/// A client of the test cluster, optionally impersonating a user (a ServiceAccount's
/// `system:serviceaccount:NS:NAME`, to test with its RBAC only).
pub async fn client(impersonate: Option<&str>) -> kube::Client {
    use kube::config::{KubeConfigOptions, Kubeconfig};
    let kubeconfig = Kubeconfig::read_from(kubeconfig()).expect("read kubeconfig");
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("kube config");
    config.auth_info.impersonate = impersonate.map(str::to_owned);
    kube::Client::try_from(config).expect("kube client")
}

/// Installs `crds` by server-side apply (the same field manager every time, so tests running
/// at once agree) and waits until each is established.
pub async fn install_crds(
    client: &kube::Client,
    crds: Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>,
) {
    use kube::ResourceExt;
    use kube::api::{Api, Patch, PatchParams};
    let api = Api::all(client.clone());
    for crd in crds {
        let name = crd.name_any();
        api.patch(
            &name,
            &PatchParams::apply("cognito-m2m-tests").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("apply CRD {name}: {e}"));
        crate::eventually(
            &format!("CRD {name} established"),
            std::time::Duration::from_secs(30),
            || async {
                let crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition =
                    api.get(&name).await.ok()?;
                crd.status?
                    .conditions?
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
                    .then_some(())
            },
        )
        .await;
    }
}

/// A name unique across tests and runs, starting with `prefix` (a valid object name when
/// `prefix` is one).
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .subsec_nanos();
    format!(
        "{prefix}-{:x}{}",
        nanos ^ std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Creates a fresh namespace named after `prefix` ([`unique_name`]) and returns its name.
pub async fn create_namespace(client: &kube::Client, prefix: &str) -> String {
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::{Api, PostParams};
    let name = unique_name(prefix);
    let mut namespace = Namespace::default();
    namespace.metadata.name = Some(name.clone());
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .expect("create namespace");
    name
}

/// A Secret's data as strings (lossy for non-UTF-8 values).
pub fn secret_data(
    secret: &k8s_openapi::api::core::v1::Secret,
) -> std::collections::BTreeMap<String, String> {
    secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
        .collect()
}
