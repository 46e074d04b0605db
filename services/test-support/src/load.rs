//! Steady HTTP load from concurrent workers, tallied as "N requests, M failed": the figure the
//! fault tests report and assert on.
//!
//! A request that never reached the server (connection refused or no route: the listener was
//! gone) is counted apart as `refused`: it was never accepted, so a server shutting down
//! gracefully may refuse it, but must not fail one it accepted. Everything else that is not the
//! expected status with its whole body (a reset or closed connection after acceptance, a
//! timeout, another status) is `failed`, with a count per kind for the message (`status 502`,
//! [`RESET`], `timeout`, else the innermost error).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Client, RequestBuilder, StatusCode};
use tokio::task::JoinHandle;

/// The kind counted for a connection reset by the peer.
pub const RESET: &str = "reset";

/// The outcome of a load run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Requests sent (every outcome below).
    pub requests: u64,
    /// Answered with the expected status.
    pub ok: u64,
    /// Never accepted: the connection was refused or had no route.
    pub refused: u64,
    /// Accepted (or not known to be refused) and then not answered with the expected status.
    pub failed: u64,
    /// `failed` and `refused` by kind ("status 502", "reset: ..."), counted.
    pub kinds: BTreeMap<String, u64>,
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} requests, {} failed", self.requests, self.failed)?;
        if self.refused > 0 {
            write!(f, ", {} refused before acceptance", self.refused)?;
        }
        if !self.kinds.is_empty() {
            write!(f, " {:?}", self.kinds)?;
        }
        Ok(())
    }
}

/// Workers sending one request after another until [`Load::finish`].
#[derive(Debug)]
pub struct Load {
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    workers: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts `workers` tasks, each sending `request(&client)` in a loop (with `pause` between
    /// its requests) and expecting `expected`. Each request gets `timeout` before it counts as
    /// failed. Needs a multi-threaded Tokio runtime when the test also blocks.
    pub fn start<F>(
        client: Client,
        workers: usize,
        pause: Duration,
        timeout: Duration,
        expected: StatusCode,
        request: F,
    ) -> Self
    where
        F: Fn(&Client) -> RequestBuilder + Send + Sync + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let request = Arc::new(request);
        let workers = (0..workers)
            .map(|_| {
                let (client, stop, tally, request) =
                    (client.clone(), stop.clone(), tally.clone(), request.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        let outcome = match request(&client).timeout(timeout).send().await {
                            // The whole body: a response cut off half-way is a failure too.
                            Ok(response) => {
                                let status = response.status();
                                response.bytes().await.map(|_| status)
                            }
                            Err(error) => Err(error),
                        };
                        record(&mut tally.lock().expect("tally lock"), outcome, expected);
                        tokio::time::sleep(pause).await;
                    }
                })
            })
            .collect();
        Self {
            stop,
            tally,
            workers,
        }
    }

    /// `workers` tasks each sending `GET url` (with `bearer` when given) one after another on
    /// one pool of kept-alive connections, expecting 200 within `timeout`.
    pub fn get(url: &str, bearer: Option<&str>, workers: usize, timeout: Duration) -> Self {
        let (url, bearer) = (url.to_owned(), bearer.map(str::to_owned));
        Self::start(
            Client::new(),
            workers,
            Duration::ZERO,
            timeout,
            StatusCode::OK,
            move |client| {
                let request = client.get(&url);
                match &bearer {
                    Some(token) => request.bearer_auth(token),
                    None => request,
                }
            },
        )
    }

    /// Requests completed so far (to wait until the load is flowing).
    pub fn requests(&self) -> u64 {
        self.tally.lock().expect("tally lock").requests
    }

    /// Waits until `more` further requests have completed (the load flows again).
    pub async fn wait_for(&self, more: u64) {
        let target = self.requests() + more;
        while self.requests() < target {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A snapshot of the tally so far.
    pub fn tally(&self) -> Tally {
        self.tally.lock().expect("tally lock").clone()
    }

    /// Stops the workers (each finishes its request in flight) and returns the tally.
    pub async fn finish(self) -> Tally {
        self.stop.store(true, Ordering::SeqCst);
        for worker in self.workers {
            worker.await.expect("a load worker panicked");
        }
        Arc::try_unwrap(self.tally)
            .expect("workers are done")
            .into_inner()
            .expect("tally lock")
    }
}

/// Counts one request's outcome.
fn record(tally: &mut Tally, outcome: reqwest::Result<StatusCode>, expected: StatusCode) {
    tally.requests += 1;
    match outcome {
        Ok(status) if status == expected => tally.ok += 1,
        Ok(status) => {
            tally.failed += 1;
            *tally
                .kinds
                .entry(format!("status {}", status.as_u16()))
                .or_default() += 1;
        }
        // Refused, unreachable or timed out while connecting: never accepted.
        Err(error) if error.is_connect() => {
            tally.refused += 1;
            *tally.kinds.entry("refused".to_owned()).or_default() += 1;
        }
        Err(error) => {
            tally.failed += 1;
            *tally.kinds.entry(error_kind(&error)).or_default() += 1;
        }
    }
}

/// A short name for a transport error: `timeout`, [`RESET`], else its innermost cause.
fn error_kind(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timeout".to_owned();
    }
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    match cause
        .downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind)
    {
        Some(std::io::ErrorKind::ConnectionReset) => RESET.to_owned(),
        _ => cause.to_string(),
    }
}
