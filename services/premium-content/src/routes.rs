//! The API itself: `GET` and `POST` on [`PREMIUM_PATH`], each behind the scope it needs, and the
//! JSON answer for any other path.

use std::sync::Arc;
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use cognito_auth::scopes::ResourceScopes;
use cognito_auth::verifier::{Claims, Rejection, Verifier};

use crate::auth::{AuthError, Presented, presented_token, require_scope};
use crate::metrics::Metrics;

/// The protected resource.
pub const PREMIUM_PATH: &str = "/home/premium";

const READ_BODY: &str = r#"{"message":"Premium Content: OAuth Scope: Read"}"#;
const WRITE_BODY: &str = r#"{"message":"Premium Content: OAuth Scope: Write"}"#;

/// The protected resource (RFC 6749 section 1.1): the verifier that judges presented access
/// tokens and the scope each method needs.
#[derive(Debug)]
pub(crate) struct ProtectedResource {
    pub verifier: Arc<Verifier>,
    pub scopes: ResourceScopes,
    pub metrics: Arc<Metrics>,
}

impl ProtectedResource {
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

/// Registers the API's routes; handlers find the [`ProtectedResource`] in the app data.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.service(
        web::resource(PREMIUM_PATH)
            .route(web::get().to(read_premium))
            .route(web::post().to(write_premium)),
    );
}

/// A JSON answer with a fixed body, as every route of this service gives.
pub(crate) fn json(status: StatusCode, body: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::json())
        .body(body)
}

async fn read_premium(
    request: HttpRequest,
    resource: web::Data<ProtectedResource>,
) -> Result<HttpResponse, AuthError> {
    resource.authorize(&request, &resource.scopes.read).await?;
    Ok(json(StatusCode::OK, READ_BODY))
}

async fn write_premium(
    request: HttpRequest,
    resource: web::Data<ProtectedResource>,
) -> Result<HttpResponse, AuthError> {
    resource.authorize(&request, &resource.scopes.write).await?;
    Ok(json(StatusCode::OK, WRITE_BODY))
}

/// The answer for any path the service does not have.
pub(crate) async fn not_found() -> HttpResponse {
    json(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#)
}
