//! What the operator remembers about a managed client's secret, kept as annotations on the
//! Secret itself: written in the same update as the secret value they describe, so no crash can
//! separate a value from the facts about it (which Cognito secret it is, when it was issued,
//! which rotation request it answered, and which older secret still awaits deletion).

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;

/// The Cognito `ClientSecretId` of the value in the Secret; absent for the secret the app
/// client was created with (Cognito names it only in ListUserPoolClientSecrets).
pub const SECRET_ID: &str = "cognito-m2m.dev/client-secret-id";
/// When the value in the Secret was issued (RFC 3339): creation or the last rotation.
pub const ISSUED_AT: &str = "cognito-m2m.dev/client-secret-issued-at";
/// The `cognito-m2m.dev/rotate-secret` value the last rotation answered.
pub const ROTATION_REQUEST: &str = "cognito-m2m.dev/rotation-request";
/// The previous secret's id while it is still valid during the overlap (absent: the original).
pub const PREVIOUS_SECRET_ID: &str = "cognito-m2m.dev/previous-client-secret-id";
/// When the previous secret is deleted (RFC 3339); present exactly while an overlap runs.
pub const PREVIOUS_SECRET_EXPIRES: &str = "cognito-m2m.dev/previous-client-secret-expires";

/// The previous secret, still valid while callers move to the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// Its `ClientSecretId`; `None` for the client's original secret, found by elimination.
    pub secret_id: Option<String>,
    /// When it is deleted.
    pub expires: Timestamp,
}

/// The facts about the secret a Secret holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretRecord {
    /// [`SECRET_ID`].
    pub secret_id: Option<String>,
    /// [`ISSUED_AT`].
    pub issued_at: Option<Timestamp>,
    /// [`ROTATION_REQUEST`].
    pub rotation_request: Option<String>,
    /// [`PREVIOUS_SECRET_ID`] and [`PREVIOUS_SECRET_EXPIRES`].
    pub overlap: Option<Overlap>,
}

impl SecretRecord {
    /// Reads the record from a Secret's annotations (unparsable times count as absent).
    pub fn of(secret: &Secret) -> Self {
        let empty = BTreeMap::new();
        let annotations = secret.metadata.annotations.as_ref().unwrap_or(&empty);
        let text = |key: &str| annotations.get(key).cloned().filter(|v| !v.is_empty());
        let time = |key: &str| text(key).and_then(|t| t.parse::<Timestamp>().ok());
        Self {
            secret_id: text(SECRET_ID),
            issued_at: time(ISSUED_AT),
            rotation_request: text(ROTATION_REQUEST),
            overlap: time(PREVIOUS_SECRET_EXPIRES).map(|expires| Overlap {
                secret_id: text(PREVIOUS_SECRET_ID),
                expires,
            }),
        }
    }

    /// The annotations that carry this record.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut put = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                out.insert(key.to_owned(), value);
            }
        };
        put(SECRET_ID, self.secret_id.clone());
        put(ISSUED_AT, self.issued_at.map(|t| t.to_string()));
        put(ROTATION_REQUEST, self.rotation_request.clone());
        if let Some(overlap) = &self.overlap {
            put(PREVIOUS_SECRET_ID, overlap.secret_id.clone());
            put(PREVIOUS_SECRET_EXPIRES, Some(overlap.expires.to_string()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn a_record_survives_the_round_trip_through_annotations() {
        let record = SecretRecord {
            secret_id: Some("c--1700000000".into()),
            issued_at: Some("2026-11-30T10:00:00Z".parse().unwrap()),
            rotation_request: Some("2".into()),
            overlap: Some(Overlap {
                secret_id: None,
                expires: "2026-11-30T10:10:00Z".parse().unwrap(),
            }),
        };
        let secret = Secret {
            metadata: ObjectMeta {
                annotations: Some(record.annotations()),
                ..ObjectMeta::default()
            },
            ..Secret::default()
        };
        assert_eq!(SecretRecord::of(&secret), record);
        assert!(!record.annotations().contains_key(PREVIOUS_SECRET_ID));
        assert_eq!(
            SecretRecord::of(&Secret::default()),
            SecretRecord::default()
        );
    }
}
