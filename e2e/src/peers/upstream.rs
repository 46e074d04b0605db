//! The protected app in the real-peer tests: answers every request with what reached it, so a
//! test sees the method, path, query and headers the peer forwarded (the identity headers above
//! all).

use std::collections::BTreeMap;
use std::net::TcpListener;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde::{Deserialize, Serialize};

/// What one request looked like when it reached the upstream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Seen {
    /// The method.
    pub method: String,
    /// Path and query, as received.
    pub uri: String,
    /// Header names (lowercase) to their values, several joined with ", ".
    pub headers: BTreeMap<String, String>,
}

impl Seen {
    /// The value of header `name`, if it reached the upstream.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// The echo server on a free loopback port; stops when dropped.
#[derive(Debug)]
pub struct Echo {
    /// Its port.
    pub port: u16,
    handle: ServerHandle,
}

impl Echo {
    /// Starts it; call from within a Tokio runtime.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("loopback has free ports");
        let port = listener.local_addr().expect("bound").port();
        let server = HttpServer::new(|| App::new().default_service(web::to(echo)))
            .workers(1)
            .listen(listener)
            .expect("listen on a bound listener")
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { port, handle }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn echo(request: HttpRequest) -> HttpResponse {
    let mut headers = BTreeMap::<String, String>::new();
    for (name, value) in request.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    HttpResponse::Ok().json(Seen {
        method: request.method().to_string(),
        uri: request.uri().to_string(),
        headers,
    })
}
