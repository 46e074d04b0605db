//! CognitoResourceServer helpers: building one, waiting for its status, and the Cognito side.

use std::time::Duration;

use aws_sdk_cognitoidentityprovider::types::{ResourceServerScopeType, ResourceServerType};
use cognito_client_operator::resource_server::{
    CognitoResourceServer, CognitoResourceServerSpec, CognitoResourceServerStatus,
};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};

use super::{unique, wait_for};

/// The CognitoResourceServers of `ns`.
pub fn api(client: &kube::Client, ns: &str) -> Api<CognitoResourceServer> {
    Api::namespaced(client.clone(), ns)
}

/// Merge-patches the resource (spec or metadata).
pub async fn merge(client: &kube::Client, ns: &str, name: &str, patch: serde_json::Value) {
    api(client, ns)
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch CognitoResourceServer");
}

/// Asks the API server to delete the resource.
pub async fn delete(client: &kube::Client, ns: &str, name: &str) {
    api(client, ns)
        .delete(name, &DeleteParams::default())
        .await
        .expect("delete CognitoResourceServer");
}

/// A CognitoResourceServer of `pool` with these scope names (descriptions defaulted).
pub fn resource_server(
    name: &str,
    pool: &str,
    identifier: &str,
    scopes: &[&str],
) -> CognitoResourceServer {
    let scopes: Vec<_> = scopes
        .iter()
        .map(|s| serde_json::json!({"name": s}))
        .collect();
    let spec: CognitoResourceServerSpec = serde_json::from_value(serde_json::json!({
        "userPoolId": pool,
        "identifier": identifier,
        "scopes": scopes,
    }))
    .unwrap();
    CognitoResourceServer::new(name, spec)
}

/// Creates the resource in `ns`.
pub async fn create_rs(
    client: &kube::Client,
    ns: &str,
    rs: &CognitoResourceServer,
) -> CognitoResourceServer {
    Api::<CognitoResourceServer>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), rs)
        .await
        .expect("create CognitoResourceServer")
}

/// The resource once its status describes the current generation with this Ready reason.
pub async fn wait_rs_reason(
    client: &kube::Client,
    ns: &str,
    name: &str,
    reason: &str,
) -> (CognitoResourceServer, CognitoResourceServerStatus) {
    wait_rs_reason_within(client, ns, name, reason, Duration::from_secs(60)).await
}

/// [`wait_rs_reason`] with its own timeout.
pub async fn wait_rs_reason_within(
    client: &kube::Client,
    ns: &str,
    name: &str,
    reason: &str,
    timeout: Duration,
) -> (CognitoResourceServer, CognitoResourceServerStatus) {
    let api = Api::<CognitoResourceServer>::namespaced(client.clone(), ns);
    let what = format!("CognitoResourceServer {ns}/{name} to report {reason}");
    wait_for(&what, timeout, || async {
        let rs = api.get(name).await.ok()?;
        let status = rs.status.clone()?;
        let ready = status.conditions.iter().find(|c| c.type_ == "Ready")?;
        (status.observed_generation == rs.metadata.generation && ready.reason == reason)
            .then_some((rs, status))
    })
    .await
}

/// Waits until the resource is gone from the API server.
pub async fn wait_rs_gone(client: &kube::Client, ns: &str, name: &str) {
    wait_rs_gone_within(client, ns, name, Duration::from_secs(30)).await;
}

/// [`wait_rs_gone`] with its own timeout.
pub async fn wait_rs_gone_within(client: &kube::Client, ns: &str, name: &str, timeout: Duration) {
    let api = Api::<CognitoResourceServer>::namespaced(client.clone(), ns);
    let what = format!("CognitoResourceServer {ns}/{name} to disappear");
    wait_for(&what, timeout, || async {
        api.get_opt(name).await.ok()?.is_none().then_some(())
    })
    .await;
}

/// A fresh user pool in `cognito`; its id.
pub async fn user_pool(cognito: &aws_sdk_cognitoidentityprovider::Client) -> String {
    cognito
        .create_user_pool()
        .pool_name(unique("pool"))
        .send()
        .await
        .expect("create user pool")
        .user_pool()
        .and_then(|p| p.id())
        .expect("pool id")
        .to_owned()
}

/// The resource server as Cognito describes it, `None` when absent.
pub async fn describe(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    identifier: &str,
) -> Option<ResourceServerType> {
    match cognito
        .describe_resource_server()
        .user_pool_id(pool)
        .identifier(identifier)
        .send()
        .await
    {
        Ok(out) => out.resource_server().cloned(),
        Err(e) => {
            use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
            assert_eq!(
                e.code(),
                Some("ResourceNotFoundException"),
                "DescribeResourceServer failed: {e:?}"
            );
            None
        }
    }
}

/// Creates a resource server directly in Cognito (as someone else's tooling would).
pub async fn create_in_cognito(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    identifier: &str,
    name: &str,
    scopes: &[&str],
) {
    cognito
        .create_resource_server()
        .user_pool_id(pool)
        .identifier(identifier)
        .name(name)
        .set_scopes(Some(scope_types(scopes)))
        .send()
        .await
        .expect("create resource server in Cognito");
}

/// `(name, name)` scope types, as the operator writes a scope without a description.
pub fn scope_types(scopes: &[&str]) -> Vec<ResourceServerScopeType> {
    scopes
        .iter()
        .map(|s| {
            ResourceServerScopeType::builder()
                .scope_name(*s)
                .scope_description(*s)
                .build()
                .unwrap()
        })
        .collect()
}

/// The scope names of a described resource server, sorted.
pub fn scope_names(server: &ResourceServerType) -> Vec<String> {
    let mut names: Vec<String> = server
        .scopes()
        .iter()
        .map(|s| s.scope_name().to_owned())
        .collect();
    names.sort();
    names
}
