//! Development and tests only: the pool's app clients (CreateUserPoolClient,
//! DescribeUserPoolClient, UpdateUserPoolClient, DeleteUserPoolClient, ListUserPoolClients);
//! the rules of their settings are in `client_settings`.

use crate::issuer::AppClient;
use crate::pool::client_settings::{
    CLIENT_CREDENTIALS, ClientSettings, access_token_lifetime, validate_settings, with_defaults,
};
use crate::pool::secrets::{client_mut, generate_secret, random_lowercase, secret_id};
use crate::pool::{ClientSecret, ClientSummary, Grantee, Page, Pool, PoolError, page};

/// An app client of the pool (`UserPoolClientType`).
#[derive(Debug, Clone, PartialEq)]
pub struct UserPoolClient {
    /// `ClientId`.
    pub client_id: String,
    /// `ClientName`.
    pub client_name: String,
    /// Its secrets, oldest first; none for a public client.
    pub secrets: Vec<ClientSecret>,
    /// Everything else it was created or last updated with, defaults applied.
    pub settings: ClientSettings,
    /// `CreationDate`, Unix seconds.
    pub creation_date: f64,
    /// `LastModifiedDate`, Unix seconds.
    pub last_modified_date: f64,
}

impl UserPoolClient {
    /// `ClientSecret` as DescribeUserPoolClient shows it: the newest secret. (Which of two
    /// secrets it shows is not documented; the newest is the one a rotation moves to.)
    pub fn client_secret(&self) -> Option<&str> {
        self.secrets.last().map(ClientSecret::value)
    }

    /// A client configured up front: the client-credentials grant with its one secret.
    pub(crate) fn configured(pool: &Pool, client: &AppClient) -> Self {
        let now = pool.now();
        let settings = ClientSettings {
            allowed_o_auth_flows: Some(vec![CLIENT_CREDENTIALS.to_owned()]),
            allowed_o_auth_scopes: Some(client.allowed_scopes.clone()),
            allowed_o_auth_flows_user_pool_client: Some(true),
            ..ClientSettings::default()
        };
        let id = secret_id(&client.client_id, now, &[]);
        Self {
            client_id: client.client_id.clone(),
            client_name: client.client_id.clone(),
            secrets: vec![ClientSecret::new(id, client.client_secret.clone(), now)],
            settings: with_defaults(settings),
            creation_date: now,
            last_modified_date: now,
        }
    }

    pub(crate) fn grantee(&self) -> Grantee {
        let settings = &self.settings;
        let flows = settings.allowed_o_auth_flows.as_deref().unwrap_or_default();
        Grantee {
            client_id: self.client_id.clone(),
            allowed_scopes: settings.allowed_o_auth_scopes.clone().unwrap_or_default(),
            client_credentials: settings.allowed_o_auth_flows_user_pool_client == Some(true)
                && flows.iter().any(|f| f == CLIENT_CREDENTIALS),
            access_token_lifetime: access_token_lifetime(settings),
        }
    }

    pub(crate) fn summary(&self) -> ClientSummary {
        ClientSummary {
            client_id: self.client_id.clone(),
            client_name: self.client_name.clone(),
            allowed_scopes: self
                .settings
                .allowed_o_auth_scopes
                .clone()
                .unwrap_or_default(),
            allowed_flows: self
                .settings
                .allowed_o_auth_flows
                .clone()
                .unwrap_or_default(),
            secrets: self.secrets.len(),
            access_token_lifetime: access_token_lifetime(&self.settings),
        }
    }
}

impl Pool {
    fn validate_client(
        &self,
        name: &str,
        settings: &ClientSettings,
        has_secret: bool,
    ) -> Result<(), PoolError> {
        let state = self.state();
        validate_settings(name, settings, has_secret, |scope| {
            state
                .resource_servers
                .values()
                .any(|server| server.defines(scope))
        })
    }

    /// CreateUserPoolClient: a new client with a generated id, and a generated secret when
    /// `generate_secret`.
    pub fn create_user_pool_client(
        &self,
        user_pool_id: &str,
        client_name: &str,
        generate_secret: bool,
        settings: ClientSettings,
    ) -> Result<UserPoolClient, PoolError> {
        self.check_pool(user_pool_id)?;
        self.validate_client(client_name, &settings, generate_secret)?;
        let now = self.now();
        let client_id = random_lowercase(26);
        let secrets = if generate_secret {
            vec![ClientSecret::new(
                secret_id(&client_id, now, &[]),
                self::generate_secret(),
                now,
            )]
        } else {
            Vec::new()
        };
        let client = UserPoolClient {
            client_id: client_id.clone(),
            client_name: client_name.to_owned(),
            secrets,
            settings: with_defaults(settings),
            creation_date: now,
            last_modified_date: now,
        };
        self.state().clients.insert(client_id, client.clone());
        Ok(client)
    }

    /// DescribeUserPoolClient.
    pub fn describe_user_pool_client(
        &self,
        user_pool_id: &str,
        client_id: &str,
    ) -> Result<UserPoolClient, PoolError> {
        self.check_pool(user_pool_id)?;
        let mut state = self.state();
        client_mut(&mut state.clients, client_id).map(|c| c.clone())
    }

    /// UpdateUserPoolClient: replaces every setting (unset ones return to their defaults); the
    /// name stays when `client_name` is `None`; the secrets are untouched.
    pub fn update_user_pool_client(
        &self,
        user_pool_id: &str,
        client_id: &str,
        client_name: Option<&str>,
        settings: ClientSettings,
    ) -> Result<UserPoolClient, PoolError> {
        self.check_pool(user_pool_id)?;
        let (name, has_secret) = {
            let mut state = self.state();
            let client = client_mut(&mut state.clients, client_id)?;
            (
                client_name.unwrap_or(&client.client_name).to_owned(),
                !client.secrets.is_empty(),
            )
        };
        self.validate_client(&name, &settings, has_secret)?;
        let now = self.now();
        let mut state = self.state();
        // Deleted meanwhile: as if it had been before this call.
        let client = client_mut(&mut state.clients, client_id)?;
        client.client_name = name;
        client.settings = with_defaults(settings);
        client.last_modified_date = now;
        Ok(client.clone())
    }

    /// DeleteUserPoolClient: its secrets stop working at once.
    pub fn delete_user_pool_client(
        &self,
        user_pool_id: &str,
        client_id: &str,
    ) -> Result<(), PoolError> {
        self.check_pool(user_pool_id)?;
        let mut state = self.state();
        client_mut(&mut state.clients, client_id)?;
        state.clients.remove(client_id);
        Ok(())
    }

    /// ListUserPoolClients: `MaxResults` 1..=60.
    pub fn list_user_pool_clients(
        &self,
        user_pool_id: &str,
        max_results: Option<i32>,
        next_token: Option<&str>,
    ) -> Result<Page<UserPoolClient>, PoolError> {
        self.check_pool(user_pool_id)?;
        page(&self.state().clients, max_results, next_token, 60)
    }
}
