//! The test API server stopped and started again under the operator.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

use test_support::{eventually, k8s_cluster};

/// Kills the test cluster's kube-apiserver (`apiserver.pid` beside the kubeconfig, as
/// k8s-test-cluster/up.sh and scripts/test lay it out), waits `pause`, starts it again with the
/// same command line and waits until it is ready. Returns how long it was away.
// The new kube-apiserver must outlive this test (down.sh stops it): never waited for.
#[allow(clippy::zombie_processes)]
pub(crate) async fn restart_api_server(pause: Duration) -> Duration {
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
    // SIGKILL, as a crash: a SIGTERM'd kube-apiserver drains for up to a minute first.
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
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
