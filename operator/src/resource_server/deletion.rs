//! A CognitoResourceServer being deleted: what its finalizer does before it lets go.

use kube::api::Api;

use crate::context::Context;
use crate::error::SyncError;
use crate::managed::{self, DeletionPolicy};
use crate::resource_server::CognitoResourceServer;
use crate::resource_server::reconcile::Finalized;

/// Deletes the claimed resource server from Cognito (`deletionPolicy: Delete`; one already gone
/// counts as deleted) or leaves it (`Retain`), then removes the finalizer. A resource server
/// never claimed (`AlreadyExists`, a bad spec) is not touched. On failure the finalizer stays,
/// so the next attempt still reaches Cognito.
pub async fn finalize(
    rs: &CognitoResourceServer,
    ctx: &Context,
    api: &Api<CognitoResourceServer>,
) -> Result<Finalized, SyncError> {
    if !managed::has_finalizer(&rs.metadata) {
        return Ok(Finalized::NothingClaimed);
    }
    let status = rs.status.as_ref();
    let claim = status.and_then(|s| s.identifier.clone());
    let finalized = match claim {
        None => Finalized::NothingClaimed,
        Some(identifier) => {
            let pool_id = status
                .and_then(|s| s.user_pool_id.clone())
                .unwrap_or_else(|| rs.spec.user_pool_id.trim().to_owned());
            match rs.spec.deletion_policy() {
                DeletionPolicy::Retain => Finalized::Retained {
                    identifier,
                    pool: pool_id,
                },
                DeletionPolicy::Delete => {
                    let pool = ctx
                        .cognito
                        .user_pool(rs.spec.region.as_deref(), &pool_id)
                        .ok_or(SyncError::NoRegion)?;
                    ctx.cognito
                        .delete_resource_server(&pool, &identifier)
                        .await?;
                    Finalized::Deleted {
                        identifier,
                        pool: pool_id,
                    }
                }
            }
        }
    };
    managed::remove_finalizer(api, rs).await?;
    Ok(finalized)
}
