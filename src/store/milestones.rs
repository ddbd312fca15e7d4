//! A long recovery's milestones, ticked by staff or by a restore script. A
//! milestone that notifies is told as an update of its incident, appended in
//! the same transaction, so it reaches subscribers through every channel an
//! update does and reads in its place on the page.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};

use super::incidents::{lock_incident, milestones_json, milestones_of, NewUpdate};
use super::{now, StoreError};
use crate::domain::{milestone, IncidentStatus, Milestone, MilestoneTitle, UpdateBody};
use crate::entity::incident;

fn conflict(message: impl Into<String>) -> StoreError {
    StoreError::Conflict {
        field: "milestone",
        message: message.into(),
    }
}

/// Adds a milestone at the end of incident `id`'s list; returns it.
pub async fn add(
    db: &DatabaseConnection,
    id: i32,
    title: MilestoneTitle,
    notify: bool,
) -> Result<Milestone, StoreError> {
    let txn = super::begin_write(db).await?;
    let inc = lock_incident(&txn, id).await?;
    let list = milestone::add(&milestones_of(&inc)?, title, notify).map_err(|e| conflict(e.0))?;
    let added = list.last().cloned().expect("just added");
    let mut row: incident::ActiveModel = inc.into();
    row.milestones = Set(milestones_json(&list));
    row.updated_at = Set(now());
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(added)
}

/// Who ticks a milestone, as it is shown beside it and on the update it may post.
pub struct Ticker<'a> {
    pub name: &'a str,
    /// The staff member the update is posted as (an API token's creator).
    pub author_id: i32,
}

/// What ticking a milestone came to.
#[derive(Debug, Clone)]
pub struct Ticked {
    pub milestone: Milestone,
    /// The update that told subscribers, when the milestone notifies.
    pub update_id: Option<i32>,
}

/// Marks milestone `key` of incident `id` done at `at`. Ticking one already
/// done changes nothing and tells no one again (a restore script may retry).
pub async fn complete(
    db: &DatabaseConnection,
    id: i32,
    key: &str,
    who: Ticker<'_>,
    at: DateTime<Utc>,
) -> Result<Ticked, StoreError> {
    let txn = super::begin_write(db).await?;
    let inc = lock_incident(&txn, id).await?;
    let mut list = milestones_of(&inc)?;
    let total = list.len();
    let Some(pos) = list.iter().position(|m| m.key == key) else {
        return Err(StoreError::NotFound);
    };
    // Whole seconds: the API gives times to the second, the start is kept finer.
    if at.timestamp() < inc.started_at.timestamp() {
        return Err(StoreError::Conflict {
            field: "done_at",
            message: "A milestone is done after its incident started.".into(),
        });
    }
    if list[pos].done_at.is_some() {
        return Ok(Ticked {
            milestone: list[pos].clone(),
            update_id: None,
        });
    }
    list[pos].done_at = Some(at);
    list[pos].done_by = Some(who.name.to_owned());
    let done = list[pos].clone();
    let (count, _) = milestone::progress(&list);
    let status = super::read(
        IncidentStatus::parse(&inc.status),
        format_args!("the status of incident {}", inc.id),
    )?;
    let mut row: incident::ActiveModel = inc.into();
    row.milestones = Set(milestones_json(&list));
    row.updated_at = Set(now());
    let inc = row.update(&txn).await?;
    let mut update_id = None;
    if done.notify {
        if status.is_resolved() {
            return Err(conflict(
                "The incident is resolved: tick the milestone without notifying.",
            ));
        }
        let body = UpdateBody::parse(&format!(
            "Milestone done ({count} of {total}): {}",
            done.title
        ))
        .map_err(|e| conflict(e.0))?;
        let published = super::incidents::append(
            &txn,
            inc,
            NewUpdate {
                status,
                body,
                components: Vec::new(),
                // Told now, whenever it was done: the story reads in the order it was told.
                at: now(),
                author_id: who.author_id,
                notify: true,
                operational_on_resolve: false,
                next_update_by: None,
            },
        )
        .await?;
        update_id = Some(published.update_id);
    }
    txn.commit().await?;
    Ok(Ticked {
        milestone: done,
        update_id,
    })
}
