//! Access-token verification: parse, signature, claims, with typed rejection reasons.
//!
//! Modelled on awslabs aws-jwt-verify for Cognito access tokens, and stricter:
//! - tokens over `max_token_bytes` are refused before any parsing;
//! - exactly three non-empty base64url (unpadded) parts; header and payload JSON objects with no
//!   duplicate members among the ones we read; claim types checked;
//! - `alg` must be `RS256`; `none`, HMAC and everything else are refused; `jku`, `jwk`, `x5u`,
//!   `x5c` are ignored and `crit` is refused (we understand no extension);
//! - `iss` exactly one of the [`TrustedIssuers`]; it selects the JWKS: the key is chosen only by
//!   `kid` from that issuer's JWKS (never another issuer's); the JWK must be RSA, `use` sig when
//!   present, `alg` equal to the header's when present;
//! - `token_use` = `access`, `exp` required, `nbf` honoured, a small clock leeway;
//! - `client_id` in the issuer's pool's allow-list when it has one (access tokens carry no
//!   `aud`).
//!
//! Cheap structural and claim checks run before the key lookup, so garbage and foreign tokens
//! never cost a JWKS refetch or an RSA operation.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use crate::clock::{Clock, SystemClock};
use crate::jwks::{JwksCache, KeyLookup, STRICT_BASE64URL};
use crate::scopes::Scopes;
use crate::trusted_issuers::{TrustedIssuers, TrustedPool};

mod rejection;
mod verified_tokens;

pub use rejection::Rejection;
use verified_tokens::VerifiedTokens;

/// How a [`Verifier`] judges tokens (whom it trusts is its [`TrustedIssuers`]).
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Longest token accepted, in bytes; longer ones are refused unparsed.
    pub max_token_bytes: usize,
    /// Verified tokens remembered (by the whole token) until they expire; 0 disables.
    pub cache_capacity: usize,
}

impl VerifierConfig {
    /// Default leeway: a few seconds, not the minute some libraries allow.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);
    /// Default size limit: 8 KiB.
    pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
    /// Default verified-token cache size.
    pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;
}

impl Default for VerifierConfig {
    /// 5 s leeway, 8 KiB limit, 10 000 cached tokens.
    fn default() -> Self {
        Self {
            leeway: Self::DEFAULT_LEEWAY,
            max_token_bytes: Self::DEFAULT_MAX_TOKEN_BYTES,
            cache_capacity: Self::DEFAULT_CACHE_CAPACITY,
        }
    }
}

/// The claims of a verified access token.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// `iss`.
    pub issuer: String,
    /// `client_id`: the app client the token was issued to.
    pub client_id: String,
    /// `sub`, when present.
    pub subject: Option<String>,
    /// `username`, when present.
    pub username: Option<String>,
    /// `jti`, when present.
    pub token_id: Option<String>,
    /// The parsed `scope` claim (empty when absent).
    pub scopes: Scopes,
    /// `exp`, seconds since the epoch.
    pub expires_at: f64,
    /// `nbf`, when present.
    pub not_before: Option<f64>,
    /// `iat`, when present.
    pub issued_at: Option<f64>,
}

/// Verifies Cognito access tokens against a set of trusted issuers, each with its own JWKS.
#[derive(Debug)]
pub struct Verifier {
    config: VerifierConfig,
    trusted: TrustedIssuers,
    clock: Arc<dyn Clock>,
    cache: Option<VerifiedTokens>,
}

impl Verifier {
    /// A verifier using the system clock.
    pub fn new(config: VerifierConfig, trusted: TrustedIssuers) -> Self {
        Self::with_clock(config, trusted, Arc::new(SystemClock))
    }

    /// A verifier with an injected clock.
    pub fn with_clock(
        config: VerifierConfig,
        trusted: TrustedIssuers,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let cache = (config.cache_capacity > 0).then(|| VerifiedTokens::new(config.cache_capacity));
        Self {
            config,
            trusted,
            clock,
            cache,
        }
    }

    /// Whom it trusts, with their JWKS caches.
    pub fn trusted(&self) -> &TrustedIssuers {
        &self.trusted
    }

    /// Readiness: every trusted pool has signing keys loaded (see [`TrustedIssuers::is_ready`]).
    pub fn is_ready(&self) -> bool {
        self.trusted.is_ready()
    }

    /// The configuration.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Verified-token cache hits and misses so far (`None` when the cache is off).
    pub fn cache_stats(&self) -> Option<(u64, u64)> {
        self.cache.as_ref().map(VerifiedTokens::stats)
    }

    /// Verifies `token` (the compact JWT, without any `Bearer` prefix). The claims are shared:
    /// a token verified before (the cache) costs no copy of them.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, Rejection> {
        if token.len() > self.config.max_token_bytes {
            return Err(Rejection::TooLarge);
        }
        let now = self.clock.unix_seconds();
        if let Some(cache) = &self.cache
            && let Some(claims) = cache.get(token, now, &self.config)
        {
            return Ok(claims);
        }

        let parsed = parse(token)?;
        let (claims, jwks) = check_claims(&parsed.payload, &self.config, &self.trusted, now)?;
        let jwk = match jwks.key(&parsed.kid).await {
            KeyLookup::Found(jwk) => jwk,
            KeyLookup::Unknown => return Err(Rejection::UnknownKid),
            KeyLookup::NotLoaded => return Err(Rejection::KeysUnavailable),
        };
        if jwk.alg().is_some_and(|alg| alg != RS256) {
            return Err(Rejection::UnsuitableKey);
        }
        let key = jwk
            .verification_key()
            .map_err(|_| Rejection::UnsuitableKey)?;
        key.verify_sig(parsed.signing_input.as_bytes(), &parsed.signature)
            .map_err(|_| Rejection::BadSignature)?;

        let claims = Arc::new(claims);
        if let Some(cache) = &self.cache {
            cache.insert(token, claims.clone(), parsed.kid, jwk, jwks.clone(), now);
        }
        Ok(claims)
    }
}

const RS256: &str = "RS256";

/// A token split and decoded, claims not yet judged.
struct Parsed<'a> {
    signing_input: &'a str,
    signature: Vec<u8>,
    kid: String,
    payload: Payload,
}

/// The header members we read. Serde refuses duplicates of these, so `{"alg":"none","alg":"RS256"}`
/// cannot mean different things to different readers; all other members are ignored
/// (`jku`, `jwk`, `x5u`, `x5c`: the key comes only from our JWKS).
#[derive(Deserialize)]
struct Header {
    alg: Option<Value>,
    kid: Option<Value>,
    crit: Option<Value>,
}

/// The claims we read, typed loosely so that a wrong type is a precise rejection.
#[derive(Deserialize)]
struct Payload {
    iss: Option<Value>,
    token_use: Option<Value>,
    client_id: Option<Value>,
    scope: Option<Value>,
    exp: Option<Value>,
    nbf: Option<Value>,
    iat: Option<Value>,
    sub: Option<Value>,
    jti: Option<Value>,
    username: Option<Value>,
}

fn parse(token: &str) -> Result<Parsed<'_>, Rejection> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(Rejection::Malformed);
    }
    let signing_input = &token[..header.len() + 1 + payload.len()];
    let header: Header = decode_json_object(header)?;
    if header.crit.is_some() {
        return Err(Rejection::Malformed);
    }
    match &header.alg {
        Some(Value::String(alg)) if alg == RS256 => {}
        _ => return Err(Rejection::UnsupportedAlgorithm),
    }
    let kid = match header.kid {
        Some(Value::String(kid)) if !kid.is_empty() && kid.len() <= 1024 => kid,
        _ => return Err(Rejection::MissingKid),
    };
    let payload_json: Payload = decode_json_object(payload)?;
    let signature = STRICT_BASE64URL
        .decode(signature)
        .map_err(|_| Rejection::Malformed)?;
    Ok(Parsed {
        signing_input,
        signature,
        kid,
        payload: payload_json,
    })
}

fn decode_json_object<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, Rejection> {
    let bytes = STRICT_BASE64URL
        .decode(part)
        .map_err(|_| Rejection::Malformed)?;
    // serde would also read a struct from a JSON array; only an object is a JOSE header/claims set.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Rejection::Malformed);
    }
    serde_json::from_slice(&bytes).map_err(|_| Rejection::Malformed)
}

fn required_string(value: Option<Value>) -> Result<String, Rejection> {
    match value {
        Some(Value::String(s)) => Ok(s),
        _ => Err(Rejection::InvalidClaims),
    }
}

fn optional_string(value: Option<Value>) -> Result<Option<String>, Rejection> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Rejection::InvalidClaims),
    }
}

fn optional_number(value: &Option<Value>) -> Result<Option<f64>, Rejection> {
    match value {
        None => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(Rejection::InvalidClaims),
        Some(_) => Err(Rejection::InvalidClaims),
    }
}

/// Judges the claims; on success also returns the JWKS of the issuer `iss` names.
fn check_claims<'t>(
    payload: &Payload,
    config: &VerifierConfig,
    trusted: &'t TrustedIssuers,
    now: f64,
) -> Result<(Claims, &'t Arc<JwksCache>), Rejection> {
    // Types first, all of them, so a token with a wrongly typed claim is refused whatever else.
    let exp = optional_number(&payload.exp)?.ok_or(Rejection::InvalidClaims)?;
    let nbf = optional_number(&payload.nbf)?;
    let iat = optional_number(&payload.iat)?;
    let issuer = required_string(payload.iss.clone())?;
    let token_use = required_string(payload.token_use.clone())?;
    let client_id = required_string(payload.client_id.clone())?;
    let scope = optional_string(payload.scope.clone())?;
    let subject = optional_string(payload.sub.clone())?;
    let token_id = optional_string(payload.jti.clone())?;
    let username = optional_string(payload.username.clone())?;

    let (pool, trusted_issuer): (&TrustedPool, _) =
        trusted.get(&issuer).ok_or(Rejection::WrongIssuer)?;
    if token_use != "access" {
        return Err(Rejection::WrongTokenUse);
    }
    if !pool.allows_client(&client_id) {
        return Err(Rejection::ClientNotAllowed);
    }
    check_times(exp, nbf, config.leeway, now)?;
    let claims = Claims {
        issuer,
        client_id,
        subject,
        username,
        token_id,
        scopes: scope.as_deref().map(Scopes::parse).unwrap_or_default(),
        expires_at: exp,
        not_before: nbf,
        issued_at: iat,
    };
    Ok((claims, trusted_issuer.jwks()))
}

fn check_times(exp: f64, nbf: Option<f64>, leeway: Duration, now: f64) -> Result<(), Rejection> {
    let leeway = leeway.as_secs_f64();
    if now >= exp + leeway {
        return Err(Rejection::Expired);
    }
    if nbf.is_some_and(|nbf| now + leeway < nbf) {
        return Err(Rejection::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
