//! Scope parsing and whole-entry matching.
//!
//! The `scope` claim of a Cognito access token is a space-separated list. A scope is granted only
//! by an entry equal to it byte for byte: no prefix, suffix, substring or case-folded matches.

/// The scopes granted by a token's `scope` claim, kept as one string of the entries separated
/// by single spaces: that is also the `x-cognito-scopes` value sent with every allowed request,
/// so it is built once per verified token rather than joined per request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(String);

impl Scopes {
    /// Parses a `scope` claim: entries separated by spaces; empty entries (double spaces) ignored.
    pub fn parse(claim: &str) -> Self {
        let entries: Vec<&str> = claim.split(' ').filter(|entry| !entry.is_empty()).collect();
        Self(entries.join(" "))
    }

    /// Whether `scope` is one of the entries, compared whole and case-sensitively.
    pub fn contains(&self, scope: &str) -> bool {
        !scope.is_empty() && self.iter().any(|entry| entry == scope)
    }

    /// The entries in claim order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ').filter(|entry| !entry.is_empty())
    }

    /// Whether no scope was granted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in claim order, separated by single spaces (empty when none).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The scope string Cognito grants for `scope` of the resource server `identifier`
/// (`premium_api`, or a URL such as `https://api.example.com`).
///
/// Cognito renders custom scopes as `{resourceServerIdentifier}/{ScopeName}`, and a scope name
/// cannot contain `/` (ResourceServerScopeType.ScopeName, pattern
/// `[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+`, Cognito API reference). So a value holding a `/` is
/// already a full scope and is returned unchanged; any other value is a scope name and is
/// prefixed with the identifier.
pub fn full_scope(identifier: &str, scope: &str) -> String {
    if scope.contains('/') {
        scope.to_owned()
    } else {
        format!("{identifier}/{scope}")
    }
}

/// The read and write scopes of one resource server, configured alike by both services:
/// `{RESOURCE_SERVER}/read` and `{RESOURCE_SERVER}/write` unless `READ_SCOPE` / `WRITE_SCOPE`
/// give a scope in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceScopes {
    /// The scope reading needs.
    pub read: String,
    /// The scope writing needs.
    pub write: String,
}

/// A configured scope that can never be granted; names the variable it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ScopeConfigError {
    /// The configuration variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl ResourceScopes {
    /// The resource server both services assume unless told otherwise (`RESOURCE_SERVER`): the
    /// AWS sample's `premium_api`.
    pub const DEFAULT_RESOURCE_SERVER: &'static str = "premium_api";

    /// `{resource_server}/read` and `{resource_server}/write`, unchecked (see [`Self::resolve`]
    /// for configuration).
    pub fn of(resource_server: &str) -> Self {
        Self {
            read: full_scope(resource_server, "read"),
            write: full_scope(resource_server, "write"),
        }
    }

    /// Derives the two scopes; blank overrides count as unset and surrounding spaces are trimmed.
    pub fn resolve(
        resource_server: &str,
        read_scope: Option<&str>,
        write_scope: Option<&str>,
    ) -> Result<Self, ScopeConfigError> {
        let resource_server = resource_server.trim();
        let scope = |full: Option<&str>, variable: &'static str, suffix: &str| match full
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(scope) => checked_scope_token(variable, scope.to_owned()),
            None if resource_server.is_empty() => Err(ScopeConfigError {
                variable: "RESOURCE_SERVER",
                problem: "must not be empty",
            }),
            None => checked_scope_token("RESOURCE_SERVER", full_scope(resource_server, suffix)),
        };
        Ok(Self {
            read: scope(read_scope, "READ_SCOPE", "read")?,
            write: scope(write_scope, "WRITE_SCOPE", "write")?,
        })
    }
}

impl Default for ResourceScopes {
    /// The scopes of [`ResourceScopes::DEFAULT_RESOURCE_SERVER`].
    fn default() -> Self {
        Self::of(Self::DEFAULT_RESOURCE_SERVER)
    }
}

/// Whether `scope` is a scope token that can be granted and named in a challenge: RFC 6749
/// section 3.3 scope tokens are printable ASCII without spaces, quotes or backslashes, and
/// anything else could never be granted, nor written into a `WWW-Authenticate` header.
pub fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
}

fn checked_scope_token(variable: &'static str, scope: String) -> Result<String, ScopeConfigError> {
    if is_scope_token(&scope) {
        Ok(scope)
    } else {
        Err(ScopeConfigError {
            variable,
            problem: "a scope is printable ASCII without spaces, quotes or backslashes",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_scopes_are_what_resolve_derives_with_nothing_set() {
        assert_eq!(
            ResourceScopes::default(),
            ResourceScopes::resolve(ResourceScopes::DEFAULT_RESOURCE_SERVER, None, None).unwrap()
        );
        assert_eq!(ResourceScopes::default().read, "premium_api/read");
        assert_eq!(
            ResourceScopes::of("https://api.example.com").write,
            "https://api.example.com/write"
        );
    }

    #[test]
    fn scope_names_are_qualified_and_full_scopes_kept() {
        assert_eq!(full_scope("premium_api", "read"), "premium_api/read");
        assert_eq!(
            full_scope("premium_api", "premium_api/read"),
            "premium_api/read"
        );
        assert_eq!(
            full_scope("https://api.example.com", "write"),
            "https://api.example.com/write"
        );
        assert_eq!(
            full_scope("https://api.example.com", "https://api.example.com/write"),
            "https://api.example.com/write"
        );
        // A full scope of another resource server is a full scope all the same.
        assert_eq!(
            full_scope("premium_api", "other_api/read"),
            "other_api/read"
        );
    }

    #[test]
    fn resource_scopes_derive_unless_given_in_full() {
        let derived = ResourceScopes::resolve(" premium_api ", None, Some("  ")).unwrap();
        assert_eq!(derived.read, "premium_api/read");
        assert_eq!(derived.write, "premium_api/write");
        let given = ResourceScopes::resolve("", Some("a/read"), Some(" b/write ")).unwrap();
        assert_eq!(
            (given.read.as_str(), given.write.as_str()),
            ("a/read", "b/write")
        );
    }

    #[test]
    fn unusable_resource_scopes_name_the_variable() {
        let variable = |r: &str, read: Option<&str>, write: Option<&str>| {
            ResourceScopes::resolve(r, read, write)
                .unwrap_err()
                .variable
        };
        assert_eq!(variable("", None, None), "RESOURCE_SERVER");
        assert_eq!(variable("", Some("a/read"), None), "RESOURCE_SERVER");
        assert_eq!(variable("premium api", None, None), "RESOURCE_SERVER");
        assert_eq!(variable("p", Some("a read"), None), "READ_SCOPE");
        assert_eq!(variable("p", None, Some("w\"w")), "WRITE_SCOPE");
    }

    #[test]
    fn whole_entries_match() {
        let scopes = Scopes::parse("premium_api/read premium_api/write");
        assert!(scopes.contains("premium_api/read"));
        assert!(scopes.contains("premium_api/write"));
        assert_eq!(
            scopes.iter().collect::<Vec<_>>(),
            ["premium_api/read", "premium_api/write"]
        );
    }

    #[test]
    fn look_alikes_do_not_match() {
        for claim in [
            "premium_api/readx",
            "xpremium_api/read",
            "premium_api/READ",
            "PREMIUM_API/read",
            "premium_api/rea",
            "premium_api",
            "premium_api/read/",
            "premium_api/read,premium_api/write",
            "premium_api/read\tpremium_api/write",
            " premium_api/read\u{a0}",
            "premium_api%2Fread",
        ] {
            assert!(
                !Scopes::parse(claim).contains("premium_api/read"),
                "{claim:?} must not grant premium_api/read"
            );
        }
    }

    #[test]
    fn extra_spaces_are_separators_not_entries() {
        let scopes = Scopes::parse("  premium_api/write   premium_api/read ");
        assert!(scopes.contains("premium_api/read"));
        assert_eq!(scopes.iter().count(), 2);
        assert_eq!(scopes.as_str(), "premium_api/write premium_api/read");
        assert!(!scopes.contains(""));
    }

    #[test]
    fn empty_claim_grants_nothing() {
        let scopes = Scopes::parse("");
        assert!(scopes.is_empty());
        assert!(!scopes.contains("premium_api/read"));
    }
}
