//! CognitoResourceServers whose Cognito side changes: updates, drift made outside Kubernetes,
//! adoption of a differing resource server, and deletion, against a real kube-apiserver and
//! local-cognito's admin API in-process (moto has no Update/DeleteResourceServer). Each
//! scenario has its own namespace, local-cognito and operator.

mod common;

use std::time::Duration;

use aws_sdk_cognitoidentityprovider::Client as CognitoSdk;
use cognito_client_operator::managed::{ADOPT_ANNOTATION, FINALIZER};
use common::resource_server::*;
use common::*;
use kube::ResourceExt;
use kube::api::{Patch, PatchParams};
use local_cognito::faults::TestIssuer;
use local_cognito::issuer::Config;

const POOL: &str = "us-east-1_LocalRs1";

/// local-cognito serving `POOL`, an SDK client on its admin API, and the operator on it.
async fn start(client: &kube::Client, ns: &str) -> (TestIssuer, CognitoSdk, RunningOperator) {
    let issuer = TestIssuer::start(Config::new(POOL, Vec::new()));
    let aws = aws_at(issuer.admin_endpoint()).await;
    let cognito = CognitoSdk::new(&aws);
    let op = RunningOperator::start_with(client.clone(), namespace_settings(ns), aws).await;
    (issuer, cognito, op)
}

/// The pool's resource server `identifier` as local-cognito holds it (no API call, no quota).
fn held(issuer: &TestIssuer, identifier: &str) -> Option<(String, Vec<(String, String)>)> {
    issuer
        .pool()
        .resource_servers()
        .into_iter()
        .find(|s| s.identifier == identifier)
        .map(|s| {
            let mut scopes: Vec<_> = s
                .scopes
                .into_iter()
                .map(|s| (s.scope_name, s.scope_description))
                .collect();
            scopes.sort();
            (s.name, scopes)
        })
}

fn pairs(scopes: &[(&str, &str)]) -> Vec<(String, String)> {
    scopes
        .iter()
        .map(|(n, d)| ((*n).to_owned(), (*d).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_and_scope_changes_reach_cognito_and_drift_is_corrected_at_the_resync() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "rs-update").await;
    let (issuer, cognito, op) = start(&client, &ns).await;
    create_rs(
        &client,
        &ns,
        &resource_server("api", POOL, "premium_api", &["read"]),
    )
    .await;
    wait_rs_reason(&client, &ns, "api", "Synced").await;
    assert_eq!(
        held(&issuer, "premium_api"),
        Some(("premium_api".into(), pairs(&[("read", "read")])))
    );

    merge(
        &client,
        &ns,
        "api",
        serde_json::json!({"spec": {
            "name": "Premium API",
            "scopes": [{"name": "read", "description": "Read it"}, {"name": "write"}],
        }}),
    )
    .await;
    let (_, status) = wait_rs_reason(&client, &ns, "api", "Synced").await;
    assert_eq!(status.scopes, ["premium_api/read", "premium_api/write"]);
    let wanted = Some((
        "Premium API".to_owned(),
        pairs(&[("read", "Read it"), ("write", "write")]),
    ));
    assert_eq!(held(&issuer, "premium_api"), wanted);
    wait_event(&client, &ns, "api", "Updated").await;
    let synced_at = status.last_sync_time.clone().expect("lastSyncTime");

    // Someone edits it behind Kubernetes' back.
    cognito
        .update_resource_server()
        .user_pool_id(POOL)
        .identifier("premium_api")
        .name("Edited")
        .set_scopes(Some(scope_types(&["read"])))
        .send()
        .await
        .unwrap();
    // Nothing is asked of Cognito before the resync is due (status-triggered reconciles
    // included): the drift is still there.
    let calls = issuer.admin.total_calls();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        issuer.admin.total_calls(),
        calls,
        "no call in the steady state"
    );
    assert_eq!(held(&issuer, "premium_api").unwrap().0, "Edited");

    // The resync falls due (the last sync put two hours back): one describe finds and
    // corrects the drift.
    let long_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2);
    api(&client, &ns)
        .patch_status(
            "api",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"status": {"lastSyncTime": long_ago}})),
        )
        .await
        .unwrap();
    wait_for("the drift corrected", Duration::from_secs(30), || async {
        (held(&issuer, "premium_api") == wanted).then_some(())
    })
    .await;
    wait_for("a new lastSyncTime", Duration::from_secs(30), || async {
        let status = api(&client, &ns).get("api").await.ok()?.status?;
        (status.last_sync_time?.0 > synced_at.0).then_some(())
    })
    .await;
    assert_eq!(
        issuer.admin.calls("UpdateResourceServer"),
        3,
        "spec change, edit, fix"
    );
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_waits_for_cognito_and_a_refused_delete_keeps_the_finalizer() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "rs-delete").await;
    let (issuer, cognito, op) = start(&client, &ns).await;
    create_rs(
        &client,
        &ns,
        &resource_server("doomed", POOL, "doomed_api", &["read"]),
    )
    .await;
    wait_rs_reason(&client, &ns, "doomed", "Synced").await;
    assert!(held(&issuer, "doomed_api").is_some());

    // Cognito throttles everything: the one request the quota allows goes to this test.
    issuer.admin.set_request_rate(Some(0.001));
    cognito
        .list_resource_servers()
        .user_pool_id(POOL)
        .max_results(1)
        .send()
        .await
        .unwrap();
    delete(&client, &ns, "doomed").await;
    let (obj, status) = wait_rs_reason_within(
        &client,
        &ns,
        "doomed",
        "SourceUnavailable",
        Duration::from_secs(90),
    )
    .await;
    assert!(obj.metadata.deletion_timestamp.is_some());
    assert_eq!(obj.finalizers(), [FINALIZER], "kept while Cognito refuses");
    assert!(
        status.conditions[0]
            .message
            .contains("DeleteResourceServer"),
        "{}",
        status.conditions[0].message
    );
    assert!(held(&issuer, "doomed_api").is_some());
    let warning = wait_event(&client, &ns, "doomed", "SourceUnavailable").await;
    assert_eq!(
        (warning.type_.as_deref(), warning.action.as_deref()),
        (Some("Warning"), Some("Delete"))
    );
    assert!(issuer.admin.calls("DeleteResourceServer") >= 1);

    // Cognito recovers: the backoff retries, the resource server goes, then the object.
    issuer.admin.set_request_rate(None);
    wait_rs_gone_within(&client, &ns, "doomed", Duration::from_secs(60)).await;
    assert_eq!(held(&issuer, "doomed_api"), None);
    let deleted = wait_event(&client, &ns, "doomed", "Deleted").await;
    assert!(deleted.note.unwrap().contains("doomed_api"));
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adopted_resource_server_is_brought_to_the_spec_and_deleted_with_it() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "rs-adopt").await;
    let (issuer, cognito, op) = start(&client, &ns).await;
    create_in_cognito(&cognito, POOL, "legacy_api", "Legacy", &["old"]).await;
    let mut rs = resource_server("legacy", POOL, "legacy_api", &["read", "write"]);
    rs.metadata.annotations = Some([(ADOPT_ANNOTATION.to_owned(), "true".to_owned())].into());
    create_rs(&client, &ns, &rs).await;
    let (_, status) = wait_rs_reason(&client, &ns, "legacy", "Synced").await;
    assert_eq!(status.scopes, ["legacy_api/read", "legacy_api/write"]);
    assert_eq!(
        held(&issuer, "legacy_api"),
        Some((
            "legacy_api".into(),
            pairs(&[("read", "read"), ("write", "write")])
        ))
    );
    wait_event(&client, &ns, "legacy", "Adopted").await;

    // Deleted in Cognito meanwhile: deleting the resource still completes.
    cognito
        .delete_resource_server()
        .user_pool_id(POOL)
        .identifier("legacy_api")
        .send()
        .await
        .unwrap();
    delete(&client, &ns, "legacy").await;
    wait_rs_gone(&client, &ns, "legacy").await;
    assert_eq!(held(&issuer, "legacy_api"), None);
    op.stop().await.unwrap();
}
