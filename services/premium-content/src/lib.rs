//! premium-content library: configuration and the actix-web application.
//!
//! `start` builds one self-contained instance (JWKS cache, verifier, metrics registry) so that
//! several can run in one process, as the tests and the local stack do.

pub mod auth;
pub mod config;
pub mod metrics;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::http::header::ContentType;
use actix_web::http::{Method, StatusCode};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use cognito_auth::cognito::UserPool;
use cognito_auth::jwks::{self, JwksSettings};
use cognito_auth::trusted_issuers::{TrustedIssuers, TrustedPool};
use cognito_auth::verifier::{Claims, Rejection, Verifier, VerifierConfig};

pub use crate::auth::AuthError;
use crate::auth::{Presented, presented_token, require_scope};
pub use crate::config::{Config, ConfigError, Settings};
use crate::metrics::Metrics;

/// The protected resource.
pub const PREMIUM_PATH: &str = "/home/premium";
/// Liveness.
pub const HEALTHZ_PATH: &str = "/healthz";
/// Readiness: signing keys loaded (those of either issuer of the user pool).
pub const READYZ_PATH: &str = "/readyz";
/// Prometheus metrics.
pub const METRICS_PATH: &str = "/metrics";

const ROUTES: [&str; 4] = [PREMIUM_PATH, HEALTHZ_PATH, READYZ_PATH, METRICS_PATH];

const READ_BODY: &str = r#"{"message":"Premium Content: OAuth Scope: Read"}"#;
const WRITE_BODY: &str = r#"{"message":"Premium Content: OAuth Scope: Write"}"#;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is unusable (the message names the variable).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The HTTP client for the JWKS could not be built.
    #[error("cannot build the JWKS HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The issuers cannot be trusted together (the same one twice).
    #[error("{0}")]
    Trust(#[source] cognito_auth::trusted_issuers::TrustError),
    /// The listener could not be served.
    #[error("cannot serve on the listener: {0}")]
    Listen(#[source] std::io::Error),
}

/// Everything a request handler needs.
#[derive(Debug)]
struct State {
    verifier: Arc<Verifier>,
    read_scope: String,
    write_scope: String,
    metrics: Metrics,
}

impl State {
    /// Authenticates the request and checks `scope`; counts and logs (at debug) any refusal.
    async fn authorize(&self, request: &HttpRequest, scope: &str) -> Result<Claims, AuthError> {
        let result = match self.authenticate(request).await {
            Ok(claims) => require_scope(&claims, scope).map(|()| claims),
            Err(error) => Err(error),
        };
        if let Err(error) = &result {
            self.metrics.rejection(error.reason());
            tracing::debug!(
                reason = error.reason(),
                method = %request.method(),
                path = request.path(),
                "request refused"
            );
        }
        result
    }

    async fn authenticate(&self, request: &HttpRequest) -> Result<Claims, AuthError> {
        let token = match presented_token(request) {
            Presented::Nothing => return Err(AuthError::MissingToken),
            Presented::Garbled => return Err(Rejection::Malformed.into()),
            Presented::Token(token) => token,
        };
        let started = Instant::now();
        let verified = self.verifier.verify(token).await;
        self.metrics.verification(started.elapsed());
        Ok(verified?)
    }
}

/// Resolves `config` and [`serve`]s it.
pub async fn start(config: Config, listener: TcpListener) -> Result<Server, StartError> {
    serve(config.resolve()?, listener).await
}

/// Builds the service on `listener` and returns the running server (await it, or spawn it and
/// stop it with `server.handle().stop(true)`). Starts loading the signing keys of every issuer
/// in the background; `/readyz` answers 503 until those of at least one are loaded (see
/// [`TrustedIssuers::is_ready`]). Must be called within a tokio runtime.
pub async fn serve(settings: Settings, listener: TcpListener) -> Result<Server, StartError> {
    let http = jwks::http_client(concat!("premium-content/", env!("CARGO_PKG_VERSION")))
        .map_err(StartError::HttpClient)?;
    let jwks_settings = JwksSettings {
        refresh_interval: settings.jwks_refresh,
        min_refresh_interval: JwksSettings::default()
            .min_refresh_interval
            .min(settings.jwks_refresh),
        ..JwksSettings::default()
    };
    let pool = TrustedPool::with_caches(
        &settings.issuers,
        settings.client_ids.clone(),
        &http,
        &jwks_settings,
    );
    let trusted = TrustedIssuers::new(vec![pool]).map_err(StartError::Trust)?;
    trusted.start_background();
    let verifier = Arc::new(Verifier::new(
        VerifierConfig {
            leeway: settings.leeway,
            cache_capacity: settings.cache_capacity,
            ..VerifierConfig::default()
        },
        trusted,
    ));
    let state = web::Data::new(State {
        verifier: verifier.clone(),
        read_scope: settings.read_scope.clone(),
        write_scope: settings.write_scope.clone(),
        metrics: Metrics::new(verifier),
    });
    let address = listener.local_addr().map_err(StartError::Listen)?;
    let workers = settings.http_workers;
    let server = HttpServer::new(move || {
        let counted = state.clone();
        App::new()
            .app_data(state.clone())
            .wrap_fn(move |request, service| {
                let method = method_label(request.method());
                let served = service.call(request);
                let state = counted.clone();
                async move {
                    let response = served.await?;
                    let route = route_label(response.request().match_pattern().as_deref());
                    state
                        .metrics
                        .request(route, method, response.status().as_u16());
                    Ok(response)
                }
            })
            .service(
                web::resource(PREMIUM_PATH)
                    .route(web::get().to(read_premium))
                    .route(web::post().to(write_premium)),
            )
            .route(HEALTHZ_PATH, web::get().to(healthz))
            .route(READYZ_PATH, web::get().to(readyz))
            .route(METRICS_PATH, web::get().to(metrics))
            .default_service(web::to(not_found))
    })
    // Finish in-flight requests on SIGTERM, within Kubernetes' default 30 s grace period.
    .shutdown_timeout(20);
    let server = match workers {
        Some(workers) => server.workers(workers),
        None => server,
    };
    let server = server.listen(listener).map_err(StartError::Listen)?.run();
    if let [only] = settings.issuers.as_slice()
        && let Some((form, pool)) = UserPool::from_issuer(&only.issuer)
    {
        tracing::info!(
            issuer = %only.issuer,
            "COGNITO_ISSUER is the {form} issuer of user pool {pool}: tokens carrying its other \
             issuer form are refused (set COGNITO_USER_POOL_ID instead to accept both)"
        );
    }
    let issuers: Vec<&str> = settings.issuers.iter().map(|i| i.issuer.as_str()).collect();
    let jwks_urls: Vec<&str> = settings
        .issuers
        .iter()
        .map(|i| i.jwks_url.as_str())
        .collect();
    tracing::info!(
        %address,
        issuers = ?issuers,
        jwks_urls = ?jwks_urls,
        read_scope = %settings.read_scope,
        write_scope = %settings.write_scope,
        allowed_clients = settings.client_ids.len(),
        "premium-content serving"
    );
    Ok(server)
}

fn route_label(pattern: Option<&str>) -> &'static str {
    pattern
        .and_then(|pattern| ROUTES.into_iter().find(|route| *route == pattern))
        .unwrap_or("unmatched")
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn json(status: StatusCode, body: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::json())
        .body(body)
}

async fn read_premium(
    request: HttpRequest,
    state: web::Data<State>,
) -> Result<HttpResponse, AuthError> {
    state.authorize(&request, &state.read_scope).await?;
    Ok(json(StatusCode::OK, READ_BODY))
}

async fn write_premium(
    request: HttpRequest,
    state: web::Data<State>,
) -> Result<HttpResponse, AuthError> {
    state.authorize(&request, &state.write_scope).await?;
    Ok(json(StatusCode::OK, WRITE_BODY))
}

async fn healthz() -> HttpResponse {
    json(StatusCode::OK, r#"{"status":"ok"}"#)
}

async fn readyz(state: web::Data<State>) -> HttpResponse {
    if state.verifier.is_ready() {
        json(StatusCode::OK, r#"{"status":"ready"}"#)
    } else {
        json(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"signing keys not loaded"}"#,
        )
    }
}

async fn metrics(state: web::Data<State>) -> HttpResponse {
    match state.metrics.encode() {
        Ok(text) => HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(text),
        Err(_) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"message":"metrics encoding failed"}"#,
        ),
    }
}

async fn not_found() -> HttpResponse {
    json(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_are_bounded() {
        assert_eq!(route_label(Some("/home/premium")), "/home/premium");
        assert_eq!(route_label(Some("/metrics")), "/metrics");
        assert_eq!(route_label(Some("/home/premium/../x")), "unmatched");
        assert_eq!(route_label(None), "unmatched");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
