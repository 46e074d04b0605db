//! Development and tests only: an app client's settings and Cognito's rules for them
//! (`UserPoolClientType`, `TokenValidityUnitsType` and the CreateUserPoolClient page of the
//! Cognito API reference): token validities and their units, OAuth flows and scopes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::pool::PoolError;
use crate::pool::constraints::check_friendly_name;

/// The OAuth scopes Cognito defines itself; any other scope must be a resource server's.
pub const STANDARD_SCOPES: [&str; 5] = [
    "phone",
    "email",
    "openid",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// The client-credentials flow in `AllowedOAuthFlows`.
pub(crate) const CLIENT_CREDENTIALS: &str = "client_credentials";

/// Cognito's defaults for a client: refresh tokens last 30 days, sessions 3 minutes.
const DEFAULT_REFRESH_TOKEN_VALIDITY: i32 = 30;
const DEFAULT_AUTH_SESSION_VALIDITY: i32 = 3;

/// The settings of an app client that CreateUserPoolClient and UpdateUserPoolClient take and
/// DescribeUserPoolClient returns (`UserPoolClientType`, less its id, name, secret and dates).
/// Update replaces them all: what a request leaves unset returns to its default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientSettings {
    /// In `TokenValidityUnits.RefreshToken` (days by default); 60 minutes..10 years.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_validity: Option<i32>,
    /// In `TokenValidityUnits.AccessToken` (hours by default); 5 minutes..1 day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_validity: Option<i32>,
    /// In `TokenValidityUnits.IdToken` (hours by default); 5 minutes..1 day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_validity: Option<i32>,
    /// The units of the three validities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_validity_units: Option<TokenValidityUnits>,
    /// Attributes the client may read (`ReadAttributes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_attributes: Option<Vec<String>>,
    /// Attributes the client may write (`WriteAttributes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_attributes: Option<Vec<String>>,
    /// Sign-in flows of the user pools API (`ExplicitAuthFlows`); not served here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explicit_auth_flows: Option<Vec<String>>,
    /// `SupportedIdentityProviders`, e.g. `COGNITO`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_identity_providers: Option<Vec<String>>,
    /// Redirect URLs of the code and implicit flows (`CallbackURLs`).
    #[serde(rename = "CallbackURLs", skip_serializing_if = "Option::is_none")]
    pub callback_urls: Option<Vec<String>>,
    /// Sign-out redirect URLs (`LogoutURLs`).
    #[serde(rename = "LogoutURLs", skip_serializing_if = "Option::is_none")]
    pub logout_urls: Option<Vec<String>>,
    /// `DefaultRedirectURI`, one of the callback URLs.
    #[serde(rename = "DefaultRedirectURI", skip_serializing_if = "Option::is_none")]
    pub default_redirect_uri: Option<String>,
    /// `code`, `implicit` and/or `client_credentials`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_o_auth_flows: Option<Vec<String>>,
    /// Standard scopes ([`STANDARD_SCOPES`]) or resource servers' `identifier/name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_o_auth_scopes: Option<Vec<String>>,
    /// Must be true for any OAuth flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_o_auth_flows_user_pool_client: Option<bool>,
    /// `ENABLED` or `LEGACY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prevent_user_existence_errors: Option<String>,
    /// Whether its refresh tokens can be revoked (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_token_revocation: Option<bool>,
    /// `EnablePropagateAdditionalUserContextData`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_propagate_additional_user_context_data: Option<bool>,
    /// Minutes, 3..=15.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_session_validity: Option<i32>,
}

/// `TokenValidityUnitsType`: `seconds`, `minutes`, `hours` or `days` for each token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenValidityUnits {
    /// Unit of `AccessTokenValidity` (default `hours`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Unit of `IdTokenValidity` (default `hours`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Unit of `RefreshTokenValidity` (default `days`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The lifetime `AccessTokenValidity` gives in its unit (hours by default), when set.
pub(crate) fn access_token_lifetime(settings: &ClientSettings) -> Option<Duration> {
    let units = settings.token_validity_units.as_ref();
    let value = settings.access_token_validity?;
    let unit = unit_seconds(
        units
            .and_then(|u| u.access_token.as_deref())
            .unwrap_or("hours"),
    )?;
    Some(Duration::from_secs(u64::try_from(value).ok()? * unit))
}

fn unit_seconds(unit: &str) -> Option<u64> {
    match unit {
        "seconds" => Some(1),
        "minutes" => Some(60),
        "hours" => Some(3600),
        "days" => Some(86_400),
        _ => None,
    }
}

/// Checks `value` in `unit` (or `default_unit`) against `min..=max` seconds, naming `field`.
fn check_validity(
    field: &str,
    value: Option<i32>,
    unit_field: &str,
    unit: Option<&str>,
    default_unit: &str,
    (min, max): (u64, u64),
) -> Result<(), PoolError> {
    let unit_name = unit.unwrap_or(default_unit);
    let unit = unit_seconds(unit_name).ok_or_else(|| {
        PoolError::invalid(
            unit_field,
            format!("{unit_name:?} is none of seconds, minutes, hours, days"),
        )
    })?;
    let Some(value) = value else { return Ok(()) };
    let seconds = u64::try_from(value).map(|v| v * unit);
    if seconds.is_ok_and(|s| (min..=max).contains(&s)) {
        Ok(())
    } else {
        Err(PoolError::invalid(
            field,
            format!(
                "{value} {unit_name} is outside {} to {}",
                humantime::format_duration(Duration::from_secs(min)),
                humantime::format_duration(Duration::from_secs(max))
            ),
        ))
    }
}

/// Checks a client's name and settings against Cognito's rules, in the order a caller would
/// fix them: `ClientName`, the validities (`InvalidParameterException` naming the field), the
/// flows (`InvalidOAuthFlowException`: `client_credentials` needs a secret and
/// `AllowedOAuthFlowsUserPoolClient`, and excludes `code` and `implicit`), then the scopes
/// (`ScopeDoesNotExistException` unless standard or `scope_exists`).
pub fn validate_settings(
    client_name: &str,
    settings: &ClientSettings,
    has_secret: bool,
    scope_exists: impl Fn(&str) -> bool,
) -> Result<(), PoolError> {
    check_friendly_name("ClientName", client_name, 128)?;
    let units = settings.token_validity_units.clone().unwrap_or_default();
    const MINUTES_5_TO_DAY_1: (u64, u64) = (300, 86_400);
    check_validity(
        "AccessTokenValidity",
        settings.access_token_validity,
        "TokenValidityUnits.AccessToken",
        units.access_token.as_deref(),
        "hours",
        MINUTES_5_TO_DAY_1,
    )?;
    check_validity(
        "IdTokenValidity",
        settings.id_token_validity,
        "TokenValidityUnits.IdToken",
        units.id_token.as_deref(),
        "hours",
        MINUTES_5_TO_DAY_1,
    )?;
    // Zero means "the default" (30 days), as Cognito reads an unset value.
    let refresh = settings.refresh_token_validity.filter(|v| *v != 0);
    check_validity(
        "RefreshTokenValidity",
        refresh,
        "TokenValidityUnits.RefreshToken",
        units.refresh_token.as_deref(),
        "days",
        (3600, 3650 * 86_400),
    )?;
    if let Some(minutes) = settings.auth_session_validity
        && !(3..=15).contains(&minutes)
    {
        return Err(PoolError::invalid(
            "AuthSessionValidity",
            format!("{minutes} minutes is outside 3..=15"),
        ));
    }
    let flows = settings.allowed_o_auth_flows.as_deref().unwrap_or_default();
    if let Some(flow) = flows
        .iter()
        .find(|f| !matches!(f.as_str(), "code" | "implicit" | CLIENT_CREDENTIALS))
    {
        return Err(PoolError::invalid(
            "AllowedOAuthFlows",
            format!("{flow:?} is none of code, implicit, client_credentials"),
        ));
    }
    if flows.iter().any(|f| f == CLIENT_CREDENTIALS) {
        if flows.iter().any(|f| f != CLIENT_CREDENTIALS) {
            return Err(PoolError::InvalidOAuthFlow("client_credentials flow can not be selected along with code flow or implicit flow.".into()));
        }
        if settings.allowed_o_auth_flows_user_pool_client != Some(true) {
            return Err(PoolError::InvalidOAuthFlow(
                "client_credentials flow needs AllowedOAuthFlowsUserPoolClient set to true.".into(),
            ));
        }
        if !has_secret {
            return Err(PoolError::InvalidOAuthFlow("client_credentials flow can not be selected if client does not have a client secret.".into()));
        }
    }
    for scope in settings
        .allowed_o_auth_scopes
        .as_deref()
        .unwrap_or_default()
    {
        if !STANDARD_SCOPES.contains(&scope.as_str()) && !scope_exists(scope) {
            return Err(PoolError::ScopeDoesNotExist(format!(
                "Invalid scope requested: {scope}"
            )));
        }
    }
    Ok(())
}

/// `settings` with Cognito's defaults where unset.
pub(crate) fn with_defaults(mut settings: ClientSettings) -> ClientSettings {
    if settings.refresh_token_validity.is_none_or(|v| v == 0) {
        settings.refresh_token_validity = Some(DEFAULT_REFRESH_TOKEN_VALIDITY);
    }
    settings
        .auth_session_validity
        .get_or_insert(DEFAULT_AUTH_SESSION_VALIDITY);
    settings.enable_token_revocation.get_or_insert(true);
    settings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::error::invalid_field;

    fn m2m(scopes: &[&str]) -> ClientSettings {
        ClientSettings {
            allowed_o_auth_flows: Some(vec![CLIENT_CREDENTIALS.into()]),
            allowed_o_auth_flows_user_pool_client: Some(true),
            allowed_o_auth_scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
            ..ClientSettings::default()
        }
    }

    fn check(settings: &ClientSettings) -> Result<(), PoolError> {
        validate_settings("app", settings, true, |s| s == "api/read")
    }

    #[test]
    fn client_name_is_1_to_128_of_its_characters() {
        let settings = ClientSettings::default();
        assert_eq!(
            validate_settings("My app_1+=,.@-", &settings, false, |_| false),
            Ok(())
        );
        assert_eq!(
            invalid_field(validate_settings("", &settings, false, |_| false)),
            "ClientName"
        );
        assert_eq!(
            invalid_field(validate_settings(
                &"a".repeat(129),
                &settings,
                false,
                |_| false
            )),
            "ClientName"
        );
        assert_eq!(
            invalid_field(validate_settings("a/b", &settings, false, |_| false)),
            "ClientName"
        );
    }

    #[test]
    fn access_token_validity_is_5_minutes_to_1_day_in_its_units() {
        let with = |value, unit: Option<&str>| ClientSettings {
            access_token_validity: Some(value),
            token_validity_units: unit.map(|u| TokenValidityUnits {
                access_token: Some(u.into()),
                ..TokenValidityUnits::default()
            }),
            ..m2m(&["api/read"])
        };
        for ok in [
            with(1, None),
            with(24, None),
            with(5, Some("minutes")),
            with(86_400, Some("seconds")),
            with(1, Some("days")),
        ] {
            assert_eq!(check(&ok), Ok(()), "{ok:?}");
        }
        for bad in [
            with(25, None),
            with(0, None),
            with(4, Some("minutes")),
            with(299, Some("seconds")),
            with(2, Some("days")),
            with(-1, Some("hours")),
        ] {
            assert_eq!(invalid_field(check(&bad)), "AccessTokenValidity", "{bad:?}");
        }
        assert_eq!(
            invalid_field(check(&with(1, Some("weeks")))),
            "TokenValidityUnits.AccessToken"
        );
        assert_eq!(
            access_token_lifetime(&with(10, Some("minutes"))),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            access_token_lifetime(&with(2, None)),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(access_token_lifetime(&m2m(&[])), None);
    }

    #[test]
    fn id_refresh_and_session_validities_have_their_ranges() {
        let id = ClientSettings {
            id_token_validity: Some(25),
            ..ClientSettings::default()
        };
        assert_eq!(invalid_field(check(&id)), "IdTokenValidity");
        let refresh = ClientSettings {
            refresh_token_validity: Some(3651),
            ..ClientSettings::default()
        };
        assert_eq!(invalid_field(check(&refresh)), "RefreshTokenValidity");
        let zero = ClientSettings {
            refresh_token_validity: Some(0),
            ..ClientSettings::default()
        };
        assert_eq!(check(&zero), Ok(()));
        let session = ClientSettings {
            auth_session_validity: Some(16),
            ..ClientSettings::default()
        };
        assert_eq!(invalid_field(check(&session)), "AuthSessionValidity");
    }

    #[test]
    fn client_credentials_needs_the_flag_and_a_secret_and_stands_alone() {
        assert_eq!(check(&m2m(&["api/read"])), Ok(()));
        let mut mixed = m2m(&["api/read"]);
        mixed.allowed_o_auth_flows = Some(vec![CLIENT_CREDENTIALS.into(), "code".into()]);
        assert!(matches!(check(&mixed), Err(PoolError::InvalidOAuthFlow(_))));
        let mut no_flag = m2m(&["api/read"]);
        no_flag.allowed_o_auth_flows_user_pool_client = None;
        assert!(matches!(
            check(&no_flag),
            Err(PoolError::InvalidOAuthFlow(_))
        ));
        assert!(matches!(
            validate_settings("app", &m2m(&["api/read"]), false, |_| true),
            Err(PoolError::InvalidOAuthFlow(_))
        ));
        let mut unknown = m2m(&[]);
        unknown.allowed_o_auth_flows = Some(vec!["password".into()]);
        assert_eq!(invalid_field(check(&unknown)), "AllowedOAuthFlows");
    }

    #[test]
    fn scopes_must_be_standard_or_a_resource_servers() {
        assert_eq!(check(&m2m(&["api/read", "openid"])), Ok(()));
        assert_eq!(
            check(&m2m(&["api/read", "api/write"])),
            Err(PoolError::ScopeDoesNotExist(
                "Invalid scope requested: api/write".into()
            ))
        );
    }

    #[test]
    fn defaults_fill_what_is_unset() {
        let settings = with_defaults(ClientSettings::default());
        assert_eq!(settings.refresh_token_validity, Some(30));
        assert_eq!(settings.auth_session_validity, Some(3));
        assert_eq!(settings.enable_token_revocation, Some(true));
        let json = serde_json::to_value(m2m(&["api/read"])).unwrap();
        assert_eq!(json["AllowedOAuthFlowsUserPoolClient"], true);
        assert_eq!(json["AllowedOAuthScopes"][0], "api/read");
        assert!(json.get("CallbackURLs").is_none());
    }
}
