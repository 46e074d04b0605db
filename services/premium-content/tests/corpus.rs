//! A corpus of forged and malformed tokens sent to a running premium-content: each gets the
//! right status and is counted under the right rejection reason; none gets a 5xx.

mod support;

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use local_cognito::jwks_server::JwksServer;
use local_cognito::keys::{SigningKey, encode_json};
use premium_content::Settings;
use serde_json::{Value, json};
use support::{CLIENT, ISSUER, Premium, claims, now, send, settings};

const READ: &str = "premium_api/read";

/// How a request presents its token.
enum Presentation {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: <raw>`.
    Raw(String),
    /// Several `Authorization` headers.
    Many(Vec<String>),
}

struct Case {
    name: &'static str,
    send: Presentation,
    status: u16,
    /// The rejection reason counted, or None for a served request.
    reason: Option<&'static str>,
}

fn case(name: &'static str, token: String, status: u16, reason: &'static str) -> Case {
    Case {
        name,
        send: Presentation::Bearer(token),
        status,
        reason: Some(reason),
    }
}

fn hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", encode_json(header), encode_json(claims));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn with(mut value: Value, key: &str, replacement: Value) -> Value {
    value[key] = replacement;
    value
}

fn without(mut value: Value, key: &str) -> Value {
    value.as_object_mut().unwrap().remove(key);
    value
}

fn swap_payload(token: &str, payload: &Value) -> String {
    let mut parts = token.split('.');
    let header = parts.next().unwrap();
    let signature = parts.nth(1).unwrap();
    format!("{header}.{}.{signature}", encode_json(payload))
}

fn corpus(key: &SigningKey, attacker: &SigningKey) -> Vec<Case> {
    let good = claims(READ);
    let valid = key.sign(&good);
    let header = |extra: Value| {
        let mut h = json!({"alg": "RS256", "kid": key.kid()});
        for (k, v) in extra.as_object().unwrap() {
            h[k] = v.clone();
        }
        h
    };
    let der = key.public_key_der();
    let pem = format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        STANDARD.encode(&der)
    );
    let jwk_json = serde_json::to_vec(&key.public_jwk()).unwrap();
    let now = now();

    vec![
        Case {
            name: "control: valid token",
            send: Presentation::Bearer(valid.clone()),
            status: 200,
            reason: None,
        },
        Case {
            name: "control: valid bare token",
            send: Presentation::Raw(valid.clone()),
            status: 200,
            reason: None,
        },
        // --- alg confusion and alg none ---
        case(
            "HS256 keyed with the RSA public key (DER)",
            hs256(&der, &json!({"alg": "HS256", "kid": key.kid()}), &good),
            401,
            "unsupported_alg",
        ),
        case(
            "HS256 keyed with the RSA public key (PEM)",
            hs256(
                pem.as_bytes(),
                &json!({"alg": "HS256", "kid": key.kid()}),
                &good,
            ),
            401,
            "unsupported_alg",
        ),
        case(
            "HS256 keyed with the JWK JSON",
            hs256(&jwk_json, &json!({"alg": "HS256", "kid": key.kid()}), &good),
            401,
            "unsupported_alg",
        ),
        case(
            "HS256 without kid",
            hs256(&der, &json!({"alg": "HS256"}), &good),
            401,
            "unsupported_alg",
        ),
        case(
            "alg none, empty signature",
            format!(
                "{}.{}.",
                encode_json(&json!({"alg": "none", "kid": key.kid()})),
                encode_json(&good)
            ),
            401,
            "malformed",
        ),
        case(
            "alg none with a real signature",
            key.sign_with_header(&json!({"alg": "none", "kid": key.kid()}), &good),
            401,
            "unsupported_alg",
        ),
        case(
            "alg NONE",
            key.sign_with_header(&json!({"alg": "NONE", "kid": key.kid()}), &good),
            401,
            "unsupported_alg",
        ),
        case(
            "alg RS384 header over an RS256 signature",
            key.sign_with_header(&json!({"alg": "RS384", "kid": key.kid()}), &good),
            401,
            "unsupported_alg",
        ),
        case(
            "alg PS256",
            key.sign_with_header(&json!({"alg": "PS256", "kid": key.kid()}), &good),
            401,
            "unsupported_alg",
        ),
        case(
            "alg missing",
            key.sign_with_header(&json!({"kid": key.kid()}), &good),
            401,
            "unsupported_alg",
        ),
        case(
            "duplicate alg members",
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(format!(
                    r#"{{"alg":"none","alg":"RS256","kid":"{}"}}"#,
                    key.kid()
                )),
                encode_json(&good),
                valid.rsplit('.').next().unwrap()
            ),
            401,
            "malformed",
        ),
        // --- keys the attacker brings along ---
        case(
            "embedded jwk under an unknown kid",
            attacker.sign_with_header(
                &json!({"alg": "RS256", "kid": "attacker", "jwk": attacker.public_jwk()}),
                &good,
            ),
            401,
            "unknown_kid",
        ),
        case(
            "embedded jwk under our kid",
            attacker.sign_with_header(&header(json!({"jwk": attacker.public_jwk()})), &good),
            401,
            "bad_signature",
        ),
        case(
            "jku to the attacker's JWKS",
            attacker.sign_with_header(
                &header(json!({"jku": "http://127.0.0.1:1/attacker/jwks.json"})),
                &good,
            ),
            401,
            "bad_signature",
        ),
        case(
            "x5u to the attacker's certificate",
            attacker.sign_with_header(
                &header(json!({"x5u": "http://127.0.0.1:1/cert.pem"})),
                &good,
            ),
            401,
            "bad_signature",
        ),
        case(
            "x5c with the attacker's certificate",
            attacker.sign_with_header(
                &header(json!({"x5c": [STANDARD.encode(attacker.public_key_der())]})),
                &good,
            ),
            401,
            "bad_signature",
        ),
        case(
            "attacker's key under our kid",
            attacker.sign_with_header(&header(json!({})), &good),
            401,
            "bad_signature",
        ),
        // --- kid games ---
        case(
            "kid path traversal",
            key.sign_with_header(
                &json!({"alg": "RS256", "kid": "../../../../etc/passwd"}),
                &good,
            ),
            401,
            "unknown_kid",
        ),
        case(
            "kid /dev/null",
            key.sign_with_header(&json!({"alg": "RS256", "kid": "/dev/null"}), &good),
            401,
            "unknown_kid",
        ),
        case(
            "kid SQL injection",
            key.sign_with_header(&json!({"alg": "RS256", "kid": "x' OR '1'='1"}), &good),
            401,
            "unknown_kid",
        ),
        case(
            "kid with NUL and unicode",
            key.sign_with_header(&json!({"alg": "RS256", "kid": "kid-1\u{0}\u{202e}"}), &good),
            401,
            "unknown_kid",
        ),
        case(
            "kid missing",
            key.sign_with_header(&json!({"alg": "RS256"}), &good),
            401,
            "missing_kid",
        ),
        case(
            "kid a number",
            key.sign_with_header(&json!({"alg": "RS256", "kid": 1}), &good),
            401,
            "missing_kid",
        ),
        case(
            "crit header",
            key.sign_with_header(&header(json!({"crit": ["b64"], "b64": false})), &good),
            401,
            "malformed",
        ),
        // --- tampering ---
        case(
            "tampered payload: scope escalated",
            swap_payload(
                &valid,
                &with(
                    good.clone(),
                    "scope",
                    json!("premium_api/read premium_api/write"),
                ),
            ),
            401,
            "bad_signature",
        ),
        case(
            "tampered payload: exp extended",
            swap_payload(
                &valid,
                &with(good.clone(), "exp", json!(now + 365.0 * 86400.0)),
            ),
            401,
            "bad_signature",
        ),
        case(
            "signature of another token",
            {
                let other = key.sign(&claims("premium_api/write"));
                let (input, _) = valid.rsplit_once('.').unwrap();
                format!("{input}.{}", other.rsplit('.').next().unwrap())
            },
            401,
            "bad_signature",
        ),
        case(
            "signature stripped",
            valid.rsplit_once('.').unwrap().0.to_owned(),
            401,
            "malformed",
        ),
        case(
            "signature with padding",
            format!("{valid}=="),
            401,
            "malformed",
        ),
        // --- claims ---
        case(
            "wrong issuer",
            key.sign(&with(
                good.clone(),
                "iss",
                json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
            )),
            401,
            "wrong_issuer",
        ),
        case(
            "issuer with trailing slash",
            key.sign(&with(good.clone(), "iss", json!(format!("{ISSUER}/")))),
            401,
            "wrong_issuer",
        ),
        case(
            "ID token",
            key.sign(&with(
                with(good.clone(), "token_use", json!("id")),
                "aud",
                json!(CLIENT),
            )),
            401,
            "wrong_token_use",
        ),
        case(
            "token_use missing",
            key.sign(&without(good.clone(), "token_use")),
            401,
            "invalid_claims",
        ),
        case(
            "client not in COGNITO_CLIENT_IDS",
            key.sign(&with(good.clone(), "client_id", json!("someone-else"))),
            401,
            "client_not_allowed",
        ),
        case(
            "exp a string",
            key.sign(&with(
                good.clone(),
                "exp",
                json!((now + 3600.0).to_string()),
            )),
            401,
            "invalid_claims",
        ),
        case(
            "exp missing",
            key.sign(&without(good.clone(), "exp")),
            401,
            "invalid_claims",
        ),
        case(
            "scope an array",
            key.sign(&with(good.clone(), "scope", json!([READ]))),
            401,
            "invalid_claims",
        ),
        case(
            "expired a minute ago",
            key.sign(&with(good.clone(), "exp", json!(now - 60.0))),
            401,
            "expired",
        ),
        case(
            "expired in 1970",
            key.sign(&with(good.clone(), "exp", json!(1))),
            401,
            "expired",
        ),
        case(
            "nbf in the future",
            key.sign(&with(good.clone(), "nbf", json!(now + 600.0))),
            401,
            "not_yet_valid",
        ),
        // --- scope look-alikes: valid tokens, wrong scope ---
        case(
            "scope premium_api/readx",
            key.sign(&claims("premium_api/readx")),
            403,
            "insufficient_scope",
        ),
        case(
            "scope xpremium_api/read",
            key.sign(&claims("xpremium_api/read")),
            403,
            "insufficient_scope",
        ),
        case(
            "scope premium_api/READ",
            key.sign(&claims("premium_api/READ")),
            403,
            "insufficient_scope",
        ),
        case(
            "scopes joined by a comma",
            key.sign(&claims("premium_api/read,premium_api/write")),
            403,
            "insufficient_scope",
        ),
        case(
            "scope claim absent",
            key.sign(&without(good.clone(), "scope")),
            403,
            "insufficient_scope",
        ),
        // --- size and shape ---
        case(
            "9 KB token",
            key.sign(&with(good.clone(), "padding", json!("x".repeat(9 * 1024)))),
            401,
            "too_large",
        ),
        case("not a JWT", "hello".into(), 401, "malformed"),
        case(
            "header not JSON",
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode("alg"),
                encode_json(&good),
                "AAAA"
            ),
            401,
            "malformed",
        ),
        case(
            "payload a JSON array",
            key.sign_with_header(&header(json!({})), &json!([good.clone()])),
            401,
            "malformed",
        ),
        case(
            "four parts",
            format!("{valid}.{}", valid.rsplit('.').next().unwrap()),
            401,
            "malformed",
        ),
        // RFC 6750 3.1: another scheme's credentials are no bearer credentials at all, so the
        // challenge carries no error code.
        Case {
            name: "Basic credentials",
            send: Presentation::Raw("Basic Y2xpZW50OnNlY3JldA==".into()),
            status: 401,
            reason: Some("missing_token"),
        },
        Case {
            name: "Bearer without a token",
            send: Presentation::Raw("Bearer".into()),
            status: 401,
            reason: Some("malformed"),
        },
        Case {
            name: "two Authorization headers",
            send: Presentation::Many(vec![format!("Bearer {valid}"), format!("Bearer {valid}")]),
            status: 401,
            reason: Some("malformed"),
        },
    ]
}

fn rejection_counts(metrics: &str) -> HashMap<String, u64> {
    metrics
        .lines()
        .filter_map(|line| line.strip_prefix("premium_content_auth_rejections_total{reason=\""))
        .filter_map(|rest| {
            let (reason, count) = rest.split_once("\"} ")?;
            Some((reason.to_owned(), count.parse().ok()?))
        })
        .collect()
}

#[tokio::test]
async fn forged_and_malformed_tokens_get_the_right_status_and_reason() {
    let key = SigningKey::generate("kid-1");
    let attacker = SigningKey::generate("kid-1");
    let jwks = JwksServer::start(&[&key]);
    let premium = Premium::start_ready(Settings {
        client_ids: vec![CLIENT.into()],
        ..settings(&jwks.url)
    })
    .await;
    let client = reqwest::Client::new();
    let url = premium.url("/home/premium");
    let metrics_url = premium.url("/metrics");

    let corpus = corpus(&key, &attacker);
    let forged = corpus.iter().filter(|c| c.status != 200).count();
    assert!(forged >= 40, "only {forged} forged tokens");

    let mut before = rejection_counts(&send(&client, "GET", &metrics_url, None).await.body);
    for case in corpus {
        let answer = match &case.send {
            Presentation::Bearer(token) => {
                send(&client, "GET", &url, Some(&format!("Bearer {token}"))).await
            }
            Presentation::Raw(raw) => send(&client, "GET", &url, Some(raw)).await,
            Presentation::Many(values) => {
                let mut request = client.get(&url);
                for value in values {
                    request = request.header("authorization", value);
                }
                support::Response::of(request.send().await.unwrap()).await
            }
        };
        assert_eq!(answer.status, case.status, "{}: {}", case.name, answer.body);
        match case.status {
            401 => {
                assert_eq!(
                    answer.body, r#"{"message":"Unauthorized"}"#,
                    "{}",
                    case.name
                );
                let challenge = answer.challenge.unwrap_or_default();
                if case.reason == Some("missing_token") {
                    assert_eq!(
                        challenge, "Bearer realm=\"premium-content\"",
                        "{}",
                        case.name
                    );
                } else {
                    assert!(
                        challenge.starts_with("Bearer ")
                            && challenge.contains("error=\"invalid_token\""),
                        "{}: {challenge}",
                        case.name
                    );
                }
            }
            403 => {
                assert_eq!(answer.body, r#"{"message":"Forbidden"}"#, "{}", case.name);
                assert!(
                    answer
                        .challenge
                        .unwrap()
                        .contains("error=\"insufficient_scope\"")
                );
            }
            _ => {}
        }
        let after = rejection_counts(&send(&client, "GET", &metrics_url, None).await.body);
        let changed: Vec<_> = after
            .iter()
            .filter(|(reason, count)| before.get(*reason).copied().unwrap_or(0) != **count)
            .map(|(reason, count)| {
                (
                    reason.as_str(),
                    count - before.get(reason).copied().unwrap_or(0),
                )
            })
            .collect();
        match case.reason {
            Some(reason) => assert_eq!(changed, [(reason, 1)], "{}", case.name),
            None => assert!(changed.is_empty(), "{}: {changed:?}", case.name),
        }
        before = after;
    }

    // Nothing above was answered with a 5xx, and the service still serves.
    let metrics = send(&client, "GET", &metrics_url, None).await.body;
    let server_errors: Vec<_> = metrics
        .lines()
        .filter(|line| line.contains("route=\"/home/premium\"") && line.contains("status=\"5"))
        .collect();
    assert!(server_errors.is_empty(), "{server_errors:?}");
    let answer = send(&client, "GET", &url, Some(&key.sign(&claims(READ)))).await;
    assert_eq!(answer.status, 200);
    premium.stop().await;
    jwks.stop().await;
}

#[tokio::test]
async fn a_100_kb_token_is_refused_without_a_5xx() {
    let key = SigningKey::generate("kid-1");
    let jwks = JwksServer::start(&[&key]);
    let premium = Premium::start_ready(settings(&jwks.url)).await;
    let client = reqwest::Client::new();
    let huge = key.sign(&with(
        claims(READ),
        "padding",
        json!("x".repeat(100 * 1024)),
    ));
    assert!(huge.len() > 100 * 1024);
    let answer = send(
        &client,
        "GET",
        &premium.url("/home/premium"),
        Some(&format!("Bearer {huge}")),
    )
    .await;
    // actix refuses a request head this large itself, before any handler or parser of ours:
    // 431 Request Header Fields Too Large. Tokens between 8 KiB and that limit get 401.
    assert_eq!(answer.status, 431);
    // The connection-level refusal does not hurt the service.
    let answer = send(
        &client,
        "GET",
        &premium.url("/home/premium"),
        Some(&key.sign(&claims(READ))),
    )
    .await;
    assert_eq!(answer.status, 200);
    premium.stop().await;
    jwks.stop().await;
}
