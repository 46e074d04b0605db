//! The `CognitoClient` kind: its types, how one is reconciled into a Secret, where its
//! credentials come from, and the Secret it owns.

pub mod events;
pub mod reconcile;
pub mod refresh;
pub mod secret;
pub mod source;
mod types;

pub use types::{
    AppClientSource, CognitoClient, CognitoClientSpec, CognitoClientStatus, CredentialsSourceSpec,
    DEFAULT_REFRESH_INTERVAL, SecretsManagerSource, Source, SpecError, TargetSpec,
};
