//! The Secrets Manager side: SDK clients per Region, built from one SDK configuration (the default
//! chain in the binary, a test endpoint in tests), so each Region's client and its connections are
//! reused. Cognito's calls have their own adapter, [`crate::cognito_api`].

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::SdkConfig;
use aws_sdk_secretsmanager as secretsmanager;

/// Secrets Manager clients per Region, made on first use.
pub struct AwsClients {
    sdk: SdkConfig,
    secrets_manager: Mutex<HashMap<String, secretsmanager::Client>>,
}

impl AwsClients {
    /// Clients using this SDK configuration.
    pub fn new(sdk: SdkConfig) -> Self {
        Self {
            sdk,
            secrets_manager: Mutex::default(),
        }
    }

    /// The Region of the SDK configuration (`AWS_REGION` in the binary), if any.
    pub fn default_region(&self) -> Option<String> {
        self.sdk.region().map(|r| r.as_ref().to_owned())
    }

    /// The Secrets Manager client of `region`.
    pub fn secrets_manager(&self, region: &str) -> secretsmanager::Client {
        client_of(&self.secrets_manager, region, || {
            let conf = secretsmanager::config::Builder::from(&self.sdk)
                .region(secretsmanager::config::Region::new(region.to_owned()))
                .build();
            secretsmanager::Client::from_conf(conf)
        })
    }
}

/// The client of `region` in `clients`, made by `make` on first use (SDK clients are cheap
/// handles to shared connections: cloning one shares them).
fn client_of<C: Clone>(
    clients: &Mutex<HashMap<String, C>>,
    region: &str,
    make: impl FnOnce() -> C,
) -> C {
    clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(region.to_owned())
        .or_insert_with(make)
        .clone()
}
