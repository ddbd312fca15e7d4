//! Backups of every table, portable between SQLite and PostgreSQL: a snapshot
//! read in one transaction ([`dump`]), written as one tar file of
//! zstd-compressed JSON lines with a manifest ([`archive`], [`manifest`]), and
//! loaded back into either backend in one transaction ([`load`]). The tables
//! and their columns come from the database's own catalogue ([`schema`]), so a
//! table a migration adds is backed up without a change here.
pub mod archive;
pub mod digests;
pub mod dump;
pub mod load;
pub mod manifest;
pub mod schema;
pub mod value;

pub use manifest::Manifest;

/// Why a backup or a restore stopped. Each reads as one line.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file is not one we can restore: damaged, cut short, or from a newer version.
    #[error("{0}")]
    Refused(String),
}

impl BackupError {
    pub fn refused(message: impl Into<String>) -> Self {
        Self::Refused(message.into())
    }
}

/// The name of the last migration applied to `db`: its schema version.
pub async fn schema_version(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<Option<String>, sea_orm::DbErr> {
    use sea_orm::Statement;
    let backend = db.get_database_backend();
    if !schema::table_names(db)
        .await?
        .iter()
        .any(|t| t == "seaql_migrations")
    {
        return Ok(None);
    }
    // Migration names start with their date and number, so the greatest is the last.
    let row = db
        .query_one(Statement::from_string(
            backend,
            "SELECT MAX(version) FROM seaql_migrations",
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get_by_index::<Option<String>>(0)?,
        None => None,
    })
}
