//! The one configured place client credentials come from.

use std::sync::Arc;

#[cfg(feature = "secrets-manager")]
use super::SecretsManagerSource;
use super::{ClientCredentials, CredentialsFormatError, DirSource};

/// Why no usable credentials are available. Messages never contain the client secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// The credentials folder cannot be read.
    #[error("credentials folder {path}: {reason}")]
    Dir {
        /// The folder.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The source was read but what it holds is not usable credentials.
    #[error("credentials from {origin}: {error}")]
    Format {
        /// Where they were read from.
        origin: String,
        /// What is wrong with them.
        error: CredentialsFormatError,
    },
    /// The Secrets Manager secret cannot be fetched.
    #[error("Secrets Manager secret {secret_id}: {reason}")]
    SecretsManager {
        /// The secret id or ARN.
        secret_id: String,
        /// What went wrong.
        reason: String,
    },
}

/// Where client credentials come from: exactly one source per service.
#[derive(Debug)]
pub enum CredentialsProvider {
    /// Credentials known at startup (from environment variables).
    Fixed(Arc<ClientCredentials>),
    /// A mounted Kubernetes Secret, re-read when it changes.
    Dir(DirSource),
    /// An AWS Secrets Manager secret, fetched again when the token endpoint rejects the client.
    #[cfg(feature = "secrets-manager")]
    SecretsManager(SecretsManagerSource),
}

impl CredentialsProvider {
    /// Fixed credentials.
    pub fn fixed(credentials: ClientCredentials) -> Self {
        Self::Fixed(Arc::new(credentials))
    }

    /// The credentials to use now (cheap: sources cache what they read).
    pub async fn current(&self) -> Result<Arc<ClientCredentials>, CredentialsError> {
        match self {
            Self::Fixed(credentials) => Ok(credentials.clone()),
            Self::Dir(dir) => dir.current(),
            #[cfg(feature = "secrets-manager")]
            Self::SecretsManager(secret) => secret.current().await,
        }
    }

    /// Called when the token endpoint answered `invalid_client`: the secret may have been rotated,
    /// so read the source again. Returns what the source holds afterwards.
    pub async fn reload_after_rejection(&self) -> Result<Arc<ClientCredentials>, CredentialsError> {
        match self {
            Self::Fixed(credentials) => Ok(credentials.clone()),
            Self::Dir(dir) => dir.reload(),
            #[cfg(feature = "secrets-manager")]
            Self::SecretsManager(secret) => secret.refetch_after_rejection().await,
        }
    }

    /// The credentials held now, or why there are none, without any remote call (a folder is
    /// re-read if it changed: that is local): what a readiness probe may ask within its short
    /// timeout, where [`Self::current`] may wait for a fetch.
    pub fn loaded(&self) -> Result<Arc<ClientCredentials>, CredentialsError> {
        match self {
            Self::Fixed(credentials) => Ok(credentials.clone()),
            Self::Dir(dir) => dir.current(),
            #[cfg(feature = "secrets-manager")]
            Self::SecretsManager(secret) => secret.loaded(),
        }
    }

    /// Whether usable credentials have been loaded (readiness).
    pub fn is_loaded(&self) -> bool {
        match self {
            Self::Fixed(_) => true,
            Self::Dir(dir) => dir.is_loaded(),
            #[cfg(feature = "secrets-manager")]
            Self::SecretsManager(secret) => secret.is_loaded(),
        }
    }
}
