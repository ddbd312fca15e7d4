//! The record of which offline journal entries are written in.
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use super::incidents::Published;
use crate::entity::journal_replay;

/// What entry `id` was written in as, if it was.
pub async fn replayed(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<Published>, sea_orm::DbErr> {
    Ok(journal_replay::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .map(|r| Published {
            incident_id: r.incident_id,
            update_id: r.update_id,
        }))
}

/// Notes that entry `id` is written in as `published`.
pub async fn record(
    db: &impl ConnectionTrait,
    id: &str,
    published: &Published,
) -> Result<(), sea_orm::DbErr> {
    journal_replay::ActiveModel {
        entry_id: Set(id.to_owned()),
        incident_id: Set(published.incident_id),
        update_id: Set(published.update_id),
        replayed_at: Set(super::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}
