//! `CognitoResourceServer`: a Cognito resource server and its custom scopes, created, kept and
//! deleted from Kubernetes.

pub mod types;

pub use types::{
    CognitoResourceServer, CognitoResourceServerSpec, CognitoResourceServerStatus,
    ResourceServerScope, ResourceServerSpecError,
};
