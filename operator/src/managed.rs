//! What the two managed kinds (`CognitoResourceServer`, and `CognitoClient` with
//! `source.managed`) share: the finalizer, the annotations a user sets, and the deletion policy.
//! Names are the contract's ("Managed Cognito resources").

use std::fmt::Debug;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The finalizer both managed kinds carry while a Cognito object may exist: deletion reaches
/// Cognito first (per [`DeletionPolicy`]), then the finalizer is removed.
pub const FINALIZER: &str = "cognito-m2m.dev/cleanup";

/// `"true"` on a `CognitoResourceServer` lets it take over (and later change or delete) a
/// resource server that already existed in the pool.
pub const ADOPT_ANNOTATION: &str = "cognito-m2m.dev/adopt";

/// Changing this annotation of a managed `CognitoClient` to any new value rotates its secret now.
pub const ROTATE_SECRET_ANNOTATION: &str = "cognito-m2m.dev/rotate-secret";

/// What happens in Cognito when the Kubernetes resource is deleted: `Delete` (the default)
/// deletes the Cognito object before the resource goes; `Retain` leaves it in the pool.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// The Cognito object is deleted with the resource (the default).
    #[default]
    Delete,
    /// The Cognito object is left in the pool.
    Retain,
}

/// Whether the object carries `cognito-m2m.dev/adopt: "true"`.
pub fn adoption_requested(meta: &ObjectMeta) -> bool {
    annotation(meta, ADOPT_ANNOTATION).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The value of an annotation, if set.
pub fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// Whether the object carries [`FINALIZER`].
pub fn has_finalizer(meta: &ObjectMeta) -> bool {
    meta.finalizers.iter().flatten().any(|f| f == FINALIZER)
}

/// Adds [`FINALIZER`] to `obj` unless it has it. A JSON patch that first tests the finalizers
/// `obj` shows, so a concurrent change of the list fails with a conflict rather than being
/// overwritten.
pub async fn add_finalizer<K>(api: &Api<K>, obj: &K) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    if has_finalizer(obj.meta()) {
        return Ok(());
    }
    let current = obj.finalizers();
    let ops = if current.is_empty() {
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},
        ])
    } else {
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": current},
            {"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER},
        ])
    };
    json_patch(api, obj, ops).await
}

/// Removes [`FINALIZER`] from `obj` (if it has it), testing first that it is still where `obj`
/// shows it. An object already gone counts as released.
pub async fn remove_finalizer<K>(api: &Api<K>, obj: &K) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let Some(index) = obj.finalizers().iter().position(|f| f == FINALIZER) else {
        return Ok(());
    };
    let path = format!("/metadata/finalizers/{index}");
    let ops = json!([
        {"op": "test", "path": path, "value": FINALIZER},
        {"op": "remove", "path": path},
    ]);
    match json_patch(api, obj, ops).await {
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        other => other,
    }
}

async fn json_patch<K>(api: &Api<K>, obj: &K, ops: serde_json::Value) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let patch = Patch::<()>::Json(serde_json::from_value(ops).map_err(kube::Error::SerdeError)?);
    let params = PatchParams {
        field_manager: Some(crate::MANAGER.to_owned()),
        ..PatchParams::default()
    };
    api.patch(&obj.name_any(), &params, &patch).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn meta(annotations: &[(&str, &str)]) -> ObjectMeta {
        ObjectMeta {
            annotations: Some(
                annotations
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn adoption_needs_the_annotation_set_to_true() {
        assert!(adoption_requested(&meta(&[(ADOPT_ANNOTATION, "true")])));
        assert!(adoption_requested(&meta(&[(ADOPT_ANNOTATION, " True ")])));
        assert!(!adoption_requested(&meta(&[(ADOPT_ANNOTATION, "yes")])));
        assert!(!adoption_requested(&meta(&[])));
        assert!(!adoption_requested(&ObjectMeta::default()));
    }

    #[test]
    fn deletion_policy_defaults_to_delete_and_reads_the_contract_spelling() {
        assert_eq!(DeletionPolicy::default(), DeletionPolicy::Delete);
        let retain: DeletionPolicy = serde_json::from_str("\"Retain\"").unwrap();
        assert_eq!(retain, DeletionPolicy::Retain);
        assert!(serde_json::from_str::<DeletionPolicy>("\"retain\"").is_err());
    }
}
