//! The policy file: YAML read with every key's line and column (serde-saphyr's `Spanned`), each
//! entry turned into the policy's types with errors pointing at the key or value at fault.

use serde::Deserialize;
use serde_saphyr::{Location, MessageFormatter, Spanned};

use super::checks::{self, Place};
use super::{Access, DefaultAction, IssuerTrust, Policy, PolicyError, PolicyIssuer, Rule};
use crate::cognito::{CognitoError, UserPool};
use crate::trusted_issuers::IssuerJwks;

type List = Spanned<Vec<Spanned<String>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    issuers: Option<Spanned<Vec<Spanned<IssuerEntry>>>>,
    rules: Option<Vec<Spanned<RuleEntry>>>,
    default: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IssuerEntry {
    user_pool_id: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    issuer: Option<Spanned<String>>,
    jwks_url: Option<Spanned<String>>,
    client_ids: Option<List>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleEntry {
    path: Spanned<String>,
    methods: Option<List>,
    public: Option<Spanned<bool>>,
    scopes: Option<List>,
    all_scopes: Option<List>,
}

/// Builds errors naming `file` and a place in it.
struct Errors<'a> {
    file: &'a str,
}

impl Errors<'_> {
    fn at(&self, location: Location, reason: impl Into<String>) -> PolicyError {
        PolicyError {
            file: self.file.to_owned(),
            line: usize::try_from(location.line()).unwrap_or(usize::MAX),
            column: usize::try_from(location.column()).unwrap_or(usize::MAX),
            reason: reason.into(),
        }
    }
}

/// Parses `yaml` (errors name `file`).
pub(super) fn parse(file: &str, yaml: &str) -> Result<Policy, PolicyError> {
    let errors = Errors { file };
    let document: PolicyFile = serde_saphyr::from_str(yaml).map_err(|error| {
        let location = error.location().unwrap_or(Location::UNKNOWN);
        let message = serde_saphyr::DefaultMessageFormatter.format_message(&error);
        errors.at(location, printable(&message))
    })?;

    let issuer_entries = document
        .issuers
        .as_ref()
        .map_or(&[][..], |list| &list.value);
    let issuers = issuer_entries
        .iter()
        .map(|entry| issuer(&errors, &entry.value, entry.referenced))
        .collect::<Result<Vec<_>, _>>()?;
    let rule_entries = document.rules.as_deref().unwrap_or_default();
    let rules = rule_entries
        .iter()
        .map(|entry| rule(&errors, &entry.value, entry.referenced))
        .collect::<Result<Vec<_>, _>>()?;
    let default = match &document.default {
        None => DefaultAction::Deny,
        Some(value) => match value.value.as_str() {
            "deny" => DefaultAction::Deny,
            "authenticated" => DefaultAction::Authenticated,
            other => {
                return Err(errors.at(
                    value.referenced,
                    format!("default: {other:?} is neither deny nor authenticated"),
                ));
            }
        },
    };

    let start = Location::UNKNOWN;
    Policy::checked(file, issuers, rules, default, |place| {
        let location = match place {
            Place::Issuers => document.issuers.as_ref().map_or(start, |l| l.referenced),
            Place::Issuer(i) => {
                let entry = &issuer_entries[i];
                let name = entry.value.user_pool_id.as_ref();
                name.or(entry.value.issuer.as_ref())
                    .map_or(entry.referenced, |n| n.referenced)
            }
            Place::Rule(i) => rule_entries[i].value.path.referenced,
        };
        (as_usize(location.line()), as_usize(location.column()))
    })
}

fn as_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// Control characters of the input never reach a log line through a message.
fn printable(message: &str) -> String {
    message
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn issuer(
    errors: &Errors<'_>,
    entry: &IssuerEntry,
    at: Location,
) -> Result<PolicyIssuer, PolicyError> {
    let trust = match (&entry.user_pool_id, &entry.issuer) {
        (Some(_), Some(issuer)) => {
            return Err(errors.at(
                issuer.referenced,
                "an issuer entry names userPoolId or issuer, not both",
            ));
        }
        (None, None) => {
            return Err(errors.at(at, "an issuer entry needs userPoolId or issuer"));
        }
        (Some(id), None) => {
            if let Some(url) = &entry.jwks_url {
                return Err(errors.at(
                    url.referenced,
                    "jwksUrl goes with issuer: a user pool's keys are under its issuers",
                ));
            }
            let pool = match &entry.region {
                Some(region) => UserPool::in_region(&region.value, &id.value).map_err(|e| {
                    let place = match e {
                        CognitoError::UserPoolId(_) => id.referenced,
                        _ => region.referenced,
                    };
                    errors.at(place, format!("userPoolId / region: {e}"))
                }),
                None => UserPool::from_id(&id.value)
                    .map_err(|e| errors.at(id.referenced, format!("userPoolId: {e}"))),
            }?;
            IssuerTrust::UserPool(pool)
        }
        (None, Some(issuer)) => {
            if let Some(region) = &entry.region {
                return Err(errors.at(
                    region.referenced,
                    "region goes with userPoolId, not with issuer",
                ));
            }
            checks::check_http_url("issuer", &issuer.value)
                .map_err(|reason| errors.at(issuer.referenced, reason))?;
            let named = match &entry.jwks_url {
                Some(url) => {
                    checks::check_http_url("jwksUrl", &url.value)
                        .map_err(|reason| errors.at(url.referenced, reason))?;
                    IssuerJwks {
                        issuer: issuer.value.clone(),
                        jwks_url: url.value.clone(),
                    }
                }
                None => IssuerJwks::at_default_place(issuer.value.clone()),
            };
            IssuerTrust::Issuer(named)
        }
    };
    let client_ids = match &entry.client_ids {
        None => Vec::new(),
        Some(list) if list.value.is_empty() => {
            return Err(errors.at(
                list.referenced,
                "clientIds: an empty list would allow any client; leave the key out for that",
            ));
        }
        Some(list) => strings(list, |id| {
            if id.trim().is_empty() {
                Err("clientIds: a client id must not be blank".to_owned())
            } else {
                Ok(id.to_owned())
            }
        })
        .map_err(|(at, reason)| errors.at(at, reason))?,
    };
    Ok(PolicyIssuer { trust, client_ids })
}

fn rule(errors: &Errors<'_>, entry: &RuleEntry, at: Location) -> Result<Rule, PolicyError> {
    let public = entry.public.as_ref().filter(|public| public.value);
    let access = match (public, &entry.scopes, &entry.all_scopes) {
        (_, Some(_), Some(all)) => {
            return Err(errors.at(
                all.referenced,
                "scopes (any one of) and allScopes (all of) cannot go together in one rule",
            ));
        }
        (Some(public), Some(_), None) | (Some(public), None, Some(_)) => {
            return Err(errors.at(
                public.referenced,
                "a public rule needs no token, so it cannot also name scopes",
            ));
        }
        (Some(_), None, None) => Access::Public,
        (None, Some(scopes), None) => Access::AnyScope(scope_list(errors, "scopes", scopes)?),
        (None, None, Some(all)) => Access::AllScopes(scope_list(errors, "allScopes", all)?),
        (None, None, None) => Access::Authenticated,
    };
    super::pattern::PathPattern::parse(&entry.path.value)
        .map_err(|reason| errors.at(entry.path.referenced, reason))?;
    let methods = match &entry.methods {
        None => None,
        Some(list) if list.value.is_empty() => {
            return Err(errors.at(
                list.referenced,
                "methods: an empty list matches nothing; leave the key out for every method",
            ));
        }
        Some(list) => {
            Some(strings(list, checks::checked_method).map_err(|(at, r)| errors.at(at, r))?)
        }
    };
    Ok(Rule {
        path: entry.path.value.clone(),
        methods,
        access,
        line: as_usize(at.line()),
    })
}

fn scope_list(errors: &Errors<'_>, key: &str, list: &List) -> Result<Vec<String>, PolicyError> {
    if list.value.is_empty() {
        checks::check_scopes(key, &[]).map_err(|reason| errors.at(list.referenced, reason))?;
    }
    strings(list, |scope| {
        checks::check_scopes(key, &[scope.to_owned()]).map(|()| scope.to_owned())
    })
    .map_err(|(at, reason)| errors.at(at, reason))
}

/// Each string of `list` through `check`, or the first failure with its location.
fn strings(
    list: &List,
    check: impl Fn(&str) -> Result<String, String>,
) -> Result<Vec<String>, (Location, String)> {
    list.value
        .iter()
        .map(|item| check(&item.value).map_err(|reason| (item.referenced, reason)))
        .collect()
}
