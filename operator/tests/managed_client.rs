//! Managed CognitoClients (`spec.source.managed`) against a real kube-apiserver, with moto as
//! Cognito for what moto implements (app clients: create, describe, update, delete, list).
//! Secret rotation and crash recovery need what moto lacks (client-secret operations, an app
//! client's CreationDate): `managed_rotation.rs` runs those against local-cognito's admin API.

mod common;

use std::time::Duration;

use aws_sdk_cognitoidentityprovider::types::{OAuthFlowType, ResourceServerScopeType};
use cognito_client_operator::cognito_client::{CognitoClient, CognitoClientSpec};
use cognito_client_operator::managed::FINALIZER;
use common::*;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};

const TOKEN_ENDPOINT: &str = "https://test.auth.us-east-1.amazoncognito.com/oauth2/token";

/// A moto user pool with the AWS sample's resource server (`premium_api`, read and write).
async fn pool() -> String {
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
    let scope = |name: &str| {
        ResourceServerScopeType::builder()
            .scope_name(name)
            .scope_description(name)
            .build()
            .unwrap()
    };
    idp.create_resource_server()
        .user_pool_id(&pool)
        .identifier("premium_api")
        .name("premium")
        .scopes(scope("read"))
        .scopes(scope("write"))
        .send()
        .await
        .unwrap();
    pool
}

fn managed(name: &str, pool: &str, managed: serde_json::Value, refresh: &str) -> CognitoClient {
    let spec: CognitoClientSpec = serde_json::from_value(serde_json::json!({
        "userPoolId": pool,
        "tokenEndpoint": TOKEN_ENDPOINT,
        "scopes": ["premium_api/read", "premium_api/write"],
        "source": {"managed": managed},
        "target": {"secretName": format!("{name}-credentials")},
        "refreshInterval": refresh,
    }))
    .unwrap();
    CognitoClient::new(name, spec)
}

/// The ids of the pool's app clients named `name`.
async fn clients_named(pool: &str, name: &str) -> Vec<String> {
    cognito()
        .await
        .list_user_pool_clients()
        .user_pool_id(pool)
        .max_results(60)
        .send()
        .await
        .unwrap()
        .user_pool_clients()
        .iter()
        .filter(|c| c.client_name() == Some(name))
        .filter_map(|c| c.client_id().map(str::to_owned))
        .collect()
}

async fn described(
    pool: &str,
    client_id: &str,
) -> Option<aws_sdk_cognitoidentityprovider::types::UserPoolClientType> {
    cognito()
        .await
        .describe_user_pool_client()
        .user_pool_id(pool)
        .client_id(client_id)
        .send()
        .await
        .ok()?
        .user_pool_client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_client_is_created_kept_and_deleted_with_its_app_client() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-managed").await;
    let pool = pool().await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    create(
        &client,
        &ns,
        &managed(
            "consumer",
            &pool,
            serde_json::json!({"accessTokenValidity": "30m"}),
            "2s",
        ),
    )
    .await;
    wait_reason(&client, &ns, "consumer", "Synced", 30).await;

    // The app client is the contract's: default name, client_credentials only, exactly the
    // spec's scopes, a generated secret, the token validity asked for.
    let name = format!("{ns}-consumer");
    let ids = clients_named(&pool, &name).await;
    assert_eq!(ids.len(), 1, "exactly one app client named {name}");
    let app = described(&pool, &ids[0]).await.unwrap();
    assert_eq!(
        app.allowed_o_auth_flows(),
        [OAuthFlowType::ClientCredentials]
    );
    assert_eq!(app.allowed_o_auth_flows_user_pool_client(), Some(true));
    // No user sign-in flows for a machine client.
    assert_eq!(
        app.explicit_auth_flows(),
        [aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType::AllowRefreshTokenAuth]
    );
    let mut scopes = app.allowed_o_auth_scopes().to_vec();
    scopes.sort();
    assert_eq!(scopes, ["premium_api/read", "premium_api/write"]);
    assert_eq!(app.access_token_validity(), Some(30));
    let secret = Api::<Secret>::namespaced(client.clone(), &ns)
        .get("consumer-credentials")
        .await
        .unwrap();
    let d = data(&secret);
    assert_eq!(d["client_id"], ids[0]);
    assert_eq!(Some(d["client_secret"].as_str()), app.client_secret());
    assert_eq!(d["token_endpoint"], TOKEN_ENDPOINT);
    assert_eq!(d["scopes"], "premium_api/read premium_api/write");
    assert_eq!(d["user_pool_id"], pool);
    let cc = Api::<CognitoClient>::namespaced(client.clone(), &ns)
        .get("consumer")
        .await
        .unwrap();
    assert!(
        cc.metadata
            .finalizers
            .iter()
            .flatten()
            .any(|f| f == FINALIZER)
    );
    assert_eq!(
        cc.status.unwrap().client_id.as_deref(),
        Some(ids[0].as_str())
    );
    wait_event(&client, &ns, "consumer", "AppClientCreated").await;

    // Drift made outside Kubernetes is corrected at the next refresh.
    cognito()
        .await
        .update_user_pool_client()
        .user_pool_id(&pool)
        .client_id(&ids[0])
        .client_name(&name)
        .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_scopes("premium_api/read")
        .send()
        .await
        .unwrap();
    wait_event(&client, &ns, "consumer", "AppClientUpdated").await;
    wait_for("scopes restored", Duration::from_secs(20), || async {
        let app = described(&pool, &ids[0]).await?;
        (app.allowed_o_auth_scopes().len() == 2).then_some(())
    })
    .await;

    // Deleting the resource deletes the app client first.
    delete_client(&client, &ns, "consumer").await;
    assert!(
        described(&pool, &ids[0]).await.is_none(),
        "app client deleted"
    );
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retain_leaves_the_app_client_in_cognito() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-retain").await;
    let pool = pool().await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    create(
        &client,
        &ns,
        &managed(
            "kept",
            &pool,
            serde_json::json!({"deletionPolicy": "Retain", "clientName": "kept-client"}),
            "1h",
        ),
    )
    .await;
    wait_reason(&client, &ns, "kept", "Synced", 30).await;
    let ids = clients_named(&pool, "kept-client").await;
    assert_eq!(ids.len(), 1);
    delete_client(&client, &ns, "kept").await;
    assert!(described(&pool, &ids[0]).await.is_some(), "app client kept");
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_managed_specs_are_reported_without_calling_cognito() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-managed-bad").await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    let cases = [
        (
            "short-token",
            serde_json::json!({"accessTokenValidity": "1m"}),
            "accessTokenValidity",
        ),
        (
            "long-token",
            serde_json::json!({"accessTokenValidity": "48h"}),
            "accessTokenValidity",
        ),
        (
            "overlap",
            serde_json::json!({"secretRotation": {"interval": "5m", "overlap": "10m"}}),
            "secretRotation.interval",
        ),
        (
            "bad-name",
            serde_json::json!({"clientName": "a/b"}),
            "clientName",
        ),
    ];
    for (name, spec, _) in &cases {
        create(
            &client,
            &ns,
            &managed(name, "us-east-1_Nowhere1", spec.clone(), "1h"),
        )
        .await;
    }
    let mut no_scopes = managed(
        "no-scopes",
        "us-east-1_Nowhere1",
        serde_json::json!({}),
        "1h",
    );
    no_scopes.spec.scopes = None;
    create(&client, &ns, &no_scopes).await;
    for (name, _, field) in
        cases
            .iter()
            .chain([&("no-scopes", serde_json::json!({}), "spec.scopes")])
    {
        wait_reason(&client, &ns, name, "InvalidSpec", 30).await;
        let event = wait_event(&client, &ns, name, "InvalidSpec").await;
        let note = event.note.unwrap_or_default();
        assert!(note.contains(field), "{name}: {note}");
    }
    assert_eq!(
        op.metrics.cognito_request_count(),
        0,
        "no Cognito call for a bad spec"
    );
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_client_claiming_the_same_secret_creates_nothing() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-managed-claim").await;
    let pool = pool().await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    create(
        &client,
        &ns,
        &managed("first", &pool, serde_json::json!({}), "1h"),
    )
    .await;
    wait_reason(&client, &ns, "first", "Synced", 30).await;
    let mut second = managed("second", &pool, serde_json::json!({}), "1h");
    second.spec.target.as_mut().unwrap().secret_name = Some("first-credentials".into());
    create(&client, &ns, &second).await;
    wait_reason(&client, &ns, "second", "SecretConflict", 30).await;
    wait_event(&client, &ns, "second", "SecretConflict").await;
    assert!(
        clients_named(&pool, &format!("{ns}-second"))
            .await
            .is_empty(),
        "no app client for the conflicting resource"
    );
    let d = data(
        &Api::<Secret>::namespaced(client.clone(), &ns)
            .get("first-credentials")
            .await
            .unwrap(),
    );
    assert_eq!(
        clients_named(&pool, &format!("{ns}-first")).await,
        [d["client_id"].clone()]
    );
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_operator_makes_no_cognito_call_for_up_to_date_clients() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-managed-restart").await;
    let pool = pool().await;
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    for i in 0..3 {
        create(
            &client,
            &ns,
            &managed(&format!("c{i}"), &pool, serde_json::json!({}), "1h"),
        )
        .await;
    }
    for i in 0..3 {
        wait_reason(&client, &ns, &format!("c{i}"), "Synced", 30).await;
    }
    op.stop().await.unwrap();
    let again = RunningOperator::for_namespace(client.clone(), &ns).await;
    wait_for("three reconciles", Duration::from_secs(20), || async {
        (again.metrics.reconcile_count() >= 3).then_some(())
    })
    .await;
    assert_eq!(again.metrics.cognito_request_count(), 0);
    // And an edit to the Secret is repaired from the Secret's own record: one Describe, no
    // new app client.
    Api::<Secret>::namespaced(client.clone(), &ns)
        .patch(
            "c0-credentials",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"stringData": {"client_secret": "tampered"}})),
        )
        .await
        .unwrap();
    wait_for("the Secret repaired", Duration::from_secs(20), || async {
        let s = Api::<Secret>::namespaced(client.clone(), &ns)
            .get("c0-credentials")
            .await
            .ok()?;
        (data(&s)["client_secret"] != "tampered").then_some(())
    })
    .await;
    assert_eq!(clients_named(&pool, &format!("{ns}-c0")).await.len(), 1);
    again.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_owned_by_someone_else_is_never_touched_and_no_app_client_is_made() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-managed-foreign").await;
    let pool = pool().await;
    let mut foreign = Secret::default();
    foreign.metadata.name = Some("theirs-credentials".into());
    foreign.string_data = Some([("client_secret".to_owned(), "theirs".to_owned())].into());
    Api::<Secret>::namespaced(client.clone(), &ns)
        .create(&Default::default(), &foreign)
        .await
        .unwrap();
    let op = RunningOperator::for_namespace(client.clone(), &ns).await;
    create(
        &client,
        &ns,
        &managed("theirs", &pool, serde_json::json!({}), "1h"),
    )
    .await;
    wait_reason(&client, &ns, "theirs", "SecretConflict", 30).await;
    let event = wait_event(&client, &ns, "theirs", "SecretConflict").await;
    assert!(
        event
            .note
            .unwrap_or_default()
            .contains("theirs-credentials")
    );
    assert!(
        clients_named(&pool, &format!("{ns}-theirs"))
            .await
            .is_empty()
    );
    assert_eq!(op.metrics.cognito_request_count(), 0);
    let kept = Api::<Secret>::namespaced(client.clone(), &ns)
        .get("theirs-credentials")
        .await
        .unwrap();
    assert_eq!(
        data(&kept)["client_secret"],
        "theirs",
        "the foreign Secret is unchanged"
    );
    op.stop().await.unwrap();
}
