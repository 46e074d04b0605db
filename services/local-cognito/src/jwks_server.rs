//! A JWKS endpoint that tests control: what it serves, with which status and headers, whether it
//! fails or is slow, how many requests it received (the JWKS cache's penalty box and single
//! flight are judged by that count) and the headers of the last one.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

use crate::keys::{SigningKey, jwks_document};

#[derive(Default)]
struct Served {
    document: Mutex<Vec<u8>>,
    hits: AtomicUsize,
    failing: AtomicBool,
    delay_ms: AtomicU64,
    /// Status of successful answers (200 unless a test says otherwise).
    status: Mutex<Option<StatusCode>>,
    /// Headers added to (or replacing those of) every successful answer.
    headers: Mutex<Vec<(HeaderName, HeaderValue)>>,
    /// The method, path and headers of the last request, names lower-case.
    last_request: Mutex<Option<Request>>,
}

/// What a client sent.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The headers, in order, names lower-case.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The value of header `name` (lower-case), if sent once or more (the first).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
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

    /// Answers with `status` instead of 200 (a redirect, a 204...), still with the document.
    pub fn set_status(&self, status: u16) {
        let status = StatusCode::from_u16(status).expect("a valid status code");
        *self.served.status.lock().expect("not poisoned") = Some(status);
    }

    /// Sends header `name: value` with every answer (replacing `Content-Type` if so named).
    pub fn set_header(&self, name: &str, value: &str) {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        let value = HeaderValue::from_str(value).expect("a valid header value");
        let mut headers = self.served.headers.lock().expect("not poisoned");
        headers.retain(|(n, _)| *n != name);
        headers.push((name, value));
    }

    /// The last request received.
    pub fn last_request(&self) -> Option<Request> {
        self.served
            .last_request
            .lock()
            .expect("not poisoned")
            .clone()
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

async fn serve(request: HttpRequest, served: web::Data<Served>) -> HttpResponse {
    *served.last_request.lock().expect("not poisoned") = Some(Request {
        method: request.method().to_string(),
        path: request.path().to_owned(),
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    });
    served.hits.fetch_add(1, Ordering::SeqCst);
    let delay = served.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if served.failing.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable().body("down");
    }
    let body = served.document.lock().expect("not poisoned").clone();
    let status = served
        .status
        .lock()
        .expect("not poisoned")
        .unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    response.content_type("application/json");
    for header in served.headers.lock().expect("not poisoned").iter() {
        response.insert_header(header.clone());
    }
    response.body(body)
}
