//! A JWKS endpoint that tests control: what it serves, whether it fails or is slow, and how many
//! requests it received (the JWKS cache's penalty box and single flight are judged by that count).

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::Value;

use crate::keys::{SigningKey, jwks_document};

#[derive(Default)]
struct Served {
    document: Mutex<Vec<u8>>,
    hits: AtomicUsize,
    failing: AtomicBool,
    delay_ms: AtomicU64,
}

/// A JWKS server on a free loopback port; it stops when dropped.
pub struct JwksServer {
    /// Where the document is served (any path on the server answers the same).
    pub url: String,
    served: Arc<Served>,
    handle: ServerHandle,
}

impl JwksServer {
    /// Serves the public keys of `keys`. Call from within a Tokio runtime.
    pub fn start(keys: &[&SigningKey]) -> Self {
        let served = Arc::new(Served::default());
        let listener = TcpListener::bind("127.0.0.1:0").expect("loopback has free ports");
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener
                .local_addr()
                .expect("a bound listener has an address")
        );
        let data = web::Data::from(served.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(serve))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen on a bound socket")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        let server = Self {
            url,
            served,
            handle,
        };
        server.publish(keys);
        server
    }

    /// Replaces the served document with the public keys of `keys`.
    pub fn publish(&self, keys: &[&SigningKey]) {
        self.publish_document(&jwks_document(keys.iter().copied()));
    }

    /// Replaces the served document with any JSON.
    pub fn publish_document(&self, document: &Value) {
        self.publish_raw(serde_json::to_vec(document).expect("a JSON value serialises"));
    }

    /// Replaces the served body with any bytes, JSON or not.
    pub fn publish_raw(&self, body: Vec<u8>) {
        *self.served.document.lock().expect("not poisoned") = body;
    }

    /// Makes every request fail with 503 (or recover).
    pub fn set_failing(&self, failing: bool) {
        self.served.failing.store(failing, Ordering::SeqCst);
    }

    /// Delays every answer (a slow or hanging JWKS).
    pub fn set_delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.served.delay_ms.store(millis, Ordering::SeqCst);
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.served.hits.load(Ordering::SeqCst)
    }

    /// Stops the server and waits until it has.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        // Stopping is asynchronous; dropping the future still sends the stop command.
        drop(self.handle.stop(false));
    }
}

async fn serve(served: web::Data<Served>) -> HttpResponse {
    served.hits.fetch_add(1, Ordering::SeqCst);
    let delay = served.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if served.failing.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable().body("down");
    }
    let body = served.document.lock().expect("not poisoned").clone();
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}
