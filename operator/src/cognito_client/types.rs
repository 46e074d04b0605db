//! The `CognitoClient` custom resource (`cognito-m2m.dev/v1alpha1`), exactly as in the contract:
//! spec, status, and what a valid spec means.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::managed::DeletionPolicy;

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
        name = "Rotating",
        type_ = "string",
        priority = 1,
        json_path = ".status.conditions[?(@.type==\"Rotating\")].status"
    ),
    printcolumn(
        name = "Next Rotation",
        type_ = "date",
        priority = 1,
        json_path = ".status.nextRotationTime"
    ),
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
    /// An app client the operator creates, keeps, rotates and deletes in `spec.userPoolId`
    /// (needs `spec.tokenEndpoint` and `spec.scopes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<ManagedSource>,
}

/// An app client the operator owns: created with a generated secret, the `client_credentials`
/// flow only and exactly `spec.scopes`; drift made outside Kubernetes is corrected.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedSource {
    /// The app client's name in Cognito; `{namespace}-{name}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// Access token lifetime (`1h`, `30m`), 5m..24h as Cognito allows; Cognito's default (1h)
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_validity: Option<String>,
    /// `Delete` (default): the app client is deleted with this resource; `Retain`: left in the pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    /// Rotate the client secret on a schedule; absent: never rotated (except on the
    /// `cognito-m2m.dev/rotate-secret` annotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_rotation: Option<SecretRotation>,
}

/// When a managed client's secret is replaced, and how long the old one keeps working.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretRotation {
    /// A new secret this often (`720h`).
    pub interval: String,
    /// How long the old secret keeps working after the Secret holds the new one (`10m`); longer
    /// than the kubelet takes to update mounted Secrets (about a minute by default).
    #[serde(default = "default_overlap")]
    #[schemars(extend("default" = DEFAULT_ROTATION_OVERLAP))]
    pub overlap: String,
}

/// Default `spec.source.managed.secretRotation.overlap`.
pub const DEFAULT_ROTATION_OVERLAP: &str = "10m";

fn default_overlap() -> String {
    DEFAULT_ROTATION_OVERLAP.to_owned()
}

/// Cognito's range for an access token's lifetime (UserPoolClientType.AccessTokenValidity: 5
/// minutes to 1 day).
pub const ACCESS_TOKEN_VALIDITY_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(5 * 60)..=Duration::from_secs(24 * 3600);

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
    /// Managed clients: when the Secret last received a new client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rotation_time: Option<Time>,
    /// Managed clients with `secretRotation`: when the next rotation is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_rotation_time: Option<Time>,
    /// Managed clients: the `cognito-m2m.dev/rotate-secret` annotation value the last rotation
    /// answered, so that only a new value starts another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_request: Option<String>,
    /// The `Ready` condition (and `Rotating` for managed clients).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// Why a spec cannot be acted on; the message goes to the status as is.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    /// More or fewer than one of the source fields are set.
    #[error("spec.source must set exactly one of secretsManager, appClient and managed")]
    SourceNotExactlyOne,
    /// A managed client lacks a field it needs.
    #[error("{0} is required with a managed source")]
    ManagedNeeds(&'static str),
    /// A duration field is not a duration or is out of its range.
    #[error("{field} {value:?} {rule}")]
    Duration {
        /// The field, as the spec spells it.
        field: &'static str,
        /// The offending text.
        value: String,
        /// What it must be.
        rule: &'static str,
    },
    /// The client name breaks Cognito's rules (1-128 of `[\w\s+=,.@-]`).
    #[error(
        "spec.source.managed.clientName {0:?} is not allowed by Cognito: 1-128 letters, digits, spaces or _+=,.@-"
    )]
    ClientName(String),
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
    /// An app client the operator manages.
    Managed(&'a ManagedSource),
}

impl CognitoClientSpec {
    /// The one source the spec names.
    pub fn source(&self) -> Result<Source<'_>, SpecError> {
        let source = &self.source;
        match (&source.secrets_manager, &source.app_client, &source.managed) {
            (Some(sm), None, None) if sm.secret_id.trim().is_empty() => {
                Err(SpecError::Empty("spec.source.secretsManager.secretId"))
            }
            (Some(sm), None, None) => Ok(Source::SecretsManager(sm.secret_id.trim())),
            (None, Some(ac), None) if ac.client_id.trim().is_empty() => {
                Err(SpecError::Empty("spec.source.appClient.clientId"))
            }
            (None, Some(ac), None) => Ok(Source::AppClient(ac.client_id.trim())),
            (None, None, Some(managed)) => Ok(Source::Managed(managed)),
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
        if let Source::Managed(managed) = self.source()? {
            self.validate_managed(managed)?;
        }
        self.refresh_interval()?;
        Ok(())
    }

    fn validate_managed(&self, managed: &ManagedSource) -> Result<(), SpecError> {
        if self
            .token_endpoint
            .as_deref()
            .is_none_or(|e| e.trim().is_empty())
        {
            return Err(SpecError::ManagedNeeds("spec.tokenEndpoint"));
        }
        if self
            .scopes
            .as_ref()
            .is_none_or(|s| s.iter().all(|s| s.trim().is_empty()))
        {
            return Err(SpecError::ManagedNeeds("spec.scopes"));
        }
        if let Some(name) = &managed.client_name {
            let name = name.trim();
            let allowed = |c: char| {
                c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c)
            };
            if !(1..=128).contains(&name.chars().count()) || !name.chars().all(allowed) {
                return Err(SpecError::ClientName(name.to_owned()));
            }
        }
        managed.access_token_validity()?;
        managed.rotation()?;
        Ok(())
    }
}

/// A parsed `secretRotation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationSchedule {
    /// A new secret this often.
    pub interval: Duration,
    /// How long the old secret lives on after the Secret holds the new one.
    pub overlap: Duration,
}

fn parse_duration(field: &'static str, text: &str) -> Result<Duration, SpecError> {
    humantime::parse_duration(text.trim()).map_err(|_| SpecError::Duration {
        field,
        value: text.to_owned(),
        rule: "is not a duration such as 1h or 15m",
    })
}

impl ManagedSource {
    /// The deletion policy, `Delete` when absent.
    pub fn deletion_policy(&self) -> DeletionPolicy {
        self.deletion_policy.unwrap_or_default()
    }

    /// The access token lifetime to set, `None` for Cognito's default; errors outside
    /// [`ACCESS_TOKEN_VALIDITY_RANGE`] or off whole minutes (Cognito's unit here).
    pub fn access_token_validity(&self) -> Result<Option<Duration>, SpecError> {
        const FIELD: &str = "spec.source.managed.accessTokenValidity";
        let Some(text) = self.access_token_validity.as_deref() else {
            return Ok(None);
        };
        let validity = parse_duration(FIELD, text)?;
        if !ACCESS_TOKEN_VALIDITY_RANGE.contains(&validity) || validity.as_secs() % 60 != 0 {
            return Err(SpecError::Duration {
                field: FIELD,
                value: text.to_owned(),
                rule: "must be whole minutes from 5m to 24h (Cognito's limits)",
            });
        }
        Ok(Some(validity))
    }

    /// The rotation schedule, `None` when the secret is rotated only on request.
    pub fn rotation(&self) -> Result<Option<RotationSchedule>, SpecError> {
        let Some(rotation) = &self.secret_rotation else {
            return Ok(None);
        };
        let interval = parse_duration(
            "spec.source.managed.secretRotation.interval",
            &rotation.interval,
        )?;
        let overlap = parse_duration(
            "spec.source.managed.secretRotation.overlap",
            &rotation.overlap,
        )?;
        if overlap.is_zero() {
            return Err(SpecError::Duration {
                field: "spec.source.managed.secretRotation.overlap",
                value: rotation.overlap.clone(),
                rule: "must be positive: callers need time to read the new secret",
            });
        }
        if interval <= overlap {
            return Err(SpecError::Duration {
                field: "spec.source.managed.secretRotation.interval",
                value: rotation.interval.clone(),
                rule: "must be longer than secretRotation.overlap",
            });
        }
        Ok(Some(RotationSchedule { interval, overlap }))
    }
}

impl CognitoClient {
    /// The managed app client's name: `spec.source.managed.clientName`, else
    /// `{namespace}-{name}`.
    pub fn managed_client_name(&self) -> Option<String> {
        let managed = self.spec.source.managed.as_ref()?;
        Some(
            managed
                .client_name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    format!(
                        "{}-{}",
                        self.metadata.namespace.as_deref().unwrap_or_default(),
                        self.metadata.name.as_deref().unwrap_or_default()
                    )
                }),
        )
    }

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
    fn managed_source_needs_endpoint_and_scopes_and_checks_durations() {
        let ok = spec(
            r#"
userPoolId: us-east-1_AbCdEf123
tokenEndpoint: https://d.auth.us-east-1.amazoncognito.com/oauth2/token
scopes: [premium_api/read, premium_api/write]
source:
  managed:
    clientName: content-consumer
    accessTokenValidity: 1h
    deletionPolicy: Retain
    secretRotation: {interval: 720h, overlap: 10m}
target: {secretName: premium-consumer-credentials}
"#,
        );
        assert_eq!(ok.validate(), Ok(()));
        let Source::Managed(managed) = ok.source().unwrap() else {
            panic!("managed source expected");
        };
        assert_eq!(managed.deletion_policy(), DeletionPolicy::Retain);
        assert_eq!(
            managed.access_token_validity().unwrap(),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            managed.rotation().unwrap(),
            Some(RotationSchedule {
                interval: Duration::from_secs(720 * 3600),
                overlap: Duration::from_secs(600),
            })
        );
        let needs = |yaml: &str| spec(yaml).validate().unwrap_err().to_string();
        assert!(
            needs("userPoolId: p\nscopes: [a/b]\nsource: {managed: {}}")
                .contains("spec.tokenEndpoint")
        );
        assert!(
            needs("userPoolId: p\ntokenEndpoint: t\nsource: {managed: {}}").contains("spec.scopes")
        );
        let base = "userPoolId: p\ntokenEndpoint: t\nscopes: [a/b]\nsource: {managed: ";
        for (managed, field) in [
            ("{accessTokenValidity: 4m}", "accessTokenValidity"),
            ("{accessTokenValidity: 25h}", "accessTokenValidity"),
            ("{accessTokenValidity: 90s}", "accessTokenValidity"),
            ("{accessTokenValidity: soon}", "accessTokenValidity"),
            (
                "{secretRotation: {interval: 10m, overlap: 10m}}",
                "secretRotation.interval",
            ),
            (
                "{secretRotation: {interval: 1h, overlap: 0s}}",
                "secretRotation.overlap",
            ),
            ("{clientName: 'a;b'}", "clientName"),
        ] {
            let err = needs(&format!("{base}{managed}}}"));
            assert!(err.contains(field), "{managed}: {err}");
        }
        let defaulted = spec(&format!("{base}{{secretRotation: {{interval: 1h}}}}}}"));
        let Source::Managed(m) = defaulted.source().unwrap() else {
            panic!("managed source expected");
        };
        assert_eq!(
            m.rotation().unwrap().unwrap().overlap,
            Duration::from_secs(600)
        );
        let two = spec("userPoolId: p\nsource: {managed: {}, appClient: {clientId: c}}");
        assert_eq!(two.validate(), Err(SpecError::SourceNotExactlyOne));
    }

    #[test]
    fn managed_client_name_defaults_to_namespace_and_name() {
        let mut cc = CognitoClient::new(
            "consumer",
            spec("userPoolId: p\ntokenEndpoint: t\nscopes: [a/b]\nsource: {managed: {}}"),
        );
        cc.metadata.namespace = Some("team-a".into());
        assert_eq!(cc.managed_client_name().as_deref(), Some("team-a-consumer"));
        cc.spec.source.managed.as_mut().unwrap().client_name = Some(" mine ".into());
        assert_eq!(cc.managed_client_name().as_deref(), Some("mine"));
        cc.spec.source.managed = None;
        assert_eq!(cc.managed_client_name(), None);
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
