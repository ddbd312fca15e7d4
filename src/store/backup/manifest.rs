//! What a backup says about itself, first in the file: enough to refuse it
//! before anything is touched, and to check every part and what the pages
//! read like when it was taken.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::schema::Column;

/// The version of this layout. A file of a greater one is refused.
pub const FORMAT: u32 = 1;

/// The manifest's name in the archive, its first entry.
pub const NAME: &str = "manifest.json";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The last migration applied to the database backed up.
    pub schema: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub created_at: DateTime<Utc>,
    /// The statuspost version that wrote it.
    pub statuspost: String,
    /// In load order: each table after those its foreign keys name.
    pub tables: Vec<TablePart>,
    /// What the pages read like from this snapshot, when they were rendered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<PageDigests>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TablePart {
    pub name: String,
    /// The entry in the archive: JSON lines, zstd-compressed.
    pub part: String,
    pub rows: u64,
    /// Of the part as stored (compressed), in lower-case hex.
    pub sha256: String,
    pub bytes: u64,
    /// Each row is a JSON array of these, in this order.
    pub columns: Vec<Column>,
    /// The last value the table's sequence gave out, when it has one: a
    /// restore carries it on, so ids of deleted rows are not given again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
}

/// SHA-256 of each page, rendered from the snapshot as at `now` with
/// `settings` (the environment settings that change what a page says).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PageDigests {
    pub now: DateTime<Utc>,
    pub settings: BTreeMap<String, String>,
    /// Path (`/`, `/incidents/7`, `/api/v2/summary.json`) to digest.
    pub digests: BTreeMap<String, String>,
}

impl Manifest {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    pub fn rows_of(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|t| t.name == table)
            .map_or(0, |t| t.rows)
    }
}
