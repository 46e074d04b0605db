//! The issuer over HTTP, as a client and a verifier that know only Cognito's documented behaviour
//! see it: the token endpoint's answers, the JWKS that verifies its tokens, the discovery document.

use std::net::TcpListener;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use local_cognito::client_auth::CREDENTIAL_CHARACTERS;
use local_cognito::issuer::{AppClient, Config, start};
use serde_json::Value;

const POOL: &str = "us-east-1_HttpTest1";
const READ: &str = "premium_api/read";
const WRITE: &str = "premium_api/write";

/// A 200 answer labelled as Cognito labels its JSON.
fn assert_cognito_json(response: &reqwest::Response) {
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/json;charset=UTF-8"
    );
}

struct Running {
    base: String,
    handle: actix_web::dev::ServerHandle,
    http: reqwest::Client,
}

impl Running {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut config = Config::new(
            POOL,
            vec![
                AppClient::new("consumer", "consumer-secret", [READ, WRITE]),
                AppClient::new("reader", "reader-secret", [READ]),
            ],
        );
        config.token_lifetime = Duration::from_secs(900);
        let server = start(config, listener).await.unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base,
            handle,
            http: reqwest::Client::new(),
        }
    }

    fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.base)
    }

    async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn post_form(&self, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> (u16, Value) {
        let mut request = self.http.post(self.token_url()).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Verifies `token` the way premium-content must: key from the JWKS by `kid`, RS256, issuer
    /// from the discovery document.
    async fn verify(&self, token: &str) -> Value {
        let (_, discovery) = self
            .get_json(&format!("/{POOL}/.well-known/openid-configuration"))
            .await;
        let jwks: Value = self
            .http
            .get(discovery["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let kid = header.kid.expect("Cognito tokens carry a kid");
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the kid is in the JWKS");
        let key = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_aud = false;
        validation.set_issuer(&[discovery["issuer"].as_str().unwrap()]);
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .expect("token verifies")
            .claims
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn basic_auth_without_scope_gets_every_allowed_scope_in_a_cognito_shaped_token() {
    let issuer = Running::start().await;
    let response = issuer
        .http
        .post(issuer.token_url())
        .basic_auth("consumer", Some("consumer-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_cognito_json(&response);
    // RFC 6749 section 5.1: a token answer must not be cached.
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let claims = issuer.verify(body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], "consumer");
    assert_eq!(claims["client_id"], "consumer");
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["scope"], format!("{READ} {WRITE}"));
    assert_eq!(claims["version"], 2);
    assert_eq!(claims["iss"], format!("{}/{POOL}", issuer.base));
    let iat = claims["iat"].as_u64().unwrap();
    assert!(iat.abs_diff(unix_now()) < 5);
    assert_eq!(claims["auth_time"], iat);
    assert_eq!(claims["exp"].as_u64().unwrap(), iat + 900);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 36);
    assert!(
        claims.get("aud").is_none(),
        "Cognito access tokens have no aud"
    );
}

#[tokio::test]
async fn form_credentials_with_one_scope_get_exactly_that_scope() {
    let issuer = Running::start().await;
    let (status, body) = issuer
        .post_form(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "consumer"),
                ("client_secret", "consumer-secret"),
                ("scope", WRITE),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let claims = issuer.verify(body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["scope"], WRITE);
    // Each token is unique.
    let (_, again) = issuer
        .post_form(
            Some(("consumer", "consumer-secret")),
            &[("grant_type", "client_credentials"), ("scope", WRITE)],
        )
        .await;
    assert_ne!(
        issuer.verify(again["access_token"].as_str().unwrap()).await["jti"],
        claims["jti"]
    );
}

#[tokio::test]
async fn refusals_are_cognito_error_bodies() {
    let issuer = Running::start().await;
    let grant = ("grant_type", "client_credentials");
    type Case<'a> = (Option<(&'a str, &'a str)>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (Some(("consumer", "wrong")), vec![grant], "invalid_client"),
        (
            Some(("nobody", "consumer-secret")),
            vec![grant],
            "invalid_client",
        ),
        (None, vec![grant], "invalid_client"),
        (
            None,
            vec![grant, ("client_id", "reader"), ("client_secret", "nope")],
            "invalid_client",
        ),
        (
            Some(("reader", "reader-secret")),
            vec![grant, ("scope", WRITE)],
            "invalid_scope",
        ),
        (
            Some(("reader", "reader-secret")),
            vec![grant, ("scope", "other_api/read")],
            "invalid_scope",
        ),
        (Some(("reader", "reader-secret")), vec![], "invalid_request"),
        (
            Some(("reader", "reader-secret")),
            vec![("grant_type", "password")],
            "unsupported_grant_type",
        ),
        (
            Some(("reader", "reader-secret")),
            vec![("grant_type", "refresh_token")],
            "unauthorized_client",
        ),
    ];
    for (basic, form, expected) in cases {
        let (status, body) = issuer.post_form(basic, &form).await;
        assert_eq!(status, 400, "{form:?}");
        assert_eq!(body, serde_json::json!({ "error": expected }), "{form:?}");
    }
}

#[tokio::test]
async fn a_body_that_is_not_a_form_is_invalid_request() {
    let issuer = Running::start().await;
    let response = issuer
        .http
        .post(issuer.token_url())
        .basic_auth("consumer", Some("consumer-secret"))
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let get = issuer.http.get(issuer.token_url()).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    // RFC 6749 section 3.2: a parameter sent twice makes the request malformed.
    let twice = issuer
        .http
        .post(issuer.token_url())
        .basic_auth("consumer", Some("consumer-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&scope={READ}&scope={WRITE}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), 400);
    assert_eq!(twice.headers()["cache-control"], "no-store");
    let body: Value = twice.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn discovery_and_jwks_are_served_for_the_pool_only() {
    let issuer = Running::start().await;
    let (status, discovery) = issuer
        .get_json(&format!("/{POOL}/.well-known/openid-configuration"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(discovery["issuer"], format!("{}/{POOL}", issuer.base));
    assert_eq!(discovery["token_endpoint"], issuer.token_url());
    assert_eq!(
        discovery["jwks_uri"],
        format!(
            "{}/.well-known/jwks.json",
            discovery["issuer"].as_str().unwrap()
        )
    );
    let (status, jwks) = issuer
        .get_json(&format!("/{POOL}/.well-known/jwks.json"))
        .await;
    assert_eq!(status, 200);
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    let (status, _) = issuer
        .get_json("/us-east-1_Other/.well-known/jwks.json")
        .await;
    assert_eq!(status, 404);
}

/// A client whose id and secret hold every character Cognito allows (`[\w+]+`).
async fn alphabet_issuer() -> (String, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = Config::new(
        POOL,
        vec![AppClient::new(
            CREDENTIAL_CHARACTERS,
            format!("Ab3dEf6hIj+KlMnOp+QrStUv9x{CREDENTIAL_CHARACTERS}"),
            [READ],
        )],
    );
    let server = start(config, listener).await.unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    (base, handle)
}

#[tokio::test]
async fn basic_credentials_are_read_raw_as_cognito_documents() {
    use base64::Engine;
    let (base, handle) = alphabet_issuer().await;
    let secret = format!("Ab3dEf6hIj+KlMnOp+QrStUv9x{CREDENTIAL_CHARACTERS}");
    let token = |authorization: String, form: Vec<(&'static str, String)>| {
        let url = format!("{base}/oauth2/token");
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("authorization", authorization)
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let basic = |pair: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    let grant = || vec![("grant_type", "client_credentials".to_owned())];
    // `curl -u id:secret` and Python `requests` send the pair raw: Cognito's documented form.
    let (status, body) = token(basic(&format!("{CREDENTIAL_CHARACTERS}:{secret}")), grant()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    // The RFC 6749 2.3.1 form-encoding makes `+` into `%2B`, which is not the secret.
    let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let id: String = form_urlencoded::byte_serialize(CREDENTIAL_CHARACTERS.as_bytes()).collect();
    let (status, body) = token(basic(&format!("{id}:{encoded}")), grant()).await;
    assert_eq!(
        (status, body),
        (400, serde_json::json!({"error": "invalid_client"}))
    );
    // The AWS sample sends Basic and the form's client_id + client_secret together.
    let mut both = grant();
    both.push(("client_id", CREDENTIAL_CHARACTERS.to_owned()));
    both.push(("client_secret", secret.clone()));
    let (status, body) = token(basic(&format!("{CREDENTIAL_CHARACTERS}:{secret}")), both).await;
    assert_eq!(status, 200, "{body}");
    // In the form body (client_secret_post) form encoding is the body's own: `+` arrives intact.
    let response = reqwest::Client::new()
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CREDENTIAL_CHARACTERS),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    handle.stop(false).await;
}

#[tokio::test]
async fn both_issuer_forms_publish_their_discovery_and_the_same_jwks() {
    let issuer = Running::start().await;
    let mut sets = Vec::new();
    for (prefix, iss) in [
        ("", format!("{}/{POOL}", issuer.base)),
        ("/issuer", format!("{}/issuer/{POOL}", issuer.base)),
    ] {
        let (status, discovery) = issuer
            .get_json(&format!("{prefix}/{POOL}/.well-known/openid-configuration"))
            .await;
        assert_eq!(status, 200);
        // OpenID Connect Discovery 1.0, 4.3: the issuer the document was fetched under.
        assert_eq!(discovery["issuer"], iss.as_str());
        assert_eq!(
            discovery["jwks_uri"],
            format!("{iss}/.well-known/jwks.json")
        );
        let response = issuer
            .http
            .get(discovery["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_cognito_json(&response);
        assert!(response.headers().get("cache-control").is_none());
        sets.push(response.json::<Value>().await.unwrap());
    }
    assert_eq!(sets[0], sets[1], "one pool, one key set under both issuers");
    let (status, _) = issuer
        .get_json("/issuer/us-east-1_Other/.well-known/jwks.json")
        .await;
    assert_eq!(status, 404);
}
