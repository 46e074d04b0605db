//! The real Kubernetes control plane tests run against: the cluster `KUBECONFIG` names (CI and
//! `scripts/test` start one for the whole run), else a private one started on first use from
//! `../shared/k8s-test-cluster` (or `K8S_TEST_CLUSTER_DIR`, or `SHARED_DIR`) on free loopback
//! ports, and stopped after this test process exits. A test that takes the API server away
//! starts a [`PrivateCluster`] of its own instead.

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
    let state = std::env::temp_dir().join(format!("k8s-test-cluster-{}", std::process::id()));
    let down = up(&state);
    after_exit(&down);
    state.join("kubeconfig")
}

/// The k8s-test-cluster scripts' folder: `K8S_TEST_CLUSTER_DIR`, else `k8s-test-cluster` in
/// `SHARED_DIR` (which `scripts/test` exports), else `../shared/k8s-test-cluster`.
fn scripts_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("K8S_TEST_CLUSTER_DIR") {
        return dir.into();
    }
    std::env::var_os("SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("../shared"))
        .join("k8s-test-cluster")
}

/// Starts a cluster keeping its state in `state`, on free loopback ports, the way `scripts/test`
/// finds one: from `KUBEBUILDER_ASSETS` (etcd and kube-apiserver, as envtest uses) with
/// `scripts/k8s-control-plane`, else with the k8s-test-cluster scripts; returns the shell
/// command that stops it.
fn up(state: &Path) -> String {
    let (up, down) = if std::env::var_os("KUBEBUILDER_ASSETS").is_some_and(|a| !a.is_empty()) {
        let script = crate::repo_root().join("scripts/k8s-control-plane");
        (
            format!("{} up", script.display()),
            format!("{} down", script.display()),
        )
    } else {
        let dir = scripts_dir();
        let up = dir.join("up.sh");
        assert!(
            up.exists(),
            "{} does not exist and KUBEBUILDER_ASSETS is not set: these tests need a real API \
             server. Set KUBEBUILDER_ASSETS to a folder with etcd and kube-apiserver, or \
             K8S_TEST_CLUSTER_DIR to the k8s-test-cluster scripts' folder, or (for tests that can \
             share one) KUBECONFIG",
            up.display()
        );
        (
            up.display().to_string(),
            dir.join("down.sh").display().to_string(),
        )
    };
    let (api, etcd) = (free_port(), free_port());
    let out = Command::new("sh")
        .args(["-c", &format!("{up} \"$0\"")])
        .arg(state)
        .env("K8S_API_PORT", api.to_string())
        .env("K8S_ETCD_PORT", etcd.to_string())
        .stderr(Stdio::inherit())
        .output()
        .expect("run the control plane's up script");
    let down = format!("{down} {}", state.display());
    if !out.status.success() {
        let _ = Command::new("sh").args(["-c", &down]).status();
        panic!("{up} failed");
    }
    down
}

/// A control plane of this test's own, whose kube-apiserver the test may stop and start again
/// (an API-server outage) without disturbing other tests; torn down on drop.
#[derive(Debug)]
pub struct PrivateCluster {
    state: PathBuf,
    down: String,
    /// The stopped kube-apiserver's command line, until it is started again.
    stopped: Option<Vec<String>>,
    /// The kube-apiserver started again, reaped on drop.
    restarted: Option<std::process::Child>,
}

impl PrivateCluster {
    /// Starts etcd, kube-apiserver and kube-controller-manager on free loopback ports.
    pub fn start() -> Self {
        let state = std::env::temp_dir().join(format!(
            "k8s-private-{}-{}",
            std::process::id(),
            unique_name("c")
        ));
        let down = up(&state);
        Self {
            state,
            down,
            stopped: None,
            restarted: None,
        }
    }

    /// Its kubeconfig (cluster-admin).
    pub fn kubeconfig(&self) -> PathBuf {
        self.state.join("kubeconfig")
    }

    /// A client of it.
    pub async fn client(&self) -> kube::Client {
        use kube::config::{KubeConfigOptions, Kubeconfig};
        let kubeconfig = Kubeconfig::read_from(self.kubeconfig()).expect("read kubeconfig");
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("kube config");
        kube::Client::try_from(config).expect("kube client")
    }

    fn api_server_pid(&self) -> String {
        std::fs::read_to_string(self.state.join("apiserver.pid"))
            .expect("up.sh wrote apiserver.pid")
            .trim()
            .to_owned()
    }

    /// Stops the kube-apiserver (SIGKILL, and waits until it is gone): clients get
    /// "connection refused" until [`Self::start_api_server`]. etcd keeps the cluster's state.
    pub fn stop_api_server(&mut self) {
        let pid = self.api_server_pid();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("kube-apiserver runs");
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        // SIGKILL: gone at once, as when its node fails (on SIGTERM it drains for a minute).
        let status = Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill kube-apiserver {pid}");
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        // up.sh started it, so it is not our child: gone (or a zombie of up.sh's shell) is
        // enough. A zombie's cmdline is empty.
        while proc_dir.exists()
            && std::fs::read(proc_dir.join("cmdline")).is_ok_and(|c| !c.is_empty())
        {
            assert!(
                std::time::Instant::now() < until,
                "kube-apiserver {pid} did not stop"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        self.stopped = Some(args);
    }

    /// Freezes the kube-apiserver (SIGSTOP): connections are still accepted by the kernel and
    /// nothing answers them (a hanging API server), until [`Self::resume_api_server`].
    pub fn pause_api_server(&self) {
        self.signal_api_server("STOP");
    }

    /// Lets a paused kube-apiserver run again (SIGCONT).
    pub fn resume_api_server(&self) {
        self.signal_api_server("CONT");
    }

    fn signal_api_server(&self, signal: &str) {
        let pid = self.api_server_pid();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} kube-apiserver {pid}");
    }

    /// Starts the kube-apiserver stopped by [`Self::stop_api_server`] again, with the same
    /// command line (certificates and etcd are reused), and waits until it answers.
    pub async fn start_api_server(&mut self) {
        let args = self.stopped.take().expect("the API server was stopped");
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.state.join("apiserver.log"))
            .expect("apiserver.log");
        let child = Command::new(&args[0])
            .args(&args[1..])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start kube-apiserver again");
        // down.sh stops what apiserver.pid names.
        std::fs::write(self.state.join("apiserver.pid"), child.id().to_string())
            .expect("write apiserver.pid");
        self.restarted = Some(child);
        let client = self.client().await;
        crate::eventually(
            "kube-apiserver answering again",
            std::time::Duration::from_secs(60),
            || async { client.apiserver_version().await.ok().map(|_| ()) },
        )
        .await;
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .args(["-c", &self.down])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut child) = self.restarted.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.state);
    }
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
