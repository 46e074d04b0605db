//! The verifier with its JWKS fetched over HTTP: startup, rotation through an unknown-kid refetch,
//! and many concurrent verifications of fresh and cached tokens.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpResponse, HttpServer, web};
use cognito_auth::jwks::{JwksCache, JwksSettings};
use cognito_auth::trusted_issuers::{TrustedIssuer, TrustedIssuers, TrustedPool};
use cognito_auth::verifier::{Rejection, Verifier, VerifierConfig};
use local_cognito::keys::{SigningKey, jwks_document};
use serde_json::{Value, json};

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Tokens";

struct Served {
    document: Mutex<Value>,
    hits: AtomicUsize,
}

fn serve_jwks(keys: &[&SigningKey]) -> (String, Arc<Served>) {
    let served = Arc::new(Served {
        document: Mutex::new(jwks_document(keys.iter().copied())),
        hits: AtomicUsize::new(0),
    });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let data = web::Data::from(served.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).default_service(web::to(
            |served: web::Data<Served>| async move {
                served.hits.fetch_add(1, Ordering::SeqCst);
                HttpResponse::Ok().json(&*served.document.lock().unwrap())
            },
        ))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (url, served)
}

fn access_token(key: &SigningKey, scope: &str, client_id: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    key.sign(&json!({
        "sub": client_id,
        "token_use": "access",
        "scope": scope,
        "iss": ISSUER,
        "exp": now + 600,
        "iat": now,
        "jti": format!("{scope}-{client_id}"),
        "client_id": client_id,
    }))
}

async fn ready_verifier(url: &str, client_ids: &[&str]) -> Arc<Verifier> {
    let jwks = Arc::new(JwksCache::new(
        url,
        reqwest::Client::new(),
        JwksSettings::default(),
    ));
    jwks.start_background();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !jwks.is_ready() {
        assert!(Instant::now() < deadline, "JWKS never loaded");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pool = TrustedPool::new(
        vec![TrustedIssuer::new(ISSUER, jwks)],
        client_ids.iter().map(|id| id.to_string()).collect(),
    );
    let trusted = TrustedIssuers::new(vec![pool]).unwrap();
    Arc::new(Verifier::new(VerifierConfig::default(), trusted))
}

#[tokio::test]
async fn rotation_is_followed_through_one_refetch() {
    let old = SigningKey::generate("2026-11-old");
    let new = SigningKey::generate("2026-11-new");
    let (url, served) = serve_jwks(&[&old]);
    let verifier = ready_verifier(&url, &[]).await;
    let claims = verifier
        .verify(&access_token(&old, "premium_api/read", "app"))
        .await
        .unwrap();
    assert_eq!(claims.client_id, "app");
    assert_eq!(served.hits.load(Ordering::SeqCst), 1);

    *served.document.lock().unwrap() = jwks_document([&old, &new]);
    let token = access_token(&new, "premium_api/write", "app");
    let claims = verifier.verify(&token).await.unwrap();
    assert!(claims.scopes.contains("premium_api/write"));
    assert_eq!(served.hits.load(Ordering::SeqCst), 2);
    // From now on the new key is cached: no more fetches.
    for _ in 0..10 {
        verifier.verify(&token).await.unwrap();
    }
    assert_eq!(served.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_verifications_agree() {
    let key = SigningKey::generate("kid");
    let stranger = SigningKey::generate("kid");
    let (url, served) = serve_jwks(&[&key]);
    let verifier = ready_verifier(&url, &["app-a", "app-b"]).await;
    let tokens: Vec<(String, Result<(), Rejection>)> = vec![
        (access_token(&key, "premium_api/read", "app-a"), Ok(())),
        (access_token(&key, "premium_api/read", "app-b"), Ok(())),
        (
            access_token(&key, "premium_api/read", "app-c"),
            Err(Rejection::ClientNotAllowed),
        ),
        (
            access_token(&stranger, "premium_api/read", "app-a"),
            Err(Rejection::BadSignature),
        ),
    ];
    let tasks = (0..400).map(|i| {
        let verifier = verifier.clone();
        let (token, expected) = tokens[i % tokens.len()].clone();
        tokio::spawn(async move {
            let outcome = verifier.verify(&token).await.map(|_| ());
            assert_eq!(outcome, expected);
        })
    });
    for task in futures::future::join_all(tasks).await {
        task.unwrap();
    }
    assert_eq!(
        served.hits.load(Ordering::SeqCst),
        1,
        "known kid: no refetch"
    );
}
