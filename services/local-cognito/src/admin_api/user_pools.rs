//! Development and tests only: the user pool's and its domain's operations' requests and
//! answers (CreateUserPool, DeleteUserPool, CreateUserPoolDomain, DeleteUserPoolDomain,
//! DescribeUserPoolDomain, as the Cognito API reference shapes them), so the AWS CLI commands a
//! deploy guide gives for the pool run here unchanged. CreateUserPool's other members (policies,
//! schema, ...) are accepted and ignored.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::admin_api::{ApiError, Empty, run};
use crate::pool::{Pool, UserPoolDescription};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreatePoolRequest {
    pool_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PoolAnswer {
    user_pool: UserPoolDescription,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolRef {
    user_pool_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DomainRequest {
    user_pool_id: String,
    domain: String,
    custom_domain_config: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeDomainRequest {
    domain: String,
}

/// `DomainDescriptionType`: empty (`{}`) when no pool has the domain, as Cognito answers.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DomainDescription {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_pool_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeDomainAnswer {
    domain_description: DomainDescription,
}

/// Serves `operation` when it is a user pool or domain operation.
pub(super) fn handle(pool: &Pool, operation: &str, body: &[u8]) -> Option<Result<Value, ApiError>> {
    Some(match operation {
        "CreateUserPool" => run(body, |r: CreatePoolRequest| {
            pool.create_user_pool(&r.pool_name)
                .map(|user_pool| PoolAnswer { user_pool })
        }),
        "DeleteUserPool" => run(body, |r: PoolRef| {
            pool.delete_user_pool(&r.user_pool_id).map(|()| Empty {})
        }),
        "CreateUserPoolDomain" => run(body, |r: DomainRequest| {
            pool.create_user_pool_domain(
                &r.user_pool_id,
                &r.domain,
                r.custom_domain_config.is_some(),
            )
            .map(|()| Empty {})
        }),
        "DeleteUserPoolDomain" => run(body, |r: DomainRequest| {
            pool.delete_user_pool_domain(&r.user_pool_id, &r.domain)
                .map(|()| Empty {})
        }),
        "DescribeUserPoolDomain" => run(body, |r: DescribeDomainRequest| {
            let found = pool.domain().filter(|d| *d == r.domain);
            Ok(DescribeDomainAnswer {
                domain_description: DomainDescription {
                    user_pool_id: found.as_ref().map(|_| pool.user_pool_id().to_owned()),
                    status: found.as_ref().map(|_| "ACTIVE"),
                    domain: found,
                },
            })
        }),
        _ => return None,
    })
}
