//! The JWK model (RFC 7517): one published key with the verdict on whether it may verify RS256
//! signatures, and the keys of one JWK Set by kid. No I/O: the cache fetches, this parses.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde_json::Value;

use super::JwksError;

/// One key of the set, as published, with the verdict on whether it may verify RS256 tokens.
#[derive(Debug)]
pub struct Jwk {
    alg: Option<String>,
    key: Result<ParsedPublicKey, &'static str>,
}

impl Jwk {
    /// The JWK's `alg`, when it declares one.
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// The RSA public key, or why this JWK cannot be used to verify signatures.
    pub fn verification_key(&self) -> Result<&ParsedPublicKey, &'static str> {
        self.key.as_ref().map_err(|reason| *reason)
    }
}

/// The keys of one fetched JWKS document, by kid.
#[derive(Debug, Default)]
pub struct KeySet {
    by_kid: HashMap<String, Arc<Jwk>>,
}

impl KeySet {
    /// Parses a JWKS document. Keys without a kid are dropped (they can never be selected);
    /// unsuitable keys are kept with the reason, so a token naming one is refused precisely.
    pub fn parse(document: &[u8]) -> Result<Self, JwksError> {
        let value: Value =
            serde_json::from_slice(document).map_err(|_| JwksError::Malformed("not JSON"))?;
        let keys = value
            .as_object()
            .ok_or(JwksError::Malformed("not a JSON object"))?
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(JwksError::Malformed("no \"keys\" array"))?;
        let mut by_kid: HashMap<String, Arc<Jwk>> = HashMap::with_capacity(keys.len());
        for jwk in keys {
            let Some(kid) = jwk.get("kid").and_then(Value::as_str) else {
                continue;
            };
            let parsed = Jwk {
                alg: jwk.get("alg").and_then(Value::as_str).map(str::to_owned),
                key: rsa_signing_key(jwk),
            };
            if by_kid.contains_key(kid) {
                // Two keys under one kid: which one a token means is ambiguous, so neither counts.
                by_kid.insert(
                    kid.to_owned(),
                    Arc::new(Jwk {
                        alg: None,
                        key: Err("duplicate kid"),
                    }),
                );
            } else {
                by_kid.insert(kid.to_owned(), Arc::new(parsed));
            }
        }
        if !by_kid.values().any(|jwk| jwk.key.is_ok()) {
            return Err(JwksError::NoUsableKeys);
        }
        Ok(Self { by_kid })
    }

    /// The key published under `kid`.
    pub fn get(&self, kid: &str) -> Option<&Arc<Jwk>> {
        self.by_kid.get(kid)
    }

    /// Number of keys (usable or not) in the set.
    pub fn len(&self) -> usize {
        self.by_kid.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.by_kid.is_empty()
    }
}

/// Builds the verification key of one JWK, or says why it is unsuitable.
fn rsa_signing_key(jwk: &Value) -> Result<ParsedPublicKey, &'static str> {
    if jwk.get("kty").and_then(Value::as_str) != Some("RSA") {
        return Err("kty is not RSA");
    }
    match jwk.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" => {}
        Some(_) => return Err("use is not sig"),
    }
    match jwk.get("alg") {
        None | Some(Value::String(_)) => {}
        Some(_) => return Err("alg is not a string"),
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err("key_ops lacks verify");
        }
    }
    let component = |name| {
        jwk.get(name)
            .and_then(Value::as_str)
            .and_then(|v| LENIENT_BASE64URL.decode(v).ok())
    };
    let (Some(n), Some(e)) = (component("n"), component("e")) else {
        return Err("n or e missing or not base64url");
    };
    let significant = n.iter().skip_while(|b| **b == 0).count();
    if !(256..=1024).contains(&significant) {
        return Err("modulus not between 2048 and 8192 bits");
    }
    RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .map_err(|_| "not a valid RSA public key")
}

/// The JWKS is trusted input from our configured issuer: accept it with or without padding.
const LENIENT_BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

// Keep the strict engine in one place for the verifier.
pub(crate) use general_purpose::URL_SAFE_NO_PAD as STRICT_BASE64URL;

#[cfg(test)]
mod tests {
    use super::*;
    use local_cognito::keys::{SigningKey, jwks_document};
    use serde_json::json;

    fn doc(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    #[test]
    fn parses_cognito_style_document() {
        let a = SigningKey::generate("a");
        let b = SigningKey::generate("b");
        let set = KeySet::parse(&doc(jwks_document([&a, &b]))).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set.get("a").unwrap().verification_key().is_ok());
        assert_eq!(set.get("b").unwrap().alg(), Some("RS256"));
        assert!(set.get("c").is_none());
    }

    #[test]
    fn unsuitable_keys_are_kept_with_their_reason() {
        let good = SigningKey::generate("good");
        let mut enc = good.public_jwk();
        enc["kid"] = json!("enc");
        enc["use"] = json!("enc");
        let mut ec = good.public_jwk();
        ec["kid"] = json!("ec");
        ec["kty"] = json!("EC");
        let mut ops = good.public_jwk();
        ops["kid"] = json!("ops");
        ops["key_ops"] = json!(["encrypt"]);
        let mut bad_n = good.public_jwk();
        bad_n["kid"] = json!("bad-n");
        bad_n["n"] = json!("!!!");
        let mut small = good.public_jwk();
        small["kid"] = json!("small");
        small["n"] = json!(STRICT_BASE64URL.encode([0xffu8; 128]));
        let mut no_kid = good.public_jwk();
        no_kid.as_object_mut().unwrap().remove("kid");
        let set = KeySet::parse(&doc(
            json!({"keys": [good.public_jwk(), enc, ec, ops, bad_n, small, no_kid]}),
        ))
        .unwrap();
        assert!(set.get("good").unwrap().verification_key().is_ok());
        for (kid, reason) in [
            ("enc", "use is not sig"),
            ("ec", "kty is not RSA"),
            ("ops", "key_ops lacks verify"),
            ("bad-n", "n or e missing or not base64url"),
            ("small", "modulus not between 2048 and 8192 bits"),
        ] {
            assert_eq!(
                set.get(kid).unwrap().verification_key().unwrap_err(),
                reason,
                "{kid}"
            );
        }
        assert_eq!(set.len(), 6, "the key without kid is dropped");
    }

    #[test]
    fn duplicate_kids_are_unusable() {
        let a = SigningKey::generate("same");
        let b = SigningKey::generate("same");
        let other = SigningKey::generate("other");
        let set = KeySet::parse(&doc(jwks_document([&a, &b, &other]))).unwrap();
        assert_eq!(
            set.get("same").unwrap().verification_key().unwrap_err(),
            "duplicate kid"
        );
    }

    #[test]
    fn documents_without_usable_keys_are_errors() {
        assert!(matches!(
            KeySet::parse(b"{\"keys\":[]}"),
            Err(JwksError::NoUsableKeys)
        ));
        assert!(matches!(KeySet::parse(b"[]"), Err(JwksError::Malformed(_))));
        assert!(matches!(
            KeySet::parse(b"{\"keys\":{}}"),
            Err(JwksError::Malformed(_))
        ));
        assert!(matches!(
            KeySet::parse(b"<html>"),
            Err(JwksError::Malformed(_))
        ));
    }
}
