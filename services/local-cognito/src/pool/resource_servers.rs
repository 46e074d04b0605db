//! Development and tests only: the pool's resource servers and their custom scopes
//! (CreateResourceServer, DescribeResourceServer, UpdateResourceServer, DeleteResourceServer,
//! ListResourceServers; constraints from the `ResourceServerType` and `ResourceServerScopeType`
//! pages of the Cognito API reference).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::pool::constraints::{check_friendly_name, check_length};
use crate::pool::{Page, Pool, PoolError, page};

/// Most scopes one resource server may define (`ResourceServerType.Scopes`).
pub const MAX_SCOPES: usize = 100;

/// A resource server as the API shows it (`ResourceServerType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceServer {
    /// The pool it belongs to.
    pub user_pool_id: String,
    /// Its unique identifier, the prefix of its scopes (`identifier/scope`).
    pub identifier: String,
    /// Its friendly name.
    pub name: String,
    /// The custom scopes it defines.
    #[serde(default)]
    pub scopes: Vec<ResourceServerScope>,
}

/// One custom scope (`ResourceServerScopeType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceServerScope {
    /// The scope's name; tokens carry `identifier/name`.
    pub scope_name: String,
    /// Its description.
    pub scope_description: String,
}

impl ResourceServer {
    /// Whether it defines the full scope `identifier/name`.
    pub fn defines(&self, scope: &str) -> bool {
        scope
            .strip_prefix(self.identifier.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|name| self.scopes.iter().any(|s| s.scope_name == name))
    }

    /// Checks `Identifier`, `Name` and `Scopes` against the API reference's constraints.
    pub fn validate(&self) -> Result<(), PoolError> {
        validate_resource_server(&self.identifier, &self.name, &self.scopes)
    }
}

fn validate_resource_server(
    identifier: &str,
    name: &str,
    scopes: &[ResourceServerScope],
) -> Result<(), PoolError> {
    // Identifier: 1..256 of [\x21\x23-\x5B\x5D-\x7E] (printable ASCII but space, `"` and `\`).
    check_length("Identifier", identifier, 256)?;
    if !identifier
        .bytes()
        .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
    {
        return Err(PoolError::invalid(
            "Identifier",
            "may hold printable ASCII only, without spaces, `\"` or `\\`",
        ));
    }
    check_friendly_name("Name", name, 256)?;
    if scopes.len() > MAX_SCOPES {
        return Err(PoolError::invalid(
            "Scopes",
            format!("{} scopes, at most {MAX_SCOPES}", scopes.len()),
        ));
    }
    for (i, scope) in scopes.iter().enumerate() {
        // ScopeName: 1..256 of [\x21\x23-\x2E\x30-\x5B\x5D-\x7E] (as Identifier, and no `/`).
        check_length("ScopeName", &scope.scope_name, 256)?;
        if !scope
            .scope_name
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x2E | 0x30..=0x5B | 0x5D..=0x7E))
        {
            return Err(PoolError::invalid(
                "ScopeName",
                format!(
                    "{:?} may hold printable ASCII only, without spaces, `\"`, `/` or `\\`",
                    scope.scope_name
                ),
            ));
        }
        check_length("ScopeDescription", &scope.scope_description, 256)?;
        if scopes[..i].iter().any(|s| s.scope_name == scope.scope_name) {
            return Err(PoolError::invalid(
                "Scopes",
                format!("scope {:?} is defined twice", scope.scope_name),
            ));
        }
    }
    Ok(())
}

/// Adds to `servers` the resource servers and scopes that configured clients' scopes
/// (`identifier/name`) imply; scopes without `/` are not custom scopes and imply nothing.
pub(crate) fn derive_from_scopes(
    user_pool_id: &str,
    servers: &mut BTreeMap<String, ResourceServer>,
    scopes: &[String],
) {
    for scope in scopes {
        let Some((identifier, name)) = scope.rsplit_once('/') else {
            continue;
        };
        let server = servers
            .entry(identifier.to_owned())
            .or_insert_with(|| ResourceServer {
                user_pool_id: user_pool_id.to_owned(),
                identifier: identifier.to_owned(),
                name: identifier.to_owned(),
                scopes: Vec::new(),
            });
        if !server.scopes.iter().any(|s| s.scope_name == name) {
            server.scopes.push(ResourceServerScope {
                scope_name: name.to_owned(),
                scope_description: name.to_owned(),
            });
        }
    }
}

fn not_found(identifier: &str) -> PoolError {
    PoolError::ResourceNotFound(format!("Resource server {identifier} does not exist."))
}

impl Pool {
    /// CreateResourceServer: `InvalidParameterException` when its identifier exists already.
    pub fn create_resource_server(
        &self,
        server: ResourceServer,
    ) -> Result<ResourceServer, PoolError> {
        self.check_pool(&server.user_pool_id)?;
        server.validate()?;
        let mut state = self.state();
        if state.resource_servers.contains_key(&server.identifier) {
            return Err(PoolError::InvalidParameter(format!(
                "{} already exists in pool {}.",
                server.identifier, server.user_pool_id
            )));
        }
        state
            .resource_servers
            .insert(server.identifier.clone(), server.clone());
        Ok(server)
    }

    /// DescribeResourceServer.
    pub fn describe_resource_server(
        &self,
        user_pool_id: &str,
        identifier: &str,
    ) -> Result<ResourceServer, PoolError> {
        self.check_pool(user_pool_id)?;
        self.state()
            .resource_servers
            .get(identifier)
            .cloned()
            .ok_or_else(|| not_found(identifier))
    }

    /// UpdateResourceServer: replaces the name and scopes (unset scopes = none, as AWS
    /// documents for every update: unset values return to their defaults).
    pub fn update_resource_server(
        &self,
        server: ResourceServer,
    ) -> Result<ResourceServer, PoolError> {
        self.check_pool(&server.user_pool_id)?;
        server.validate()?;
        let mut state = self.state();
        let current = state
            .resource_servers
            .get_mut(&server.identifier)
            .ok_or_else(|| not_found(&server.identifier))?;
        *current = server.clone();
        Ok(server)
    }

    /// DeleteResourceServer.
    pub fn delete_resource_server(
        &self,
        user_pool_id: &str,
        identifier: &str,
    ) -> Result<(), PoolError> {
        self.check_pool(user_pool_id)?;
        self.state()
            .resource_servers
            .remove(identifier)
            .map(drop)
            .ok_or_else(|| not_found(identifier))
    }

    /// ListResourceServers: `MaxResults` 1..=50.
    pub fn list_resource_servers(
        &self,
        user_pool_id: &str,
        max_results: Option<i32>,
        next_token: Option<&str>,
    ) -> Result<Page<ResourceServer>, PoolError> {
        self.check_pool(user_pool_id)?;
        page(&self.state().resource_servers, max_results, next_token, 50)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::error::invalid_field;

    fn scope(name: &str) -> ResourceServerScope {
        ResourceServerScope {
            scope_name: name.into(),
            scope_description: "d".into(),
        }
    }

    #[test]
    fn resource_server_constraints_name_the_field() {
        assert_eq!(
            validate_resource_server("https://api.example.com", "My API", &[scope("read")]),
            Ok(())
        );
        assert_eq!(
            invalid_field(validate_resource_server("", "n", &[])),
            "Identifier"
        );
        assert_eq!(
            invalid_field(validate_resource_server("a b", "n", &[])),
            "Identifier"
        );
        assert_eq!(
            invalid_field(validate_resource_server(&"i".repeat(257), "n", &[])),
            "Identifier"
        );
        assert_eq!(
            invalid_field(validate_resource_server("api", "bad/name", &[])),
            "Name"
        );
        assert_eq!(
            invalid_field(validate_resource_server("api", "n", &[scope("a/b")])),
            "ScopeName"
        );
        assert_eq!(
            invalid_field(validate_resource_server("api", "n", &[scope("")])),
            "ScopeName"
        );
        assert_eq!(
            invalid_field(validate_resource_server(
                "api",
                "n",
                &[scope("r"), scope("r")]
            )),
            "Scopes"
        );
        let many: Vec<_> = (0..=MAX_SCOPES).map(|i| scope(&format!("s{i}"))).collect();
        assert_eq!(
            invalid_field(validate_resource_server("api", "n", &many)),
            "Scopes"
        );
        let mut empty_description = scope("r");
        empty_description.scope_description.clear();
        assert_eq!(
            invalid_field(validate_resource_server("api", "n", &[empty_description])),
            "ScopeDescription"
        );
    }

    #[test]
    fn configured_scopes_imply_resource_servers() {
        let mut servers = BTreeMap::new();
        derive_from_scopes(
            "p",
            &mut servers,
            &[
                "api/read".into(),
                "api/write".into(),
                "openid".into(),
                "https://x.example/a/b".into(),
            ],
        );
        assert_eq!(servers.len(), 2);
        assert!(servers["api"].defines("api/read") && servers["api"].defines("api/write"));
        assert!(servers["https://x.example/a"].defines("https://x.example/a/b"));
        assert!(!servers["api"].defines("api/delete") && !servers["api"].defines("apix/read"));
    }

    #[test]
    fn an_identifier_exists_once() {
        use std::sync::Arc;

        use cognito_auth::clock::SystemClock;

        let pool = Pool::new("us-east-1_P1", &[], Arc::new(SystemClock));
        let server = ResourceServer {
            user_pool_id: "us-east-1_P1".into(),
            identifier: "api".into(),
            name: "API".into(),
            scopes: vec![scope("read")],
        };
        assert_eq!(
            pool.create_resource_server(server.clone()),
            Ok(server.clone())
        );
        assert!(matches!(
            pool.create_resource_server(server.clone()),
            Err(PoolError::InvalidParameter(m)) if m.contains("already exists")
        ));
        let elsewhere = ResourceServer {
            user_pool_id: "us-east-1_Other1".into(),
            ..server
        };
        assert!(matches!(
            pool.create_resource_server(elsewhere),
            Err(PoolError::ResourceNotFound(_))
        ));
        assert!(matches!(
            pool.describe_resource_server("us-east-1_P1", "other"),
            Err(PoolError::ResourceNotFound(_))
        ));
    }
}
