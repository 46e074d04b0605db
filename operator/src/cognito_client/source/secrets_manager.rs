//! An AWS Secrets Manager secret holding the credentials as JSON (either key set of the
//! contract), read with GetSecretValue.

use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use cognito_auth::credentials::{ClientCredentials, arn_region};

use crate::aws::AwsClients;
use crate::error::SyncError;

/// Reads the secret `secret_id` (name or ARN). `spec_region` is the user pool's Region when the
/// spec names one; the secret itself is read in its ARN's Region, whatever the spec says,
/// because Secrets Manager serves a full ARN only from there.
pub async fn read(
    aws: &AwsClients,
    spec_region: Option<&str>,
    secret_id: &str,
) -> Result<ClientCredentials, SyncError> {
    let region = spec_region
        .or_else(|| arn_region(secret_id))
        .map(str::to_owned)
        .or_else(|| aws.default_region())
        .ok_or(SyncError::NoRegion)?;
    let secret_region = arn_region(secret_id).unwrap_or(&region);
    let what = format!("Secrets Manager secret {secret_id}");
    let out = aws
        .secrets_manager(secret_region)
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| SyncError::from_aws(&what, e.code(), e.message()))?;
    let text = out
        .secret_string()
        .ok_or_else(|| SyncError::SourceInvalid {
            what: what.clone(),
            detail: "the secret holds no SecretString".into(),
        })?;
    ClientCredentials::from_secret_json(text).map_err(|e| SyncError::invalid_credentials(what, e))
}
