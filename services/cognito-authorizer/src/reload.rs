//! The policy in use and its reload: `POLICY_FILE` is watched and, when its text changes,
//! parsed again. A policy that loads replaces the old one for the requests that start from then
//! on (keeping the JWKS caches of the user pools it still trusts); one that does not keeps the
//! old one in use, logs its file:line error and shows it in `/metrics`.
//!
//! A ConfigMap volume never rewrites the file: the kubelet writes a new timestamped folder and
//! swaps the `..data` symlink the visible name goes through. So the folder is watched, not the
//! file (as `cognito_auth::credentials::dir` does for Secret volumes), any event in it is
//! reason to read the file again, and only a change of its text counts as a reload. A slow
//! periodic re-read covers file systems where watching is impossible.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cognito_auth::policy::{Policy, PolicyError};
use cognito_auth_actix::{SharedAuthorizer, Verification};
use notify::{RecursiveMode, Watcher};

use crate::metrics::Metrics;

/// Events come in bursts (a ConfigMap swap is several renames): wait this long after one.
const SETTLE: Duration = Duration::from_millis(200);
/// Re-read this often even without events (when the folder cannot be watched).
const PERIODIC_CHECK: Duration = Duration::from_secs(60);

/// Reads and parses the policy at `path`; errors name the file (and line).
pub(crate) fn read(path: &Path) -> Result<(String, Policy), PolicyError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| PolicyError {
        file: file.clone(),
        line: 0,
        column: 0,
        reason: format!("cannot read: {error}"),
    })?;
    let policy = Policy::parse(&file, &text)?;
    Ok((text, policy))
}

/// The policy file, the authorizer built from it, and what rebuilding needs.
#[derive(Debug)]
pub(crate) struct PolicySource {
    pub file: PathBuf,
    pub verification: Verification,
    pub authorizer: SharedAuthorizer,
    pub metrics: Arc<Metrics>,
    /// The text last read (loaded or not), so that events without a change do nothing.
    pub last_text: Mutex<String>,
}

impl PolicySource {
    /// Reads the file again; a changed text is loaded, or refused keeping the policy in use.
    pub fn reload(&self) {
        let outcome = read(&self.file);
        let text = match &outcome {
            Ok((text, _)) => text.clone(),
            // An unreadable file has no text: remember the error instead, so that it is
            // reported once, and a later readable file counts as a change.
            Err(error) => error.to_string(),
        };
        {
            let mut last = self.last_text.lock().unwrap_or_else(|e| e.into_inner());
            if *last == text {
                return;
            }
            *last = text;
        }
        let previous = self.authorizer.current();
        let built = outcome.and_then(|(_, policy)| {
            let rules = policy.rules().len();
            self.verification
                .authorizer(Arc::new(policy), Some(&previous))
                .map(|authorizer| (rules, authorizer))
                .map_err(|error| PolicyError {
                    file: self.file.display().to_string(),
                    line: 0,
                    column: 0,
                    reason: error.to_string(),
                })
        });
        match built {
            Ok((rules, authorizer)) => {
                self.authorizer.replace(authorizer);
                self.metrics.policy_loaded(rules, true);
                tracing::info!(file = %self.file.display(), rules, "policy reloaded");
            }
            Err(error) => {
                self.metrics.reload_failed(error.to_string());
                tracing::error!(%error, "the changed policy does not load; the previous one stays in use");
            }
        }
    }
}

/// Watches the folder of the policy file and reloads on change, for as long as the runtime
/// runs. Call within a tokio runtime.
pub(crate) fn watch(source: Arc<PolicySource>) {
    let (events, mut changed) = tokio::sync::mpsc::unbounded_channel::<()>();
    let folder = match source.file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let watcher = notify::recommended_watcher(move |_event: notify::Result<notify::Event>| {
        // Any event, even an error, is reason enough to look again.
        let _ = events.send(());
    })
    .and_then(|mut watcher| {
        watcher.watch(&folder, RecursiveMode::NonRecursive)?;
        Ok(watcher)
    });
    let watcher = match watcher {
        Ok(watcher) => Some(watcher),
        Err(error) => {
            tracing::warn!(%error, folder = %folder.display(),
                "cannot watch the policy's folder; re-reading it every minute instead");
            None
        }
    };
    tokio::spawn(async move {
        // The watcher lives as long as this task.
        let _watcher = watcher;
        let mut periodic = tokio::time::interval(PERIODIC_CHECK);
        periodic.tick().await;
        loop {
            tokio::select! {
                event = changed.recv() => {
                    if event.is_none() {
                        // No watcher: only the periodic check is left.
                        periodic.tick().await;
                    } else {
                        tokio::time::sleep(SETTLE).await;
                        while changed.try_recv().is_ok() {}
                    }
                }
                _ = periodic.tick() => {}
            }
            let source = source.clone();
            // File reads and policy parsing block: keep them off the async workers.
            let _ = tokio::task::spawn_blocking(move || source.reload()).await;
        }
    });
}
