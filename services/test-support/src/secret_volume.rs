//! A folder laid out and updated the way the kubelet updates a mounted Secret volume (its
//! AtomicWriter): each update is a new timestamped payload folder, `..data` is a symlink swapped
//! to it by an atomic rename, and the visible file names are symlinks through `..data`. A reader
//! therefore never sees half an update, and the files themselves never change: the folder does.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh, empty temporary folder for a volume (`name` makes it recognisable).
pub fn temp_volume(name: &str) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "secret-volume-{name}-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create the volume folder");
    dir
}

/// Writes `values` (file name, content) into `dir` as one atomic update, as the kubelet does.
///
/// # Panics
/// On any file-system error: this is a test fixture.
pub fn kubelet_write<K: AsRef<str>, V: AsRef<[u8]>>(dir: &Path, values: &[(K, V)]) {
    static VERSION: AtomicUsize = AtomicUsize::new(0);
    let payload = format!(
        "..2026_11_25_10_00_00.{:09}",
        VERSION.fetch_add(1, Ordering::SeqCst)
    );
    fs::create_dir(dir.join(&payload)).expect("create the payload folder");
    for (key, value) in values {
        fs::write(dir.join(&payload).join(key.as_ref()), value).expect("write a key");
    }
    let old = fs::read_link(dir.join("..data")).ok();
    let _ = fs::remove_file(dir.join("..data_tmp"));
    symlink(&payload, dir.join("..data_tmp")).expect("link ..data_tmp");
    fs::rename(dir.join("..data_tmp"), dir.join("..data")).expect("swap ..data");
    for (key, _) in values {
        let link = dir.join(key.as_ref());
        if fs::symlink_metadata(&link).is_err() {
            symlink(Path::new("..data").join(key.as_ref()), &link).expect("link a key");
        }
    }
    if let Some(old) = old {
        fs::remove_dir_all(dir.join(old)).expect("remove the old payload");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_swaps_the_payload_behind_stable_names() {
        let dir = temp_volume("swap");
        kubelet_write(&dir, &[("client_secret", "one")]);
        let first = fs::read_link(dir.join("..data")).unwrap();
        assert_eq!(
            fs::read_to_string(dir.join("client_secret")).unwrap(),
            "one"
        );
        kubelet_write(&dir, &[("client_secret", "two")]);
        assert_ne!(fs::read_link(dir.join("..data")).unwrap(), first);
        assert_eq!(
            fs::read_to_string(dir.join("client_secret")).unwrap(),
            "two"
        );
        assert!(!dir.join(first).exists(), "the old payload is removed");
        assert!(
            fs::symlink_metadata(dir.join("client_secret"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
