//! Reminders to staff that an open incident owes its readers an update: the
//! latest update's promise passed ([`PROMISE`]), or it has said nothing for
//! longer than the configured silence ([`SILENT`]).
//!
//! A small outbox of its own. Arming inserts at most one reminder per (update,
//! kind): the unique index makes that true however many workers look, and a
//! newer update is a new key, so each silence is told once. Sending claims
//! under a lease as deliveries do, so a worker that dies mid-send leaves the
//! reminder to the next.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, Set, Statement, Value,
};

use crate::entity::{incident, incident_update, staff_reminder};

/// The promised next update passed with none posted.
pub const PROMISE: &str = "promise";
/// No update for longer than the configured silence, and nothing promised.
pub const SILENT: &str = "silent";

/// How long a claimed reminder stays one worker's.
const LEASE: Duration = Duration::minutes(2);
/// A reminder whose mail keeps failing is retried this long after each try.
const RETRY: Duration = Duration::minutes(5);
/// After this many tries the reminder stays in the banner only.
const MAX_ATTEMPTS: i32 = 5;

/// An open incident and its latest update.
pub type Open = (incident::Model, incident_update::Model);

/// The open incidents (not maintenances: their windows speak for them) with
/// their latest update, read once per pass by arming, sending and the banner.
pub async fn open(db: &impl ConnectionTrait) -> Result<Vec<Open>, DbErr> {
    let incidents = incident::Entity::find()
        .filter(super::incidents::open_condition())
        .filter(incident::Column::ScheduledFor.is_null())
        .all(db)
        .await?;
    if incidents.is_empty() {
        return Ok(Vec::new());
    }
    let updates = incident_update::Entity::find()
        .filter(incident_update::Column::IncidentId.is_in(incidents.iter().map(|i| i.id)))
        .order_by_asc(incident_update::Column::DisplayAt)
        .order_by_asc(incident_update::Column::Id)
        .all(db)
        .await?;
    let mut latest: HashMap<i32, incident_update::Model> = HashMap::new();
    for u in updates {
        latest.insert(u.incident_id, u);
    }
    Ok(incidents
        .into_iter()
        .filter_map(|i| latest.remove(&i.id).map(|u| (i, u)))
        .collect())
}

/// The reminder an incident's latest update calls for at `at`, if any: its
/// kind and when it fell due.
pub fn due(
    latest: &incident_update::Model,
    at: DateTime<Utc>,
    silent_after: Option<Duration>,
) -> Option<(&'static str, DateTime<Utc>)> {
    match latest.next_update_by {
        Some(by) => (by <= at).then_some((PROMISE, by)),
        None => {
            let since = latest.display_at.max(latest.created_at);
            silent_after
                .map(|after| since + after)
                .filter(|due| *due <= at)
                .map(|due| (SILENT, due))
        }
    }
}

/// Records every reminder of the `open` incidents due at `at` that is not
/// yet recorded; returns how many it added. Safe to run from every worker at once.
pub async fn arm(
    db: &DatabaseConnection,
    open: &[Open],
    at: DateTime<Utc>,
    silent_after: Option<Duration>,
) -> Result<u64, DbErr> {
    let mut added = 0;
    for (inc, latest) in open {
        let Some((kind, due_at)) = due(latest, at, silent_after) else {
            continue;
        };
        let row = staff_reminder::ActiveModel {
            incident_id: Set(inc.id),
            update_id: Set(latest.id),
            kind: Set(kind.to_owned()),
            due_at: Set(due_at),
            created_at: Set(at),
            attempts: Set(0),
            next_attempt_at: Set(at),
            ..Default::default()
        };
        let done = staff_reminder::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    staff_reminder::Column::UpdateId,
                    staff_reminder::Column::Kind,
                ])
                .do_nothing()
                .to_owned(),
            )
            .do_nothing()
            .exec(db)
            .await?;
        if matches!(done, sea_orm::TryInsertResult::Inserted(_)) {
            added += 1;
        }
    }
    Ok(added)
}

/// Takes up to `limit` unsent reminders due at `at` for this worker, in one
/// statement (see `deliveries::claim` for why that is enough on both backends).
pub async fn claim(
    db: &DatabaseConnection,
    at: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<staff_reminder::Model>, DbErr> {
    let backend = db.get_database_backend();
    let lock = if backend == DatabaseBackend::Postgres {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE staff_reminders SET lease_until = $1, attempts = attempts + 1 \
         WHERE id IN ( \
           SELECT id FROM staff_reminders \
           WHERE sent_at IS NULL AND attempts < {MAX_ATTEMPTS} AND next_attempt_at <= $2 \
             AND (lease_until IS NULL OR lease_until < $2) \
           ORDER BY next_attempt_at, id LIMIT {limit} {lock}) \
         RETURNING *"
    );
    staff_reminder::Model::find_by_statement(Statement::from_sql_and_values(
        backend,
        sql,
        [Value::from(at + LEASE), Value::from(at)],
    ))
    .all(db)
    .await
}

/// Marks a claimed reminder told (or, with `note`, no longer needed).
pub async fn mark_sent(
    db: &DatabaseConnection,
    id: i32,
    at: DateTime<Utc>,
    note: Option<&str>,
) -> Result<(), DbErr> {
    staff_reminder::Entity::update_many()
        .col_expr(staff_reminder::Column::SentAt, Expr::value(at))
        .col_expr(
            staff_reminder::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            staff_reminder::Column::LastError,
            Expr::value(note.map(str::to_owned)),
        )
        .filter(staff_reminder::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Puts a reminder whose mail failed back, to be tried again later.
pub async fn mark_failed(
    db: &DatabaseConnection,
    id: i32,
    at: DateTime<Utc>,
    error: &str,
) -> Result<(), DbErr> {
    staff_reminder::Entity::update_many()
        .col_expr(
            staff_reminder::Column::NextAttemptAt,
            Expr::value(at + RETRY),
        )
        .col_expr(
            staff_reminder::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            staff_reminder::Column::LastError,
            Expr::value(Some(error.to_owned())),
        )
        .filter(staff_reminder::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The incident and its latest update, among `open`, while reminder `r`
/// still stands: the incident is open and has had no update since; `None`
/// once answered.
pub fn standing<'a>(open: &'a [Open], r: &staff_reminder::Model) -> Option<&'a Open> {
    open.iter()
        .find(|(i, u)| i.id == r.incident_id && u.id == r.update_id)
}

/// An open incident that owes its readers an update, as the admin's banner shows it.
#[derive(Debug, Clone)]
pub struct Owed {
    pub incident_id: i32,
    pub title: String,
    pub kind: String,
    pub due_at: DateTime<Utc>,
}

/// Every open incident with a standing reminder: armed and not answered by a
/// newer update. The banner shows them until someone posts.
pub async fn owed(db: &DatabaseConnection) -> Result<Vec<Owed>, DbErr> {
    let open = open(db).await?;
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let standing: Vec<staff_reminder::Model> = staff_reminder::Entity::find()
        .filter(staff_reminder::Column::UpdateId.is_in(open.iter().map(|(_, u)| u.id)))
        .order_by_asc(staff_reminder::Column::DueAt)
        .all(db)
        .await?;
    Ok(standing
        .into_iter()
        .filter_map(|r| {
            let (inc, _) = open.iter().find(|(i, _)| i.id == r.incident_id)?;
            Some(Owed {
                incident_id: inc.id,
                title: inc.title.clone(),
                kind: r.kind,
                due_at: r.due_at,
            })
        })
        .collect())
}
