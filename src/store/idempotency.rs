//! Remembered answers to POSTs carrying an `Idempotency-Key`, so a retried
//! request returns the first result instead of acting twice.
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::now;
use crate::entity::idempotency_key;

/// A reservation not yet completed has this status.
const PENDING: i32 = 0;

/// Keys are kept this long; a retry after that acts again.
pub const KEEP_HOURS: i64 = 24;

/// A pending claim older than this is taken over by the next retry.
const ABANDONED_MINUTES: i64 = 2;

pub enum Claim {
    /// First use: go ahead, then `complete` (or `release` on failure).
    Fresh,
    /// Seen before with the same request: here is the first answer.
    Replay { status: u16, body: String },
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// Claims `key` for this token and request, or tells what happened to it before.
pub async fn claim(
    db: &impl ConnectionTrait,
    token_id: i32,
    key: &str,
    request_hash: &str,
) -> Result<Claim, sea_orm::DbErr> {
    let expired_before = now() - chrono::Duration::hours(KEEP_HOURS);
    // A claim still pending after this long belongs to a request that died
    // (dropped connection, crash): let a retry act rather than wait a day.
    let abandoned_before = now() - chrono::Duration::minutes(ABANDONED_MINUTES);
    idempotency_key::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(idempotency_key::Column::CreatedAt.lt(expired_before))
                .add(
                    sea_orm::Condition::all()
                        .add(idempotency_key::Column::Status.eq(PENDING))
                        .add(idempotency_key::Column::CreatedAt.lt(abandoned_before)),
                ),
        )
        .exec(db)
        .await?;
    let existing = idempotency_key::Entity::find_by_id((token_id, key.to_owned()))
        .one(db)
        .await?;
    if let Some(e) = existing {
        return Ok(classify(e, request_hash));
    }
    let inserted = idempotency_key::ActiveModel {
        token_id: Set(token_id),
        key: Set(key.to_owned()),
        request_hash: Set(request_hash.to_owned()),
        status: Set(PENDING),
        body: Set(String::new()),
        created_at: Set(now()),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(Claim::Fresh),
        // Lost a race with the same key: report what the winner holds.
        Err(e) => match idempotency_key::Entity::find_by_id((token_id, key.to_owned()))
            .one(db)
            .await?
        {
            Some(existing) => Ok(classify(existing, request_hash)),
            None => Err(e),
        },
    }
}

fn classify(e: idempotency_key::Model, request_hash: &str) -> Claim {
    if e.request_hash != request_hash {
        Claim::Mismatch
    } else if e.status == PENDING {
        Claim::InProgress
    } else {
        Claim::Replay {
            status: u16::try_from(e.status).unwrap_or(200),
            body: e.body,
        }
    }
}

/// Records the answer given to the claimed request.
pub async fn complete(
    db: &impl ConnectionTrait,
    token_id: i32,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), sea_orm::DbErr> {
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::Status,
            sea_orm::sea_query::Expr::value(i32::from(status)),
        )
        .col_expr(
            idempotency_key::Column::Body,
            sea_orm::sea_query::Expr::value(body.to_owned()),
        )
        .filter(idempotency_key::Column::TokenId.eq(token_id))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets a claim whose request failed on our side, so a retry acts again.
pub async fn release(
    db: &impl ConnectionTrait,
    token_id: i32,
    key: &str,
) -> Result<(), sea_orm::DbErr> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::TokenId.eq(token_id))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    Ok(())
}
