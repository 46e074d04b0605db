//! The Docker engine through its command-line client (`DOCKER`, default `docker`): networks and
//! containers the container suite makes, removed when dropped.
//!
//! The client rather than the engine's HTTP API: these are the commands a person would type, so a
//! failing step reads as one, and the suite needs nothing the client lacks.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The docker client's path: `DOCKER`, else `docker` on PATH.
pub fn client() -> String {
    std::env::var("DOCKER").unwrap_or_else(|_| "docker".to_owned())
}

/// Runs `docker ARGS` and returns its standard output, trimmed.
///
/// # Panics
/// When the command cannot start or exits non-zero (its standard error in the message).
pub fn docker(args: &[&str]) -> String {
    let output = docker_output(args);
    assert!(
        output.status.success(),
        "docker {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Runs `docker ARGS` and returns its whole output, success or not.
pub fn docker_output(args: &[&str]) -> Output {
    Command::new(client())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (set DOCKER): {e}", client()))
}

/// Like [`docker`], on a blocking thread, so that load running on the test's runtime goes on.
pub async fn docker_async(args: Vec<String>) -> String {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        docker(&args)
    })
    .await
    .expect("the docker command's thread")
}

/// A user-defined bridge network (container names resolve on it, as Services do in a cluster).
#[derive(Debug)]
pub struct Network {
    /// Its name.
    pub name: String,
}

impl Network {
    /// Creates network `name` (any old one of that name is removed first).
    pub fn create(name: &str) -> Self {
        let _ = docker_output(&["network", "rm", name]);
        docker(&["network", "create", name]);
        Self {
            name: name.to_owned(),
        }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = docker_output(&["network", "rm", &self.name]);
    }
}

/// A container started with `docker run --detach`, removed (forcibly) when dropped.
#[derive(Debug)]
pub struct Container {
    /// Its name (also its host name on its network).
    pub name: String,
}

/// How a container stopped: the time `docker stop` took and the process's exit code.
#[derive(Debug, Clone, Copy)]
pub struct Stopped {
    /// From the signal to the container's exit.
    pub took: Duration,
    /// The main process's exit code (137 when the engine had to SIGKILL it).
    pub exit_code: i64,
}

impl Container {
    /// `docker run --detach --name NAME ARGS...` (ARGS end with the image and its arguments).
    pub fn run(name: &str, args: &[String]) -> Self {
        let _ = docker_output(&["rm", "--force", name]);
        let mut all = vec!["run", "--detach", "--name", name];
        all.extend(args.iter().map(String::as_str));
        docker(&all);
        Self {
            name: name.to_owned(),
        }
    }

    /// `docker inspect --format FORMAT` of this container.
    pub fn inspect(&self, format: &str) -> String {
        docker(&["inspect", "--format", format, &self.name])
    }

    /// Its address on `network`.
    pub fn ip(&self, network: &str) -> String {
        let ip = self.inspect(&format!(
            "{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}"
        ));
        assert!(!ip.is_empty(), "{} has no address on {network}", self.name);
        ip
    }

    /// The host port published for container port `port` (`docker run --publish 127.0.0.1::PORT`).
    pub fn published_port(&self, port: u16) -> u16 {
        let mapping = docker(&["port", &self.name, &format!("{port}/tcp")]);
        mapping
            .lines()
            .next()
            .and_then(|line| line.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{} publishes no port for {port}: {mapping:?}", self.name))
    }

    /// Whether its main process runs.
    pub fn running(&self) -> bool {
        self.inspect("{{.State.Running}}") == "true"
    }

    /// How often the engine restarted it (its restart policy at work).
    pub fn restart_count(&self) -> u32 {
        self.inspect("{{.RestartCount}}").parse().unwrap_or(0)
    }

    /// The host's process id of its main process.
    pub fn host_pid(&self) -> u32 {
        self.inspect("{{.State.Pid}}")
            .parse()
            .expect("a running container's pid")
    }

    /// `docker stop --time GRACE`: SIGTERM (the image's stop signal), then SIGKILL after `grace`,
    /// as the kubelet stops a container; returns how long it took and the exit code.
    pub async fn stop(&self, grace: Duration) -> Stopped {
        let started = Instant::now();
        docker_async(vec![
            "stop".into(),
            "--time".into(),
            grace.as_secs().to_string(),
            self.name.clone(),
        ])
        .await;
        let took = started.elapsed();
        let exit_code = self
            .inspect("{{.State.ExitCode}}")
            .parse()
            .expect("an exit code");
        Stopped { took, exit_code }
    }

    /// `docker start` after a stop.
    pub fn start(&self) {
        docker(&["start", &self.name]);
    }

    /// Its logs so far (standard output and error).
    pub fn logs(&self) -> String {
        let output = docker_output(&["logs", &self.name]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- logs of container {} ---\n{}", self.name, self.logs());
        }
        let _ = docker_output(&["rm", "--force", &self.name]);
    }
}
