//! Where the repository is when a test runs.
//!
//! Not `env!("CARGO_MANIFEST_DIR")`: that is fixed when the test is compiled, and a build cache
//! shared between checkouts (CI's) can run a test binary compiled in another checkout, which
//! would then read that checkout's files. Cargo sets `CARGO_MANIFEST_DIR` for the test process
//! too: the workspace root is found by walking up from there.

use std::path::{Path, PathBuf};

/// The workspace root of the checkout under test: the nearest folder above the running test's
/// package (runtime `CARGO_MANIFEST_DIR`, else the current folder) whose `Cargo.toml` declares
/// `[workspace]`.
///
/// # Panics
/// When there is none: tests run from a checkout.
pub fn repo_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .expect("a test runs in a folder");
    start
        .ancestors()
        .find(|dir| is_workspace_root(dir))
        .unwrap_or_else(|| panic!("no workspace Cargo.toml above {}", start.display()))
        .to_path_buf()
}

fn is_workspace_root(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_holds_the_workspace_and_this_crate() {
        let root = repo_root();
        assert!(is_workspace_root(&root));
        assert!(root.join("services/test-support/Cargo.toml").is_file());
    }
}
