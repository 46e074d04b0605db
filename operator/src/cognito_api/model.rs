//! The Cognito objects the operator manages, as plain values: what it asks for and what
//! Cognito describes, free of SDK types so reconcilers and their tests need no SDK.

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;

/// The one OAuth flow a managed app client allows (RFC 6749 section 4.4).
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

/// Cognito's default access token lifetime when a client sets none (UserPoolClientType).
pub const DEFAULT_ACCESS_TOKEN_VALIDITY: Duration = Duration::from_secs(3600);

/// A user pool, and the Region whose endpoint serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPoolRef {
    /// AWS Region (`us-east-1`).
    pub region: String,
    /// User pool id (`us-east-1_AbCdEf123`).
    pub user_pool_id: String,
}

/// A resource server: what CreateResourceServer takes and DescribeResourceServer returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceServer {
    /// The identifier (scope prefix).
    pub identifier: String,
    /// The friendly name.
    pub name: String,
    /// `(ScopeName, ScopeDescription)` pairs.
    pub scopes: Vec<(String, String)>,
}

impl ResourceServer {
    /// Whether `other` has the same name and scopes (in any order).
    pub fn same_as(&self, other: &ResourceServer) -> bool {
        let sorted = |s: &[(String, String)]| {
            let mut s = s.to_vec();
            s.sort();
            s
        };
        self.identifier == other.identifier
            && self.name == other.name
            && sorted(&self.scopes) == sorted(&other.scopes)
    }
}

/// The app client the operator wants: a confidential client for the client-credentials flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppClientSettings {
    /// `ClientName`.
    pub client_name: String,
    /// `AllowedOAuthScopes`: full scope strings.
    pub scopes: Vec<String>,
    /// `AccessTokenValidity` (sent in minutes).
    pub access_token_validity: Duration,
}

/// An app client as DescribeUserPoolClient (or CreateUserPoolClient) returns it.
#[derive(Clone, PartialEq, Eq)]
pub struct AppClient {
    /// `ClientId`.
    pub client_id: String,
    /// `ClientName`.
    pub client_name: String,
    /// `ClientSecret` (one of the client's secrets; never logged).
    pub client_secret: Option<String>,
    /// `AllowedOAuthFlows`.
    pub allowed_oauth_flows: Vec<String>,
    /// `AllowedOAuthScopes`.
    pub allowed_oauth_scopes: Vec<String>,
    /// `AllowedOAuthFlowsUserPoolClient`.
    pub allowed_oauth_flows_user_pool_client: bool,
    /// `AccessTokenValidity` in its `TokenValidityUnits`, as a duration (Cognito's default when
    /// unset).
    pub access_token_validity: Duration,
    /// `CreationDate`.
    pub creation_date: Option<Timestamp>,
}

impl fmt::Debug for AppClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppClient")
            .field("client_id", &self.client_id)
            .field("client_name", &self.client_name)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("allowed_oauth_flows", &self.allowed_oauth_flows)
            .field("allowed_oauth_scopes", &self.allowed_oauth_scopes)
            .field(
                "allowed_oauth_flows_user_pool_client",
                &self.allowed_oauth_flows_user_pool_client,
            )
            .field("access_token_validity", &self.access_token_validity)
            .field("creation_date", &self.creation_date)
            .finish()
    }
}

impl AppClient {
    /// What differs from `wanted` (empty when nothing): the drift an update corrects. Scopes
    /// compare as sets, as Cognito does not promise an order.
    pub fn drift_from(&self, wanted: &AppClientSettings) -> Vec<&'static str> {
        let mut drift = Vec::new();
        if self.client_name != wanted.client_name {
            drift.push("ClientName");
        }
        if self.allowed_oauth_flows != [CLIENT_CREDENTIALS] {
            drift.push("AllowedOAuthFlows");
        }
        if !self.allowed_oauth_flows_user_pool_client {
            drift.push("AllowedOAuthFlowsUserPoolClient");
        }
        let set = |s: &[String]| s.iter().cloned().collect::<std::collections::BTreeSet<_>>();
        if set(&self.allowed_oauth_scopes) != set(&wanted.scopes) {
            drift.push("AllowedOAuthScopes");
        }
        if self.access_token_validity != wanted.access_token_validity {
            drift.push("AccessTokenValidity");
        }
        drift
    }
}

/// One of an app client's secrets (ListUserPoolClientSecrets, AddUserPoolClientSecret).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret {
    /// `ClientSecretId` (`{client id}--{epoch create time}`).
    pub id: String,
    /// `ClientSecretValue`: only in AddUserPoolClientSecret's answer (never logged).
    pub value: Option<String>,
    /// `ClientSecretCreateDate`.
    pub created: Option<Timestamp>,
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecret")
            .field("id", &self.id)
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .field("created", &self.created)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> AppClient {
        AppClient {
            client_id: "c".into(),
            client_name: "ns-name".into(),
            client_secret: Some("s3cret".into()),
            allowed_oauth_flows: vec![CLIENT_CREDENTIALS.into()],
            allowed_oauth_scopes: vec!["a/write".into(), "a/read".into()],
            allowed_oauth_flows_user_pool_client: true,
            access_token_validity: DEFAULT_ACCESS_TOKEN_VALIDITY,
            creation_date: None,
        }
    }

    fn wanted() -> AppClientSettings {
        AppClientSettings {
            client_name: "ns-name".into(),
            scopes: vec!["a/read".into(), "a/write".into()],
            access_token_validity: DEFAULT_ACCESS_TOKEN_VALIDITY,
        }
    }

    #[test]
    fn drift_names_each_field_and_ignores_scope_order() {
        assert!(client().drift_from(&wanted()).is_empty());
        let mut c = client();
        c.allowed_oauth_flows.push("code".into());
        c.allowed_oauth_scopes.pop();
        c.access_token_validity = Duration::from_secs(300);
        c.allowed_oauth_flows_user_pool_client = false;
        c.client_name = "renamed".into();
        assert_eq!(
            c.drift_from(&wanted()),
            [
                "ClientName",
                "AllowedOAuthFlows",
                "AllowedOAuthFlowsUserPoolClient",
                "AllowedOAuthScopes",
                "AccessTokenValidity"
            ]
        );
    }

    #[test]
    fn secrets_never_show_in_debug() {
        assert!(!format!("{:?}", client()).contains("s3cret"));
        let secret = ClientSecret {
            id: "c--1".into(),
            value: Some("s3cret".into()),
            created: None,
        };
        assert!(!format!("{secret:?}").contains("s3cret"));
    }

    #[test]
    fn resource_servers_compare_scopes_as_sets() {
        let a = ResourceServer {
            identifier: "api".into(),
            name: "API".into(),
            scopes: vec![("read".into(), "r".into()), ("write".into(), "w".into())],
        };
        let mut b = a.clone();
        b.scopes.reverse();
        assert!(a.same_as(&b));
        b.scopes[0].1 = "changed".into();
        assert!(!a.same_as(&b));
    }
}
