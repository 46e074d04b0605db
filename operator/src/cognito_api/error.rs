//! What a Cognito admin call can fail with, classified by Cognito's exception names (each
//! operation's "Errors" section in the Amazon Cognito user pools API reference).

/// A failed Cognito admin call. Messages are Cognito's (never a secret value) prefixed with
/// the operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CognitoApiError {
    /// `ResourceNotFoundException`: the user pool, app client or resource server does not exist.
    #[error("{operation}: not found: {message}")]
    NotFound {
        /// The Cognito operation.
        operation: &'static str,
        /// Cognito's message.
        message: String,
    },
    /// `ScopeDoesNotExistException`: an app client names a scope no resource server defines.
    #[error("{operation}: a scope does not exist in the user pool: {message}")]
    ScopeDoesNotExist {
        /// The Cognito operation.
        operation: &'static str,
        /// Cognito's message.
        message: String,
    },
    /// `InvalidParameterException`, `InvalidOAuthFlowException`: Cognito refused a value.
    #[error("{operation}: invalid parameter: {message}")]
    InvalidParameter {
        /// The Cognito operation.
        operation: &'static str,
        /// Cognito's message.
        message: String,
    },
    /// `LimitExceededException`: a quota on the number of objects (resource servers per pool,
    /// app clients per pool, two secrets per app client).
    #[error("{operation}: limit exceeded: {message}")]
    LimitExceeded {
        /// The Cognito operation.
        operation: &'static str,
        /// Cognito's message.
        message: String,
    },
    /// `NotAuthorizedException` and IAM's refusals: the operator's role may not do this.
    #[error("{operation}: access denied: {message}")]
    AccessDenied {
        /// The Cognito operation.
        operation: &'static str,
        /// Cognito's message.
        message: String,
    },
    /// `TooManyRequestsException`: throttled, even after the SDK's own retries.
    #[error("{operation}: throttled by Cognito: {message}")]
    Throttled {
        /// The Cognito operation.
        operation: &'static str,
        /// Cognito's message.
        message: String,
    },
    /// Anything else: `InternalErrorException`, `ConcurrentModificationException`, a network
    /// failure or a timeout; worth retrying later.
    #[error("{operation}: {message}")]
    Unavailable {
        /// The Cognito operation.
        operation: &'static str,
        /// What failed.
        message: String,
    },
}

impl CognitoApiError {
    /// Classifies an SDK failure by its error code; `None` means Cognito never answered.
    pub fn from_code(operation: &'static str, code: Option<&str>, message: Option<&str>) -> Self {
        let message = match (code, message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.to_owned(),
            (None, Some(m)) => m.to_owned(),
            (None, None) => "Cognito could not be reached".to_owned(),
        };
        match code {
            Some("ResourceNotFoundException" | "UserPoolNotFoundException") => {
                CognitoApiError::NotFound { operation, message }
            }
            Some("ScopeDoesNotExistException") => {
                CognitoApiError::ScopeDoesNotExist { operation, message }
            }
            Some(
                "InvalidParameterException" | "InvalidOAuthFlowException" | "ValidationException",
            ) => CognitoApiError::InvalidParameter { operation, message },
            Some("LimitExceededException") => CognitoApiError::LimitExceeded { operation, message },
            Some(
                "NotAuthorizedException"
                | "AccessDeniedException"
                | "UnrecognizedClientException"
                | "InvalidSignatureException"
                | "ExpiredTokenException"
                | "InvalidClientTokenId",
            ) => CognitoApiError::AccessDenied { operation, message },
            Some("TooManyRequestsException" | "ThrottlingException") => {
                CognitoApiError::Throttled { operation, message }
            }
            _ => CognitoApiError::Unavailable { operation, message },
        }
    }

    /// Whether Cognito said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, CognitoApiError::NotFound { .. })
    }

    /// The short outcome label used in metrics (`not_found`, `throttled`, ...).
    pub fn outcome(&self) -> &'static str {
        match self {
            CognitoApiError::NotFound { .. } => "not_found",
            CognitoApiError::ScopeDoesNotExist { .. } => "scope_does_not_exist",
            CognitoApiError::InvalidParameter { .. } => "invalid_parameter",
            CognitoApiError::LimitExceeded { .. } => "limit_exceeded",
            CognitoApiError::AccessDenied { .. } => "access_denied",
            CognitoApiError::Throttled { .. } => "throttled",
            CognitoApiError::Unavailable { .. } => "unavailable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        let cases = [
            ("ResourceNotFoundException", "not_found"),
            ("ScopeDoesNotExistException", "scope_does_not_exist"),
            ("InvalidParameterException", "invalid_parameter"),
            ("InvalidOAuthFlowException", "invalid_parameter"),
            ("LimitExceededException", "limit_exceeded"),
            ("NotAuthorizedException", "access_denied"),
            ("AccessDeniedException", "access_denied"),
            ("TooManyRequestsException", "throttled"),
            ("InternalErrorException", "unavailable"),
            ("ConcurrentModificationException", "unavailable"),
        ];
        for (code, outcome) in cases {
            let err = CognitoApiError::from_code("CreateUserPoolClient", Some(code), Some("m"));
            assert_eq!(err.outcome(), outcome, "{code}");
            assert!(err.to_string().contains(code), "{err}");
            assert!(
                err.to_string().starts_with("CreateUserPoolClient: "),
                "{err}"
            );
        }
        let silent = CognitoApiError::from_code("DescribeResourceServer", None, None);
        assert_eq!(silent.outcome(), "unavailable");
        assert!(silent.to_string().contains("could not be reached"));
    }
}
