//! Why a token was refused: the typed rejections of [`Verifier::verify`](super::Verifier::verify),
//! each with a stable label. Mapping them to HTTP is the web glue's job, in one place.

/// Why a token was refused. Carries no token material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Rejection {
    /// Longer than the size limit.
    #[error("token too large")]
    TooLarge,
    /// Not three base64url parts, or header/payload not JSON objects.
    #[error("token malformed")]
    Malformed,
    /// `alg` other than RS256 (including `none` and HMAC).
    #[error("unsupported alg")]
    UnsupportedAlgorithm,
    /// No usable `kid` in the header.
    #[error("missing kid")]
    MissingKid,
    /// A required claim is missing or a claim has the wrong type.
    #[error("invalid claims")]
    InvalidClaims,
    /// `iss` is none of the trusted issuers.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `token_use` is not `access`.
    #[error("not an access token")]
    WrongTokenUse,
    /// `client_id` not in the allow-list.
    #[error("client not allowed")]
    ClientNotAllowed,
    /// `exp` has passed (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `kid` not in the JWKS, even after a refetch (or within the refetch penalty box).
    #[error("unknown kid")]
    UnknownKid,
    /// The JWK under `kid` cannot verify RS256 (not RSA, not for signing, other alg, ...).
    #[error("unsuitable key")]
    UnsuitableKey,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// No signing keys loaded yet: the token cannot be judged.
    #[error("signing keys unavailable")]
    KeysUnavailable,
}

impl Rejection {
    /// Every rejection, for pre-registering metric labels and for tests.
    pub const ALL: [Rejection; 14] = [
        Rejection::TooLarge,
        Rejection::Malformed,
        Rejection::UnsupportedAlgorithm,
        Rejection::MissingKid,
        Rejection::InvalidClaims,
        Rejection::WrongIssuer,
        Rejection::WrongTokenUse,
        Rejection::ClientNotAllowed,
        Rejection::Expired,
        Rejection::NotYetValid,
        Rejection::UnknownKid,
        Rejection::UnsuitableKey,
        Rejection::BadSignature,
        Rejection::KeysUnavailable,
    ];

    /// A stable snake_case label (metrics, logs).
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::TooLarge => "too_large",
            Rejection::Malformed => "malformed",
            Rejection::UnsupportedAlgorithm => "unsupported_alg",
            Rejection::MissingKid => "missing_kid",
            Rejection::InvalidClaims => "invalid_claims",
            Rejection::WrongIssuer => "wrong_issuer",
            Rejection::WrongTokenUse => "wrong_token_use",
            Rejection::ClientNotAllowed => "client_not_allowed",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::UnknownKid => "unknown_kid",
            Rejection::UnsuitableKey => "unsuitable_key",
            Rejection::BadSignature => "bad_signature",
            Rejection::KeysUnavailable => "keys_unavailable",
        }
    }

    /// Whether the fault is ours (no keys yet), not the token's.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Rejection::KeysUnavailable)
    }
}
