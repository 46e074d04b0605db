//! Where credentials come from: AWS Secrets Manager or a Cognito app client, completed from the
//! spec into everything the Secret holds.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider as cognito;
use aws_sdk_secretsmanager as secretsmanager;
use cognito_auth::cognito::{IssuerForm, UserPool};
use cognito_auth::credentials::{ClientCredentials, arn_region};
use secretsmanager::error::ProvideErrorMetadata;

use crate::crd::{CognitoClientSpec, Source};
use crate::error::SyncError;

/// Fills in what the spec says over what the source says: the spec's token endpoint and scopes
/// win when set, the user pool id is the spec's, and the issuer is derived when the source has
/// none: the pool's original-form issuer, in the Region its id names (the `ORIGINAL` form is
/// every pool's unless switched; a pool switched to `UPDATED` has its source carry `issuer`).
pub fn complete(mut creds: ClientCredentials, spec: &CognitoClientSpec) -> ClientCredentials {
    if let Some(endpoint) = spec
        .token_endpoint
        .as_ref()
        .filter(|e| !e.trim().is_empty())
    {
        creds.token_endpoint = Some(endpoint.trim().to_owned());
    }
    if let Some(scopes) = spec.scopes.as_ref().filter(|s| !s.is_empty()) {
        creds.scopes = scopes.clone();
    }
    let pool = spec.user_pool_id.trim();
    creds.user_pool_id = Some(pool.to_owned());
    if creds.issuer.is_none() {
        creds.issuer = UserPool::from_id(pool)
            .ok()
            .map(|pool| pool.issuer(IssuerForm::Original));
    }
    creds
}

/// Credentials from a DescribeUserPoolClient answer (before [`complete`]).
pub fn from_app_client(
    client_id: &str,
    client_secret: Option<&str>,
    allowed_scopes: &[String],
) -> Result<ClientCredentials, SyncError> {
    // The same constructor (and normalisation) as every other credentials source.
    let creds =
        ClientCredentials::new(client_id, client_secret.unwrap_or_default()).map_err(|_| {
            SyncError::SourceInvalid {
                what: format!("app client {client_id}"),
                detail: "the app client has no secret (create it with GenerateSecret)".into(),
            }
        })?;
    Ok(ClientCredentials {
        scopes: allowed_scopes.to_vec(),
        ..creds
    })
}

/// AWS clients per region, built from one SDK configuration (default chain or test endpoint).
pub struct AwsSources {
    sdk: SdkConfig,
    secrets_manager: Mutex<HashMap<String, secretsmanager::Client>>,
    cognito: Mutex<HashMap<String, cognito::Client>>,
}

impl AwsSources {
    /// Sources using this SDK configuration.
    pub fn new(sdk: SdkConfig) -> Self {
        Self {
            sdk,
            secrets_manager: Mutex::default(),
            cognito: Mutex::default(),
        }
    }

    fn secrets_manager(&self, region: &str) -> secretsmanager::Client {
        let mut clients = self
            .secrets_manager
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let conf = secretsmanager::config::Builder::from(&self.sdk)
                    .region(secretsmanager::config::Region::new(region.to_owned()))
                    .build();
                secretsmanager::Client::from_conf(conf)
            })
            .clone()
    }

    fn cognito(&self, region: &str) -> cognito::Client {
        let mut clients = self.cognito.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let conf = cognito::config::Builder::from(&self.sdk)
                    .region(cognito::config::Region::new(region.to_owned()))
                    .build();
                cognito::Client::from_conf(conf)
            })
            .clone()
    }

    /// Reads the credentials a (validated) spec points at, completed from the spec.
    pub async fn fetch(&self, spec: &CognitoClientSpec) -> Result<ClientCredentials, SyncError> {
        let default_region = self.sdk.region().map(|r| r.as_ref().to_owned());
        let spec_region = spec
            .region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        match spec.source()? {
            Source::SecretsManager(secret_id) => {
                // The user pool's region (for the issuer), and the secret's: Secrets Manager
                // serves a full ARN only from the ARN's own region, whatever the spec says.
                let region = spec_region
                    .or_else(|| arn_region(secret_id))
                    .map(str::to_owned)
                    .or(default_region)
                    .ok_or(SyncError::NoRegion)?;
                let secret_region = arn_region(secret_id).unwrap_or(&region);
                let what = format!("Secrets Manager secret {secret_id}");
                let out = self
                    .secrets_manager(secret_region)
                    .get_secret_value()
                    .secret_id(secret_id)
                    .send()
                    .await
                    .map_err(|e| SyncError::from_aws(&what, e.code(), e.message()))?;
                let text = out
                    .secret_string()
                    .ok_or_else(|| SyncError::SourceInvalid {
                        what: what.clone(),
                        detail: "the secret holds no SecretString".into(),
                    })?;
                let creds = ClientCredentials::from_secret_json(text)
                    .map_err(|e| SyncError::invalid_credentials(what, e))?;
                Ok(complete(creds, spec))
            }
            Source::AppClient(client_id) => {
                let region = spec_region
                    .map(str::to_owned)
                    .or(default_region)
                    .ok_or(SyncError::NoRegion)?;
                let what = format!("app client {client_id}");
                if spec
                    .token_endpoint
                    .as_deref()
                    .is_none_or(|e| e.trim().is_empty())
                {
                    // Cognito does not tell a client where its token endpoint is.
                    return Err(SyncError::SourceInvalid {
                        what,
                        detail: "spec.tokenEndpoint is required with an appClient source".into(),
                    });
                }
                let out = self
                    .cognito(&region)
                    .describe_user_pool_client()
                    .user_pool_id(spec.user_pool_id.trim())
                    .client_id(client_id)
                    .send()
                    .await
                    .map_err(|e| {
                        use cognito::error::ProvideErrorMetadata as _;
                        SyncError::from_aws(&what, e.code(), e.message())
                    })?;
                let client = out
                    .user_pool_client()
                    .ok_or_else(|| SyncError::SourceNotFound(format!("{what}: not found")))?;
                let creds = from_app_client(
                    client.client_id().unwrap_or(client_id),
                    client.client_secret(),
                    client.allowed_o_auth_scopes(),
                )?;
                Ok(complete(creds, spec))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::Reason;

    fn spec(yaml: &str) -> CognitoClientSpec {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    fn creds(json: &str) -> ClientCredentials {
        ClientCredentials::from_secret_json(json).unwrap()
    }

    #[test]
    fn seed_secret_is_completed_with_issuer_and_pool() {
        let s = spec("userPoolId: us-east-1_X\nsource: {secretsManager: {secretId: s}}");
        // The AWS sample's exact shape: scope names beside the resource server identifier.
        let c = complete(
            creds(
                r#"{"user_pool_id": "us-east-1_Example1", "user_pool_client_id": "id", "app_client_secret": "sec", "user_pool_oauth2_endpoint": "https://d/oauth2/token", "unicorn_user_pool_res_srv_identifier": "premium_api", "unicorn_read_scope": "read", "unicorn_write_scope": "write"}"#,
            ),
            &s,
        );
        let map = c.to_map();
        assert_eq!(map["client_id"], "id");
        assert_eq!(map["client_secret"], "sec");
        assert_eq!(map["token_endpoint"], "https://d/oauth2/token");
        // The Secret holds full scope strings, as the contract promises.
        assert_eq!(map["scopes"], "premium_api/read premium_api/write");
        assert_eq!(
            map["issuer"], "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X",
            "the pool's Region, not the operator's"
        );
        assert_eq!(map["user_pool_id"], "us-east-1_X");
    }

    #[test]
    fn spec_endpoint_and_scopes_win_and_source_issuer_is_kept() {
        let s = spec(
            "userPoolId: p\ntokenEndpoint: https://mine/oauth2/token\nscopes: [a/read]\nsource: {secretsManager: {secretId: s}}",
        );
        let c = complete(
            creds(
                r#"{"client_id":"i","client_secret":"s","token_endpoint":"https://theirs",
                    "scopes":"a/read a/write","issuer":"https://issuer/p"}"#,
            ),
            &s,
        );
        assert_eq!(
            c.token_endpoint.as_deref(),
            Some("https://mine/oauth2/token")
        );
        assert_eq!(c.scopes, ["a/read"]);
        assert_eq!(c.issuer.as_deref(), Some("https://issuer/p"));
    }

    #[test]
    fn what_the_operator_writes_has_no_stray_whitespace() {
        let s = spec("userPoolId: us-east-1_X\nsource: {secretsManager: {secretId: s}}");
        for stray in ["\n", "\r\n", " \t", "\n\n"] {
            let json = serde_json::json!({
                "user_pool_client_id": format!("1example23456789{stray}"),
                "app_client_secret": format!("Ab3dEf6hIj+KlMnOp+QrStUv9x{stray}"),
                "user_pool_oauth2_endpoint": format!("https://d/oauth2/token{stray}"),
                "unicorn_user_pool_res_srv_identifier": format!("premium_api{stray}"),
                "unicorn_read_scope": format!("read{stray}"),
                "unicorn_write_scope": format!("write{stray}"),
            });
            let map = complete(creds(&json.to_string()), &s).to_map();
            assert_eq!(map["client_id"], "1example23456789", "{stray:?}");
            assert_eq!(
                map["client_secret"], "Ab3dEf6hIj+KlMnOp+QrStUv9x",
                "{stray:?}"
            );
            assert_eq!(map["token_endpoint"], "https://d/oauth2/token", "{stray:?}");
            assert_eq!(
                map["scopes"], "premium_api/read premium_api/write",
                "{stray:?}"
            );
            let described =
                from_app_client("1example23456789", Some(&format!("s3cr+t{stray}")), &[]).unwrap();
            assert_eq!(described.client_secret, "s3cr+t", "{stray:?}");
        }
    }

    #[test]
    fn app_client_without_secret_is_invalid() {
        let err = from_app_client("c", None, &[]).unwrap_err();
        assert_eq!(err.reason(), Reason::SourceInvalid);
        let err = from_app_client("c", Some("\n"), &[]).unwrap_err();
        assert_eq!(err.reason(), Reason::SourceInvalid);
        let ok = from_app_client("c", Some("s"), &["p/read".to_owned()]).unwrap();
        assert_eq!(ok.scopes, ["p/read"]);
        assert_eq!(ok.client_secret, "s");
    }
}
