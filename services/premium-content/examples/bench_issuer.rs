//! Benchmark fixture (not for production): serves a JWKS on a loopback port and prints, as shell
//! assignments, the issuer, the JWKS URL, a free port for premium-content and a valid access
//! token (read and write scopes, valid for a day). Used by `scripts/bench-premium`.

use std::io::Write;
use std::net::TcpListener;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpResponse, HttpServer, web};
use local_cognito::keys::{SigningKey, jwks_document};
use serde_json::json;

const ISSUER: &str = "http://127.0.0.1/us-east-1_Bench";

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let key = SigningKey::generate("bench-kid");
    let document = serde_json::to_vec(&jwks_document([&key]))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let token = key.sign(&json!({
        "sub": "1example23456789",
        "token_use": "access",
        "scope": "premium_api/read premium_api/write",
        "auth_time": now,
        "iss": ISSUER,
        "exp": now + 86_400,
        "iat": now,
        "version": 2,
        "jti": "7b2e5c1e-9c1d-4d5e-8f3a-0123456789ab",
        "client_id": "1example23456789",
    }));

    let jwks_listener = TcpListener::bind("127.0.0.1:0")?;
    let jwks_url = format!(
        "http://{}/us-east-1_Bench/.well-known/jwks.json",
        jwks_listener.local_addr()?
    );
    let free_port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();

    let mut out = std::io::stdout().lock();
    writeln!(out, "ISSUER='{ISSUER}'")?;
    writeln!(out, "JWKS_URL='{jwks_url}'")?;
    writeln!(out, "PREMIUM_ADDR='127.0.0.1:{free_port}'")?;
    writeln!(out, "TOKEN='{token}'")?;
    out.flush()?;
    drop(out);

    HttpServer::new(move || {
        let document = document.clone();
        App::new().default_service(web::to(move || {
            let document = document.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(document)
            }
        }))
    })
    .workers(1)
    .listen(jwks_listener)?
    .run()
    .await
}
