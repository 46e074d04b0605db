//! Waiting in tests for something another task or process does.

use std::time::{Duration, Instant};

/// How long [`wait_until`] waits: generous, for a loaded 2-core machine.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// Polls `done` every 10 ms until it holds; panics naming `what` after [`PATIENCE`].
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
