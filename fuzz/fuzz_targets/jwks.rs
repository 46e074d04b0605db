//! The JWKS document parser and its verdict on each key (`KeySet::parse`).
//!
//! Input: the document bytes, as the JWKS endpoint would send them.

#![no_main]

use std::collections::HashMap;

use cognito_auth::jwks::{JwksError, KeySet};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let parsed = KeySet::parse(data);
    // What the parser must have seen, read independently: the `keys` array, if any.
    let document: Option<Value> = serde_json::from_slice(data).ok();
    let keys = document
        .as_ref()
        .and_then(Value::as_object)
        .and_then(|object| object.get("keys"))
        .and_then(Value::as_array);
    let set = match (parsed, keys) {
        (Ok(set), Some(_)) => set,
        (Err(JwksError::Malformed(_)), None) => return,
        (Err(JwksError::NoUsableKeys), Some(_)) => return,
        (result, keys) => panic!("verdict {result:?} for a document whose keys are {keys:?}"),
    };
    let keys = keys.expect("matched above");

    let mut by_kid: HashMap<&str, Vec<&Value>> = HashMap::new();
    for jwk in keys {
        if let Some(kid) = jwk.get("kid").and_then(Value::as_str) {
            by_kid.entry(kid).or_default().push(jwk);
        }
    }
    assert_eq!(set.len(), by_kid.len(), "one entry per distinct kid");
    assert!(!set.is_empty());
    let mut usable = 0;
    for (kid, published) in &by_kid {
        let jwk = set.get(kid).expect("every kid is kept");
        let Ok(key) = jwk.verification_key() else {
            continue;
        };
        usable += 1;
        // A usable key is unambiguous, and is exactly the one RSA signing key published.
        assert_eq!(published.len(), 1, "duplicate kid {kid:?} usable");
        let published = published[0];
        assert_eq!(published["kty"], "RSA");
        assert!(matches!(
            published.get("use"),
            None | Some(Value::String(_))
        ));
        if published.get("use").is_some() {
            assert_eq!(published["use"], "sig");
        }
        assert_eq!(jwk.alg(), published.get("alg").and_then(Value::as_str));
        let modulus_bits = (key.as_ref().len() as u64) * 8;
        assert!(
            modulus_bits >= 2048,
            "{modulus_bits}-bit DER for a usable key"
        );
    }
    assert!(usable > 0, "Ok without a usable key");
    // Parsing is a function of the bytes.
    let again = KeySet::parse(data).expect("parsed once");
    assert_eq!(again.len(), set.len());
});
