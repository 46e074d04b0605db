//! Tests only: fixtures that several crates' tests share, so each is written once.
//!
//! - [`process`]: third-party test tools found ([`tool`]) and run as child processes
//!   ([`Process`]), killed on drop with their output printed when a test panics, or paused
//!   (a server that hangs).
//! - [`echo_upstream`]: an HTTP upstream in Python ([`EchoUpstream`]) echoing requests, able
//!   to stream slowly, cut its body short, hang or close.
//! - [`k8s_cluster`]: the real Kubernetes API server ([`kubeconfig`], a client, CRDs installed),
//!   and a private one whose kube-apiserver a test stops and starts again.
//! - [`load`]: steady HTTP load from concurrent workers, tallied as "N requests, M failed".
//! - [`moto`]: `moto_server` (PyPI) as AWS Secrets Manager ([`Moto`]), and the secret the AWS
//!   sample stores there ([`seed_secret_json`]).
//! - [`oauth2_mock`]: `oauth2-mock-server` (npm) shaped like a Cognito user pool
//!   ([`Oauth2Cognito`]).
//! - [`ports`]: free and closed loopback ports.
//! - [`repo`]: the checkout under test ([`repo_root`]).
//! - [`secret_volume`]: a folder updated the way the kubelet updates a mounted Secret.
//! - [`service_proxy`]: a Kubernetes Service's address as kube-proxy keeps it through a rolling
//!   update ([`ServiceProxy`]), able to reset requests.
//! - [`wait`]: waiting for what another task or process does ([`wait_until`]).
//!
//! The tools come from `scripts/install-test-tools`; tests that need them are `#[ignore]`d in a
//! bare `cargo test` and run by `scripts/test`. Everything listens on 127.0.0.1 only. Cognito's
//! own stand-in, with faults a test controls, is `local_cognito::faults::TestIssuer`.

pub mod echo_upstream;
pub mod k8s_cluster;
pub mod load;
pub mod moto;
pub mod oauth2_mock;
pub mod ports;
pub mod process;
pub mod repo;
pub mod secret_volume;
pub mod service_proxy;
pub mod wait;

pub use echo_upstream::{EchoUpstream, echoed_header};
pub use k8s_cluster::kubeconfig;
pub use load::{Load, Tally};
pub use moto::{Moto, REGION, seed_secret_json};
pub use oauth2_mock::{Oauth2Cognito, PoolClient};
pub use ports::{closed_url, free_port};
pub use process::{Process, tool, tools_dir, wait_until_ok};
pub use repo::repo_root;
pub use secret_volume::{kubelet_write, temp_volume};
pub use service_proxy::ServiceProxy;
pub use wait::{eventually, wait_until};
