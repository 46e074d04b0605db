//! Reverse proxy to `UPSTREAM_URL` for authorized requests: method, normalised path, query,
//! headers and bodies streamed both ways; hop-by-hop headers dropped (RFC 9110 section 7.6.1);
//! identity headers set from the verified claims, never from the client; upstream failures
//! answered 502 / 504 with a JSON message.

use actix_web::{HttpRequest, HttpResponse, web};
use cognito_auth::policy::RequestPath;
use cognito_auth::verifier::Claims;

/// The upstream all authorized requests go to, with its pooled HTTP client.
#[derive(Debug)]
pub struct Upstream {
    url: String,
}

/// The upstream cannot be used as configured.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// `UPSTREAM_URL` is not an `http://` URL with a host.
    #[error("UPSTREAM_URL: {0}")]
    InvalidUrl(String),
}

impl Upstream {
    /// The upstream at `url` (`http://host:port`, optional base path).
    pub fn new(url: &str) -> Result<Self, ProxyError> {
        Ok(Self {
            url: url.to_owned(),
        })
    }

    /// Forwards `request` (its body in `body`) to the upstream at `path` plus the original
    /// query, with the identity headers of `identity` (none for a public route), and answers
    /// with the upstream's response, streamed.
    pub async fn forward(
        &self,
        request: &HttpRequest,
        body: web::Payload,
        path: &RequestPath,
        identity: Option<&Claims>,
    ) -> HttpResponse {
        let _ = (request, body, path, identity, &self.url);
        unimplemented!("issue 15: proxy")
    }
}
