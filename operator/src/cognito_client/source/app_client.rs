//! A Cognito app client of the spec's user pool, read with DescribeUserPoolClient.

use cognito_auth::credentials::ClientCredentials;

use crate::cognito_api::CognitoApi;
use crate::cognito_client::CognitoClientSpec;
use crate::error::SyncError;

/// Reads the app client `client_id` of `spec.userPoolId` in the spec's (or the operator's)
/// Region. The spec must name the token endpoint: Cognito does not tell a client where it is.
pub async fn read(
    cognito: &CognitoApi,
    spec_region: Option<&str>,
    spec: &CognitoClientSpec,
    client_id: &str,
) -> Result<ClientCredentials, SyncError> {
    let pool = cognito
        .user_pool(spec_region, &spec.user_pool_id)
        .ok_or(SyncError::NoRegion)?;
    let what = format!("app client {client_id}");
    if spec
        .token_endpoint
        .as_deref()
        .is_none_or(|e| e.trim().is_empty())
    {
        return Err(SyncError::SourceInvalid {
            what,
            detail: "spec.tokenEndpoint is required with an appClient source".into(),
        });
    }
    let client = cognito
        .describe_app_client(&pool, client_id)
        .await?
        .ok_or_else(|| {
            SyncError::SourceNotFound(format!(
                "{what}: not found in user pool {}",
                pool.user_pool_id
            ))
        })?;
    credentials(
        &client.client_id,
        client.client_secret.as_deref(),
        &client.allowed_oauth_scopes,
    )
}

/// Credentials from a DescribeUserPoolClient answer (before [`super::apply_spec`]).
pub fn credentials(
    client_id: &str,
    client_secret: Option<&str>,
    allowed_scopes: &[String],
) -> Result<ClientCredentials, SyncError> {
    // The same constructor (and normalisation) as every other credentials source.
    let creds =
        ClientCredentials::new(client_id, client_secret.unwrap_or_default()).map_err(|_| {
            SyncError::SourceInvalid {
                what: format!("app client {client_id}"),
                detail: "the app client has no secret (create it with GenerateSecret)".into(),
            }
        })?;
    Ok(ClientCredentials {
        scopes: allowed_scopes.to_vec(),
        ..creds
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::Reason;

    #[test]
    fn app_client_without_secret_is_invalid() {
        let err = credentials("c", None, &[]).unwrap_err();
        assert_eq!(err.reason(), Reason::SourceInvalid);
        let err = credentials("c", Some("\n"), &[]).unwrap_err();
        assert_eq!(err.reason(), Reason::SourceInvalid);
        let ok = credentials("c", Some("s"), &["p/read".to_owned()]).unwrap();
        assert_eq!(ok.scopes, ["p/read"]);
        assert_eq!(ok.client_secret, "s");
    }
}
