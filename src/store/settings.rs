//! Key-value settings that live in the database, shared by every process.
use sea_orm::{sea_query::OnConflict, ConnectionTrait, DatabaseConnection, EntityTrait, Set};

use crate::domain::PageZone;
use crate::entity::setting;

pub const SECRET_KEY: &str = "secret_key";
pub const PAGE_TIMEZONE: &str = "page_timezone";
pub const PAGE_ID: &str = "page_id";

pub async fn get(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, sea_orm::DbErr> {
    Ok(setting::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .map(|m| m.value))
}

pub async fn set(db: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), sea_orm::DbErr> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .update_column(setting::Column::Value)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Returns the stored value, or stores `make()` if there is none. When two
/// processes race, both end up with the value that won.
pub async fn get_or_init(
    db: &impl ConnectionTrait,
    key: &str,
    make: impl FnOnce() -> String,
) -> Result<String, sea_orm::DbErr> {
    if let Some(v) = get(db, key).await? {
        return Ok(v);
    }
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(make()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec(db)
    .await?;
    get(db, key)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(key.to_owned()))
}

/// Moved on, in the same transaction, by every write to what the public pages
/// show (database triggers, see migration m20261203_000030): a process that
/// sees it change knows its cached pages are out of date, whoever wrote.
pub const PAGE_GENERATION: &str = "page_generation";

/// The PostgreSQL channel those triggers notify on commit, with the new
/// generation as the payload.
pub const PAGE_CHANNEL: &str = "statuspost_pages";

/// The current page generation; 0 if the row is missing.
pub async fn page_generation(db: &impl ConnectionTrait) -> Result<i64, sea_orm::DbErr> {
    Ok(get(db, PAGE_GENERATION)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// The page zone staff chose (at setup), if any; an unreadable value counts as none.
pub async fn page_zone(db: &impl ConnectionTrait) -> Result<Option<PageZone>, sea_orm::DbErr> {
    Ok(get(db, PAGE_TIMEZONE)
        .await?
        .and_then(|name| PageZone::parse(&name).ok()))
}

/// Stores the page zone and, in the same transaction, moves the page
/// generation on (every time on every page reads differently), so that every
/// process drops its pages and reads the new zone.
pub async fn set_page_zone(db: &DatabaseConnection, zone: PageZone) -> Result<(), sea_orm::DbErr> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    set(&txn, PAGE_TIMEZONE, zone.name()).await?;
    // One statement, so a trigger's bump in another transaction is never overwritten.
    let backend = txn.get_database_backend();
    let bumped = txn
        .query_one(sea_orm::Statement::from_string(
            backend,
            format!(
                "UPDATE settings SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) \
                 WHERE key = '{PAGE_GENERATION}' RETURNING value"
            ),
        ))
        .await?;
    if let (Some(row), sea_orm::DatabaseBackend::Postgres) = (bumped, backend) {
        let generation: String = row.try_get_by_index(0)?;
        // Sent at commit, like the triggers' own notifications.
        txn.execute(sea_orm::Statement::from_sql_and_values(
            backend,
            "SELECT pg_notify($1, $2)",
            [PAGE_CHANNEL.into(), generation.into()],
        ))
        .await?;
    }
    txn.commit().await
}

/// Notifications of page changes committed by any process, on PostgreSQL.
pub struct PageChanges(sea_orm::sqlx::postgres::PgListener);

impl PageChanges {
    /// Listens on its own connection from the pool; `None` on SQLite, which
    /// has no notifications (the generation is polled instead).
    pub async fn listen(db: &DatabaseConnection) -> Result<Option<Self>, sea_orm::DbErr> {
        if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(None);
        }
        let pool = db.get_postgres_connection_pool();
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
            .await
            .map_err(|e| sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e)))?;
        listener
            .listen(PAGE_CHANNEL)
            .await
            .map_err(|e| sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e)))?;
        Ok(Some(Self(listener)))
    }

    /// Waits for the next change: `Some(generation)`, or `None` when the
    /// connection was lost and has been made again, so that changes in between
    /// may have gone unheard.
    pub async fn next(&mut self) -> Result<Option<i64>, sea_orm::DbErr> {
        match self.0.try_recv().await {
            Ok(Some(n)) => Ok(Some(n.payload().parse().unwrap_or(0))),
            Ok(None) => Ok(None),
            Err(e) => Err(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))),
        }
    }
}
