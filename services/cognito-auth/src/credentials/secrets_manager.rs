//! Credentials from an AWS Secrets Manager secret (either JSON key set), as the seed stores them.
//!
//! The secret is fetched once and kept; it is fetched again when the token endpoint answers
//! `invalid_client`, which is what a rotated client secret looks like from here.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::error::DisplayErrorContext;

use super::{ClientCredentials, CredentialsError};

/// Rejections arriving faster than this do not each cost a Secrets Manager call.
const REFETCH_INTERVAL: Duration = Duration::from_secs(5);

/// A Secrets Manager secret holding client credentials.
#[derive(Debug)]
pub struct SecretsManagerSource {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    credentials: RwLock<Option<Arc<ClientCredentials>>>,
    /// Single flight for fetches.
    fetching: tokio::sync::Mutex<()>,
    last_refetch: Mutex<Option<Instant>>,
}

/// The region in a Secrets Manager ARN (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`),
/// when `secret_id` is one. Secrets Manager serves a secret only from its own region's endpoint,
/// so a call for a full ARN must go there, whatever region is configured (a plain name is looked
/// up in the configured region).
pub fn arn_region(secret_id: &str) -> Option<&str> {
    let mut parts = secret_id.splitn(5, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("secretsmanager"), Some(region)) if !region.is_empty() => {
            Some(region)
        }
        _ => None,
    }
}

impl SecretsManagerSource {
    /// A source for `secret_id` using the AWS SDK's default chain (region, credentials,
    /// `AWS_ENDPOINT_URL`). Tries one fetch; a failure is logged and retried on first use.
    pub async fn from_env(secret_id: impl Into<String>) -> Self {
        // Bounded, so an unreachable Secrets Manager delays neither startup nor a request long.
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_timeout(Duration::from_secs(10))
            .build();
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(timeouts)
            .load()
            .await;
        let source = Self::from_sdk_config(&config, secret_id);
        if let Err(error) = source.current().await {
            tracing::warn!(%error, "client credentials not available yet");
        }
        source
    }

    /// A source for `secret_id` using `config`, except that the region of a full ARN
    /// ([`arn_region`]) wins over the configured one; nothing is fetched until first use.
    pub fn from_sdk_config(config: &aws_config::SdkConfig, secret_id: impl Into<String>) -> Self {
        let secret_id = secret_id.into();
        let mut builder = aws_sdk_secretsmanager::config::Builder::from(config);
        if let Some(region) = arn_region(&secret_id) {
            builder = builder.region(aws_sdk_secretsmanager::config::Region::new(
                region.to_owned(),
            ));
        }
        Self::with_client(
            aws_sdk_secretsmanager::Client::from_conf(builder.build()),
            secret_id,
        )
    }

    /// A source for `secret_id` using `client`; nothing is fetched until first use.
    pub fn with_client(
        client: aws_sdk_secretsmanager::Client,
        secret_id: impl Into<String>,
    ) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
            credentials: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
            last_refetch: Mutex::new(None),
        }
    }

    /// The credentials fetched last, fetching them if there are none yet.
    pub async fn current(&self) -> Result<Arc<ClientCredentials>, CredentialsError> {
        if let Some(credentials) = self.cached() {
            return Ok(credentials);
        }
        let _flight = self.fetching.lock().await;
        if let Some(credentials) = self.cached() {
            return Ok(credentials);
        }
        self.fetch().await
    }

    /// Fetches the secret again (at most once per few seconds), keeping the old credentials if
    /// the fetch fails.
    pub async fn refetch_after_rejection(
        &self,
    ) -> Result<Arc<ClientCredentials>, CredentialsError> {
        let _flight = self.fetching.lock().await;
        let due = {
            let mut last = self.last_refetch.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|at| at.elapsed() >= REFETCH_INTERVAL);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if !due {
            return self
                .cached()
                .ok_or_else(|| self.secret_error("not fetched yet".into()));
        }
        match self.fetch().await {
            Ok(credentials) => Ok(credentials),
            Err(error) => self.cached().ok_or(error),
        }
    }

    /// Whether the secret has been fetched successfully.
    pub fn is_loaded(&self) -> bool {
        self.cached().is_some()
    }

    fn cached(&self) -> Option<Arc<ClientCredentials>> {
        self.credentials
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn secret_error(&self, reason: String) -> CredentialsError {
        CredentialsError::SecretsManager {
            secret_id: self.secret_id.clone(),
            reason,
        }
    }

    async fn fetch(&self) -> Result<Arc<ClientCredentials>, CredentialsError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| self.secret_error(DisplayErrorContext(&e).to_string()))?;
        let text = output
            .secret_string()
            .ok_or_else(|| self.secret_error("the secret has no SecretString".into()))?;
        let credentials = ClientCredentials::from_secret_json(text).map_err(|error| {
            CredentialsError::Format {
                origin: format!("Secrets Manager secret {}", self.secret_id),
                error,
            }
        })?;
        let mut slot = self.credentials.write().unwrap_or_else(|e| e.into_inner());
        if slot.as_deref() != Some(&credentials) {
            tracing::info!(client_id = %credentials.client_id, secret_id = %self.secret_id,
                "client credentials loaded from Secrets Manager");
            *slot = Some(Arc::new(credentials));
        }
        Ok(slot.clone().expect("just set"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_region_is_found_only_in_arns() {
        assert_eq!(
            arn_region("arn:aws:secretsmanager:eu-central-1:123:secret:x-AbC"),
            Some("eu-central-1")
        );
        assert_eq!(
            arn_region("arn:aws-cn:secretsmanager:cn-north-1:123:secret:x-AbC"),
            Some("cn-north-1")
        );
        assert_eq!(arn_region("plain-name"), None);
        assert_eq!(arn_region("arn:aws:s3:::bucket"), None);
    }
}
