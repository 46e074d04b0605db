//! `compose.yaml` runs each service as the chart runs its pod: the same user, read-only root file
//! system, capabilities, privilege-escalation setting and grace period, read from the rendered chart
//! (`e2e::pod_runtime`), so the two cannot drift. (local-cognito, not in the chart, must run as
//! premium-content does.) scripts/check-images also brings the file up and makes the seed calls.

use e2e::pod_runtime::{RenderedChart, pod_of};
use serde_json::Value;
use test_support::repo_root;

/// The `docker run` security flags a compose service's settings amount to.
fn compose_flags(service: &Value) -> Vec<String> {
    let mut flags = Vec::new();
    if let Some(user) = service["user"].as_str() {
        flags.push(format!("--user={user}"));
    }
    if service["read_only"] == true {
        flags.push("--read-only".to_owned());
    }
    for cap in service["cap_drop"].as_array().into_iter().flatten() {
        flags.push(format!("--cap-drop={}", cap.as_str().unwrap_or_default()));
    }
    for cap in service["cap_add"].as_array().into_iter().flatten() {
        flags.push(format!("--cap-add={}", cap.as_str().unwrap_or_default()));
    }
    for option in service["security_opt"].as_array().into_iter().flatten() {
        let option = option.as_str().unwrap_or_default();
        flags.push(format!(
            "--security-opt={}",
            option.strip_suffix(":true").unwrap_or(option)
        ));
    }
    flags.sort();
    flags
}

#[test]
#[ignore = "needs helm (scripts/install-test-tools): scripts/test"]
fn compose_runs_each_service_as_the_chart_runs_its_pod() {
    let chart = RenderedChart::render(
        &repo_root().join("helm/cognito-m2m"),
        "compose",
        "default",
        None,
        &[],
    );
    let text = std::fs::read_to_string(repo_root().join("compose.yaml")).expect("compose.yaml");
    let mut yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("compose YAML");
    yaml.apply_merge().expect("YAML merge keys");
    let compose: Value = serde_json::to_value(yaml).expect("compose as JSON");

    for service in ["premium-content", "content-consumer", "local-cognito"] {
        let pod = pod_of(service);
        let runtime = chart.pod(pod);
        assert_eq!(
            compose["services"][service]["stop_grace_period"],
            format!("{}s", runtime.grace.as_secs()),
            "compose.yaml's {service}: stop_grace_period is the pod's terminationGracePeriodSeconds"
        );
        let mut expected: Vec<String> = runtime
            .security_args
            .into_iter()
            // Limits and fsGroup are the cluster's business; compose leaves them to the user.
            .filter(|f| {
                !f.starts_with("--memory=")
                    && !f.starts_with("--cpus=")
                    && !f.starts_with("--group-add=")
            })
            .collect();
        expected.sort();
        assert_eq!(
            compose_flags(&compose["services"][service]),
            expected,
            "compose.yaml's {service} and the chart's {pod} pod"
        );
    }
}
