//! Queries and transactions, one file per aggregate.
pub mod api_tokens;
pub mod audit;
pub mod backup;
pub mod backup_schedule;
pub mod coalescing;
pub mod components;
pub mod corrections;
pub mod deliveries;
pub mod idempotency;
pub mod incidents;
pub mod journal;
pub mod maintenance;
pub mod milestones;
pub mod outbox;
pub mod postmortems;
pub mod reminders;
pub mod sending;
pub mod settings;
pub mod staff;
pub mod subscribers;
pub mod templates;
pub mod uptime;
pub mod workers;

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
    if url.starts_with("sqlite:") {
        private_sqlite_file(url).map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(std::time::Duration::from_secs(5))
        .acquire_timeout(std::time::Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // SQLite has one writer at a time; WAL keeps readers from waiting on it,
        // and a busy timeout makes writers queue instead of failing. FULL sync:
        // a committed update survives a power cut, not only a crash.
        // No ping before each use: a connection to a local file does not go
        // stale, and the ping is a second trip to the connection's thread for
        // every statement (half a page render's task switches).
        opts.max_connections(8)
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(std::time::Duration::from_secs(10))
                    .foreign_keys(true)
            });
    } else {
        opts.max_connections(20);
    }
    let db = Database::connect(opts).await?;
    Ok(db)
}

/// Creates the SQLite file readable by its owner alone, before SQLite would
/// create it under the umask (usually world-readable): it holds the CSRF key,
/// webhook secrets and unsubscribe tokens. SQLite gives its -wal and -shm
/// files the database file's mode. A file found readable by others is narrowed.
fn private_sqlite_file(url: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    use std::str::FromStr;
    let Ok(opts) = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url) else {
        // sqlx will say what is wrong with the URL.
        return Ok(());
    };
    let path = opts.get_filename();
    if path.as_os_str().is_empty()
        || path == std::path::Path::new(":memory:")
        || url.contains("mode=memory")
    {
        return Ok(());
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the database was readable by other users; narrowing it to 0600"
                );
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(())
        }
        // A missing folder or `mode=ro`: let SQLite report it in its words.
        Err(_) => Ok(()),
    }
}

/// Begins a transaction that will write. On SQLite a transaction that reads
/// first and writes later fails at once with "database is locked" when another
/// connection (the delivery worker) wrote in between; taking the write lock with
/// a first statement that writes nothing makes it wait its turn instead.
pub async fn begin_write(
    db: &sea_orm::DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let txn = db.begin().await?;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        txn.execute_unprepared("UPDATE seaql_migrations SET version = version WHERE 0")
            .await?;
    }
    Ok(txn)
}

/// A stored value read back into its domain type. One that does not parse (a
/// row written by hand, or by a newer version) is an error, logged and
/// answered as one: a status page must never show an unreadable row as healthy.
pub(crate) fn read<T>(
    parsed: Result<T, crate::domain::ParseError>,
    what: std::fmt::Arguments<'_>,
) -> Result<T, DbErr> {
    parsed.map_err(|e| DbErr::Custom(format!("cannot read {what}: {e}")))
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    // Stored times keep whole microseconds, which every backend can hold.
    let t = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}
