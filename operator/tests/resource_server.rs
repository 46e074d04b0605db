//! CognitoResourceServers against a real kube-apiserver (k8s-test-cluster), with moto as Cognito
//! (it serves Create/Describe/ListResourceServers). Each scenario has its own namespace, user
//! pool and in-process operator.

mod common;

use std::time::Duration;

use cognito_client_operator::managed::{ADOPT_ANNOTATION, FINALIZER};
use common::resource_server::*;
use common::*;
use kube::ResourceExt;
use kube::api::{Patch, PatchParams};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_server_is_created_with_full_scopes_and_retained_on_request() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "rs-create").await;
    let cognito = cognito().await;
    let pool = user_pool(&cognito).await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    let mut rs = resource_server("premium", &pool, "premium_api", &["read", "write"]);
    rs.spec.name = Some("Premium API".into());
    create_rs(&client, &ns, &rs).await;

    let (obj, status) = wait_rs_reason(&client, &ns, "premium", "Synced").await;
    assert_eq!(status.scopes, ["premium_api/read", "premium_api/write"]);
    assert_eq!(status.identifier.as_deref(), Some("premium_api"));
    assert_eq!(status.user_pool_id.as_deref(), Some(pool.as_str()));
    assert!(status.last_sync_time.is_some());
    assert_eq!(obj.finalizers(), [FINALIZER]);
    let server = describe(&cognito, &pool, "premium_api")
        .await
        .expect("created in Cognito");
    assert_eq!(server.name(), Some("Premium API"));
    assert_eq!(scope_names(&server), ["read", "write"]);
    let created = wait_event(&client, &ns, "premium", "Created").await;
    assert!(created.note.unwrap().contains(&pool));

    merge(
        &client,
        &ns,
        "premium",
        serde_json::json!({"spec": {"deletionPolicy": "Retain"}}),
    )
    .await;
    wait_rs_reason(&client, &ns, "premium", "Synced").await;
    delete(&client, &ns, "premium").await;
    wait_rs_gone(&client, &ns, "premium").await;
    assert!(
        describe(&cognito, &pool, "premium_api").await.is_some(),
        "Retain leaves the resource server in the pool"
    );
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pre_existing_resource_server_is_never_touched_until_adopted() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "rs-exists").await;
    let cognito = cognito().await;
    let pool = user_pool(&cognito).await;
    create_in_cognito(&cognito, &pool, "theirs_api", "Theirs", &["read"]).await;
    let before = describe(&cognito, &pool, "theirs_api").await.unwrap();
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;

    // Someone else's: refused, and deleting the resource leaves it in Cognito.
    create_rs(
        &client,
        &ns,
        &resource_server("taken", &pool, "theirs_api", &["read"]),
    )
    .await;
    let (_, status) = wait_rs_reason(&client, &ns, "taken", "AlreadyExists").await;
    assert_eq!(status.identifier, None, "not claimed");
    let ready = &status.conditions[0];
    assert_eq!(ready.status, "False");
    assert!(
        ready.message.contains(ADOPT_ANNOTATION),
        "{}",
        ready.message
    );
    let warning = wait_event(&client, &ns, "taken", "AlreadyExists").await;
    assert_eq!(warning.type_.as_deref(), Some("Warning"));
    delete(&client, &ns, "taken").await;
    wait_rs_gone(&client, &ns, "taken").await;
    assert_eq!(
        describe(&cognito, &pool, "theirs_api").await,
        Some(before.clone())
    );

    // The same with the annotation added later: adopted, then kept as ours.
    // (moto has no UpdateResourceServer: the spec matches what is there.)
    let mut adopter = resource_server("adopter", &pool, "theirs_api", &["read"]);
    adopter.spec.name = Some("Theirs".into());
    create_rs(&client, &ns, &adopter).await;
    wait_rs_reason(&client, &ns, "adopter", "AlreadyExists").await;
    merge(
        &client,
        &ns,
        "adopter",
        serde_json::json!({"metadata": {"annotations": {ADOPT_ANNOTATION: "true"}}}),
    )
    .await;
    let (_, status) = wait_rs_reason(&client, &ns, "adopter", "Synced").await;
    assert_eq!(status.identifier.as_deref(), Some("theirs_api"));
    assert_eq!(status.scopes, ["theirs_api/read"]);
    let adopted = wait_event(&client, &ns, "adopter", "Adopted").await;
    assert_eq!(adopted.type_.as_deref(), Some("Normal"));
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_specs_are_refused_without_a_cognito_call() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "rs-bad").await;
    let cognito = cognito().await;
    let pool = user_pool(&cognito).await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    let cases = [
        (
            "slash",
            resource_server("slash", &pool, "api_slash", &["read/all"]),
            "spec.scopes[0].name",
        ),
        (
            "space",
            resource_server("space", &pool, "an api", &["read"]),
            "spec.identifier",
        ),
        (
            "twice",
            resource_server("twice", &pool, "api_twice", &["read", "read"]),
            "twice",
        ),
    ];
    for (_, rs, _) in &cases {
        create_rs(&client, &ns, rs).await;
    }
    for (name, _, needle) in &cases {
        let (obj, status) = wait_rs_reason(&client, &ns, name, "InvalidSpec").await;
        let message = &status.conditions[0].message;
        assert!(message.contains(needle), "{name}: {message}");
        assert!(obj.finalizers().is_empty(), "{name}: nothing to clean up");
        let warning = wait_event(&client, &ns, name, "InvalidSpec").await;
        assert_eq!(warning.note.as_deref(), Some(message.as_str()));
    }
    assert_eq!(op.metrics.cognito_request_count(), 0, "no Cognito call");
    for identifier in ["api_slash", "api_twice"] {
        assert!(describe(&cognito, &pool, identifier).await.is_none());
    }
    // A fixed spec goes through.
    merge(
        &client,
        &ns,
        "slash",
        serde_json::json!({"spec": {"scopes": [{"name": "read.all"}]}}),
    )
    .await;
    let (_, status) = wait_rs_reason(&client, &ns, "slash", "Synced").await;
    assert_eq!(status.scopes, ["api_slash/read.all"]);
    // A refused one is deleted at once: it never had a finalizer.
    delete(&client, &ns, "space").await;
    wait_rs_gone(&client, &ns, "space").await;
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identifier_or_pool_change_is_refused_and_cognito_is_untouched() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "rs-immutable").await;
    let cognito = cognito().await;
    let pool = user_pool(&cognito).await;
    let other_pool = user_pool(&cognito).await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    create_rs(
        &client,
        &ns,
        &resource_server("fixed", &pool, "first_api", &["read"]),
    )
    .await;
    wait_rs_reason(&client, &ns, "fixed", "Synced").await;
    let before = describe(&cognito, &pool, "first_api").await.unwrap();

    merge(
        &client,
        &ns,
        "fixed",
        serde_json::json!({"spec": {"identifier": "second_api"}}),
    )
    .await;
    let (_, status) = wait_rs_reason(&client, &ns, "fixed", "InvalidSpec").await;
    let message = &status.conditions[0].message;
    assert!(
        message.contains("spec.identifier is immutable"),
        "{message}"
    );
    assert!(message.contains("first_api"), "{message}");
    assert_eq!(
        status.identifier.as_deref(),
        Some("first_api"),
        "the claim stays"
    );
    assert_eq!(status.scopes, ["first_api/read"], "nothing lost");
    wait_event(&client, &ns, "fixed", "InvalidSpec").await;
    assert!(describe(&cognito, &pool, "second_api").await.is_none());
    assert_eq!(
        describe(&cognito, &pool, "first_api").await,
        Some(before.clone())
    );

    merge(
        &client,
        &ns,
        "fixed",
        serde_json::json!({"spec": {"identifier": "first_api", "userPoolId": other_pool}}),
    )
    .await;
    let (_, status) = wait_rs_reason(&client, &ns, "fixed", "InvalidSpec").await;
    let message = &status.conditions[0].message;
    assert!(
        message.contains("spec.userPoolId is immutable"),
        "{message}"
    );
    assert!(describe(&cognito, &other_pool, "first_api").await.is_none());

    // Back to what was created: Ready again, and a recovery Event.
    merge(
        &client,
        &ns,
        "fixed",
        serde_json::json!({"spec": {"userPoolId": pool}}),
    )
    .await;
    wait_rs_reason(&client, &ns, "fixed", "Synced").await;
    wait_event(&client, &ns, "fixed", "Synced").await;
    assert_eq!(describe(&cognito, &pool, "first_api").await, Some(before));
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_user_pool_is_reported_and_the_corrected_pool_id_accepted() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "rs-nopool").await;
    let cognito = cognito().await;
    let pool = user_pool(&cognito).await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    create_rs(
        &client,
        &ns,
        &resource_server("typo", "us-east-1_NoSuchPool", "typo_api", &["read"]),
    )
    .await;
    wait_rs_reason(&client, &ns, "typo", "SourceNotFound").await;
    wait_event(&client, &ns, "typo", "SourceNotFound").await;
    wait_for("the claim given up", Duration::from_secs(10), || async {
        let status = api(&client, &ns).get("typo").await.ok()?.status?;
        status.identifier.is_none().then_some(())
    })
    .await;
    // Each retry claims and releases (two status writes): they must not trigger retries
    // faster than the backoff (here at most 2 s), each a describe and a create.
    let calls = op.metrics.cognito_request_count();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let retried = op.metrics.cognito_request_count() - calls;
    assert!(retried <= 16, "{retried} Cognito calls in 4 s");

    merge(
        &client,
        &ns,
        "typo",
        serde_json::json!({"spec": {"userPoolId": pool}}),
    )
    .await;
    let (_, status) = wait_rs_reason(&client, &ns, "typo", "Synced").await;
    assert_eq!(status.user_pool_id.as_deref(), Some(pool.as_str()));
    assert!(describe(&cognito, &pool, "typo_api").await.is_some());
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_create_and_status_is_recognised_as_ours() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "rs-crash").await;
    let cognito = cognito().await;
    let pool = user_pool(&cognito).await;
    // The state a crash right after CreateResourceServer leaves: the claim written, the
    // resource server in Cognito, no Ready condition.
    create_in_cognito(&cognito, &pool, "crash_api", "crash_api", &["read"]).await;
    create_rs(
        &client,
        &ns,
        &resource_server("crash", &pool, "crash_api", &["read"]),
    )
    .await;
    api(&client, &ns)
        .patch_status(
            "crash",
            &PatchParams::default(),
            &Patch::Merge(
                serde_json::json!({"status": {"identifier": "crash_api", "userPoolId": pool}}),
            ),
        )
        .await
        .unwrap();

    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    let (_, status) = wait_rs_reason(&client, &ns, "crash", "Synced").await;
    assert_eq!(status.scopes, ["crash_api/read"]);
    let events = events_for(&client, &ns, "crash").await;
    assert!(
        events
            .iter()
            .all(|e| e.reason.as_deref() != Some("AlreadyExists")),
        "{events:?}"
    );
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_operator_makes_no_cognito_call_for_up_to_date_resources() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "rs-restart").await;
    let cognito = cognito().await;
    let pool = user_pool(&cognito).await;
    let first = RunningOperator::for_namespace(client.clone(), &ns).await;
    for name in ["one", "two"] {
        let identifier = format!("{name}_api");
        create_rs(
            &client,
            &ns,
            &resource_server(name, &pool, &identifier, &["read"]),
        )
        .await;
    }
    for name in ["one", "two"] {
        wait_rs_reason(&client, &ns, name, "Synced").await;
    }
    assert!(
        first.metrics.cognito_request_count() >= 4,
        "a describe and a create each"
    );
    // Let the status-triggered follow-up reconciles settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    first.stop().await.unwrap();
    let versions: Vec<String> = {
        let mut v = Vec::new();
        for name in ["one", "two"] {
            v.push(
                api(&client, &ns)
                    .get(name)
                    .await
                    .unwrap()
                    .resource_version()
                    .unwrap(),
            );
        }
        v
    };

    let second = RunningOperator::for_namespace(client.clone(), &ns).await;
    wait_for(
        "both resources reconciled",
        Duration::from_secs(30),
        || async { (second.metrics.reconcile_count() >= 2).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(second.metrics.cognito_request_count(), 0);
    for (name, version) in ["one", "two"].iter().zip(&versions) {
        let now = api(&client, &ns).get(name).await.unwrap();
        assert_eq!(
            now.resource_version().as_ref(),
            Some(version),
            "{name} not rewritten"
        );
    }
    second.stop().await.unwrap();
}
