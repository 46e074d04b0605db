//! The API itself: `GET` (and `HEAD`) and `POST` on [`PREMIUM_PATH`], each behind the scope it
//! needs ([`policy`], judged by the shared [`Authorize`] middleware), and the JSON answer for any
//! other path.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use cognito_auth::policy::IssuerTrust;
use cognito_auth::policy::{Access, DefaultAction, Policy, PolicyError, PolicyIssuer, Rule};
use cognito_auth::scopes::ResourceScopes;
use cognito_auth_actix::{Authorize, SharedAuthorizer};

use crate::settings::Settings;

/// The protected resource.
pub const PREMIUM_PATH: &str = "/home/premium";

/// The realm named in `WWW-Authenticate`.
pub(crate) const REALM: &str = "premium-content";

const READ_BODY: &str = r#"{"message":"Premium Content: OAuth Scope: Read"}"#;
const WRITE_BODY: &str = r#"{"message":"Premium Content: OAuth Scope: Write"}"#;

/// The service's route policy: `GET`/`HEAD` [`PREMIUM_PATH`] need the read scope, `POST` the
/// write scope, anything else on it is refused; tokens of the settings' issuers and clients.
pub(crate) fn policy(settings: &Settings) -> Result<Policy, PolicyError> {
    let ResourceScopes { read, write, .. } = &settings.scopes;
    let rule = |methods: &[&str], scope: &str| Rule {
        path: PREMIUM_PATH.to_owned(),
        methods: Some(methods.iter().map(|m| (*m).to_owned()).collect()),
        access: Access::AnyScope(vec![scope.to_owned()]),
        line: 0,
    };
    let issuers = settings
        .issuers
        .iter()
        .map(|issuer| PolicyIssuer {
            trust: IssuerTrust::Issuer(issuer.clone()),
            client_ids: settings.client_ids.clone(),
        })
        .collect();
    Policy::new(
        "premium-content",
        issuers,
        vec![rule(&["GET", "HEAD"], read), rule(&["POST"], write)],
        DefaultAction::Deny,
    )
}

/// Registers the API's routes behind `authorizer`.
pub(crate) fn configure(config: &mut web::ServiceConfig, authorizer: &SharedAuthorizer) {
    config.service(
        web::resource(PREMIUM_PATH)
            .wrap(Authorize::new(authorizer.clone(), REALM))
            .route(web::get().to(read_premium))
            .route(web::head().to(read_premium))
            .route(web::post().to(write_premium)),
    );
}

/// A JSON answer with a fixed body, as every route of this service gives.
pub(crate) fn json(status: StatusCode, body: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::json())
        .body(body)
}

async fn read_premium() -> HttpResponse {
    json(StatusCode::OK, READ_BODY)
}

async fn write_premium() -> HttpResponse {
    json(StatusCode::OK, WRITE_BODY)
}

/// The answer for any path the service does not have.
pub(crate) async fn not_found() -> HttpResponse {
    json(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#)
}
