//! The calls themselves: each SDK request built from the model and its answer turned back into
//! the model. Field names are the API reference's.

use std::time::Duration;

use aws_sdk_cognitoidentityprovider::types::{
    ExplicitAuthFlowsType, OAuthFlowType, ResourceServerScopeType, ResourceServerType,
    TimeUnitsType, TokenValidityUnitsType, UserPoolClientType,
};
use jiff::Timestamp;

use super::model::DEFAULT_ACCESS_TOKEN_VALIDITY;
use super::{
    AppClient, AppClientSettings, ClientSecret, CognitoApi, CognitoApiError, ResourceServer,
    UserPoolRef,
};

/// Most app clients ListUserPoolClients returns per page (its MaxResults limit).
const LIST_PAGE_SIZE: i32 = 60;

impl CognitoApi {
    /// DescribeResourceServer; `None` when the pool has no resource server of this identifier.
    pub async fn describe_resource_server(
        &self,
        pool: &UserPoolRef,
        identifier: &str,
    ) -> Result<Option<ResourceServer>, CognitoApiError> {
        let client = self.ready(pool).await;
        let result = client
            .describe_resource_server()
            .user_pool_id(&pool.user_pool_id)
            .identifier(identifier)
            .send()
            .await;
        match self.finish("DescribeResourceServer", result) {
            Ok(out) => Ok(out.resource_server().map(resource_server)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// CreateResourceServer.
    pub async fn create_resource_server(
        &self,
        pool: &UserPoolRef,
        wanted: &ResourceServer,
    ) -> Result<ResourceServer, CognitoApiError> {
        let client = self.ready(pool).await;
        let result = client
            .create_resource_server()
            .user_pool_id(&pool.user_pool_id)
            .identifier(&wanted.identifier)
            .name(&wanted.name)
            .set_scopes(Some(scopes(wanted)))
            .send()
            .await;
        let out = self.finish("CreateResourceServer", result)?;
        Ok(out
            .resource_server()
            .map_or_else(|| wanted.clone(), resource_server))
    }

    /// UpdateResourceServer (replaces name and scopes).
    pub async fn update_resource_server(
        &self,
        pool: &UserPoolRef,
        wanted: &ResourceServer,
    ) -> Result<ResourceServer, CognitoApiError> {
        let client = self.ready(pool).await;
        let result = client
            .update_resource_server()
            .user_pool_id(&pool.user_pool_id)
            .identifier(&wanted.identifier)
            .name(&wanted.name)
            .set_scopes(Some(scopes(wanted)))
            .send()
            .await;
        let out = self.finish("UpdateResourceServer", result)?;
        Ok(out
            .resource_server()
            .map_or_else(|| wanted.clone(), resource_server))
    }

    /// DeleteResourceServer; a resource server already gone counts as deleted.
    pub async fn delete_resource_server(
        &self,
        pool: &UserPoolRef,
        identifier: &str,
    ) -> Result<(), CognitoApiError> {
        let client = self.ready(pool).await;
        let result = client
            .delete_resource_server()
            .user_pool_id(&pool.user_pool_id)
            .identifier(identifier)
            .send()
            .await;
        match self.finish("DeleteResourceServer", result) {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// CreateUserPoolClient: a confidential client (GenerateSecret) for the client-credentials
    /// flow only; the answer holds the generated secret. ExplicitAuthFlows is only
    /// `ALLOW_REFRESH_TOKEN_AUTH` (Cognito's default adds SRP and custom user sign-in, which a
    /// machine client never uses; the refresh flow is the one every client keeps).
    pub async fn create_app_client(
        &self,
        pool: &UserPoolRef,
        wanted: &AppClientSettings,
    ) -> Result<AppClient, CognitoApiError> {
        let client = self.ready(pool).await;
        let result = client
            .create_user_pool_client()
            .user_pool_id(&pool.user_pool_id)
            .client_name(&wanted.client_name)
            .generate_secret(true)
            .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
            .allowed_o_auth_flows_user_pool_client(true)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .set_allowed_o_auth_scopes(Some(wanted.scopes.clone()))
            .access_token_validity(minutes(wanted.access_token_validity))
            .token_validity_units(access_token_in_minutes())
            .send()
            .await;
        let out = self.finish("CreateUserPoolClient", result)?;
        out.user_pool_client()
            .map(app_client)
            .ok_or_else(|| CognitoApiError::Unavailable {
                operation: "CreateUserPoolClient",
                message: "the answer holds no UserPoolClient".into(),
            })
    }

    /// DescribeUserPoolClient; `None` when the pool has no such client.
    pub async fn describe_app_client(
        &self,
        pool: &UserPoolRef,
        client_id: &str,
    ) -> Result<Option<AppClient>, CognitoApiError> {
        let client = self.ready(pool).await;
        let result = client
            .describe_user_pool_client()
            .user_pool_id(&pool.user_pool_id)
            .client_id(client_id)
            .send()
            .await;
        match self.finish("DescribeUserPoolClient", result) {
            Ok(out) => Ok(out.user_pool_client().map(app_client)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// UpdateUserPoolClient. Cognito resets every field the request leaves out, so the request
    /// carries the whole of `wanted`.
    pub async fn update_app_client(
        &self,
        pool: &UserPoolRef,
        client_id: &str,
        wanted: &AppClientSettings,
    ) -> Result<AppClient, CognitoApiError> {
        let client = self.ready(pool).await;
        let result = client
            .update_user_pool_client()
            .user_pool_id(&pool.user_pool_id)
            .client_id(client_id)
            .client_name(&wanted.client_name)
            .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
            .allowed_o_auth_flows_user_pool_client(true)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .set_allowed_o_auth_scopes(Some(wanted.scopes.clone()))
            .access_token_validity(minutes(wanted.access_token_validity))
            .token_validity_units(access_token_in_minutes())
            .send()
            .await;
        let out = self.finish("UpdateUserPoolClient", result)?;
        out.user_pool_client()
            .map(app_client)
            .ok_or_else(|| CognitoApiError::Unavailable {
                operation: "UpdateUserPoolClient",
                message: "the answer holds no UserPoolClient".into(),
            })
    }

    /// DeleteUserPoolClient; a client already gone counts as deleted.
    pub async fn delete_app_client(
        &self,
        pool: &UserPoolRef,
        client_id: &str,
    ) -> Result<(), CognitoApiError> {
        let client = self.ready(pool).await;
        let result = client
            .delete_user_pool_client()
            .user_pool_id(&pool.user_pool_id)
            .client_id(client_id)
            .send()
            .await;
        match self.finish("DeleteUserPoolClient", result) {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The ids of the pool's app clients named `client_name` (ListUserPoolClients, every page).
    pub async fn find_app_clients(
        &self,
        pool: &UserPoolRef,
        client_name: &str,
    ) -> Result<Vec<String>, CognitoApiError> {
        let client = self.ready(pool).await;
        let mut pages = client
            .list_user_pool_clients()
            .user_pool_id(&pool.user_pool_id)
            .max_results(LIST_PAGE_SIZE)
            .into_paginator()
            .send();
        let mut ids = Vec::new();
        loop {
            let page = pages.try_next().await;
            let Some(page) = self.finish("ListUserPoolClients", page)? else {
                break;
            };
            ids.extend(
                page.user_pool_clients()
                    .iter()
                    .filter(|c| c.client_name() == Some(client_name))
                    .filter_map(|c| c.client_id().map(str::to_owned)),
            );
            if let Some(budget) = &self.budget {
                budget.until_ready().await;
            }
        }
        Ok(ids)
    }

    /// AddUserPoolClientSecret with a secret Cognito generates; the answer holds its value.
    pub async fn add_client_secret(
        &self,
        pool: &UserPoolRef,
        client_id: &str,
    ) -> Result<ClientSecret, CognitoApiError> {
        let client = self.ready(pool).await;
        let result = client
            .add_user_pool_client_secret()
            .user_pool_id(&pool.user_pool_id)
            .client_id(client_id)
            .send()
            .await;
        let out = self.finish("AddUserPoolClientSecret", result)?;
        let descriptor =
            out.client_secret_descriptor()
                .ok_or_else(|| CognitoApiError::Unavailable {
                    operation: "AddUserPoolClientSecret",
                    message: "the answer holds no ClientSecretDescriptor".into(),
                })?;
        Ok(client_secret(descriptor))
    }

    /// ListUserPoolClientSecrets: the client's secrets (ids and dates, never values).
    pub async fn list_client_secrets(
        &self,
        pool: &UserPoolRef,
        client_id: &str,
    ) -> Result<Vec<ClientSecret>, CognitoApiError> {
        let client = self.ready(pool).await;
        let result = client
            .list_user_pool_client_secrets()
            .user_pool_id(&pool.user_pool_id)
            .client_id(client_id)
            .send()
            .await;
        let out = self.finish("ListUserPoolClientSecrets", result)?;
        Ok(out.client_secrets().iter().map(client_secret).collect())
    }

    /// DeleteUserPoolClientSecret; a secret already gone counts as deleted.
    pub async fn delete_client_secret(
        &self,
        pool: &UserPoolRef,
        client_id: &str,
        secret_id: &str,
    ) -> Result<(), CognitoApiError> {
        let client = self.ready(pool).await;
        let result = client
            .delete_user_pool_client_secret()
            .user_pool_id(&pool.user_pool_id)
            .client_id(client_id)
            .client_secret_id(secret_id)
            .send()
            .await;
        match self.finish("DeleteUserPoolClientSecret", result) {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn scopes(server: &ResourceServer) -> Vec<ResourceServerScopeType> {
    server
        .scopes
        .iter()
        .filter_map(|(name, description)| {
            ResourceServerScopeType::builder()
                .scope_name(name)
                .scope_description(description)
                .build()
                .ok()
        })
        .collect()
}

fn resource_server(server: &ResourceServerType) -> ResourceServer {
    ResourceServer {
        identifier: server.identifier().unwrap_or_default().to_owned(),
        name: server.name().unwrap_or_default().to_owned(),
        scopes: server
            .scopes()
            .iter()
            .map(|s| (s.scope_name().to_owned(), s.scope_description().to_owned()))
            .collect(),
    }
}

/// Whole minutes, as AccessTokenValidity takes them with `TokenValidityUnits.AccessToken=minutes`.
fn minutes(validity: Duration) -> i32 {
    i32::try_from(validity.as_secs() / 60).unwrap_or(i32::MAX)
}

fn access_token_in_minutes() -> TokenValidityUnitsType {
    TokenValidityUnitsType::builder()
        .access_token(TimeUnitsType::Minutes)
        .build()
}

/// A token validity in its unit (Cognito's default unit for access tokens is hours).
fn validity(amount: Option<i32>, unit: Option<&TimeUnitsType>) -> Duration {
    let Some(amount) = amount.and_then(|a| u64::try_from(a).ok()) else {
        return DEFAULT_ACCESS_TOKEN_VALIDITY;
    };
    let seconds = match unit {
        Some(TimeUnitsType::Seconds) => 1,
        Some(TimeUnitsType::Minutes) => 60,
        Some(TimeUnitsType::Days) => 86_400,
        _ => 3600,
    };
    Duration::from_secs(amount.saturating_mul(seconds))
}

fn timestamp(
    date: Option<&aws_sdk_cognitoidentityprovider::primitives::DateTime>,
) -> Option<Timestamp> {
    let date = date?;
    Timestamp::new(date.secs(), i32::try_from(date.subsec_nanos()).ok()?).ok()
}

fn app_client(client: &UserPoolClientType) -> AppClient {
    AppClient {
        client_id: client.client_id().unwrap_or_default().to_owned(),
        client_name: client.client_name().unwrap_or_default().to_owned(),
        client_secret: client.client_secret().map(str::to_owned),
        allowed_oauth_flows: client
            .allowed_o_auth_flows()
            .iter()
            .map(|f| f.as_str().to_owned())
            .collect(),
        allowed_oauth_scopes: client.allowed_o_auth_scopes().to_vec(),
        allowed_oauth_flows_user_pool_client: client
            .allowed_o_auth_flows_user_pool_client()
            .unwrap_or(false),
        access_token_validity: validity(
            client.access_token_validity(),
            client.token_validity_units().and_then(|u| u.access_token()),
        ),
        creation_date: timestamp(client.creation_date()),
    }
}

fn client_secret(
    descriptor: &aws_sdk_cognitoidentityprovider::types::ClientSecretDescriptorType,
) -> ClientSecret {
    ClientSecret {
        id: descriptor.client_secret_id().unwrap_or_default().to_owned(),
        value: descriptor.client_secret_value().map(str::to_owned),
        created: timestamp(descriptor.client_secret_create_date()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito_api::model::CLIENT_CREDENTIALS;

    #[test]
    fn validity_reads_every_unit_and_defaults_to_an_hour() {
        assert_eq!(validity(None, None), DEFAULT_ACCESS_TOKEN_VALIDITY);
        assert_eq!(validity(Some(2), None), Duration::from_secs(7200));
        assert_eq!(
            validity(Some(30), Some(&TimeUnitsType::Minutes)),
            Duration::from_secs(1800)
        );
        assert_eq!(
            validity(Some(1), Some(&TimeUnitsType::Days)),
            Duration::from_secs(86_400)
        );
        assert_eq!(
            validity(Some(300), Some(&TimeUnitsType::Seconds)),
            Duration::from_secs(300)
        );
        assert_eq!(minutes(Duration::from_secs(3600)), 60);
        assert_eq!(
            CLIENT_CREDENTIALS,
            OAuthFlowType::ClientCredentials.as_str()
        );
    }
}
