//! The command line: every variable of CONTRACT.md (plus a few tuning knobs), parsed once by clap
//! in `main` and checked into the typed [`Settings`] the service runs on. Every refusal names its
//! variable.

use std::net::SocketAddr;

use cognito_auth::cognito::{CognitoError, UserPool};
use cognito_auth::scopes::ResourceScopes;
use cognito_auth::trusted_issuers::IssuerJwks;

use cognito_auth_actix::VerificationArgs;

use crate::settings::{DEFAULT_RESOURCE_SERVER, Settings};

/// premium-content configuration, from flags or the environment.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "premium-content",
    version,
    about = "The protected premium-content API: verifies Cognito access tokens and checks scopes"
)]
pub struct Config {
    /// Address to serve on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    pub listen_addr: SocketAddr,

    /// AWS region of the user pool; when set, it must be the region of COGNITO_USER_POOL_ID.
    #[arg(long, env = "AWS_REGION")]
    pub aws_region: Option<String>,

    /// Cognito user pool id, e.g. us-east-1_AbCdEf123: tokens of both its issuers are accepted,
    /// https://cognito-idp.{region}.amazonaws.com/{poolId} and
    /// https://issuer-cognito-idp.{region}.amazonaws.com/{poolId}, each checked against its own
    /// {issuer}/.well-known/jwks.json.
    #[arg(long, env = "COGNITO_USER_POOL_ID")]
    pub cognito_user_pool_id: Option<String>,

    /// Exact token issuer, the only one accepted; overrides AWS_REGION + COGNITO_USER_POOL_ID.
    #[arg(long, env = "COGNITO_ISSUER")]
    pub cognito_issuer: Option<String>,

    /// JWKS location of COGNITO_ISSUER [default: {issuer}/.well-known/jwks.json]; needs
    /// COGNITO_ISSUER (a user pool has two issuers, each with its own JWKS).
    #[arg(long, env = "COGNITO_JWKS_URL")]
    pub cognito_jwks_url: Option<String>,

    /// Resource server identifier; scopes are {id}/read and {id}/write.
    #[arg(long, env = "RESOURCE_SERVER", default_value = DEFAULT_RESOURCE_SERVER)]
    pub resource_server: String,

    /// Full scope needed for GET /home/premium [default: {RESOURCE_SERVER}/read].
    #[arg(long, env = "READ_SCOPE")]
    pub read_scope: Option<String>,

    /// Full scope needed for POST /home/premium [default: {RESOURCE_SERVER}/write].
    #[arg(long, env = "WRITE_SCOPE")]
    pub write_scope: Option<String>,

    /// Comma-separated allow-list of app client ids; empty allows any client of the pool.
    #[arg(long, env = "COGNITO_CLIENT_IDS", default_value = "")]
    pub cognito_client_ids: String,

    /// LOG_LEVEL and LOG_FORMAT, read the same way by every binary (the `telemetry` crate).
    #[command(flatten)]
    pub log: telemetry::LogArgs,

    /// SHUTDOWN_DELAY, read the same way by every server (the `telemetry` crate).
    #[command(flatten)]
    pub shutdown: telemetry::shutdown::ShutdownArgs,

    /// CLOCK_LEEWAY_SECONDS, VERIFIED_TOKEN_CACHE_SIZE and JWKS_REFRESH_SECONDS, read the same
    /// way by every service verifying tokens (cognito-auth-actix).
    #[command(flatten)]
    pub verification: VerificationArgs,

    /// HTTP worker threads; 0 means one per available CPU.
    #[arg(long, env = "HTTP_WORKERS", default_value_t = 0)]
    pub http_workers: usize,
}

/// Configuration that cannot work; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither an issuer nor the pool id that derives them.
    #[error("set COGNITO_ISSUER, or COGNITO_USER_POOL_ID (with AWS_REGION)")]
    NoIssuer,
    /// A variable holds an unusable value.
    #[error("{variable}: {problem}")]
    Invalid {
        /// The variable at fault.
        variable: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        variable,
        problem: problem.into(),
    }
}

impl Config {
    /// The settings these flags and variables give: derived values resolved, every variable
    /// checked.
    ///
    /// Errors: [`ConfigError::NoIssuer`], or the first variable holding an unusable value.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let issuers = self.issuers()?;
        let scopes = ResourceScopes::resolve(
            &self.resource_server,
            self.read_scope.as_deref(),
            self.write_scope.as_deref(),
        )
        .map_err(|e| invalid(e.variable, e.problem))?;
        let client_ids = self
            .cognito_client_ids
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        let verification = self
            .verification
            .settings()
            .map_err(|e| invalid(e.variable, e.problem))?;
        Ok(Settings {
            issuers,
            scopes,
            client_ids,
            verification,
            http_workers: (self.http_workers > 0).then_some(self.http_workers),
            shutdown: self.shutdown.settings(),
        })
    }
}

impl Config {
    /// COGNITO_ISSUER alone, with COGNITO_JWKS_URL or its default; else both issuers of the pool.
    fn issuers(&self) -> Result<Vec<IssuerJwks>, ConfigError> {
        let jwks_url = non_empty(&self.cognito_jwks_url);
        if let Some(url) = jwks_url {
            check_http_url("COGNITO_JWKS_URL", url)?;
        }
        if let Some(issuer) = non_empty(&self.cognito_issuer) {
            check_http_url("COGNITO_ISSUER", issuer)?;
            return Ok(vec![match jwks_url {
                Some(url) => IssuerJwks {
                    issuer: issuer.to_owned(),
                    jwks_url: url.to_owned(),
                },
                None => IssuerJwks::at_default_place(issuer),
            }]);
        }
        let Some(pool_id) = non_empty(&self.cognito_user_pool_id) else {
            return Err(ConfigError::NoIssuer);
        };
        let pool = match non_empty(&self.aws_region) {
            Some(region) => UserPool::in_region(region, pool_id),
            None => UserPool::from_id(pool_id),
        }
        .map_err(|error| match error {
            CognitoError::UserPoolId(_) => invalid("COGNITO_USER_POOL_ID", error.to_string()),
            _ => invalid("AWS_REGION", error.to_string()),
        })?;
        let issuers = IssuerJwks::of_user_pool(&pool);
        if jwks_url.is_some() {
            let names: Vec<&str> = issuers.iter().map(|i| i.issuer.as_str()).collect();
            return Err(invalid(
                "COGNITO_JWKS_URL",
                format!(
                    "user pool {pool} has two issuers ({}), each publishing its own JWKS; set \
                     COGNITO_ISSUER to the one issuer this JWKS belongs to, or unset \
                     COGNITO_JWKS_URL",
                    names.join(" and ")
                ),
            ));
        }
        Ok(issuers)
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn check_http_url(variable: &'static str, value: &str) -> Result<(), ConfigError> {
    let url =
        reqwest::Url::parse(value).map_err(|e| invalid(variable, format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(variable, "must be an http(s) URL"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Settings, ConfigError> {
        let mut argv = vec!["premium-content"];
        argv.extend_from_slice(args);
        Config::try_parse_from(argv).unwrap().settings()
    }

    fn issuer_jwks(issuer: &str, jwks_url: &str) -> IssuerJwks {
        IssuerJwks {
            issuer: issuer.into(),
            jwks_url: jwks_url.into(),
        }
    }

    #[test]
    fn both_issuers_and_their_jwks_derive_from_region_and_pool() {
        let s = parse(&[
            "--aws-region",
            "eu-west-1",
            "--cognito-user-pool-id",
            "eu-west-1_AbC123",
        ])
        .unwrap();
        assert_eq!(
            s.issuers,
            [
                issuer_jwks(
                    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
                    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
                ),
                issuer_jwks(
                    "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
                    "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
                ),
            ]
        );
        assert_eq!(s.scopes.read, "premium_api/read");
        assert_eq!(s.scopes.write, "premium_api/write");
        assert!(s.client_ids.is_empty());
        assert_eq!(
            s.verification.clock_leeway,
            std::time::Duration::from_secs(5)
        );
    }

    #[test]
    fn explicit_values_override_derived_ones() {
        let s = parse(&[
            "--aws-region",
            "eu-west-1",
            "--cognito-user-pool-id",
            "eu-west-1_AbC123",
            "--cognito-issuer",
            "http://127.0.0.1:9000/pool",
            "--cognito-jwks-url",
            "http://127.0.0.1:9001/keys",
            "--resource-server",
            "unicorn",
            "--write-scope",
            "other/write",
            "--cognito-client-ids",
            " a, b ,,c",
        ])
        .unwrap();
        assert_eq!(
            s.issuers,
            [issuer_jwks(
                "http://127.0.0.1:9000/pool",
                "http://127.0.0.1:9001/keys"
            )]
        );
        assert_eq!(s.scopes.read, "unicorn/read");
        assert_eq!(s.scopes.write, "other/write");
        assert_eq!(s.client_ids, ["a", "b", "c"]);
    }

    #[test]
    fn errors_name_the_variable() {
        assert!(matches!(parse(&[]), Err(ConfigError::NoIssuer)));
        assert!(
            parse(&["--aws-region", "eu-west-1"])
                .unwrap_err()
                .to_string()
                .contains("COGNITO_USER_POOL_ID")
        );
        for (args, variable) in [
            (vec!["--cognito-issuer", "not a url"], "COGNITO_ISSUER"),
            (vec!["--cognito-issuer", "ftp://x/y"], "COGNITO_ISSUER"),
            (
                vec![
                    "--cognito-issuer",
                    "https://x",
                    "--cognito-jwks-url",
                    "/jwks",
                ],
                "COGNITO_JWKS_URL",
            ),
            (
                vec!["--aws-region", "eu/west", "--cognito-user-pool-id", "p_1"],
                "AWS_REGION",
            ),
            (
                vec!["--cognito-issuer", "https://x", "--read-scope", "a b"],
                "READ_SCOPE",
            ),
            (
                vec!["--cognito-issuer", "https://x", "--resource-server", "a\"b"],
                "RESOURCE_SERVER",
            ),
            (
                vec![
                    "--cognito-issuer",
                    "https://x",
                    "--jwks-refresh-seconds",
                    "0",
                ],
                "JWKS_REFRESH_SECONDS",
            ),
        ] {
            let message = parse(&args).unwrap_err().to_string();
            assert!(message.starts_with(variable), "{message}");
        }
    }

    #[test]
    fn the_region_comes_from_the_pool_id_and_must_agree_with_aws_region() {
        let s = parse(&["--cognito-user-pool-id", "ap-southeast-2_Z9"]).unwrap();
        assert_eq!(
            s.issuers[1].issuer,
            "https://issuer-cognito-idp.ap-southeast-2.amazonaws.com/ap-southeast-2_Z9"
        );
        let message = parse(&[
            "--aws-region",
            "eu-west-1",
            "--cognito-user-pool-id",
            "us-east-1_AbC",
        ])
        .unwrap_err()
        .to_string();
        assert_eq!(
            message,
            "AWS_REGION: user pool us-east-1_AbC is in us-east-1, not eu-west-1"
        );
        let message = parse(&["--cognito-user-pool-id", "pool"])
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("COGNITO_USER_POOL_ID: "), "{message}");
    }

    #[test]
    fn an_explicit_issuer_is_the_only_one_whatever_its_form() {
        let updated = "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123";
        let s = parse(&[
            "--cognito-issuer",
            &format!("{updated}/"),
            "--cognito-user-pool-id",
            "eu-west-1_AbC123",
        ])
        .unwrap();
        // Exact means exact, a trailing slash included; only the JWKS URL is normalised.
        assert_eq!(
            s.issuers,
            [issuer_jwks(
                &format!("{updated}/"),
                &format!("{updated}/.well-known/jwks.json")
            )]
        );
    }

    #[test]
    fn a_jwks_url_with_a_derived_pool_is_ambiguous() {
        let message = parse(&[
            "--aws-region",
            "eu-west-1",
            "--cognito-user-pool-id",
            "eu-west-1_AbC123",
            "--cognito-jwks-url",
            "https://keys.example/jwks.json",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            message.starts_with("COGNITO_JWKS_URL: user pool eu-west-1_AbC123 has two issuers"),
            "{message}"
        );
        assert!(message.contains("set COGNITO_ISSUER"), "{message}");
    }

    #[test]
    fn the_command_line_defaults_are_the_settings_defaults() {
        let s = parse(&["--cognito-issuer", "https://x"]).unwrap();
        assert_eq!(
            s,
            Settings::new(vec![IssuerJwks::at_default_place("https://x")])
        );
    }

    #[test]
    fn unknown_flags_and_bad_addresses_fail_parsing() {
        assert!(Config::try_parse_from(["premium-content", "--nope"]).is_err());
        assert!(Config::try_parse_from(["premium-content", "--listen-addr", "localhost"]).is_err());
    }
}
