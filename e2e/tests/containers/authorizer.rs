//! cognito-authorizer's image run as the chart runs its standalone pod (user 65532, read-only
//! root, no capabilities, the chart's environment and probes on the admin port), its policy the
//! chart's ConfigMap laid out as the kubelet lays out a ConfigMap volume and bound whole at the
//! chart's mount path; local-cognito's container as the user pool. Then the ConfigMap changes the
//! way the kubelet changes it (a new payload folder behind the `..data` link): a good policy is
//! taken without a restart, a broken one is refused and the policy in use kept.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use e2e::docker::{Container, Network};
use e2e::pod_runtime::{ADMIN_PORT, CONTAINER_PORT, RenderedChart};
use test_support::k8s_cluster::unique_name;
use test_support::{eventually, kubelet_write, repo_root, temp_volume};

use crate::stack::{
    ISSUER_PORT, LOAD_CLIENT, POOL, image, issuer, load_token, start_local_cognito, wait_ready,
};

/// The chart's values for an authorizer trusting local-cognito's pool: public `/public/**`,
/// `GET /orders/**` for the read scope (which the load client has), `/admin/**` for
/// `admin_scope`.
fn values(admin_scope: &str) -> Vec<(String, String)> {
    [
        (
            "image.tag",
            std::env::var("IMAGE_TAG").unwrap_or_else(|_| "dev".to_owned()),
        ),
        ("cognito.userPoolId", POOL.to_owned()),
        ("cognito.issuer", issuer()),
        ("authorizer.enabled", "true".to_owned()),
        ("authorizer.mode", "standalone".to_owned()),
        ("authorizer.policy.rules[0].path", "/public/**".to_owned()),
        ("authorizer.policy.rules[0].public", "true".to_owned()),
        ("authorizer.policy.rules[1].path", "/orders/**".to_owned()),
        ("authorizer.policy.rules[1].methods[0]", "GET".to_owned()),
        (
            "authorizer.policy.rules[1].scopes[0]",
            "premium_api/read".to_owned(),
        ),
        ("authorizer.policy.rules[2].path", "/admin/**".to_owned()),
        (
            "authorizer.policy.rules[2].scopes[0]",
            admin_scope.to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn render(release: &str, admin_scope: &str) -> RenderedChart {
    let values = values(admin_scope);
    let set: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    RenderedChart::render(
        &repo_root().join("helm/cognito-m2m"),
        release,
        "authorizer",
        None,
        &set,
    )
}

/// The ConfigMap's name and its data, as the chart renders it.
fn policy_config_map(chart: &RenderedChart) -> (String, Vec<(String, String)>) {
    let config_map = chart.find("ConfigMap", "-authorizer-policy");
    let data = config_map["data"]
        .as_object()
        .expect("the ConfigMap has data")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    (
        config_map["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        data,
    )
}

/// A check as Envoy's ext_authz sends it: `GET /ext_authz<path>`, the token when given.
async fn ext_authz(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = http.get(format!("{base}/ext_authz{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the authorizer answers")
}

async fn status(http: &reqwest::Client, base: &str, path: &str, token: &str) -> u16 {
    ext_authz(http, base, path, Some(token))
        .await
        .status()
        .as_u16()
}

async fn metrics(http: &reqwest::Client, admin: &str) -> String {
    let response = http
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .expect("/metrics answers");
    assert_eq!(response.status(), 200);
    response.text().await.expect("text")
}

/// One sample's value in an OpenMetrics text (the first line starting with `series `).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs docker and the images: scripts/check-images"]
async fn the_authorizer_image_runs_as_the_chart_runs_it_and_reloads_its_config_map() {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client");
    let release = unique_name("authz");
    let chart = render(&release, "orders_api/admin");
    let network = Network::create(&release);
    let local_cognito = start_local_cognito(&release, &network, &chart);
    let issuer_base = format!(
        "http://127.0.0.1:{}",
        local_cognito.published_port(ISSUER_PORT)
    );

    // The policy volume as the kubelet lays out the chart's ConfigMap.
    let (config_map, data) = policy_config_map(&chart);
    let volume = temp_volume("authorizer-policy");
    kubelet_write(&volume, &data);
    let pod = chart.pod("-authorizer");
    let mount = &pod
        .config_map_mounts
        .iter()
        .find(|(name, _)| *name == config_map)
        .expect("the pod mounts the policy ConfigMap")
        .1;
    assert_eq!(
        Path::new(&pod.env["POLICY_FILE"]).parent(),
        Some(Path::new(mount)),
        "POLICY_FILE is in the mounted folder"
    );
    let container = Container::run(
        &format!("{}-0", pod.deployment),
        &pod.docker_args(
            &image("cognito-authorizer"),
            &[],
            &BTreeMap::from([(config_map, volume.clone())]),
            &[
                format!("--network={}", network.name),
                format!("--network-alias={}", pod.deployment),
                "--restart=always".to_owned(),
            ],
        ),
    );
    // Ready (readiness on the admin port) once local-cognito's keys are in.
    wait_ready(&http, &pod, &container, &network.name).await;
    let ip = container.ip(&network.name);
    let (traffic, admin) = (
        format!("http://{ip}:{CONTAINER_PORT}"),
        format!("http://{ip}:{ADMIN_PORT}"),
    );

    // As the chart runs it: its binary as PID 1, user 65532, read-only, no capabilities.
    assert_eq!(container.inspect("{{.Config.User}}"), "65532:65532");
    assert_eq!(container.inspect("{{.HostConfig.ReadonlyRootfs}}"), "true");
    assert_eq!(container.inspect("{{.HostConfig.CapDrop}}"), "[ALL]");
    let exe = std::fs::read_link(format!("/proc/{}/exe", container.host_pid())).unwrap();
    assert_eq!(exe, Path::new("/usr/local/bin/cognito-authorizer"));

    let token = load_token(&http, &issuer_base).await;

    // The chart's policy: allowed with the identity, refused without a token or the scope.
    let allowed = ext_authz(&http, &traffic, "/orders/7", Some(&token)).await;
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["x-cognito-client-id"].to_str().unwrap(),
        LOAD_CLIENT.0
    );
    assert_eq!(
        allowed.headers()["x-cognito-issuer"].to_str().unwrap(),
        issuer()
    );
    let anonymous = ext_authz(&http, &traffic, "/orders/7", None).await;
    assert_eq!(anonymous.status(), 401);
    let challenge = anonymous.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer realm=\"cognito-authorizer\""),
        "{challenge}"
    );
    assert_eq!(
        anonymous.text().await.unwrap(),
        r#"{"message":"Unauthorized"}"#
    );
    assert_eq!(status(&http, &traffic, "/admin/x", &token).await, 403);
    assert_eq!(
        ext_authz(&http, &traffic, "/public/a", None).await.status(),
        200
    );

    // A changed ConfigMap (the admin rule now wants the read scope the token has): taken
    // without a restart, within the kubelet-like swap's events.
    let (_, reader_admin) = policy_config_map(&render(&release, "premium_api/read"));
    kubelet_write(&volume, &reader_admin);
    eventually(
        "the changed policy in use",
        Duration::from_secs(60),
        || async { (status(&http, &traffic, "/admin/x", &token).await == 200).then_some(()) },
    )
    .await;

    // A broken one (what a hand edit of the ConfigMap can produce): refused, said so in the
    // metrics, and the policy in use kept.
    kubelet_write(
        &volume,
        &[(
            "policy.yaml",
            format!(
                "issuers:\n  - issuer: {}\nrules:\n  - path: /admin/**\n    scope: [x]\n",
                issuer()
            ),
        )],
    );
    let failing = eventually(
        "the broken policy refused",
        Duration::from_secs(60),
        || async {
            let text = metrics(&http, &admin).await;
            (sample(&text, "cognito_authorizer_policy_reload_failing") == Some(1.0)).then_some(text)
        },
    )
    .await;
    assert!(
        failing.contains("cognito_authorizer_policy_reloads_total{result=\"failure\"}"),
        "{failing}"
    );
    assert_eq!(status(&http, &traffic, "/admin/x", &token).await, 200);
    assert_eq!(status(&http, &traffic, "/orders/7", &token).await, 200);
    assert!(container.running(), "the authorizer still runs");
    assert_eq!(container.restart_count(), 0, "no restart took the policy");
    eprintln!(
        "authorizer container: the chart's policy served, a changed ConfigMap taken without \
         a restart, a broken one refused (reload_failing 1) with the previous policy kept"
    );
    drop(container);
    drop(local_cognito);
    drop(network);
    let _ = std::fs::remove_dir_all(&volume);
}
