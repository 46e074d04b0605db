//! Development and tests only: a Cognito-compatible token issuer. Never use it in production.
//!
//! It signs RS256 access tokens shaped like Amazon Cognito's, serves the pool's JWKS and answers
//! the client-credentials grant, so the whole flow runs on one machine without an AWS account.
//!
//! - [`issuer`]: configuration, the grant's rules and errors, minting; [`issuer::start`] serves it.
//! - [`pool`]: the pool's registry of resource servers, app clients and their secrets, shared by
//!   the token endpoint and the admin API.
//! - [`admin_api`]: Cognito's administrative API (resource servers, app clients, client secrets)
//!   as the AWS SDKs call it, on the same server (`POST /`).
//! - [`claims`]: the access-token claims, for tests that mint tokens by hand.
//! - [`client_auth`]: client credentials from `Authorization: Basic`, read as Cognito reads them.
//! - [`keys`]: RSA signing keys and JWKS documents.
//! - [`faults`]: the issuer on a free port with a token endpoint whose failures, secrets and
//!   counters a test controls ([`faults::TestIssuer`]).
//! - [`jwks_server`]: a JWKS endpoint whose answers and request count a test controls.

pub mod admin_api;
pub mod claims;
pub mod client_auth;
pub mod faults;
mod http;
pub mod issuer;
pub mod jwks_server;
pub mod keys;
pub mod pool;

pub use http::serve;
