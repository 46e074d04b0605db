//! Development and tests only: a Cognito-compatible token issuer. Never use it in production.
//!
//! It signs RS256 access tokens shaped like Amazon Cognito's, serves the pool's JWKS and answers
//! the client-credentials grant, so the whole flow runs on one machine without an AWS account.

pub mod keys;
