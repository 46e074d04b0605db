//! The admin API driven by the real AWS SDK (aws-sdk-cognitoidentityprovider) over HTTP, and its
//! shared state with the token endpoint: what the SDK creates, rotates or deletes is what
//! `/oauth2/token` accepts at once.

use std::time::Duration;

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::operation::add_user_pool_client_secret::builders::AddUserPoolClientSecretFluentBuilder;
use aws_sdk_cognitoidentityprovider::operation::create_user_pool_client::builders::CreateUserPoolClientFluentBuilder;
use aws_sdk_cognitoidentityprovider::operation::delete_user_pool_client_secret::builders::DeleteUserPoolClientSecretFluentBuilder;
use aws_sdk_cognitoidentityprovider::types::{
    OAuthFlowType, ResourceServerScopeType, TimeUnitsType, TokenValidityUnitsType,
    UserPoolClientType,
};
use base64::Engine;
use local_cognito::faults::TestIssuer;
use local_cognito::issuer::{AppClient, Config};
use serde_json::Value;

const POOL: &str = "us-east-1_AdminApi1";
const READ: &str = "premium_api/read";
const WRITE: &str = "premium_api/write";

fn issuer() -> TestIssuer {
    // The configured client's scope implies the resource server `configured_api`.
    TestIssuer::start(Config::new(
        POOL,
        vec![AppClient::new(
            "configured",
            "configured-secret",
            ["configured_api/read"],
        )],
    ))
}

/// The SDK as the operator builds it, pointed at the test server; no retries unless asked.
fn sdk(issuer: &TestIssuer, retry: RetryConfig) -> Client {
    let config = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "test-secret",
            None,
            None,
            "test",
        ))
        .endpoint_url(issuer.admin_endpoint())
        .retry_config(retry)
        .build();
    Client::from_conf(config)
}

fn scope(name: &str) -> ResourceServerScopeType {
    ResourceServerScopeType::builder()
        .scope_name(name)
        .scope_description(format!("{name} access"))
        .build()
        .unwrap()
}

async fn premium_api(client: &Client) {
    client
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("premium_api")
        .name("Premium API")
        .scopes(scope("read"))
        .scopes(scope("write"))
        .send()
        .await
        .unwrap();
}

/// The test server, an SDK client without retries, and the resource server `premium_api`.
async fn with_premium_api() -> (TestIssuer, Client) {
    let issuer = issuer();
    let client = sdk(&issuer, RetryConfig::disabled());
    premium_api(&client).await;
    (issuer, client)
}

/// CreateUserPoolClient of a client-credentials client with a generated secret, to complete.
fn create_m2m(client: &Client, name: &str) -> CreateUserPoolClientFluentBuilder {
    client
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name(name)
        .generate_secret(true)
        .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
        .allowed_o_auth_flows_user_pool_client(true)
}

/// AddUserPoolClientSecret for the client `id`, to complete.
fn add_secret(client: &Client, id: &str) -> AddUserPoolClientSecretFluentBuilder {
    client
        .add_user_pool_client_secret()
        .user_pool_id(POOL)
        .client_id(id)
}

/// DeleteUserPoolClientSecret for the client `id`, to complete.
fn delete_secret(client: &Client, id: &str) -> DeleteUserPoolClientSecretFluentBuilder {
    client
        .delete_user_pool_client_secret()
        .user_pool_id(POOL)
        .client_id(id)
}

/// DescribeUserPoolClient of a client that exists.
async fn describe(client: &Client, id: &str) -> UserPoolClientType {
    let described = client
        .describe_user_pool_client()
        .user_pool_id(POOL)
        .client_id(id);
    described.send().await.unwrap().user_pool_client.unwrap()
}

/// A client-credentials client with a generated secret and `scopes`.
async fn m2m_client(client: &Client, name: &str, scopes: &[&str]) -> UserPoolClientType {
    let mut request = create_m2m(client, name);
    for scope in scopes {
        request = request.allowed_o_auth_scopes(*scope);
    }
    request.send().await.unwrap().user_pool_client.unwrap()
}

/// Asks the token endpoint for a token: `(status, body)`.
async fn token(issuer: &TestIssuer, id: &str, secret: &str, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend(scope.map(|s| ("scope", s)));
    let response = reqwest::Client::new()
        .post(issuer.token_endpoint())
        .basic_auth(id, Some(secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn claims(token: &Value) -> Value {
    let jwt = token["access_token"].as_str().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn code<E: ProvideErrorMetadata>(error: &E) -> String {
    error.code().unwrap_or("<none>").to_owned()
}

#[tokio::test]
async fn resource_servers_are_created_described_updated_listed_and_deleted() {
    let (issuer, client) = with_premium_api().await;
    let described = client
        .describe_resource_server()
        .user_pool_id(POOL)
        .identifier("premium_api")
        .send()
        .await
        .unwrap()
        .resource_server
        .unwrap();
    assert_eq!(described.name(), Some("Premium API"));
    assert_eq!(described.user_pool_id(), Some(POOL));
    let names: Vec<_> = described.scopes().iter().map(|s| s.scope_name()).collect();
    assert_eq!(names, ["read", "write"]);

    let again = client
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("premium_api")
        .name("Other")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&again), "InvalidParameterException");

    let updated = client
        .update_resource_server()
        .user_pool_id(POOL)
        .identifier("premium_api")
        .name("Renamed")
        .scopes(scope("admin"))
        .send()
        .await
        .unwrap()
        .resource_server
        .unwrap();
    assert_eq!(updated.name(), Some("Renamed"));
    assert_eq!(updated.scopes().len(), 1);

    // With `configured_api` (implied by the configured client), three servers: two pages of 2.
    client
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("https://reports.example.com")
        .name("Reports")
        .send()
        .await
        .unwrap();
    let first = client
        .list_resource_servers()
        .user_pool_id(POOL)
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.resource_servers().len(), 2);
    let second = client
        .list_resource_servers()
        .user_pool_id(POOL)
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.resource_servers().len(), 1);
    assert_eq!(second.next_token(), None);
    let mut identifiers: Vec<_> = first
        .resource_servers()
        .iter()
        .chain(second.resource_servers())
        .map(|s| s.identifier().unwrap())
        .collect();
    identifiers.sort();
    assert_eq!(
        identifiers,
        [
            "configured_api",
            "https://reports.example.com",
            "premium_api"
        ]
    );

    client
        .delete_resource_server()
        .user_pool_id(POOL)
        .identifier("premium_api")
        .send()
        .await
        .unwrap();
    let gone = client
        .describe_resource_server()
        .user_pool_id(POOL)
        .identifier("premium_api")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
    let other_pool = client
        .list_resource_servers()
        .user_pool_id("us-east-1_Other1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&other_pool), "ResourceNotFoundException");
    assert_eq!(issuer.pool().resource_servers().len(), 2);
}

#[tokio::test]
async fn a_created_client_gets_tokens_at_once_until_deleted() {
    let (issuer, client) = with_premium_api().await;
    let created = create_m2m(&client, "orders-service")
        .allowed_o_auth_scopes(READ)
        .allowed_o_auth_scopes(WRITE)
        .access_token_validity(10)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .access_token(TimeUnitsType::Minutes)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    let id = created.client_id().unwrap();
    let secret = created.client_secret().unwrap();
    assert_eq!(created.client_name(), Some("orders-service"));
    assert_eq!(created.user_pool_id(), Some(POOL));
    assert!(created.creation_date().is_some() && created.last_modified_date().is_some());
    assert_eq!(created.refresh_token_validity(), 30);

    let (status, body) = token(&issuer, id, secret, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 600);
    let claims = claims(&body);
    assert_eq!(claims["client_id"], id);
    assert_eq!(claims["scope"], format!("{READ} {WRITE}"));

    // Update replaces: the validity returns to the default and the scopes shrink.
    let updated = client
        .update_user_pool_client()
        .user_pool_id(POOL)
        .client_id(id)
        .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_scopes(READ)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    assert_eq!(updated.client_name(), Some("orders-service"));
    assert_eq!(updated.access_token_validity(), None);
    assert_eq!(updated.client_secret(), Some(secret));
    assert!(
        updated.last_modified_date().unwrap().secs() >= created.creation_date().unwrap().secs()
    );
    let (status, body) = token(&issuer, id, secret, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(
        token(&issuer, id, secret, Some(WRITE)).await.1["error"],
        "invalid_scope"
    );

    let described = describe(&client, id).await;
    assert_eq!(described.allowed_o_auth_scopes(), [READ]);

    client
        .delete_user_pool_client()
        .user_pool_id(POOL)
        .client_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        token(&issuer, id, secret, None).await.1["error"],
        "invalid_client"
    );
    let gone = client
        .describe_user_pool_client()
        .user_pool_id(POOL)
        .client_id(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
    let gone = client
        .delete_user_pool_client()
        .user_pool_id(POOL)
        .client_id(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
}

#[tokio::test]
async fn invalid_clients_are_refused_with_cognitos_exceptions() {
    let (issuer, client) = with_premium_api().await;
    let base = || create_m2m(&client, "bad").allowed_o_auth_scopes(READ);
    let error = base()
        .allowed_o_auth_scopes("premium_api/delete")
        .send()
        .await
        .unwrap_err();
    let service = error.as_service_error().unwrap();
    assert!(service.is_scope_does_not_exist_exception(), "{service:?}");
    assert!(service.message().unwrap().contains("premium_api/delete"));

    let error = base()
        .access_token_validity(2)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .access_token(TimeUnitsType::Days)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let service = error.as_service_error().unwrap();
    assert!(service.is_invalid_parameter_exception());
    assert!(
        service.message().unwrap().contains("AccessTokenValidity"),
        "{service:?}"
    );

    let error = base()
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_invalid_o_auth_flow_exception()
    );
    let error = base().generate_secret(false).send().await.unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_invalid_o_auth_flow_exception()
    );
    let error = base()
        .allowed_o_auth_flows_user_pool_client(false)
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_invalid_o_auth_flow_exception()
    );
    let error = base()
        .user_pool_id("us-east-1_Other1")
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_resource_not_found_exception()
    );

    // Nothing of the refused requests was created: only the configured client is there.
    let names: Vec<_> = issuer
        .pool()
        .clients()
        .into_iter()
        .map(|c| c.client_name)
        .collect();
    assert_eq!(names, ["configured"]);
    let updated = client
        .update_user_pool_client()
        .user_pool_id(POOL)
        .client_id("nobody")
        .send()
        .await
        .unwrap_err();
    assert!(
        updated
            .as_service_error()
            .unwrap()
            .is_resource_not_found_exception()
    );
}

#[tokio::test]
async fn clients_are_listed_page_by_page() {
    let (issuer, client) = with_premium_api().await;
    let mut created = vec!["configured".to_owned()];
    for i in 0..4 {
        created.push(
            m2m_client(&client, &format!("app-{i}"), &[READ])
                .await
                .client_id
                .unwrap(),
        );
    }
    let pages: Vec<_> = client
        .list_user_pool_clients()
        .user_pool_id(POOL)
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let mut listed: Vec<_> = pages
        .iter()
        .flat_map(|p| p.user_pool_clients())
        .map(|c| c.client_id().unwrap().to_owned())
        .collect();
    listed.sort();
    created.sort();
    assert_eq!(listed, created);
    let too_many = client
        .list_user_pool_clients()
        .user_pool_id(POOL)
        .max_results(61)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&too_many), "InvalidParameterException");
    assert_eq!(issuer.admin.calls("ListUserPoolClients"), 4);
    assert_eq!(issuer.admin.calls("CreateUserPoolClient"), 4);
    assert_eq!(issuer.admin.total_calls(), 9);
}

#[tokio::test]
async fn secrets_rotate_two_at_a_time() {
    let (issuer, client) = with_premium_api().await;
    let created = m2m_client(&client, "rotating", &[READ]).await;
    let id = created.client_id().unwrap();
    let old = created.client_secret().unwrap();

    let added = add_secret(&client, id).send().await.unwrap();
    let added = added.client_secret_descriptor().unwrap();
    let new = added.client_secret_value().unwrap();
    assert!(
        added
            .client_secret_id()
            .unwrap()
            .starts_with(&format!("{id}--"))
    );
    assert!(added.client_secret_create_date().is_some());
    assert_eq!(token(&issuer, id, old, None).await.0, 200);
    assert_eq!(token(&issuer, id, new, None).await.0, 200);
    assert_eq!(describe(&client, id).await.client_secret(), Some(new));

    let listed = client
        .list_user_pool_client_secrets()
        .user_pool_id(POOL)
        .client_id(id)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = listed
        .client_secrets()
        .iter()
        .map(|s| s.client_secret_id().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(
        listed
            .client_secrets()
            .iter()
            .all(|s| s.client_secret_value().is_none())
    );

    let third = add_secret(&client, id).send().await.unwrap_err();
    assert!(
        third
            .as_service_error()
            .unwrap()
            .is_limit_exceeded_exception()
    );

    delete_secret(&client, id)
        .client_secret_id(&ids[0])
        .send()
        .await
        .unwrap();
    assert_eq!(
        token(&issuer, id, old, None).await.1["error"],
        "invalid_client"
    );
    assert_eq!(token(&issuer, id, new, None).await.0, 200);
    let last = delete_secret(&client, id)
        .client_secret_id(&ids[1])
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&last), "InvalidParameterException");
    let unknown = delete_secret(&client, id)
        .client_secret_id(&ids[0])
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&unknown), "ResourceNotFoundException");

    // A chosen secret works at once and is not echoed back.
    let chosen = "Chosen_secret+of_thirty_two_char";
    let added = add_secret(&client, id)
        .client_secret(chosen)
        .send()
        .await
        .unwrap();
    assert_eq!(
        added
            .client_secret_descriptor()
            .unwrap()
            .client_secret_value(),
        None
    );
    assert_eq!(token(&issuer, id, chosen, None).await.0, 200);
    let short = add_secret(&client, "configured")
        .client_secret("short")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&short), "InvalidParameterException");
    let summary = issuer
        .pool()
        .clients()
        .into_iter()
        .find(|c| c.client_id == id)
        .unwrap();
    assert_eq!(summary.secrets, 2);
}

#[tokio::test]
async fn above_the_quota_the_sdk_sees_throttling_and_retries() {
    let issuer = issuer();
    let retries = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(10));
    let client = sdk(&issuer, retries);
    // One request a thousand seconds: the first passes, the next ones are throttled.
    issuer.admin.set_request_rate(Some(0.001));
    client
        .list_user_pool_clients()
        .user_pool_id(POOL)
        .send()
        .await
        .unwrap();
    let error = client
        .list_user_pool_clients()
        .user_pool_id(POOL)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&error), "TooManyRequestsException");
    assert!(
        error
            .as_service_error()
            .unwrap()
            .is_too_many_requests_exception()
    );
    // The SDK classified it as retryable throttling: three attempts in all.
    assert_eq!(issuer.admin.calls("ListUserPoolClients"), 4);
    issuer.admin.set_request_rate(None);
    client
        .list_user_pool_clients()
        .user_pool_id(POOL)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_held_create_has_created_the_client_before_anyone_sees_the_answer() {
    let (issuer, client) = with_premium_api().await;
    issuer.admin.hold_after_apply("CreateUserPoolClient");
    let pending = tokio::spawn({
        let client = client.clone();
        async move { m2m_client(&client, "held", &[READ]).await }
    });
    tokio::time::timeout(
        Duration::from_secs(60),
        issuer.admin.wait_applied("CreateUserPoolClient", 1),
    )
    .await
    .expect("the held operation is applied");
    let held = issuer
        .pool()
        .clients()
        .into_iter()
        .find(|c| c.client_name == "held")
        .expect("created");
    assert_eq!(
        (held.secrets, held.allowed_scopes.as_slice()),
        (1, [READ.to_owned()].as_slice())
    );
    // Other operations answer meanwhile; the held answer has not come.
    client
        .list_user_pool_clients()
        .user_pool_id(POOL)
        .send()
        .await
        .unwrap();
    assert!(!pending.is_finished());
    issuer.admin.release_hold();
    let created = tokio::time::timeout(Duration::from_secs(60), pending)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.client_id(), Some(held.client_id.as_str()));
}

#[tokio::test]
async fn protocol_errors_are_aws_shaped() {
    let issuer = issuer();
    let post = |target: &'static str, body: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/", issuer.admin_endpoint()))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .body(body)
            .send()
    };
    let unknown = post("AWSCognitoIdentityProviderService.AdminCreateUser", "{}")
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["__type"],
        "UnknownOperationException"
    );
    let malformed = post("AWSCognitoIdentityProviderService.ListUserPoolClients", "{")
        .await
        .unwrap();
    assert_eq!(
        malformed.headers()["content-type"],
        "application/x-amz-json-1.1"
    );
    assert_eq!(
        malformed.json::<Value>().await.unwrap()["__type"],
        "SerializationException"
    );
    let missing = post(
        "AWSCognitoIdentityProviderService.ListUserPoolClients",
        "{}",
    )
    .await
    .unwrap();
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["__type"], "InvalidParameterException");
    assert!(
        body["message"].as_str().unwrap().contains("UserPoolId"),
        "{body}"
    );
    let listed = post(
        "AWSCognitoIdentityProviderService.ListUserPoolClients",
        r#"{"UserPoolId":"us-east-1_AdminApi1"}"#,
    )
    .await
    .unwrap();
    let body: Value = listed.json().await.unwrap();
    assert_eq!(body["UserPoolClients"][0]["ClientId"], "configured");
}

#[tokio::test]
async fn only_client_credentials_clients_get_tokens() {
    let issuer = issuer();
    let client = sdk(&issuer, RetryConfig::disabled());
    // A confidential client without OAuth flows authenticates but may not use the grant.
    let plain = client
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name("no-flows")
        .generate_secret(true)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    let (id, secret) = (plain.client_id().unwrap(), plain.client_secret().unwrap());
    assert_eq!(
        token(&issuer, id, secret, None).await.1["error"],
        "unauthorized_client"
    );
    assert_eq!(
        token(&issuer, id, "wrong", None).await.1["error"],
        "invalid_client"
    );
    // A public client has no secret to rotate.
    let public = client
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name("public")
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    assert_eq!(public.client_secret(), None);
    let add = add_secret(&client, public.client_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&add), "InvalidParameterException");
    // The configured client is one of the pool's, with the client-credentials grant.
    let configured = describe(&client, "configured").await;
    assert_eq!(
        configured.allowed_o_auth_flows(),
        [OAuthFlowType::ClientCredentials]
    );
    assert_eq!(configured.client_secret(), Some("configured-secret"));
    assert_eq!(
        token(&issuer, "configured", "configured-secret", None)
            .await
            .0,
        200
    );
}

/// The pool and its domain as a deploy script creates and deletes them with the AWS CLI:
/// Cognito's rules for prefix domains (the pattern, the reserved words) hold here, where moto
/// accepts any string.
#[tokio::test]
async fn the_pool_and_its_domain_follow_cognitos_rules() {
    let (issuer, client) = with_premium_api().await;
    let create_pool = |name: &str| client.create_user_pool().pool_name(name).send();
    let pool = create_pool("cognito-m2m").await.unwrap();
    let pool = pool.user_pool().unwrap();
    assert_eq!((pool.id(), pool.name()), (Some(POOL), Some("cognito-m2m")));
    let again = create_pool("second").await.unwrap_err();
    assert_eq!(code(&again), "LimitExceededException");

    let domain = |prefix: &str| {
        client
            .create_user_pool_domain()
            .user_pool_id(POOL)
            .domain(prefix)
            .send()
    };
    for (prefix, message) in [
        (
            "cognito-m2m-123456789012",
            "Domain cannot contain reserved word: cognito",
        ),
        ("my-aws-m2m", "Domain cannot contain reserved word: aws"),
        ("amazon-m2m", "Domain cannot contain reserved word: amazon"),
        ("M2M", "The domain name contains an invalid character"),
        ("m2m-", "The domain name contains an invalid character"),
    ] {
        let refused = domain(prefix).await.unwrap_err();
        assert_eq!(code(&refused), "InvalidParameterException", "{prefix}");
        assert!(
            refused.message().unwrap_or_default().starts_with(message),
            "{prefix}: {:?}",
            refused.message()
        );
    }
    assert_eq!(issuer.pool().domain(), None);
    domain("m2m-123456789012").await.unwrap();
    assert_eq!(
        code(&domain("m2m-second").await.unwrap_err()),
        "InvalidParameterException"
    );
    let described = client
        .describe_user_pool_domain()
        .domain("m2m-123456789012")
        .send()
        .await
        .unwrap();
    let description = described.domain_description().unwrap();
    assert_eq!(
        (description.user_pool_id(), description.domain()),
        (Some(POOL), Some("m2m-123456789012"))
    );

    let delete_pool = || client.delete_user_pool().user_pool_id(POOL).send();
    let refused = delete_pool().await.unwrap_err();
    assert_eq!(code(&refused), "InvalidParameterException");
    assert!(!issuer.pool().resource_servers().is_empty());
    client
        .delete_user_pool_domain()
        .user_pool_id(POOL)
        .domain("m2m-123456789012")
        .send()
        .await
        .unwrap();
    delete_pool().await.unwrap();
    assert!(issuer.pool().resource_servers().is_empty());
    assert!(issuer.pool().clients().is_empty());
}
