//! Cognito's two issuer forms (`IssuerConfiguration` `ORIGINAL` / `UPDATED`) through the whole
//! service, with tokens minted by local-cognito and keys fetched over HTTP.
//!
//! With a derived pool the issuers are real Cognito URLs (`https://cognito-idp...` and
//! `https://issuer-cognito-idp...`), whose hosts cannot run here: those tests resolve the
//! configuration as in production, check the derived JWKS URLs, and only then point each issuer's
//! JWKS URL at the local server that publishes it.

mod support;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use clap::Parser;
use cognito_auth::cognito::{IssuerForm, UserPool};
use cognito_auth::trusted_issuers::IssuerJwks;
use local_cognito::issuer::{AppClient, Config as IssuerConfig, Issuer, IssuerUrl};
use local_cognito::jwks_server::JwksServer;
use local_cognito::keys::SigningKey;
use support::send;

const POOL: &str = "eu-west-1_Forms1";
const READ: &str = "premium_api/read";

/// local-cognito for `POOL`, its tokens carrying `issuer` in `form`.
fn local_cognito(issuer: IssuerUrl, form: IssuerForm) -> (Arc<Issuer>, ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = IssuerConfig::new(POOL, vec![AppClient::new("reader", "s3cret", [READ])]);
    config.issuer = issuer;
    config.issuer_form = form;
    let issuer = Arc::new(Issuer::new(config, &base).unwrap());
    let server = local_cognito::serve(issuer.clone(), listener).unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    (issuer, handle)
}

/// Settings from the command line `args`, through the production conversion.
fn settings_from_args(args: &[&str]) -> premium_content::Settings {
    let mut argv = vec!["premium-content"];
    argv.extend_from_slice(args);
    premium_content::Config::try_parse_from(argv)
        .unwrap()
        .settings()
        .unwrap()
}

/// Serves `settings`; returns the base URL and handle.
async fn premium(settings: premium_content::Settings) -> (String, ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = premium_content::start(settings, listener).await.unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    (base, handle)
}

/// `GET url` with `token` as bearer.
async fn get(url: &str, token: &str) -> support::Response {
    let client = reqwest::Client::new();
    send(&client, "GET", url, Some(&format!("Bearer {token}"))).await
}

/// Polls `GET url` with `token` until it answers `status` (30 s at most: a loaded machine).
async fn eventually_status(url: &str, token: &str, status: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = get(url, token).await;
        if answer.status == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still {} ({}), wanted {status}",
            answer.status,
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The production resolution of `AWS_REGION` + `COGNITO_USER_POOL_ID`, checked, with each
/// issuer's JWKS URL then replaced by `local(form)`.
fn derived_settings(local: impl Fn(IssuerForm) -> String) -> premium_content::Settings {
    let mut settings =
        settings_from_args(&["--aws-region", "eu-west-1", "--cognito-user-pool-id", POOL]);
    let pool = UserPool::from_id(POOL).unwrap();
    assert_eq!(settings.issuers, IssuerJwks::of_user_pool(&pool));
    for (configured, (form, issuer)) in settings.issuers.iter_mut().zip(pool.issuers()) {
        assert_eq!(configured.issuer, issuer);
        configured.jwks_url = local(form);
    }
    settings
}

#[tokio::test]
async fn a_derived_pool_accepts_tokens_of_both_forms() {
    let (issuer, issuer_handle) =
        local_cognito(IssuerUrl::Region("eu-west-1".into()), IssuerForm::Original);
    let (base, handle) = premium(derived_settings(|form| issuer.jwks_uri_of(form))).await;
    let url = format!("{base}/home/premium");
    for form in IssuerForm::ALL {
        eventually_status(&url, &issuer.mint_as(form, "reader", &[READ]), 200).await;
    }
    let readyz = send(
        &reqwest::Client::new(),
        "GET",
        &format!("{base}/readyz"),
        None,
    )
    .await;
    assert_eq!(readyz.status, 200);
    handle.stop(true).await;
    issuer_handle.stop(true).await;
}

#[tokio::test]
async fn an_exact_issuer_refuses_the_other_form() {
    // Tokens from the grant carry the updated form; its JWKS is found at its default place.
    let (issuer, issuer_handle) = local_cognito(IssuerUrl::Local, IssuerForm::Updated);
    assert!(issuer.issuer_url().ends_with(&format!("/issuer/{POOL}")));
    let settings =
        premium_content::Settings::new(vec![IssuerJwks::at_default_place(issuer.issuer_url())]);
    let (base, handle) = premium(settings).await;
    let url = format!("{base}/home/premium");
    let granted = reqwest::Client::new()
        .post(issuer.token_endpoint())
        .basic_auth("reader", Some("s3cret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let token = granted["access_token"].as_str().unwrap();
    eventually_status(&url, token, 200).await;

    let original = issuer.mint_as(IssuerForm::Original, "reader", &[READ]);
    let answer = get(&url, &original).await;
    assert_eq!(answer.status, 401);
    assert!(
        answer
            .challenge
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    handle.stop(true).await;
    issuer_handle.stop(true).await;
}

#[tokio::test]
async fn readiness_never_waits_for_the_second_forms_jwks() {
    let (issuer, issuer_handle) =
        local_cognito(IssuerUrl::Region("eu-west-1".into()), IssuerForm::Original);
    // The updated form's JWKS is not served yet (a pool still on ORIGINAL may not serve it).
    let updated_jwks = JwksServer::start(&[issuer.signing_key()]);
    updated_jwks.set_status(404);
    let updated_url = updated_jwks.url.clone();
    let settings = derived_settings(|form| match form {
        IssuerForm::Original => issuer.jwks_uri_of(form),
        IssuerForm::Updated => updated_url.clone(),
    });
    let (base, handle) = premium(settings).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/home/premium");
    eventually_status(
        &url,
        &issuer.mint_as(IssuerForm::Original, "reader", &[READ]),
        200,
    )
    .await;
    let readyz = send(&client, "GET", &format!("{base}/readyz"), None).await;
    assert_eq!(
        readyz.status, 200,
        "ready on the original form's keys alone"
    );

    let updated = issuer.mint_as(IssuerForm::Updated, "reader", &[READ]);
    let answer = get(&url, &updated).await;
    assert_eq!(answer.status, 503, "its keys cannot be judged yet");
    let again = get(&url, &updated).await;
    assert_eq!(again.status, 503, "nor inside the refetch penalty box");
    // Once published, the second JWKS is picked up (background retry or a token's fetch).
    updated_jwks.set_status(200);
    eventually_status(&url, &updated, 200).await;
    handle.stop(true).await;
    issuer_handle.stop(true).await;
}

#[tokio::test]
async fn a_kid_published_by_the_other_issuer_never_verifies() {
    let (issuer, issuer_handle) =
        local_cognito(IssuerUrl::Region("eu-west-1".into()), IssuerForm::Original);
    // The updated form's JWKS publishes another key under the pool's kid: a token of the
    // original form signed with it must not pass because the updated form vouches for it.
    let impostor = SigningKey::generate(issuer.signing_key().kid());
    let updated_jwks = JwksServer::start(&[&impostor]);
    let updated_url = updated_jwks.url.clone();
    let settings = derived_settings(|form| match form {
        IssuerForm::Original => issuer.jwks_uri_of(form),
        IssuerForm::Updated => updated_url.clone(),
    });
    let (base, handle) = premium(settings).await;
    let url = format!("{base}/home/premium");
    let mut claims = issuer.claims("reader", &[READ]);
    eventually_status(&url, &claims.sign(issuer.signing_key()), 200).await;
    let forged = claims.sign(&impostor);
    let answer = get(&url, &forged).await;
    assert_eq!(answer.status, 401);
    // The impostor key is honoured only for the issuer that publishes it.
    claims.iss = UserPool::from_id(POOL).unwrap().issuer(IssuerForm::Updated);
    eventually_status(&url, &claims.sign(&impostor), 200).await;
    handle.stop(true).await;
    issuer_handle.stop(true).await;
}
