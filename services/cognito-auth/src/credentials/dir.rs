//! Credentials from a folder holding one file per key: a mounted Kubernetes Secret.
//!
//! The kubelet updates a Secret volume by writing a new timestamped folder and atomically
//! renaming a `..data` symlink to point at it; the visible files are symlinks through `..data`.
//! So the files themselves never change: the folder does. Two signals trigger a re-read: a
//! `notify` watch on the folder (which also covers plain folders edited by hand) and, checked on
//! every use because it costs one `readlink`, a change of the `..data` target.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use notify::{RecursiveMode, Watcher};

use super::{ClientCredentials, CredentialsError};

/// Files larger than this are not credentials and are skipped.
const MAX_FILE: u64 = 64 * 1024;

/// The symlink the kubelet swaps.
const DATA_LINK: &str = "..data";

/// A credentials folder, re-read when it changes.
#[derive(Debug)]
pub struct DirSource {
    dir: PathBuf,
    last_read: RwLock<LastRead>,
    /// Set by the watcher on any event in the folder.
    changed: Arc<AtomicBool>,
    /// Kept alive for as long as the source; `None` when watching was impossible.
    _watcher: Mutex<Option<notify::RecommendedWatcher>>,
}

/// What the last read of the folder found.
#[derive(Debug, Default)]
struct LastRead {
    credentials: Option<Arc<ClientCredentials>>,
    /// The `..data` target when last read.
    data_target: Option<PathBuf>,
    /// The last read error, while no good read has replaced it.
    error: Option<CredentialsError>,
}

impl DirSource {
    /// Opens `dir`, reads it once and starts watching it.
    ///
    /// Fails only when `dir` is not a readable folder; incomplete contents are reported by
    /// [`DirSource::current`] until they are complete (a Secret may be filled in after start).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, CredentialsError> {
        let dir = dir.into();
        let problem = |reason: String| CredentialsError::Dir {
            path: dir.display().to_string(),
            reason,
        };
        let meta = fs::metadata(&dir).map_err(|e| problem(e.to_string()))?;
        if !meta.is_dir() {
            return Err(problem("not a folder".into()));
        }
        let changed = Arc::new(AtomicBool::new(false));
        let flag = changed.clone();
        let watcher = notify::recommended_watcher(move |_event: notify::Result<notify::Event>| {
            // Any event, even an error, is reason enough to look again.
            flag.store(true, Ordering::SeqCst);
        })
        .and_then(|mut watcher| {
            watcher.watch(&dir, RecursiveMode::NonRecursive)?;
            Ok(watcher)
        });
        let watcher = match watcher {
            Ok(watcher) => Some(watcher),
            Err(error) => {
                tracing::warn!(%error, dir = %dir.display(),
                    "cannot watch the credentials folder; relying on its ..data link to notice changes");
                None
            }
        };
        let source = Self {
            dir,
            last_read: RwLock::new(LastRead::default()),
            changed,
            _watcher: Mutex::new(watcher),
        };
        // An incomplete folder is not fatal here: readiness reports it until it is filled in.
        let _ = source.reload();
        Ok(source)
    }

    /// The folder read.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The current credentials, re-reading the folder first if it changed.
    pub fn current(&self) -> Result<Arc<ClientCredentials>, CredentialsError> {
        let target = self.data_target();
        let changed = self.changed.swap(false, Ordering::SeqCst);
        {
            let last_read = self.last_read.read().unwrap_or_else(|e| e.into_inner());
            if !changed
                && last_read.data_target == target
                && let Some(credentials) = &last_read.credentials
            {
                return Ok(credentials.clone());
            }
        }
        self.reload()
    }

    /// Reads the folder now. When it cannot be read, the previous credentials (if any) stay in
    /// use and the error is logged.
    pub fn reload(&self) -> Result<Arc<ClientCredentials>, CredentialsError> {
        let target = self.data_target();
        let read = self.read_folder(target.as_deref());
        let mut last_read = self.last_read.write().unwrap_or_else(|e| e.into_inner());
        last_read.data_target = target;
        match read {
            Ok(credentials) => {
                if last_read.credentials.as_deref() != Some(&credentials) {
                    tracing::info!(client_id = %credentials.client_id, dir = %self.dir.display(),
                        "client credentials loaded from folder");
                    last_read.credentials = Some(Arc::new(credentials));
                }
                last_read.error = None;
                Ok(last_read.credentials.clone().expect("just set"))
            }
            Err(error) => {
                if last_read.error.as_ref() != Some(&error) {
                    tracing::warn!(%error, "cannot read client credentials; keeping the previous ones, if any");
                }
                last_read.error = Some(error.clone());
                last_read.credentials.clone().ok_or(error)
            }
        }
    }

    /// Whether credentials have been read successfully.
    pub fn is_loaded(&self) -> bool {
        self.last_read
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .credentials
            .is_some()
    }

    fn data_target(&self) -> Option<PathBuf> {
        fs::read_link(self.dir.join(DATA_LINK)).ok()
    }

    /// Reads every visible file as one key. With a `..data` link, the files are read from its
    /// target folder, so a swap during the read cannot mix old and new values.
    fn read_folder(
        &self,
        data_target: Option<&Path>,
    ) -> Result<ClientCredentials, CredentialsError> {
        let base = match data_target {
            Some(target) => self.dir.join(target),
            None => self.dir.clone(),
        };
        let problem = |reason: String| CredentialsError::Dir {
            path: self.dir.display().to_string(),
            reason,
        };
        let mut map = BTreeMap::new();
        for entry in fs::read_dir(&base).map_err(|e| problem(e.to_string()))? {
            let entry = entry.map_err(|e| problem(e.to_string()))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            // metadata() follows symlinks: the visible names are links into `..data`.
            match fs::metadata(&path) {
                Ok(meta) if meta.is_file() && meta.len() <= MAX_FILE => {}
                _ => continue,
            }
            let value = fs::read_to_string(&path).map_err(|e| problem(format!("{name}: {e}")))?;
            map.insert(name, value);
        }
        ClientCredentials::from_map(&map).map_err(|error| CredentialsError::Format {
            origin: format!("folder {}", self.dir.display()),
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "cognito-auth-dir-{name}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reads_plain_files_and_trims_newlines() {
        let dir = temp_dir("plain");
        fs::write(dir.join("client_id"), "abc\n").unwrap();
        fs::write(dir.join("client_secret"), "s3cret\n").unwrap();
        fs::write(dir.join("scopes"), "a/read a/write").unwrap();
        let source = DirSource::open(&dir).unwrap();
        let creds = source.current().unwrap();
        assert_eq!(creds.client_id, "abc");
        assert_eq!(creds.client_secret, "s3cret");
        assert_eq!(creds.scopes, ["a/read", "a/write"]);
        assert!(source.is_loaded());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn incomplete_folder_is_not_loaded_and_names_the_key() {
        let dir = temp_dir("incomplete");
        fs::write(dir.join("client_id"), "abc").unwrap();
        let source = DirSource::open(&dir).unwrap();
        assert!(!source.is_loaded());
        let err = source.current().unwrap_err();
        assert!(err.to_string().contains("client_secret"), "{err}");
        // Filled in later, it is picked up without a restart.
        fs::write(dir.join("client_secret"), "s").unwrap();
        assert_eq!(source.current().unwrap().client_secret, "s");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_folder_fails_to_open() {
        let err = DirSource::open("/nonexistent/cognito-auth-creds").unwrap_err();
        assert!(matches!(err, CredentialsError::Dir { .. }));
    }
}
