//! Loading a backup into a database of the same schema, in one transaction:
//! everything that was there goes, the backup's rows come in, sequences
//! carry on from where the backup's left off, and the page generation moves
//! past both, so no cached page of before is served after. A restore that
//! stops half-way (killed, a damaged part) leaves the database as it was.
use std::path::Path;

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, Statement,
    Value,
};

use super::archive::Reader;
use super::manifest::{Manifest, TablePart};
use super::schema::{self, quote, Table};
use super::{value, BackupError};
use crate::store::settings::{PAGE_GENERATION, PAGE_ID, SECRET_KEY};

/// Values bound in one INSERT: under SQLite's and PostgreSQL's limits.
const VALUES_PER_INSERT: usize = 8000;

/// Rows made by the program itself that a restore may replace without
/// anyone losing anything: the migrator's record, the generated keys and
/// generation, sign-up links, worker heartbeats and the backup schedule.
fn made_by_the_program(table: &str) -> bool {
    matches!(
        table,
        "seaql_migrations" | "signup_tokens" | "worker_heartbeats" | "backup_schedule"
    )
}

/// The tables of `db` that hold data a restore would replace, with their row
/// counts. An empty list: the database is new, or holds only what statuspost
/// made by itself at its first start.
pub async fn holdings(db: &impl ConnectionTrait) -> Result<Vec<(String, u64)>, DbErr> {
    let backend = db.get_database_backend();
    let mut held = Vec::new();
    for t in schema::tables(db).await? {
        if made_by_the_program(&t.name) {
            continue;
        }
        let sql = if t.name == "settings" {
            Statement::from_sql_and_values(
                backend,
                match backend {
                    DatabaseBackend::Postgres => {
                        "SELECT COUNT(*) FROM settings WHERE key NOT IN ($1, $2, $3)"
                    }
                    _ => "SELECT COUNT(*) FROM settings WHERE key NOT IN (?, ?, ?)",
                },
                [PAGE_GENERATION.into(), SECRET_KEY.into(), PAGE_ID.into()],
            )
        } else {
            Statement::from_string(backend, format!("SELECT COUNT(*) FROM {}", quote(&t.name)))
        };
        let n: i64 = match db.query_one(sql).await? {
            Some(r) => r.try_get_by_index(0)?,
            None => 0,
        };
        if n > 0 {
            held.push((t.name, n as u64));
        }
    }
    Ok(held)
}

/// Replaces everything in `db` with the backup at `path`, whose manifest
/// (already checked with [`super::archive::check`]) is `expected`. `db`'s
/// schema must be the backup's. `progress` hears of each row loaded.
pub async fn load(
    db: &DatabaseConnection,
    path: &Path,
    expected: &Manifest,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), BackupError> {
    let schema = super::schema_version(db).await?.unwrap_or_default();
    if schema != expected.schema {
        return Err(BackupError::refused(format!(
            "the database's schema is {schema}, the backup's {}",
            expected.schema
        )));
    }
    let tables = schema::tables(db).await?;
    for part in &expected.tables {
        let Some(t) = tables.iter().find(|t| t.name == part.name) else {
            return Err(BackupError::refused(format!(
                "the backup has a table {} that the database has not",
                part.name
            )));
        };
        for c in &part.columns {
            if !t
                .columns
                .iter()
                .any(|d| d.name == c.name && d.kind == c.kind)
            {
                return Err(BackupError::refused(format!(
                    "the backup's {}.{} ({:?}) is not a column of the database",
                    part.name, c.name, c.kind
                )));
            }
        }
    }

    // A restore empties every table it finds: one the backup does not know
    // (another program's, in a shared database) is left alone by refusing.
    let unknown: Vec<&str> = tables
        .iter()
        .map(|t| t.name.as_str())
        .filter(|name| !expected.tables.iter().any(|p| p.name == *name))
        .collect();
    if !unknown.is_empty() {
        return Err(BackupError::refused(format!(
            "the database has tables the backup has not ({}); restore into a database of \
             statuspost's own",
            unknown.join(", ")
        )));
    }

    let txn = crate::store::begin_write(db).await?;
    let backend = txn.get_database_backend();
    if backend == DatabaseBackend::Sqlite {
        // Rows come table by table; the keys are checked at commit.
        txn.execute_unprepared("PRAGMA defer_foreign_keys = ON")
            .await?;
    }
    let before = crate::store::settings::page_generation(&txn).await?;
    clear(&txn, &tables).await?;

    let mut reader = Reader::open(path)?;
    let mut parts = reader.parts()?;
    let mut their_generation = 0;
    while let Some((part, mut rows)) = parts.next_part()? {
        let target = tables
            .iter()
            .find(|t| t.name == part.name)
            .expect("checked above");
        let skip_generation = part.name == "settings";
        let key_at = part.columns.iter().position(|c| c.name == "key");
        let value_at = part.columns.iter().position(|c| c.name == "value");
        let per_insert = (VALUES_PER_INSERT / part.columns.len().max(1)).max(1);
        let mut batch: Vec<Value> = Vec::new();
        let mut in_batch = 0;
        while let Some(row) = rows.next_row()? {
            if skip_generation {
                if let (Some(k), Some(v)) = (key_at, value_at) {
                    if row[k].as_str() == Some(PAGE_GENERATION) {
                        their_generation =
                            row[v].as_str().and_then(|v| v.parse().ok()).unwrap_or(0);
                        continue;
                    }
                }
            }
            for (json, column) in row.iter().zip(&part.columns) {
                batch.push(value::bind(json, column.kind).ok_or_else(|| {
                    BackupError::refused(format!(
                        "{}: a value of {}.{} is not a {:?}: {json}",
                        path.display(),
                        part.name,
                        column.name,
                        column.kind
                    ))
                })?);
            }
            in_batch += 1;
            if in_batch == per_insert {
                insert(&txn, &part, target, std::mem::take(&mut batch), in_batch).await?;
                progress(in_batch as u64);
                in_batch = 0;
            }
        }
        if in_batch > 0 {
            insert(&txn, &part, target, batch, in_batch).await?;
            progress(in_batch as u64);
        }
        carry_on_sequence(&txn, target, part.sequence).await?;
    }
    let now = crate::store::settings::page_generation(&txn).await?;
    let generation = before.max(now).max(their_generation) + 1;
    crate::store::settings::set(&txn, PAGE_GENERATION, &generation.to_string()).await?;
    txn.commit().await?;
    Ok(())
}

/// Empties every table but the page generation's row.
async fn clear(txn: &DatabaseTransaction, tables: &[Table]) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    let others: Vec<String> = tables
        .iter()
        .filter(|t| t.name != "settings")
        .map(|t| quote(&t.name))
        .collect();
    match backend {
        DatabaseBackend::Postgres => {
            if !others.is_empty() {
                txn.execute_unprepared(&format!("TRUNCATE {}", others.join(", ")))
                    .await?;
            }
        }
        _ => {
            for t in others.iter().rev() {
                txn.execute_unprepared(&format!("DELETE FROM {t}")).await?;
            }
        }
    }
    txn.execute(Statement::from_sql_and_values(
        backend,
        match backend {
            DatabaseBackend::Postgres => "DELETE FROM settings WHERE key <> $1",
            _ => "DELETE FROM settings WHERE key <> ?",
        },
        [PAGE_GENERATION.into()],
    ))
    .await?;
    Ok(())
}

async fn insert(
    txn: &DatabaseTransaction,
    part: &TablePart,
    target: &Table,
    values: Vec<Value>,
    rows: usize,
) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    let columns: Vec<String> = part.columns.iter().map(|c| quote(&c.name)).collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        quote(&part.name),
        columns.join(", ")
    );
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for (c, column) in part.columns.iter().enumerate() {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            match backend {
                // Bound as the widest of its kind, cast to what the column is.
                DatabaseBackend::Postgres => {
                    let declared = target
                        .columns
                        .iter()
                        .find(|d| d.name == column.name)
                        .map_or("text", |d| d.declared.as_str());
                    sql.push_str(&format!("CAST(${n} AS {declared})"));
                }
                _ => sql.push('?'),
            }
        }
        sql.push(')');
    }
    txn.execute(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// Sets `t`'s sequence to the greater of its greatest id and the last value
/// the backup's sequence gave out.
async fn carry_on_sequence(
    txn: &DatabaseTransaction,
    t: &Table,
    theirs: Option<i64>,
) -> Result<(), DbErr> {
    let Some(column) = &t.serial else {
        return Ok(());
    };
    let backend = txn.get_database_backend();
    let greatest: Option<i64> = txn
        .query_one(Statement::from_string(
            backend,
            format!(
                "SELECT CAST(MAX({}) AS BIGINT) FROM {}",
                quote(column),
                quote(&t.name)
            ),
        ))
        .await?
        .map(|r| r.try_get_by_index::<Option<i64>>(0))
        .transpose()?
        .flatten();
    let last = greatest.unwrap_or(0).max(theirs.unwrap_or(0));
    match backend {
        DatabaseBackend::Postgres => {
            let (value, called) = if last > 0 { (last, true) } else { (1, false) };
            txn.execute(Statement::from_sql_and_values(
                backend,
                "SELECT setval(pg_get_serial_sequence($1, $2), $3, $4)",
                [
                    quote(&t.name).into(),
                    column.clone().into(),
                    value.into(),
                    called.into(),
                ],
            ))
            .await?;
        }
        _ => {
            txn.execute(Statement::from_sql_and_values(
                backend,
                "DELETE FROM sqlite_sequence WHERE name = ?",
                [t.name.clone().into()],
            ))
            .await?;
            if last > 0 {
                txn.execute(Statement::from_sql_and_values(
                    backend,
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
                    [t.name.clone().into(), last.into()],
                ))
                .await?;
            }
        }
    }
    Ok(())
}
