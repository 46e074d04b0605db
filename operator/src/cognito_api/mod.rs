//! Every Cognito admin call the operator makes, behind one small adapter: [`CognitoApi`].
//!
//! Cognito rate-limits its admin API per account and Region and answers
//! `TooManyRequestsException` above the quota. So every call here first waits for the
//! operator's own request budget ([`CognitoApi::new`]'s rate: a token bucket shared by all
//! reconciles), and the SDK runs in its adaptive retry mode: throttled calls are retried with
//! exponential backoff and jitter, and the SDK slows its own sending after a throttle. A
//! throttle that outlasts those retries comes back as [`CognitoApiError::Throttled`] and the
//! reconcile backs off too.

pub mod error;
pub mod model;
mod retry;
mod sdk;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider as cognito;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

pub use error::CognitoApiError;
pub use model::{AppClient, AppClientSettings, ClientSecret, ResourceServer, UserPoolRef};

use crate::metrics::Metrics;

/// Attempts per call, the first included (the SDK's standard is 3; throttling deserves more).
const MAX_ATTEMPTS: u32 = 5;
/// How long one call may take, retries included.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The Cognito user pools admin API, per Region, rate-limited and counted.
pub struct CognitoApi {
    sdk: SdkConfig,
    clients: Mutex<HashMap<String, cognito::Client>>,
    budget: Option<DefaultDirectRateLimiter>,
    metrics: Arc<Metrics>,
}

impl CognitoApi {
    /// An adapter over this SDK configuration sending at most `rate` requests per second
    /// (bursts up to the same number), or unlimited when `None`.
    pub fn new(sdk: SdkConfig, rate: Option<NonZeroU32>, metrics: Arc<Metrics>) -> Self {
        Self {
            sdk,
            clients: Mutex::default(),
            budget: rate.map(|rate| RateLimiter::direct(Quota::per_second(rate))),
            metrics,
        }
    }

    /// The Region of the SDK configuration (`AWS_REGION` in the binary), if any.
    pub fn default_region(&self) -> Option<String> {
        self.sdk.region().map(|r| r.as_ref().to_owned())
    }

    /// The user pool `user_pool_id` in `spec_region` (trimmed; ignored when blank), else in the
    /// operator's own Region; `None` when neither names one.
    pub fn user_pool(&self, spec_region: Option<&str>, user_pool_id: &str) -> Option<UserPoolRef> {
        let region = spec_region
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .or_else(|| self.default_region())?;
        Some(UserPoolRef {
            region,
            user_pool_id: user_pool_id.trim().to_owned(),
        })
    }

    fn client(&self, region: &str) -> cognito::Client {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let conf =
                    retry::limit_exceeded_is_final(cognito::config::Builder::from(&self.sdk))
                        .region(cognito::config::Region::new(region.to_owned()))
                        .retry_config(
                            cognito::config::retry::RetryConfig::adaptive()
                                .with_max_attempts(MAX_ATTEMPTS),
                        )
                        .timeout_config(
                            cognito::config::timeout::TimeoutConfig::builder()
                                .operation_timeout(OPERATION_TIMEOUT)
                                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                                .build(),
                        )
                        .build();
                cognito::Client::from_conf(conf)
            })
            .clone()
    }

    /// Waits for the request budget, then returns the Region's client.
    async fn ready(&self, pool: &UserPoolRef) -> cognito::Client {
        if let Some(budget) = &self.budget {
            budget.until_ready().await;
        }
        self.client(&pool.region)
    }

    /// Counts a call's outcome and classifies its failure.
    fn finish<T, E>(
        &self,
        operation: &'static str,
        result: Result<T, cognito::error::SdkError<E>>,
    ) -> Result<T, CognitoApiError>
    where
        E: cognito::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        use cognito::error::{DisplayErrorContext, ProvideErrorMetadata};
        let result = result.map_err(|e| {
            // No code: Cognito never answered (timeout, connection); the SDK's chain says why.
            let detail = e.message().map(str::to_owned).or_else(|| {
                e.code()
                    .is_none()
                    .then(|| DisplayErrorContext(&e).to_string())
            });
            CognitoApiError::from_code(operation, e.code(), detail.as_deref())
        });
        self.metrics.cognito_request(
            operation,
            result.as_ref().err().map_or("ok", CognitoApiError::outcome),
        );
        result
    }
}
