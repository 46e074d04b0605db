//! A Kubernetes Service as kube-proxy makes one, on loopback: one fixed address whose new
//! connections go to the current endpoint, while established connections stay with the endpoint
//! they were made to (as conntrack keeps them). A test switches the endpoint as the endpoints
//! controller does during a rolling update (new pod ready, old pod removed), and can reset
//! requests as the kernel of a pod that stopped listening does.
//!
//! A stand-in for what cannot run here (kube-proxy, an EKS node's iptables); the services behind
//! it are the real processes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The Service: `url()` is what clients are configured with. Stops listening on drop.
#[derive(Debug)]
pub struct ServiceProxy {
    address: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

#[derive(Debug)]
struct State {
    endpoint: Mutex<SocketAddr>,
    connections: AtomicUsize,
    requests: AtomicUsize,
    resets_armed: AtomicUsize,
}

impl ServiceProxy {
    /// Listens on a free loopback port, sending new connections to `endpoint`.
    pub async fn start(endpoint: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("loopback");
        let address = listener.local_addr().expect("bound");
        let state = Arc::new(State {
            endpoint: Mutex::new(endpoint),
            connections: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            resets_armed: AtomicUsize::new(0),
        });
        let accept = tokio::spawn({
            let state = state.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    state.connections.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(relay(client, state.clone()));
                }
            }
        });
        Self {
            address,
            state,
            accept,
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// New connections go to `endpoint` from now on; established ones stay where they are.
    pub fn set_endpoint(&self, endpoint: SocketAddr) {
        *self.state.endpoint.lock().expect("not poisoned") = endpoint;
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Requests (first bytes after a connection was idle) relayed or reset so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// The next `count` requests, on any connection (new or kept alive), are answered with a
    /// TCP reset before any response byte, as a server that died with them unread would.
    pub fn reset_next_requests(&self, count: usize) {
        self.state.resets_armed.store(count, Ordering::SeqCst);
    }
}

impl Drop for ServiceProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Relays one connection to the endpoint current when it was accepted. The client's bytes are
/// read in chunks: a chunk after the previous one was answered begins a request (HTTP/1.1
/// clients send a request with no body in one write).
async fn relay(client: TcpStream, state: Arc<State>) {
    let endpoint = *state.endpoint.lock().expect("not poisoned");
    let Ok(upstream) = TcpStream::connect(endpoint).await else {
        // No pod behind the address any more: the client sees its connection reset.
        let _ = client.set_zero_linger();
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let mut down = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut upstream_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
        client_write
    });
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = client_read.read(&mut buffer) => read,
            // The endpoint closed: nothing more will be answered on this connection.
            _ = &mut down => return,
        };
        let Ok(n @ 1..) = read else {
            let _ = upstream_write.shutdown().await;
            let _ = (&mut down).await;
            return;
        };
        state.requests.fetch_add(1, Ordering::SeqCst);
        let armed = state
            .resets_armed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if armed {
            down.abort();
            let _ = client_read.as_ref().set_zero_linger();
            return;
        }
        if upstream_write.write_all(&buffer[..n]).await.is_err() {
            let _ = client_read.as_ref().set_zero_linger();
            down.abort();
            return;
        }
    }
}
