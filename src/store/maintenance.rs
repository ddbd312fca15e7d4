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
use crate::domain::{
    ComponentStatus, Impact, IncidentStatus, IncidentTitle, Recurrence, UpdateBody, Window,
};
use crate::entity::{component, incident, maintenance_series};

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

/// What staff change on a maintenance after scheduling it; `None` keeps it.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub title: Option<IncidentTitle>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// `Some(None)` turns the reminder off.
    pub remind_minutes: Option<Option<i32>>,
    pub auto_in_progress: Option<bool>,
    pub auto_completed: Option<bool>,
    pub notify_start: Option<bool>,
    pub notify_end: Option<bool>,
}

/// What an edit did: whether anything changed, so that a resent request
/// moves neither the calendar's SEQUENCE nor the reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edited {
    pub changed: bool,
    /// A reminder sent for the old start will be sent again for the new one.
    pub remind_again: bool,
}

/// The one message a cancellation posts, in every channel.
pub const CANCELLED: &str = "This scheduled maintenance has been cancelled.";

/// Changes a maintenance's title, window, reminder or edges, under its row
/// lock so that a worker's transition sees the plan before or after, never
/// half of it. A maintenance that started keeps its start (what happened
/// stays as it happened); one that is over takes no edit. Moving the start
/// re-arms a reminder already sent when the new start lies after the moment
/// that reminder went out: subscribers were told a time that is no longer
/// true, and the worker then tells them the new one in its reminder period
/// (at once, if that has already begun).
pub async fn edit(db: &DatabaseConnection, id: i32, e: Edit) -> Result<Edited, StoreError> {
    let txn = super::begin_write(db).await?;
    let inc = super::incidents::lock_incident(&txn, id).await?;
    let (Some(old_from), Some(old_until)) = (inc.scheduled_for, inc.scheduled_until) else {
        return Err(StoreError::Conflict {
            field: "scheduled_for",
            message: "This is an incident, not a scheduled maintenance: it has no window.".into(),
        });
    };
    let status = super::read(
        IncidentStatus::parse(&inc.status),
        format_args!("the status of incident {}", inc.id),
    )?;
    if status.is_resolved() {
        return Err(StoreError::Conflict {
            field: "status",
            message: "This maintenance is over: it can no longer be edited.".into(),
        });
    }
    let from = e.from.unwrap_or(old_from);
    let until = e.until.unwrap_or(old_until);
    if from != old_from && status != IncidentStatus::Scheduled {
        return Err(StoreError::Conflict {
            field: "scheduled_for",
            message: "The maintenance has started: its start can no longer change.".into(),
        });
    }
    let window = Window::parse(from, until).map_err(|p| StoreError::Conflict {
        field: "scheduled_until",
        message: p.0,
    })?;
    let title = e
        .title
        .map_or_else(|| inc.title.clone(), |t| t.as_str().to_owned());
    let remind = e.remind_minutes.unwrap_or(inc.scheduled_remind_minutes);
    let auto_in_progress = e.auto_in_progress.unwrap_or(inc.scheduled_auto_in_progress);
    let auto_completed = e.auto_completed.unwrap_or(inc.scheduled_auto_completed);
    let notify_start = e.notify_start.unwrap_or(inc.scheduled_notify_start);
    let notify_end = e.notify_end.unwrap_or(inc.scheduled_notify_end);
    let changed = title != inc.title
        || window.from != old_from
        || window.until != old_until
        || remind != inc.scheduled_remind_minutes
        || auto_in_progress != inc.scheduled_auto_in_progress
        || auto_completed != inc.scheduled_auto_completed
        || notify_start != inc.scheduled_notify_start
        || notify_end != inc.scheduled_notify_end;
    let remind_again =
        window.from != old_from && inc.reminded_at.is_some_and(|sent| window.from > sent);
    if !changed {
        return Ok(Edited {
            changed,
            remind_again,
        });
    }
    let edits = inc.scheduled_edits;
    let mut row: incident::ActiveModel = inc.into();
    row.title = Set(title);
    if window.from != old_from {
        // The page lists a maintenance on the day of its window.
        row.started_at = Set(window.from);
    }
    row.scheduled_for = Set(Some(window.from));
    row.scheduled_until = Set(Some(window.until));
    row.scheduled_remind_minutes = Set(remind);
    row.scheduled_auto_in_progress = Set(auto_in_progress);
    row.scheduled_auto_completed = Set(auto_completed);
    row.scheduled_notify_start = Set(notify_start);
    row.scheduled_notify_end = Set(notify_end);
    if remind_again {
        row.reminded_at = Set(None);
    }
    row.scheduled_edits = Set(edits.saturating_add(1));
    row.updated_at = Set(super::now());
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(Edited {
        changed,
        remind_again,
    })
}

/// Calls off a maintenance that has not started, as Statuspage does: a final
/// update marks it completed with [`CANCELLED`], so it never starts, reminds
/// or completes by itself, and the page and the calendar say "Cancelled". One
/// that started is finished by posting `completed` instead.
pub async fn cancel(
    db: &DatabaseConnection,
    id: i32,
    author_id: i32,
    notify: bool,
) -> Result<super::incidents::Published, StoreError> {
    let txn = super::begin_write(db).await?;
    let inc = super::incidents::lock_incident(&txn, id).await?;
    if inc.scheduled_for.is_none() {
        return Err(StoreError::Conflict {
            field: "status",
            message: "This is an incident, not a scheduled maintenance: resolve it instead.".into(),
        });
    }
    if inc.status != IncidentStatus::Scheduled.as_str() {
        let message = if inc.status == IncidentStatus::Completed.as_str() {
            "This maintenance is already over."
        } else {
            "This maintenance has started: post Completed to finish it instead."
        };
        return Err(StoreError::Conflict {
            field: "status",
            message: message.into(),
        });
    }
    let update = NewUpdate {
        status: IncidentStatus::Completed,
        body: UpdateBody::parse(CANCELLED).expect("a fixed message"),
        components: Vec::new(),
        at: edge_time(&txn, &inc, Some(super::now())).await?,
        author_id,
        notify,
        operational_on_resolve: false,
        next_update_by: None,
    };
    let published = super::incidents::append(&txn, inc, update).await?;
    txn.commit().await?;
    Ok(published)
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
    /// Occurrences of recurring series made ahead of time.
    pub created: Vec<i32>,
    pub started: Vec<i32>,
    pub completed: Vec<i32>,
    pub reminded: Vec<i32>,
}

impl Done {
    pub fn is_empty(&self) -> bool {
        self.created.is_empty()
            && self.started.is_empty()
            && self.completed.is_empty()
            && self.reminded.is_empty()
    }
}

/// Makes every transition due at `at`: the occurrences of recurring series
/// up to [`AHEAD`], then reminders, then starts, then ends, so that a window
/// missed whole (the worker was down across it) still starts before it
/// completes.
pub async fn run_due(db: &DatabaseConnection, at: DateTime<Utc>) -> Result<Done, StoreError> {
    let mut done = Done {
        created: materialize(db, at).await?,
        ..Done::default()
    };
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

// ---- recurring series ----------------------------------------------------------

/// How far ahead a series' occurrences exist as maintenances: far enough to
/// be on the page, in the calendar and in the reminders' reach, near enough
/// that a rule without end makes a handful.
pub const AHEAD: chrono::Duration = chrono::Duration::days(14);

/// A recurring maintenance: what every occurrence is, and when.
pub struct NewSeries {
    pub title: IncidentTitle,
    pub impact: Impact,
    pub body: UpdateBody,
    /// The first window, and what each occurrence plans.
    pub plan: Plan,
    /// Built from the plan's window, in `zone`.
    pub recurrence: Recurrence,
    pub zone: chrono_tz::Tz,
    pub author_id: i32,
    /// Whether the first occurrence's "scheduled" notifies; later ones are
    /// made quietly and remind as any maintenance does.
    pub notify: bool,
}

/// Saves the series with its first occurrence (one transaction: never a
/// series without it), then makes the others that start within [`AHEAD`]
/// of `at`. Answers the occurrences made, the first one first.
pub async fn create_series(
    db: &DatabaseConnection,
    new: NewSeries,
    at: DateTime<Utc>,
) -> Result<Vec<i32>, StoreError> {
    let txn = super::begin_write(db).await?;
    for id in &new.plan.components {
        live_component(&txn, *id)
            .await?
            .ok_or_else(|| StoreError::Conflict {
                field: "components",
                message: format!("Component {id} does not exist."),
            })?;
    }
    let series =
        maintenance_series::ActiveModel {
            title: Set(new.title.as_str().to_owned()),
            impact: Set(new.impact.as_str().to_owned()),
            message: Set(new.body.as_str().to_owned()),
            rule: Set(new.recurrence.as_str().to_owned()),
            zone: Set(new.zone.name().to_owned()),
            first_from: Set(new.plan.window.from),
            first_until: Set(new.plan.window.until),
            components: Set(
                serde_json::to_string(&new.plan.components).unwrap_or_else(|_| "[]".into())
            ),
            remind_minutes: Set(new.plan.remind_minutes),
            auto_in_progress: Set(new.plan.auto_in_progress),
            auto_completed: Set(new.plan.auto_completed),
            notify_start: Set(new.plan.notify_start),
            notify_end: Set(new.plan.notify_end),
            author_id: Set(new.author_id),
            created_at: Set(super::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    let first = occur(&txn, &series, new.plan.window, new.notify)
        .await?
        .expect("a new series has no occurrence yet");
    txn.commit().await?;
    let mut made = vec![first];
    made.extend(materialize_series(db, &series, at).await?);
    Ok(made)
}

/// Makes every occurrence due by `at` + [`AHEAD`] that does not exist yet,
/// for every series.
async fn materialize(db: &DatabaseConnection, at: DateTime<Utc>) -> Result<Vec<i32>, StoreError> {
    let mut made = Vec::new();
    for series in maintenance_series::Entity::find()
        .filter(maintenance_series::Column::StoppedAt.is_null())
        .order_by_asc(maintenance_series::Column::Id)
        .all(db)
        .await?
    {
        made.extend(materialize_series(db, &series, at).await?);
    }
    Ok(made)
}

/// The series' rule as stored; a row that no longer reads (a zone renamed
/// away, a rule this version refuses) makes nothing rather than stopping
/// every other series.
fn recurrence_of(series: &maintenance_series::Model) -> Option<Recurrence> {
    let tz: chrono_tz::Tz = series.zone.parse().ok()?;
    let first = Window::parse(series.first_from, series.first_until).ok()?;
    match Recurrence::parse(&series.rule, first, tz) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(series = series.id, error = %e, "a maintenance series' rule does not read");
            None
        }
    }
}

/// Each occurrence is its own transaction and is inserted only if its
/// (series, start) pair is new: a second worker that raced to it finds it
/// made (the unique index waits for the first one's commit) and moves on.
async fn materialize_series(
    db: &DatabaseConnection,
    series: &maintenance_series::Model,
    at: DateTime<Utc>,
) -> Result<Vec<i32>, StoreError> {
    let Some(rule) = recurrence_of(series) else {
        return Ok(Vec::new());
    };
    let windows = rule.windows(at, at + AHEAD);
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    use sea_orm::QuerySelect;
    let made: Vec<DateTime<Utc>> = incident::Entity::find()
        .select_only()
        .column(incident::Column::SeriesStart)
        .filter(incident::Column::SeriesId.eq(series.id))
        .filter(incident::Column::SeriesStart.is_in(windows.iter().map(|w| w.from)))
        .into_tuple::<Option<DateTime<Utc>>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let mut out = Vec::new();
    for window in windows.into_iter().filter(|w| !made.contains(&w.from)) {
        let txn = super::begin_write(db).await?;
        // Read again under a lock that a stop waits for: none is made after it.
        let mut q = maintenance_series::Entity::find_by_id(series.id);
        if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            q = q.lock_shared();
        }
        if q.one(&txn).await?.is_none_or(|s| s.stopped_at.is_some()) {
            break;
        }
        if let Some(id) = occur(&txn, series, window, false).await? {
            txn.commit().await?;
            out.push(id);
        }
    }
    Ok(out)
}

async fn live_component(
    txn: &DatabaseTransaction,
    id: i32,
) -> Result<Option<component::Model>, sea_orm::DbErr> {
    component::Entity::find_by_id(id)
        .filter(component::Column::DeletedAt.is_null())
        .one(txn)
        .await
}

/// One occurrence as a maintenance of its own, unless it exists already.
/// Components deleted since the series was saved are left out.
async fn occur(
    txn: &DatabaseTransaction,
    series: &maintenance_series::Model,
    window: Window,
    notify: bool,
) -> Result<Option<i32>, StoreError> {
    use sea_orm::sea_query::OnConflict;
    use sea_orm::TryInsertResult;
    let planned: Vec<i32> = serde_json::from_str(&series.components).unwrap_or_default();
    let mut components = Vec::new();
    for id in planned {
        if live_component(txn, id).await?.is_some() {
            components.push(id);
        }
    }
    let at = super::now();
    let row = incident::ActiveModel {
        title: Set(series.title.clone()),
        impact: Set(series.impact.clone()),
        status: Set(IncidentStatus::Scheduled.as_str().to_owned()),
        monitoring_at: Set(None),
        resolved_at: Set(None),
        author_id: Set(series.author_id),
        seed_key: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        series_id: Set(Some(series.id)),
        series_start: Set(Some(window.from)),
        ..Default::default()
    };
    let plan = Plan {
        window,
        components,
        remind_minutes: series.remind_minutes,
        auto_in_progress: series.auto_in_progress,
        auto_completed: series.auto_completed,
        notify_start: series.notify_start,
        notify_end: series.notify_end,
    };
    let row = plan.apply(txn, row).await?;
    let inserted = incident::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([incident::Column::SeriesId, incident::Column::SeriesStart])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(txn)
        .await?;
    let TryInsertResult::Inserted(inserted) = inserted else {
        return Ok(None);
    };
    let inc = incident::Entity::find_by_id(inserted.last_insert_id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let body = UpdateBody::parse(&series.message).map_err(|e| StoreError::Conflict {
        field: "message",
        message: e.0,
    })?;
    let update = NewUpdate {
        status: IncidentStatus::Scheduled,
        body,
        components: Vec::new(),
        at,
        author_id: series.author_id,
        notify,
        operational_on_resolve: false,
        next_update_by: None,
    };
    let published = super::incidents::append(txn, inc, update).await?;
    Ok(Some(published.incident_id))
}

pub async fn find_series(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<maintenance_series::Model>, sea_orm::DbErr> {
    maintenance_series::Entity::find_by_id(id).one(db).await
}

/// Stops a series: no occurrence is made after this, and those already
/// made stay as they are (each is cancelled on its own). Under the write
/// lock, so a worker making occurrences either made one before or makes
/// none after. Stopping a stopped series changes nothing.
pub async fn stop_series(db: &DatabaseConnection, id: i32) -> Result<(), StoreError> {
    let txn = super::begin_write(db).await?;
    let mut q = maintenance_series::Entity::find_by_id(id);
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        use sea_orm::QuerySelect;
        q = q.lock_exclusive();
    }
    let series = q.one(&txn).await?.ok_or(StoreError::NotFound)?;
    if series.stopped_at.is_none() {
        let mut row: maintenance_series::ActiveModel = series.into();
        row.stopped_at = Set(Some(super::now()));
        row.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}
