//! What tables a database has, read from its own catalogue: their columns and
//! the kind of value each holds, their primary key, the column a sequence
//! numbers, and an order in which every foreign key points to a table
//! before it.
use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};
use serde::{Deserialize, Serialize};

/// Tables that are not data: the migrator's own record is the schema version.
const NOT_DATA: [&str; 1] = ["seaql_migrations"];

/// The kind of value a column holds, the same on both backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Int,
    Float,
    Bool,
    Text,
    /// An instant: `timestamp with time zone`, read and written as UTC.
    Timestamp,
    Date,
    Blob,
}

impl Kind {
    /// The kind of a declared type: SQLite's (as sea-query writes them, e.g.
    /// `timestamp_with_timezone_text`) or PostgreSQL's `data_type`.
    fn of(declared: &str) -> Option<Self> {
        let t = declared.to_ascii_lowercase();
        let zoned = !t.contains("without") && (t.contains("zone") || t.contains("tz"));
        Some(if t.starts_with("timestamp") && zoned {
            Self::Timestamp
        } else if t.starts_with("date") && !t.starts_with("datetime") {
            Self::Date
        } else if t.starts_with("bool") {
            Self::Bool
        } else if t.contains("int") && !t.starts_with("interval") {
            Self::Int
        } else if t.contains("char") || t.contains("text") || t.contains("clob") {
            Self::Text
        } else if t.contains("blob") || t == "bytea" {
            Self::Blob
        } else if t.contains("real") || t.contains("double") || t.contains("float") {
            Self::Float
        } else {
            return None;
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    /// The type as this database declares it (PostgreSQL casts bound values to it).
    #[serde(skip)]
    pub declared: String,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    /// The column a sequence numbers (`pk_auto`), if any.
    pub serial: Option<String>,
}

/// Every table of the public schema (PostgreSQL) or the file (SQLite), by name.
pub async fn table_names(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY 1"
        }
    };
    let rows = db.query_all(Statement::from_string(backend, sql)).await?;
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect()
}

/// The data tables, parents before children.
pub async fn tables(db: &impl ConnectionTrait) -> Result<Vec<Table>, DbErr> {
    let mut tables = Vec::new();
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in table_names(db).await? {
        if NOT_DATA.contains(&name.as_str()) {
            continue;
        }
        let (table, refs) = match db.get_database_backend() {
            DatabaseBackend::Postgres => postgres_table(db, &name).await?,
            _ => sqlite_table(db, &name).await?,
        };
        parents.insert(name.clone(), refs);
        tables.push(table);
    }
    Ok(parents_first(tables, &parents))
}

async fn sqlite_table(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<(Table, BTreeSet<String>), DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all(Statement::from_sql_and_values(
            backend,
            "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid",
            [name.into()],
        ))
        .await?;
    let mut columns = Vec::new();
    let mut keyed = Vec::new();
    for r in &rows {
        let column: String = r.try_get_by_index(0)?;
        let declared: String = r.try_get_by_index(1)?;
        let pk: i64 = r.try_get_by_index(2)?;
        if pk > 0 {
            keyed.push((pk, column.clone()));
        }
        columns.push(Column {
            kind: kind(name, &column, &declared)?,
            name: column,
            declared,
        });
    }
    keyed.sort();
    let primary_key: Vec<String> = keyed.into_iter().map(|(_, c)| c).collect();
    let sql: Option<String> = db
        .query_one(Statement::from_sql_and_values(
            backend,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
            [name.into()],
        ))
        .await?
        .map(|r| r.try_get_by_index(0))
        .transpose()?;
    // Only an AUTOINCREMENT key has a sequence (in sqlite_sequence) to carry over.
    let serial = (sql.is_some_and(|s| s.to_ascii_uppercase().contains("AUTOINCREMENT"))
        && primary_key.len() == 1)
        .then(|| primary_key[0].clone());
    let refs = db
        .query_all(Statement::from_sql_and_values(
            backend,
            "SELECT \"table\" FROM pragma_foreign_key_list(?)",
            [name.into()],
        ))
        .await?
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?;
    Ok((
        Table {
            name: name.to_owned(),
            columns,
            primary_key,
            serial,
        },
        refs,
    ))
}

async fn postgres_table(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<(Table, BTreeSet<String>), DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all(Statement::from_sql_and_values(
            backend,
            "SELECT column_name::text, data_type::text, \
                    COALESCE(column_default, '') LIKE 'nextval(%' \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            [name.into()],
        ))
        .await?;
    let mut columns = Vec::new();
    let mut serial = None;
    for r in &rows {
        let column: String = r.try_get_by_index(0)?;
        let declared: String = r.try_get_by_index(1)?;
        if r.try_get_by_index::<bool>(2)? {
            serial = Some(column.clone());
        }
        columns.push(Column {
            kind: kind(name, &column, &declared)?,
            name: column,
            declared,
        });
    }
    let primary_key = db
        .query_all(Statement::from_sql_and_values(
            backend,
            "SELECT k.column_name::text FROM information_schema.table_constraints c \
             JOIN information_schema.key_column_usage k \
               ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema \
             WHERE c.table_schema = current_schema() AND c.table_name = $1 \
               AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.ordinal_position",
            [name.into()],
        ))
        .await?
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?;
    let refs = db
        .query_all(Statement::from_sql_and_values(
            backend,
            "SELECT DISTINCT u.table_name::text FROM information_schema.table_constraints c \
             JOIN information_schema.constraint_column_usage u \
               ON u.constraint_name = c.constraint_name AND u.constraint_schema = c.constraint_schema \
             WHERE c.table_schema = current_schema() AND c.table_name = $1 \
               AND c.constraint_type = 'FOREIGN KEY'",
            [name.into()],
        ))
        .await?
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?;
    Ok((
        Table {
            name: name.to_owned(),
            columns,
            primary_key,
            serial,
        },
        refs,
    ))
}

fn kind(table: &str, column: &str, declared: &str) -> Result<Kind, DbErr> {
    Kind::of(declared).ok_or_else(|| {
        DbErr::Custom(format!(
            "{table}.{column} is of type {declared}, which backups do not know how to carry"
        ))
    })
}

/// Orders tables so that each comes after the tables its foreign keys name
/// (a table naming itself is its own business); ties by name, so two
/// databases of one schema list their tables alike.
fn parents_first(tables: Vec<Table>, parents: &BTreeMap<String, BTreeSet<String>>) -> Vec<Table> {
    let mut left: BTreeMap<String, Table> =
        tables.into_iter().map(|t| (t.name.clone(), t)).collect();
    let mut ordered = Vec::new();
    while !left.is_empty() {
        let ready: Vec<String> = left
            .keys()
            .filter(|name| {
                parents
                    .get(*name)
                    .into_iter()
                    .flatten()
                    .all(|p| p == *name || !left.contains_key(p))
            })
            .cloned()
            .collect();
        // A cycle (none in our schema): take the rest by name rather than loop.
        let take = if ready.is_empty() {
            left.keys().cloned().collect()
        } else {
            ready
        };
        for name in take {
            if let Some(t) = left.remove(&name) {
                ordered.push(t);
            }
        }
    }
    ordered
}

/// `name` quoted as an SQL identifier, on either backend.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn declared_types_of_both_backends_have_a_kind() {
        for (declared, kind) in [
            ("integer", Kind::Int),
            ("bigint", Kind::Int),
            ("varchar", Kind::Text),
            ("character varying", Kind::Text),
            ("text", Kind::Text),
            ("boolean", Kind::Bool),
            ("timestamp_with_timezone_text", Kind::Timestamp),
            ("timestamp with time zone", Kind::Timestamp),
            ("date_text", Kind::Date),
            ("date", Kind::Date),
            ("bytea", Kind::Blob),
            ("blob", Kind::Blob),
            ("double precision", Kind::Float),
        ] {
            assert_eq!(Kind::of(declared), Some(kind), "{declared}");
        }
        assert_eq!(Kind::of("interval"), None);
        assert_eq!(Kind::of("timestamp without time zone"), None);
    }
}
