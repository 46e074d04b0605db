//! Which Cognito failures the SDK may retry by itself.
//!
//! The SDK counts `LimitExceededException` among throttling errors (for some services it is
//! one), and retries it with backoff. Cognito uses it for quotas on the number of objects: a
//! third client secret, more app clients or resource servers than a pool may hold. Retrying
//! cannot help and only delays the answer (and, in adaptive mode, slows every other call), so
//! these operations' `LimitExceededException` is final here; the reconcile reports it and backs
//! off on its own schedule.

use std::error::Error as StdError;
use std::marker::PhantomData;

use aws_sdk_cognitoidentityprovider::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::operation::{
    add_user_pool_client_secret::AddUserPoolClientSecretError,
    create_resource_server::CreateResourceServerError,
    create_user_pool_client::CreateUserPoolClientError,
    update_resource_server::UpdateResourceServerError,
    update_user_pool_client::UpdateUserPoolClientError,
};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;

/// Cognito's error code for a quota on the number of objects.
const LIMIT_EXCEEDED: &str = "LimitExceededException";

/// Forbids retrying `E`'s `LimitExceededException`.
#[derive(Debug)]
struct LimitExceededIsFinal<E>(PhantomData<fn() -> E>);

impl<E> ClassifyRetry for LimitExceededIsFinal<E>
where
    E: StdError + ProvideErrorMetadata + Send + Sync + 'static,
{
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let code = match ctx.output_or_error() {
            Some(Err(error)) => OrchestratorError::as_operation_error(error)
                .and_then(|e| e.downcast_ref::<E>())
                .and_then(ProvideErrorMetadata::code),
            _ => None,
        };
        if code == Some(LIMIT_EXCEEDED) {
            // Any classifier forbidding a retry wins over those indicating one.
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "Cognito LimitExceededException is final"
    }
}

/// Adds the classifiers to a Cognito client configuration: one per operation that can answer
/// `LimitExceededException` (its error type is the operation's own).
pub fn limit_exceeded_is_final(
    builder: aws_sdk_cognitoidentityprovider::config::Builder,
) -> aws_sdk_cognitoidentityprovider::config::Builder {
    builder
        .retry_classifier(LimitExceededIsFinal::<AddUserPoolClientSecretError>(
            PhantomData,
        ))
        .retry_classifier(LimitExceededIsFinal::<CreateUserPoolClientError>(
            PhantomData,
        ))
        .retry_classifier(LimitExceededIsFinal::<CreateResourceServerError>(
            PhantomData,
        ))
        .retry_classifier(LimitExceededIsFinal::<UpdateUserPoolClientError>(
            PhantomData,
        ))
        .retry_classifier(LimitExceededIsFinal::<UpdateResourceServerError>(
            PhantomData,
        ))
}
