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

/// One call of the outage load test: when it was sent (from the test's start), its status (0:
/// no answer) and how long it took.
type Call = (Duration, u16, Duration);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node + oauth2-mock-server, moto_server and the built binaries: scripts/test"]
async fn a_secrets_manager_outage_under_load_answers_every_call_within_the_deadline() {
    const TOKEN_DEADLINE: Duration = Duration::from_secs(5);
    const OUTAGE: Duration = Duration::from_secs(20);
    const AFTER: Duration = Duration::from_secs(10);
    const CALLERS: usize = 10;
    let world = World::start().await;
    let moto = Moto::start().await;
    let secret = seed_secret_json(POOL, &world.pool.token_endpoint, &consumer_client());
    let arn = moto.create_secret("cognito_e2e_outage", &secret).await;
    // Secrets Manager hangs from before the consumer starts: it has no credentials, and every
    // fetch costs the whole fetch timeout (the worst case; a closed port fails faster).
    moto.process.pause();
    let mut env = moto.aws_env();
    env.insert("APP_SECRETS_ARN", arn);
    env.insert("PREMIUM_API_URL", world.premium_url());
    env.insert("TOKEN_DEADLINE", "5s".to_owned());
    let consumer = Service::start("content-consumer", &env, "/healthz", &world.http).await;

    let url = format!("{}/content/authorized-read", consumer.base);
    let started = std::time::Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (http, url) = (world.http.clone(), url.clone());
            tokio::spawn(async move {
                let mut calls: Vec<Call> = Vec::new();
                while started.elapsed() < OUTAGE + AFTER {
                    let sent = started.elapsed();
                    let status = http
                        .get(&url)
                        .timeout(Duration::from_secs(30))
                        .send()
                        .await
                        .map_or(0, |r| r.status().as_u16());
                    calls.push((sent, status, started.elapsed() - sent));
                }
                calls
            })
        })
        .collect();
    tokio::time::sleep(OUTAGE.saturating_sub(started.elapsed())).await;
    moto.process.resume();
    let mut calls: Vec<Call> = Vec::new();
    for caller in callers {
        calls.extend(caller.await.expect("caller task"));
    }

    let failed = calls.iter().filter(|(_, status, _)| *status != 200).count();
    let late: Vec<&Call> = calls.iter().filter(|c| c.2 > TOKEN_DEADLINE).collect();
    let slowest = calls.iter().map(|c| c.2).max().unwrap_or_default();
    eprintln!(
        "Secrets Manager outage of {OUTAGE:?} with {CALLERS} callers: {} requests, {failed} failed \
         (503 while no credentials), {} late (> TOKEN_DEADLINE {TOKEN_DEADLINE:?}), slowest {slowest:?}",
        calls.len(),
        late.len()
    );
    assert!(late.is_empty(), "answered after TOKEN_DEADLINE: {late:?}");
    for (sent, status, _) in &calls {
        assert!(
            [200, 503].contains(status),
            "a call sent at {sent:?} got {status}"
        );
        // Credentials load within a few fetch timeouts of Secrets Manager's return.
        assert!(
            *status == 200 || *sent < OUTAGE + Duration::from_secs(5),
            "a call sent at {sent:?}, after the outage, failed"
        );
    }
    assert!(
        calls
            .iter()
            .any(|(sent, status, _)| *sent < OUTAGE && *status == 503),
        "the outage was felt"
    );
    assert!(
        calls.iter().filter(|(_, status, _)| *status == 200).count() > CALLERS,
        "served after the outage"
    );
}
