//! Development and tests only: the client-secret operations' requests and answers
//! (AddUserPoolClientSecret, ListUserPoolClientSecrets, DeleteUserPoolClientSecret, as the
//! Cognito API reference shapes them).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::admin_api::{ApiError, Empty, run};
use crate::pool::{ClientSecret, Pool};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddRequest {
    user_pool_id: String,
    client_id: String,
    client_secret: Option<String>,
}

/// ListUserPoolClientSecrets' request (its `NextToken` is accepted and ignored: Cognito
/// returns both secrets at once).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    user_pool_id: String,
    client_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteRequest {
    user_pool_id: String,
    client_id: String,
    client_secret_id: String,
}

/// `ClientSecretDescriptorType`: the value only when Cognito generated it, in Add's answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Descriptor {
    client_secret_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret_value: Option<String>,
    /// Epoch seconds.
    client_secret_create_date: f64,
}

impl Descriptor {
    fn of(secret: &ClientSecret, with_value: bool) -> Self {
        Self {
            client_secret_id: secret.id.clone(),
            client_secret_value: with_value.then(|| secret.value().to_owned()),
            client_secret_create_date: secret.created,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AddAnswer {
    client_secret_descriptor: Descriptor,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAnswer {
    client_secrets: Vec<Descriptor>,
}

/// Serves `operation` when it is a client-secret operation.
pub(super) fn handle(pool: &Pool, operation: &str, body: &[u8]) -> Option<Result<Value, ApiError>> {
    Some(match operation {
        "AddUserPoolClientSecret" => run(body, |r: AddRequest| {
            pool.add_client_secret(&r.user_pool_id, &r.client_id, r.client_secret)
                .map(|(secret, generated)| AddAnswer {
                    client_secret_descriptor: Descriptor::of(&secret, generated),
                })
        }),
        "ListUserPoolClientSecrets" => run(body, |r: ListRequest| {
            pool.list_client_secrets(&r.user_pool_id, &r.client_id)
                .map(|secrets| ListAnswer {
                    client_secrets: secrets.iter().map(|s| Descriptor::of(s, false)).collect(),
                })
        }),
        "DeleteUserPoolClientSecret" => run(body, |r: DeleteRequest| {
            pool.delete_client_secret(&r.user_pool_id, &r.client_id, &r.client_secret_id)
                .map(|()| Empty {})
        }),
        _ => return None,
    })
}
