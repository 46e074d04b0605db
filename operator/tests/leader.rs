//! Leader election through a real Lease: hand-over, expiry, stepping down, and two replicas.

mod common;

use std::time::Duration;

use cognito_client_operator::cognito_client::{CognitoClient, CognitoClientSpec};
use cognito_client_operator::leader::{LeaseElector, LeaseSettings};
use cognito_client_operator::{LeaderElection, Settings};
use common::*;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};

fn settings(name: &str, identity: &str, lease_secs: u64) -> LeaseSettings {
    LeaseSettings {
        name: name.to_owned(),
        identity: identity.to_owned(),
        lease_duration: Duration::from_secs(lease_secs),
        renew_deadline: Duration::from_secs(1),
        retry_period: Duration::from_millis(200),
    }
}

async fn holder(leases: &Api<Lease>, name: &str) -> Option<String> {
    leases.get(name).await.ok()?.spec?.holder_identity
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn electors_take_renew_release_and_expire() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "lease").await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    let name = "op";
    let a = LeaseElector::new(leases.clone(), settings(name, "a", 2));
    let b = LeaseElector::new(leases.clone(), settings(name, "b", 2));

    assert!(
        a.try_acquire_or_renew().await.unwrap(),
        "a creates the lease"
    );
    let managers: Vec<_> = leases
        .get(name)
        .await
        .unwrap()
        .metadata
        .managed_fields
        .into_iter()
        .flatten()
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(
        managers,
        ["cognito-client-operator"],
        "the Lease's field manager"
    );
    assert!(
        !b.try_acquire_or_renew().await.unwrap(),
        "b follows a valid lease"
    );
    let first = leases.get(name).await.unwrap();
    assert!(a.try_acquire_or_renew().await.unwrap(), "a renews");
    let renewed = leases.get(name).await.unwrap();
    assert_ne!(
        first.metadata.resource_version,
        renewed.metadata.resource_version
    );
    assert_eq!(holder(&leases, name).await.as_deref(), Some("a"));

    // Released: b takes it at once.
    a.release().await.unwrap();
    assert!(b.try_acquire_or_renew().await.unwrap());
    assert_eq!(holder(&leases, name).await.as_deref(), Some("b"));
    assert!(!a.try_acquire_or_renew().await.unwrap());

    // b stops renewing: after the lease duration a takes over, counting a transition.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert!(a.try_acquire_or_renew().await.unwrap());
    let taken = leases.get(name).await.unwrap().spec.unwrap();
    assert_eq!(taken.holder_identity.as_deref(), Some("a"));
    assert_eq!(taken.lease_transitions, Some(2));
    // b, coming back, sees it lost.
    assert!(!b.try_acquire_or_renew().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_write_loses_the_race() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "lease-race").await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    let a = LeaseElector::new(leases.clone(), settings("op", "a", 1));
    assert!(a.try_acquire_or_renew().await.unwrap());
    let stale = leases.get("op").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let b = LeaseElector::new(leases.clone(), settings("op", "b", 1));
    assert!(b.try_acquire_or_renew().await.unwrap());
    // Replacing with the old resourceVersion (what a slow competitor would send) is refused.
    let mut write = stale.clone();
    write.spec.as_mut().unwrap().holder_identity = Some("c".into());
    let err = leases
        .replace("op", &PostParams::default(), &write)
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(s) if s.code == 409));
    assert_eq!(holder(&leases, "op").await.as_deref(), Some("b"));
}

fn replica_settings(ns: &str, lease: &str, pod: &str) -> Settings {
    Settings {
        watch_namespaces: vec![ns.to_owned()],
        leader_election: Some(LeaderElection {
            namespace: Some(ns.to_owned()),
            lease_name: lease.to_owned(),
            lease_duration: Duration::from_secs(3),
            renew_deadline: Duration::from_secs(2),
            retry_period: Duration::from_millis(300),
        }),
        replica_identity: pod.to_owned(),
        ..Settings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_only_the_leader_reconciles_and_the_other_takes_over() {
    let client = kube_client(None).await;
    let ns = namespace(&client, "replicas").await;
    let source = unique("replica-source");
    put_source(
        &source,
        r#"{"client_id":"rep","client_secret":"s","token_endpoint":"https://t/oauth2/token"}"#,
    )
    .await;
    let one = RunningOperator::start(client.clone(), replica_settings(&ns, "op", "one")).await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    wait_for("one to lead", Duration::from_secs(10), || async {
        (holder(&leases, "op").await.as_deref() == Some("one")).then_some(())
    })
    .await;
    let two = RunningOperator::start(client.clone(), replica_settings(&ns, "op", "two")).await;
    // The standby is ready (to take over) but does not lead.
    wait_for(
        "two to be ready as standby",
        Duration::from_secs(10),
        || async { (two.http_get("/readyz").await.0 == 200).then_some(()) },
    )
    .await;

    let spec: CognitoClientSpec = serde_json::from_value(serde_json::json!({
        "userPoolId": "us-east-1_Rep", "source": {"secretsManager": {"secretId": source}}
    }))
    .unwrap();
    Api::<CognitoClient>::namespaced(client.clone(), &ns)
        .create(
            &PostParams::default(),
            &CognitoClient::new("first", spec.clone()),
        )
        .await
        .unwrap();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    wait_for("first Secret", Duration::from_secs(20), || async {
        secrets.get_opt("first").await.ok()?.map(|_| ())
    })
    .await;
    // The reconcile that wrote the Secret is counted once it has reported its status.
    wait_for(
        "the leader's reconcile counted",
        Duration::from_secs(10),
        || async { (one.metrics.reconcile_count() > 0).then_some(()) },
    )
    .await;
    assert_eq!(
        two.metrics.reconcile_count(),
        0,
        "the standby reconciles nothing"
    );
    assert!(
        one.http_get("/metrics")
            .await
            .1
            .lines()
            .any(|line| line == "cognito_client_operator_leader 1")
    );
    assert!(
        two.http_get("/metrics")
            .await
            .1
            .lines()
            .any(|line| line == "cognito_client_operator_leader 0")
    );

    // The leader shuts down gracefully (releasing the lease): the standby takes over.
    one.stop().await.unwrap();
    wait_for("two to lead", Duration::from_secs(10), || async {
        (holder(&leases, "op").await.as_deref() == Some("two")).then_some(())
    })
    .await;
    Api::<CognitoClient>::namespaced(client.clone(), &ns)
        .create(
            &PostParams::default(),
            &CognitoClient::new("second", spec.clone()),
        )
        .await
        .unwrap();
    wait_for(
        "second Secret from the new leader",
        Duration::from_secs(20),
        || async { secrets.get_opt("second").await.ok()?.map(|_| ()) },
    )
    .await;
    assert!(two.metrics.reconcile_count() > 0);

    // Someone else grabs the lease: the leader steps down to standby without exiting, and
    // leads again once the intruder's lease has expired.
    let intruder = serde_json::json!({"spec": {"holderIdentity": "intruder",
        "renewTime": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "leaseDurationSeconds": 4}});
    leases
        .patch("op", &PatchParams::default(), &Patch::Merge(&intruder))
        .await
        .unwrap();
    wait_for("two to step down", Duration::from_secs(10), || async {
        two.http_get("/metrics")
            .await
            .1
            .lines()
            .any(|line| line == "cognito_client_operator_leader 0")
            .then_some(())
    })
    .await;
    assert!(
        !two.is_finished(),
        "a replica that lost the lease keeps running"
    );
    assert_eq!(two.http_get("/readyz").await, (200, "Standby".to_owned()));
    assert_eq!(two.http_get("/healthz").await.0, 200);
    let reconciled = two.metrics.reconcile_count();
    wait_for("two to lead again", Duration::from_secs(20), || async {
        (holder(&leases, "op").await.as_deref() == Some("two")).then_some(())
    })
    .await;
    Api::<CognitoClient>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &CognitoClient::new("third", spec))
        .await
        .unwrap();
    wait_for(
        "third Secret from the leader again",
        Duration::from_secs(20),
        || async { secrets.get_opt("third").await.ok()?.map(|_| ()) },
    )
    .await;
    assert!(two.metrics.reconcile_count() > reconciled);
    two.stop().await.unwrap();
}
