//! Queries and transactions, one file per aggregate.
pub mod components;
pub mod incidents;
pub mod settings;
pub mod staff;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Why a write was refused by the data it met (not by its own shape).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(std::time::Duration::from_secs(5))
        .acquire_timeout(std::time::Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // One writer at a time is all SQLite allows; a small pool with WAL keeps
        // readers from blocking on it.
        opts.max_connections(8);
    } else {
        opts.max_connections(20);
    }
    let db = Database::connect(opts).await?;
    if url.starts_with("sqlite:") {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;")
            .await?;
    }
    Ok(db)
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    // Stored times keep whole microseconds, which every backend can hold.
    let t = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}
