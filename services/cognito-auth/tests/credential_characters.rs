//! Credentials holding every character Cognito allows (`[\w+]+`), wrapped in each kind of stray
//! whitespace, reach local-cognito's token endpoint intact from every source of this crate:
//! given directly (as the environment gives them), a mounted folder, and Secrets Manager (moto,
//! with the AWS sample's key set). Needs `moto_server` for the last one.

use std::time::Duration;

use cognito_auth::credentials::{ClientCredentials, CredentialsProvider, DirSource};
use cognito_auth::token_client::TokenClient;
use local_cognito::client_auth::CREDENTIAL_CHARACTERS;
use local_cognito::faults::TestIssuer;
use local_cognito::issuer::{AppClient, Config};

const POOL: &str = "us-east-1_Chars1";
const READ: &str = "premium_api/read";

/// Each kind of stray whitespace a credential picks up on its way, by name.
const STRAYS: [(&str, &str, &str); 6] = [
    ("none", "", ""),
    ("trailing LF (echo | base64)", "", "\n"),
    ("trailing CRLF", "", "\r\n"),
    ("spaces and tabs around", " \t", "\t "),
    ("blank lines after", "", "\n\n"),
    ("byte-order mark", "\u{feff}", "\n"),
];

fn client_id() -> String {
    CREDENTIAL_CHARACTERS.to_owned()
}

/// A chosen secret (AddUserPoolClientSecret) with `+` inside and every allowed character.
fn client_secret() -> String {
    format!("Ab3dEf6hIj+KlMnOp+QrStUv9x{CREDENTIAL_CHARACTERS}")
}

struct LocalCognito {
    issuer: TestIssuer,
}

impl LocalCognito {
    fn start() -> Self {
        let client = AppClient::new(client_id(), client_secret(), [READ]);
        Self {
            issuer: TestIssuer::start(Config::new(POOL, vec![client])),
        }
    }

    /// Asks for a token with what `provider` holds; panics naming `case` if it is refused.
    async fn token_with(&self, provider: &CredentialsProvider, case: &str) {
        let credentials = provider.current().await.unwrap();
        assert_eq!(credentials.client_id, client_id(), "{case}");
        assert_eq!(credentials.client_secret, client_secret(), "{case}");
        let endpoint = credentials
            .token_endpoint
            .clone()
            .unwrap_or_else(|| self.issuer.token_endpoint());
        let token = TokenClient::new(reqwest::Client::new())
            .request_token(
                &endpoint,
                &credentials,
                &[READ.to_owned()],
                Duration::from_secs(5),
            )
            .await;
        assert!(token.is_ok(), "{case}: {token:?}");
    }
}

#[tokio::test]
async fn given_directly_as_the_environment_gives_them() {
    let cognito = LocalCognito::start();
    for (kind, before, after) in STRAYS {
        let credentials = ClientCredentials::new(
            &format!("{before}{}{after}", client_id()),
            &format!("{before}{}{after}", client_secret()),
        )
        .unwrap();
        cognito
            .token_with(&CredentialsProvider::fixed(credentials), kind)
            .await;
    }
}

#[tokio::test]
async fn from_a_mounted_folder() {
    let cognito = LocalCognito::start();
    for (n, (kind, before, after)) in STRAYS.into_iter().enumerate() {
        let dir = std::env::temp_dir().join(format!(
            "credential-characters-{}-{n}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for (key, value) in [
            ("client_id", client_id()),
            ("client_secret", client_secret()),
            ("token_endpoint", cognito.issuer.token_endpoint()),
            ("scopes", READ.to_owned()),
        ] {
            std::fs::write(dir.join(key), format!("{before}{value}{after}")).unwrap();
        }
        let provider = CredentialsProvider::Dir(DirSource::open(&dir).unwrap());
        cognito.token_with(&provider, kind).await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[cfg(feature = "secrets-manager")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_secrets_manager_in_the_samples_key_set() {
    use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
    use cognito_auth::credentials::SecretsManagerSource;

    let cognito = LocalCognito::start();
    let moto = test_support::Moto::start().await;
    let client = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&moto.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .build(),
    );
    for (n, (kind, before, after)) in STRAYS.into_iter().enumerate() {
        let dress = |value: &str| format!("{before}{value}{after}");
        // The AWS sample's exact shape: scope names beside the resource server identifier.
        let secret = serde_json::json!({
            "user_pool_id": dress(POOL),
            "user_pool_client_id": dress(&client_id()),
            "app_client_secret": dress(&client_secret()),
            "user_pool_oauth2_endpoint": dress(&cognito.issuer.token_endpoint()),
            "unicorn_user_pool_res_srv_identifier": dress("premium_api"),
            "unicorn_read_scope": dress("read"),
            "unicorn_write_scope": dress("write"),
        });
        let name = format!("sample-{n}");
        client
            .create_secret()
            .name(&name)
            .secret_string(secret.to_string())
            .send()
            .await
            .unwrap();
        let provider = CredentialsProvider::SecretsManager(SecretsManagerSource::with_client(
            client.clone(),
            &name,
        ));
        let credentials = provider.current().await.unwrap();
        assert_eq!(credentials.scopes, [READ, "premium_api/write"], "{kind}");
        assert_eq!(credentials.user_pool_id.as_deref(), Some(POOL), "{kind}");
        cognito.token_with(&provider, kind).await;
    }
}

#[tokio::test]
async fn an_id_http_basic_cannot_carry_goes_in_the_form_body() {
    // Not a Cognito id (those match `[\w+]+`), but RFC 7617 forbids `:` in a Basic user-id.
    let config = Config::new(POOL, vec![AppClient::new("odd:id", "s3cr+t", [READ])]);
    let issuer = TestIssuer::start(config);
    let token = TokenClient::new(reqwest::Client::new())
        .request_token(
            &issuer.token_endpoint(),
            &ClientCredentials::new("odd:id", "s3cr+t").unwrap(),
            &[READ.to_owned()],
            Duration::from_secs(5),
        )
        .await;
    assert!(token.is_ok(), "{token:?}");
    let sent = issuer.faults.last_request().unwrap().request;
    assert_eq!(
        (sent.basic, sent.client_id.as_deref()),
        (None, Some("odd:id"))
    );
}
