//! Third-party test tools as child processes: finding them, running them with their output kept,
//! and waiting until they serve.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How long a server may take to become ready.
const STARTUP: Duration = Duration::from_secs(60);

/// The folder the test tools were installed into (`scripts/install-test-tools`).
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOOLS_DIR") {
        return dir.into();
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/".into());
    Path::new(&home).join(".cache/cognito-m2m/tools")
}

/// A third-party command: from `PATH`, else from the tools' `bin` folder
/// (`scripts/install-test-tools`). `MOTO_SERVER` names the `moto_server` to use, if set.
pub fn tool(name: &str) -> PathBuf {
    if name == "moto_server"
        && let Some(path) = std::env::var_os("MOTO_SERVER")
    {
        return path.into();
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    let path = on_path.unwrap_or_else(|| tools_dir().join("bin").join(name));
    assert!(
        path.is_file(),
        "{name} not found on PATH nor in {}: run scripts/install-test-tools",
        tools_dir().join("bin").display()
    );
    path
}

/// A child process killed on drop, with its output collected.
#[derive(Debug)]
pub struct Process {
    name: String,
    child: Child,
    output: Arc<Mutex<Vec<String>>>,
    lines: mpsc::Receiver<String>,
}

impl Process {
    /// Spawns `command` with piped output.
    pub fn spawn(name: &str, mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        collect(stdout, output.clone(), Some(tx));
        collect(stderr, output.clone(), None);
        Self {
            name: name.to_owned(),
            child,
            output,
            lines,
        }
    }

    /// Waits for a stdout line starting with `prefix` and returns the rest of it.
    pub fn wait_for_stdout_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + STARTUP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_owned();
                    }
                }
                Err(_) => panic!(
                    "{} printed no line starting with {prefix:?}; its output:\n{}",
                    self.name,
                    self.output()
                ),
            }
        }
    }

    /// Whether the process prints `text` within `limit` (its output is read by another thread,
    /// so a line written just before an HTTP answer may arrive just after it).
    pub fn printed_within(&self, text: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if self.output().contains(text) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.join("\n")).unwrap_or_default()
    }

    /// Sends SIGTERM, as the kubelet does to a container of a pod being deleted.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Waits up to `limit` for the process to exit by itself; its status, or `None` if it still
    /// runs.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How the process ended, if it has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops the process with SIGSTOP (a server that hangs: the kernel still accepts
    /// connections on its listening socket, and nothing answers them) until [`Self::resume`].
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Lets a [`paused`](Self::pause) process run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap_or_else(|e| panic!("cannot run kill -{name}: {e}"));
        assert!(status.success(), "kill -{name} {} failed", self.name);
    }

    /// Kills the process now (a server that is down).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // A paused process is killed all the same (SIGKILL needs no SIGCONT).
        self.kill();
        if std::thread::panicking() {
            eprintln!("----- {} output -----\n{}", self.name, self.output());
        }
    }
}

fn collect(
    stream: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<String>>>,
    lines: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(tx) = &lines {
                let _ = tx.send(line.clone());
            }
            if let Ok(mut sink) = sink.lock() {
                sink.push(line);
            }
        }
    });
}

/// Polls `url` until it answers 200.
pub async fn wait_until_ok(http: &reqwest::Client, url: &str, process: &Process) {
    let deadline = Instant::now() + STARTUP;
    loop {
        if let Ok(response) = http.get(url).send().await
            && response.status() == 200
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{url} never answered 200; {} printed:\n{}",
            process.name,
            process.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
