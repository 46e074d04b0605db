//! Getting a token for one scope set from the token endpoint: retries of transient failures
//! within a deadline, one more try with credentials read again after `invalid_client` (a rotated
//! secret), and recording the outcome in the scope set's entry.

use std::sync::Arc;
use std::time::Instant;

use super::entry::{CachedToken, FailedFetch, ScopeSetEntry, same_client};
use super::{SharedCache, TokenCacheError};
use crate::credentials::ClientCredentials;
use crate::single_flight::Flight;
use crate::token_client::{AccessToken, OAuthErrorCode, TokenError, TokenResponse};

impl SharedCache {
    fn endpoint_for(&self, credentials: &ClientCredentials) -> Result<String, TokenCacheError> {
        self.endpoint_override
            .clone()
            .or_else(|| credentials.token_endpoint.clone())
            .ok_or(TokenCacheError::NoTokenEndpoint)
    }

    /// Fetches a token by `deadline` and records the outcome in `entry`, whose fetches'
    /// `flight` the caller holds.
    pub(super) async fn fetch_and_store(
        &self,
        scopes: &[String],
        entry: &ScopeSetEntry,
        flight: &Flight,
        credentials: Arc<ClientCredentials>,
        deadline: tokio::time::Instant,
    ) -> Result<AccessToken, TokenCacheError> {
        match self
            .fetch_with_rotation(scopes, credentials.clone(), deadline)
            .await
        {
            Ok((response, sent_at, used)) => {
                let lifetime = response.expires_in;
                tracing::debug!(
                    scopes = ?scopes,
                    expires_in_seconds = lifetime.as_secs(),
                    "access token fetched from the token endpoint"
                );
                let cached = Arc::new(CachedToken {
                    token: response.access_token,
                    refresh_at: sent_at + lifetime - self.policy.margin(lifetime),
                    expires_at: sent_at + lifetime,
                    credentials: used,
                });
                entry.record_token(cached.clone());
                entry.fetches.succeeded(flight);
                Ok(cached.token.clone())
            }
            Err(error) => {
                tracing::debug!(scopes = ?scopes, %error, "access token request failed");
                let failure = FailedFetch {
                    error: error.clone(),
                    credentials,
                };
                entry
                    .fetches
                    .failed(flight, self.clock.monotonic(), failure);
                Err(error)
            }
        }
    }

    /// One fetch; when the endpoint says `invalid_client`, the credentials are read again and,
    /// if they changed (a rotated secret), tried once more.
    async fn fetch_with_rotation(
        &self,
        scopes: &[String],
        credentials: Arc<ClientCredentials>,
        deadline: tokio::time::Instant,
    ) -> Result<(TokenResponse, Instant, Arc<ClientCredentials>), TokenCacheError> {
        let endpoint = self.endpoint_for(&credentials)?;
        let error = match self
            .request_with_retries(&endpoint, &credentials, scopes, deadline)
            .await
        {
            Ok((response, sent_at)) => return Ok((response, sent_at, credentials)),
            Err(error) => error,
        };
        let rejected = matches!(
            &error,
            TokenError::OAuth {
                code: OAuthErrorCode::InvalidClient,
                ..
            }
        );
        if !rejected {
            return Err(error.into());
        }
        let reloaded = match self.credentials.reload_after_rejection().await {
            Ok(reloaded) if !same_client(&reloaded, &credentials) => reloaded,
            _ => return Err(error.into()),
        };
        tracing::info!(client_id = %reloaded.client_id,
            "client rejected; retrying once with the credentials read again");
        let endpoint = self.endpoint_for(&reloaded)?;
        let (response, sent_at) = self
            .request_with_retries(&endpoint, &reloaded, scopes, deadline)
            .await?;
        Ok((response, sent_at, reloaded))
    }

    /// Up to `max_attempts` requests by `deadline` (the caller's, counted from its call),
    /// retrying transient failures only. Returns the response and when (by the injected clock)
    /// its request was sent. A final [`TokenError::Timeout`] names the time the caller waited
    /// ([`Self::waited`]), not the last attempt's share of it.
    async fn request_with_retries(
        &self,
        endpoint: &str,
        credentials: &ClientCredentials,
        scopes: &[String],
        deadline: tokio::time::Instant,
    ) -> Result<(TokenResponse, Instant), TokenError> {
        self.request_by_deadline(endpoint, credentials, scopes, deadline)
            .await
            .map_err(|error| match error {
                TokenError::Timeout(_) => TokenError::Timeout(self.waited(deadline)),
                other => other,
            })
    }

    /// The time a caller whose deadline is `deadline` waited: the whole deadline when it was
    /// spent (a caller is never kept longer), else the time taken, in whole milliseconds.
    fn waited(&self, deadline: tokio::time::Instant) -> std::time::Duration {
        let began = deadline
            .checked_sub(self.policy.deadline)
            .unwrap_or(deadline);
        let taken = began.elapsed();
        if taken >= self.policy.deadline {
            return self.policy.deadline;
        }
        std::time::Duration::from_millis(taken.as_millis() as u64)
    }

    /// [`Self::request_with_retries`]' attempts.
    async fn request_by_deadline(
        &self,
        endpoint: &str,
        credentials: &ClientCredentials,
        scopes: &[String],
        deadline: tokio::time::Instant,
    ) -> Result<(TokenResponse, Instant), TokenError> {
        let mut attempt = 1;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                // The caller's deadline went on waiting for credentials.
                return Err(TokenError::Timeout(self.policy.deadline));
            }
            let timeout = self.policy.attempt_timeout.min(remaining);
            let sent_at = self.clock.monotonic();
            let started = Instant::now();
            let result = self
                .client
                .request_token(endpoint, credentials, scopes, timeout)
                .await;
            let outcome = match &result {
                Ok(_) => "success",
                Err(error) => error.outcome(),
            };
            self.events.token_request(outcome, started.elapsed());
            let error = match result {
                Ok(response) => return Ok((response, sent_at)),
                Err(error) => error,
            };
            if !error.is_transient() || attempt >= self.policy.max_attempts {
                return Err(error);
            }
            let delay = self.policy.backoff(attempt, &mut rand::rng());
            if tokio::time::Instant::now() + delay >= deadline {
                return Err(error);
            }
            tracing::warn!(attempt, %error, ?delay, "token request failed; retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}
