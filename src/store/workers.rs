//! Delivery workers' heartbeats: which workers are alive, wherever they run.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::now;
use crate::entity::worker_heartbeat;

/// Rows of workers silent for this long are forgotten.
const FORGET_AFTER: chrono::Duration = chrono::Duration::days(1);

/// Says worker `id` (of `host`, process `pid`, running since `started_at`) is alive now.
pub async fn beat(
    db: &impl ConnectionTrait,
    id: &str,
    host: &str,
    pid: u32,
    started_at: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    worker_heartbeat::Entity::insert(worker_heartbeat::ActiveModel {
        id: Set(id.to_owned()),
        host: Set(host.to_owned()),
        pid: Set(i32::try_from(pid).unwrap_or(i32::MAX)),
        started_at: Set(started_at),
        beat_at: Set(now()),
    })
    .on_conflict(
        OnConflict::column(worker_heartbeat::Column::Id)
            .update_column(worker_heartbeat::Column::BeatAt)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// A worker that stopped cleanly is gone at once, not after it falls silent.
pub async fn forget(db: &impl ConnectionTrait, id: &str) -> Result<(), sea_orm::DbErr> {
    worker_heartbeat::Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await?;
    Ok(())
}

/// Drops the rows of workers silent for a day (killed, never stopped
/// cleanly); a worker does it as it starts, so probes only ever read.
pub async fn forget_silent(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    Ok(worker_heartbeat::Entity::delete_many()
        .filter(worker_heartbeat::Column::BeatAt.lt(now() - FORGET_AFTER))
        .exec(db)
        .await?
        .rows_affected)
}

/// Workers heard from since `since`, most recent first.
pub async fn alive_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<Vec<worker_heartbeat::Model>, sea_orm::DbErr> {
    worker_heartbeat::Entity::find()
        .filter(worker_heartbeat::Column::BeatAt.gte(since))
        .order_by_desc(worker_heartbeat::Column::BeatAt)
        .all(db)
        .await
}
