//! The kubelet's probes, polled from outside the containers as it polls them.

use e2e::pod_runtime::PodRuntime;

/// The kubelet's view of a container during a test: its readiness and liveness probes polled at
/// their periods, remembering the longest run of failures of each.
pub(crate) struct ProbeWatch {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<Vec<(String, u32, u32)>>,
}

impl ProbeWatch {
    pub(crate) fn start(http: &reqwest::Client, pod: &PodRuntime, base: String) -> Self {
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
    pub(crate) async fn assert_never_tripped(self, who: &str) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for (probe, worst, threshold) in self.task.await.expect("the probe watch") {
            assert!(
                worst < threshold,
                "{who}: {probe} failed {worst} times in a row (failureThreshold {threshold})"
            );
        }
    }
}
