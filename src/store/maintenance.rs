//! Scheduled maintenance: an incident with a window, and the transitions the
//! worker makes at its edges. Each transition is one transaction that checks,
//! under the incident's lock, that it is still due, so two workers (or a
//! worker after a restart) make it exactly once, late rather than never.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::incidents::{IncidentView, NewUpdate};
use super::StoreError;
use crate::domain::{ComponentStatus, IncidentStatus, UpdateBody, Window};
use crate::entity::{component, incident};

/// What makes an incident a maintenance.
#[derive(Debug, Clone)]
pub struct Plan {
    pub window: Window,
    /// What the window puts under maintenance while it runs.
    pub components: Vec<i32>,
    /// Subscribers are reminded this many minutes before the start.
    pub remind_minutes: Option<i32>,
    pub auto_in_progress: bool,
    pub auto_completed: bool,
    /// Whether the automatic start and end notify subscribers.
    pub notify_start: bool,
    pub notify_end: bool,
}

impl Plan {
    /// The row's maintenance columns. Its `started_at` is the window's start:
    /// the page lists it on that day, as Statuspage does.
    pub(super) async fn apply(
        &self,
        txn: &DatabaseTransaction,
        mut row: incident::ActiveModel,
    ) -> Result<incident::ActiveModel, StoreError> {
        for id in &self.components {
            let live = component::Entity::find_by_id(*id)
                .filter(component::Column::DeletedAt.is_null())
                .one(txn)
                .await?
                .is_some();
            if !live {
                return Err(StoreError::Conflict {
                    field: "components",
                    message: format!("Component {id} does not exist."),
                });
            }
        }
        row.started_at = Set(self.window.from);
        row.scheduled_for = Set(Some(self.window.from));
        row.scheduled_until = Set(Some(self.window.until));
        row.scheduled_remind_minutes = Set(self.remind_minutes);
        row.scheduled_auto_in_progress = Set(self.auto_in_progress);
        row.scheduled_auto_completed = Set(self.auto_completed);
        row.scheduled_notify_start = Set(self.notify_start);
        row.scheduled_notify_end = Set(self.notify_end);
        row.scheduled_components = Set(Some(
            serde_json::to_string(&self.components).unwrap_or_else(|_| "[]".into()),
        ));
        Ok(row)
    }
}

/// The components a maintenance row plans for; an unreadable list plans none.
pub fn planned_components(row: &incident::Model) -> Vec<i32> {
    row.scheduled_components
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// What the worker did in one pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Done {
    pub started: Vec<i32>,
    pub completed: Vec<i32>,
    pub reminded: Vec<i32>,
}

impl Done {
    pub fn is_empty(&self) -> bool {
        self.started.is_empty() && self.completed.is_empty() && self.reminded.is_empty()
    }
}

/// Makes every transition due at `at`: reminders, then starts, then ends, so
/// that a window missed whole (the worker was down across it) still starts
/// before it completes.
pub async fn run_due(db: &DatabaseConnection, at: DateTime<Utc>) -> Result<Done, StoreError> {
    let mut done = Done::default();
    for id in candidates(db, &[IncidentStatus::Scheduled]).await? {
        if remind(db, id, at).await? {
            done.reminded.push(id);
        }
    }
    for id in candidates(db, &[IncidentStatus::Scheduled]).await? {
        if start(db, id, at).await? {
            done.started.push(id);
        }
    }
    let running = [
        IncidentStatus::Scheduled,
        IncidentStatus::InProgress,
        IncidentStatus::Verifying,
    ];
    for id in candidates(db, &running).await? {
        if complete(db, id, at).await? {
            done.completed.push(id);
        }
    }
    Ok(done)
}

/// Maintenances in these statuses, soonest first (a handful: the open ones).
async fn candidates(
    db: &impl ConnectionTrait,
    statuses: &[IncidentStatus],
) -> Result<Vec<i32>, sea_orm::DbErr> {
    Ok(incident::Entity::find()
        .filter(incident::Column::Status.is_in(statuses.iter().map(|s| s.as_str())))
        .filter(incident::Column::ScheduledFor.is_not_null())
        .order_by_asc(incident::Column::ScheduledFor)
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect())
}

/// The reminder, once, in the hour (or however long) before the start; none
/// once the start has passed, when it would tell of the past.
async fn remind(db: &DatabaseConnection, id: i32, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let txn = super::begin_write(db).await?;
    let inc = super::incidents::lock_incident(&txn, id).await?;
    let (Some(from), Some(minutes)) = (inc.scheduled_for, inc.scheduled_remind_minutes) else {
        return Ok(false);
    };
    let due = inc.status == IncidentStatus::Scheduled.as_str()
        && inc.reminded_at.is_none()
        && at >= from - chrono::Duration::minutes(i64::from(minutes))
        && at < from;
    if !due {
        return Ok(false);
    }
    let mut row: incident::ActiveModel = inc.into();
    row.reminded_at = Set(Some(at));
    row.update(&txn).await?;
    super::outbox::write(
        &txn,
        super::outbox::Event::MaintenanceReminder { incident_id: id },
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

async fn start(db: &DatabaseConnection, id: i32, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let txn = super::begin_write(db).await?;
    let inc = super::incidents::lock_incident(&txn, id).await?;
    let due = inc.status == IncidentStatus::Scheduled.as_str()
        && inc.scheduled_auto_in_progress
        && inc.scheduled_for.is_some_and(|from| at >= from);
    if !due {
        return Ok(false);
    }
    let components = planned_components(&inc)
        .into_iter()
        .map(|c| (c, ComponentStatus::UnderMaintenance))
        .collect();
    let update = NewUpdate {
        status: IncidentStatus::InProgress,
        body: UpdateBody::parse(
            "Scheduled maintenance is in progress. We will provide updates as necessary.",
        )
        .expect("a fixed message"),
        components,
        at: edge_time(&txn, &inc, inc.scheduled_for).await?,
        author_id: inc.author_id,
        notify: inc.scheduled_notify_start,
        operational_on_resolve: false,
        next_update_by: None,
    };
    live_only(&txn, update, inc).await?;
    txn.commit().await?;
    Ok(true)
}

async fn complete(db: &DatabaseConnection, id: i32, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let txn = super::begin_write(db).await?;
    let inc = super::incidents::lock_incident(&txn, id).await?;
    let running = [
        IncidentStatus::Scheduled,
        IncidentStatus::InProgress,
        IncidentStatus::Verifying,
    ];
    let due = running.iter().any(|s| inc.status == s.as_str())
        && inc.scheduled_auto_completed
        && inc.scheduled_until.is_some_and(|until| at >= until);
    if !due {
        return Ok(false);
    }
    let update = NewUpdate {
        status: IncidentStatus::Completed,
        body: UpdateBody::parse("The scheduled maintenance has been completed.")
            .expect("a fixed message"),
        components: Vec::new(),
        at: edge_time(&txn, &inc, inc.scheduled_until).await?,
        author_id: inc.author_id,
        notify: inc.scheduled_notify_end,
        // What the window put under maintenance returns to operational.
        operational_on_resolve: true,
        next_update_by: None,
    };
    live_only(&txn, update, inc).await?;
    txn.commit().await?;
    Ok(true)
}

/// An automatic update reads at the window's edge, or after the latest
/// update if one came later: it must be the latest, or it would change nothing
/// and be made again on every pass.
async fn edge_time(
    txn: &DatabaseTransaction,
    inc: &incident::Model,
    edge: Option<DateTime<Utc>>,
) -> Result<DateTime<Utc>, StoreError> {
    use crate::entity::incident_update;
    let latest = incident_update::Entity::find()
        .filter(incident_update::Column::IncidentId.eq(inc.id))
        .order_by_desc(incident_update::Column::DisplayAt)
        .one(txn)
        .await?
        .map(|u| u.display_at);
    let edge = edge.unwrap_or_else(super::now);
    Ok(match latest {
        Some(l) if l >= edge => l + chrono::Duration::seconds(1),
        _ => edge,
    })
}

/// Posts the update, leaving out components deleted since it was planned.
async fn live_only(
    txn: &DatabaseTransaction,
    mut update: NewUpdate,
    inc: incident::Model,
) -> Result<(), StoreError> {
    let mut live = Vec::new();
    for (id, status) in update.components {
        let exists = component::Entity::find_by_id(id)
            .filter(component::Column::DeletedAt.is_null())
            .one(txn)
            .await?
            .is_some();
        if exists {
            live.push((id, status));
        }
    }
    update.components = live;
    super::incidents::append(txn, inc, update).await?;
    Ok(())
}

/// Maintenances that are not over, soonest first: what the page, the APIs and
/// the calendar show as upcoming or in progress.
pub fn upcoming(open: &[IncidentView]) -> Vec<&IncidentView> {
    let mut out: Vec<&IncidentView> = open
        .iter()
        .filter(|i| i.is_maintenance() && i.status == IncidentStatus::Scheduled)
        .collect();
    out.sort_by_key(|i| i.model.scheduled_for);
    out
}

/// Maintenances upcoming or running, soonest first: summary.json's list.
pub fn not_over(open: &[IncidentView]) -> Vec<&IncidentView> {
    let mut out: Vec<&IncidentView> = open.iter().filter(|i| i.is_maintenance()).collect();
    out.sort_by_key(|i| i.model.scheduled_for);
    out
}

/// Maintenances running now (in progress or verifying).
pub fn active(open: &[IncidentView]) -> Vec<&IncidentView> {
    open.iter()
        .filter(|i| {
            i.is_maintenance()
                && matches!(
                    i.status,
                    IncidentStatus::InProgress | IncidentStatus::Verifying
                )
        })
        .collect()
}

/// Every maintenance, newest window first (the v2 list, the calendar).
pub async fn all(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<IncidentView>, sea_orm::DbErr> {
    use sea_orm::QuerySelect;
    let list = incident::Entity::find()
        .filter(incident::Column::ScheduledFor.is_not_null())
        .order_by_desc(incident::Column::ScheduledFor)
        .order_by_desc(incident::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    super::incidents::views_of(db, list).await
}

/// The names of the components a maintenance plans for, as its view knows
/// them (from the updates it made, else the planned ids).
pub fn planned_names(view: &IncidentView) -> Vec<String> {
    let planned = planned_components(&view.model);
    let mut names: Vec<String> = view
        .affected_components()
        .into_iter()
        .filter(|c| planned.contains(&c.component_id))
        .map(|c| c.name)
        .collect();
    if names.is_empty() {
        names = view.planned.clone();
    }
    names
}
