//! A small API protected by a route policy file, in a few lines.
//!
//! `POLICY_FILE=policy.yaml LISTEN_ADDR=127.0.0.1:8080 cargo run -p cognito-auth-actix --example
//! protected_api`; the policy's format is cognito-authorizer's `POLICY_FILE`. Every route below
//! is judged by the policy; the handlers read the verified caller with [`VerifiedClaims`].

use std::path::PathBuf;
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use cognito_auth::policy::Policy;
use cognito_auth_actix::{Authorize, Verification, VerificationSettings, VerifiedClaims};

/// Any caller the policy lets through with a token: says who it is, from the claims and from
/// the identity header the middleware set (what a proxied service would read).
async fn whoami(request: HttpRequest, claims: VerifiedClaims) -> HttpResponse {
    let header = request
        .headers()
        .get("x-cognito-client-id")
        .and_then(|value| value.to_str().ok());
    HttpResponse::Ok().json(serde_json::json!({
        "client_id": claims.client_id,
        "scopes": claims.scopes.iter().collect::<Vec<_>>(),
        "identity_header": header,
    }))
}

/// A route the policy may make public: no token, so no claims.
async fn status(claims: Option<VerifiedClaims>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "authenticated": claims.is_some() }))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy_file = PathBuf::from(std::env::var("POLICY_FILE")?);
    let listen = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());

    // The whole integration: a policy, its authorizer, the middleware.
    let policy = Policy::load(&policy_file)?;
    let verification = Verification::new(VerificationSettings::default(), "protected-api/1.0")?;
    let authorizer = verification.authorizer(Arc::new(policy), None)?;
    let authorize = Authorize::new(authorizer, "protected-api");

    HttpServer::new(move || {
        App::new()
            .wrap(authorize.clone())
            .route("/status", web::get().to(status))
            .route("/api/whoami", web::get().to(whoami))
            .route("/api/orders", web::post().to(whoami))
    })
    .workers(1)
    .bind(listen)?
    .run()
    .await?;
    Ok(())
}
