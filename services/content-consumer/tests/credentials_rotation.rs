//! Credentials from a mounted Secret folder, rotated without a restart.

mod support;

use support::*;
use test_support::{closed_url, kubelet_write, temp_volume, wait_until};

fn secret_files<'a>(secret: &'a str, token_url: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("client_id", CLIENT_ID),
        ("client_secret", secret),
        ("token_endpoint", token_url),
        ("scopes", "premium_api/read premium_api/write"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_is_used_without_a_restart_and_without_a_failed_call() {
    let cognito = start_cognito("secret-1", 3600);
    let premium = start_premium(&cognito).await;
    let dir = temp_volume("rotation");
    kubelet_write(&dir, &secret_files("secret-1", &cognito.token_endpoint()));
    let consumer = start_consumer(dir_settings(&premium.url("/home/premium"), &dir)).await;
    let client = reqwest::Client::new();
    let url = consumer.url("/content/authorized-read");
    assert_eq!(get(&client, &url).await.0, 200);
    assert_eq!(
        cognito.faults.client(CLIENT_ID).last_secret(),
        Some("secret-1")
    );

    // Rotation: Cognito now accepts only the new secret, and the kubelet swaps the folder.
    cognito.faults.rotate_secret(CLIENT_ID, "secret-2");
    kubelet_write(&dir, &secret_files("secret-2", &cognito.token_endpoint()));
    // The token obtained with the old secret is still valid and keeps serving while a new one
    // is fetched with the new secret in the background.
    assert_eq!(get(&client, &url).await.0, 200);
    wait_until("a token for the new secret", || {
        cognito.faults.issued() == 2
    })
    .await;
    assert_eq!(
        cognito.faults.client(CLIENT_ID).last_secret(),
        Some("secret-2")
    );
    assert_eq!(get(&client, &url).await.0, 200);
    assert_eq!(
        cognito.faults.requests(),
        2,
        "no request was made with the old secret"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_fixed_by_updating_the_folder() {
    let cognito = start_cognito("secret-1", 3600);
    let premium = start_premium(&cognito).await;
    let dir = temp_volume("fix");
    kubelet_write(&dir, &secret_files("stale", &cognito.token_endpoint()));
    let consumer = start_consumer(dir_settings(&premium.url("/home/premium"), &dir)).await;
    let client = reqwest::Client::new();
    let url = consumer.url("/content/authorized-write");
    let (status, body) = get(&client, &url).await;
    assert_eq!(status, 502, "{body}");
    kubelet_write(&dir, &secret_files("secret-1", &cognito.token_endpoint()));
    // New credentials are tried at once, whatever the failure cooldown of the old ones.
    let (status, body) = get(&client, &url).await;
    assert_eq!(status, 200, "{body}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_token_url_overrides_the_folder_endpoint() {
    let cognito = start_cognito("secret-1", 3600);
    let premium = start_premium(&cognito).await;
    let dir = temp_volume("override");
    let nowhere = closed_url("/oauth2/token");
    kubelet_write(&dir, &secret_files("secret-1", &nowhere));
    let token_url = cognito.token_endpoint();
    let consumer = start_consumer(Settings {
        token_url: Some(token_url.parse().unwrap()),
        ..dir_settings(&premium.url("/home/premium"), &dir)
    })
    .await;
    let (status, _) = get(
        &reqwest::Client::new(),
        &consumer.url("/content/authorized-read"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(cognito.faults.requests(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}
