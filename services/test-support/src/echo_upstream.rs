//! `echo-upstream.py` beside this crate's manifest: an HTTP/1.1 upstream written with Python's
//! `http.server`, a peer in another language for a proxy under test. It echoes each request as
//! JSON (method, raw target, path, query, headers in arrival order, body) and, as the query
//! parameter `fixture` asks, streams slowly, cuts its body short, hangs or closes (the script's
//! docstring lists them).

use std::process::Command;

use serde_json::Value;

use crate::process::{Process, tool};

/// The Python echo upstream, on a free loopback port.
#[derive(Debug)]
pub struct EchoUpstream {
    /// The python process.
    pub process: Process,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl EchoUpstream {
    /// Starts it and waits until it serves.
    pub fn start() -> Self {
        let script = crate::repo_root().join("services/test-support/echo-upstream.py");
        let mut command = Command::new(tool("python3"));
        command.arg(script).args(["--port", "0"]);
        let mut process = Process::spawn("echo-upstream", command);
        let ready: Value = serde_json::from_str(&process.wait_for_stdout_line("READY "))
            .expect("the READY line is JSON");
        let url = ready["url"]
            .as_str()
            .expect("READY names the url")
            .to_owned();
        Self { process, url }
    }

    /// How many requests it has received (asking is not counted).
    pub async fn requests_received(&self) -> u64 {
        let url = format!("{}/?fixture=count", self.url);
        let count: Value = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a plain HTTP client")
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .json()
            .await
            .expect("a JSON count");
        count["requests"].as_u64().expect("a count")
    }
}

/// The values of header `name` (any case) in an echo's `headers`, in arrival order.
pub fn echoed_header<'a>(echo: &'a Value, name: &str) -> Vec<&'a str> {
    echo["headers"]
        .as_array()
        .expect("an echo lists its headers")
        .iter()
        .filter(|pair| {
            pair[0]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .filter_map(|pair| pair[1].as_str())
        .collect()
}
