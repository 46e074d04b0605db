//! Where credentials come from: AWS Secrets Manager or a Cognito app client, completed from the
//! spec into everything the Secret holds.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider as cognito;
use aws_sdk_secretsmanager as secretsmanager;
use cognito_auth::cognito::{IssuerForm, UserPool};
use cognito_auth::credentials::ClientCredentials;
use secretsmanager::error::ProvideErrorMetadata;

use crate::crd::{CognitoClientSpec, Source};
use crate::error::SyncError;

/// The region in a Secrets Manager ARN (`arn:aws:secretsmanager:REGION:...`), if it is one.
pub fn arn_region(secret_id: &str) -> Option<&str> {
    let mut parts = secret_id.splitn(5, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("secretsmanager"), Some(region)) if !region.is_empty() => {
            Some(region)
        }
        _ => None,
    }
}

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
    let secret =
        client_secret
            .filter(|s| !s.is_empty())
            .ok_or_else(|| SyncError::SourceInvalid {
                what: format!("app client {client_id}"),
                detail: "the app client has no secret (create it with GenerateSecret)".into(),
            })?;
    Ok(ClientCredentials {
        client_id: client_id.to_owned(),
        client_secret: secret.to_owned(),
        token_endpoint: None,
        scopes: allowed_scopes.to_vec(),
        issuer: None,
        user_pool_id: None,
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
                let region = spec_region
                    .or_else(|| arn_region(secret_id))
                    .map(str::to_owned)
                    .or(default_region)
                    .ok_or(SyncError::NoRegion)?;
                let what = format!("Secrets Manager secret {secret_id}");
                let out = self
                    .secrets_manager(&region)
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
        let c = complete(
            creds(
                r#"{"user_pool_client_id":"id","app_client_secret":"sec",
                    "user_pool_oauth2_endpoint":"https://d/oauth2/token",
                    "unicorn_read_scope":"p/read","unicorn_write_scope":"p/write"}"#,
            ),
            &s,
        );
        let map = c.to_map();
        assert_eq!(map["client_id"], "id");
        assert_eq!(map["client_secret"], "sec");
        assert_eq!(map["token_endpoint"], "https://d/oauth2/token");
        assert_eq!(map["scopes"], "p/read p/write");
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
    fn arn_region_is_found_only_in_arns() {
        assert_eq!(
            arn_region("arn:aws:secretsmanager:eu-central-1:123:secret:x-AbC"),
            Some("eu-central-1")
        );
        assert_eq!(arn_region("plain-name"), None);
        assert_eq!(arn_region("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn app_client_without_secret_is_invalid() {
        let err = from_app_client("c", None, &[]).unwrap_err();
        assert_eq!(err.reason(), Reason::SourceInvalid);
        let ok = from_app_client("c", Some("s"), &["p/read".to_owned()]).unwrap();
        assert_eq!(ok.scopes, ["p/read"]);
        assert_eq!(ok.client_secret, "s");
    }
}
