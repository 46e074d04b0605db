//! The semantic checks every policy passes, parsed or built in code: each says what is wrong,
//! naming the key and value; the caller says where.

use super::pattern::PathPattern;
use super::{Access, IssuerTrust, PolicyIssuer, Rule};

/// Where a fault found across entries lies, for the caller to turn into a line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// The `issuers` list as a whole.
    Issuers,
    /// The issuer entry at this index.
    Issuer(usize),
    /// The rule at this index.
    Rule(usize),
}

/// A fault and its place.
#[derive(Debug)]
pub(super) struct Fault {
    pub(super) place: Place,
    pub(super) reason: String,
}

impl Fault {
    fn at(place: Place, reason: String) -> Self {
        Self { place, reason }
    }
}

/// Checks the issuers (at least one, each usable, no `iss` trusted twice) and the rules (each
/// usable, none unreachable); returns the rules' compiled patterns and their methods upper-case.
pub(super) fn check(
    issuers: &[PolicyIssuer],
    rules: &mut [Rule],
) -> Result<Vec<PathPattern>, Fault> {
    if issuers.is_empty() {
        return Err(Fault::at(
            Place::Issuers,
            "issuers: at least one user pool or issuer must be trusted".to_owned(),
        ));
    }
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (index, issuer) in issuers.iter().enumerate() {
        check_issuer(issuer).map_err(|reason| Fault::at(Place::Issuer(index), reason))?;
        for trusted in issuer.issuer_jwks() {
            if let Some((_, first)) = seen.iter().find(|(iss, _)| *iss == trusted.issuer) {
                return Err(Fault::at(
                    Place::Issuer(index),
                    format!(
                        "issuer {} is already trusted by issuers[{first}]: one entry per \
                         issuer, so that one client allow-list applies",
                        trusted.issuer
                    ),
                ));
            }
            seen.push((trusted.issuer, index));
        }
    }
    let mut patterns = Vec::with_capacity(rules.len());
    for (index, rule) in rules.iter_mut().enumerate() {
        let pattern = check_rule(rule).map_err(|reason| Fault::at(Place::Rule(index), reason))?;
        patterns.push(pattern);
    }
    check_reachable(rules, &patterns)?;
    Ok(patterns)
}

/// One issuer entry: http(s) URLs, no blank client id, no empty allow-list.
pub(super) fn check_issuer(issuer: &PolicyIssuer) -> Result<(), String> {
    if let IssuerTrust::Issuer(named) = &issuer.trust {
        check_http_url("issuer", &named.issuer)?;
        check_http_url("jwksUrl", &named.jwks_url)?;
    }
    if issuer.client_ids.iter().any(|id| id.trim().is_empty()) {
        return Err("clientIds: a client id must not be blank".to_owned());
    }
    Ok(())
}

/// `url` (the value of `key`) is an absolute `http` or `https` URL with a host.
pub(super) fn check_http_url(key: &str, url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(parsed)
            if matches!(parsed.scheme(), "http" | "https")
                && parsed.host_str().is_some_and(|host| !host.is_empty()) =>
        {
            Ok(())
        }
        _ => Err(format!("{key}: {url:?} is not an http(s) URL")),
    }
}

/// A method name as rules hold it: an RFC 9110 token (section 9.1: `method = token`, section
/// 5.6.2), upper-cased since methods are matched case-insensitively.
pub(super) fn checked_method(method: &str) -> Result<String, String> {
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !method.is_empty() && method.chars().all(is_tchar) {
        Ok(method.to_ascii_uppercase())
    } else {
        Err(format!(
            "methods: {method:?} is not an HTTP method (RFC 9110 token)"
        ))
    }
}

/// A `scopes` / `allScopes` list: not empty, each a scope token.
pub(super) fn check_scopes(key: &str, scopes: &[String]) -> Result<(), String> {
    if scopes.is_empty() {
        return Err(format!(
            "{key}: an empty list grants nothing; leave the key out for any valid token"
        ));
    }
    match scopes
        .iter()
        .find(|scope| !crate::scopes::is_scope_token(scope))
    {
        Some(bad) => Err(format!(
            "{key}: {bad:?} is not a scope (printable ASCII without spaces, quotes or \
             backslashes)"
        )),
        None => Ok(()),
    }
}

/// One rule: its pattern, methods and scopes.
fn check_rule(rule: &mut Rule) -> Result<PathPattern, String> {
    let pattern = PathPattern::parse(&rule.path)?;
    if let Some(methods) = &mut rule.methods {
        if methods.is_empty() {
            return Err(
                "methods: an empty list matches nothing; leave the key out for every method"
                    .to_owned(),
            );
        }
        for method in methods.iter_mut() {
            *method = checked_method(method)?;
        }
    }
    match &rule.access {
        Access::AnyScope(scopes) => check_scopes("scopes", scopes)?,
        Access::AllScopes(scopes) => check_scopes("allScopes", scopes)?,
        Access::Public | Access::Authenticated => {}
    }
    Ok(pattern)
}

/// No rule may be unreachable: for each of its methods (every method when it names none), an
/// earlier rule whose pattern covers its own would match first.
fn check_reachable(rules: &[Rule], patterns: &[PathPattern]) -> Result<(), Fault> {
    for (later, rule) in rules.iter().enumerate() {
        let covering: Vec<usize> = (0..later)
            .filter(|&earlier| patterns[earlier].covers(&patterns[later]))
            .collect();
        let covered = |method: Option<&str>| {
            covering.iter().copied().find(|&earlier| match method {
                Some(method) => rules[earlier].allows_method(method),
                None => rules[earlier].methods.is_none(),
            })
        };
        let shadows: Option<Vec<usize>> = match &rule.methods {
            None => covered(None).map(|earlier| vec![earlier]),
            Some(methods) => methods.iter().map(|m| covered(Some(m))).collect(),
        };
        if let Some(mut shadows) = shadows {
            shadows.sort_unstable();
            shadows.dedup();
            let names: Vec<String> = shadows
                .iter()
                .map(|&i| format!("rules[{i}] ({})", describe(&rules[i])))
                .collect();
            return Err(Fault::at(
                Place::Rule(later),
                format!(
                    "rules[{later}] ({}) is unreachable: {} matches every request it would \
                     (first match wins)",
                    describe(rule),
                    names.join(" and ")
                ),
            ));
        }
    }
    Ok(())
}

/// `line 7: GET,HEAD /a/**`, for messages.
fn describe(rule: &Rule) -> String {
    let line = if rule.line > 0 {
        format!("line {}: ", rule.line)
    } else {
        String::new()
    };
    match &rule.methods {
        Some(methods) => format!("{line}{} {}", methods.join(","), rule.path),
        None => format!("{line}any method {}", rule.path),
    }
}
