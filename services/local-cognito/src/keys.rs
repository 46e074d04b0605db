//! RSA signing keys: generation, their public JWK, and JWS compact signing.
//!
//! Signing is done here rather than through a JWT library so that tests can also sign tokens with
//! any header they like (forged `alg`, `jku`, odd `kid`s) using a real key.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// An RSA-2048 key pair with a key id, able to sign RS256 JWTs.
pub struct SigningKey {
    kid: String,
    pair: RsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key with the given key id.
    pub fn generate(kid: impl Into<String>) -> Self {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .expect("RSA-2048 key generation does not fail on a working system");
        Self {
            kid: kid.into(),
            pair,
            rng: SystemRandom::new(),
        }
    }

    /// The key id (`kid`) this key signs under.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK, as Cognito publishes it in `jwks.json`.
    pub fn public_jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// The public key as DER `RSAPublicKey` (PKCS#1): what an alg-confusion forger would use as
    /// an HMAC secret.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    /// Signs `claims` as an RS256 JWT with the standard header `{"alg":"RS256","kid":..}`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&json!({"kid": self.kid, "alg": "RS256"}), claims)
    }

    /// Signs `claims` under any header, with this key's RS256 signature whatever the header says.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        self.sign_parts(
            &serde_json::to_vec(header).expect("a JSON value always serialises"),
            &serde_json::to_vec(claims).expect("a JSON value always serialises"),
        )
    }

    /// Signs any header and payload bytes, JSON or not (duplicate members, broken syntax), as a
    /// JWS compact serialisation (RFC 7515 section 7.1) with this key's RS256 signature.
    pub fn sign_parts(&self, header: &[u8], payload: &[u8]) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("signing with a valid RSA key does not fail");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// A JWKS document (`{"keys":[...]}`) holding the public JWKs of `keys`.
pub fn jwks_document<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> Value {
    json!({ "keys": keys.into_iter().map(SigningKey::public_jwk).collect::<Vec<_>>() })
}

/// base64url (no padding) of a JSON value's compact serialisation.
pub fn encode_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("a JSON value always serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};

    #[test]
    fn signature_verifies_against_the_published_jwk() {
        let key = SigningKey::generate("k1");
        let token = key.sign(&json!({"sub": "x"}));
        let (input, sig) = token.rsplit_once('.').unwrap();
        let jwk = key.public_jwk();
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
        let public = RsaPublicKeyComponents { n: &n, e: &e };
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        public
            .verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &sig)
            .expect("signature verifies");
        let mut tampered = sig.clone();
        tampered[0] ^= 1;
        assert!(
            public
                .verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &tampered)
                .is_err()
        );
        assert_eq!(jwk["kid"], "k1");
        assert_eq!(n.len(), 256);
    }

    #[test]
    fn header_is_what_the_caller_gave() {
        let key = SigningKey::generate("k1");
        let token = key.sign_with_header(&json!({"alg": "none"}), &json!({}));
        let header = token.split('.').next().unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "none"}));
    }
}
