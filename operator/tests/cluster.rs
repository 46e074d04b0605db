//! The operator against a real kube-apiserver (k8s-test-cluster) with moto as Secrets Manager and
//! Cognito. Each scenario has its own namespace and its own in-process operator.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cognito_client_operator::cognito_client::{CognitoClient, CognitoClientSpec};
use cognito_client_operator::{LeaderElection, Settings};
use common::*;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use local_cognito::client_auth::CREDENTIAL_CHARACTERS;

const POOL: &str = "us-east-1_TestPool1";

/// The AWS sample's secret, exactly as its stack writes it: scope names beside the identifier.
fn seed_json(client_id: &str, secret: &str) -> String {
    serde_json::json!({
        "user_pool_client_id": client_id,
        "app_client_secret": secret,
        "user_pool_oauth2_endpoint": "https://test.auth.us-east-1.amazoncognito.com/oauth2/token",
        "user_pool_id": POOL,
        "unicorn_user_pool_res_srv_identifier": "premium_api",
        "unicorn_read_scope": "read",
        "unicorn_write_scope": "write"
    })
    .to_string()
}

fn client_for_source(name: &str, secret_id: &str, refresh: &str) -> CognitoClient {
    let spec: CognitoClientSpec = serde_json::from_value(serde_json::json!({
        "userPoolId": POOL,
        "source": {"secretsManager": {"secretId": secret_id}},
        "refreshInterval": refresh,
    }))
    .unwrap();
    CognitoClient::new(name, spec)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_is_created_owned_follows_the_source_and_is_collected() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-basic").await;
    let source = unique("basic-source");
    put_source(&source, &seed_json("client-a", "first-secret")).await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;

    let cc = create(&client, &ns, &client_for_source("consumer", &source, "2s")).await;
    wait_reason(&client, &ns, "consumer", "Synced", 30).await;

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let secret = secrets.get("consumer").await.expect("Secret written");
    let d = data(&secret);
    assert_eq!(d["client_id"], "client-a");
    assert_eq!(d["client_secret"], "first-secret");
    assert_eq!(
        d["token_endpoint"],
        "https://test.auth.us-east-1.amazoncognito.com/oauth2/token"
    );
    assert_eq!(d["scopes"], "premium_api/read premium_api/write");
    assert_eq!(
        d["issuer"],
        format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}")
    );
    assert_eq!(d["user_pool_id"], POOL);
    assert_eq!(d.len(), 6);
    assert_eq!(
        secret
            .labels()
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("cognito-client-operator")
    );
    let owner = &secret.owner_references()[0];
    assert_eq!(owner.uid, cc.uid().unwrap());
    assert_eq!(owner.kind, "CognitoClient");
    assert_eq!(owner.controller, Some(true));
    assert!(
        secret
            .metadata
            .managed_fields
            .iter()
            .flatten()
            .any(|m| m.manager.as_deref() == Some("cognito-client-operator")
                && m.operation.as_deref() == Some("Apply")),
        "written by server-side apply with the operator's field manager"
    );

    let status = Api::<CognitoClient>::namespaced(client.clone(), &ns)
        .get("consumer")
        .await
        .unwrap()
        .status
        .unwrap();
    // The status is written under the operator's field manager too, not a user-agent default.
    let written = Api::<CognitoClient>::namespaced(client.clone(), &ns)
        .get("consumer")
        .await
        .unwrap();
    assert!(
        written
            .metadata
            .managed_fields
            .iter()
            .flatten()
            .any(|m| m.manager.as_deref() == Some("cognito-client-operator")
                && m.fields_v1
                    .as_ref()
                    .is_some_and(|f| f.0.get("f:status").is_some())),
        "{:?}",
        written.metadata.managed_fields
    );
    assert_eq!(status.secret_name.as_deref(), Some("consumer"));
    assert_eq!(status.client_id.as_deref(), Some("client-a"));
    assert!(status.last_sync_time.is_some());
    let status_text = serde_json::to_string(&status).unwrap();
    assert!(!status_text.contains("first-secret"), "no secret in status");

    wait_event(&client, &ns, "consumer", "SecretCreated").await;
    let events = events_for(&client, &ns, "consumer").await;
    assert!(events.iter().all(|e| {
        !e.note
            .as_deref()
            .unwrap_or_default()
            .contains("first-secret")
    }));

    // HTTP endpoints of the running operator.
    assert_eq!(op.http_get("/healthz").await.0, 200);
    assert_eq!(op.http_get("/readyz").await.0, 200);
    let (code, metrics) = op.http_get("/metrics").await;
    assert_eq!(code, 200);
    assert!(
        metrics.contains("cognito_client_operator_secret_writes_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("cognito_client_operator_reconcile_duration_seconds_count"));

    // The source changes, to a chosen secret holding every character Cognito allows and pasted
    // with a stray newline: the Secret follows within the refresh interval (2s) plus slack, and
    // holds exactly the secret.
    let second = format!("{CREDENTIAL_CHARACTERS}\r\n");
    let changed = Instant::now();
    put_source(&source, &seed_json("client-a\n", &second)).await;
    wait_for(
        "Secret to follow the source",
        Duration::from_secs(8),
        || async {
            let s = secrets.get("consumer").await.ok()?;
            (data(&s)["client_secret"] == CREDENTIAL_CHARACTERS).then_some(())
        },
    )
    .await;
    assert_eq!(
        data(&secrets.get("consumer").await.unwrap())["client_id"],
        "client-a"
    );
    let took = changed.elapsed();
    assert!(took < Duration::from_secs(5), "followed in {took:?}");
    wait_event(&client, &ns, "consumer", "SecretUpdated").await;

    // Deleting the CognitoClient garbage-collects its Secret.
    Api::<CognitoClient>::namespaced(client.clone(), &ns)
        .delete("consumer", &DeleteParams::default())
        .await
        .unwrap();
    wait_for(
        "Secret to be garbage-collected",
        Duration::from_secs(60),
        || async {
            secrets
                .get_opt("consumer")
                .await
                .ok()?
                .is_none()
                .then_some(())
        },
    )
    .await;
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_change_reconciles_at_once() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-spec").await;
    let source = unique("spec-source");
    put_source(&source, &seed_json("client-s", "s")).await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    create(&client, &ns, &client_for_source("spec", &source, "1h")).await;
    wait_reason(&client, &ns, "spec", "Synced", 30).await;

    let started = Instant::now();
    let api: Api<CognitoClient> = Api::namespaced(client.clone(), &ns);
    let patch = serde_json::json!({"spec": {"scopes": ["premium_api/read"],
        "target": {"secretName": "spec-renamed"}}});
    api.patch("spec", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    wait_for("the renamed Secret", Duration::from_secs(10), || async {
        let s = secrets.get_opt("spec-renamed").await.ok()??;
        (data(&s)["scopes"] == "premium_api/read").then_some(())
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "far sooner than the 1h refresh"
    );
    wait_reason(&client, &ns, "spec", "Synced", 10).await;
    let status = api.get("spec").await.unwrap().status.unwrap();
    assert_eq!(status.secret_name.as_deref(), Some("spec-renamed"));
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_secret_is_restored_without_waiting_for_the_refresh() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-tamper").await;
    let source = unique("tamper-source");
    put_source(&source, &seed_json("client-t", "original")).await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    create(&client, &ns, &client_for_source("tamper", &source, "1h")).await;
    wait_reason(&client, &ns, "tamper", "Synced", 30).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let edit = serde_json::json!({"stringData": {"client_secret": "tampered"}});
    secrets
        .patch("tamper", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    wait_for("the edit to be undone", Duration::from_secs(10), || async {
        let s = secrets.get("tamper").await.ok()?;
        (data(&s)["client_secret"] == "original").then_some(())
    })
    .await;
    assert_eq!(op.metrics.secret_write_count(), 2);
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_secret_is_never_touched() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-conflict").await;
    let source = unique("conflict-source");
    put_source(&source, &seed_json("client-c", "their-secret")).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let mut foreign = Secret::default();
    foreign.metadata.name = Some("taken".into());
    foreign.string_data = Some(BTreeMap::from([("mine".to_owned(), "keep".to_owned())]));
    let foreign = secrets
        .create(&PostParams::default(), &foreign)
        .await
        .unwrap();

    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    create(&client, &ns, &client_for_source("taken", &source, "1h")).await;
    wait_reason(&client, &ns, "taken", "SecretConflict", 30).await;
    assert_eq!(
        ready(&client, &ns, "taken").await.unwrap().0,
        "False",
        "SecretConflict is Ready=False"
    );
    // Let a few backoff retries pass, then check nothing changed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = secrets.get("taken").await.unwrap();
    assert_eq!(after.resource_version(), foreign.resource_version());
    assert_eq!(
        data(&after),
        BTreeMap::from([("mine".to_owned(), "keep".to_owned())])
    );
    assert!(after.owner_references().is_empty());
    let warning = wait_event(&client, &ns, "taken", "SecretConflict").await;
    assert_eq!(warning.type_.as_deref(), Some("Warning"));
    assert_eq!(op.metrics.secret_write_count(), 0);

    // Once the foreign Secret is gone, the operator takes the name.
    secrets
        .delete("taken", &DeleteParams::default())
        .await
        .unwrap();
    wait_reason(&client, &ns, "taken", "Synced", 20).await;
    assert_eq!(
        data(&secrets.get("taken").await.unwrap())["client_id"],
        "client-c"
    );
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_source_reports_source_not_found_and_recovers() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-missing").await;
    let source = unique("late-source");
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    create(&client, &ns, &client_for_source("late", &source, "1h")).await;
    wait_reason(&client, &ns, "late", "SourceNotFound", 30).await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    assert!(secrets.get_opt("late").await.unwrap().is_none());

    put_source(&source, &seed_json("client-l", "late-secret")).await;
    // Retries back off from 200ms to at most 2s in this test's operator.
    wait_reason(&client, &ns, "late", "Synced", 15).await;
    assert_eq!(
        data(&secrets.get("late").await.unwrap())["client_secret"],
        "late-secret"
    );
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_json_is_permanent_and_does_not_loop() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-badjson").await;
    let source = unique("bad-source");
    put_source(&source, "client_secret=oops-not-json").await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    create(&client, &ns, &client_for_source("bad", &source, "1h")).await;
    wait_reason(&client, &ns, "bad", "SourceInvalid", 30).await;
    // The status write triggers one more reconcile (same failure, no write); let it pass.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let settled = op.metrics.reconcile_count();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        op.metrics.reconcile_count(),
        settled,
        "a permanent failure waits for a change instead of retrying"
    );
    let cc = Api::<CognitoClient>::namespaced(client.clone(), &ns)
        .get("bad")
        .await
        .unwrap();
    let message = &cc.status.unwrap().conditions[0].message;
    assert!(!message.contains("oops-not-json"), "{message}");
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_operator_converges_without_duplicate_writes() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-restart").await;
    let source = unique("restart-source");
    put_source(&source, &seed_json("client-r", "r")).await;
    let first = RunningOperator::for_namespace(client.clone(), &ns).await;
    for name in ["keep", "lost"] {
        create(&client, &ns, &client_for_source(name, &source, "1h")).await;
    }
    for name in ["keep", "lost"] {
        wait_reason(&client, &ns, name, "Synced", 30).await;
    }
    // Let the status-triggered follow-up reconciles settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    first.stop().await.unwrap();

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let clients: Api<CognitoClient> = Api::namespaced(client.clone(), &ns);
    let kept = secrets.get("keep").await.unwrap();
    let kept_client = clients.get("keep").await.unwrap();
    secrets
        .delete("lost", &DeleteParams::default())
        .await
        .unwrap();

    let second = RunningOperator::for_namespace(client.clone(), &ns).await;
    wait_for(
        "the deleted Secret to be recreated",
        Duration::from_secs(30),
        || async { secrets.get_opt("lost").await.ok()?.map(|_| ()) },
    )
    .await;
    wait_for(
        "both objects reconciled",
        Duration::from_secs(30),
        || async { (second.metrics.reconcile_count() >= 2).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        secrets.get("keep").await.unwrap().resource_version(),
        kept.resource_version(),
        "the intact Secret is not rewritten"
    );
    assert_eq!(
        clients.get("keep").await.unwrap().resource_version(),
        kept_client.resource_version(),
        "nor is the status of its CognitoClient"
    );
    assert_eq!(
        second.metrics.secret_write_count(),
        1,
        "only the deleted Secret is written"
    );
    second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_works_with_only_its_service_account_permissions() {
    let admin = kube_client(None).await;
    let ns = namespace(&admin, "op-rbac").await;
    // The operator's namespace and RBAC exactly as committed.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(admin.clone());
    if namespaces.get_opt("cognito-m2m").await.unwrap().is_none() {
        let mut obj = k8s_openapi::api::core::v1::Namespace::default();
        obj.metadata.name = Some("cognito-m2m".into());
        let _ = namespaces.create(&PostParams::default(), &obj).await;
    }
    let rbac =
        std::fs::read_to_string(test_support::repo_root().join("k8s/operator-rbac.yaml")).unwrap();
    apply_manifest(&admin, &rbac).await;

    let operator_client = kube_client(Some(OPERATOR_SA)).await;
    // The role is really narrower than cluster-admin (the impersonation is in effect) ...
    let denied = Api::<Secret>::namespaced(operator_client.clone(), &ns)
        .delete("anything", &DeleteParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&denied, kube::Error::Api(s) if s.code == 403),
        "{denied:?}"
    );
    // ... and enough for a cluster-wide watch.
    Api::<CognitoClient>::all(operator_client.clone())
        .list(&ListParams::default().limit(1))
        .await
        .expect("list CognitoClients in all namespaces");
    Api::<cognito_client_operator::resource_server::CognitoResourceServer>::all(
        operator_client.clone(),
    )
    .list(&ListParams::default().limit(1))
    .await
    .expect("list CognitoResourceServers in all namespaces");

    let source = unique("rbac-source");
    put_source(&source, &seed_json("client-rbac", "rbac-secret")).await;
    let lease = unique("lease");
    let op = RunningOperator::start(
        operator_client,
        Settings {
            watch_namespaces: vec![ns.clone()],
            leader_election: Some(LeaderElection {
                namespace: Some("cognito-m2m".into()),
                lease_name: lease.clone(),
                ..LeaderElection::default()
            }),
            replica_identity: "rbac-test-pod".into(),
            ..Settings::default()
        },
    )
    .await;
    create(&admin, &ns, &client_for_source("rbac", &source, "2s")).await;
    wait_reason(&admin, &ns, "rbac", "Synced", 30).await;
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), &ns);
    assert_eq!(
        data(&secrets.get("rbac").await.unwrap())["client_secret"],
        "rbac-secret"
    );
    // An update (patch) and an event series work too.
    put_source(&source, &seed_json("client-rbac", "rbac-secret-2")).await;
    wait_for(
        "update under the ServiceAccount",
        Duration::from_secs(10),
        || async {
            let s = secrets.get("rbac").await.ok()?;
            (data(&s)["client_secret"] == "rbac-secret-2").then_some(())
        },
    )
    .await;
    wait_event(&admin, &ns, "rbac", "SecretUpdated").await;
    // A second identical Event becomes a series: the Recorder patches the first one.
    put_source(&source, &seed_json("client-rbac", "rbac-secret-3")).await;
    wait_for(
        "an event series under the ServiceAccount",
        Duration::from_secs(15),
        || async {
            events_for(&admin, &ns, "rbac")
                .await
                .into_iter()
                .find(|e| {
                    e.reason.as_deref() == Some("SecretUpdated")
                        && e.series.as_ref().is_some_and(|s| s.count >= 2)
                })
                .map(|_| ())
        },
    )
    .await;
    // A CognitoResourceServer: finalizer added, status written, finalizer removed on delete
    // (Retain, as moto has no DeleteResourceServer; the Kubernetes requests are the same).
    let cognito = cognito().await;
    let pool = resource_server::user_pool(&cognito).await;
    let mut rs = resource_server::resource_server("rbac-rs", &pool, "rbac_api", &["read"]);
    rs.spec.deletion_policy = Some(cognito_client_operator::managed::DeletionPolicy::Retain);
    resource_server::create_rs(&admin, &ns, &rs).await;
    let (obj, status) = resource_server::wait_rs_reason(&admin, &ns, "rbac-rs", "Synced").await;
    assert_eq!(
        obj.finalizers(),
        [cognito_client_operator::managed::FINALIZER]
    );
    assert_eq!(status.scopes, ["rbac_api/read"]);
    wait_event(&admin, &ns, "rbac-rs", "Created").await;
    resource_server::delete(&admin, &ns, "rbac-rs").await;
    resource_server::wait_rs_gone(&admin, &ns, "rbac-rs").await;
    // A managed CognitoClient: create mark and finalizer patched in, Secret and status written,
    // the app client deleted and the finalizer patched out on delete.
    let managed: CognitoClientSpec = serde_json::from_value(serde_json::json!({
        "userPoolId": pool,
        "tokenEndpoint": "https://test.auth.us-east-1.amazoncognito.com/oauth2/token",
        "scopes": ["rbac_api/read"],
        "source": {"managed": {}},
    }))
    .unwrap();
    create(&admin, &ns, &CognitoClient::new("rbac-managed", managed)).await;
    wait_reason(&admin, &ns, "rbac-managed", "Synced", 30).await;
    wait_event(&admin, &ns, "rbac-managed", "AppClientCreated").await;
    let client_id = Api::<CognitoClient>::namespaced(admin.clone(), &ns)
        .get("rbac-managed")
        .await
        .unwrap()
        .status
        .and_then(|s| s.client_id)
        .expect("a client id in status");
    delete_client(&admin, &ns, "rbac-managed").await;
    let gone = cognito
        .describe_user_pool_client()
        .user_pool_id(&pool)
        .client_id(&client_id)
        .send()
        .await;
    assert!(
        gone.is_err(),
        "the app client was deleted under the ServiceAccount"
    );
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(admin.clone(), "cognito-m2m");
    let held = leases.get(&lease).await.expect("lease created");
    assert_eq!(
        held.spec.unwrap().holder_identity.as_deref(),
        Some("rbac-test-pod")
    );
    assert!(
        !op.is_finished(),
        "no lost lease or crash under the ServiceAccount"
    );
    op.stop().await.unwrap();
    // Graceful shutdown released the lease.
    let released = leases.get(&lease).await.unwrap();
    assert_eq!(released.spec.unwrap().holder_identity, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_client_source_reads_the_secret_from_cognito() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-appclient").await;
    let idp = cognito().await;
    let pool = idp
        .create_user_pool()
        .pool_name(unique("pool"))
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    idp.create_resource_server()
        .user_pool_id(&pool)
        .identifier("premium_api")
        .name("premium")
        .scopes(
            aws_sdk_cognitoidentityprovider::types::ResourceServerScopeType::builder()
                .scope_name("read")
                .scope_description("read")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let app = idp
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("consumer")
        .generate_secret(true)
        .allowed_o_auth_flows(
            aws_sdk_cognitoidentityprovider::types::OAuthFlowType::ClientCredentials,
        )
        .allowed_o_auth_scopes("premium_api/read")
        .allowed_o_auth_flows_user_pool_client(true)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    let client_id = app.client_id.unwrap();
    let client_secret = app.client_secret.expect("generated secret");

    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    let spec: CognitoClientSpec = serde_json::from_value(serde_json::json!({
        "userPoolId": pool,
        "tokenEndpoint": "https://test.auth.us-east-1.amazoncognito.com/oauth2/token",
        "source": {"appClient": {"clientId": client_id}},
        "target": {"secretName": "from-cognito"},
    }))
    .unwrap();
    create(&client, &ns, &CognitoClient::new("app", spec)).await;
    wait_reason(&client, &ns, "app", "Synced", 30).await;
    let secret = Api::<Secret>::namespaced(client.clone(), &ns)
        .get("from-cognito")
        .await
        .unwrap();
    let d = data(&secret);
    assert_eq!(d["client_id"], client_id);
    assert_eq!(d["client_secret"], client_secret);
    assert_eq!(d["scopes"], "premium_api/read");
    assert_eq!(d["user_pool_id"], pool);
    assert_eq!(
        d["issuer"],
        format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}")
    );

    // An unknown app client is SourceNotFound.
    let spec: CognitoClientSpec = serde_json::from_value(serde_json::json!({
        "userPoolId": pool,
        "tokenEndpoint": "https://test.auth.us-east-1.amazoncognito.com/oauth2/token",
        "source": {"appClient": {"clientId": "doesnotexist"}},
    }))
    .unwrap();
    create(&client, &ns, &CognitoClient::new("ghost", spec)).await;
    wait_reason(&client, &ns, "ghost", "SourceNotFound", 30).await;
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_namespaces_in_watch_namespaces_are_reconciled() {
    let client = kube_client(None).await;
    let first = namespace(&client, "op-watch-a").await;
    let second = namespace(&client, "op-watch-b").await;
    let ignored = namespace(&client, "op-watch-c").await;
    let source = unique("watch-source");
    put_source(&source, &seed_json("client-w", "w")).await;
    let op = RunningOperator::start(
        client.clone(),
        Settings {
            watch_namespaces: vec![first.clone(), second.clone()],
            leader_election: None,
            ..Settings::default()
        },
    )
    .await;
    for ns in [&first, &second, &ignored] {
        create(&client, ns, &client_for_source("w", &source, "1h")).await;
    }
    wait_reason(&client, &first, "w", "Synced", 30).await;
    wait_reason(&client, &second, "w", "Synced", 30).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let untouched = Api::<CognitoClient>::namespaced(client.clone(), &ignored)
        .get("w")
        .await
        .unwrap();
    assert!(untouched.status.is_none(), "{ignored} is not watched");
    assert!(
        Api::<Secret>::namespaced(client.clone(), &ignored)
            .get_opt("w")
            .await
            .unwrap()
            .is_none()
    );
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_arn_of_another_region_is_read_in_that_region() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-region").await;
    // The pool is in us-east-1 (spec.region); the secret lives in eu-west-1.
    let eu = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&aws().await)
            .region(aws_sdk_secretsmanager::config::Region::new("eu-west-1"))
            .build(),
    );
    let arn = eu
        .create_secret()
        .name(unique("eu-source"))
        .secret_string(seed_json("client-eu", "eu-secret"))
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    let mut cc = client_for_source("consumer", &arn, "1h");
    cc.spec.region = Some("us-east-1".into());
    create(&client, &ns, &cc).await;
    wait_reason(&client, &ns, "consumer", "Synced", 30).await;
    let secret = Api::<Secret>::namespaced(client.clone(), &ns)
        .get("consumer")
        .await
        .unwrap();
    let d = data(&secret);
    assert_eq!(d["client_secret"], "eu-secret");
    assert_eq!(
        d["issuer"],
        format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}")
    );
    op.stop().await.unwrap();
}
