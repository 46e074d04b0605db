//! A credentials folder laid out and updated the way the kubelet does it.

use std::fs;
use std::time::{Duration, Instant};

use cognito_auth::credentials::{CredentialsProvider, DirSource, keys};
use test_support::{kubelet_write, temp_volume};

fn secret(value: &str) -> [(&'static str, String); 3] {
    [
        (keys::CLIENT_ID, "client-1".to_owned()),
        (keys::CLIENT_SECRET, value.to_owned()),
        (
            keys::TOKEN_ENDPOINT,
            "http://127.0.0.1:9/oauth2/token".to_owned(),
        ),
    ]
}

fn as_refs<'a>(values: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    values.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn an_atomic_data_swap_is_seen_on_the_next_use() {
    let dir = temp_volume("swap");
    kubelet_write(&dir, &as_refs(&secret("old-secret")));
    let source = DirSource::open(&dir).unwrap();
    assert_eq!(source.current().unwrap().client_secret, "old-secret");
    kubelet_write(&dir, &as_refs(&secret("new-secret")));
    // No waiting for the watcher: the ..data target changed, which is checked on every use.
    assert_eq!(source.current().unwrap().client_secret, "new-secret");
    assert_eq!(
        source.current().unwrap().token_endpoint.as_deref(),
        Some("http://127.0.0.1:9/oauth2/token")
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_plain_folder_edited_in_place_is_seen_through_the_watcher() {
    let dir = temp_volume("plain");
    for (key, value) in secret("first") {
        fs::write(dir.join(key), value).unwrap();
    }
    let source = DirSource::open(&dir).unwrap();
    assert_eq!(source.current().unwrap().client_secret, "first");
    fs::write(dir.join(keys::CLIENT_SECRET), "second").unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while source.current().unwrap().client_secret != "second" {
        assert!(Instant::now() < until, "the edit was never noticed");
        std::thread::sleep(Duration::from_millis(20));
    }
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_broken_update_keeps_the_previous_credentials() {
    let dir = temp_volume("broken");
    kubelet_write(&dir, &as_refs(&secret("good")));
    let source = DirSource::open(&dir).unwrap();
    assert!(source.is_loaded());
    // An update without a client secret: unusable, so the good credentials stay.
    kubelet_write(&dir, &[(keys::CLIENT_ID, "client-1")]);
    assert_eq!(source.current().unwrap().client_secret, "good");
    fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_provider_reads_the_seed_key_names_too() {
    let dir = temp_volume("seed");
    kubelet_write(
        &dir,
        &[
            ("user_pool_client_id", "seed-client"),
            ("app_client_secret", "seed-secret"),
            (
                "user_pool_oauth2_endpoint",
                "http://127.0.0.1:9/oauth2/token",
            ),
        ],
    );
    let provider = CredentialsProvider::Dir(DirSource::open(&dir).unwrap());
    let creds = provider.current().await.unwrap();
    assert_eq!(creds.client_id, "seed-client");
    assert_eq!(creds.client_secret, "seed-secret");
    assert!(provider.is_loaded());
    fs::remove_dir_all(dir).unwrap();
}
