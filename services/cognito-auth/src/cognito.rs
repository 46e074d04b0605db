//! Amazon Cognito facts in one place: user pool ids, the two issuer forms of a pool's tokens,
//! where a pool publishes its JWKS and discovery document, and the token endpoint of a user
//! pool domain. Everything else derives these strings from here, never by its own `format!`.
//!
//! Sources:
//! - issuer forms: Cognito API Reference, `IssuerConfigurationType`
//!   (<https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_IssuerConfigurationType.html>):
//!   `ORIGINAL` issuers are `https://cognito-idp.[region].amazonaws.com/[userPoolId]`; `UPDATED`
//!   issuers (recommended for all pools, required for multi-Region replication) are
//!   `https://issuer-cognito-idp.[region].amazonaws.com/[userPoolId]`, where region is the pool's
//!   primary Region.
//! - JWKS and discovery: Cognito Developer Guide, "Verifying JSON web tokens" and "Identity
//!   provider and relying party endpoints"
//!   (<https://docs.aws.amazon.com/cognito/latest/developerguide/federation-endpoints.html>):
//!   `{issuer}/.well-known/jwks.json` and `{issuer}/.well-known/openid-configuration`.
//! - token endpoint: Cognito Developer Guide, "The token issuer endpoint"
//!   (<https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html>):
//!   `https://{user pool domain}/oauth2/token`, where a prefix domain is
//!   `{prefix}.auth.{region}.amazoncognito.com` and a custom domain is any host name.
//! - user pool id: Cognito API Reference, `UserPoolId` (`[\w-]+_[0-9a-zA-Z]+`, 1 to 55
//!   characters); its part before `_` is the pool's Region.

use std::fmt;

/// Path of a pool's JSON Web Key Set under its issuer.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Path of a pool's OpenID Connect discovery document under its issuer.
pub const OPENID_CONFIGURATION_PATH: &str = "/.well-known/openid-configuration";

/// Path of the token endpoint under a user pool domain.
pub const TOKEN_ENDPOINT_PATH: &str = "/oauth2/token";

/// Why a Cognito name is not usable. The message names the value and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CognitoError {
    /// Not of the form `{region}_{id}`.
    #[error("user pool id {0:?} is not of the form REGION_ID (e.g. us-east-1_AbCdEf123)")]
    UserPoolId(String),
    /// Not an AWS Region name such as `us-east-1`.
    #[error("{0:?} is not an AWS Region name (e.g. us-east-1)")]
    Region(String),
    /// The pool id names another Region than the one given.
    #[error("user pool {pool} is in {pool_region}, not {region}")]
    RegionMismatch {
        /// The pool id.
        pool: String,
        /// The Region its id names.
        pool_region: String,
        /// The Region given with it.
        region: String,
    },
    /// A domain prefix Cognito would not accept.
    #[error("{0:?} is not a user pool domain prefix (lower-case letters, digits and -)")]
    DomainPrefix(String),
    /// A custom domain that is not a plain host name.
    #[error("{0:?} is not a host name")]
    CustomDomain(String),
}

/// The issuer forms of a user pool's tokens (`IssuerConfigurationType.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssuerForm {
    /// `ORIGINAL`: `https://cognito-idp.{region}.amazonaws.com/{poolId}`.
    Original,
    /// `UPDATED`: `https://issuer-cognito-idp.{region}.amazonaws.com/{poolId}`.
    Updated,
}

impl IssuerForm {
    /// Both forms, original first.
    pub const ALL: [IssuerForm; 2] = [IssuerForm::Original, IssuerForm::Updated];

    /// The API's name of the form: `ORIGINAL` or `UPDATED`.
    pub fn api_name(self) -> &'static str {
        match self {
            IssuerForm::Original => "ORIGINAL",
            IssuerForm::Updated => "UPDATED",
        }
    }

    /// The first label of the issuer's host name.
    fn host_label(self) -> &'static str {
        match self {
            IssuerForm::Original => "cognito-idp",
            IssuerForm::Updated => "issuer-cognito-idp",
        }
    }
}

impl fmt::Display for IssuerForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// A user pool: its id and the Region its tokens name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserPool {
    region: String,
    id: String,
}

impl UserPool {
    /// The pool with id `id` (e.g. `us-east-1_AbCdEf123`); its Region is the id's prefix.
    ///
    /// Errors: [`CognitoError::UserPoolId`] when the id is not `{region}_{[0-9A-Za-z]+}`.
    pub fn from_id(id: &str) -> Result<Self, CognitoError> {
        let invalid = || CognitoError::UserPoolId(id.to_owned());
        let (region, suffix) = id.split_once('_').ok_or_else(invalid)?;
        if id.len() > 55
            || suffix.is_empty()
            || !suffix.chars().all(|c| c.is_ascii_alphanumeric())
            || !is_region(region)
        {
            return Err(invalid());
        }
        Ok(Self {
            region: region.to_owned(),
            id: id.to_owned(),
        })
    }

    /// The pool `id`, checked to be in `region`: a pool's issuers name the Region of its id, so
    /// any other Region would derive issuers no token carries.
    ///
    /// Errors: [`CognitoError::Region`], [`CognitoError::UserPoolId`],
    /// [`CognitoError::RegionMismatch`].
    pub fn in_region(region: &str, id: &str) -> Result<Self, CognitoError> {
        if !is_region(region) {
            return Err(CognitoError::Region(region.to_owned()));
        }
        let pool = Self::from_id(id)?;
        if pool.region != region {
            return Err(CognitoError::RegionMismatch {
                pool: pool.id,
                pool_region: pool.region,
                region: region.to_owned(),
            });
        }
        Ok(pool)
    }

    /// The pool id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The pool's (primary) Region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The `iss` of this pool's tokens in `form`.
    pub fn issuer(&self, form: IssuerForm) -> String {
        format!(
            "https://{}.{}.amazonaws.com/{}",
            form.host_label(),
            self.region,
            self.id
        )
    }

    /// Both issuers, original first.
    pub fn issuers(&self) -> [(IssuerForm, String); 2] {
        IssuerForm::ALL.map(|form| (form, self.issuer(form)))
    }

    /// Recognises a Cognito issuer URL: its form and pool, or `None` for any other URL.
    pub fn from_issuer(issuer: &str) -> Option<(IssuerForm, UserPool)> {
        let rest = issuer.strip_prefix("https://")?;
        let (host, id) = rest.split_once('/')?;
        let pool = Self::from_id(id).ok()?;
        IssuerForm::ALL
            .into_iter()
            .find(|form| host == format!("{}.{}.amazonaws.com", form.host_label(), pool.region))
            .map(|form| (form, pool))
    }
}

impl fmt::Display for UserPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

/// Where the issuer `issuer` publishes its JWKS: `{issuer}/.well-known/jwks.json`.
pub fn jwks_url(issuer: &str) -> String {
    format!("{}{JWKS_PATH}", issuer.trim_end_matches('/'))
}

/// Where the issuer `issuer` publishes its discovery document.
pub fn openid_configuration_url(issuer: &str) -> String {
    format!(
        "{}{OPENID_CONFIGURATION_PATH}",
        issuer.trim_end_matches('/')
    )
}

/// A user pool domain: where the pool's OAuth 2.0 endpoints (the token endpoint) live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserPoolDomain {
    /// A prefix domain, `{prefix}.auth.{region}.amazoncognito.com`.
    Prefix {
        /// The domain prefix (`CreateUserPoolDomain`'s `Domain` without a dot).
        prefix: String,
        /// The pool's Region.
        region: String,
    },
    /// A custom domain such as `auth.example.com`.
    Custom(String),
}

impl UserPoolDomain {
    /// A prefix domain. Errors: [`CognitoError::DomainPrefix`], [`CognitoError::Region`].
    pub fn prefix(prefix: &str, region: &str) -> Result<Self, CognitoError> {
        // CreateUserPoolDomain: `^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`.
        let valid = !prefix.is_empty()
            && prefix.len() <= 63
            && !prefix.starts_with('-')
            && !prefix.ends_with('-')
            && prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(CognitoError::DomainPrefix(prefix.to_owned()));
        }
        if !is_region(region) {
            return Err(CognitoError::Region(region.to_owned()));
        }
        Ok(Self::Prefix {
            prefix: prefix.to_owned(),
            region: region.to_owned(),
        })
    }

    /// A custom domain (a host name, no scheme or path). Errors: [`CognitoError::CustomDomain`].
    pub fn custom(host: &str) -> Result<Self, CognitoError> {
        let valid = host.contains('.')
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            return Err(CognitoError::CustomDomain(host.to_owned()));
        }
        Ok(Self::Custom(host.to_ascii_lowercase()))
    }

    /// The domain's host name.
    pub fn host(&self) -> String {
        match self {
            UserPoolDomain::Prefix { prefix, region } => {
                format!("{prefix}.auth.{region}.amazoncognito.com")
            }
            UserPoolDomain::Custom(host) => host.clone(),
        }
    }

    /// The full URL of the token endpoint, `https://{domain}/oauth2/token`.
    pub fn token_endpoint(&self) -> String {
        format!("https://{}{TOKEN_ENDPOINT_PATH}", self.host())
    }
}

/// An AWS Region name: lower-case words joined by `-`, the last a number (`us-east-1`,
/// `us-gov-west-1`, `ap-southeast-5`).
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_issuer_forms_derive_from_the_pool() {
        let pool = UserPool::in_region("eu-west-1", "eu-west-1_AbC123").unwrap();
        assert_eq!(
            pool.issuer(IssuerForm::Original),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
        );
        assert_eq!(
            pool.issuer(IssuerForm::Updated),
            "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
        );
        assert_eq!(pool.issuers()[0].0, IssuerForm::Original);
        assert_eq!(pool.issuers()[1].1, pool.issuer(IssuerForm::Updated));
        assert_eq!(IssuerForm::Updated.to_string(), "UPDATED");
    }

    #[test]
    fn issuers_are_recognised_and_others_are_not() {
        let pool = UserPool::from_id("us-gov-west-1_Xy9").unwrap();
        assert_eq!(pool.region(), "us-gov-west-1");
        for (form, issuer) in pool.issuers() {
            assert_eq!(UserPool::from_issuer(&issuer), Some((form, pool.clone())));
        }
        for other in [
            "http://cognito-idp.us-east-1.amazonaws.com/us-east-1_A",
            "https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_A",
            "https://issuer.cognito-idp.us-east-1.amazonaws.com/us-east-1_A",
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_A/",
            "https://cognito-idp.us-east-1.amazonaws.com.evil/us-east-1_A",
            "https://example.com/us-east-1_A",
        ] {
            assert_eq!(UserPool::from_issuer(other), None, "{other}");
        }
    }

    #[test]
    fn pool_ids_and_regions_are_checked() {
        for bad in [
            "nopool",
            "us-east-1_",
            "_abc",
            "us-east-1_a-b",
            "east_1",
            "US-EAST-1_a",
        ] {
            assert_eq!(
                UserPool::from_id(bad),
                Err(CognitoError::UserPoolId(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            UserPool::in_region("us/east", "us-east-1_A"),
            Err(CognitoError::Region("us/east".into()))
        );
        assert_eq!(
            UserPool::in_region("eu-west-1", "us-east-1_A")
                .unwrap_err()
                .to_string(),
            "user pool us-east-1_A is in us-east-1, not eu-west-1"
        );
    }

    #[test]
    fn jwks_and_discovery_live_under_the_issuer() {
        assert_eq!(
            jwks_url("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_A/"),
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_A/.well-known/jwks.json"
        );
        assert_eq!(
            openid_configuration_url("http://127.0.0.1:1/p"),
            "http://127.0.0.1:1/p/.well-known/openid-configuration"
        );
    }

    #[test]
    fn token_endpoints_of_prefix_and_custom_domains() {
        assert_eq!(
            UserPoolDomain::prefix("shop", "eu-west-1")
                .unwrap()
                .token_endpoint(),
            "https://shop.auth.eu-west-1.amazoncognito.com/oauth2/token"
        );
        assert_eq!(
            UserPoolDomain::custom("Auth.Example.com")
                .unwrap()
                .token_endpoint(),
            "https://auth.example.com/oauth2/token"
        );
        assert!(UserPoolDomain::prefix("Shop", "eu-west-1").is_err());
        assert!(UserPoolDomain::prefix("-shop", "eu-west-1").is_err());
        assert!(UserPoolDomain::prefix("shop", "eu").is_err());
        assert!(UserPoolDomain::custom("https://auth.example.com").is_err());
        assert!(UserPoolDomain::custom("localhost").is_err());
    }
}
