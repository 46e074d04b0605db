//! Development and tests only: Cognito's administrative API for the pool's resource servers,
//! app clients and client secrets, spoken as the AWS SDKs speak it (awsJson1_1: `POST /` with
//! `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target:
//! AWSCognitoIdentityProviderService.<Operation>`; errors `400 {"__type","message"}`;
//! timestamps in epoch seconds). The SigV4 signature is not checked: anyone who reaches the
//! server may change the pool, which is one more reason it is for development and tests only.
//!
//! It changes the same registry ([`crate::pool::Pool`]) the token endpoint reads, so what it
//! does is seen by the next token request. Modules: `user_pools` (the pool and its domain),
//! `resource_servers`, `user_pool_clients`, `client_secrets` (each operation's request and answer), `controls` (call counters, the
//! request-rate quota and the hold fault) and `error` (the one mapping to AWS's error body).

mod client_secrets;
mod controls;
mod error;
mod resource_servers;
mod user_pool_clients;
mod user_pools;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use controls::AdminControls;
pub use error::ApiError;

use crate::issuer::Issuer;
use crate::pool::PoolError;

/// The content type of every request and answer.
pub const AMZ_JSON: &str = "application/x-amz-json-1.1";

/// The `X-Amz-Target` prefix of Cognito user pools' operations.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// The operations served, by name.
pub const OPERATIONS: [&str; 18] = [
    "CreateUserPool",
    "DeleteUserPool",
    "CreateUserPoolDomain",
    "DeleteUserPoolDomain",
    "DescribeUserPoolDomain",
    "CreateResourceServer",
    "DescribeResourceServer",
    "UpdateResourceServer",
    "DeleteResourceServer",
    "ListResourceServers",
    "CreateUserPoolClient",
    "DescribeUserPoolClient",
    "UpdateUserPoolClient",
    "DeleteUserPoolClient",
    "ListUserPoolClients",
    "AddUserPoolClientSecret",
    "ListUserPoolClientSecrets",
    "DeleteUserPoolClientSecret",
];

/// The request of ListResourceServers and ListUserPoolClients.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    user_pool_id: String,
    max_results: Option<i32>,
    next_token: Option<String>,
}

/// An answer with no members (`{}`), as AWS sends for deletions.
#[derive(Serialize)]
struct Empty {}

/// Deserialises `body` as the operation's request, performs it with `perform` and serialises
/// its answer.
fn run<R: DeserializeOwned, A: Serialize>(
    body: &[u8],
    perform: impl FnOnce(R) -> Result<A, PoolError>,
) -> Result<Value, ApiError> {
    let request = serde_json::from_slice(body).map_err(|e| ApiError::from_json(&e))?;
    Ok(serde_json::to_value(perform(request)?).expect("answers serialise"))
}

/// The operation `X-Amz-Target` names, without its prefix.
fn operation(request: &HttpRequest) -> Result<&str, ApiError> {
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    target
        .strip_prefix(TARGET_PREFIX)
        .filter(|op| OPERATIONS.contains(op))
        .ok_or_else(|| ApiError::UnknownOperation(target.to_owned()))
}

/// `POST /`: counts the call, applies the quota, performs the operation on the pool, then
/// (when the hold fault names it) holds the answer.
pub(crate) async fn dispatch(
    request: HttpRequest,
    body: web::Bytes,
    issuer: web::Data<Issuer>,
) -> Result<HttpResponse, ApiError> {
    let operation = operation(&request)?;
    let controls = issuer.admin();
    if !controls.admit(operation) {
        tracing::info!(operation, "admin API request throttled");
        return Err(ApiError::TooManyRequests);
    }
    let pool = issuer.pool();
    let result = user_pools::handle(pool, operation, &body)
        .or_else(|| resource_servers::handle(pool, operation, &body))
        .or_else(|| user_pool_clients::handle(pool, operation, &body))
        .or_else(|| client_secrets::handle(pool, operation, &body))
        .ok_or_else(|| ApiError::UnknownOperation(operation.to_owned()))?;
    match result {
        Ok(answer) => {
            tracing::info!(operation, "admin API operation applied");
            controls.applied_then_hold(operation).await;
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, AMZ_JSON))
                .body(answer.to_string()))
        }
        Err(error) => {
            tracing::info!(operation, exception = error.exception(), %error, "admin API operation refused");
            Err(error)
        }
    }
}
