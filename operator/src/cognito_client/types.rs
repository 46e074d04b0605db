//! The `CognitoClient` custom resource (`cognito-m2m.dev/v1alpha1`), exactly as in the contract:
//! spec, status, and what a valid spec means.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Default `spec.refreshInterval`.
pub const DEFAULT_REFRESH_INTERVAL: &str = "1h";

/// Desired state: where an app client's credentials come from and which Secret receives them.
// The printcolumn(...) groups repeat `type_ = ...` legitimately; clippy sees duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "cognito-m2m.dev",
    version = "v1alpha1",
    kind = "CognitoClient",
    plural = "cognitoclients",
    shortname = "cogc",
    namespaced,
    status = "CognitoClientStatus",
    doc = "Credentials of an Amazon Cognito app client, kept in a Kubernetes Secret",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(name = "Secret", type_ = "string", json_path = ".status.secretName"),
    printcolumn(name = "Client", type_ = "string", json_path = ".status.clientId"),
    printcolumn(name = "Last Sync", type_ = "date", json_path = ".status.lastSyncTime"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct CognitoClientSpec {
    /// AWS region of the user pool; the operator's region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The user pool id, e.g. `us-east-1_AbCdEf123`.
    pub user_pool_id: String,
    /// Full URL of the `/oauth2/token` endpoint; optional when the source has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// Full scope strings the client may request; what the source says when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Where the credentials come from (exactly one of the fields).
    pub source: CredentialsSourceSpec,
    /// Which Secret receives the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetSpec>,
    /// How often the source is read again (`1h`, `15m`, ...); `0` syncs once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = DEFAULT_REFRESH_INTERVAL))]
    pub refresh_interval: Option<String>,
}

/// Exactly one credentials source.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsSourceSpec {
    /// An AWS Secrets Manager secret holding the credentials as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_manager: Option<SecretsManagerSource>,
    /// A Cognito app client whose secret is read with DescribeUserPoolClient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_client: Option<AppClientSource>,
}

/// An AWS Secrets Manager secret in either JSON key set of the contract.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretsManagerSource {
    /// Secret name or ARN.
    pub secret_id: String,
}

/// A Cognito app client of `spec.userPoolId`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppClientSource {
    /// The app client id.
    pub client_id: String,
}

/// The Secret the operator writes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetSpec {
    /// Name of the Secret; `metadata.name` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
}

/// Observed state.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CognitoClientStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The Secret holding the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// The app client id (never the secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// When the Secret was last confirmed to match the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<Time>,
    /// The `Ready` condition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// Why a spec cannot be acted on; the message goes to the status as is.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    /// Both or neither of the source fields are set.
    #[error("spec.source must set exactly one of secretsManager and appClient")]
    SourceNotExactlyOne,
    /// `spec.refreshInterval` is not a duration.
    #[error("spec.refreshInterval {0:?} is not a duration such as 1h, 15m or 0")]
    RefreshInterval(String),
    /// A required string is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
}

/// The source of a validated spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source<'a> {
    /// Secrets Manager secret id.
    SecretsManager(&'a str),
    /// Cognito app client id.
    AppClient(&'a str),
}

impl CognitoClientSpec {
    /// The one source the spec names.
    pub fn source(&self) -> Result<Source<'_>, SpecError> {
        match (&self.source.secrets_manager, &self.source.app_client) {
            (Some(sm), None) if sm.secret_id.trim().is_empty() => {
                Err(SpecError::Empty("spec.source.secretsManager.secretId"))
            }
            (Some(sm), None) => Ok(Source::SecretsManager(sm.secret_id.trim())),
            (None, Some(ac)) if ac.client_id.trim().is_empty() => {
                Err(SpecError::Empty("spec.source.appClient.clientId"))
            }
            (None, Some(ac)) => Ok(Source::AppClient(ac.client_id.trim())),
            _ => Err(SpecError::SourceNotExactlyOne),
        }
    }

    /// The refresh interval; `None` means sync once.
    pub fn refresh_interval(&self) -> Result<Option<Duration>, SpecError> {
        let text = self
            .refresh_interval
            .as_deref()
            .unwrap_or(DEFAULT_REFRESH_INTERVAL)
            .trim();
        let interval = humantime::parse_duration(text)
            .map_err(|_| SpecError::RefreshInterval(text.to_owned()))?;
        Ok((!interval.is_zero()).then_some(interval))
    }

    /// Checks everything the reconciler relies on, so a bad spec is reported before any I/O.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.user_pool_id.trim().is_empty() {
            return Err(SpecError::Empty("spec.userPoolId"));
        }
        self.source()?;
        self.refresh_interval()?;
        Ok(())
    }
}

impl CognitoClient {
    /// Name of the Secret to write: `spec.target.secretName`, else `metadata.name`.
    pub fn secret_name(&self) -> String {
        self.spec
            .target
            .as_ref()
            .and_then(|t| t.secret_name.clone())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| self.metadata.name.clone().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> CognitoClientSpec {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn contract_example_parses() {
        let s = spec(
            r#"
region: us-east-1
userPoolId: us-east-1_AbCdEf123
tokenEndpoint: https://d.auth.us-east-1.amazoncognito.com/oauth2/token
scopes: [premium_api/read, premium_api/write]
source:
  secretsManager: {secretId: "arn:aws:secretsmanager:us-east-1:1:secret:x"}
target:
  secretName: premium-consumer-credentials
refreshInterval: 15m
"#,
        );
        assert_eq!(
            s.source().unwrap(),
            Source::SecretsManager("arn:aws:secretsmanager:us-east-1:1:secret:x")
        );
        assert_eq!(
            s.refresh_interval().unwrap(),
            Some(Duration::from_secs(900))
        );
        assert!(s.validate().is_ok());
    }

    #[test]
    fn refresh_interval_defaults_to_an_hour_and_zero_means_once() {
        let mut s = spec("userPoolId: p\nsource: {appClient: {clientId: c}}");
        assert_eq!(
            s.refresh_interval().unwrap(),
            Some(Duration::from_secs(3600))
        );
        s.refresh_interval = Some("0".into());
        assert_eq!(s.refresh_interval().unwrap(), None);
        s.refresh_interval = Some("1h 30m".into());
        assert_eq!(
            s.refresh_interval().unwrap(),
            Some(Duration::from_secs(5400))
        );
        s.refresh_interval = Some("soon".into());
        assert_eq!(
            s.refresh_interval(),
            Err(SpecError::RefreshInterval("soon".into()))
        );
    }

    #[test]
    fn exactly_one_source() {
        let both = spec(
            "userPoolId: p\nsource: {appClient: {clientId: c}, secretsManager: {secretId: s}}",
        );
        assert_eq!(both.validate(), Err(SpecError::SourceNotExactlyOne));
        let none = spec("userPoolId: p\nsource: {}");
        assert_eq!(none.validate(), Err(SpecError::SourceNotExactlyOne));
        let empty = spec("userPoolId: p\nsource: {appClient: {clientId: ' '}}");
        assert_eq!(
            empty.validate(),
            Err(SpecError::Empty("spec.source.appClient.clientId"))
        );
        let no_pool = spec("userPoolId: ''\nsource: {appClient: {clientId: c}}");
        assert_eq!(no_pool.validate(), Err(SpecError::Empty("spec.userPoolId")));
    }

    #[test]
    fn secret_name_defaults_to_the_resource_name() {
        let mut cc = CognitoClient::new(
            "consumer",
            spec("userPoolId: p\nsource: {appClient: {clientId: c}}"),
        );
        assert_eq!(cc.secret_name(), "consumer");
        cc.spec.target = Some(TargetSpec {
            secret_name: Some("creds".into()),
        });
        assert_eq!(cc.secret_name(), "creds");
    }
}
