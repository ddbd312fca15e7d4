//! Deliveries: one per (notification event, subscriber), made from the outbox,
//! claimed by workers under a lease, and marked with what happened.
//!
//! Statuses ([`DeliveryStatus`]): `pending` (due at `next_attempt_at`, or held
//! by a worker while its `lease_until` lasts), `sent`, `dead` (given up).
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, LockBehavior, LockType},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DbErr, EntityTrait, FromQueryResult, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement, Value,
};

use super::now;
use crate::domain::{DeliveryStatus, SubscriberKind};
use crate::entity::{delivery, notification_event, subscriber};

// For the SQL below, which names statuses as text.
pub const PENDING: &str = DeliveryStatus::Pending.as_str();
pub const SENT: &str = DeliveryStatus::Sent.as_str();
pub const DEAD: &str = DeliveryStatus::Dead.as_str();

/// Expands up to `limit` events due at `at`, oldest first; returns how many
/// were expanded. An incident update's event is due once `send_delay` has
/// passed since it was written: until then staff may edit the update or hold
/// its notifications (`store::sending`).
pub async fn expand_pending(
    db: &DatabaseConnection,
    limit: u64,
    at: chrono::DateTime<chrono::Utc>,
    send_delay: chrono::Duration,
) -> Result<usize, DbErr> {
    use sea_orm::sea_query::Condition;
    let due = Condition::any()
        .add(notification_event::Column::Kind.ne(super::outbox::EventKind::IncidentUpdate.as_str()))
        .add(notification_event::Column::CreatedAt.lte(at - send_delay));
    let events = notification_event::Entity::find()
        .filter(notification_event::Column::ExpandedAt.is_null())
        .filter(due)
        .order_by_asc(notification_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let mut done = 0;
    for e in events {
        if expand(db, e.id).await?.is_some() {
            done += 1;
        }
    }
    Ok(done)
}

/// Makes one delivery per matching subscriber for the event, and marks the event
/// expanded, in one transaction. Doing it again after a crash inserts nothing
/// twice (the (event, subscriber) pair is unique); on PostgreSQL a second worker
/// skips an event another is expanding. Returns the number of deliveries made,
/// or None when the event was already expanded or being expanded.
pub async fn expand(db: &DatabaseConnection, event_id: i32) -> Result<Option<u64>, DbErr> {
    let txn = super::begin_write(db).await?;
    let backend = txn.get_database_backend();
    let mut q = notification_event::Entity::find_by_id(event_id);
    if backend == DatabaseBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let Some(event) = q.one(&txn).await? else {
        return Ok(None);
    };
    if event.expanded_at.is_some() {
        return Ok(None);
    }
    // The components the event is about: every component the incident's updates
    // touched so far, or the one component whose status changed.
    let decoded = match super::outbox::Event::decode(&event) {
        Ok(e) => e,
        Err(e) => {
            // Nobody can be told of what cannot be read: say so loudly, once,
            // and set it aside rather than retry it on every pass.
            tracing::error!(event = event.id, error = %e, "outbox event cannot be read; nobody is notified of it");
            mark_expanded(&txn, event).await?;
            txn.commit().await?;
            return Ok(Some(0));
        }
    };
    let affected = match decoded {
        super::outbox::Event::IncidentUpdate {
            incident_id,
            update_id,
        }
        | super::outbox::Event::Correction {
            incident_id,
            update_id,
        } => format!(
            "SELECT uc.component_id FROM update_components uc \
             JOIN incident_updates iu ON iu.id = uc.update_id \
             WHERE iu.incident_id = {incident_id} AND iu.id <= {update_id}"
        ),
        super::outbox::Event::ComponentChange { component_id, .. } => {
            format!("SELECT {component_id}")
        }
        // What the window will put under maintenance; ids are integers from
        // the row, never text, so they are safe to write into the SQL.
        super::outbox::Event::MaintenanceReminder { incident_id } => {
            let planned = match crate::entity::incident::Entity::find_by_id(incident_id)
                .one(&txn)
                .await?
            {
                Some(row) => super::maintenance::planned_components(&row),
                None => Vec::new(),
            };
            match planned.as_slice() {
                [] => "SELECT 1 WHERE 1 = 0".to_owned(),
                ids => format!(
                    "SELECT id FROM components WHERE id IN ({})",
                    ids.iter()
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
        // Told to those who heard of the incident: every component it touched.
        super::outbox::Event::Postmortem { incident_id } => format!(
            "SELECT uc.component_id FROM update_components uc \
             JOIN incident_updates iu ON iu.id = uc.update_id \
             WHERE iu.incident_id = {incident_id}"
        ),
    };
    // A subscriber with no components chosen hears of everything; an event about
    // no component goes to everyone; else the two sets must meet.
    let sql = format!(
        "INSERT INTO deliveries (event_id, subscriber_id, status, attempts, next_attempt_at, created_at) \
         SELECT $1, s.id, '{PENDING}', 0, $2, $2 FROM subscribers s \
         WHERE s.confirmed_at IS NOT NULL AND s.disabled_at IS NULL AND s.unsubscribed_at IS NULL \
           AND (NOT EXISTS (SELECT 1 FROM subscriber_components sc WHERE sc.subscriber_id = s.id) \
                OR NOT EXISTS ({affected}) \
                OR EXISTS (SELECT 1 FROM subscriber_components sc WHERE sc.subscriber_id = s.id \
                           AND sc.component_id IN ({affected}))) \
         ON CONFLICT (event_id, subscriber_id) DO NOTHING"
    );
    let at = now();
    let made = txn
        .execute(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(event.id), Value::from(at)],
        ))
        .await?
        .rows_affected();
    mark_expanded(&txn, event).await?;
    txn.commit().await?;
    if made >= ANALYZE_AFTER && backend == DatabaseBackend::Postgres {
        // PostgreSQL plans the claim from statistics that autovacuum renews
        // only later: taken while the table held none of these rows, they
        // make it sort every pending delivery on each claim (190 ms at 20,000
        // instead of 1 ms through the claim index). Renewed now, as after any
        // bulk load; a failure only costs speed.
        if let Err(e) = db.execute_unprepared("ANALYZE deliveries").await {
            tracing::debug!(error = %e, "ANALYZE deliveries failed");
        }
    }
    Ok(Some(made))
}

/// A fan-out at least this large renews the planner's statistics.
const ANALYZE_AFTER: u64 = 1000;

async fn mark_expanded(
    txn: &impl ConnectionTrait,
    event: notification_event::Model,
) -> Result<(), DbErr> {
    let mut e = event.into_active_model();
    e.expanded_at = Set(Some(now()));
    e.update(txn).await?;
    Ok(())
}

/// A delivery a worker holds until `lease_until`.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Claimed {
    pub id: i32,
    pub event_id: i32,
    pub subscriber_id: i32,
    pub attempts: i32,
}

/// Takes up to `limit` due deliveries for this worker until `now + lease`.
///
/// One statement, so two workers never take the same delivery: on PostgreSQL the
/// rows are locked with `FOR UPDATE SKIP LOCKED` (another worker skips them, and
/// one that waited re-checks the lease); SQLite runs each write statement alone.
/// A delivery waits while an earlier one to the same subscriber about the same
/// incident (or component) is still pending, so updates arrive in order, and
/// while an earlier event is not yet expanded (its deliveries may come first).
pub async fn claim(
    db: &DatabaseConnection,
    limit: u64,
    lease: std::time::Duration,
    at: DateTime<Utc>,
) -> Result<Vec<Claimed>, DbErr> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let until = at + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(2));
    let lock = if backend == DatabaseBackend::Postgres {
        "FOR UPDATE OF d SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE deliveries SET lease_until = $1 \
         WHERE id IN ( \
           SELECT d.id FROM deliveries d \
           JOIN notification_events e ON e.id = d.event_id \
           WHERE d.status = '{PENDING}' AND d.next_attempt_at <= $2 \
             AND (d.lease_until IS NULL OR d.lease_until < $2) \
             AND NOT EXISTS ( \
               SELECT 1 FROM deliveries p JOIN notification_events pe ON pe.id = p.event_id \
               WHERE p.subscriber_id = d.subscriber_id AND p.status = '{PENDING}' \
                 AND p.event_id < d.event_id \
                 AND (pe.incident_id = e.incident_id OR pe.component_id = e.component_id)) \
             AND NOT EXISTS ( \
               SELECT 1 FROM notification_events x WHERE x.expanded_at IS NULL AND x.id < d.event_id) \
           ORDER BY d.next_attempt_at, d.id \
           LIMIT {limit} {lock}) \
         RETURNING id, event_id, subscriber_id, attempts"
    );
    Claimed::find_by_statement(Statement::from_sql_and_values(
        backend,
        sql,
        [Value::from(until), Value::from(at)],
    ))
    .all(db)
    .await
}

/// Extends the leases of deliveries still in flight to `now + lease`. Only a
/// lease still running is extended: one that ran out may be another worker's now.
pub async fn renew(
    db: &DatabaseConnection,
    ids: &[i32],
    lease: std::time::Duration,
) -> Result<u64, DbErr> {
    let at = now();
    let until = at + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(2));
    let res = delivery::Entity::update_many()
        .col_expr(delivery::Column::LeaseUntil, Expr::value(Some(until)))
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(delivery::Column::Status.eq(PENDING))
        .filter(delivery::Column::LeaseUntil.gte(at))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Hands deliveries back, unsent and due at once, to whichever worker claims
/// next: a worker stopping with sends still in flight.
pub async fn release(db: &DatabaseConnection, ids: &[i32]) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let res = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(delivery::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// The deliveries reached their subscribers: one statement for the lot.
pub async fn mark_sent_many(db: &DatabaseConnection, ids: &[i32]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let at = now();
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(SENT))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::SentAt, Expr::value(Some(at)))
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// The attempt failed; try again at `next`, or give up when `next` is None.
pub async fn mark_failed(
    db: &DatabaseConnection,
    id: i32,
    error: &str,
    next: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    let error: String = error.chars().take(1000).collect();
    let mut q = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(delivery::Column::LastError, Expr::value(Some(error)))
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    q = match next {
        Some(at) => q.col_expr(delivery::Column::NextAttemptAt, Expr::value(at)),
        None => q.col_expr(delivery::Column::Status, Expr::value(DEAD)),
    };
    q.filter(delivery::Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

/// The subscriber succeeded again: its run of failures is over.
pub async fn clear_failing(db: &DatabaseConnection, subscriber_id: i32) -> Result<(), DbErr> {
    subscriber::Entity::update_many()
        .col_expr(
            subscriber::Column::FailingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(subscriber::Column::Id.eq(subscriber_id))
        .filter(subscriber::Column::FailingSince.is_not_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failure; returns when the subscriber's unbroken run of failures began.
pub async fn note_failing(
    db: &DatabaseConnection,
    subscriber_id: i32,
) -> Result<DateTime<Utc>, DbErr> {
    let at = now();
    subscriber::Entity::update_many()
        .col_expr(subscriber::Column::FailingSince, Expr::value(Some(at)))
        .filter(subscriber::Column::Id.eq(subscriber_id))
        .filter(subscriber::Column::FailingSince.is_null())
        .exec(db)
        .await?;
    Ok(subscriber::Entity::find_by_id(subscriber_id)
        .one(db)
        .await?
        .and_then(|s| s.failing_since)
        .unwrap_or(at))
}

/// Nothing more goes to a subscriber who left: what was never tried is
/// dropped (nothing happened to it), what was tried is dead with `reason`, so
/// its attempts stay on record. One in flight is left to its worker, which
/// records what came of it and tries no more.
pub async fn cancel_pending(
    txn: &impl ConnectionTrait,
    subscriber_id: i32,
    reason: &str,
) -> Result<(), DbErr> {
    let at = now();
    let idle = || {
        Condition::all()
            .add(delivery::Column::SubscriberId.eq(subscriber_id))
            .add(delivery::Column::Status.eq(PENDING))
            .add(
                Condition::any()
                    .add(delivery::Column::LeaseUntil.is_null())
                    .add(delivery::Column::LeaseUntil.lt(at)),
            )
    };
    delivery::Entity::delete_many()
        .filter(idle())
        .filter(delivery::Column::Attempts.eq(0))
        .exec(txn)
        .await?;
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(DEAD))
        .col_expr(
            delivery::Column::LastError,
            Expr::value(Some(reason.to_owned())),
        )
        .filter(idle())
        .exec(txn)
        .await?;
    Ok(())
}

/// Stops all sending to a subscriber; true when this call disabled it. Its
/// pending deliveries die with it.
pub async fn disable_subscriber(
    db: &DatabaseConnection,
    subscriber_id: i32,
    reason: &str,
) -> Result<bool, DbErr> {
    let txn = super::begin_write(db).await?;
    let changed = subscriber::Entity::update_many()
        .col_expr(subscriber::Column::DisabledAt, Expr::value(Some(now())))
        .col_expr(
            subscriber::Column::DisabledReason,
            Expr::value(Some(reason.to_owned())),
        )
        .filter(subscriber::Column::Id.eq(subscriber_id))
        .filter(subscriber::Column::DisabledAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(DEAD))
        .col_expr(
            delivery::Column::LastError,
            Expr::value(Some(format!("subscriber disabled: {reason}"))),
        )
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(delivery::Column::SubscriberId.eq(subscriber_id))
        .filter(delivery::Column::Status.eq(PENDING))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(changed > 0)
}

/// What waits to be sent, for the operator's metrics.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    /// Deliveries not yet sent nor given up.
    pub pending: i64,
    /// Events not yet turned into deliveries.
    pub unexpanded: i64,
    /// When the oldest thing still waiting (a pending delivery, or an event
    /// not yet expanded) was made: the age of the oldest unsent notice.
    pub oldest: Option<DateTime<Utc>>,
}

#[derive(Debug, FromQueryResult)]
struct QueueRow {
    n: i64,
    oldest: Option<DateTime<Utc>>,
}

pub async fn queue(db: &DatabaseConnection) -> Result<Queue, DbErr> {
    let backend = db.get_database_backend();
    let row =
        |sql: String| QueueRow::find_by_statement(Statement::from_string(backend, sql)).one(db);
    let pending = row(format!(
        "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM deliveries WHERE status = '{PENDING}'"
    ))
    .await?;
    let events = row(
        "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM notification_events \
         WHERE expanded_at IS NULL"
            .to_owned(),
    )
    .await?;
    let (pending, events) = (
        pending.unwrap_or(QueueRow { n: 0, oldest: None }),
        events.unwrap_or(QueueRow { n: 0, oldest: None }),
    );
    Ok(Queue {
        pending: pending.n,
        unexpanded: events.n,
        oldest: [pending.oldest, events.oldest].into_iter().flatten().min(),
    })
}

// ---- staff view ----------------------------------------------------------------

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Counts {
    pub sent: i64,
    /// Not yet tried, or being tried.
    pub pending: i64,
    /// Pending again after a failed attempt.
    pub failed: i64,
    pub dead: i64,
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub delivery_id: i32,
    pub update_id: i32,
    pub status: DeliveryStatus,
    /// The address, or the webhook URL.
    pub recipient: String,
    pub attempts: i32,
    pub last_error: String,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, FromQueryResult)]
struct CountRow {
    update_id: i32,
    status: String,
    failed: bool,
    n: i64,
}

#[derive(Debug, Clone, FromQueryResult)]
struct FailureRow {
    id: i32,
    update_id: i32,
    status: String,
    kind: String,
    email: String,
    webhook_url: Option<String>,
    attempts: i32,
    last_error: Option<String>,
    next_attempt_at: DateTime<Utc>,
}

/// Where the deliveries of an incident's postmortem are counted, beside its
/// updates' (update ids start at 1).
pub const POSTMORTEM_ROW: i32 = 0;

/// Delivery counts for each update of an incident (by update id, the
/// postmortem's under [`POSTMORTEM_ROW`]), and the failures (failed or dead,
/// most recent first, at most `max_failures`).
/// The events whose deliveries an incident's page counts: its updates' and its postmortem's.
const TOLD_OF_INCIDENT: &str = "(e.update_id IS NOT NULL OR e.kind = 'postmortem')";

pub async fn for_incident(
    db: &DatabaseConnection,
    incident_id: i32,
    max_failures: u64,
) -> Result<(HashMap<i32, Counts>, Vec<Failure>), DbErr> {
    let backend = db.get_database_backend();
    let rows = CountRow::find_by_statement(Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT COALESCE(e.update_id, {POSTMORTEM_ROW}) AS update_id, d.status AS status, \
               (d.status = '{PENDING}' AND d.attempts > 0 AND d.last_error IS NOT NULL) AS failed, \
               COUNT(*) AS n \
             FROM deliveries d JOIN notification_events e ON e.id = d.event_id \
             WHERE e.incident_id = $1 AND {TOLD_OF_INCIDENT} \
             GROUP BY COALESCE(e.update_id, {POSTMORTEM_ROW}), d.status, \
               (d.status = '{PENDING}' AND d.attempts > 0 AND d.last_error IS NOT NULL)"
        ),
        [Value::from(incident_id)],
    ))
    .all(db)
    .await?;
    let mut counts: HashMap<i32, Counts> = HashMap::new();
    for r in rows {
        let status = super::read(
            DeliveryStatus::parse(&r.status),
            format_args!("a delivery status of update {}", r.update_id),
        )?;
        let c = counts.entry(r.update_id).or_default();
        match (status, r.failed) {
            (DeliveryStatus::Sent, _) => c.sent += r.n,
            (DeliveryStatus::Dead, _) => c.dead += r.n,
            (DeliveryStatus::Pending, true) => c.failed += r.n,
            (DeliveryStatus::Pending, false) => c.pending += r.n,
        }
    }
    let failures = FailureRow::find_by_statement(Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT d.id AS id, COALESCE(e.update_id, {POSTMORTEM_ROW}) AS update_id, \
               d.status AS status, s.kind AS kind, \
               s.email AS email, s.webhook_url AS webhook_url, d.attempts AS attempts, \
               d.last_error AS last_error, d.next_attempt_at AS next_attempt_at \
             FROM deliveries d JOIN notification_events e ON e.id = d.event_id \
             JOIN subscribers s ON s.id = d.subscriber_id \
             WHERE e.incident_id = $1 AND {TOLD_OF_INCIDENT} AND d.last_error IS NOT NULL \
               AND (d.status = '{DEAD}' OR (d.status = '{PENDING}' AND d.attempts > 0)) \
             ORDER BY d.id DESC LIMIT {max_failures}"
        ),
        [Value::from(incident_id)],
    ))
    .all(db)
    .await?
    .into_iter()
    .map(|r| {
        let status = super::read(
            DeliveryStatus::parse(&r.status),
            format_args!("the status of delivery {}", r.id),
        )?;
        let kind = super::read(
            SubscriberKind::parse(&r.kind),
            format_args!("the kind of the subscriber of delivery {}", r.id),
        )?;
        Ok(Failure {
            delivery_id: r.id,
            update_id: r.update_id,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(r.next_attempt_at),
            status,
            recipient: match kind {
                SubscriberKind::Webhook => r.webhook_url.unwrap_or_default(),
                SubscriberKind::Email => r.email,
            },
            attempts: r.attempts,
            last_error: r.last_error.unwrap_or_default(),
        })
    })
    .collect::<Result<_, DbErr>>()?;
    Ok((counts, failures))
}

/// Makes the incident's dead deliveries due again, from a fresh schedule, for
/// subscribers still enabled; returns how many deliveries are due again.
///
/// Updates reach a subscriber in the order they were posted, retried or not:
/// where a later update of the incident already reached the subscriber, it is
/// sent again after the retried one (with the same Message-ID or webhook-id, so
/// a receiver can tell the repeat), and what the subscriber hears last is the
/// incident's latest state, never an older one.
pub async fn retry_dead(db: &DatabaseConnection, incident_id: i32) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let txn = super::begin_write(db).await?;
    let of_incident = "SELECT id FROM notification_events WHERE incident_id = $2";
    let enabled =
        "SELECT id FROM subscribers WHERE disabled_at IS NULL AND unsubscribed_at IS NULL";
    // First the sent ones that would otherwise be overtaken, while the dead
    // ones they come after still read as dead.
    let resent = txn
        .execute(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE deliveries SET status = '{PENDING}', attempts = 0, next_attempt_at = $1, \
                   lease_until = NULL, last_error = NULL \
                 WHERE status = '{SENT}' AND event_id IN ({of_incident}) \
                   AND subscriber_id IN ({enabled}) \
                   AND EXISTS (SELECT 1 FROM deliveries x \
                     WHERE x.subscriber_id = deliveries.subscriber_id AND x.status = '{DEAD}' \
                       AND x.event_id < deliveries.event_id AND x.event_id IN ({of_incident}))"
            ),
            [Value::from(now()), Value::from(incident_id)],
        ))
        .await?
        .rows_affected();
    let retried = txn
        .execute(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE deliveries SET status = '{PENDING}', attempts = 0, next_attempt_at = $1, \
                   lease_until = NULL \
                 WHERE status = '{DEAD}' AND event_id IN ({of_incident}) \
                   AND subscriber_id IN ({enabled})"
            ),
            [Value::from(now()), Value::from(incident_id)],
        ))
        .await?
        .rows_affected();
    txn.commit().await?;
    Ok(retried + resent)
}

/// Every delivery of one event, for tests and tools.
pub async fn of_event(
    db: &DatabaseConnection,
    event_id: i32,
) -> Result<Vec<delivery::Model>, DbErr> {
    delivery::Entity::find()
        .filter(delivery::Column::EventId.eq(event_id))
        .order_by_asc(delivery::Column::Id)
        .all(db)
        .await
}
