//! Development and tests only: the user pool itself, its name (CreateUserPool, DeleteUserPool)
//! and its prefix domain (CreateUserPoolDomain, DeleteUserPoolDomain, DescribeUserPoolDomain),
//! with the rules Cognito applies to them and moto does not: the `Domain` pattern and length of
//! the CreateUserPoolDomain page of the Cognito API reference, the reserved words a prefix may
//! not contain, one prefix domain per pool, and no deleting a pool that still has a domain.
//!
//! local-cognito serves one pool, whose id is configured at startup: CreateUserPool names that
//! pool (once) instead of making another, so a script written for Cognito runs unchanged.

use serde::Serialize;

use crate::pool::constraints::{check_friendly_name, check_length};
use crate::pool::{Pool, PoolError};

/// Words a prefix domain may not contain anywhere, as Cognito refuses them
/// (`InvalidParameterException: Domain cannot contain reserved word: aws`, the message Cognito
/// answers CreateUserPoolDomain with; the console states the same rule for its prefix field).
pub const RESERVED_DOMAIN_WORDS: [&str; 3] = ["aws", "amazon", "cognito"];

/// The pool as CreateUserPool answers it (the members of `UserPoolType` this stand-in has).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolDescription {
    /// `Id`: the configured pool id.
    pub id: String,
    /// `Name`: the `PoolName` it was created with.
    pub name: String,
    /// `Domain`: its prefix domain, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `CreationDate`, epoch seconds.
    pub creation_date: f64,
    /// `LastModifiedDate`, epoch seconds.
    pub last_modified_date: f64,
}

/// The pool's own settings, beside its resource servers and clients.
#[derive(Debug, Default)]
pub(crate) struct UserPoolSettings {
    /// `PoolName` and creation time, once CreateUserPool named the pool.
    created: Option<(String, f64)>,
    /// The prefix domain.
    domain: Option<String>,
}

/// Checks a prefix domain as Cognito does: 1..=63 characters of `^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`
/// (CreateUserPoolDomain, `Domain`), then none of [`RESERVED_DOMAIN_WORDS`] inside it. Errors
/// are `InvalidParameterException` with Cognito's own messages.
pub fn validate_domain_prefix(domain: &str) -> Result<(), PoolError> {
    check_length("Domain", domain, 63)?;
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !domain.chars().all(allowed) || domain.starts_with('-') || domain.ends_with('-') {
        return Err(PoolError::InvalidParameter(
            "The domain name contains an invalid character. Domain names can only contain \
             lower-case letters, numbers, and hyphens. Please enter a different name that \
             follows this format: ^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$"
                .to_owned(),
        ));
    }
    match RESERVED_DOMAIN_WORDS
        .iter()
        .find(|word| domain.contains(*word))
    {
        Some(word) => Err(PoolError::InvalidParameter(format!(
            "Domain cannot contain reserved word: {word}"
        ))),
        None => Ok(()),
    }
}

impl Pool {
    /// CreateUserPool: names this pool `pool_name` (`[\w\s+=,.@-]`, 1..=128) and describes it.
    /// `LimitExceededException` once it is named: local-cognito serves one pool.
    pub fn create_user_pool(&self, pool_name: &str) -> Result<UserPoolDescription, PoolError> {
        check_friendly_name("PoolName", pool_name, 128)?;
        let now = self.now();
        let mut state = self.state();
        if let Some((name, _)) = &state.user_pool.created {
            return Err(PoolError::LimitExceeded(format!(
                "local-cognito serves one user pool, {}, created already as {name:?}",
                self.user_pool_id
            )));
        }
        state.user_pool.created = Some((pool_name.to_owned(), now));
        Ok(UserPoolDescription {
            id: self.user_pool_id.clone(),
            name: pool_name.to_owned(),
            domain: state.user_pool.domain.clone(),
            creation_date: now,
            last_modified_date: now,
        })
    }

    /// DeleteUserPool: empties the pool (its resource servers and app clients go, its name is
    /// free again). `InvalidParameterException` while it has a domain, as Cognito refuses it.
    pub fn delete_user_pool(&self, user_pool_id: &str) -> Result<(), PoolError> {
        self.check_pool(user_pool_id)?;
        let mut state = self.state();
        if state.user_pool.domain.is_some() {
            return Err(PoolError::InvalidParameter(
                "User pool cannot be deleted. It has a domain configured that should be deleted first."
                    .to_owned(),
            ));
        }
        state.user_pool.created = None;
        state.resource_servers.clear();
        state.clients.clear();
        Ok(())
    }

    /// CreateUserPoolDomain for a prefix domain ([`validate_domain_prefix`]); a custom domain
    /// (`CustomDomainConfig`) or a second domain is `InvalidParameterException`.
    pub fn create_user_pool_domain(
        &self,
        user_pool_id: &str,
        domain: &str,
        custom_domain: bool,
    ) -> Result<(), PoolError> {
        self.check_pool(user_pool_id)?;
        if custom_domain {
            return Err(PoolError::invalid(
                "CustomDomainConfig",
                "local-cognito serves prefix domains only",
            ));
        }
        validate_domain_prefix(domain)?;
        let mut state = self.state();
        if state.user_pool.domain.is_some() {
            return Err(PoolError::InvalidParameter(
                "User pool already has a domain configured.".to_owned(),
            ));
        }
        state.user_pool.domain = Some(domain.to_owned());
        Ok(())
    }

    /// DeleteUserPoolDomain: `InvalidParameterException` unless `domain` is the pool's.
    pub fn delete_user_pool_domain(
        &self,
        user_pool_id: &str,
        domain: &str,
    ) -> Result<(), PoolError> {
        self.check_pool(user_pool_id)?;
        let mut state = self.state();
        if state.user_pool.domain.as_deref() != Some(domain) {
            return Err(PoolError::InvalidParameter(
                "No such domain or user pool exists.".to_owned(),
            ));
        }
        state.user_pool.domain = None;
        Ok(())
    }

    /// The pool's prefix domain, when it has one (DescribeUserPoolDomain).
    pub fn domain(&self) -> Option<String> {
        self.state().user_pool.domain.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::error::invalid_field;

    fn message(result: Result<(), PoolError>) -> String {
        match result {
            Err(PoolError::InvalidParameter(message)) => message,
            other => panic!("expected InvalidParameterException, got {other:?}"),
        }
    }

    #[test]
    fn prefixes_follow_the_domain_pattern() {
        for good in ["m2m-123456789012", "a", "0", "a-b", &"a".repeat(63)] {
            assert_eq!(validate_domain_prefix(good), Ok(()), "{good}");
        }
        assert_eq!(invalid_field(validate_domain_prefix("")), "Domain");
        assert_eq!(
            invalid_field(validate_domain_prefix(&"a".repeat(64))),
            "Domain"
        );
        for bad in [
            "-m2m",
            "m2m-",
            "M2M",
            "m2m.example",
            "m2m_1",
            "m2m 1",
            "m\u{e9}",
        ] {
            assert!(
                message(validate_domain_prefix(bad)).contains("invalid character"),
                "{bad}"
            );
        }
    }

    #[test]
    fn prefixes_never_contain_a_reserved_word() {
        for (prefix, word) in [
            ("cognito-m2m-123456789012", "cognito"),
            ("my-aws-pool", "aws"),
            ("laws", "aws"),
            ("amazon", "amazon"),
            ("myamazoncognito", "amazon"),
        ] {
            assert_eq!(
                message(validate_domain_prefix(prefix)),
                format!("Domain cannot contain reserved word: {word}"),
                "{prefix}"
            );
        }
    }
}
