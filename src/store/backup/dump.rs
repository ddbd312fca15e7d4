//! Reading every table in one snapshot: one read transaction, so the backup
//! is the database as it was at one moment while writers go on. SQLite in
//! WAL mode lets writers commit while the snapshot reads; PostgreSQL reads at
//! `REPEATABLE READ`, which takes no lock a writer waits on.
use std::path::Path;

use futures_util::TryStreamExt;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    IsolationLevel, Statement, StreamTrait, TransactionTrait,
};

use super::archive::{self, PartWriter};
use super::manifest::{Manifest, TablePart, FORMAT};
use super::schema::{self, quote, Kind, Table};
use super::{value, BackupError};

pub struct Snapshot {
    txn: DatabaseTransaction,
    pub backend: DatabaseBackend,
    pub schema: String,
    pub tables: Vec<Table>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Snapshot {
    /// Opens the read transaction. Its first read fixes what it sees.
    pub async fn begin(db: &DatabaseConnection) -> Result<Self, BackupError> {
        let backend = db.get_database_backend();
        let txn = match backend {
            DatabaseBackend::Postgres => {
                db.begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await?
            }
            _ => db.begin().await?,
        };
        // On SQLite the snapshot starts at this first read.
        let schema = super::schema_version(&txn).await?.ok_or_else(|| {
            BackupError::refused("the database has no statuspost schema: nothing to back up")
        })?;
        let tables = schema::tables(&txn).await?;
        Ok(Self {
            txn,
            backend,
            schema,
            tables,
            created_at: crate::store::now(),
        })
    }

    /// The snapshot's connection: what it reads is what the backup holds.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// How many rows each table has, in the snapshot.
    pub async fn counts(&self) -> Result<Vec<u64>, DbErr> {
        let mut counts = Vec::new();
        for t in &self.tables {
            let row = self
                .txn
                .query_one(Statement::from_string(
                    self.backend,
                    format!("SELECT COUNT(*) FROM {}", quote(&t.name)),
                ))
                .await?;
            let n: i64 = match row {
                Some(r) => r.try_get_by_index(0)?,
                None => 0,
            };
            counts.push(n as u64);
        }
        Ok(counts)
    }

    /// Streams every table into a part file in `dir`, calling `progress` with
    /// each row read; returns the manifest (without page digests) and the
    /// parts' paths, in its order.
    pub async fn write_parts(
        &self,
        dir: &Path,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(Manifest, Vec<std::path::PathBuf>), BackupError> {
        let mut tables = Vec::new();
        let mut paths = Vec::new();
        for (i, t) in self.tables.iter().enumerate() {
            let part = archive::part_name(i, &t.name);
            let mut out = PartWriter::create(dir.join(format!("{:02}.part", i + 1)))?;
            let mut rows = self.txn.stream(self.select(t)).await?;
            let mut values = Vec::with_capacity(t.columns.len());
            while let Some(row) = rows.try_next().await? {
                values.clear();
                for (c, column) in t.columns.iter().enumerate() {
                    values.push(value::read(&row, c, column.kind)?);
                }
                out.row(&values)?;
                progress(1);
            }
            drop(rows);
            let written = out.finish()?;
            tables.push(TablePart {
                name: t.name.clone(),
                part,
                rows: written.rows,
                sha256: written.sha256,
                bytes: written.bytes,
                columns: t.columns.clone(),
                sequence: self.sequence(t).await?,
            });
            paths.push(written.path);
        }
        let manifest = Manifest {
            format: FORMAT,
            schema: self.schema.clone(),
            backend: backend_name(self.backend).to_owned(),
            created_at: self.created_at,
            statuspost: env!("CARGO_PKG_VERSION").to_owned(),
            tables,
            pages: None,
        };
        Ok((manifest, paths))
    }

    /// Every row of `t` in key order, so the same data makes the same part.
    /// PostgreSQL's integers and floats are widened to the width we read.
    fn select(&self, t: &Table) -> Statement {
        let columns: Vec<String> = t
            .columns
            .iter()
            .map(|c| match (self.backend, c.kind) {
                (DatabaseBackend::Postgres, Kind::Int) => format!("{}::bigint", quote(&c.name)),
                (DatabaseBackend::Postgres, Kind::Float) => {
                    format!("{}::double precision", quote(&c.name))
                }
                _ => quote(&c.name),
            })
            .collect();
        let order: Vec<String> = if t.primary_key.is_empty() {
            (1..=t.columns.len()).map(|i| i.to_string()).collect()
        } else {
            t.primary_key.iter().map(|c| quote(c)).collect()
        };
        Statement::from_string(
            self.backend,
            format!(
                "SELECT {} FROM {} ORDER BY {}",
                columns.join(", "),
                quote(&t.name),
                order.join(", ")
            ),
        )
    }

    /// The last value `t`'s sequence gave out, if it has one.
    async fn sequence(&self, t: &Table) -> Result<Option<i64>, DbErr> {
        let Some(column) = &t.serial else {
            return Ok(None);
        };
        let stmt = match self.backend {
            DatabaseBackend::Postgres => {
                // Sequences are outside transactions: this may be past the
                // snapshot's greatest id, which is what a restore wants.
                let seq: Option<String> = self
                    .txn
                    .query_one(Statement::from_sql_and_values(
                        self.backend,
                        "SELECT pg_get_serial_sequence($1, $2)",
                        [quote(&t.name).into(), column.clone().into()],
                    ))
                    .await?
                    .map(|r| r.try_get_by_index(0))
                    .transpose()?
                    .flatten();
                let Some(seq) = seq else { return Ok(None) };
                Statement::from_string(
                    self.backend,
                    format!(
                        "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {seq}"
                    ),
                )
            }
            _ => Statement::from_sql_and_values(
                self.backend,
                "SELECT seq FROM sqlite_sequence WHERE name = ?",
                [t.name.clone().into()],
            ),
        };
        Ok(match self.txn.query_one(stmt).await? {
            Some(r) => r.try_get_by_index::<Option<i64>>(0)?,
            None => None,
        })
    }

    /// Ends the read transaction; it wrote nothing.
    pub async fn end(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

pub fn backend_name(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => "postgres",
        DatabaseBackend::MySql => "mysql",
        DatabaseBackend::Sqlite => "sqlite",
    }
}
