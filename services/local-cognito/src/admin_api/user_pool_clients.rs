//! Development and tests only: the app-client operations' requests and answers
//! (CreateUserPoolClient, DescribeUserPoolClient, UpdateUserPoolClient, DeleteUserPoolClient,
//! ListUserPoolClients, as the Cognito API reference shapes them).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::admin_api::{ApiError, Empty, ListRequest, run};
use crate::pool::{ClientSettings, Pool, UserPoolClient};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateRequest {
    user_pool_id: String,
    client_name: String,
    #[serde(default)]
    generate_secret: bool,
    #[serde(flatten)]
    settings: ClientSettings,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateRequest {
    user_pool_id: String,
    client_id: String,
    client_name: Option<String>,
    #[serde(flatten)]
    settings: ClientSettings,
}

/// DescribeUserPoolClient's and DeleteUserPoolClient's request.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientRef {
    user_pool_id: String,
    client_id: String,
}

/// `UserPoolClientType`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UserPoolClientType<'a> {
    user_pool_id: &'a str,
    client_name: &'a str,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    /// Epoch seconds, as awsJson1_1 carries timestamps.
    last_modified_date: f64,
    creation_date: f64,
    #[serde(flatten)]
    settings: &'a ClientSettings,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ClientAnswer<'a> {
    user_pool_client: UserPoolClientType<'a>,
}

/// `UserPoolClientDescription`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ClientDescription<'a> {
    client_id: String,
    user_pool_id: &'a str,
    client_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAnswer<'a> {
    user_pool_clients: Vec<ClientDescription<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn answer(pool: &Pool, client: &UserPoolClient) -> Value {
    let answer = ClientAnswer {
        user_pool_client: UserPoolClientType {
            user_pool_id: pool.user_pool_id(),
            client_name: &client.client_name,
            client_id: &client.client_id,
            client_secret: client.client_secret(),
            last_modified_date: client.last_modified_date,
            creation_date: client.creation_date,
            settings: &client.settings,
        },
    };
    serde_json::to_value(answer).expect("an app client serialises")
}

/// Serves `operation` when it is an app-client operation.
pub(super) fn handle(pool: &Pool, operation: &str, body: &[u8]) -> Option<Result<Value, ApiError>> {
    Some(match operation {
        "CreateUserPoolClient" => run(body, |r: CreateRequest| {
            pool.create_user_pool_client(
                &r.user_pool_id,
                &r.client_name,
                r.generate_secret,
                r.settings,
            )
            .map(|client| answer(pool, &client))
        }),
        "DescribeUserPoolClient" => run(body, |r: ClientRef| {
            pool.describe_user_pool_client(&r.user_pool_id, &r.client_id)
                .map(|client| answer(pool, &client))
        }),
        "UpdateUserPoolClient" => run(body, |r: UpdateRequest| {
            pool.update_user_pool_client(
                &r.user_pool_id,
                &r.client_id,
                r.client_name.as_deref(),
                r.settings,
            )
            .map(|client| answer(pool, &client))
        }),
        "DeleteUserPoolClient" => run(body, |r: ClientRef| {
            pool.delete_user_pool_client(&r.user_pool_id, &r.client_id)
                .map(|()| Empty {})
        }),
        "ListUserPoolClients" => run(body, |r: ListRequest| {
            let page = pool.list_user_pool_clients(
                &r.user_pool_id,
                r.max_results,
                r.next_token.as_deref(),
            )?;
            let user_pool_clients = page
                .items
                .into_iter()
                .map(|client| ClientDescription {
                    client_id: client.client_id,
                    user_pool_id: pool.user_pool_id(),
                    client_name: client.client_name,
                })
                .collect();
            Ok(ListAnswer {
                user_pool_clients,
                next_token: page.next_token,
            })
        }),
        _ => return None,
    })
}
