//! The access-token parser and verifier, with a fixed in-process JWKS and a key of our own, so
//! that tokens with valid signatures are reachable.
//!
//! Input: one mode byte, then the rest.
//! - `R` / `r`: the rest is the compact token, verbatim (split, base64url, JSON, size limit).
//! - `S` / `s`: the rest is `<header bytes>\n<payload bytes>`, encoded by the harness. It first
//!   verifies them under a constant (wrong) signature; only when the verifier gets as far as the
//!   signature (every other check passed) is the token signed for real, because an RSA-2048
//!   signature costs about a millisecond and most inputs never need one.
//!
//! Upper case uses a verifier with a `client_id` allow-list and a small verified-token cache;
//! lower case one that accepts any client and caches nothing.
//!
//! The JWKS publishes our one public key under several kids: `k1` (alg RS256), `k2` (no alg),
//! `k3` (alg RS384: unsuitable) and `k4` (use enc: unsuitable), beside an EC key `ec` and a
//! 1024-bit RSA key `short`. Unknown kids cause one refetch per process against a closed
//! loopback port, then the penalty box.

#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognito_auth::clock::ManualClock;
use cognito_auth::jwks::{JwksCache, JwksSettings, KeySet};
use cognito_auth::trusted_issuers::{TrustedIssuer, TrustedIssuers, TrustedPool};
use cognito_auth::verifier::{Claims, Rejection, Verifier, VerifierConfig};
use libfuzzer_sys::fuzz_target;
use local_cognito::keys::SigningKey;
use serde_json::json;

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Fuzz";
const ALLOWED_CLIENTS: [&str; 2] = ["1example23456789", "2example23456789"];
/// The verifiers' clock: 2025-06-15T15:06:40Z. The seeds' `exp` and `nbf` are around it.
const NOW: f64 = 1_750_000_000.0;
/// Smaller than the default 8 KiB so that the size limit is within libFuzzer's input lengths.
const MAX_TOKEN_BYTES: usize = 2048;

static ACCEPTED: AtomicU64 = AtomicU64::new(0);

struct Harness {
    key: SigningKey,
    strict: Verifier,
    lenient: Verifier,
    runtime: tokio::runtime::Runtime,
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let key = SigningKey::generate("k1");
    let public = key.public_jwk();
    let with = |kid: &str, member: &str, value: serde_json::Value| {
        let mut jwk = public.clone();
        jwk["kid"] = json!(kid);
        match value {
            serde_json::Value::Null => {
                jwk.as_object_mut().unwrap().remove(member);
            }
            value => jwk[member] = value,
        }
        jwk
    };
    let document = json!({"keys": [
        public.clone(),
        with("k2", "alg", serde_json::Value::Null),
        with("k3", "alg", json!("RS384")),
        with("k4", "use", json!("enc")),
        {"kty": "EC", "kid": "ec", "crv": "P-256", "use": "sig",
         "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
         "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
        with("short", "n", json!(URL_SAFE_NO_PAD.encode([0xc5; 128]))),
    ]});
    let settings = JwksSettings {
        fetch_timeout: Duration::from_secs(1),
        unknown_kid_cooldown: Duration::from_secs(1_000_000_000),
        ..JwksSettings::default()
    };
    // Nothing listens on the discard port: the one refetch fails at once and keeps the keys.
    let jwks = JwksCache::new(
        "http://127.0.0.1:9/.well-known/jwks.json",
        reqwest::Client::new(),
        settings,
    );
    jwks.install(KeySet::parse(&serde_json::to_vec(&document).unwrap()).unwrap());
    let jwks = Arc::new(jwks);
    let clock = Arc::new(ManualClock::at(NOW));
    let strict = VerifierConfig {
        max_token_bytes: MAX_TOKEN_BYTES,
        cache_capacity: 8,
        ..VerifierConfig::default()
    };
    // The strict verifier trusts one pool with a client allow-list; the lenient one the issuer
    // alone, with no verified-token cache.
    let allow_listed = TrustedIssuers::new(vec![TrustedPool::new(
        vec![TrustedIssuer::new(ISSUER, jwks.clone())],
        ALLOWED_CLIENTS.map(str::to_owned).to_vec(),
    )])
    .unwrap();
    let lenient = VerifierConfig {
        max_token_bytes: MAX_TOKEN_BYTES,
        cache_capacity: 0,
        ..VerifierConfig::default()
    };
    Harness {
        strict: Verifier::with_clock(strict, allow_listed, clock.clone()),
        lenient: Verifier::with_clock(lenient, TrustedIssuers::single(ISSUER, jwks), clock),
        key,
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    }
});

impl Harness {
    fn verify(&self, verifier: &Verifier, token: &str) -> Result<Arc<Claims>, Rejection> {
        self.runtime.block_on(verifier.verify(token))
    }
}

/// What every accepted token must satisfy, whatever the path to acceptance.
fn check_accepted(verifier: &Verifier, token: &str, claims: &Claims) {
    let config = verifier.config();
    assert!(token.len() <= config.max_token_bytes);
    assert_eq!(claims.issuer, ISSUER);
    let (pool, _) = verifier
        .trusted()
        .get(&claims.issuer)
        .expect("a trusted issuer");
    assert!(pool.allows_client(&claims.client_id));
    let leeway = config.leeway.as_secs_f64();
    assert!(NOW < claims.expires_at + leeway, "expired token accepted");
    if let Some(nbf) = claims.not_before {
        assert!(NOW + leeway >= nbf, "token accepted before its nbf");
    }
}

fn raw(harness: &Harness, verifier: &Verifier, token: &str) {
    let first = harness.verify(verifier, token);
    if token.len() > MAX_TOKEN_BYTES {
        assert_eq!(first, Err(Rejection::TooLarge));
    }
    if let Ok(claims) = &first {
        check_accepted(verifier, token, claims);
    }
    // Verdicts are a function of the token (the clock stands still; the JWKS never changes).
    assert_eq!(harness.verify(verifier, token), first);
}

fn signed(harness: &Harness, verifier: &Verifier, header: &[u8], payload: &[u8]) {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let forged = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode([0x5a; 256]));
    let without_key = harness.verify(verifier, &forged);
    assert!(without_key.is_err(), "a constant signature was accepted");
    match without_key {
        Err(Rejection::BadSignature) => {}
        // The signature is judged after the key is chosen: a real one must not rescue a token
        // whose kid names an unsuitable key.
        Err(Rejection::UnsuitableKey) => {
            let token = harness.key.sign_parts(header, payload);
            assert_eq!(
                harness.verify(verifier, &token),
                Err(Rejection::UnsuitableKey)
            );
            return;
        }
        _ => return,
    }
    let token = harness.key.sign_parts(header, payload);
    assert!(token.starts_with(&signing_input));
    // Only the signature (of the same length) differs from a token that reached its check.
    let claims = match harness.verify(verifier, &token) {
        Ok(claims) => claims,
        Err(other) => panic!("validly signed token refused: {other:?}"),
    };
    check_accepted(verifier, &token, &claims);
    // Evidence in the log that fuzzing does reach accepted tokens, and how often.
    let accepted = ACCEPTED.fetch_add(1, Ordering::Relaxed) + 1;
    if accepted.is_power_of_two() {
        eprintln!("verifier harness: {accepted} validly signed tokens accepted so far");
    }
    // Again: from the verified-token cache where there is one, with the same claims.
    assert_eq!(harness.verify(verifier, &token), Ok(claims));
    // One signature bit flipped (in a middle character, so the base64url stays canonical).
    let mut tampered = token.into_bytes();
    let at = signing_input.len() + 1 + 100;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(
        harness.verify(verifier, &tampered),
        Err(Rejection::BadSignature)
    );
}

fuzz_target!(|data: &[u8]| {
    let harness = &*HARNESS;
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let verifier = if mode.is_ascii_uppercase() {
        &harness.strict
    } else {
        &harness.lenient
    };
    match mode.to_ascii_uppercase() {
        b'R' => {
            if let Ok(token) = std::str::from_utf8(rest) {
                raw(harness, verifier, token);
            }
        }
        b'S' => {
            let (header, payload) = match rest.iter().position(|&b| b == b'\n') {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &[][..]),
            };
            signed(harness, verifier, header, payload);
        }
        _ => {}
    }
});
