//! A chosen client secret holding every character Cognito allows (`[\w+]+`), wrapped in each
//! kind of stray whitespace, gets content-consumer its tokens from the environment and from a
//! mounted Secret folder alike: the token endpoint sees exactly the secret.

mod support;

use local_cognito::client_auth::CREDENTIAL_CHARACTERS;
use support::*;
use test_support::{kubelet_write, temp_volume};

/// Each kind of stray whitespace a credential picks up on its way, by name.
const STRAYS: [(&str, &str); 4] = [
    ("trailing LF (echo secret | base64)", "\n"),
    ("trailing CRLF", "\r\n"),
    ("trailing spaces and tabs", " \t "),
    ("blank lines after", "\n\n"),
];

fn secret() -> String {
    format!("Ab3dEf6hIj+KlMnOp+QrStUv9x{CREDENTIAL_CHARACTERS}")
}

/// Calls authorized-read and checks Cognito saw exactly `secret()`.
async fn authorized_read_works(cognito: &TestIssuer, consumer: &Service, kind: &str) {
    let client = reqwest::Client::new();
    let (status, body) = get(&client, &consumer.url("/content/authorized-read")).await;
    assert_eq!(status, 200, "{kind}: {body}");
    assert_eq!(
        cognito.faults.client(CLIENT_ID).last_secret(),
        Some(secret().as_str()),
        "{kind}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_the_environment() {
    let cognito = start_cognito(&secret(), 3600);
    let premium = start_premium(&cognito).await;
    for (kind, stray) in STRAYS {
        // Through the command line: its normalisation is what is under test.
        let token_url = cognito.token_endpoint();
        let consumer = consumer_from_args(
            &premium.url("/home/premium"),
            &[
                "--cognito-client-id",
                CLIENT_ID,
                "--cognito-client-secret",
                &format!("{}{stray}", secret()),
                "--cognito-token-url",
                &token_url,
            ],
        )
        .await;
        authorized_read_works(&cognito, &consumer, kind).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_mounted_secret_folder() {
    let cognito = start_cognito(&secret(), 3600);
    let premium = start_premium(&cognito).await;
    for (kind, stray) in STRAYS {
        let dir = temp_volume("characters");
        let dressed = |value: &str| format!("{value}{stray}");
        kubelet_write(
            &dir,
            &[
                ("client_id", &dressed(CLIENT_ID)),
                ("client_secret", &dressed(&secret())),
                ("token_endpoint", &dressed(&cognito.token_endpoint())),
                ("scopes", &dressed("premium_api/read premium_api/write")),
            ],
        );
        let consumer = start_consumer(dir_settings(&premium.url("/home/premium"), &dir)).await;
        authorized_read_works(&cognito, &consumer, kind).await;
        drop(consumer);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
