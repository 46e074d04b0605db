//! Development and tests only: the issuer's HTTP face — Cognito's token endpoint, the pool's JWKS
//! and OpenID discovery document — and the one place where token errors become HTTP responses.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use serde::Deserialize;
use serde_json::json;

use cognito_auth::cognito::{
    IssuerForm, JWKS_PATH, OPENID_CONFIGURATION_PATH, TOKEN_ENDPOINT_PATH,
};

use crate::client_auth::decode_basic;
use crate::faults::TokenFaults;
use crate::issuer::{Config, ConfigError, Issuer, TokenError, TokenRequest, UPDATED_FORM_PREFIX};

/// Cognito answers with this exact content type.
const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// Why the issuer could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listener could not be used.
    #[error("cannot serve on the listener: {0}")]
    Io(#[from] std::io::Error),
}

/// Cognito's token errors are all `400 {"error":"<code>"}` (its token endpoint documentation
/// lists no other status), with caching forbidden as for any token response.
impl ResponseError for TokenError {
    fn status_code(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .insert_header((header::CONTENT_TYPE, JSON_UTF8))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(json!({ "error": self.code() }).to_string())
    }
}

/// The form fields of a token request; others are ignored, as by Cognito.
#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

/// The issuer's routes, to mount in any actix `App`: the token endpoint, the JWKS and discovery
/// documents, and the admin API ([`crate::admin_api`]) at `POST /`.
pub fn routes(issuer: Arc<Issuer>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(issuer))
            // A body that is not a form is a malformed request, answered in Cognito's words.
            .app_data(
                web::FormConfig::default()
                    .limit(16 * 1024)
                    .error_handler(|_, _| TokenError::InvalidRequest.into()),
            )
            .service(
                web::resource(TOKEN_ENDPOINT_PATH)
                    .route(web::post().to(token))
                    .default_service(web::to(|| async {
                        HttpResponse::MethodNotAllowed()
                            .insert_header((header::ALLOW, "POST"))
                            .insert_header((header::CONTENT_TYPE, JSON_UTF8))
                            .body(json!({ "error": "invalid_request" }).to_string())
                    })),
            )
            .route(&format!("/{{pool}}{JWKS_PATH}"), web::get().to(jwks))
            .route(
                &format!("/{{pool}}{OPENID_CONFIGURATION_PATH}"),
                web::get().to(openid_configuration),
            )
            .route(
                &format!("{UPDATED_FORM_PREFIX}/{{pool}}{JWKS_PATH}"),
                web::get().to(updated_jwks),
            )
            .route(
                &format!("{UPDATED_FORM_PREFIX}/{{pool}}{OPENID_CONFIGURATION_PATH}"),
                web::get().to(updated_openid_configuration),
            )
            .route("/healthz", web::get().to(HttpResponse::Ok))
            // Cognito's admin API: the AWS SDKs POST every operation to `/`.
            .app_data(web::PayloadConfig::new(256 * 1024))
            .route("/", web::post().to(crate::admin_api::dispatch));
    }
}

/// Starts serving `config` on `listener` (already bound, e.g. to `127.0.0.1:0`); the issuer URL
/// and endpoints derive from the listener's address. Await or spawn the returned server.
pub async fn start(
    config: Config,
    listener: TcpListener,
) -> Result<actix_web::dev::Server, StartError> {
    let base_url = format!("http://{}", listener.local_addr()?);
    let issuer = Arc::new(Issuer::new(config, &base_url)?);
    serve(issuer, listener)
}

/// Serves an already built issuer on `listener` (whose address must be the issuer's base URL).
pub fn serve(
    issuer: Arc<Issuer>,
    listener: TcpListener,
) -> Result<actix_web::dev::Server, StartError> {
    serve_with(issuer, listener, None)
}

/// [`serve`], with the token endpoint under `faults` when given (tests only).
pub(crate) fn serve_with(
    issuer: Arc<Issuer>,
    listener: TcpListener,
    faults: Option<TokenFaults>,
) -> Result<actix_web::dev::Server, StartError> {
    tracing::warn!(
        issuer = issuer.issuer_url(),
        token_endpoint = %issuer.token_endpoint(),
        "local-cognito is for development and tests only, never production"
    );
    let faults = faults.map(web::Data::new);
    let server = HttpServer::new(move || {
        let app = App::new().configure(routes(issuer.clone()));
        match &faults {
            Some(faults) => app.app_data(faults.clone()),
            None => app,
        }
    })
    .workers(1)
    // Clients keep connections alive; do not hold a stopping test for the default 30 s.
    .shutdown_timeout(2)
    .listen(listener)?
    .run();
    Ok(server)
}

async fn token(
    request: HttpRequest,
    form: web::Form<TokenForm>,
    issuer: web::Data<Issuer>,
    faults: Option<web::Data<TokenFaults>>,
) -> Result<HttpResponse, TokenError> {
    let form = form.into_inner();
    let token_request = TokenRequest {
        grant_type: form.grant_type,
        basic: basic_credentials(&request)?,
        client_id: form.client_id,
        client_secret: form.client_secret,
        scope: form.scope,
    };
    if let Some(faults) = &faults
        && let Some(answer) = faults.intercept(&request, &token_request).await?
    {
        return Ok(answer);
    }
    let client_id = token_request
        .basic
        .as_ref()
        .map(|(id, _)| id.as_str())
        .or(token_request.client_id.as_deref())
        .unwrap_or("-");
    match issuer.token(&token_request) {
        Ok(mut response) => {
            if let Some(faults) = &faults {
                faults.on_issued(&issuer, client_id, &mut response);
            }
            tracing::info!(client_id, expires_in = response.expires_in, "token issued");
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, JSON_UTF8))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::PRAGMA, "no-cache"))
                .body(serde_json::to_string(&response).expect("token response serialises")))
        }
        Err(error) => {
            tracing::info!(client_id, error = error.code(), "token refused");
            Err(error)
        }
    }
}

/// The client credentials of `Authorization: Basic`, when present ([`decode_basic`]).
fn basic_credentials(request: &HttpRequest) -> Result<Option<(String, String)>, TokenError> {
    match request.headers().get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(value) => decode_basic(value.to_str().map_err(|_| TokenError::InvalidClient)?),
    }
}

fn pool_document(
    pool: &str,
    issuer: &Issuer,
    document: impl FnOnce(&Issuer) -> serde_json::Value,
) -> HttpResponse {
    // No caching headers: Cognito's documentation states none for these documents, so verifiers
    // keep to their own refresh interval.
    if pool != issuer.user_pool_id() {
        return HttpResponse::NotFound()
            .insert_header((header::CONTENT_TYPE, JSON_UTF8))
            .body(json!({ "message": "User pool does not exist." }).to_string());
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, JSON_UTF8))
        .body(document(issuer).to_string())
}

async fn jwks(pool: web::Path<String>, issuer: web::Data<Issuer>) -> HttpResponse {
    pool_document(&pool, &issuer, Issuer::jwks)
}

async fn updated_jwks(pool: web::Path<String>, issuer: web::Data<Issuer>) -> HttpResponse {
    pool_document(&pool, &issuer, Issuer::jwks)
}

async fn openid_configuration(pool: web::Path<String>, issuer: web::Data<Issuer>) -> HttpResponse {
    pool_document(&pool, &issuer, |i| {
        i.openid_configuration_of(IssuerForm::Original)
    })
}

async fn updated_openid_configuration(
    pool: web::Path<String>,
    issuer: web::Data<Issuer>,
) -> HttpResponse {
    pool_document(&pool, &issuer, |i| {
        i.openid_configuration_of(IssuerForm::Updated)
    })
}
