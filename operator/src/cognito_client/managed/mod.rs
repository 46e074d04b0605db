//! `spec.source.managed`: the operator creates the app client, keeps it as the spec says,
//! rotates its secret and deletes it with the resource. The Secret is written in the contract's
//! format, with the facts about its secret beside it ([`record`]).
//!
//! Cognito calls per client: creation 1 (CreateUserPoolClient; it answers with the secret); a
//! refresh 1 (DescribeUserPoolClient, plus UpdateUserPoolClient only when something drifted);
//! an up-to-date client between refreshes 0; a rotation 2 (AddUserPoolClientSecret now,
//! DeleteUserPoolClientSecret after the overlap).

pub mod app_client;
pub mod record;
pub mod rotation;

use cognito_auth::credentials::ClientCredentials;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;

use self::app_client::Located;
use self::record::{Overlap, SecretRecord};
use self::rotation::RotationStep;
use crate::cognito_api::model::DEFAULT_ACCESS_TOKEN_VALIDITY;
use crate::cognito_api::{AppClient, AppClientSettings, CognitoApi, CognitoApiError, UserPoolRef};
use crate::cognito_client::source::apply_spec;
use crate::cognito_client::{CognitoClient, ManagedSource, RotationSchedule};
use crate::context::Context;
use crate::error::SyncError;
use crate::managed::ROTATE_SECRET_ANNOTATION;

/// Something a managed sync did in Cognito, worth an Event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagedChange {
    /// A new app client.
    Created(String),
    /// The app client of an interrupted create, found again; `deleted` duplicates removed.
    Recovered {
        /// Its id.
        client_id: String,
        /// Duplicates deleted.
        deleted: usize,
    },
    /// Fields corrected after drift made outside Kubernetes.
    Updated(Vec<&'static str>),
    /// A new secret is in the Secret; the old one is deleted at `expires`.
    Rotated {
        /// When the old secret goes.
        expires: Timestamp,
    },
    /// The old secret of a rotation was deleted.
    PreviousSecretDeleted,
    /// A secret whose value was never stored (a rotation interrupted before its Secret write)
    /// was deleted.
    OrphanSecretDeleted,
}

/// What a managed sync leaves behind: the Secret's record, the schedule and the changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedOutcome {
    /// The record now on the Secret.
    pub record: SecretRecord,
    /// When the next scheduled rotation is due.
    pub next_rotation: Option<Timestamp>,
    /// What was done in Cognito.
    pub changes: Vec<ManagedChange>,
}

/// The user pool a spec names, in its Region (the spec's, else the operator's).
pub fn pool_of(cc: &CognitoClient, cognito: &CognitoApi) -> Result<UserPoolRef, SyncError> {
    cognito
        .user_pool(cc.spec.region.as_deref(), &cc.spec.user_pool_id)
        .ok_or(SyncError::NoRegion)
}

/// The app client the spec asks for.
pub fn wanted(cc: &CognitoClient, managed: &ManagedSource) -> Result<AppClientSettings, SyncError> {
    Ok(AppClientSettings {
        client_name: cc.managed_client_name().unwrap_or_default(),
        scopes: cc
            .spec
            .scopes
            .iter()
            .flatten()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        access_token_validity: managed
            .access_token_validity()?
            .unwrap_or(DEFAULT_ACCESS_TOKEN_VALIDITY),
    })
}

/// The rotation step of an intact Secret of ours, for the freshness check.
pub fn pending_step(
    cc: &CognitoClient,
    managed: &ManagedSource,
    secret: &Secret,
    now: Timestamp,
) -> RotationStep {
    rotation::next_step(
        &SecretRecord::of(secret),
        managed.rotation().ok().flatten(),
        crate::managed::annotation(&cc.metadata, ROTATE_SECRET_ANNOTATION),
        now,
    )
}

/// Syncs a managed client: locate or create the app client, correct drift, run the rotation,
/// and return the credentials for the Secret with the record to annotate it with.
/// `ours` is the existing Secret when it is ours; `intact` whether its data is as written.
pub async fn sync(
    cc: &CognitoClient,
    ctx: &Context,
    managed: &ManagedSource,
    ours: Option<&Secret>,
    intact: bool,
    now: Timestamp,
) -> Result<(ClientCredentials, ManagedOutcome), SyncError> {
    let cognito = &ctx.cognito;
    let pool = pool_of(cc, cognito)?;
    let wanted = wanted(cc, managed)?;
    let schedule = managed.rotation()?;
    let request = crate::managed::annotation(&cc.metadata, ROTATE_SECRET_ANNOTATION);
    let api: Api<CognitoClient> =
        Api::namespaced(ctx.client.clone(), &cc.namespace().unwrap_or_default());
    let held = ours.filter(|_| intact).map(|s| (held_client_id(s), s));
    let known_id = cc
        .status
        .as_ref()
        .and_then(|s| s.client_id.clone())
        .or_else(|| ours.and_then(held_client_id));
    // An edited Secret's data is untrusted, but its record still says how many secrets live.
    let previous_record = ours
        .filter(|s| held_client_id(s).as_deref() == known_id.as_deref())
        .map(SecretRecord::of);

    let mut changes = Vec::new();
    let located =
        app_client::locate_or_create(cognito, &api, cc, &pool, known_id.as_deref(), &wanted, now)
            .await?;
    let (mut client, created) = match located {
        Located::Known(client) => {
            crate::managed::add_finalizer(&api, cc).await?;
            (client, false)
        }
        Located::Recovered { client, deleted } => {
            crate::managed::add_finalizer(&api, cc).await?;
            changes.push(ManagedChange::Recovered {
                client_id: client.client_id.clone(),
                deleted,
            });
            (client, false)
        }
        Located::Created(client) => {
            changes.push(ManagedChange::Created(client.client_id.clone()));
            (client, true)
        }
    };
    let drift = client.drift_from(&wanted);
    if !drift.is_empty() {
        let secret = client.client_secret.take();
        client = cognito
            .update_app_client(&pool, &client.client_id, &wanted)
            .await?;
        client.client_secret = client.client_secret.or(secret);
        changes.push(ManagedChange::Updated(drift));
    }

    // The value and its record: the Secret's own while it holds this client's secret (Describe
    // may show the other of two secrets); a new client's; else re-issued from Cognito.
    let (mut value, mut record) = match held {
        Some((Some(id), secret)) if id == client.client_id && !created => (
            secret_value(secret).unwrap_or_default(),
            SecretRecord::of(secret),
        ),
        _ if created => (
            client.client_secret.clone().unwrap_or_default(),
            SecretRecord {
                issued_at: Some(now),
                rotation_request: request.map(str::to_owned),
                ..SecretRecord::default()
            },
        ),
        _ => match previous_record.filter(|r| r.overlap.is_none()) {
            // One secret: the one Describe shows.
            Some(record) => (client.client_secret.clone().unwrap_or_default(), record),
            None => reissue(cognito, &pool, &client, request, now, &mut changes).await?,
        },
    };

    match rotation::next_step(&record, schedule, request, now) {
        RotationStep::Start => {
            let (new_value, new_record) = start_rotation(
                cognito,
                &pool,
                &client,
                &record,
                schedule,
                request,
                now,
                &mut changes,
            )
            .await?;
            value = new_value;
            record = new_record;
        }
        RotationStep::RetirePrevious => {
            retire_previous(cognito, &pool, &client, &record).await?;
            record.overlap = None;
            changes.push(ManagedChange::PreviousSecretDeleted);
        }
        RotationStep::Idle { .. } | RotationStep::Overlapping { .. } => {}
    }

    let creds = ClientCredentials::new(&client.client_id, &value).map_err(|_| {
        SyncError::SourceInvalid {
            what: format!("app client {}", client.client_id),
            detail: "Cognito returned no client secret".into(),
        }
    })?;
    let creds = apply_spec(creds, &cc.spec);
    // Due `interval` after the current secret was issued, overlap or not.
    let next_rotation = schedule.and_then(|s| record.issued_at?.checked_add(s.interval).ok());
    Ok((
        creds,
        ManagedOutcome {
            record,
            next_rotation,
            changes,
        },
    ))
}

/// Adds a new secret and returns it with the record that keeps the old one for the overlap. A
/// full client (two secrets, one never stored: an interrupted rotation) first loses the orphan.
#[allow(clippy::too_many_arguments)]
async fn start_rotation(
    cognito: &CognitoApi,
    pool: &UserPoolRef,
    client: &AppClient,
    record: &SecretRecord,
    schedule: Option<RotationSchedule>,
    request: Option<&str>,
    now: Timestamp,
    changes: &mut Vec<ManagedChange>,
) -> Result<(String, SecretRecord), SyncError> {
    let added = match cognito.add_client_secret(pool, &client.client_id).await {
        Err(CognitoApiError::LimitExceeded { .. }) => {
            let secrets = cognito.list_client_secrets(pool, &client.client_id).await?;
            if let Some(orphan) = rotation::unheld(&secrets, record.secret_id.as_deref()) {
                cognito
                    .delete_client_secret(pool, &client.client_id, &orphan.id)
                    .await?;
                changes.push(ManagedChange::OrphanSecretDeleted);
            }
            cognito.add_client_secret(pool, &client.client_id).await?
        }
        other => other?,
    };
    let value = added
        .value
        .clone()
        .ok_or_else(|| SyncError::SourceInvalid {
            what: format!("app client {}", client.client_id),
            detail: "AddUserPoolClientSecret returned no secret value".into(),
        })?;
    let expires = now.checked_add(rotation::overlap(schedule)).unwrap_or(now);
    changes.push(ManagedChange::Rotated { expires });
    Ok((
        value,
        SecretRecord {
            secret_id: Some(added.id),
            issued_at: Some(now),
            rotation_request: request
                .map(str::to_owned)
                .or_else(|| record.rotation_request.clone()),
            overlap: Some(Overlap {
                secret_id: record.secret_id.clone(),
                expires,
            }),
        },
    ))
}

/// Deletes the previous secret of a finished overlap: by id, or (the client's original secret,
/// which has none recorded) every secret but the held one.
async fn retire_previous(
    cognito: &CognitoApi,
    pool: &UserPoolRef,
    client: &AppClient,
    record: &SecretRecord,
) -> Result<(), SyncError> {
    let previous = record.overlap.as_ref().and_then(|o| o.secret_id.clone());
    let ids: Vec<String> = match previous {
        Some(id) => vec![id],
        None => cognito
            .list_client_secrets(pool, &client.client_id)
            .await?
            .into_iter()
            .map(|s| s.id)
            .filter(|id| Some(id) != record.secret_id.as_ref())
            .collect(),
    };
    for id in ids {
        cognito
            .delete_client_secret(pool, &client.client_id, &id)
            .await?;
    }
    Ok(())
}

/// The Secret is gone, edited or names another client: take the value Cognito describes. With
/// two secrets alive Describe could show either, so the older one is retired first and the one
/// left is described.
async fn reissue(
    cognito: &CognitoApi,
    pool: &UserPoolRef,
    client: &AppClient,
    request: Option<&str>,
    now: Timestamp,
    changes: &mut Vec<ManagedChange>,
) -> Result<(String, SecretRecord), SyncError> {
    let secrets = cognito.list_client_secrets(pool, &client.client_id).await?;
    let mut value = client.client_secret.clone();
    let mut kept = secrets.iter().max_by_key(|s| s.created).cloned();
    if secrets.len() > 1 {
        let oldest = secrets.iter().min_by_key(|s| s.created).cloned();
        if let Some(oldest) = oldest {
            cognito
                .delete_client_secret(pool, &client.client_id, &oldest.id)
                .await?;
            changes.push(ManagedChange::PreviousSecretDeleted);
            kept = secrets.into_iter().find(|s| s.id != oldest.id);
        }
        value = cognito
            .describe_app_client(pool, &client.client_id)
            .await?
            .and_then(|c| c.client_secret);
    }
    Ok((
        value.unwrap_or_default(),
        SecretRecord {
            secret_id: kept.as_ref().map(|s| s.id.clone()),
            issued_at: kept.and_then(|s| s.created).or(Some(now)),
            rotation_request: request.map(str::to_owned),
            overlap: None,
        },
    ))
}

fn data_value(secret: &Secret, key: &str) -> Option<String> {
    let bytes = secret.data.as_ref()?.get(key)?;
    String::from_utf8(bytes.0.clone()).ok()
}

fn secret_value(secret: &Secret) -> Option<String> {
    data_value(secret, "client_secret")
}

fn held_client_id(secret: &Secret) -> Option<String> {
    data_value(secret, "client_id")
}
