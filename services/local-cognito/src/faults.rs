//! Development and tests only: a token endpoint that tests control, the way [`crate::jwks_server`]
//! controls a JWKS. [`TestIssuer`] runs a real issuer on a free loopback port together with a
//! [`TokenFaults`] handle that makes its token endpoint fail (a status and body, a delay, a hang, a
//! dropped connection), rotates a client's accepted secret, hands out tokens verifiers refuse,
//! and counts what each client asked for and got; and with the admin API's controls
//! ([`AdminControls`]: call counters, quota, hold fault) and the pool it changes.
//!
//! Every fault is off until a test sets it: with none set the endpoint answers exactly as
//! [`crate::issuer::start`] does. The binary does not expose these controls: anything that can
//! reach it could then break or observe every client's token requests, and the tests that need
//! faults embed the library instead.

use std::collections::HashMap;
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::ServerHandle;
use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::admin_api::AdminControls;
use crate::claims::AccessTokenClaims;
use crate::issuer::{Config, Issuer, TokenError, TokenRequest, TokenResponse};
use crate::pool::Pool;

/// What the token endpoint does with a request instead of serving it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answers with this HTTP status, `Content-Type` and body (a 500, a 503, an HTML sign-in page
    /// with 200...).
    Answer {
        /// The HTTP status code.
        status: u16,
        /// The `Content-Type` header.
        content_type: String,
        /// The body, as sent.
        body: String,
    },
    /// Never answers: the request waits until the client gives up or the server stops.
    Hang,
    /// Closes the connection without an answer, as a crashed or restarted server does.
    DropConnection,
}

impl Fault {
    /// A `text/plain` answer with `status` and `body`.
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Self::Answer {
            status,
            content_type: "text/plain".to_owned(),
            body: body.into(),
        }
    }
}

/// What one app client asked for and got, in the order it happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientRecord {
    /// Token requests naming the client (whatever their outcome, faults included).
    pub requests: usize,
    /// The secrets the client presented (Basic or form), one per request that carried one.
    pub secrets: Vec<String>,
    /// The access tokens issued to it.
    pub tokens: Vec<String>,
}

impl ClientRecord {
    /// The secret of the last request that carried one.
    pub fn last_secret(&self) -> Option<&str> {
        self.secrets.last().map(String::as_str)
    }
}

/// The last token request as it arrived, before any fault.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Its form fields and Basic credentials.
    pub request: TokenRequest,
    /// Its `Content-Type` header.
    pub content_type: Option<String>,
    /// Its `Accept` header.
    pub accept: Option<String>,
}

#[derive(Debug, Default)]
struct Log {
    requests: usize,
    clients: HashMap<String, ClientRecord>,
    tokens: Vec<String>,
    last: Option<RecordedRequest>,
}

#[derive(Debug, Default)]
struct EndpointControls {
    fault: Mutex<Option<Fault>>,
    delay: Mutex<Duration>,
    /// The pool whose secrets [`TokenFaults::rotate_secret`] replaces.
    pool: Option<Arc<Pool>>,
    id_tokens: AtomicUsize,
    lifetime: Mutex<Option<Duration>>,
    log: Mutex<Log>,
}

/// The controls and counters of a [`TestIssuer`]'s token endpoint; clones share them.
#[derive(Debug, Clone)]
pub struct TokenFaults(Arc<EndpointControls>);

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding a lock must not hide the first failure behind this one.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl TokenFaults {
    fn new(pool: Arc<Pool>) -> Self {
        Self(Arc::new(EndpointControls {
            pool: Some(pool),
            ..EndpointControls::default()
        }))
    }

    /// Makes every following request meet `fault` (after the delay), or serves them again
    /// (`None`).
    pub fn set_fault(&self, fault: Option<Fault>) {
        *lock(&self.0.fault) = fault;
    }

    /// Delays every following request by `delay` before anything else happens to it (a slow
    /// Cognito); zero for none.
    pub fn set_delay(&self, delay: Duration) {
        *lock(&self.0.delay) = delay;
    }

    /// Makes `client_id` authenticate with `secret` only, its configured secret included no
    /// longer (Cognito after the secret was rotated): [`Pool::rotate_secret`] on the issuer's
    /// pool. Other clients are unaffected.
    pub fn rotate_secret(&self, client_id: &str, secret: &str) {
        if let Some(pool) = &self.0.pool {
            pool.rotate_secret(client_id, secret);
        }
    }

    /// Makes the next `count` issued tokens carry `token_use: id` instead of `access`, well
    /// signed but refused by any verifier of access tokens.
    pub fn issue_id_tokens(&self, count: usize) {
        self.0.id_tokens.store(count, Ordering::SeqCst);
    }

    /// Makes every following token last `lifetime` whatever the client's AccessTokenValidity
    /// (Cognito's floor is 5 minutes), so a test sees callers fetch tokens again within seconds;
    /// `None` restores the normal lifetimes.
    pub fn set_token_lifetime(&self, lifetime: Option<Duration>) {
        *lock(&self.0.lifetime) = lifetime;
    }

    /// Token requests received, from every client and from none.
    pub fn requests(&self) -> usize {
        lock(&self.0.log).requests
    }

    /// Access tokens issued to any client, in order.
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.0.log).tokens.clone()
    }

    /// How many access tokens were issued to any client.
    pub fn issued(&self) -> usize {
        lock(&self.0.log).tokens.len()
    }

    /// What `client_id` asked for and got (empty when it never asked).
    pub fn client(&self, client_id: &str) -> ClientRecord {
        lock(&self.0.log)
            .clients
            .get(client_id)
            .cloned()
            .unwrap_or_default()
    }

    /// The last token request received.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.0.log).last.clone()
    }

    /// Records `request`, waits the delay, then either answers for the endpoint (a fault) or
    /// lets the issuer serve it (`Ok(None)`).
    pub(crate) async fn intercept(
        &self,
        http: &HttpRequest,
        request: &TokenRequest,
    ) -> Result<Option<HttpResponse>, TokenError> {
        let (client_id, secret) = presented(request);
        self.record(http, request, client_id, secret);
        let delay = *lock(&self.0.delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let fault = lock(&self.0.fault).clone();
        match fault {
            None => {}
            Some(Fault::Answer {
                status,
                content_type,
                body,
            }) => {
                let status = StatusCode::from_u16(status).expect("a valid HTTP status code");
                return Ok(Some(
                    HttpResponse::build(status)
                        .insert_header((header::CONTENT_TYPE, content_type))
                        .body(body),
                ));
            }
            Some(Fault::Hang) => std::future::pending::<()>().await,
            Some(Fault::DropConnection) => return Ok(Some(HttpResponse::Ok().body(Aborted))),
        }
        Ok(None)
    }

    /// Records a token the issuer is about to send, turning it into an id token when asked to.
    pub(crate) fn on_issued(&self, issuer: &Issuer, client_id: &str, response: &mut TokenResponse) {
        let id_token = self
            .0
            .id_tokens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let lifetime = *lock(&self.0.lifetime);
        if id_token || lifetime.is_some() {
            let mut claims = claims_of(&response.access_token);
            if id_token {
                claims.token_use = "id".to_owned();
            }
            if let Some(lifetime) = lifetime {
                claims.exp = claims.iat + lifetime.as_secs();
                response.expires_in = lifetime.as_secs();
            }
            response.access_token = claims.sign(issuer.signing_key());
        }
        let mut log = lock(&self.0.log);
        log.tokens.push(response.access_token.clone());
        log.clients
            .entry(client_id.to_owned())
            .or_default()
            .tokens
            .push(response.access_token.clone());
    }

    fn record(
        &self,
        http: &HttpRequest,
        request: &TokenRequest,
        client_id: Option<&str>,
        secret: Option<&str>,
    ) {
        let header = |name| {
            http.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let mut log = lock(&self.0.log);
        log.requests += 1;
        log.last = Some(RecordedRequest {
            request: request.clone(),
            content_type: header(header::CONTENT_TYPE),
            accept: header(header::ACCEPT),
        });
        if let Some(client_id) = client_id {
            let record = log.clients.entry(client_id.to_owned()).or_default();
            record.requests += 1;
            record.secrets.extend(secret.map(str::to_owned));
        }
    }
}

/// The client id and secret a request presents: Basic first, else the form (as the issuer reads
/// them).
fn presented(request: &TokenRequest) -> (Option<&str>, Option<&str>) {
    match &request.basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            request.client_id.as_deref(),
            request.client_secret.as_deref(),
        ),
    }
}

/// The claims of a token this issuer just signed.
fn claims_of(token: &str) -> AccessTokenClaims {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .expect("the issuer's tokens are base64url");
    serde_json::from_slice(&json).expect("the issuer's tokens carry access-token claims")
}

/// A body that fails before its first byte: the server then closes the connection without
/// having written the answer's head, so the client sees the connection dropped, not a status.
struct Aborted;

impl MessageBody for Aborted {
    type Error = std::io::Error;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fault injected: connection dropped",
        ))))
    }
}

/// An issuer on a free loopback port whose token endpoint [`TokenFaults`] controls; it stops when
/// dropped. For tests only.
pub struct TestIssuer {
    /// The running issuer: its URLs, keys, and [`Issuer::mint`] for tokens made by hand.
    pub issuer: Arc<Issuer>,
    /// The token endpoint's controls and counters.
    pub faults: TokenFaults,
    /// The admin API's call counters, request-rate quota and hold fault (the issuer's own).
    pub admin: AdminControls,
    handle: ServerHandle,
}

impl TestIssuer {
    /// Serves `config` (with the local issuer URL it derives from the port). Call from within a
    /// Tokio runtime. Panics when `config` is invalid, naming what is wrong.
    pub fn start(config: Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("loopback has free ports");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        let issuer = Issuer::new(config, &format!("http://{address}"))
            .unwrap_or_else(|e| panic!("invalid issuer configuration: {e}"));
        let issuer = Arc::new(issuer);
        let faults = TokenFaults::new(issuer.pool().clone());
        let admin = issuer.admin().clone();
        let server = crate::http::serve_with(issuer.clone(), listener, Some(faults.clone()))
            .expect("serve on a bound listener");
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            issuer,
            faults,
            admin,
            handle,
        }
    }

    /// Full URL of the token endpoint.
    pub fn token_endpoint(&self) -> String {
        self.issuer.token_endpoint()
    }

    /// The admin API's endpoint, for the AWS SDK's `endpoint_url` (`http://127.0.0.1:PORT`:
    /// every operation is a `POST /`).
    pub fn admin_endpoint(&self) -> &str {
        self.issuer.base_url()
    }

    /// The pool's registry, for inspecting what the admin API did ([`Pool::clients`],
    /// [`Pool::resource_servers`]).
    pub fn pool(&self) -> &Arc<Pool> {
        self.issuer.pool()
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        // Stopping is asynchronous; dropping the future still sends the stop command.
        drop(self.handle.stop(false));
    }
}
