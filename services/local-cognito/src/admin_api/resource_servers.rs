//! Development and tests only: the resource-server operations' requests and answers
//! (CreateResourceServer, DescribeResourceServer, UpdateResourceServer, DeleteResourceServer,
//! ListResourceServers, as the Cognito API reference shapes them). Create's and Update's
//! requests are a `ResourceServerType`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::admin_api::{ApiError, Empty, ListRequest, run};
use crate::pool::{Pool, ResourceServer};

/// DescribeResourceServer's and DeleteResourceServer's request.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServerRef {
    user_pool_id: String,
    identifier: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ServerAnswer {
    resource_server: ResourceServer,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAnswer {
    resource_servers: Vec<ResourceServer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// Serves `operation` when it is a resource-server operation.
pub(super) fn handle(pool: &Pool, operation: &str, body: &[u8]) -> Option<Result<Value, ApiError>> {
    let answer = |resource_server| ServerAnswer { resource_server };
    Some(match operation {
        "CreateResourceServer" => run(body, |server: ResourceServer| {
            pool.create_resource_server(server).map(answer)
        }),
        "DescribeResourceServer" => run(body, |r: ServerRef| {
            pool.describe_resource_server(&r.user_pool_id, &r.identifier)
                .map(answer)
        }),
        "UpdateResourceServer" => run(body, |server: ResourceServer| {
            pool.update_resource_server(server).map(answer)
        }),
        "DeleteResourceServer" => run(body, |r: ServerRef| {
            pool.delete_resource_server(&r.user_pool_id, &r.identifier)
                .map(|()| Empty {})
        }),
        "ListResourceServers" => run(body, |r: ListRequest| {
            pool.list_resource_servers(&r.user_pool_id, r.max_results, r.next_token.as_deref())
                .map(|page| ListAnswer {
                    resource_servers: page.items,
                    next_token: page.next_token,
                })
        }),
        _ => return None,
    })
}
