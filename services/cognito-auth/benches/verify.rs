//! Verification cost with the signing key cached: the full path (parse, claims, RS256 check), a
//! hit in the verified-token cache, and the cheap refusals.
//!
//! `cargo bench -p cognito-auth --bench verify`

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use cognito_auth::jwks::{JwksCache, JwksSettings, KeySet};
use cognito_auth::scopes::Scopes;
use cognito_auth::trusted_issuers::TrustedIssuers;
use cognito_auth::verifier::{Verifier, VerifierConfig};
use criterion::{Criterion, criterion_group, criterion_main};
use futures::executor::block_on;
use local_cognito::keys::{SigningKey, jwks_document};
use serde_json::json;

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Bench";

fn verifier(key: &SigningKey, cache_capacity: usize) -> Verifier {
    // Never contacted: the key set is installed directly, as after a successful load.
    let jwks = JwksCache::new(
        "http://127.0.0.1:9/.well-known/jwks.json",
        reqwest::Client::new(),
        JwksSettings::default(),
    );
    jwks.install(KeySet::parse(&serde_json::to_vec(&jwks_document([key])).unwrap()).unwrap());
    let config = VerifierConfig {
        cache_capacity,
        ..VerifierConfig::default()
    };
    Verifier::new(config, TrustedIssuers::single(ISSUER, Arc::new(jwks)))
}

fn cognito_token(key: &SigningKey) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    key.sign(&json!({
        "sub": "1example23456789",
        "token_use": "access",
        "scope": "premium_api/read premium_api/write",
        "auth_time": now,
        "iss": ISSUER,
        "exp": now + 3600,
        "iat": now,
        "version": 2,
        "jti": "7b2e5c1e-9c1d-4d5e-8f3a-0123456789ab",
        "client_id": "1example23456789",
    }))
}

fn bench(c: &mut Criterion) {
    let key = SigningKey::generate("bench-kid");
    let token = cognito_token(&key);
    let uncached = verifier(&key, 0);
    let cached = verifier(&key, 10_000);
    block_on(cached.verify(&token)).expect("valid");

    let mut group = c.benchmark_group("verify");
    group.bench_function("valid, full RS256 path", |b| {
        b.iter(|| block_on(uncached.verify(black_box(&token))).unwrap())
    });
    group.bench_function("valid, verified-token cache hit", |b| {
        b.iter(|| block_on(cached.verify(black_box(&token))).unwrap())
    });
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut forged_signature = signature.to_owned();
    forged_signature.replace_range(
        0..4,
        if &signature[..4] == "AAAA" {
            "BBBB"
        } else {
            "AAAA"
        },
    );
    let forged = format!("{input}.{forged_signature}");
    group.bench_function("refused, bad signature", |b| {
        b.iter(|| block_on(uncached.verify(black_box(&forged))).unwrap_err())
    });
    let garbage = "x".repeat(900);
    group.bench_function("refused, malformed", |b| {
        b.iter(|| block_on(uncached.verify(black_box(&garbage))).unwrap_err())
    });
    group.finish();

    c.bench_function("scopes parse+contains", |b| {
        b.iter(|| {
            Scopes::parse(black_box("premium_api/read premium_api/write"))
                .contains("premium_api/write")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
