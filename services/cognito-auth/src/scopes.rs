//! Scope parsing and whole-entry matching.
//!
//! The `scope` claim of a Cognito access token is a space-separated list. A scope is granted only
//! by an entry equal to it byte for byte: no prefix, suffix, substring or case-folded matches.

/// The scopes granted by a token's `scope` claim.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a `scope` claim: entries separated by spaces; empty entries (double spaces) ignored.
    pub fn parse(claim: &str) -> Self {
        Self(
            claim
                .split(' ')
                .filter(|entry| !entry.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Whether `scope` is one of the entries, compared whole and case-sensitively.
    pub fn contains(&self, scope: &str) -> bool {
        !scope.is_empty() && self.0.iter().any(|entry| entry == scope)
    }

    /// The entries in claim order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Whether no scope was granted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(!scopes.contains(""));
    }

    #[test]
    fn empty_claim_grants_nothing() {
        let scopes = Scopes::parse("");
        assert!(scopes.is_empty());
        assert!(!scopes.contains("premium_api/read"));
    }
}
