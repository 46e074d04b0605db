//! The seed's flows end to end with servers we did not write: premium-content and
//! content-consumer as real processes, oauth2-mock-server shaped like Cognito as the issuer,
//! moto_server as Secrets Manager holding the credentials in the seed's JSON format.
//!
//! Ignored by default (they need the tools and the built binaries); `scripts/test` runs them.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use e2e::Service;
use local_cognito::claims::AccessTokenClaims;
use local_cognito::keys::SigningKey;
use serde_json::{Value, json};
use test_support::{Moto, Oauth2Cognito, PoolClient, seed_secret_json};

const POOL: &str = "us-east-1_E2eFlows1";
const READ: &str = "premium_api/read";
const WRITE: &str = "premium_api/write";

/// A chosen secret with `+` (AddUserPoolClientSecret allows `[\w+]+`): our token client must
/// send it, and the issuer read it, as Cognito does (the raw pair in HTTP Basic).
fn consumer_client() -> PoolClient {
    PoolClient::new("e2econsumer1", "Consumer+Secret_1+e2e", &[READ, WRITE])
}

fn reader_client() -> PoolClient {
    PoolClient::new("e2ereader1", "reader-secret-1", &[READ])
}

fn unauthorized() -> Value {
    json!({"message": "Unauthorized"})
}

fn read_answer() -> Value {
    json!({"message": "Premium Content: OAuth Scope: Read"})
}

fn write_answer() -> Value {
    json!({"message": "Premium Content: OAuth Scope: Write"})
}

/// The issuer and premium-content, which every flow needs.
struct World {
    http: reqwest::Client,
    pool: Oauth2Cognito,
    premium: Service,
}

impl World {
    async fn start() -> Self {
        let http = reqwest::Client::new();
        let pool = Oauth2Cognito::start(POOL, &[consumer_client(), reader_client()]);
        // premium-content finds the JWKS at its default place, {issuer}/.well-known/jwks.json.
        assert_eq!(
            pool.jwks_uri,
            format!("{}/.well-known/jwks.json", pool.issuer)
        );
        let premium = Service::start(
            "premium-content",
            &BTreeMap::from([("COGNITO_ISSUER", pool.issuer.clone())]),
            "/readyz",
            &http,
        )
        .await;
        Self {
            http,
            pool,
            premium,
        }
    }

    fn premium_url(&self) -> String {
        format!("{}/home/premium", self.premium.base)
    }

    /// content-consumer reading `secret_json` from Secrets Manager (moto) by ARN.
    async fn consumer(&self, moto: &Moto, name: &str, secret_json: &str) -> Service {
        let arn = moto.create_secret(name, secret_json).await;
        let mut env = moto.aws_env();
        env.insert("APP_SECRETS_ARN", arn);
        env.insert("PREMIUM_API_URL", self.premium_url());
        Service::start("content-consumer", &env, "/healthz", &self.http).await
    }

    async fn get(&self, url: &str) -> (u16, Value) {
        let response = self.http.get(url).send().await.expect("answers");
        let status = response.status().as_u16();
        let body = response.json().await.expect("answers JSON");
        (status, body)
    }

    /// A real token from the issuer for `client`.
    async fn token(&self, client: &PoolClient, scope: &str) -> String {
        let response = self
            .http
            .post(&self.pool.token_endpoint)
            .basic_auth(&client.id, Some(&client.secret))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .expect("issuer answers");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("JSON");
        body["access_token"].as_str().expect("a token").to_owned()
    }

    async fn call_premium(&self, method: reqwest::Method, token: &str) -> (u16, String, Value) {
        let response = self
            .http
            .request(method, self.premium_url())
            .bearer_auth(token)
            .send()
            .await
            .expect("premium-content answers");
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, challenge, response.json().await.expect("JSON"))
    }
}

#[tokio::test]
#[ignore = "needs node + oauth2-mock-server, moto_server and the built binaries: scripts/test"]
async fn the_three_seed_flows_with_credentials_from_secrets_manager() {
    let world = World::start().await;
    let moto = Moto::start().await;
    let secret = seed_secret_json(POOL, &world.pool.token_endpoint, &consumer_client());
    let consumer = world.consumer(&moto, "cognito_e2e_flows", &secret).await;

    let url = |path: &str| format!("{}/content/{path}", consumer.base);
    assert_eq!(
        world.get(&url("unauthorized-read")).await,
        (401, unauthorized())
    );
    assert_eq!(
        world.get(&url("authorized-read")).await,
        (200, read_answer())
    );
    assert_eq!(
        world.get(&url("authorized-write")).await,
        (200, write_answer())
    );
    // The tokens really came from the third-party issuer, for our client.
    assert!(
        world.pool.process.printed_within(
            "token client=e2econsumer1 status=200",
            Duration::from_secs(5)
        ),
        "{}",
        world.pool.process.output()
    );
}

#[tokio::test]
#[ignore = "needs node + oauth2-mock-server, moto_server and the built binaries: scripts/test"]
async fn a_wrong_secret_is_refused_by_the_issuer_and_answered_as_bad_gateway() {
    let world = World::start().await;
    let moto = Moto::start().await;
    let mut wrong = consumer_client();
    wrong.secret = "not-the-secret".to_owned();
    let secret = seed_secret_json(POOL, &world.pool.token_endpoint, &wrong);
    let consumer = world.consumer(&moto, "cognito_e2e_wrong", &secret).await;

    let (status, body) = world
        .get(&format!("{}/content/authorized-read", consumer.base))
        .await;
    assert_eq!(status, 502, "{body}");
    let message = body["message"].as_str().expect("a message");
    assert!(message.contains("invalid_client"), "{message}");
    assert!(
        !message.contains("not-the-secret"),
        "the secret never shows"
    );
    assert!(
        world.pool.process.printed_within(
            "token client=e2econsumer1 status=400 error=invalid_client",
            Duration::from_secs(5)
        ),
        "{}",
        world.pool.process.output()
    );
    // Calls that need no token still go through.
    assert_eq!(
        world
            .get(&format!("{}/content/unauthorized-read", consumer.base))
            .await,
        (401, unauthorized())
    );
}

#[tokio::test]
#[ignore = "needs node + oauth2-mock-server, moto_server and the built binaries: scripts/test"]
async fn a_token_endpoint_that_is_down_is_answered_as_a_gateway_error() {
    let mut world = World::start().await;
    let moto = Moto::start().await;
    let secret = seed_secret_json(POOL, &world.pool.token_endpoint, &consumer_client());
    let consumer = world.consumer(&moto, "cognito_e2e_down", &secret).await;
    world.pool.process.kill();

    for path in ["authorized-read", "authorized-write"] {
        let (status, body) = world
            .get(&format!("{}/content/{path}", consumer.base))
            .await;
        assert!(matches!(status, 502 | 504), "{path}: {status} {body}");
        let message = body["message"].as_str().expect("a message");
        assert!(message.contains("token endpoint"), "{message}");
    }
    assert_eq!(
        world
            .get(&format!("{}/content/unauthorized-read", consumer.base))
            .await,
        (401, unauthorized())
    );
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

#[tokio::test]
#[ignore = "needs node + oauth2-mock-server, moto_server and the built binaries: scripts/test"]
async fn forged_tokens_are_refused_and_real_ones_are_scope_checked() {
    let world = World::start().await;
    let real = world.token(&consumer_client(), READ).await;
    let claims = decode_part(&real, 1);
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["client_id"], "e2econsumer1");
    assert_eq!(claims["iss"], world.pool.issuer);
    // Shaped exactly like Cognito's access tokens, as our own local issuer mints them.
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        keys
    };
    let cognito_shape =
        AccessTokenClaims::new("iss", "client", &[READ], 0, Duration::from_secs(1)).to_json();
    assert_eq!(keys(&claims), keys(&cognito_shape));
    assert_eq!(keys(&decode_part(&real, 0)), ["alg", "kid"]);
    assert_eq!(claims["version"], 2);
    assert_eq!(claims["scope"], READ);
    // The real token works, so the refusals below are about the forgery alone.
    let (status, _, body) = world.call_premium(reqwest::Method::GET, &real).await;
    assert_eq!((status, body), (200, read_answer()));

    // Same claims, same kid as the issuer's key, but signed by a key that is not in the JWKS.
    let kid = decode_part(&real, 0)["kid"]
        .as_str()
        .expect("a kid")
        .to_owned();
    let forger = SigningKey::generate(kid);
    let forged = forger.sign(&claims);
    let (status, challenge, body) = world.call_premium(reqwest::Method::GET, &forged).await;
    assert_eq!((status, body), (401, unauthorized()));
    assert!(challenge.contains("invalid_token"), "{challenge}");

    // A kid the JWKS does not have.
    let stranger = SigningKey::generate("not-in-the-jwks");
    let (status, _, body) = world
        .call_premium(reqwest::Method::GET, &stranger.sign(&claims))
        .await;
    assert_eq!((status, body), (401, unauthorized()));

    // A real token without the write scope may not write.
    let reader = world.token(&reader_client(), READ).await;
    let (status, challenge, body) = world.call_premium(reqwest::Method::POST, &reader).await;
    assert_eq!((status, body), (403, json!({"message": "Forbidden"})));
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    // The issuer refuses to give the reader the write scope at all.
    let refused = world
        .http
        .post(&world.pool.token_endpoint)
        .basic_auth("e2ereader1", Some("reader-secret-1"))
        .form(&[("grant_type", "client_credentials"), ("scope", WRITE)])
        .send()
        .await
        .expect("issuer answers");
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.json::<Value>().await.expect("JSON"),
        json!({"error": "invalid_scope"})
    );
}

#[tokio::test]
#[ignore = "needs node + oauth2-mock-server: scripts/test"]
async fn the_issuer_reads_client_credentials_as_cognito_does() {
    use base64::Engine;
    let pool = Oauth2Cognito::start(POOL, &[consumer_client()]);
    let http = reqwest::Client::new();
    let client = consumer_client();
    let basic = |id: &str, secret: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    };
    let ask = |authorization: String, form: Vec<(&'static str, String)>| {
        let request = http
            .post(&pool.token_endpoint)
            .header("authorization", authorization)
            .form(&form);
        async move {
            let response = request.send().await.expect("issuer answers");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("JSON"))
        }
    };
    let grant = || vec![("grant_type", "client_credentials".to_owned())];
    // The raw pair, as Cognito documents it and `curl -u` sends it.
    let (status, body) = ask(basic(&client.id, &client.secret), grant()).await;
    assert_eq!(status, 200, "{body}");
    // RFC 6749 2.3.1's form-encoding turns `+` into `%2B`: not the secret.
    let encoded: String = form_urlencoded::byte_serialize(client.secret.as_bytes()).collect();
    assert_ne!(encoded, client.secret);
    let (status, body) = ask(basic(&client.id, &encoded), grant()).await;
    assert_eq!((status, body), (400, json!({"error": "invalid_client"})));
    // The AWS sample sends Basic and the form's client_id + client_secret together.
    let mut both = grant();
    both.push(("client_id", client.id.clone()));
    both.push(("client_secret", client.secret.clone()));
    let (status, body) = ask(basic(&client.id, &client.secret), both).await;
    assert_eq!(status, 200, "{body}");
    // Two identities in one request is malformed.
    let mut two = grant();
    two.push(("client_id", "someone-else".to_owned()));
    let (status, body) = ask(basic(&client.id, &client.secret), two).await;
    assert_eq!((status, body), (400, json!({"error": "invalid_request"})));
}
