//! Managed CognitoClients against local-cognito's admin API (the operations moto lacks): secret
//! rotation on schedule, on request, across a restart and after an interrupted rotation; scopes
//! no resource server grants; and Cognito's throttling.

mod common;

use std::time::Duration;

use cognito_client_operator::Settings;
use cognito_client_operator::cognito_client::{CognitoClient, CognitoClientSpec};
use cognito_client_operator::managed::ROTATE_SECRET_ANNOTATION;
use common::*;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use local_cognito::faults::TestIssuer;
use local_cognito::issuer::{AppClient, Config};

const POOL: &str = "us-east-1_Rotation1";

/// local-cognito with the AWS sample's resource server (a configured client's scopes define it).
fn idp() -> TestIssuer {
    TestIssuer::start(Config::new(
        POOL,
        vec![AppClient::new(
            "bootstrap",
            "bootstrap-secret-00000000",
            ["premium_api/read", "premium_api/write"],
        )],
    ))
}

async fn operator(client: &kube::Client, ns: &str, idp: &TestIssuer) -> RunningOperator {
    operator_with(client, namespace_settings(ns), idp).await
}

async fn operator_with(
    client: &kube::Client,
    settings: Settings,
    idp: &TestIssuer,
) -> RunningOperator {
    RunningOperator::start_with(client.clone(), settings, aws_at(idp.admin_endpoint()).await).await
}

fn managed(
    name: &str,
    idp: &TestIssuer,
    scopes: &[&str],
    managed: serde_json::Value,
) -> CognitoClient {
    let spec: CognitoClientSpec = serde_json::from_value(serde_json::json!({
        "userPoolId": POOL,
        "tokenEndpoint": idp.token_endpoint(),
        "scopes": scopes,
        "source": {"managed": managed},
        "target": {"secretName": format!("{name}-credentials")},
    }))
    .unwrap();
    CognitoClient::new(name, spec)
}

const BOTH: &[&str] = &["premium_api/read", "premium_api/write"];

async fn credentials(
    client: &kube::Client,
    ns: &str,
    name: &str,
) -> std::collections::BTreeMap<String, String> {
    data(
        &Api::<Secret>::namespaced(client.clone(), ns)
            .get(&format!("{name}-credentials"))
            .await
            .unwrap(),
    )
}

/// How many secrets the pool's client `id` has.
fn secrets_of(idp: &TestIssuer, id: &str) -> usize {
    idp.pool()
        .clients()
        .into_iter()
        .find(|c| c.client_id == id)
        .map_or(0, |c| c.secrets)
}

/// How many of the pool's app clients are named `name`.
fn clients_named(idp: &TestIssuer, name: &str) -> usize {
    idp.pool()
        .clients()
        .iter()
        .filter(|c| c.client_name == name)
        .count()
}

/// Whether `secret` gets a token for `id` from the token endpoint right now.
async fn works(idp: &TestIssuer, id: &str, secret: &str) -> bool {
    reqwest::Client::new()
        .post(idp.token_endpoint())
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
        == 200
}

async fn condition(
    client: &kube::Client,
    ns: &str,
    name: &str,
    type_: &str,
) -> Option<(String, String)> {
    let cc = Api::<CognitoClient>::namespaced(client.clone(), ns)
        .get(name)
        .await
        .ok()?;
    let c = cc
        .status?
        .conditions
        .into_iter()
        .find(|c| c.type_ == type_)?;
    Some((c.status, c.reason))
}

/// Sets the rotate-secret annotation to `value`.
async fn request_rotation(client: &kube::Client, ns: &str, name: &str, value: &str) {
    Api::<CognitoClient>::namespaced(client.clone(), ns)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({
                "metadata": {"annotations": {ROTATE_SECRET_ANNOTATION: value}}
            })),
        )
        .await
        .unwrap();
}

async fn wait_rotating(client: &kube::Client, ns: &str, name: &str, state: &str, secs: u64) {
    wait_for(
        &format!("{name} Rotating={state}"),
        Duration::from_secs(secs),
        || async {
            condition(client, ns, name, "Rotating")
                .await
                .filter(|(s, _)| s == state)
                .map(|_| ())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requested_rotation_keeps_the_old_secret_for_the_overlap_then_deletes_it() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-rotate").await;
    let idp = idp();
    let op = operator(&client, &ns, &idp).await;
    create(
        &client,
        &ns,
        &managed(
            "r",
            &idp,
            BOTH,
            serde_json::json!({"secretRotation": {"interval": "720h", "overlap": "4s"}}),
        ),
    )
    .await;
    wait_reason(&client, &ns, "r", "Synced", 30).await;
    wait_rotating(&client, &ns, "r", "False", 10).await;
    let old = credentials(&client, &ns, "r").await;
    let id = old["client_id"].clone();
    assert!(works(&idp, &id, &old["client_secret"]).await);
    assert_eq!(secrets_of(&idp, &id), 1);
    let cc = Api::<CognitoClient>::namespaced(client.clone(), &ns)
        .get("r")
        .await
        .unwrap();
    let status = cc.status.unwrap();
    assert!(
        status.last_rotation_time.is_none(),
        "the creation secret is not a rotation"
    );
    assert!(
        status.next_rotation_time.is_some(),
        "a schedule shows the next rotation"
    );

    request_rotation(&client, &ns, "r", "now").await;
    wait_rotating(&client, &ns, "r", "True", 20).await;
    let new = credentials(&client, &ns, "r").await;
    assert_eq!(new["client_id"], id);
    assert_ne!(new["client_secret"], old["client_secret"]);
    // During the overlap both work: callers move over at their own pace.
    assert_eq!(secrets_of(&idp, &id), 2);
    assert!(works(&idp, &id, &old["client_secret"]).await);
    assert!(works(&idp, &id, &new["client_secret"]).await);
    wait_event(&client, &ns, "r", "SecretRotated").await;

    wait_rotating(&client, &ns, "r", "False", 30).await;
    assert_eq!(secrets_of(&idp, &id), 1);
    assert!(
        !works(&idp, &id, &old["client_secret"]).await,
        "the old secret is deleted"
    );
    assert!(works(&idp, &id, &new["client_secret"]).await);
    wait_event(&client, &ns, "r", "OldSecretDeleted").await;
    let status = Api::<CognitoClient>::namespaced(client.clone(), &ns)
        .get("r")
        .await
        .unwrap()
        .status
        .unwrap();
    assert!(status.last_rotation_time.is_some());
    assert_eq!(status.rotation_request.as_deref(), Some("now"));

    // The same annotation value again is no new request.
    let adds = idp.admin.calls("AddUserPoolClientSecret");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(idp.admin.calls("AddUserPoolClientSecret"), adds);
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_rotates_and_a_restart_mid_overlap_resumes_without_a_third_secret() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-schedule").await;
    let idp = idp();
    let op = operator(&client, &ns, &idp).await;
    create(
        &client,
        &ns,
        &managed(
            "s",
            &idp,
            BOTH,
            serde_json::json!({"secretRotation": {"interval": "6s", "overlap": "5s"}}),
        ),
    )
    .await;
    wait_reason(&client, &ns, "s", "Synced", 30).await;
    let first = credentials(&client, &ns, "s").await;
    let id = first["client_id"].clone();
    // The schedule starts a rotation by itself.
    wait_rotating(&client, &ns, "s", "True", 30).await;
    // Stop in the overlap, start again: the record on the Secret says where things stand.
    op.stop().await.unwrap();
    assert_eq!(secrets_of(&idp, &id), 2);
    let op = operator(&client, &ns, &idp).await;
    let mut most = 0;
    wait_for(
        "the overlap finished after the restart",
        Duration::from_secs(30),
        || {
            most = most.max(secrets_of(&idp, &id));
            let client = client.clone();
            let ns = ns.clone();
            async move {
                condition(&client, &ns, "s", "Rotating")
                    .await
                    .filter(|(s, _)| s == "False")
                    .map(|_| ())
            }
        },
    )
    .await;
    assert!(most <= 2, "never a third secret");
    let now = credentials(&client, &ns, "s").await;
    assert_ne!(now["client_secret"], first["client_secret"]);
    assert!(works(&idp, &id, &now["client_secret"]).await);
    assert!(!works(&idp, &id, &first["client_secret"]).await);
    assert_eq!(
        clients_named(&idp, &format!("{ns}-s")),
        1,
        "one app client throughout"
    );
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_an_interrupted_rotation_added_is_deleted_before_the_next_one() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-orphan").await;
    let idp = idp();
    let op = operator(&client, &ns, &idp).await;
    create(
        &client,
        &ns,
        &managed(
            "o",
            &idp,
            BOTH,
            serde_json::json!({"secretRotation": {"interval": "720h", "overlap": "2s"}}),
        ),
    )
    .await;
    wait_reason(&client, &ns, "o", "Synced", 30).await;
    let before = credentials(&client, &ns, "o").await;
    let id = before["client_id"].clone();
    // What a crash right after AddUserPoolClientSecret leaves: a second secret nobody stored.
    let sdk = aws_sdk_cognitoidentityprovider::Client::new(&aws_at(idp.admin_endpoint()).await);
    sdk.add_user_pool_client_secret()
        .user_pool_id(POOL)
        .client_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(secrets_of(&idp, &id), 2);
    request_rotation(&client, &ns, "o", "1").await;
    wait_event(&client, &ns, "o", "OrphanSecretDeleted").await;
    // Ours, then the operator's refused one (LimitExceededException is final, not retried as
    // the SDK would a throttle), then the one after the orphan went.
    assert_eq!(idp.admin.calls("AddUserPoolClientSecret"), 3);
    wait_rotating(&client, &ns, "o", "False", 30).await;
    let after = credentials(&client, &ns, "o").await;
    assert_eq!(secrets_of(&idp, &id), 1);
    assert!(works(&idp, &id, &after["client_secret"]).await);
    assert!(!works(&idp, &id, &before["client_secret"]).await);
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_no_resource_server_grants_is_reported_and_retried_slowly_until_defined() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-scope").await;
    let idp = idp();
    let op = operator_with(
        &client,
        Settings {
            retry_base_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(4),
            ..namespace_settings(&ns)
        },
        &idp,
    )
    .await;
    create(
        &client,
        &ns,
        &managed(
            "u",
            &idp,
            &["premium_api/read", "reports/export"],
            serde_json::json!({}),
        ),
    )
    .await;
    wait_reason(&client, &ns, "u", "UnknownScope", 30).await;
    let event = wait_event(&client, &ns, "u", "UnknownScope").await;
    assert!(
        event
            .note
            .unwrap_or_default()
            .contains("ScopeDoesNotExistException")
    );
    // Backing off, not a storm: over 8 s at most a handful of attempts (1 + 2 + 4 s apart).
    let start = idp.admin.calls("CreateUserPoolClient");
    tokio::time::sleep(Duration::from_secs(8)).await;
    let attempts = idp.admin.calls("CreateUserPoolClient") - start;
    assert!(attempts <= 4, "{attempts} create attempts in 8 s");
    assert_eq!(clients_named(&idp, &format!("{ns}-u")), 0);
    // Once a resource server defines the scope, the next attempt succeeds.
    let sdk = aws_sdk_cognitoidentityprovider::Client::new(&aws_at(idp.admin_endpoint()).await);
    sdk.create_resource_server()
        .user_pool_id(POOL)
        .identifier("reports")
        .name("reports")
        .scopes(
            aws_sdk_cognitoidentityprovider::types::ResourceServerScopeType::builder()
                .scope_name("export")
                .scope_description("export")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    wait_reason(&client, &ns, "u", "Synced", 30).await;
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_budget_keeps_the_operator_under_cognitos_quota() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-throttle").await;
    let idp = idp();
    // Cognito's quota here: 8 requests a second. The operator's own budget: 5.
    idp.admin.set_request_rate(Some(8.0));
    let settings = Settings {
        cognito_rate_limit: std::num::NonZeroU32::new(5),
        ..namespace_settings(&ns)
    };
    let op = operator_with(&client, settings, &idp).await;
    for i in 0..15 {
        create(
            &client,
            &ns,
            &managed(&format!("t{i}"), &idp, BOTH, serde_json::json!({})),
        )
        .await;
    }
    for i in 0..15 {
        wait_reason(&client, &ns, &format!("t{i}"), "Synced", 60).await;
    }
    // Every request the operator sent was answered, none throttled: the SDK retried nothing.
    assert_eq!(
        idp.admin.total_calls() as u64,
        op.metrics.cognito_request_count(),
        "throttled attempts would show as extra calls: {:?}",
        idp.admin.calls_by_operation()
    );
    op.stop().await.unwrap();

    // Without the budget the same burst is throttled, and still converges (backoff, retries).
    let ns = namespace(&client, "op-throttle-free").await;
    idp.admin.reset_counters();
    idp.admin.set_request_rate(Some(3.0));
    let op = operator(&client, &ns, &idp).await;
    for i in 0..15 {
        create(
            &client,
            &ns,
            &managed(&format!("t{i}"), &idp, BOTH, serde_json::json!({})),
        )
        .await;
    }
    for i in 0..15 {
        wait_reason(&client, &ns, &format!("t{i}"), "Synced", 120).await;
    }
    assert!(
        idp.admin.total_calls() as u64 > op.metrics.cognito_request_count(),
        "some attempts were throttled and retried: {:?}",
        idp.admin.calls_by_operation()
    );
    op.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_server_defining_the_scope_wakes_the_waiting_client() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "op-wake").await;
    let idp = idp();
    // A backoff far longer than this test: only the resource server's arrival can retry.
    let op = operator_with(
        &client,
        Settings {
            retry_base_delay: Duration::from_secs(120),
            retry_max_delay: Duration::from_secs(300),
            ..namespace_settings(&ns)
        },
        &idp,
    )
    .await;
    create(
        &client,
        &ns,
        &managed("w", &idp, &["billing/read"], serde_json::json!({})),
    )
    .await;
    wait_reason(&client, &ns, "w", "UnknownScope", 30).await;
    common::resource_server::create_rs(
        &client,
        &ns,
        &common::resource_server::resource_server("billing", POOL, "billing", &["read"]),
    )
    .await;
    // Within a minute although the next retry was two minutes away.
    wait_reason(&client, &ns, "w", "Synced", 60).await;
    let creates = idp.admin.calls("CreateUserPoolClient");
    assert!(
        creates <= 3,
        "refused before (the status write re-triggers once), then created: {creates}"
    );
    assert_eq!(clients_named(&idp, &format!("{ns}-w")), 1);
    op.stop().await.unwrap();
}
