//! The `CognitoResourceServer` custom resource (`cognito-m2m.dev/v1alpha1`), exactly as in the
//! contract: a Cognito resource server (an OAuth2 resource server and its custom scopes) of a user
//! pool, and what a valid spec means.
//!
//! Rules come from Cognito's CreateResourceServer reference: the identifier is 1-256 characters of
//! `[\x21\x23-\x5B\x5D-\x7E]`, the name 1-256 of `[\w\s+=,.@-]`, a scope name 1-256 of
//! `[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]` (no `/`), a description 1-256, at most 100 scopes.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cognito_api::ResourceServer;
use crate::managed::DeletionPolicy;

/// Most scopes one resource server may define (Cognito's limit).
pub const MAX_SCOPES: usize = 100;

/// Desired state: a resource server of a user pool with its custom scopes.
// The printcolumn(...) groups repeat `type_ = ...` legitimately; clippy sees duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "cognito-m2m.dev",
    version = "v1alpha1",
    kind = "CognitoResourceServer",
    plural = "cognitoresourceservers",
    shortname = "cogrs",
    namespaced,
    status = "CognitoResourceServerStatus",
    doc = "An Amazon Cognito resource server (an OAuth2 API and its custom scopes) that the operator creates, keeps and deletes",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(name = "Identifier", type_ = "string", json_path = ".spec.identifier"),
    printcolumn(name = "Pool", type_ = "string", json_path = ".spec.userPoolId"),
    printcolumn(
        name = "Reason",
        type_ = "string",
        priority = 1,
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct CognitoResourceServerSpec {
    /// AWS region of the user pool; the operator's region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The user pool id, e.g. `us-east-1_AbCdEf123`.
    pub user_pool_id: String,
    /// The resource server identifier, the prefix of its scopes (`premium_api` gives
    /// `premium_api/read`); an API name or URL. Immutable once created.
    pub identifier: String,
    /// A friendly name; the identifier when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The custom scopes (at most 100).
    #[serde(default)]
    pub scopes: Vec<ResourceServerScope>,
    /// `Delete` (default): the resource server is deleted in Cognito with this resource;
    /// `Retain`: it is left in the pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
}

/// One custom scope of a resource server.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct ResourceServerScope {
    /// The scope name without the identifier (`read`); no `/`.
    pub name: String,
    /// What the scope allows; the name when absent (Cognito requires one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Observed state.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CognitoResourceServerStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The identifier of the resource server this resource created or adopted in Cognito (what
    /// deletion removes; `spec.identifier` may not move away from it). Written before the
    /// resource server is created, so one created just before a crash is still known as ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// The user pool holding that resource server (`spec.userPoolId` may not move away from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// The full scope strings Cognito grants (`premium_api/read`), as app clients name them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// When Cognito was last seen (or made) to match the spec; the next check is due one
    /// resync interval later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<Time>,
    /// The `Ready` condition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// Why a resource server spec cannot be acted on; the message goes to the status as is.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResourceServerSpecError {
    /// A required string is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A field breaks Cognito's length or character rules.
    #[error("{field} {value:?} is not allowed by Cognito: {rule}")]
    Invalid {
        /// The field, as the spec spells it.
        field: String,
        /// The offending value.
        value: String,
        /// The rule (from Cognito's API reference).
        rule: &'static str,
    },
    /// More scopes than Cognito allows.
    #[error("spec.scopes has {0} entries; Cognito allows at most {MAX_SCOPES}")]
    TooManyScopes(usize),
    /// Two scopes share a name.
    #[error("spec.scopes names {0:?} twice")]
    DuplicateScope(String),
    /// The identifier moved away from the resource server already created.
    #[error(
        "spec.identifier is immutable: this resource manages {created:?}; delete and recreate it to use {requested:?}"
    )]
    IdentifierChanged {
        /// The identifier in Cognito.
        created: String,
        /// The identifier the spec now asks for.
        requested: String,
    },
    /// The user pool moved away from the one holding the resource server already created.
    #[error(
        "spec.userPoolId is immutable: this resource manages a resource server in {created:?}; delete and recreate it to use {requested:?}"
    )]
    UserPoolChanged {
        /// The pool holding the resource server.
        created: String,
        /// The pool the spec now asks for.
        requested: String,
    },
}

/// Cognito's resource server name alphabet, `[\w\s+=,.@-]`.
fn name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c)
}

fn in_ranges(c: char, ranges: &[(char, char)]) -> bool {
    ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c))
}

fn check(
    field: String,
    value: &str,
    ok: impl Fn(char) -> bool,
    rule: &'static str,
) -> Result<(), ResourceServerSpecError> {
    let len = value.chars().count();
    if !(1..=256).contains(&len) || !value.chars().all(ok) {
        return Err(ResourceServerSpecError::Invalid {
            field,
            value: value.to_owned(),
            rule,
        });
    }
    Ok(())
}

impl CognitoResourceServerSpec {
    /// The name Cognito gets: `spec.name`, else the identifier with each character a name may
    /// not hold (a URL's `:` and `/`) replaced by `-`.
    pub fn display_name(&self) -> String {
        match self
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            Some(name) => name.to_owned(),
            None => self
                .identifier
                .trim()
                .chars()
                .map(|c| if name_char(c) { c } else { '-' })
                .collect(),
        }
    }

    /// The deletion policy, `Delete` when absent.
    pub fn deletion_policy(&self) -> DeletionPolicy {
        self.deletion_policy.unwrap_or_default()
    }

    /// The full scope strings (`{identifier}/{name}`) this spec defines, in spec order.
    pub fn full_scopes(&self) -> Vec<String> {
        let identifier = self.identifier.trim();
        self.scopes
            .iter()
            .map(|s| format!("{identifier}/{}", s.name.trim()))
            .collect()
    }

    /// The resource server Cognito should hold: identifier, name and scopes (each scope's
    /// description defaulted to its name).
    pub fn desired(&self) -> ResourceServer {
        ResourceServer {
            identifier: self.identifier.trim().to_owned(),
            name: self.display_name(),
            scopes: self
                .scopes
                .iter()
                .map(|s| (s.name.trim().to_owned(), s.description_or_name().to_owned()))
                .collect(),
        }
    }

    /// Checks that the spec still names the resource server recorded in `status` (the
    /// identifier and user pool are immutable once claimed), so an edit can never make this
    /// resource change or delete another resource server.
    pub fn check_claim(
        &self,
        status: Option<&CognitoResourceServerStatus>,
    ) -> Result<(), ResourceServerSpecError> {
        let Some(status) = status else {
            return Ok(());
        };
        if let Some(created) = &status.identifier
            && created != self.identifier.trim()
        {
            return Err(ResourceServerSpecError::IdentifierChanged {
                created: created.clone(),
                requested: self.identifier.trim().to_owned(),
            });
        }
        if let Some(created) = &status.user_pool_id
            && created != self.user_pool_id.trim()
        {
            return Err(ResourceServerSpecError::UserPoolChanged {
                created: created.clone(),
                requested: self.user_pool_id.trim().to_owned(),
            });
        }
        Ok(())
    }

    /// Checks the spec against Cognito's rules before any call, so a bad spec is reported
    /// naming the field rather than as Cognito's InvalidParameterException.
    pub fn validate(&self) -> Result<(), ResourceServerSpecError> {
        if self.user_pool_id.trim().is_empty() {
            return Err(ResourceServerSpecError::Empty("spec.userPoolId"));
        }
        if self.identifier.trim().is_empty() {
            return Err(ResourceServerSpecError::Empty("spec.identifier"));
        }
        check(
            "spec.identifier".into(),
            self.identifier.trim(),
            |c| in_ranges(c, &[('\x21', '\x21'), ('\x23', '\x5B'), ('\x5D', '\x7E')]),
            "1-256 printable ASCII characters without space, '\"' or '\\'",
        )?;
        check(
            "spec.name".into(),
            &self.display_name(),
            name_char,
            "1-256 letters, digits, spaces or _+=,.@-",
        )?;
        if self.scopes.len() > MAX_SCOPES {
            return Err(ResourceServerSpecError::TooManyScopes(self.scopes.len()));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, scope) in self.scopes.iter().enumerate() {
            let name = scope.name.trim();
            check(
                format!("spec.scopes[{i}].name"),
                name,
                |c| {
                    in_ranges(
                        c,
                        &[
                            ('\x21', '\x21'),
                            ('\x23', '\x2E'),
                            ('\x30', '\x5B'),
                            ('\x5D', '\x7E'),
                        ],
                    )
                },
                "1-256 printable ASCII characters without space, '\"', '/' or '\\'",
            )?;
            if let Some(description) = &scope.description {
                check(
                    format!("spec.scopes[{i}].description"),
                    description.trim(),
                    |c| !c.is_control(),
                    "1-256 characters",
                )?;
            }
            if !seen.insert(name) {
                return Err(ResourceServerSpecError::DuplicateScope(name.to_owned()));
            }
        }
        Ok(())
    }
}

impl ResourceServerScope {
    /// The description Cognito gets: the spec's, else the scope name.
    pub fn description_or_name(&self) -> &str {
        self.description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .unwrap_or(self.name.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> CognitoResourceServerSpec {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn contract_example_parses_and_gives_full_scopes() {
        let s = spec(
            r#"
region: us-east-1
userPoolId: us-east-1_AbCdEf123
identifier: premium_api
name: Premium API
scopes:
  - {name: read, description: Read premium content}
  - {name: write, description: Write premium content}
deletionPolicy: Delete
"#,
        );
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.full_scopes(), ["premium_api/read", "premium_api/write"]);
        assert_eq!(s.display_name(), "Premium API");
        assert_eq!(s.deletion_policy(), DeletionPolicy::Delete);
    }

    #[test]
    fn defaults_name_description_and_policy() {
        let s = spec("userPoolId: p\nidentifier: https://api.example.com\nscopes: [{name: read}]");
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.display_name(), "https---api.example.com");
        assert_eq!(s.scopes[0].description_or_name(), "read");
        assert_eq!(s.deletion_policy(), DeletionPolicy::Delete);
        assert_eq!(s.full_scopes(), ["https://api.example.com/read"]);
    }

    #[test]
    fn cognito_rules_are_checked_naming_the_field() {
        let cases = [
            ("userPoolId: ''\nidentifier: a", "spec.userPoolId"),
            ("userPoolId: p\nidentifier: ' '", "spec.identifier"),
            ("userPoolId: p\nidentifier: 'a b'", "spec.identifier"),
            (
                "userPoolId: p\nidentifier: a\nscopes: [{name: 'a/b'}]",
                "spec.scopes[0].name",
            ),
            ("userPoolId: p\nidentifier: a\nname: 'x;y'", "spec.name"),
            (
                "userPoolId: p\nidentifier: a\nscopes: [{name: r}, {name: r}]",
                "twice",
            ),
        ];
        for (yaml, needle) in cases {
            let err = spec(yaml).validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{yaml}: {err}");
        }
        let long = "x".repeat(257);
        let err = spec(&format!("userPoolId: p\nidentifier: {long}"))
            .validate()
            .unwrap_err();
        assert!(matches!(err, ResourceServerSpecError::Invalid { .. }));
        let many: Vec<String> = (0..101).map(|i| format!("{{name: s{i}}}")).collect();
        let err = spec(&format!(
            "userPoolId: p\nidentifier: a\nscopes: [{}]",
            many.join(",")
        ))
        .validate()
        .unwrap_err();
        assert_eq!(err, ResourceServerSpecError::TooManyScopes(101));
    }

    #[test]
    fn identifier_and_pool_are_immutable_once_claimed() {
        let s = spec("userPoolId: p\nidentifier: api\nscopes: [{name: read}]");
        assert_eq!(s.check_claim(None), Ok(()));
        let mut status = CognitoResourceServerStatus::default();
        assert_eq!(s.check_claim(Some(&status)), Ok(()));
        status.identifier = Some("api".into());
        status.user_pool_id = Some("p".into());
        assert_eq!(s.check_claim(Some(&status)), Ok(()));
        status.identifier = Some("old_api".into());
        let err = s.check_claim(Some(&status)).unwrap_err();
        assert!(
            err.to_string().contains("spec.identifier is immutable"),
            "{err}"
        );
        status.identifier = Some("api".into());
        status.user_pool_id = Some("other".into());
        let err = s.check_claim(Some(&status)).unwrap_err();
        assert!(
            err.to_string().contains("spec.userPoolId is immutable"),
            "{err}"
        );
        assert_eq!(
            s.desired(),
            ResourceServer {
                identifier: "api".into(),
                name: "api".into(),
                scopes: vec![("read".into(), "read".into())],
            }
        );
    }
}
