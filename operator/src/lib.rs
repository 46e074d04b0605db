//! The cognito-client-operator: reconciles `CognitoClient` resources into Secrets holding Cognito
//! app client credentials read from AWS Secrets Manager or from Cognito itself.
//!
//! Where things are:
//! - Start-up: [`config`] (the command line, binary only) fills [`settings`], which [`run`]
//!   ([`lifecycle`]) takes with the [`Dependencies`] it talks to.
//! - The kinds: [`cognito_client`] (types, reconcile, sources, the Secret it owns) and
//!   [`resource_server`] (types, reconcile, deletion); [`crd`] generates their
//!   CustomResourceDefinitions.
//! - Shared by every kind: [`context`] (what reconciles share), [`condition`] (the status
//!   vocabulary), [`error`] (failures and their reasons), [`report`] (status patches and
//!   Events), [`managed`] (finalizer, adoption, deletion policy), [`cognito_api`] (every Cognito
//!   call), [`backoff`] (retries), [`aws`] (SDK clients per Region).
//! - Runtime: [`controller`] (the watches), [`leader`] (the Lease), [`server`] (the HTTP server
//!   of [`health`] probes and [`metrics`], laid out as the two services' are).

pub mod aws;
pub mod backoff;
pub mod cognito_api;
pub mod cognito_client;
pub mod condition;
pub mod config;
pub mod context;
pub mod controller;
pub mod crd;
pub mod error;
pub mod health;
pub mod leader;
pub mod lifecycle;
pub mod managed;
pub mod metrics;
pub mod report;
pub mod resource_server;
pub mod server;
pub mod settings;

pub use config::Config;
pub use lifecycle::{Dependencies, RunError, run, run_with_metrics};
pub use settings::{LeaderElection, Settings};

/// The operator's name: the managed-by label's value, its server-side-apply field manager and
/// its Event reporter.
pub const MANAGER: &str = "cognito-client-operator";
