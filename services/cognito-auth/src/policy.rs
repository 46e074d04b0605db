//! The route policy: which requests need which token, for any HTTP API (the `POLICY_FILE` of
//! cognito-authorizer, and premium-content's own two routes).
//!
//! A policy names the user pools whose access tokens count (`issuers`), an ordered list of
//! `rules` (the first whose path pattern and methods match the request decides) and what happens
//! when none matches (`default`: `deny` or `authenticated`). The file format is documented in
//! the contract ("cognito-authorizer") and in `docs/`.
//!
//! Matching is on the [`RequestPath`]: the request's path normalised the way servers behind us
//! read it (percent-encoded unreserved characters decoded, dot segments removed and repeated
//! slashes merged as RFC 3986 section 6.2.2 and 5.2.4 say, a trailing slash ignored), so a
//! request can never reach an upstream resource under a rule other than the one that protects
//! it. Methods compare case-insensitively, and a rule for `GET` also covers `HEAD` (RFC 9110
//! section 9.3.2: HEAD is GET without the content, and servers answer it with the GET handler).
//!
//! Path patterns: `/a/b` exact; `*` as a whole segment matches exactly one segment; `**` as the
//! last segment matches the path before it and anything below (`/a/**` matches `/a`, `/a/b`,
//! `/a/b/c`).

mod checks;
mod file;
mod pattern;
mod request_path;

use std::path::Path;

pub use request_path::{PathError, RequestPath};

use self::checks::Place;
use self::pattern::PathPattern;
use crate::cognito::UserPool;
use crate::jwks::JwksSettings;
use crate::trusted_issuers::{IssuerJwks, TrustedIssuers, TrustedPool};

/// A checked policy: issuers, ordered rules, default.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    issuers: Vec<PolicyIssuer>,
    rules: Vec<Rule>,
    /// The rules' path patterns, in rule order.
    patterns: Vec<PathPattern>,
    default: DefaultAction,
}

/// One user pool (or exact issuer) whose tokens count, with its app-client allow-list.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyIssuer {
    /// Which issuer(s).
    pub trust: IssuerTrust,
    /// App client ids allowed (`client_id` claim); empty: any client of the pool.
    pub client_ids: Vec<String>,
}

/// How an issuer is named in a policy.
#[derive(Debug, Clone, PartialEq)]
pub enum IssuerTrust {
    /// `userPoolId` (+ `region`): both Cognito issuer forms, each with its JWKS.
    UserPool(UserPool),
    /// `issuer` (+ `jwksUrl`): exactly that `iss`.
    Issuer(IssuerJwks),
}

impl PolicyIssuer {
    /// The `iss` values and JWKS URLs this entry trusts (two for a user pool, original first).
    pub fn issuer_jwks(&self) -> Vec<IssuerJwks> {
        match &self.trust {
            IssuerTrust::UserPool(pool) => IssuerJwks::of_user_pool(pool),
            IssuerTrust::Issuer(issuer) => vec![issuer.clone()],
        }
    }
}

/// One rule: a path pattern, optional methods, and what the matching requests need.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The path pattern as written (`/home/premium`, `/a/*`, `/a/**`).
    pub path: String,
    /// Methods, upper-case; `None`: every method.
    pub methods: Option<Vec<String>>,
    /// What a matching request needs.
    pub access: Access,
    /// The line of the rule in its file (1-based; 0 for a policy built in code).
    pub line: usize,
}

/// What a rule asks of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// No token needed (`public: true`).
    Public,
    /// Any valid token of a trusted issuer (a rule with neither scopes nor `public`).
    Authenticated,
    /// A valid token granting at least one of these scopes (`scopes`).
    AnyScope(Vec<String>),
    /// A valid token granting every one of these scopes (`allScopes`).
    AllScopes(Vec<String>),
}

/// What happens to a request no rule matches (`default`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DefaultAction {
    /// Refused (`deny`, the default).
    #[default]
    Deny,
    /// Any valid token (`authenticated`).
    Authenticated,
}

/// What the policy asks of one request: the verdict before the token is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement<'a> {
    /// No token needed.
    Public,
    /// Any valid token.
    Authenticated,
    /// A valid token with one of these scopes.
    AnyScope(&'a [String]),
    /// A valid token with all of these scopes.
    AllScopes(&'a [String]),
    /// Refused whatever the token (no rule matched and the default is `deny`).
    Deny,
}

/// A policy that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {reason}")]
pub struct PolicyError {
    /// The file (or the name given to [`Policy::parse`]).
    pub file: String,
    /// 1-based line (0 when the problem has no place, e.g. an unreadable file).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// What is wrong, naming the key or value at fault.
    pub reason: String,
}

impl Policy {
    /// Reads and parses the policy file at `path` (errors name that path; an unreadable file is
    /// an error at line 0).
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let file = path.display().to_string();
        let yaml = std::fs::read_to_string(path).map_err(|error| PolicyError {
            file: file.clone(),
            line: 0,
            column: 0,
            reason: format!("cannot read the policy: {error}"),
        })?;
        Self::parse(&file, &yaml)
    }

    /// Parses policy YAML; `file` is the name errors carry.
    ///
    /// Errors ([`PolicyError`], with the line and column of the key or value at fault): YAML
    /// syntax, unknown keys, duplicate keys, values of the wrong type, and every check of
    /// [`Policy::new`] plus those only a file can fail (`public` with scopes, `scopes` with
    /// `allScopes`, `userPoolId` with `issuer` or `jwksUrl`, `region` disagreeing with the pool
    /// id, `default` other than `deny` / `authenticated`). The format: `docs/policy.md`.
    pub fn parse(file: &str, yaml: &str) -> Result<Self, PolicyError> {
        file::parse(file, yaml)
    }

    /// A policy built in code, with the same checks as a parsed one (errors carry the rules'
    /// `line`, 0 for built ones, and the file name `file`).
    ///
    /// Checks: at least one issuer; http(s) `issuer` and `jwksUrl`; no blank client id; no
    /// `iss` trusted twice (a user pool trusts both of its issuer forms); path patterns in
    /// normalised form with `*` / `**` as whole segments and `**` last; methods RFC 9110 tokens
    /// (stored upper-case); scope lists not empty and of scope tokens; no rule unreachable
    /// because earlier rules match every request it would.
    pub fn new(
        file: &str,
        issuers: Vec<PolicyIssuer>,
        rules: Vec<Rule>,
        default: DefaultAction,
    ) -> Result<Self, PolicyError> {
        let lines: Vec<usize> = rules.iter().map(|rule| rule.line).collect();
        Self::checked(file, issuers, rules, default, |place| match place {
            Place::Rule(index) => (lines[index], 0),
            Place::Issuers | Place::Issuer(_) => (0, 0),
        })
    }

    /// Runs the checks of [`Policy::new`]; `locate` gives the line and column of a fault.
    fn checked(
        file: &str,
        issuers: Vec<PolicyIssuer>,
        mut rules: Vec<Rule>,
        default: DefaultAction,
        locate: impl Fn(Place) -> (usize, usize),
    ) -> Result<Self, PolicyError> {
        let patterns = checks::check(&issuers, &mut rules).map_err(|fault| {
            let (line, column) = locate(fault.place);
            PolicyError {
                file: file.to_owned(),
                line,
                column,
                reason: fault.reason,
            }
        })?;
        Ok(Self {
            issuers,
            rules,
            patterns,
            default,
        })
    }

    /// The trusted issuers.
    pub fn issuers(&self) -> &[PolicyIssuer] {
        &self.issuers
    }

    /// The rules in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The default for requests no rule matches.
    pub fn default_action(&self) -> DefaultAction {
        self.default
    }

    /// What `method` on `path` needs: the first matching rule's access, else the default.
    /// `method` compares case-insensitively, and `HEAD` matches a rule for `GET`.
    pub fn requirement(&self, method: &str, path: &RequestPath) -> Requirement<'_> {
        let rule = self
            .rules
            .iter()
            .zip(&self.patterns)
            .find(|(rule, pattern)| rule.allows_method(method) && pattern.matches(path));
        match rule.map(|(rule, _)| &rule.access) {
            Some(Access::Public) => Requirement::Public,
            Some(Access::Authenticated) => Requirement::Authenticated,
            Some(Access::AnyScope(scopes)) => Requirement::AnyScope(scopes),
            Some(Access::AllScopes(scopes)) => Requirement::AllScopes(scopes),
            None => match self.default {
                DefaultAction::Deny => Requirement::Deny,
                DefaultAction::Authenticated => Requirement::Authenticated,
            },
        }
    }

    /// The verifier's trust in this policy's issuers: one pool per entry with its client
    /// allow-list, each issuer with a new JWKS cache fetching over `http` with `settings`
    /// (nothing is fetched until [`TrustedIssuers::start_background`] or a first lookup).
    pub fn trusted_issuers(
        &self,
        http: &reqwest::Client,
        settings: &JwksSettings,
    ) -> TrustedIssuers {
        let pools = self
            .issuers
            .iter()
            .map(|entry| {
                TrustedPool::with_caches(
                    &entry.issuer_jwks(),
                    entry.client_ids.clone(),
                    http,
                    settings,
                )
            })
            .collect();
        TrustedIssuers::new(pools)
            .expect("a checked policy names at least one issuer and none twice")
    }
}

impl Rule {
    /// Whether the rule applies to `method` (any case; `HEAD` under `GET`, RFC 9110 section
    /// 9.3.2).
    pub fn allows_method(&self, method: &str) -> bool {
        self.methods.as_ref().is_none_or(|methods| {
            methods.iter().any(|allowed| {
                allowed.eq_ignore_ascii_case(method)
                    || (allowed == "GET" && method.eq_ignore_ascii_case("HEAD"))
            })
        })
    }
}

#[cfg(test)]
mod tests;
