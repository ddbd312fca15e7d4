//! Correcting a published update: the text readers see changes, the earlier
//! one is kept on the update's row, and subscribers are told only when staff
//! choose so, by a notice that says it is a correction.
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use super::incidents::lock_incident;
use super::outbox::{self, Event};
use super::StoreError;
use crate::domain::{correction, Revision, UpdateBody};
use crate::entity::{incident_update, notification_event};

/// Who corrects, as the page names them beside the earlier text.
pub struct Corrector<'a> {
    pub name: &'a str,
    /// When: now, but for the demo, which replays the seed's day as it went.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// What a correction came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrected {
    /// Whether a correction notice was written to the outbox.
    pub notified: bool,
}

/// An update's earlier texts, oldest first.
pub fn revisions_of(u: &incident_update::Model) -> Result<Vec<Revision>, sea_orm::DbErr> {
    match &u.revisions {
        Some(j) => serde_json::from_str(j)
            .map_err(|e| sea_orm::DbErr::Custom(format!("the revisions of update {}: {e}", u.id))),
        None => Ok(Vec::new()),
    }
}

/// Replaces update `update_id`'s text with `body`, keeping the old one. With
/// `notify`, subscribers are told, unless the update's own notices have not
/// gone yet (the send delay): those carry the corrected text already.
pub async fn correct(
    db: &DatabaseConnection,
    incident_id: i32,
    update_id: i32,
    body: UpdateBody,
    who: Corrector<'_>,
    notify: bool,
) -> Result<Corrected, StoreError> {
    let txn = super::begin_write(db).await?;
    lock_incident(&txn, incident_id).await?;
    let update = incident_update::Entity::find_by_id(update_id)
        .filter(incident_update::Column::IncidentId.eq(incident_id))
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let at = who.at;
    let revisions = correction::correct(
        &revisions_of(&update)?,
        &update.body,
        body.as_str(),
        at,
        who.name,
    )
    .map_err(|e| StoreError::Conflict {
        field: "message",
        message: e.0,
    })?;
    let unsent = super::sending::event_of(update_id)
        .filter(notification_event::Column::ExpandedAt.is_null())
        .one(&txn)
        .await?
        .is_some();
    let mut row: incident_update::ActiveModel = update.into();
    row.body = Set(body.as_str().to_owned());
    row.corrected_at = Set(Some(at));
    row.revisions = Set(Some(
        serde_json::to_string(&revisions).map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?,
    ));
    row.update(&txn).await?;
    let notified = notify && !unsent;
    if notified {
        outbox::write(
            &txn,
            Event::Correction {
                incident_id,
                update_id,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Corrected { notified })
}
