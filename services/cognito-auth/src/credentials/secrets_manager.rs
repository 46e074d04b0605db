//! Credentials from an AWS Secrets Manager secret (either JSON key set), as the seed stores them.
//!
//! The secret is fetched on first use and kept; it is fetched again when the token endpoint
//! answers `invalid_client`, which is what a rotated client secret looks like from here. Every
//! fetch goes through one [`SingleFlight`]: concurrent callers share one `GetSecretValue`, a
//! failure is answered again for [`FetchLimits::failure_cooldown`] instead of costing each
//! caller a call of its own, and a fetch that has not answered within
//! [`FetchLimits::timeout`] fails (a hanging endpoint holds no caller longer).

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::error::DisplayErrorContext;

use super::{ClientCredentials, CredentialsError};
use crate::single_flight::{Meanwhile, SingleFlight};

/// Rejections arriving faster than this do not each cost a Secrets Manager call.
const REFETCH_INTERVAL: Duration = Duration::from_secs(5);

/// How long one fetch may take and how long its failure is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// Time allowed for one fetch, the SDK's own retries included; a caller waits at most this
    /// long for credentials. Services set it to what their callers wait at most
    /// (content-consumer: `TOKEN_DEADLINE`).
    pub timeout: Duration,
    /// After a failed fetch, callers get that failure again for this long instead of starting
    /// another fetch.
    pub failure_cooldown: Duration,
}

impl Default for FetchLimits {
    /// 5 s and 1 s: the token cache's default deadline and failure cooldown.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            failure_cooldown: Duration::from_secs(1),
        }
    }
}

/// A Secrets Manager secret holding client credentials.
#[derive(Debug)]
pub struct SecretsManagerSource {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    limits: FetchLimits,
    credentials: RwLock<Option<Arc<ClientCredentials>>>,
    fetches: SingleFlight<CredentialsError>,
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
    /// `AWS_ENDPOINT_URL`). Nothing is fetched yet: start-up never waits on Secrets Manager
    /// (readiness reports whether the secret has been fetched, see [`Self::loaded`]).
    pub async fn from_env(secret_id: impl Into<String>, limits: FetchLimits) -> Self {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3).min(limits.timeout))
            .build();
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(timeouts)
            .load()
            .await;
        Self::from_sdk_config(&config, secret_id).with_limits(limits)
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

    /// A source for `secret_id` using `client`, with default [`FetchLimits`]; nothing is
    /// fetched until first use.
    pub fn with_client(
        client: aws_sdk_secretsmanager::Client,
        secret_id: impl Into<String>,
    ) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
            limits: FetchLimits::default(),
            credentials: RwLock::new(None),
            fetches: SingleFlight::default(),
            last_refetch: Mutex::new(None),
        }
    }

    /// The same source with other fetch limits.
    pub fn with_limits(self, limits: FetchLimits) -> Self {
        Self { limits, ..self }
    }

    /// The credentials fetched last, fetching them if there are none yet (sharing a fetch in
    /// flight, or a failure less than the cooldown old).
    pub async fn current(&self) -> Result<Arc<ClientCredentials>, CredentialsError> {
        if let Some(credentials) = self.cached() {
            return Ok(credentials);
        }
        let (flight, meanwhile) = self.fetches.enter().await;
        if let Some(credentials) = self.cached() {
            return Ok(credentials);
        }
        if let Meanwhile::Failed(failure) = meanwhile {
            return Err(failure.cause);
        }
        if let Some(failure) = self
            .fetches
            .cooling(Instant::now(), self.limits.failure_cooldown)
        {
            return Err(failure.cause);
        }
        let result = self.fetch().await;
        match &result {
            Ok(_) => self.fetches.succeeded(&flight),
            Err(error) => {
                // At most once per cooldown: callers meanwhile share this failure.
                tracing::warn!(%error, "client credentials not available yet");
                self.fetches.failed(&flight, Instant::now(), error.clone());
            }
        }
        result
    }

    /// Fetches the secret again (at most once per few seconds), keeping the old credentials if
    /// the fetch fails.
    pub async fn refetch_after_rejection(
        &self,
    ) -> Result<Arc<ClientCredentials>, CredentialsError> {
        let (flight, _) = self.fetches.enter().await;
        let due = {
            let mut last = self.last_refetch.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|at| at.elapsed() >= REFETCH_INTERVAL);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if !due {
            return self.loaded();
        }
        match self.fetch().await {
            Ok(credentials) => {
                self.fetches.succeeded(&flight);
                Ok(credentials)
            }
            Err(error) => {
                // Kept credentials still serve: the failure is shared only while there are none.
                match self.cached() {
                    Some(credentials) => {
                        self.fetches.finished(&flight);
                        Ok(credentials)
                    }
                    None => {
                        self.fetches.failed(&flight, Instant::now(), error.clone());
                        Err(error)
                    }
                }
            }
        }
    }

    /// The credentials held now, or why there are none (the last fetch's failure), without
    /// calling Secrets Manager: what a readiness probe may ask.
    pub fn loaded(&self) -> Result<Arc<ClientCredentials>, CredentialsError> {
        if let Some(credentials) = self.cached() {
            return Ok(credentials);
        }
        Err(match self.fetches.failure() {
            Some(failure) => failure.cause,
            None => self.secret_error("not fetched yet".into()),
        })
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

    /// One `GetSecretValue` within the fetch timeout. The caller holds the flight.
    async fn fetch(&self) -> Result<Arc<ClientCredentials>, CredentialsError> {
        let request = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send();
        let output = tokio::time::timeout(self.limits.timeout, request)
            .await
            .map_err(|_| {
                self.secret_error(format!(
                    "Secrets Manager did not answer within {:?}",
                    self.limits.timeout
                ))
            })?
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
