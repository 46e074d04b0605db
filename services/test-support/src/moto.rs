//! moto_server (PyPI), the AWS services mock, as Secrets Manager; and the secret the AWS sample
//! stores there.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::{Value, json};

use crate::oauth2_mock::PoolClient;
use crate::ports::free_port;
use crate::process::{Process, tool, wait_until_ok};

/// moto_server, the AWS services mock, used as Secrets Manager.
#[derive(Debug)]
pub struct Moto {
    /// The moto process.
    pub process: Process,
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    http: reqwest::Client,
}

/// The AWS region the tests use.
pub const REGION: &str = "us-east-1";

impl Moto {
    /// Starts moto_server on a free port and waits until it answers.
    pub async fn start() -> Self {
        let port = free_port();
        let mut command = Command::new(tool("moto_server"));
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let process = Process::spawn("moto_server", command);
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        wait_until_ok(&http, &format!("{endpoint}/moto-api/"), &process).await;
        Self {
            process,
            endpoint,
            http,
        }
    }

    /// The environment an AWS SDK client needs to talk to this moto.
    pub fn aws_env(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ])
    }

    /// One Secrets Manager call (AWS JSON 1.1 protocol, moto checks no signature): `action`
    /// (`CreateSecret`, `PutSecretValue`...) with `body`; returns moto's JSON answer and panics
    /// with it unless the status is 200.
    pub async fn secrets_manager(&self, action: &str, body: Value) -> Value {
        let response = self
            .http
            .post(&self.endpoint)
            .header("x-amz-target", format!("secretsmanager.{action}"))
            .header("content-type", "application/x-amz-json-1.1")
            // moto routes by the credential scope of the (unchecked) signature.
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=test/20260101/{REGION}/secretsmanager/aws4_request, SignedHeaders=host, Signature=00"
                ),
            )
            .body(body.to_string())
            .send()
            .await
            .expect("moto answers");
        let status = response.status();
        let body: Value = response.json().await.expect("moto answers JSON");
        assert_eq!(status, 200, "{action} failed: {body}");
        body
    }

    /// Creates a Secrets Manager secret and returns its ARN.
    pub async fn create_secret(&self, name: &str, secret_string: &str) -> String {
        let body = json!({ "Name": name, "SecretString": secret_string });
        self.secrets_manager("CreateSecret", body).await["ARN"]
            .as_str()
            .expect("CreateSecret returns an ARN")
            .to_owned()
    }

    /// Stores a new value of secret `secret_id` (name or ARN), as a rotation does.
    pub async fn put_secret_value(&self, secret_id: &str, secret_string: &str) {
        let body = json!({ "SecretId": secret_id, "SecretString": secret_string });
        self.secrets_manager("PutSecretValue", body).await;
    }
}

/// The seed's Secrets Manager JSON for `client` of `pool`, exactly as the AWS sample's stack
/// writes it: the scope *names* beside the resource server identifier.
pub fn seed_secret_json(pool: &str, token_endpoint: &str, client: &PoolClient) -> String {
    json!({
        "user_pool_client_id": client.id,
        "app_client_secret": client.secret,
        "user_pool_oauth2_endpoint": token_endpoint,
        "user_pool_id": pool,
        "unicorn_user_pool_res_srv_identifier": "premium_api",
        "unicorn_read_scope": "read",
        "unicorn_write_scope": "write",
    })
    .to_string()
}
