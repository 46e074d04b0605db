//! The Secret the operator writes: its desired form, whose it is, and whether it needs a write.

use std::collections::BTreeMap;

use cognito_auth::credentials::ClientCredentials;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Resource;

use crate::MANAGER;
use crate::cognito_client::CognitoClient;

/// Label marking Secrets this operator manages.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Annotation holding a SHA-256 of the data the operator wrote, so that a Secret edited behind the
/// operator's back is noticed (and rewritten) without reading the source again.
pub const DATA_HASH_ANNOTATION: &str = "cognito-m2m.dev/data-sha256";
/// Label selector for the Secrets this operator manages.
pub const MANAGED_SELECTOR: &str = "app.kubernetes.io/managed-by=cognito-client-operator";

/// The controller ownerReference pointing at a CognitoClient.
///
/// `blockOwnerDeletion` is left unset: setting it would need `update` on
/// `cognitoclients/finalizers` where the OwnerReferencesPermissionEnforcement admission plugin
/// runs, and foreground deletion of a CognitoClient is not worth that extra permission.
pub fn owner_reference(cc: &CognitoClient) -> OwnerReference {
    OwnerReference {
        api_version: CognitoClient::api_version(&()).into_owned(),
        kind: CognitoClient::kind(&()).into_owned(),
        name: cc.metadata.name.clone().unwrap_or_default(),
        uid: cc.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: None,
    }
}

/// Hex SHA-256 over the Secret's keys and values (length-prefixed, in key order).
pub fn data_hash(data: &BTreeMap<String, ByteString>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (key, ByteString(value)) in data {
        for part in [key.as_bytes(), value.as_slice()] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether the Secret's data is still what the operator wrote (its hash annotation matches).
pub fn is_intact(secret: &Secret) -> bool {
    let empty = BTreeMap::new();
    let recorded = secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DATA_HASH_ANNOTATION));
    recorded.is_some_and(|h| *h == data_hash(secret.data.as_ref().unwrap_or(&empty)))
}

/// Prefix of the annotations the operator owns on its Secrets: they must match exactly, so one
/// the operator stopped setting is removed.
pub const ANNOTATION_PREFIX: &str = "cognito-m2m.dev/";

/// The Secret as it should be: contract keys, managed-by label, owned by the CognitoClient, with
/// the data hash and `extra` annotations (a managed client's secret record).
pub fn desired_secret(
    cc: &CognitoClient,
    name: &str,
    creds: &ClientCredentials,
    extra: BTreeMap<String, String>,
) -> Secret {
    let data: BTreeMap<String, ByteString> = creds
        .to_map()
        .into_iter()
        .map(|(k, v)| (k, ByteString(v.into_bytes())))
        .collect();
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: cc.metadata.namespace.clone(),
            annotations: Some({
                let mut annotations = extra;
                annotations.insert(DATA_HASH_ANNOTATION.to_owned(), data_hash(&data));
                annotations
            }),
            labels: Some(BTreeMap::from([(
                MANAGED_BY_LABEL.to_owned(),
                MANAGER.to_owned(),
            )])),
            owner_references: Some(vec![owner_reference(cc)]),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some(data),
        ..Secret::default()
    }
}

/// Whose the Secret of the target name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// There is no such Secret.
    Absent,
    /// It is controlled by this CognitoClient.
    Ours,
    /// It exists and someone else controls it (or nobody does): never touched.
    Foreign,
}

/// Decides ownership by the controller ownerReference's uid.
pub fn ownership(existing: Option<&Secret>, owner_uid: &str) -> Ownership {
    let Some(secret) = existing else {
        return Ownership::Absent;
    };
    let ours = secret
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.uid == owner_uid && r.controller == Some(true));
    if ours && !owner_uid.is_empty() {
        Ownership::Ours
    } else {
        Ownership::Foreign
    }
}

/// Whether the existing Secret differs from the desired one in anything the operator sets.
pub fn needs_write(existing: &Secret, desired: &Secret) -> bool {
    let labels_ok = desired
        .metadata
        .labels
        .iter()
        .flatten()
        .all(|(k, v)| existing.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v));
    let ours = |a: &Option<BTreeMap<String, String>>| -> BTreeMap<String, String> {
        a.iter()
            .flatten()
            .filter(|(k, _)| k.starts_with(ANNOTATION_PREFIX))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let annotations_ok = ours(&existing.metadata.annotations)
        == ours(&desired.metadata.annotations)
        && desired.metadata.annotations.iter().flatten().all(|(k, v)| {
            existing
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(k))
                == Some(v)
        });
    let owners_ok = desired
        .metadata
        .owner_references
        .iter()
        .flatten()
        .all(|want| {
            existing
                .metadata
                .owner_references
                .iter()
                .flatten()
                .any(|have| have == want)
        });
    let empty = BTreeMap::new();
    let data_ok =
        existing.data.as_ref().unwrap_or(&empty) == desired.data.as_ref().unwrap_or(&empty);
    let type_ok = existing.type_.as_deref().unwrap_or("Opaque") == "Opaque";
    !(labels_ok && annotations_ok && owners_ok && data_ok && type_ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito_client::CognitoClientSpec;

    fn client() -> CognitoClient {
        let spec: CognitoClientSpec =
            serde_yaml_ng::from_str("userPoolId: p\nsource: {appClient: {clientId: c}}").unwrap();
        let mut cc = CognitoClient::new("consumer", spec);
        cc.metadata.namespace = Some("team".into());
        cc.metadata.uid = Some("uid-1".into());
        cc
    }

    fn creds(secret: &str) -> ClientCredentials {
        ClientCredentials::from_secret_json(&format!(
            r#"{{"client_id":"id","client_secret":"{secret}","scopes":"a/read"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn desired_secret_has_contract_keys_label_and_owner() {
        let s = desired_secret(&client(), "creds", &creds("s1"), BTreeMap::new());
        assert_eq!(s.metadata.name.as_deref(), Some("creds"));
        assert_eq!(s.metadata.namespace.as_deref(), Some("team"));
        assert_eq!(
            s.metadata.labels.as_ref().unwrap()[MANAGED_BY_LABEL],
            "cognito-client-operator"
        );
        let owner = &s.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (
                owner.kind.as_str(),
                owner.api_version.as_str(),
                owner.uid.as_str()
            ),
            ("CognitoClient", "cognito-m2m.dev/v1alpha1", "uid-1")
        );
        assert_eq!(owner.controller, Some(true));
        let data = s.data.as_ref().unwrap();
        assert_eq!(data["client_secret"].0, b"s1");
        assert_eq!(
            data.keys().collect::<Vec<_>>(),
            ["client_id", "client_secret", "scopes"]
        );
        // It must serialise with apiVersion and kind for server-side apply.
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["apiVersion"], "v1");
        assert_eq!(json["kind"], "Secret");
    }

    #[test]
    fn hash_annotation_detects_edits() {
        let s = desired_secret(&client(), "creds", &creds("s1"), BTreeMap::new());
        assert!(is_intact(&s));
        let mut edited = s.clone();
        edited
            .data
            .as_mut()
            .unwrap()
            .insert("client_secret".into(), ByteString(b"tampered".to_vec()));
        assert!(!is_intact(&edited));
        let mut unannotated = s.clone();
        unannotated.metadata.annotations = None;
        assert!(!is_intact(&unannotated));
        // Moving bytes between key and value changes the hash.
        let a = BTreeMap::from([("ab".to_owned(), ByteString(b"c".to_vec()))]);
        let b = BTreeMap::from([("a".to_owned(), ByteString(b"bc".to_vec()))]);
        assert_ne!(data_hash(&a), data_hash(&b));
    }

    #[test]
    fn ownership_is_by_controller_uid() {
        let cc = client();
        let ours = desired_secret(&cc, "creds", &creds("s"), BTreeMap::new());
        assert_eq!(ownership(None, "uid-1"), Ownership::Absent);
        assert_eq!(ownership(Some(&ours), "uid-1"), Ownership::Ours);
        assert_eq!(ownership(Some(&ours), "uid-2"), Ownership::Foreign);
        let foreign = Secret {
            metadata: ObjectMeta {
                name: Some("creds".into()),
                labels: Some(BTreeMap::from([(
                    MANAGED_BY_LABEL.to_owned(),
                    MANAGER.to_owned(),
                )])),
                ..ObjectMeta::default()
            },
            ..Secret::default()
        };
        // The label alone does not make a Secret ours.
        assert_eq!(ownership(Some(&foreign), "uid-1"), Ownership::Foreign);
    }

    #[test]
    fn write_only_when_content_or_metadata_differs() {
        let cc = client();
        let desired = desired_secret(&cc, "creds", &creds("s1"), BTreeMap::new());
        let mut existing = desired.clone();
        // Server-added metadata does not count.
        existing.metadata.resource_version = Some("42".into());
        existing
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .insert("extra".into(), "x".into());
        assert!(!needs_write(&existing, &desired));
        assert!(needs_write(
            &existing,
            &desired_secret(&cc, "creds", &creds("s2"), BTreeMap::new())
        ));
        let mut unlabelled = desired.clone();
        unlabelled.metadata.labels = None;
        assert!(needs_write(&unlabelled, &desired));
        let mut extra_key = desired.clone();
        extra_key
            .data
            .as_mut()
            .unwrap()
            .insert("stale".into(), ByteString(b"x".to_vec()));
        assert!(needs_write(&extra_key, &desired));
    }
}
