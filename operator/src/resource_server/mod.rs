//! `CognitoResourceServer`: a Cognito resource server and its custom scopes, created, kept and
//! deleted from Kubernetes: its types, one reconcile ([`reconcile`]), what deletion does
//! ([`deletion`]), its status and Events.

pub mod deletion;
pub mod events;
pub mod reconcile;
pub mod status;
pub mod types;

pub use types::{
    CognitoResourceServer, CognitoResourceServerSpec, CognitoResourceServerStatus,
    ResourceServerScope, ResourceServerSpecError,
};
