//! Development and tests only: why the pool refused an administrative change, as the exceptions
//! of Cognito's API reference name it (each variant's `exception()` is the `__type` AWS sends).

/// A refused change to the pool, named after the Cognito exception AWS answers with. The message
/// names the parameter or resource at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// `ResourceNotFoundException`: no such user pool, app client, resource server or secret.
    #[error("{0}")]
    ResourceNotFound(String),
    /// `InvalidParameterException`: a parameter breaks a documented constraint.
    #[error("{0}")]
    InvalidParameter(String),
    /// `ScopeDoesNotExistException`: `AllowedOAuthScopes` names a scope no resource server
    /// of the pool defines.
    #[error("{0}")]
    ScopeDoesNotExist(String),
    /// `InvalidOAuthFlowException`: `AllowedOAuthFlows` cannot be used as given.
    #[error("{0}")]
    InvalidOAuthFlow(String),
    /// `LimitExceededException`: a third client secret (Cognito keeps at most two).
    #[error("{0}")]
    LimitExceeded(String),
}

impl PoolError {
    /// The exception's name, the `__type` of AWS's error body.
    pub fn exception(&self) -> &'static str {
        match self {
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::InvalidParameter(_) => "InvalidParameterException",
            Self::ScopeDoesNotExist(_) => "ScopeDoesNotExistException",
            Self::InvalidOAuthFlow(_) => "InvalidOAuthFlowException",
            Self::LimitExceeded(_) => "LimitExceededException",
        }
    }

    /// An `InvalidParameterException` naming `field`.
    pub(crate) fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        Self::InvalidParameter(format!("{field}: {why}"))
    }
}

/// The field an `InvalidParameterException` names, for tests of the validation rules; panics on
/// any other outcome.
#[cfg(test)]
pub(crate) fn invalid_field(result: Result<(), PoolError>) -> String {
    match result {
        Err(PoolError::InvalidParameter(message)) => {
            message.split(':').next().unwrap_or_default().to_owned()
        }
        other => panic!("expected InvalidParameterException, got {other:?}"),
    }
}
