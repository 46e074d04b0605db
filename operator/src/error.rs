//! Everything a sync can fail with, and the single mapping from failure to condition reason and
//! retry policy.

use cognito_auth::credentials::CredentialsFormatError;

use crate::cognito_api::CognitoApiError;
use crate::cognito_client::SpecError;
use crate::condition::Reason;
use crate::resource_server::ResourceServerSpecError;

/// Why a sync failed. Messages never contain a secret value.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The spec cannot be acted on.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Neither the spec nor the operator's environment names an AWS region.
    #[error("no AWS region: set spec.region or give the operator AWS_REGION")]
    NoRegion,
    /// The source (secret, pool or app client) does not exist.
    #[error("{0}")]
    SourceNotFound(String),
    /// The source holds no usable credentials.
    #[error("{what}: {detail}")]
    SourceInvalid {
        /// Which source.
        what: String,
        /// What is wrong with it.
        detail: String,
    },
    /// AWS refused the request.
    #[error("{0}")]
    AccessDenied(String),
    /// AWS failed or could not be reached.
    #[error("{0}")]
    SourceUnavailable(String),
    /// The target Secret exists and belongs to someone else.
    #[error("Secret {0} exists and is not owned by this CognitoClient; it is left untouched")]
    SecretConflict(String),
    /// A Kubernetes API request failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// A Cognito admin call failed.
    #[error(transparent)]
    Cognito(#[from] CognitoApiError),
    /// A resource server spec cannot be acted on.
    #[error(transparent)]
    ResourceServerSpec(#[from] ResourceServerSpecError),
    /// The Cognito object exists and was not created by this resource (and adoption was not
    /// asked for): it is never changed or deleted.
    #[error("{0}")]
    AlreadyExists(String),
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Try again after an exponentially growing delay: the cause may go away by itself.
    Backoff,
    /// Retrying cannot help until the resource (or, at the next refresh, the source) changes.
    AwaitChange,
}

impl SyncError {
    /// The condition reason for this failure.
    pub fn reason(&self) -> Reason {
        match self {
            SyncError::Spec(_) | SyncError::NoRegion | SyncError::ResourceServerSpec(_) => {
                Reason::InvalidSpec
            }
            SyncError::AlreadyExists(_) => Reason::AlreadyExists,
            SyncError::Cognito(e) => match e {
                CognitoApiError::NotFound { .. } => Reason::SourceNotFound,
                CognitoApiError::ScopeDoesNotExist { .. } => Reason::UnknownScope,
                CognitoApiError::InvalidParameter { .. } => Reason::InvalidSpec,
                CognitoApiError::LimitExceeded { .. } => Reason::LimitExceeded,
                CognitoApiError::AccessDenied { .. } => Reason::AccessDenied,
                CognitoApiError::Throttled { .. } | CognitoApiError::Unavailable { .. } => {
                    Reason::SourceUnavailable
                }
            },
            SyncError::SourceNotFound(_) => Reason::SourceNotFound,
            SyncError::SourceInvalid { .. } => Reason::SourceInvalid,
            SyncError::AccessDenied(_) => Reason::AccessDenied,
            SyncError::SourceUnavailable(_) => Reason::SourceUnavailable,
            SyncError::SecretConflict(_) => Reason::SecretConflict,
            SyncError::Kube(_) => Reason::KubernetesError,
        }
    }

    /// Whether retrying can help without a change to the resource.
    ///
    /// A missing source may be created, a permission granted, a foreign Secret deleted, a
    /// scope defined or a quota raised without any event the operator watches, so those back
    /// off (exponentially, so never a storm) and retry; a malformed spec or source does not fix
    /// itself.
    pub fn retry(&self) -> Retry {
        match self {
            SyncError::Spec(_)
            | SyncError::NoRegion
            | SyncError::SourceInvalid { .. }
            | SyncError::ResourceServerSpec(_)
            | SyncError::Cognito(CognitoApiError::InvalidParameter { .. }) => Retry::AwaitChange,
            SyncError::AlreadyExists(_) | SyncError::Cognito(_) => Retry::Backoff,
            SyncError::SourceNotFound(_)
            | SyncError::AccessDenied(_)
            | SyncError::SourceUnavailable(_)
            | SyncError::SecretConflict(_)
            | SyncError::Kube(_) => Retry::Backoff,
        }
    }

    /// A source whose content is not credentials.
    pub fn invalid_credentials(what: impl Into<String>, err: CredentialsFormatError) -> Self {
        SyncError::SourceInvalid {
            what: what.into(),
            detail: err.to_string(),
        }
    }

    /// Classifies an AWS error by its error code (the same codes across Secrets Manager and
    /// Cognito); `None` means no service answer at all (network, timeout).
    pub fn from_aws(what: &str, code: Option<&str>, message: Option<&str>) -> Self {
        let text = match (code, message) {
            (Some(c), Some(m)) => format!("{what}: {c}: {m}"),
            (Some(c), None) => format!("{what}: {c}"),
            (None, Some(m)) => format!("{what}: {m}"),
            (None, None) => format!("{what}: AWS could not be reached"),
        };
        match code {
            Some("ResourceNotFoundException" | "UserPoolNotFoundException") => {
                SyncError::SourceNotFound(text)
            }
            // Secrets Manager answers this for a secret scheduled for deletion.
            Some("InvalidRequestException") => SyncError::SourceNotFound(text),
            Some(
                "AccessDeniedException"
                | "AccessDenied"
                | "UnrecognizedClientException"
                | "NotAuthorizedException"
                | "InvalidSignatureException"
                | "ExpiredTokenException"
                | "InvalidClientTokenId"
                // KMS refused to decrypt: a permission problem on the key.
                | "DecryptionFailure",
            ) => SyncError::AccessDenied(text),
            Some("InvalidParameterException" | "ValidationException") => {
                SyncError::SourceInvalid {
                    what: what.to_owned(),
                    detail: text,
                }
            }
            _ => SyncError::SourceUnavailable(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_codes_map_to_reasons() {
        let cases = [
            (Some("ResourceNotFoundException"), Reason::SourceNotFound),
            (Some("InvalidRequestException"), Reason::SourceNotFound),
            (Some("AccessDeniedException"), Reason::AccessDenied),
            (Some("NotAuthorizedException"), Reason::AccessDenied),
            (Some("DecryptionFailure"), Reason::AccessDenied),
            (Some("InvalidParameterException"), Reason::SourceInvalid),
            (Some("ThrottlingException"), Reason::SourceUnavailable),
            (Some("InternalServiceError"), Reason::SourceUnavailable),
            (None, Reason::SourceUnavailable),
        ];
        for (code, reason) in cases {
            assert_eq!(
                SyncError::from_aws("secret x", code, Some("m")).reason(),
                reason,
                "{code:?}"
            );
        }
    }

    #[test]
    fn permanent_failures_wait_and_transient_ones_back_off() {
        assert_eq!(
            SyncError::Spec(SpecError::SourceNotExactlyOne).retry(),
            Retry::AwaitChange
        );
        assert_eq!(
            SyncError::invalid_credentials("x", CredentialsFormatError::Missing("client_id"))
                .retry(),
            Retry::AwaitChange
        );
        assert_eq!(
            SyncError::SourceNotFound("x".into()).retry(),
            Retry::Backoff
        );
        assert_eq!(
            SyncError::SecretConflict("x".into()).retry(),
            Retry::Backoff
        );
        assert_eq!(SyncError::from_aws("x", None, None).retry(), Retry::Backoff);
    }

    #[test]
    fn messages_name_the_source_and_code() {
        let e = SyncError::from_aws(
            "Secrets Manager secret app",
            Some("ResourceNotFoundException"),
            Some("Secrets Manager can't find the specified secret."),
        );
        assert_eq!(
            e.to_string(),
            "Secrets Manager secret app: ResourceNotFoundException: Secrets Manager can't find the specified secret."
        );
    }
}
