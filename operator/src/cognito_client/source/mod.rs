//! Where a CognitoClient's credentials come from (`spec.source`): an AWS Secrets Manager secret
//! or a Cognito app client, each in [`secrets_manager`] and [`app_client`], completed from the
//! spec into everything the Secret holds.

pub mod app_client;
pub mod secrets_manager;

use cognito_auth::cognito::{IssuerForm, UserPool};
use cognito_auth::credentials::ClientCredentials;

use crate::cognito_client::{CognitoClientSpec, Source};
use crate::context::Context;
use crate::error::SyncError;

/// Applies the spec over what the source says: the spec's token endpoint and scopes win when
/// set, the user pool id is the spec's, and the issuer is derived when the source has none: the
/// pool's original-form issuer, in the Region its id names (the `ORIGINAL` form is every pool's
/// unless switched; a pool switched to `UPDATED` has its source carry `issuer`).
pub fn apply_spec(mut creds: ClientCredentials, spec: &CognitoClientSpec) -> ClientCredentials {
    if let Some(endpoint) = spec
        .token_endpoint
        .as_ref()
        .filter(|e| !e.trim().is_empty())
    {
        creds.token_endpoint = Some(endpoint.trim().to_owned());
    }
    if let Some(scopes) = spec.scopes.as_ref().filter(|s| !s.is_empty()) {
        creds.scopes = scopes.clone();
    }
    let pool = spec.user_pool_id.trim();
    creds.user_pool_id = Some(pool.to_owned());
    if creds.issuer.is_none() {
        creds.issuer = UserPool::from_id(pool)
            .ok()
            .map(|pool| pool.issuer(IssuerForm::Original));
    }
    creds
}

/// Reads the credentials a (validated) spec with a read-only source (Secrets Manager, app
/// client) points at, with the spec applied ([`apply_spec`]); managed clients are
/// `crate::cognito_client::managed`'s.
pub async fn read_credentials(
    ctx: &Context,
    spec: &CognitoClientSpec,
) -> Result<ClientCredentials, SyncError> {
    let spec_region = spec
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let creds = match spec.source()? {
        Source::SecretsManager(secret_id) => {
            secrets_manager::read(&ctx.aws, spec_region, secret_id).await?
        }
        Source::AppClient(client_id) => {
            app_client::read(&ctx.cognito, spec_region, spec, client_id).await?
        }
        Source::Managed(_) => {
            return Err(SyncError::SourceInvalid {
                what: "spec.source.managed".into(),
                detail: "a managed app client is not read but created".into(),
            });
        }
    };
    Ok(apply_spec(creds, spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> CognitoClientSpec {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    fn creds(json: &str) -> ClientCredentials {
        ClientCredentials::from_secret_json(json).unwrap()
    }

    #[test]
    fn seed_secret_is_completed_with_issuer_and_pool() {
        let s = spec("userPoolId: us-east-1_X\nsource: {secretsManager: {secretId: s}}");
        // The AWS sample's exact shape: scope names beside the resource server identifier.
        let c = apply_spec(
            creds(
                r#"{"user_pool_id": "us-east-1_Example1", "user_pool_client_id": "id", "app_client_secret": "sec", "user_pool_oauth2_endpoint": "https://d/oauth2/token", "unicorn_user_pool_res_srv_identifier": "premium_api", "unicorn_read_scope": "read", "unicorn_write_scope": "write"}"#,
            ),
            &s,
        );
        let map = c.to_map();
        assert_eq!(map["client_id"], "id");
        assert_eq!(map["client_secret"], "sec");
        assert_eq!(map["token_endpoint"], "https://d/oauth2/token");
        // The Secret holds full scope strings, as the contract promises.
        assert_eq!(map["scopes"], "premium_api/read premium_api/write");
        assert_eq!(
            map["issuer"], "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X",
            "the pool's Region, not the operator's"
        );
        assert_eq!(map["user_pool_id"], "us-east-1_X");
    }

    #[test]
    fn spec_endpoint_and_scopes_win_and_source_issuer_is_kept() {
        let s = spec(
            "userPoolId: p\ntokenEndpoint: https://mine/oauth2/token\nscopes: [a/read]\nsource: {secretsManager: {secretId: s}}",
        );
        let c = apply_spec(
            creds(
                r#"{"client_id":"i","client_secret":"s","token_endpoint":"https://theirs",
                    "scopes":"a/read a/write","issuer":"https://issuer/p"}"#,
            ),
            &s,
        );
        assert_eq!(
            c.token_endpoint.as_deref(),
            Some("https://mine/oauth2/token")
        );
        assert_eq!(c.scopes, ["a/read"]);
        assert_eq!(c.issuer.as_deref(), Some("https://issuer/p"));
    }

    #[test]
    fn what_the_operator_writes_has_no_stray_whitespace() {
        let s = spec("userPoolId: us-east-1_X\nsource: {secretsManager: {secretId: s}}");
        for stray in ["\n", "\r\n", " \t", "\n\n"] {
            let json = serde_json::json!({
                "user_pool_client_id": format!("1example23456789{stray}"),
                "app_client_secret": format!("Ab3dEf6hIj+KlMnOp+QrStUv9x{stray}"),
                "user_pool_oauth2_endpoint": format!("https://d/oauth2/token{stray}"),
                "unicorn_user_pool_res_srv_identifier": format!("premium_api{stray}"),
                "unicorn_read_scope": format!("read{stray}"),
                "unicorn_write_scope": format!("write{stray}"),
            });
            let map = apply_spec(creds(&json.to_string()), &s).to_map();
            assert_eq!(map["client_id"], "1example23456789", "{stray:?}");
            assert_eq!(
                map["client_secret"], "Ab3dEf6hIj+KlMnOp+QrStUv9x",
                "{stray:?}"
            );
            assert_eq!(map["token_endpoint"], "https://d/oauth2/token", "{stray:?}");
            assert_eq!(
                map["scopes"], "premium_api/read premium_api/write",
                "{stray:?}"
            );
            let described =
                app_client::credentials("1example23456789", Some(&format!("s3cr+t{stray}")), &[])
                    .unwrap();
            assert_eq!(described.client_secret, "s3cr+t", "{stray:?}");
        }
    }
}
