//! Loopback ports for servers started by tests.

use std::net::TcpListener;

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("loopback has free ports")
        .port()
}

/// `http://127.0.0.1:PORT{path}` on a port where nothing listens (it was free a moment ago): an
/// endpoint that is down.
pub fn closed_url(path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", free_port())
}
