//! The credentials folder reader (`DirSource`: a mounted Kubernetes Secret, one file per key).
//!
//! Input: fields separated by NUL bytes: first a flags field, then file name, file contents,
//! file name, contents, ... (at most 16 files). Flags (bits of the field's first byte):
//! - 1: kubelet layout: the files live in a timestamped folder that a `..data` symlink points at,
//!   and the visible names are symlinks through `..data`;
//! - 2: the first file is padded with spaces past the 64 KiB limit (so it must be skipped);
//! - 4: a subfolder named `client_id` sits among the files (so it must be skipped);
//! - 8, with no higher bit set: a fresh `DirSource` is opened (otherwise the one of the process
//!   is re-read with `reload`); rare on purpose, since each starts a file watcher thread.
//!
//! Files are written under `$TMPDIR` (scripts/fuzz points it at a RAM disk), one folder per
//! process, emptied before every input. The expected outcome, error messages included, is
//! computed from the input alone.

#![no_main]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use cognito_auth::credentials::{ClientCredentials, CredentialsError, DirSource};
use libfuzzer_sys::fuzz_target;

const KUBELET_LAYOUT: u8 = 1;
const OVERSIZED_FIRST: u8 = 2;
const SUBFOLDER: u8 = 4;
const FRESH_SOURCE: u8 = 8;
/// The reader's per-file limit (credentials/dir.rs).
const MAX_FILE: usize = 64 * 1024;

struct State {
    dir: PathBuf,
    source: DirSource,
    /// The last credentials read successfully by `source`, which it keeps serving on errors.
    previous: Option<ClientCredentials>,
    /// Alternates the kubelet's timestamped folder, as a Secret update would.
    generation: u64,
}

static STATE: LazyLock<Mutex<State>> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("cognito-m2m-fuzz-dir-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    Mutex::new(State {
        source: DirSource::open(&dir).unwrap(),
        dir,
        previous: None,
        generation: 0,
    })
});

fn empty(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.is_symlink() {
            fs::remove_dir_all(path).unwrap();
        } else {
            fs::remove_file(path).unwrap();
        }
    }
}

/// A name the file system takes as one entry of a folder (bytes other than `/` and NUL).
fn usable_name(name: &[u8], kubelet: bool) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.contains(&b'/')
        && name != b"."
        && name != b".."
        && !(kubelet && name.starts_with(b".."))
}

/// What the reader must make of these files: `Ok(map of keys)`, or `Err(names)` of the visible
/// files that are not UTF-8 text (a folder error naming one of them).
fn expected_map(
    files: &BTreeMap<Vec<u8>, Vec<u8>>,
    oversized: Option<&[u8]>,
) -> Result<BTreeMap<String, String>, Vec<String>> {
    let mut map = BTreeMap::new();
    let mut not_text = Vec::new();
    for (name, contents) in files {
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        if name.starts_with('.') || oversized == Some(name.as_bytes()) {
            continue;
        }
        match String::from_utf8(contents.clone()) {
            Ok(contents) => {
                map.insert(name.to_owned(), contents);
            }
            Err(_) => not_text.push(name.to_owned()),
        }
    }
    if not_text.is_empty() {
        Ok(map)
    } else {
        Err(not_text)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut fields = data.split(|&b| b == 0);
    let flags = fields.next().and_then(|f| f.first().copied()).unwrap_or(0);
    let kubelet = flags & KUBELET_LAYOUT != 0;
    let mut files: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut first = None;
    while let (Some(name), Some(contents)) = (fields.next(), fields.next()) {
        if files.len() == 16 {
            break;
        }
        if usable_name(name, kubelet) {
            first.get_or_insert(name.to_vec());
            files.insert(name.to_vec(), contents.to_vec());
        }
    }
    let oversized = first.filter(|_| flags & OVERSIZED_FIRST != 0);
    if let Some(name) = &oversized {
        files.get_mut(name).unwrap().resize(MAX_FILE + 1, b' ');
    }
    let subfolder = flags & SUBFOLDER != 0 && !files.contains_key(&b"client_id"[..]);

    let mut state = STATE.lock().unwrap();
    let state = &mut *state;
    empty(&state.dir);
    let files_dir = if kubelet {
        state.generation += 1;
        let timestamped = format!("..2025_06_15_15_06_40.{}", state.generation);
        fs::create_dir(state.dir.join(&timestamped)).unwrap();
        std::os::unix::fs::symlink(&timestamped, state.dir.join("..data")).unwrap();
        state.dir.join(timestamped)
    } else {
        state.dir.clone()
    };
    for (name, contents) in &files {
        let name = OsStr::from_bytes(name);
        fs::write(files_dir.join(name), contents).unwrap();
        if kubelet {
            std::os::unix::fs::symlink(Path::new("..data").join(name), state.dir.join(name))
                .unwrap();
        }
    }
    if subfolder {
        fs::create_dir(files_dir.join("client_id")).unwrap();
    }
    if flags & !(FRESH_SOURCE - 1) == FRESH_SOURCE {
        state.source = DirSource::open(&state.dir).unwrap();
        state.previous = None;
    }

    let expected =
        expected_map(&files, oversized.as_deref()).map(|map| ClientCredentials::from_map(&map));
    let read = state.source.reload();
    match (&expected, &read) {
        (Ok(Ok(credentials)), Ok(read)) => {
            assert_eq!(&**read, credentials);
            state.previous = Some(credentials.clone());
        }
        (_, Ok(read)) => {
            // Unusable contents: the previous credentials stay in use.
            assert_eq!(
                Some(&**read),
                state.previous.as_ref(),
                "expected {expected:?}"
            );
        }
        (Ok(Ok(_)), Err(error)) => panic!("{error} for usable credentials"),
        (Ok(Err(format)), Err(error)) => {
            assert!(state.previous.is_none());
            assert!(
                matches!(error, CredentialsError::Format { error, .. } if error == format),
                "{error:?}, expected {format:?}"
            );
        }
        (Err(not_text), Err(error)) => {
            assert!(state.previous.is_none());
            // Exactly the folder and the name of a file that is not text: never its contents.
            let CredentialsError::Dir { path, reason } = error else {
                panic!("{error:?}, expected a folder error");
            };
            assert_eq!(*path, state.dir.display().to_string());
            assert!(
                not_text
                    .iter()
                    .any(|name| *reason == format!("{name}: stream did not contain valid UTF-8")),
                "{reason:?}, expected one of {not_text:?}"
            );
        }
    }
    // Nothing changed since: the cached answer (or a re-read prompted by the watcher) agrees.
    let current = state.source.current();
    match (&read, &current) {
        (Ok(read), Ok(current)) => assert_eq!(read, current),
        (Err(read), Err(current)) => assert_eq!(read, current),
        _ => panic!("reload gave {read:?}, current {current:?}"),
    }
    assert_eq!(state.source.is_loaded(), state.previous.is_some());
});
