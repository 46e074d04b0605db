//! The command line: parsed once by clap from flags and environment in `main`, then checked into
//! the typed [`Settings`] the service runs on. Every refusal names its variables.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use cognito_auth::credentials::normalise;
use cognito_auth::scopes::{ResourceScopes, ScopeConfigError};
use cognito_auth::token_cache::CachePolicy;

use crate::settings::{ClientSecret, CredentialsSource, DEFAULT_RESOURCE_SERVER, Settings};

/// content-consumer's configuration (every flag can also be given as the named variable).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "content-consumer",
    version,
    about = "Calls premium-content with cached Cognito client-credentials tokens"
)]
pub struct Config {
    /// Address to serve on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    pub listen_addr: SocketAddr,

    /// Full URL of premium content, e.g. http://premium-content/home/premium.
    #[arg(long, env = "PREMIUM_API_URL")]
    pub premium_api_url: reqwest::Url,

    /// Folder of a mounted Secret with client_id, client_secret, token_endpoint, ... files.
    #[arg(long, env = "CREDENTIALS_DIR")]
    pub credentials_dir: Option<PathBuf>,

    /// App client id (credentials from the environment).
    #[arg(long, env = "COGNITO_CLIENT_ID")]
    pub cognito_client_id: Option<String>,

    /// App client secret (credentials from the environment).
    #[arg(long, env = "COGNITO_CLIENT_SECRET", hide_env_values = true)]
    pub cognito_client_secret: Option<ClientSecret>,

    /// Token endpoint (.../oauth2/token); required with COGNITO_CLIENT_ID, otherwise overrides
    /// the endpoint the credentials name.
    #[arg(long, env = "COGNITO_TOKEN_URL")]
    pub cognito_token_url: Option<reqwest::Url>,

    /// AWS Secrets Manager secret id or ARN holding the credentials as JSON.
    #[arg(long, env = "APP_SECRETS_ARN")]
    pub app_secrets_arn: Option<String>,

    /// Resource server identifier; scopes are {id}/read and {id}/write.
    #[arg(long, env = "RESOURCE_SERVER", default_value = DEFAULT_RESOURCE_SERVER)]
    pub resource_server: String,

    /// Full read scope (overrides {RESOURCE_SERVER}/read).
    #[arg(long, env = "READ_SCOPE")]
    pub read_scope: Option<String>,

    /// Full write scope (overrides {RESOURCE_SERVER}/write).
    #[arg(long, env = "WRITE_SCOPE")]
    pub write_scope: Option<String>,

    /// LOG_LEVEL and LOG_FORMAT, read the same way by every binary (the `telemetry` crate).
    #[command(flatten)]
    pub log: telemetry::LogArgs,

    /// SHUTDOWN_DELAY, read the same way by every server (the `telemetry` crate).
    #[command(flatten)]
    pub shutdown: telemetry::shutdown::ShutdownArgs,

    /// Time allowed to open a connection to Cognito or premium content.
    #[arg(long, env = "CONNECT_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,

    /// Time allowed for one token request.
    #[arg(long, env = "TOKEN_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub token_timeout: Duration,

    /// Time a caller waits at most for a token, retries included.
    #[arg(long, env = "TOKEN_DEADLINE", default_value = "5s", value_parser = humantime::parse_duration)]
    pub token_deadline: Duration,

    /// Time a caller waits at most for premium content's answer, the one retry of a GET
    /// included.
    #[arg(long, env = "PREMIUM_API_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub premium_api_timeout: Duration,
}

/// A configuration the service cannot run with; the message names the variables involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No credentials source.
    #[error(
        "no credentials source: set exactly one of CREDENTIALS_DIR, COGNITO_CLIENT_ID + COGNITO_CLIENT_SECRET (+ COGNITO_TOKEN_URL), or APP_SECRETS_ARN"
    )]
    NoCredentialsSource,
    /// More than one credentials source.
    #[error("several credentials sources set ({0}): set exactly one")]
    SeveralCredentialsSources(String),
    /// Half of the environment credentials.
    #[error("{0} is set but {1} is not: environment credentials need both")]
    IncompleteEnvCredentials(&'static str, &'static str),
    /// Environment credentials need a token endpoint.
    #[error("COGNITO_TOKEN_URL is required with COGNITO_CLIENT_ID and COGNITO_CLIENT_SECRET")]
    MissingTokenUrl,
    /// A URL with a scheme other than http(s).
    #[error("{0} must be an http or https URL")]
    NotHttp(&'static str),
    /// An empty value where one is needed.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// RESOURCE_SERVER, READ_SCOPE or WRITE_SCOPE gives a scope that can never be granted.
    #[error(transparent)]
    Scope(#[from] ScopeConfigError),
    /// A duration that makes no sense.
    #[error("{0} must be greater than zero")]
    ZeroDuration(&'static str),
}

impl Config {
    /// The settings these flags and variables give: the combination of values checked, derived
    /// values resolved.
    ///
    /// Errors: the first [`ConfigError`] found, naming the variables involved.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        if !matches!(self.premium_api_url.scheme(), "http" | "https") {
            return Err(ConfigError::NotHttp("PREMIUM_API_URL"));
        }
        if let Some(url) = &self.cognito_token_url
            && !matches!(url.scheme(), "http" | "https")
        {
            return Err(ConfigError::NotHttp("COGNITO_TOKEN_URL"));
        }
        for (name, value) in [
            ("CONNECT_TIMEOUT", self.connect_timeout),
            ("TOKEN_TIMEOUT", self.token_timeout),
            ("TOKEN_DEADLINE", self.token_deadline),
            ("PREMIUM_API_TIMEOUT", self.premium_api_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::ZeroDuration(name));
            }
        }
        let credentials = self.credentials_source()?;
        if matches!(credentials, CredentialsSource::Fixed { .. })
            && self.cognito_token_url.is_none()
        {
            return Err(ConfigError::MissingTokenUrl);
        }
        let scopes = ResourceScopes::resolve(
            &self.resource_server,
            self.read_scope.as_deref(),
            self.write_scope.as_deref(),
        )?;
        Ok(Settings {
            premium_api_url: self.premium_api_url.clone(),
            credentials,
            token_url: self.cognito_token_url.clone(),
            scopes,
            token_cache: CachePolicy {
                attempt_timeout: self.token_timeout,
                deadline: self.token_deadline,
                ..CachePolicy::default()
            },
            connect_timeout: self.connect_timeout,
            premium_api_timeout: self.premium_api_timeout,
            shutdown: self.shutdown.settings(),
        })
    }

    fn credentials_source(&self) -> Result<CredentialsSource, ConfigError> {
        let env_set = self.cognito_client_id.is_some() || self.cognito_client_secret.is_some();
        let set: Vec<&str> = [
            (self.credentials_dir.is_some(), "CREDENTIALS_DIR"),
            (env_set, "COGNITO_CLIENT_ID/COGNITO_CLIENT_SECRET"),
            (self.app_secrets_arn.is_some(), "APP_SECRETS_ARN"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if set.len() > 1 {
            return Err(ConfigError::SeveralCredentialsSources(set.join(", ")));
        }
        if let Some(dir) = &self.credentials_dir {
            return Ok(CredentialsSource::Dir(dir.clone()));
        }
        if let Some(arn) = &self.app_secrets_arn {
            if arn.trim().is_empty() {
                return Err(ConfigError::Empty("APP_SECRETS_ARN"));
            }
            return Ok(CredentialsSource::SecretsManager(arn.trim().to_owned()));
        }
        match (&self.cognito_client_id, &self.cognito_client_secret) {
            (Some(id), Some(secret)) => {
                // The one normalisation every credentials source gets: a secret set with
                // `echo secret | base64` into a Secret ends in `\n`, which Cognito would refuse.
                let client_id = normalise(id).ok_or(ConfigError::Empty("COGNITO_CLIENT_ID"))?;
                let client_secret =
                    normalise(&secret.0).ok_or(ConfigError::Empty("COGNITO_CLIENT_SECRET"))?;
                Ok(CredentialsSource::Fixed {
                    client_id: client_id.to_owned(),
                    client_secret: ClientSecret(client_secret.to_owned()),
                })
            }
            (Some(_), None) => Err(ConfigError::IncompleteEnvCredentials(
                "COGNITO_CLIENT_ID",
                "COGNITO_CLIENT_SECRET",
            )),
            (None, Some(_)) => Err(ConfigError::IncompleteEnvCredentials(
                "COGNITO_CLIENT_SECRET",
                "COGNITO_CLIENT_ID",
            )),
            (None, None) => Err(ConfigError::NoCredentialsSource),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        let mut all = vec![
            "content-consumer",
            "--premium-api-url",
            "http://p/home/premium",
        ];
        all.extend_from_slice(args);
        Config::try_parse_from(all).unwrap()
    }

    #[test]
    fn env_credentials_need_both_halves_and_a_token_url() {
        let err = parse(&["--cognito-client-id", "abc"])
            .settings()
            .unwrap_err();
        assert_eq!(
            err,
            ConfigError::IncompleteEnvCredentials("COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET")
        );
        let err = parse(&["--cognito-client-id", "abc", "--cognito-client-secret", "s"])
            .settings()
            .unwrap_err();
        assert_eq!(err, ConfigError::MissingTokenUrl);
        let settings = parse(&[
            "--cognito-client-id",
            "abc",
            "--cognito-client-secret",
            "s",
            "--cognito-token-url",
            "http://127.0.0.1:9/oauth2/token",
        ])
        .settings()
        .unwrap();
        assert_eq!(settings.scopes.read, "premium_api/read");
        assert_eq!(settings.scopes.write, "premium_api/write");
        assert!(matches!(
            settings.credentials,
            CredentialsSource::Fixed { .. }
        ));
    }

    #[test]
    fn exactly_one_source() {
        let err = parse(&[]).settings().unwrap_err();
        assert_eq!(err, ConfigError::NoCredentialsSource);
        assert!(err.to_string().contains("CREDENTIALS_DIR"));
        let err = parse(&["--credentials-dir", "/tmp", "--app-secrets-arn", "arn:x"])
            .settings()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "several credentials sources set (CREDENTIALS_DIR, APP_SECRETS_ARN): set exactly one"
        );
    }

    #[test]
    fn an_ungrantable_scope_names_its_variable() {
        let error = parse(&["--app-secrets-arn", "arn:x", "--read-scope", "a b"])
            .settings()
            .unwrap_err();
        assert!(error.to_string().starts_with("READ_SCOPE:"), "{error}");
        let error = parse(&["--app-secrets-arn", "arn:x", "--resource-server", " "])
            .settings()
            .unwrap_err();
        assert!(error.to_string().starts_with("RESOURCE_SERVER:"), "{error}");
    }

    #[test]
    fn scopes_derive_from_the_resource_server_unless_given() {
        let settings = parse(&[
            "--app-secrets-arn",
            "arn:x",
            "--resource-server",
            "unicorn",
            "--write-scope",
            "other/write",
        ])
        .settings()
        .unwrap();
        assert_eq!(settings.scopes.read, "unicorn/read");
        assert_eq!(settings.scopes.write, "other/write");
        assert_eq!(settings.token_url, None);
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err = Config::try_parse_from(["content-consumer"]).unwrap_err();
        assert!(err.to_string().contains("PREMIUM_API_URL"), "{err}");
        let err = parse(&["--app-secrets-arn", "a", "--token-timeout", "0s"])
            .settings()
            .unwrap_err();
        assert_eq!(err, ConfigError::ZeroDuration("TOKEN_TIMEOUT"));
        let err = Config::try_parse_from([
            "content-consumer",
            "--premium-api-url",
            "ftp://x/",
            "--app-secrets-arn",
            "a",
        ])
        .unwrap()
        .settings()
        .unwrap_err();
        assert_eq!(err, ConfigError::NotHttp("PREMIUM_API_URL"));
    }

    #[test]
    fn environment_credentials_lose_stray_whitespace() {
        let secret = "Ab3dEf6hIj+KlMnOp+QrStUv9x";
        for stray in ["\n", "\r\n", " \t", "\n\n"] {
            let settings = parse(&[
                "--cognito-client-id",
                &format!("1example23456789{stray}"),
                "--cognito-client-secret",
                &format!("{secret}{stray}"),
                "--cognito-token-url",
                "http://127.0.0.1:9/oauth2/token",
            ])
            .settings()
            .unwrap();
            assert_eq!(
                settings.credentials,
                CredentialsSource::Fixed {
                    client_id: "1example23456789".into(),
                    client_secret: ClientSecret(secret.into()),
                },
                "{stray:?}"
            );
        }
        let err = parse(&[
            "--cognito-client-id",
            "abc",
            "--cognito-client-secret",
            "\r\n",
            "--cognito-token-url",
            "http://127.0.0.1:9/oauth2/token",
        ])
        .settings()
        .unwrap_err();
        assert_eq!(err, ConfigError::Empty("COGNITO_CLIENT_SECRET"));
    }

    #[test]
    fn the_command_line_defaults_are_the_settings_defaults() {
        let parsed = parse(&["--app-secrets-arn", "arn:x"]).settings().unwrap();
        let credentials = CredentialsSource::SecretsManager("arn:x".into());
        let new = Settings::new("http://p/home/premium".parse().unwrap(), credentials);
        assert_eq!(parsed.premium_api_url, new.premium_api_url);
        assert_eq!(parsed.credentials, new.credentials);
        assert_eq!(parsed.token_url, new.token_url);
        assert_eq!(parsed.scopes, new.scopes);
        assert_eq!(parsed.connect_timeout, new.connect_timeout);
        assert_eq!(parsed.premium_api_timeout, new.premium_api_timeout);
        assert_eq!(
            format!("{:?}", parsed.token_cache),
            format!("{:?}", new.token_cache)
        );
    }

    #[test]
    fn debug_hides_the_client_secret() {
        let config = parse(&[
            "--cognito-client-id",
            "abc",
            "--cognito-client-secret",
            "hunter2",
        ]);
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
