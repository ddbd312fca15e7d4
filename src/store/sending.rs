//! Safe sending when tired: an incident update is on the page at once, but
//! its notifications wait out the send delay (the worker expands its event
//! only then, `deliveries::expand_pending`). Until the event is expanded,
//! staff may edit the update (subscribers then get the edited text: a notice
//! is made from the update as it reads when it is sent) or hold its
//! notifications for good. Both check, under the event's lock, that it is
//! still unexpanded, so an edit never reaches some subscribers and not others.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::outbox::EventKind;
use super::{now, StoreError};
use crate::domain::UpdateBody;
use crate::entity::{incident_update, notification_event};

/// An update whose notifications have not gone out yet.
#[derive(Debug, Clone)]
pub struct Unsent {
    pub update_id: i32,
    /// When the worker sends them (the send delay after the update was posted).
    pub sends_at: DateTime<Utc>,
}

/// Incident `incident_id`'s updates still inside the send delay (or waiting
/// for a worker), oldest first.
pub async fn unsent(
    db: &DatabaseConnection,
    incident_id: i32,
    send_delay: chrono::Duration,
) -> Result<Vec<Unsent>, sea_orm::DbErr> {
    Ok(notification_event::Entity::find()
        .filter(notification_event::Column::IncidentId.eq(incident_id))
        .filter(notification_event::Column::Kind.eq(EventKind::IncidentUpdate.as_str()))
        .filter(notification_event::Column::ExpandedAt.is_null())
        .order_by_asc(notification_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|e| {
            Some(Unsent {
                update_id: e.update_id?,
                sends_at: e.created_at + send_delay,
            })
        })
        .collect())
}

/// The event that tells subscribers of update `update_id`, if it notifies.
pub(super) fn event_of(update_id: i32) -> sea_orm::Select<notification_event::Entity> {
    notification_event::Entity::find()
        .filter(notification_event::Column::UpdateId.eq(update_id))
        .filter(notification_event::Column::Kind.eq(EventKind::IncidentUpdate.as_str()))
}

const SENT: &str =
    "Its notifications have gone out already: post a new update to say what changed.";

/// The unexpanded event of update `update_id` of incident `incident_id`,
/// locked until the transaction ends; a conflict once it was sent (or held).
async fn lock_unsent(
    txn: &DatabaseTransaction,
    incident_id: i32,
    update_id: i32,
) -> Result<notification_event::Model, StoreError> {
    let mut q = event_of(update_id).filter(notification_event::Column::IncidentId.eq(incident_id));
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // Waits for a worker expanding it right now, then sees that it did.
        q = q.lock_exclusive();
    }
    let Some(event) = q.one(txn).await? else {
        // An update posted without notifying has no event: nothing to hold.
        return Err(StoreError::Conflict {
            field: "message",
            message: "This update notifies no one.".into(),
        });
    };
    if event.expanded_at.is_some() {
        return Err(StoreError::Conflict {
            field: "message",
            message: SENT.into(),
        });
    }
    Ok(event)
}

/// Replaces the text of update `update_id` before its notifications go out.
pub async fn edit_unsent(
    db: &DatabaseConnection,
    incident_id: i32,
    update_id: i32,
    body: UpdateBody,
) -> Result<(), StoreError> {
    let txn = super::begin_write(db).await?;
    lock_unsent(&txn, incident_id, update_id).await?;
    let update = incident_update::Entity::find_by_id(update_id)
        .filter(incident_update::Column::IncidentId.eq(incident_id))
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut row: incident_update::ActiveModel = update.into();
    row.body = Set(body.as_str().to_owned());
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Holds update `update_id`'s notifications for good: the update stays on
/// the page, no subscriber is told of it. The event is marked expanded (with
/// no deliveries) so that later notices do not wait behind it.
pub async fn hold(
    db: &DatabaseConnection,
    incident_id: i32,
    update_id: i32,
) -> Result<(), StoreError> {
    let txn = super::begin_write(db).await?;
    let event = lock_unsent(&txn, incident_id, update_id).await?;
    let at = now();
    let mut row: notification_event::ActiveModel = event.into();
    row.held_at = Set(Some(at));
    row.expanded_at = Set(Some(at));
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}
