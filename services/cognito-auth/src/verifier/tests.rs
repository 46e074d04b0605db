//! One test per rejection reason and per accepting case, with keys generated here.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use local_cognito::keys::{SigningKey, encode_json, jwks_document};
use serde_json::{Value, json};

use super::*;
use crate::clock::ManualClock;
use crate::jwks::{JwksCache, JwksSettings, KeySet};
use crate::trusted_issuers::{TrustedIssuer, TrustedIssuers, TrustedPool};

const ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";
const NOW: f64 = 1_800_000_000.0;

static KEY: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::generate("key-1"));
static OTHER: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::generate("key-1"));

struct Fixture {
    verifier: Verifier,
    clock: Arc<ManualClock>,
}

fn jwks_with(document: Value) -> Arc<JwksCache> {
    // Nothing listens on the discard port, so a refetch fails at once and keeps the keys.
    let jwks = JwksCache::new(
        "http://127.0.0.1:9/.well-known/jwks.json",
        reqwest::Client::new(),
        JwksSettings::default(),
    );
    jwks.install(KeySet::parse(&serde_json::to_vec(&document).unwrap()).unwrap());
    Arc::new(jwks)
}

fn fixture_trusting(config: VerifierConfig, pools: Vec<TrustedPool>) -> Fixture {
    let clock = Arc::new(ManualClock::at(NOW));
    let trusted = TrustedIssuers::new(pools).unwrap();
    let verifier = Verifier::with_clock(config, trusted, clock.clone());
    Fixture { verifier, clock }
}

/// Trusts `ISS` alone, any client, with `document` as its JWKS.
fn fixture_with(config: VerifierConfig, document: Value) -> Fixture {
    fixture_for_clients(config, Vec::new(), document)
}

fn fixture_for_clients(config: VerifierConfig, clients: Vec<String>, document: Value) -> Fixture {
    let issuer = TrustedIssuer::new(ISS, jwks_with(document));
    fixture_trusting(config, vec![TrustedPool::new(vec![issuer], clients)])
}

fn fixture() -> Fixture {
    fixture_with(VerifierConfig::default(), jwks_document([&*KEY]))
}

/// The JWKS cache of the fixture's first issuer.
fn first_jwks(f: &Fixture) -> &Arc<JwksCache> {
    f.verifier.trusted().issuers().next().unwrap().jwks()
}

fn claims() -> Value {
    json!({
        "sub": "client-a",
        "token_use": "access",
        "scope": "premium_api/read premium_api/write",
        "auth_time": NOW - 10.0,
        "iss": ISS,
        "exp": NOW + 3600.0,
        "iat": NOW - 10.0,
        "version": 2,
        "jti": "5e1b7c2a-0000-4000-8000-000000000000",
        "client_id": "client-a",
    })
}

fn with(mut value: Value, key: &str, replacement: Value) -> Value {
    value[key] = replacement;
    value
}

fn without(mut value: Value, key: &str) -> Value {
    value.as_object_mut().unwrap().remove(key);
    value
}

/// The verifier may refetch the JWKS (reqwest), which needs a tokio runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn reject(fixture: &Fixture, token: &str) -> Rejection {
    block_on(fixture.verifier.verify(token)).expect_err("token must be refused")
}

fn accept(fixture: &Fixture, token: &str) -> Arc<Claims> {
    block_on(fixture.verifier.verify(token)).expect("token must be accepted")
}

// ---- accepting cases ----

#[test]
fn accepts_a_cognito_access_token() {
    let claims = accept(&fixture(), &KEY.sign(&claims()));
    assert_eq!(claims.issuer, ISS);
    assert_eq!(claims.client_id, "client-a");
    assert_eq!(claims.subject.as_deref(), Some("client-a"));
    assert!(claims.scopes.contains("premium_api/read"));
    assert!(claims.scopes.contains("premium_api/write"));
    assert_eq!(claims.expires_at, NOW + 3600.0);
    assert_eq!(claims.issued_at, Some(NOW - 10.0));
}

#[test]
fn accepts_exp_just_passed_within_leeway() {
    let f = fixture();
    let token = KEY.sign(&with(claims(), "exp", json!(NOW - 4.0)));
    assert_eq!(accept(&f, &token).expires_at, NOW - 4.0);
}

#[test]
fn accepts_nbf_just_ahead_within_leeway() {
    let token = KEY.sign(&with(claims(), "nbf", json!(NOW + 4.0)));
    assert_eq!(accept(&fixture(), &token).not_before, Some(NOW + 4.0));
}

#[test]
fn accepts_non_integer_numeric_dates() {
    let token = KEY.sign(&with(claims(), "exp", json!(NOW + 0.5)));
    assert_eq!(accept(&fixture(), &token).expires_at, NOW + 0.5);
}

#[test]
fn accepts_allowed_client() {
    let f = fixture_for_clients(
        VerifierConfig::default(),
        vec!["other".into(), "client-a".into()],
        jwks_document([&*KEY]),
    );
    assert_eq!(accept(&f, &KEY.sign(&claims())).client_id, "client-a");
}

#[test]
fn accepts_token_without_scope_claim_with_no_scopes() {
    let claims = accept(&fixture(), &KEY.sign(&without(claims(), "scope")));
    assert!(claims.scopes.is_empty());
}

#[test]
fn accepts_jwk_without_alg_and_use() {
    let mut jwk = KEY.public_jwk();
    jwk.as_object_mut().unwrap().remove("alg");
    jwk.as_object_mut().unwrap().remove("use");
    let f = fixture_with(VerifierConfig::default(), json!({ "keys": [jwk] }));
    accept(&f, &KEY.sign(&claims()));
}

#[test]
fn accepts_with_unrelated_header_members_ignored() {
    let token = KEY.sign_with_header(
        &json!({"kid": "key-1", "alg": "RS256", "typ": "JWT", "x5t": "abc"}),
        &claims(),
    );
    accept(&fixture(), &token);
}

#[test]
fn accepts_each_key_of_a_rotating_set() {
    let next = SigningKey::generate("key-2");
    let f = fixture_with(VerifierConfig::default(), jwks_document([&*KEY, &next]));
    accept(&f, &KEY.sign(&claims()));
    accept(&f, &next.sign(&claims()));
}

#[test]
fn accepts_from_cache_and_cache_honours_expiry() {
    let f = fixture();
    let token = KEY.sign(&with(claims(), "exp", json!(NOW + 60.0)));
    let first = accept(&f, &token);
    assert_eq!(f.verifier.cache.as_ref().unwrap().len(), 1);
    assert_eq!(f.verifier.cache_stats(), Some((0, 1)));
    assert_eq!(accept(&f, &token), first);
    assert_eq!(f.verifier.cache_stats(), Some((1, 1)));
    f.clock.advance(Duration::from_secs(66));
    assert_eq!(reject(&f, &token), Rejection::Expired);
}

#[test]
fn cache_stops_accepting_when_the_key_leaves_the_jwks() {
    let f = fixture();
    let token = KEY.sign(&claims());
    accept(&f, &token);
    let replacement = SigningKey::generate("key-2");
    first_jwks(&f).install(
        KeySet::parse(&serde_json::to_vec(&jwks_document([&replacement])).unwrap()).unwrap(),
    );
    assert_eq!(reject(&f, &token), Rejection::UnknownKid);
}

#[test]
fn cache_survives_a_refresh_publishing_the_same_key() {
    let f = fixture();
    let token = KEY.sign(&claims());
    accept(&f, &token);
    first_jwks(&f)
        .install(KeySet::parse(&serde_json::to_vec(&jwks_document([&*KEY])).unwrap()).unwrap());
    let cache = f.verifier.cache.as_ref().unwrap();
    assert!(cache.get(&token, NOW, f.verifier.config()).is_some());
}

#[test]
fn cache_disabled_with_zero_capacity() {
    let config = VerifierConfig {
        cache_capacity: 0,
        ..VerifierConfig::default()
    };
    let f = fixture_with(config, jwks_document([&*KEY]));
    accept(&f, &KEY.sign(&claims()));
    assert!(f.verifier.cache.is_none());
    assert_eq!(f.verifier.cache_stats(), None);
}

#[test]
fn cache_stays_bounded() {
    let cache = VerifiedTokens::new(8);
    let jwks = jwks_with(jwks_document([&*KEY]));
    let KeyLookup::Found(jwk) = jwks.cached_key("key-1") else {
        panic!("key present")
    };
    let claims = accept(&fixture(), &KEY.sign(&claims()));
    for i in 0..100u8 {
        cache.insert(
            &format!("token-{i}"),
            claims.clone(),
            "key-1".into(),
            jwk.clone(),
            jwks.clone(),
            NOW,
        );
        // Full of live tokens, it drops an eighth (one of eight) to take the new one.
        assert_eq!(cache.len(), (usize::from(i) + 1).min(8));
    }
}

/// A hasher under which every token collides.
#[derive(Default)]
struct Colliding;

impl std::hash::Hasher for Colliding {
    fn finish(&self) -> u64 {
        7
    }

    fn write(&mut self, _: &[u8]) {}
}

#[test]
fn cache_never_confuses_tokens_whose_hashes_collide() {
    let cache =
        VerifiedTokens::with_hasher(8, std::hash::BuildHasherDefault::<Colliding>::default());
    let config = VerifierConfig::default();
    let jwks = jwks_with(jwks_document([&*KEY]));
    let KeyLookup::Found(jwk) = jwks.cached_key("key-1") else {
        panic!("key present")
    };
    let reader = accept(&fixture(), &KEY.sign(&claims()));
    let writer = Arc::new(Claims {
        client_id: "client-w".into(),
        scopes: Scopes::parse("premium_api/write"),
        ..(*reader).clone()
    });
    let (a, b) = (
        KEY.sign(&claims()),
        KEY.sign(&with(claims(), "jti", json!("other"))),
    );
    assert_ne!(a, b);
    cache.insert(
        &a,
        reader.clone(),
        "key-1".into(),
        jwk.clone(),
        jwks.clone(),
        NOW,
    );
    assert_eq!(cache.get(&b, NOW, &config), None, "b was never verified");
    // A prefix or an extension of a cached token is another token.
    assert_eq!(cache.get(&a[..a.len() - 1], NOW, &config), None);
    assert_eq!(cache.get(&format!("{a}x"), NOW, &config), None);
    cache.insert(&b, writer.clone(), "key-1".into(), jwk, jwks, NOW);
    assert_eq!(cache.get(&a, NOW, &config), Some(reader));
    assert_eq!(cache.get(&b, NOW, &config), Some(writer));
    assert_eq!(cache.stats(), (2, 3));
}

// ---- one test per rejection reason ----

#[test]
fn too_large() {
    let f = fixture();
    let padding = "x".repeat(9000);
    let token = KEY.sign(&with(claims(), "pad", json!(padding)));
    assert_eq!(reject(&f, &token), Rejection::TooLarge);
    assert_eq!(reject(&f, &"a".repeat(8193)), Rejection::TooLarge);
    // At the limit it is parsed (and refused for what it is).
    assert_eq!(reject(&f, &"a".repeat(8192)), Rejection::Malformed);
}

#[test]
fn malformed_structure() {
    let f = fixture();
    let good = KEY.sign(&claims());
    let (header, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    for token in [
        String::new(),
        "abc".into(),
        format!("{header}.{payload}"),
        format!("{header}.{payload}.{signature}."),
        format!("{header}.{payload}.{signature}.{signature}"),
        format!("{header}..{signature}"),
        format!(".{payload}.{signature}"),
        format!("{header}.{payload}.="),
        format!("{header}=.{payload}.{signature}"),
        format!("{header}.{payload}.{signature}=="),
        format!("{header}.{payload}.+{signature}"),
        format!("{header} .{payload}.{signature}"),
    ] {
        assert_eq!(reject(&f, &token), Rejection::Malformed, "{token:?}");
    }
}

#[test]
fn malformed_json() {
    let f = fixture();
    let signature = URL_SAFE_NO_PAD.encode([0u8; 256]);
    let good_header = encode_json(&json!({"alg": "RS256", "kid": "key-1"}));
    let good_payload = encode_json(&claims());
    for (header, payload) in [
        (URL_SAFE_NO_PAD.encode(b"not json"), good_payload.clone()),
        (
            encode_json(&json!(["RS256", "key-1"])),
            good_payload.clone(),
        ),
        (encode_json(&json!("RS256")), good_payload.clone()),
        (good_header.clone(), URL_SAFE_NO_PAD.encode(b"{\"exp\":")),
        (good_header.clone(), encode_json(&json!([1, 2, 3]))),
        (good_header.clone(), encode_json(&json!(null))),
        (
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","alg":"RS256","kid":"key-1"}"#),
            good_payload.clone(),
        ),
        (
            good_header.clone(),
            URL_SAFE_NO_PAD.encode(br#"{"iss":"x","iss":"y"}"#),
        ),
        (URL_SAFE_NO_PAD.encode([0xff, 0xfe]), good_payload.clone()),
    ] {
        let token = format!("{header}.{payload}.{signature}");
        assert_eq!(
            reject(&f, &token),
            Rejection::Malformed,
            "{header}.{payload}"
        );
    }
}

#[test]
fn malformed_when_crit_is_present() {
    let token = KEY.sign_with_header(
        &json!({"alg": "RS256", "kid": "key-1", "crit": ["exp"], "exp": 1}),
        &claims(),
    );
    assert_eq!(reject(&fixture(), &token), Rejection::Malformed);
}

#[test]
fn unsupported_alg() {
    let f = fixture();
    for alg in [
        json!("none"),
        json!("None"),
        json!("HS256"),
        json!("RS512"),
        json!("PS256"),
        json!("ES256"),
        json!("rs256"),
        json!(["RS256"]),
        Value::Null,
    ] {
        let token = KEY.sign_with_header(&json!({"alg": alg, "kid": "key-1"}), &claims());
        assert_eq!(reject(&f, &token), Rejection::UnsupportedAlgorithm, "{alg}");
    }
    let token = KEY.sign_with_header(&json!({"kid": "key-1"}), &claims());
    assert_eq!(reject(&f, &token), Rejection::UnsupportedAlgorithm);
}

#[test]
fn unsupported_alg_for_hmac_keyed_with_the_public_key() {
    let header = encode_json(&json!({"alg": "HS256", "kid": "key-1"}));
    let payload = encode_json(&claims());
    let input = format!("{header}.{payload}");
    for secret in [
        KEY.public_key_der(),
        serde_json::to_vec(&KEY.public_jwk()).unwrap(),
    ] {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        assert_eq!(reject(&fixture(), &token), Rejection::UnsupportedAlgorithm);
    }
}

#[test]
fn unsupported_alg_none_without_signature() {
    let token = format!(
        "{}.{}.",
        encode_json(&json!({"alg": "none", "kid": "key-1"})),
        encode_json(&claims())
    );
    // An empty signature part is refused structurally, before alg is even read.
    assert_eq!(reject(&fixture(), &token), Rejection::Malformed);
}

#[test]
fn missing_kid() {
    let f = fixture();
    for header in [
        json!({"alg": "RS256"}),
        json!({"alg": "RS256", "kid": ""}),
        json!({"alg": "RS256", "kid": 1}),
        json!({"alg": "RS256", "kid": null}),
        json!({"alg": "RS256", "kid": ["key-1"]}),
        json!({"alg": "RS256", "kid": "k".repeat(1025)}),
    ] {
        let token = KEY.sign_with_header(&header, &claims());
        assert_eq!(reject(&f, &token), Rejection::MissingKid, "{header}");
    }
}

#[test]
fn invalid_claims() {
    let f = fixture();
    let cases = [
        without(claims(), "exp"),
        with(claims(), "exp", json!(null)),
        with(claims(), "exp", json!("1900000000")),
        with(claims(), "exp", json!(true)),
        with(claims(), "nbf", json!("0")),
        with(claims(), "iat", json!({})),
        without(claims(), "iss"),
        with(claims(), "iss", json!([ISS])),
        without(claims(), "token_use"),
        with(claims(), "token_use", json!(["access"])),
        without(claims(), "client_id"),
        with(claims(), "client_id", json!(7)),
        with(claims(), "scope", json!(["premium_api/read"])),
        with(claims(), "sub", json!(1)),
        with(claims(), "jti", json!(1)),
        with(claims(), "username", json!(false)),
    ];
    for payload in cases {
        let token = KEY.sign(&payload);
        assert_eq!(reject(&f, &token), Rejection::InvalidClaims, "{payload}");
    }
}

#[test]
fn wrong_issuer() {
    let f = fixture();
    for iss in [
        format!("{ISS}/"),
        ISS.replace("https", "http"),
        ISS.to_uppercase(),
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other".into(),
        String::new(),
    ] {
        let token = KEY.sign(&with(claims(), "iss", json!(iss)));
        assert_eq!(reject(&f, &token), Rejection::WrongIssuer, "{iss}");
    }
}

#[test]
fn wrong_token_use() {
    let f = fixture();
    for token_use in ["id", "Access", "access ", ""] {
        let token = KEY.sign(&with(claims(), "token_use", json!(token_use)));
        assert_eq!(reject(&f, &token), Rejection::WrongTokenUse, "{token_use}");
    }
}

#[test]
fn client_not_allowed() {
    let f = fixture_for_clients(
        VerifierConfig::default(),
        vec!["client-b".into()],
        jwks_document([&*KEY]),
    );
    assert_eq!(
        reject(&f, &KEY.sign(&claims())),
        Rejection::ClientNotAllowed
    );
    let token = KEY.sign(&with(claims(), "client_id", json!("client-b ")));
    assert_eq!(reject(&f, &token), Rejection::ClientNotAllowed);
}

#[test]
fn expired() {
    let f = fixture();
    // Exactly at exp + leeway the token is dead (exp is the first instant it is not valid).
    for exp in [NOW - 5.0, NOW - 6.0, 0.0, -1.0] {
        let token = KEY.sign(&with(claims(), "exp", json!(exp)));
        assert_eq!(reject(&f, &token), Rejection::Expired, "{exp}");
    }
}

#[test]
fn expired_with_zero_leeway() {
    let config = VerifierConfig {
        leeway: Duration::ZERO,
        ..VerifierConfig::default()
    };
    let f = fixture_with(config, jwks_document([&*KEY]));
    let token = KEY.sign(&with(claims(), "exp", json!(NOW)));
    assert_eq!(reject(&f, &token), Rejection::Expired);
}

#[test]
fn not_yet_valid() {
    let f = fixture();
    let token = KEY.sign(&with(claims(), "nbf", json!(NOW + 6.0)));
    assert_eq!(reject(&f, &token), Rejection::NotYetValid);
    f.clock.advance(Duration::from_secs(2));
    accept(&f, &token);
}

#[test]
fn unknown_kid() {
    let f = fixture();
    for kid in [
        "key-2",
        "../../../../etc/passwd",
        "key-1\0",
        "KEY-1",
        " key-1",
    ] {
        let token = KEY.sign_with_header(&json!({"alg": "RS256", "kid": kid}), &claims());
        assert_eq!(reject(&f, &token), Rejection::UnknownKid, "{kid:?}");
    }
}

#[test]
fn unsuitable_key() {
    let mut rs512 = KEY.public_jwk();
    rs512["alg"] = json!("RS512");
    let mut enc = KEY.public_jwk();
    enc["kid"] = json!("enc");
    enc["use"] = json!("enc");
    let mut ec = KEY.public_jwk();
    ec["kid"] = json!("ec");
    ec["kty"] = json!("EC");
    let spare = SigningKey::generate("spare");
    let f = fixture_with(
        VerifierConfig::default(),
        json!({"keys": [rs512, enc, ec, spare.public_jwk()]}),
    );
    for kid in ["key-1", "enc", "ec"] {
        let token = KEY.sign_with_header(&json!({"alg": "RS256", "kid": kid}), &claims());
        assert_eq!(reject(&f, &token), Rejection::UnsuitableKey, "{kid}");
    }
}

#[test]
fn bad_signature() {
    let f = fixture();
    let good = KEY.sign(&claims());
    let (input, signature) = good.rsplit_once('.').unwrap();
    let (header, _) = input.split_once('.').unwrap();

    // Payload swapped for one granting more: the signature no longer covers it.
    let escalated = with(
        claims(),
        "scope",
        json!("premium_api/read premium_api/admin"),
    );
    let tampered = format!("{header}.{}.{signature}", encode_json(&escalated));
    assert_eq!(reject(&f, &tampered), Rejection::BadSignature);

    // Same kid, another key (an attacker's).
    assert_eq!(reject(&f, &OTHER.sign(&claims())), Rejection::BadSignature);

    // Flipped bit, truncated, and empty-but-valid-base64 signatures.
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[10] ^= 0x40;
    let flipped = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&bytes));
    assert_eq!(reject(&f, &flipped), Rejection::BadSignature);
    let short = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&bytes[..128]));
    assert_eq!(reject(&f, &short), Rejection::BadSignature);
    let zero = format!("{input}.AAAA");
    assert_eq!(reject(&f, &zero), Rejection::BadSignature);
}

#[test]
fn keys_unavailable() {
    let jwks = Arc::new(JwksCache::new(
        "http://127.0.0.1:9/.well-known/jwks.json",
        reqwest::Client::new(),
        JwksSettings::default(),
    ));
    let clock = Arc::new(ManualClock::at(NOW));
    let f = Fixture {
        verifier: Verifier::with_clock(
            VerifierConfig::default(),
            TrustedIssuers::single(ISS, jwks),
            clock.clone(),
        ),
        clock,
    };
    let rejection = reject(&f, &KEY.sign(&claims()));
    assert_eq!(rejection, Rejection::KeysUnavailable);
    assert!(rejection.is_unavailable());
}

#[test]
fn reasons_are_distinct_snake_case_labels() {
    let labels: HashSet<_> = Rejection::ALL.iter().map(Rejection::reason).collect();
    assert_eq!(labels.len(), Rejection::ALL.len());
    assert!(
        labels
            .iter()
            .all(|l| l.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    );
}

// ---- several trusted issuers ----

const UPDATED_ISS: &str = "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";
const OTHER_ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other";

/// Pool one: `ISS` and `UPDATED_ISS`, each with its own JWKS publishing `KEY`; pool two:
/// `OTHER_ISS`, whose JWKS publishes `OTHER` under the same kid plus `third`, for client-z only.
fn two_pools(third: &SigningKey) -> Fixture {
    let pool_one = TrustedPool::new(
        vec![
            TrustedIssuer::new(ISS, jwks_with(jwks_document([&*KEY]))),
            TrustedIssuer::new(UPDATED_ISS, jwks_with(jwks_document([&*KEY]))),
        ],
        Vec::new(),
    );
    let pool_two = TrustedPool::new(
        vec![TrustedIssuer::new(
            OTHER_ISS,
            jwks_with(jwks_document([&*OTHER, third])),
        )],
        vec!["client-z".into()],
    );
    fixture_trusting(VerifierConfig::default(), vec![pool_one, pool_two])
}

#[test]
fn accepts_both_issuer_forms_of_a_pool() {
    let f = two_pools(&SigningKey::generate("third"));
    for iss in [ISS, UPDATED_ISS] {
        let claims = accept(&f, &KEY.sign(&with(claims(), "iss", json!(iss))));
        assert_eq!(claims.issuer, iss);
    }
}

#[test]
fn a_kid_of_another_issuer_never_verifies() {
    let third = SigningKey::generate("third");
    let f = two_pools(&third);
    // "third" is published only by OTHER_ISS: a token naming ISS cannot borrow it.
    let borrowed = third.sign(&with(claims(), "iss", json!(ISS)));
    assert_eq!(reject(&f, &borrowed), Rejection::UnknownKid);
    // "key-1" is published by both pools, as different keys: each verifies only its own tokens.
    let confused = OTHER.sign(&with(claims(), "iss", json!(UPDATED_ISS)));
    assert_eq!(reject(&f, &confused), Rejection::BadSignature);
    let own = OTHER.sign(&with(
        with(claims(), "iss", json!(OTHER_ISS)),
        "client_id",
        json!("client-z"),
    ));
    assert_eq!(accept(&f, &own).issuer, OTHER_ISS);
}

#[test]
fn client_allow_lists_are_per_pool() {
    let f = two_pools(&SigningKey::generate("third"));
    let other_pool = OTHER.sign(&with(claims(), "iss", json!(OTHER_ISS)));
    assert_eq!(reject(&f, &other_pool), Rejection::ClientNotAllowed);
    accept(
        &f,
        &KEY.sign(&with(claims(), "client_id", json!("client-z"))),
    );
}

#[test]
fn a_cached_token_is_checked_against_its_own_issuers_jwks() {
    let f = two_pools(&SigningKey::generate("third"));
    let token = KEY.sign(&with(claims(), "iss", json!(UPDATED_ISS)));
    accept(&f, &token);
    let original = f.verifier.trusted().get(ISS).unwrap().1.jwks().clone();
    let updated = f
        .verifier
        .trusted()
        .get(UPDATED_ISS)
        .unwrap()
        .1
        .jwks()
        .clone();
    let empty_of_key_1 = || {
        KeySet::parse(&serde_json::to_vec(&jwks_document([&SigningKey::generate("k2")])).unwrap())
            .unwrap()
    };
    original.install(empty_of_key_1());
    assert_eq!(
        accept(&f, &token).issuer,
        UPDATED_ISS,
        "other issuer's JWKS is irrelevant"
    );
    updated.install(empty_of_key_1());
    assert_eq!(reject(&f, &token), Rejection::UnknownKid);
}
