//! The chart's pods as containers: `helm template` renders the chart, and each Deployment's pod
//! becomes `docker run` arguments carrying exactly its settings (user and groups, read-only root
//! file system, capabilities, privilege escalation, seccomp, memory and CPU limits, environment,
//! volumes), its port and probes, and its termination grace period.
//!
//! The chart is the one source of these settings: the container suite and `compose.yaml` are
//! both checked against what this reads, so neither can drift from what the pods get. A setting
//! the chart gains that has no container equivalent here fails loudly, naming it, rather than
//! being dropped: map it here when that happens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

/// The chart rendered by `helm template`, as JSON values, one per object.
#[derive(Debug)]
pub struct RenderedChart {
    /// Every rendered object.
    pub objects: Vec<Value>,
    /// The namespace it was rendered for.
    pub namespace: String,
}

impl RenderedChart {
    /// `helm template RELEASE CHART --namespace NAMESPACE [--values FILE] [--set K=V]...`.
    ///
    /// # Panics
    /// When helm fails (its message included) or prints something that is not YAML.
    pub fn render(
        chart: &Path,
        release: &str,
        namespace: &str,
        values: Option<&Path>,
        set: &[(&str, &str)],
    ) -> Self {
        let mut command = chart_command("template", chart, release, namespace, set);
        if let Some(values) = values {
            command.arg("--values").arg(values);
        }
        let text = run_helm(command);
        Self::parse(&text, namespace)
    }

    /// Parses a multi-document YAML stream (rendered manifests).
    pub fn parse(text: &str, namespace: &str) -> Self {
        use serde::Deserialize;
        let objects = serde_yaml_ng::Deserializer::from_str(text)
            .map(|document| Value::deserialize(document).expect("rendered YAML"))
            .filter(|object| !object.is_null())
            .collect();
        Self {
            objects,
            namespace: namespace.to_owned(),
        }
    }

    /// The object of `kind` whose name ends with `name_suffix`.
    ///
    /// # Panics
    /// When there is none: the test and the chart disagree.
    pub fn find(&self, kind: &str, name_suffix: &str) -> &Value {
        self.objects
            .iter()
            .find(|o| {
                o["kind"] == kind
                    && o["metadata"]["name"]
                        .as_str()
                        .is_some_and(|n| n.ends_with(name_suffix))
            })
            .unwrap_or_else(|| panic!("the chart renders no {kind} named *{name_suffix}"))
    }

    /// The pod of the Deployment named `*name_suffix`, as a container would run it.
    pub fn pod(&self, name_suffix: &str) -> PodRuntime {
        let deployment = self.find("Deployment", name_suffix);
        PodRuntime::from_pod_spec(
            deployment["metadata"]["name"].as_str().unwrap_or_default(),
            &deployment["spec"]["template"]["spec"],
            &self.namespace,
        )
    }

    /// `http://SERVICE/` -> `http://SERVICE:TARGET_PORT/` for every Service whose port maps to a
    /// numbered or named container port: a container network has names but no Services, so a
    /// URL naming a Service's port must name the container's.
    pub fn service_urls(&self) -> Vec<(String, String)> {
        self.objects
            .iter()
            .filter(|o| o["kind"] == "Service")
            .flat_map(|service| {
                let name = service["metadata"]["name"].as_str().unwrap_or_default();
                service["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(move |port| {
                        let target = match &port["targetPort"] {
                            Value::Number(n) => n.to_string(),
                            // Every named port of our pods ("http") is 8080.
                            Value::String(_) => CONTAINER_PORT.to_string(),
                            _ => port["port"].to_string(),
                        };
                        let from = match port["port"].as_u64() {
                            Some(80) => format!("http://{name}/"),
                            _ => format!("http://{name}:{}/", port["port"]),
                        };
                        (from, format!("http://{name}:{target}/"))
                    })
            })
            .collect()
    }
}

/// `helm VERB RELEASE CHART --namespace NAMESPACE [--set K=V]...`: what `helm template` and
/// `helm install` of the chart share; add a verb's own flags, then [`run_helm`].
pub fn chart_command(
    verb: &str,
    chart: &Path,
    release: &str,
    namespace: &str,
    set: &[(&str, &str)],
) -> Command {
    let mut command = Command::new(test_support::tool("helm"));
    command.args([verb, release]).arg(chart);
    command.args(["--namespace", namespace]);
    for (key, value) in set {
        command.args(["--set", &format!("{key}={value}")]);
    }
    command
}

/// Runs a helm command and returns its standard output.
///
/// # Panics
/// When helm cannot run or fails (its message included), or prints something not UTF-8.
pub fn run_helm(mut command: Command) -> String {
    let output = command.output().expect("run helm");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("helm prints UTF-8")
}

/// The chart pod whose settings `component`'s container runs with: its own, except local-cognito
/// (development only, not in the chart), which runs as premium-content does, so that it too is
/// tried read-only, unprivileged and as 65532.
pub fn pod_of(component: &str) -> &str {
    match component {
        "local-cognito" => "premium-content",
        other => other,
    }
}

/// The port every image serves on (the Dockerfile's `LISTEN_ADDR` and `EXPOSE`), named `http`.
pub const CONTAINER_PORT: u16 = 8080;

/// cognito-authorizer's second port (`ADMIN_LISTEN_ADDR`: health, readiness, metrics), named
/// `admin` in the chart.
pub const ADMIN_PORT: u16 = 9090;

/// An HTTP probe: a GET of `path` on one of the container's ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpProbe {
    /// The path, e.g. `/readyz`.
    pub path: String,
    /// The container port probed ([`CONTAINER_PORT`], or [`ADMIN_PORT`] for the authorizer).
    pub port: u16,
    /// `periodSeconds`.
    pub period: Duration,
    /// `timeoutSeconds` (Kubernetes' default 1 s).
    pub timeout: Duration,
    /// `failureThreshold`: failures in a row before the kubelet acts (Kubernetes' default 3).
    pub failure_threshold: u32,
}

/// One pod's container as `docker run` would run it.
#[derive(Debug, Clone)]
pub struct PodRuntime {
    /// The Deployment's name.
    pub deployment: String,
    /// The container's image as the chart names it.
    pub image: String,
    /// The security and resource settings, as `docker run` flags (`--user`, `--read-only`, ...).
    pub security_args: Vec<String>,
    /// Environment variables as the chart sets them (`fieldRef`s resolved for the pod).
    pub env: BTreeMap<String, String>,
    /// Secret volumes: the Secret's name and where it is mounted (read-only).
    pub secret_mounts: Vec<(String, String)>,
    /// ConfigMap volumes: the ConfigMap's name and where it is mounted (read-only, as a folder:
    /// the kubelet's updates reach it).
    pub config_map_mounts: Vec<(String, String)>,
    /// emptyDir volumes: where they are mounted (a tmpfs in a container).
    pub scratch_mounts: Vec<String>,
    /// readinessProbe.
    pub readiness: Option<HttpProbe>,
    /// livenessProbe.
    pub liveness: Option<HttpProbe>,
    /// terminationGracePeriodSeconds (Kubernetes' default 30 s).
    pub grace: Duration,
}

/// The user the chart runs every pod as: the pod's `runAsUser`/`runAsGroup` must be these.
pub const NON_ROOT: &str = "65532:65532";

impl PodRuntime {
    /// Reads a pod spec (`spec.template.spec` of a Deployment).
    ///
    /// # Panics
    /// On any pod or container setting this mapping does not know, naming it.
    pub fn from_pod_spec(deployment: &str, spec: &Value, namespace: &str) -> Self {
        for key in keys(spec) {
            match key.as_str() {
                "containers" | "securityContext" | "volumes" | "terminationGracePeriodSeconds" => {}
                // No API server inside a container and no scheduler: nothing to map.
                "serviceAccountName" | "automountServiceAccountToken" | "imagePullSecrets" => {}
                "affinity"
                | "nodeSelector"
                | "tolerations"
                | "topologySpreadConstraints"
                | "priorityClassName" => {}
                other => unsupported(deployment, &format!("spec.{other}")),
            }
        }
        let containers = spec["containers"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            containers.len(),
            1,
            "{deployment}: one container per pod is what this mapping runs"
        );
        let container = &containers[0];
        let mut runtime = Self {
            deployment: deployment.to_owned(),
            image: container["image"].as_str().unwrap_or_default().to_owned(),
            security_args: Vec::new(),
            env: BTreeMap::new(),
            secret_mounts: Vec::new(),
            config_map_mounts: Vec::new(),
            scratch_mounts: Vec::new(),
            readiness: None,
            liveness: None,
            grace: Duration::from_secs(
                spec["terminationGracePeriodSeconds"].as_u64().unwrap_or(30),
            ),
        };
        runtime.read_security(
            deployment,
            &spec["securityContext"],
            &container["securityContext"],
        );
        runtime.read_container(deployment, container, namespace);
        runtime.read_volumes(deployment, &spec["volumes"], &container["volumeMounts"]);
        runtime
    }

    fn read_security(&mut self, deployment: &str, pod: &Value, container: &Value) {
        let mut user = None;
        let mut group = None;
        for (scope, context) in [("pod", pod), ("container", container)] {
            for key in keys(context) {
                let value = &context[&key];
                match key.as_str() {
                    "runAsUser" => user = value.as_u64(),
                    "runAsGroup" => group = value.as_u64(),
                    "fsGroup" => self.security_args.push(format!("--group-add={value}")),
                    "runAsNonRoot" => assert_eq!(value, true, "{deployment}: runAsNonRoot"),
                    "readOnlyRootFilesystem" if value == true => {
                        self.security_args.push("--read-only".into());
                    }
                    "allowPrivilegeEscalation" if value == false => self
                        .security_args
                        .push("--security-opt=no-new-privileges".into()),
                    "privileged" if value == false => {}
                    // Docker's default seccomp profile is the runtime's default.
                    "seccompProfile" if value["type"] == "RuntimeDefault" => {}
                    "capabilities" => {
                        for cap in value["drop"].as_array().into_iter().flatten() {
                            self.security_args.push(format!("--cap-drop={}", str(cap)));
                        }
                        for cap in value["add"].as_array().into_iter().flatten() {
                            self.security_args.push(format!("--cap-add={}", str(cap)));
                        }
                    }
                    other => unsupported(deployment, &format!("{scope} securityContext.{other}")),
                }
            }
        }
        let (user, group) = (
            user.unwrap_or_else(|| panic!("{deployment}: no runAsUser")),
            group.unwrap_or_else(|| panic!("{deployment}: no runAsGroup")),
        );
        self.security_args
            .insert(0, format!("--user={user}:{group}"));
    }

    fn read_container(&mut self, deployment: &str, container: &Value, namespace: &str) {
        for key in keys(container) {
            let value = &container[&key];
            match key.as_str() {
                "name" | "image" | "imagePullPolicy" | "securityContext" | "volumeMounts" => {}
                "ports" => {
                    let ports: Vec<u64> = value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| p["containerPort"].as_u64())
                        .collect();
                    let (http, admin) = (u64::from(CONTAINER_PORT), u64::from(ADMIN_PORT));
                    assert!(
                        ports.first() == Some(&http)
                            && ports.iter().all(|p| [http, admin].contains(p)),
                        "{deployment}: the images serve on {CONTAINER_PORT} (and the authorizer's \
                         admin port on {ADMIN_PORT}): {ports:?}"
                    );
                }
                "env" => {
                    for variable in value.as_array().into_iter().flatten() {
                        let name = str(&variable["name"]).to_owned();
                        let resolved = match (&variable["value"], &variable["valueFrom"]) {
                            (Value::String(v), _) => v.clone(),
                            (_, from) if from["fieldRef"]["fieldPath"] == "metadata.name" => {
                                format!("{deployment}-0")
                            }
                            (_, from) if from["fieldRef"]["fieldPath"] == "metadata.namespace" => {
                                namespace.to_owned()
                            }
                            _ => unsupported(deployment, &format!("env {name}: {variable}")),
                        };
                        self.env.insert(name, resolved);
                    }
                }
                "resources" => {
                    for key in keys(&value["limits"]) {
                        let limit = str(&value["limits"][&key]);
                        match key.as_str() {
                            "memory" => self
                                .security_args
                                .push(format!("--memory={}", memory(limit))),
                            "cpu" => self.security_args.push(format!("--cpus={}", cpus(limit))),
                            other => unsupported(deployment, &format!("resources.limits.{other}")),
                        }
                    }
                }
                "readinessProbe" => self.readiness = Some(http_probe(deployment, value)),
                "livenessProbe" => self.liveness = Some(http_probe(deployment, value)),
                // The engine has no startup probe; the suite waits for readiness instead.
                "startupProbe" => {
                    http_probe(deployment, value);
                }
                other => unsupported(deployment, &format!("container.{other}")),
            }
        }
    }

    fn read_volumes(&mut self, deployment: &str, volumes: &Value, mounts: &Value) {
        for mount in mounts.as_array().into_iter().flatten() {
            let name = str(&mount["name"]);
            let path = str(&mount["mountPath"]).to_owned();
            let volume = volumes
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["name"] == name)
                .unwrap_or_else(|| panic!("{deployment}: volumeMount {name} has no volume"));
            if let Some(secret) = volume["secret"]["secretName"].as_str() {
                assert_eq!(
                    mount["readOnly"], true,
                    "{deployment}: Secret {name} read-only"
                );
                self.secret_mounts.push((secret.to_owned(), path));
            } else if let Some(config_map) = volume["configMap"]["name"].as_str() {
                // A subPath or items would need a mapping of their own (and a subPath mount
                // never sees the kubelet's updates).
                assert!(
                    mount.get("subPath").is_none() && volume["configMap"].get("items").is_none(),
                    "{deployment}: ConfigMap {name} mounted whole, as a folder"
                );
                assert_eq!(
                    mount["readOnly"], true,
                    "{deployment}: ConfigMap {name} read-only"
                );
                self.config_map_mounts.push((config_map.to_owned(), path));
            } else if volume.get("emptyDir").is_some() {
                self.scratch_mounts.push(path);
            } else {
                unsupported(deployment, &format!("volume {volume}"));
            }
        }
    }

    /// `docker run` arguments for this pod on `network` as `name`: its security settings, its
    /// environment with `env_overrides` applied on top (each named in the output so a reader
    /// sees every departure from the chart), its Secret and ConfigMap volumes from
    /// `volume_dirs` (the Secret's or ConfigMap's name -> a folder laid out as the kubelet lays
    /// it out, bound whole so that its updates reach the container), tmpfs for emptyDirs, and
    /// `extra` flags (e.g. `--publish`), then the image `image`.
    pub fn docker_args(
        &self,
        image: &str,
        env_overrides: &[(&str, String)],
        volume_dirs: &BTreeMap<String, PathBuf>,
        extra: &[String],
    ) -> Vec<String> {
        let mut args = self.security_args.clone();
        let mut env = self.env.clone();
        for (name, value) in env_overrides {
            env.insert((*name).to_owned(), value.clone());
        }
        for (name, value) in &env {
            args.push(format!("--env={name}={value}"));
        }
        for (object, path) in self.secret_mounts.iter().chain(&self.config_map_mounts) {
            let dir = volume_dirs
                .get(object)
                .unwrap_or_else(|| panic!("{}: no folder for volume {object}", self.deployment));
            args.push(format!(
                "--mount=type=bind,source={},target={path},readonly",
                dir.display()
            ));
        }
        for path in &self.scratch_mounts {
            args.push(format!("--tmpfs={path}"));
        }
        args.extend(extra.iter().cloned());
        args.push(image.to_owned());
        args
    }
}

fn keys(object: &Value) -> Vec<String> {
    object
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn str(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn unsupported(deployment: &str, what: &str) -> ! {
    panic!(
        "{deployment}: the chart sets {what}, which the container suite does not know how to \
         run: map it in e2e/src/pod_runtime.rs"
    )
}

fn http_probe(deployment: &str, probe: &Value) -> HttpProbe {
    let get = &probe["httpGet"];
    let port = match &get["port"] {
        Value::String(name) if name == "http" => CONTAINER_PORT,
        Value::String(name) if name == "admin" => ADMIN_PORT,
        Value::Number(n) if n.as_u64() == Some(u64::from(CONTAINER_PORT)) => CONTAINER_PORT,
        Value::Number(n) if n.as_u64() == Some(u64::from(ADMIN_PORT)) => ADMIN_PORT,
        other => panic!("{deployment}: a probe on port {other}, which is neither http nor admin"),
    };
    HttpProbe {
        path: str(&get["path"]).to_owned(),
        port,
        period: Duration::from_secs(probe["periodSeconds"].as_u64().unwrap_or(10)),
        timeout: Duration::from_secs(probe["timeoutSeconds"].as_u64().unwrap_or(1)),
        failure_threshold: probe["failureThreshold"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(3),
    }
}

/// A Kubernetes memory quantity (`128Mi`, `1Gi`, `500M`) as docker's `--memory` bytes.
fn memory(quantity: &str) -> u64 {
    let units = [
        ("Ki", 1u64 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("k", 1000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ];
    for (suffix, factor) in units {
        if let Some(n) = quantity.strip_suffix(suffix) {
            return n.parse::<u64>().expect("a memory quantity") * factor;
        }
    }
    quantity.parse().expect("a memory quantity")
}

/// A Kubernetes CPU quantity (`500m`, `2`) as docker's `--cpus`.
fn cpus(quantity: &str) -> String {
    match quantity.strip_suffix('m') {
        Some(milli) => format!(
            "{:.3}",
            milli.parse::<f64>().expect("a CPU quantity") / 1000.0
        ),
        None => quantity.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_become_docker_units() {
        assert_eq!(memory("128Mi"), 134_217_728);
        assert_eq!(memory("500M"), 500_000_000);
        assert_eq!(cpus("250m"), "0.250");
        assert_eq!(cpus("2"), "2");
    }

    #[test]
    fn an_unknown_security_setting_fails_naming_it() {
        let spec = serde_json::json!({
            "securityContext": {"runAsUser": 65532, "runAsGroup": 65532, "sysctls": []},
            "containers": [{"name": "x", "image": "i", "ports": [{"containerPort": 8080}]}]
        });
        let panic = std::panic::catch_unwind(|| PodRuntime::from_pod_spec("d", &spec, "ns"))
            .expect_err("sysctls is not mapped");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("securityContext.sysctls"), "{message}");
    }

    #[test]
    fn the_pod_settings_become_docker_flags() {
        let spec = serde_json::json!({
            "securityContext": {"runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                                "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "terminationGracePeriodSeconds": 45,
            "containers": [{
                "name": "x", "image": "i", "ports": [{"containerPort": 8080}],
                "env": [{"name": "A", "value": "1"},
                        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "resources": {"limits": {"memory": "64Mi"}},
                "securityContext": {"readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
                                    "capabilities": {"drop": ["ALL"]}},
                "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5}
            }]
        });
        let pod = PodRuntime::from_pod_spec("d", &spec, "ns");
        let mut flags = pod.security_args.clone();
        flags.sort();
        let mut expected = [
            "--user=65532:65532",
            "--group-add=65532",
            "--read-only",
            "--security-opt=no-new-privileges",
            "--cap-drop=ALL",
            "--memory=67108864",
        ];
        expected.sort();
        assert_eq!(flags, expected);
        assert_eq!(pod.env["POD"], "d-0");
        assert_eq!(pod.grace, Duration::from_secs(45));
        assert_eq!(pod.readiness.as_ref().unwrap().path, "/readyz");
        let args = pod.docker_args("img", &[("A", "2".into())], &BTreeMap::new(), &[]);
        assert!(args.contains(&"--env=A=2".to_owned()), "{args:?}");
        assert_eq!(args.last().unwrap(), "img");
    }
}
