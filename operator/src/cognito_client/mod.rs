//! The `CognitoClient` kind: its types, how one is reconciled into a Secret, where its
//! credentials come from, and the Secret it owns.

pub mod events;
pub mod managed;
pub mod reconcile;
pub mod refresh;
pub mod secret;
pub mod source;
mod types;

pub use types::{
    ACCESS_TOKEN_VALIDITY_RANGE, AppClientSource, CognitoClient, CognitoClientSpec,
    CognitoClientStatus, CredentialsSourceSpec, DEFAULT_REFRESH_INTERVAL, DEFAULT_ROTATION_OVERLAP,
    ManagedSource, RotationSchedule, SecretRotation, SecretsManagerSource, Source, SpecError,
    TargetSpec,
};
