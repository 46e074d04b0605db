//! Everything about Cognito tokens that our services share, and nothing about web frameworks:
//! verifying access tokens (JWKS cache, verifier, scope rules) and obtaining them with the
//! client-credentials grant (token client, token cache, credentials sources).

pub mod authorization;
pub mod bearer;
pub mod clock;
pub mod cognito;
pub mod credentials;
pub mod jwks;
pub mod policy;
pub mod scopes;
pub mod single_flight;
pub mod token_cache;
pub mod token_client;
pub mod trusted_issuers;
pub mod verifier;
