//! Steady HTTP load from concurrent workers on kept-alive connections, tallied as "N requests,
//! M failed". A request whose connection was refused (no listener: never accepted) is counted
//! apart; anything else that is not a 200 is a failure, counted by kind (`status 502`, [`RESET`],
//! `timeout`, the innermost error otherwise) for the message.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

/// The kind counted for a connection reset before any response byte.
pub const RESET: &str = "reset";

/// What a load run saw.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Requests sent.
    pub requests: u64,
    /// Answered 200.
    pub ok: u64,
    /// Never accepted: the connection was refused.
    pub refused: u64,
    /// Accepted and then not answered 200 (a status, a reset, a timeout).
    pub failed: u64,
    /// Failures and refusals by kind.
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

/// Workers each sending `GET url` one after another until [`Load::finish`].
#[derive(Debug)]
pub struct Load {
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    workers: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts `workers` tasks sharing one pooled client, each request with `bearer` when given
    /// and `timeout` to answer.
    pub fn start(url: &str, bearer: Option<&str>, workers: usize, timeout: Duration) -> Self {
        let client = reqwest::Client::new();
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let workers = (0..workers)
            .map(|_| {
                let (client, stop, tally) = (client.clone(), stop.clone(), tally.clone());
                let url = url.to_owned();
                let bearer = bearer.map(str::to_owned);
                tokio::spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        let mut request = client.get(&url).timeout(timeout);
                        if let Some(token) = &bearer {
                            request = request.bearer_auth(token);
                        }
                        let outcome = request.send().await;
                        let outcome = match outcome {
                            Ok(response) => {
                                let status = response.status();
                                response.bytes().await.map(|_| status)
                            }
                            Err(error) => Err(error),
                        };
                        record(&mut tally.lock().expect("tally"), outcome);
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

    /// The tally so far.
    pub fn tally(&self) -> Tally {
        self.tally.lock().expect("tally").clone()
    }

    /// Waits until `more` further requests have completed (the load flows).
    pub async fn wait_for(&self, more: u64) {
        let target = self.tally().requests + more;
        while self.tally().requests < target {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the workers (each finishes its request in flight) and returns the tally.
    pub async fn finish(self) -> Tally {
        self.stop.store(true, Ordering::SeqCst);
        for worker in self.workers {
            worker.await.expect("a load worker panicked");
        }
        self.tally.lock().expect("tally").clone()
    }
}

fn record(tally: &mut Tally, outcome: reqwest::Result<reqwest::StatusCode>) {
    tally.requests += 1;
    let kind = match outcome {
        Ok(status) if status == reqwest::StatusCode::OK => {
            tally.ok += 1;
            return;
        }
        Ok(status) => format!("status {}", status.as_u16()),
        Err(error) if error.is_connect() && !error.is_timeout() => {
            tally.refused += 1;
            *tally.kinds.entry("refused".into()).or_default() += 1;
            return;
        }
        Err(error) if error.is_timeout() => "timeout".to_owned(),
        Err(error) => {
            let mut cause: &dyn std::error::Error = &error;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            match cause.downcast_ref::<std::io::Error>().map(|e| e.kind()) {
                Some(std::io::ErrorKind::ConnectionReset) => RESET.to_owned(),
                _ => cause.to_string(),
            }
        }
    };
    tally.failed += 1;
    *tally.kinds.entry(kind).or_default() += 1;
}
