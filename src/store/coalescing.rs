//! Coalescing email: a subscriber gets at most one email per incident per
//! window. The worker asks here when the last one went (a delivery due
//! sooner waits until the window closes) and which later updates of the same
//! incident still wait for the same subscriber (they go in that one email and
//! are marked sent with it). Webhooks are never coalesced.
//!
//! Safe against a second worker: a later delivery of the same subscriber and
//! incident cannot be claimed while an earlier one is pending
//! (`deliveries::claim`), and the earlier one is recorded sent only after the
//! later ones are marked.
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, Statement, Value,
};

use super::deliveries::{PENDING, SENT};
use super::now;
use super::outbox::EventKind;
use crate::entity::delivery;

#[derive(Debug, FromQueryResult)]
struct LastSent {
    at: Option<DateTime<Utc>>,
}

/// When subscriber `subscriber_id` was last emailed about incident `incident_id`.
pub async fn last_email(
    db: &DatabaseConnection,
    subscriber_id: i32,
    incident_id: i32,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let sql = format!(
        "SELECT MAX(d.sent_at) AS at FROM deliveries d \
         JOIN notification_events e ON e.id = d.event_id \
         WHERE d.subscriber_id = $1 AND e.incident_id = $2 AND d.status = '{SENT}' \
           AND e.kind IN ('{}', '{}')",
        EventKind::IncidentUpdate.as_str(),
        EventKind::Correction.as_str()
    );
    let row = LastSent::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [Value::from(subscriber_id), Value::from(incident_id)],
    ))
    .one(db)
    .await?;
    Ok(row.and_then(|r| r.at))
}

/// A later delivery that one email will carry.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Later {
    pub delivery_id: i32,
    pub update_id: i32,
}

/// The pending deliveries of later updates of incident `incident_id` to
/// subscriber `subscriber_id`, after event `event_id`, in the order posted.
pub async fn pending_later(
    db: &DatabaseConnection,
    subscriber_id: i32,
    incident_id: i32,
    event_id: i32,
) -> Result<Vec<Later>, DbErr> {
    let sql = format!(
        "SELECT d.id AS delivery_id, e.update_id AS update_id FROM deliveries d \
         JOIN notification_events e ON e.id = d.event_id \
         WHERE d.subscriber_id = $1 AND e.incident_id = $2 AND d.event_id > $3 \
           AND d.status = '{PENDING}' AND e.kind = '{}' AND e.update_id IS NOT NULL \
         ORDER BY d.event_id",
        EventKind::IncidentUpdate.as_str()
    );
    Later::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [
            Value::from(subscriber_id),
            Value::from(incident_id),
            Value::from(event_id),
        ],
    ))
    .all(db)
    .await
}

/// Marks `later` sent: delivery `into` carried them.
pub async fn mark_carried(db: &DatabaseConnection, later: &[i32], into: i32) -> Result<(), DbErr> {
    if later.is_empty() {
        return Ok(());
    }
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(SENT))
        .col_expr(delivery::Column::SentAt, Expr::value(Some(now())))
        .col_expr(
            delivery::Column::LastError,
            Expr::value(Some(format!("sent in the email of delivery {into}"))),
        )
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(delivery::Column::Id.is_in(later.iter().copied()))
        .filter(delivery::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    Ok(())
}

/// Puts a claimed delivery back, due at `until`, without counting an attempt.
pub async fn defer(db: &DatabaseConnection, id: i32, until: DateTime<Utc>) -> Result<(), DbErr> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(until))
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(delivery::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
