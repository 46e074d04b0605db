//! Reverse proxy to `UPSTREAM_URL` for authorized requests: method, normalised path, query,
//! headers and bodies streamed both ways; hop-by-hop headers dropped (RFC 9110 section 7.6.1);
//! identity headers set from the verified claims, never from the client; upstream failures
//! answered 502 / 504 with a JSON message.
//!
//! What the upstream receives ([`headers`] has the header rules):
//! - the client's method, the normalised [`RequestPath`] under the URL's base path, and the
//!   client's query exactly as sent;
//! - the client's headers, `Host` included, less the hop-by-hop ones and the identity headers,
//!   plus the identity headers of the verified claims and the `X-Forwarded-*` headers; reqwest
//!   adds `Accept: */*` when the client sent no `Accept` (the same meaning, RFC 9110 section
//!   12.5.1);
//! - the body as it arrives (no buffering), with the client's `Content-Length` when it sent one.
//!
//! The client receives the upstream's status, headers (less the hop-by-hop ones) and body, as it
//! arrives. A body the upstream cuts short is cut short for the client too (the connection is
//! closed before the announced length or the last chunk), never completed.

mod headers;

use std::time::Duration;

use actix_web::body::{BodyStream, SizedStream};
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use cognito_auth::policy::RequestPath;
use cognito_auth::verifier::Claims;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};

/// How long the upstream may take to answer (its status line and headers) when no other
/// timeout is given ([`Upstream::with_response_timeout`]); its body may then take as long as it
/// needs.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// The upstream all authorized requests go to, with its pooled HTTP client.
#[derive(Debug)]
pub struct Upstream {
    /// `http://host:port` and the base path without its trailing `/`.
    origin: String,
    base_path: String,
    client: reqwest::Client,
    response_timeout: Duration,
}

/// The upstream cannot be used as configured.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// `UPSTREAM_URL` is not an `http://` URL with a host (and no query, fragment or user
    /// information).
    #[error("UPSTREAM_URL: {0}")]
    InvalidUrl(String),
}

/// Why a request could not be answered by the upstream; each becomes a JSON answer in
/// [`Failure::response`]. Displayed for the log with reqwest's error and its causes.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// No connection to the upstream (refused, unreachable, name not resolved).
    #[error("cannot connect to the upstream: {0:?}")]
    Unreachable(reqwest::Error),
    /// The upstream closed the connection or answered something that is not HTTP.
    #[error("no valid answer from the upstream: {0:?}")]
    BadAnswer(reqwest::Error),
    /// The upstream sent no status line and headers within the response timeout.
    #[error("no answer from the upstream within {0:?}")]
    Timeout(Duration),
    /// The client's body could not be read (it ended early or broke the framing).
    #[error("the client's body broke off: {0:?}")]
    ClientBody(reqwest::Error),
}

impl Failure {
    /// The one mapping of proxy failures to HTTP.
    fn response(&self) -> HttpResponse {
        let (status, message) = match self {
            Self::Unreachable(_) => (
                StatusCode::BAD_GATEWAY,
                "Bad Gateway: cannot connect to the upstream".to_owned(),
            ),
            Self::BadAnswer(_) => (
                StatusCode::BAD_GATEWAY,
                "Bad Gateway: the upstream closed the connection without a valid answer".to_owned(),
            ),
            Self::Timeout(after) => (
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "Gateway Timeout: the upstream did not answer within {} s",
                    after.as_secs_f64()
                ),
            ),
            Self::ClientBody(_) => (
                StatusCode::BAD_REQUEST,
                "Bad Request: the request body could not be read".to_owned(),
            ),
        };
        HttpResponse::build(status)
            .content_type(ContentType::json())
            .body(serde_json::json!({ "message": message }).to_string())
    }

    /// The failure a reqwest error stands for: the client's body when its stream failed, the
    /// connection, or the upstream's answer. The URL is left out: its query is the client's,
    /// and logs are no place for it.
    fn of(error: reqwest::Error) -> Self {
        let error = error.without_url();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(cause) = source {
            if cause.is::<PayloadError>() {
                return Self::ClientBody(error);
            }
            source = cause.source();
        }
        if error.is_connect() {
            Self::Unreachable(error)
        } else {
            Self::BadAnswer(error)
        }
    }
}

impl Upstream {
    /// The upstream at `url` (`http://host[:port][/base/path]`), answering within
    /// [`DEFAULT_RESPONSE_TIMEOUT`]. Requests go to the base path followed by the request's path
    /// (`http://h/api` + `/items` = `http://h/api/items`). Errors name what is wrong with the URL.
    pub fn new(url: &str) -> Result<Self, ProxyError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| ProxyError::InvalidUrl(format!("{url:?} is not a URL: {e}")))?;
        let refuse = |why: &str| Err(ProxyError::InvalidUrl(format!("{url:?} {why}")));
        if parsed.scheme() != "http" {
            return refuse("is not an http:// URL");
        }
        let Some(host) = parsed.host_str() else {
            return refuse("has no host");
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return refuse("holds user information");
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return refuse("holds a query or fragment (requests bring their own query)");
        }
        let origin = match parsed.port() {
            Some(port) => format!("http://{host}:{port}"),
            None => format!("http://{host}"),
        };
        let client = reqwest::Client::builder()
            // The client's redirects are for the client to follow, and a sidecar's upstream is
            // reached directly, never through the environment's HTTP_PROXY.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .http1_only()
            .tcp_nodelay(true)
            .build()
            .map_err(|e| ProxyError::InvalidUrl(format!("no HTTP client for {url:?}: {e}")))?;
        Ok(Self {
            origin,
            base_path: parsed.path().trim_end_matches('/').to_owned(),
            client,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
        })
    }

    /// The same upstream, answering 504 when its status line and headers take longer than
    /// `timeout` (from the start of the request, sending its body included).
    pub fn with_response_timeout(self, timeout: Duration) -> Self {
        Self {
            response_timeout: timeout,
            ..self
        }
    }

    /// Forwards `request` (its body in `body`) to the upstream at `path` plus the original
    /// query, with the identity headers of `identity` (none for a public route), and answers
    /// with the upstream's response, streamed. Answers 502 when the upstream cannot be reached
    /// or closes the connection without an answer, 504 when it does not answer within the
    /// response timeout, 400 when the client's body breaks off; each with a JSON
    /// `{"message":"..."}` naming what failed.
    pub async fn forward(
        &self,
        request: &HttpRequest,
        body: Payload,
        path: &RequestPath,
        identity: Option<&Claims>,
    ) -> HttpResponse {
        let url = match request.uri().query() {
            Some(query) => format!("{}{}{}?{query}", self.origin, self.base_path, path.as_str()),
            None => format!("{}{}{}", self.origin, self.base_path, path.as_str()),
        };
        let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
            .expect("actix's methods are valid tokens");
        let mut outgoing = self
            .client
            .request(method, url)
            .headers(headers::upstream_request(request, identity));
        if headers::has_body(request.headers()) {
            outgoing = outgoing.body(reqwest::Body::wrap_stream(relay(body)));
        }
        let failure = match tokio::time::timeout(self.response_timeout, outgoing.send()).await {
            Ok(Ok(answer)) => return respond(answer),
            Ok(Err(error)) => Failure::of(error),
            Err(_) => Failure::Timeout(self.response_timeout),
        };
        tracing::warn!(error = %failure, "proxied request failed");
        failure.response()
    }
}

/// The client's body as a `Send` stream for reqwest: actix's payload lives on its worker
/// thread, so a local task hands its chunks over a bounded channel (one chunk in flight, so a
/// slow upstream slows the client down rather than filling memory).
fn relay(mut body: Payload) -> mpsc::Receiver<Result<web::Bytes, PayloadError>> {
    let (mut sender, receiver) = mpsc::channel(1);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = body.next().await {
            let failed = chunk.is_err();
            // The upstream request is gone (answered, failed, timed out): stop reading.
            if sender.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    receiver
}

/// The upstream's answer for the client: status, end-to-end headers, body streamed with the
/// upstream's length when it gave one (actix then writes that `Content-Length` itself; the
/// copied header is kept only where actix writes none, a 304's).
fn respond(answer: reqwest::Response) -> HttpResponse {
    let status =
        StatusCode::from_u16(answer.status().as_u16()).expect("reqwest's status codes are valid");
    let mut response = HttpResponse::build(status);
    for (name, value) in headers::client_response(answer.headers()) {
        response.append_header((name, value));
    }
    // The header, not reqwest's `content_length` (the body's size, 0 for a HEAD request's).
    let length = answer
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    let body = answer.bytes_stream().inspect(|chunk| {
        if let Err(error) = chunk {
            tracing::warn!(%error, "upstream response body broke off; the client's is cut short too");
        }
    });
    match length {
        Some(length) => response.body(SizedStream::new(length, body)),
        None => response.body(BodyStream::new(body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(url: &str) -> String {
        Upstream::new(url).expect_err(url).to_string()
    }

    #[test]
    fn upstream_urls_other_than_plain_http_with_a_host_are_refused_naming_the_variable() {
        for (url, why) in [
            ("localhost:3000", "is not an http:// URL"),
            ("https://api.internal", "is not an http:// URL"),
            ("ftp://files.internal", "is not an http:// URL"),
            ("http://", "is not a URL"),
            ("not a url", "is not a URL"),
            ("http://user:pw@api.internal", "holds user information"),
            ("http://api.internal/?debug=1", "holds a query or fragment"),
            ("http://api.internal/#top", "holds a query or fragment"),
        ] {
            let message = refusal(url);
            assert!(message.starts_with("UPSTREAM_URL: "), "{message}");
            assert!(message.contains(why), "{url}: {message}");
        }
    }

    #[test]
    fn the_base_path_loses_its_trailing_slash_and_the_port_is_kept() {
        let upstream = Upstream::new("http://127.0.0.1:3000/api/v1/").unwrap();
        assert_eq!(upstream.origin, "http://127.0.0.1:3000");
        assert_eq!(upstream.base_path, "/api/v1");
        let upstream = Upstream::new("http://app").unwrap();
        assert_eq!(upstream.origin, "http://app");
        assert_eq!(upstream.base_path, "");
        assert_eq!(upstream.response_timeout, DEFAULT_RESPONSE_TIMEOUT);
    }
}
