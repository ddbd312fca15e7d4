//! The backup folder as an operator reads it: each backup file, newest first,
//! with what `serve` recorded beside the ones it took (`NAME.tar.json`: when,
//! how big, whether it verified, what changed since the one before) and the
//! digests of its rows those changes are counted from (`NAME.tar.rows.zst`).
//! The folder, not the database, holds the catalogue: a restore replaces the
//! database, and the catalogue is what finds the backup to restore.
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::backup_changes::Changes;
use crate::domain::retention::{self, Keep};
use crate::store::backup::{archive, digests};

/// What `serve` recorded of a backup it took.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    /// The schedule's slot it was taken for.
    pub slot: DateTime<Utc>,
    /// The moment it holds.
    pub created_at: DateTime<Utc>,
    pub bytes: u64,
    pub verified: Verification,
    /// The backup the changes are counted from (`None`: the first).
    pub since: Option<String>,
    pub changes: Option<Changes>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Verification {
    pub ok: bool,
    pub at: DateTime<Utc>,
    /// What `backup verify` said, or why it failed.
    pub lines: Vec<String>,
}

/// One backup in the folder.
#[derive(Clone, Debug)]
pub struct Listed {
    pub name: String,
    pub path: PathBuf,
    pub bytes: u64,
    /// The moment it holds: recorded, else read from its name.
    pub at: DateTime<Utc>,
    /// `None` for a backup `serve` did not take (`statuspost backup`, the
    /// copy a restore keeps): never pruned, its changes not counted.
    pub record: Option<Record>,
}

impl Listed {
    pub fn verified(&self) -> &'static str {
        match &self.record {
            Some(r) if r.verified.ok => "verified",
            Some(_) => "FAILED verification",
            None => "not verified",
        }
    }

    /// Why its change since the one before may be a mistake (empty: none seen).
    pub fn unusual(&self) -> Vec<String> {
        self.record
            .as_ref()
            .and_then(|r| r.changes.as_ref())
            .map(Changes::unusual)
            .unwrap_or_default()
    }

    pub fn changes(&self) -> String {
        match &self.record {
            None => "changes not recorded (not a scheduled backup)".to_owned(),
            Some(Record {
                since: None,
                changes: None,
                ..
            }) => "the first scheduled backup here".to_owned(),
            Some(Record {
                changes: Some(c), ..
            }) => format!("since the one before: {}", c.describe()),
            Some(_) => "changes not counted".to_owned(),
        }
    }

    /// Whether `serve` took it and it did not restore as it should.
    pub fn failed(&self) -> bool {
        self.record.as_ref().is_some_and(|r| !r.verified.ok)
    }

    /// One line of `statuspost backup list`; one that failed its
    /// verification, or follows an unusual change, starts with `!`.
    pub fn line(&self) -> String {
        let unusual = self.unusual();
        format!(
            "{} {}  {}  {}  {}  {}{}",
            if unusual.is_empty() && !self.failed() {
                ' '
            } else {
                '!'
            },
            self.at.format("%Y-%m-%d %H:%M:%S UTC"),
            self.name,
            super::human_bytes(self.bytes),
            self.verified(),
            if unusual.is_empty() {
                String::new()
            } else {
                format!("UNUSUAL ({}); ", unusual.join(", "))
            },
            self.changes()
        )
    }
}

const PREFIXES: [&str; 2] = ["statuspost-backup-", "statuspost-before-restore-"];
const RECORD: &str = ".json";
const ROWS: &str = ".rows.zst";

/// The moment in a backup's name, when `name` is exactly one of ours:
/// `statuspost-backup-YYYYMMDDTHHMMSSZ.tar` (or `-N.tar`, or
/// `statuspost-before-restore-...`). Nothing else names a backup to list or
/// hand out, so no path, dot or stray character gets through.
pub fn stamp_of(name: &str) -> Option<DateTime<Utc>> {
    let rest = PREFIXES.iter().find_map(|p| name.strip_prefix(p))?;
    let rest = rest.strip_suffix(".tar")?;
    let (stamp, n) = match rest.split_once('-') {
        Some((stamp, n)) => (stamp, Some(n)),
        None => (rest, None),
    };
    if n.is_some_and(|n| n.is_empty() || n.len() > 6 || !n.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if stamp.len() != 16 || !stamp.is_ascii() {
        return None;
    }
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc())
}

fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

pub fn record_path(backup: &Path) -> PathBuf {
    beside(backup, RECORD)
}

pub fn rows_path(backup: &Path) -> PathBuf {
    beside(backup, ROWS)
}

/// Every backup in `dir`, newest first. A folder that does not exist holds none.
pub fn list(dir: &Path) -> std::io::Result<Vec<Listed>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut listed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Some(stamp) = stamp_of(&name) else {
            continue;
        };
        // Pruned by `serve` while we look: gone, not an error.
        let meta = match entry.metadata() {
            Ok(m) if m.is_file() => m,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let path = entry.path();
        let record: Option<Record> = std::fs::read(record_path(&path))
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok());
        listed.push(Listed {
            at: record.as_ref().map_or(stamp, |r| r.created_at),
            name,
            path,
            bytes: meta.len(),
            record,
        });
    }
    listed.sort_by(|a, b| (b.at, &b.name).cmp(&(a.at, &a.name)));
    Ok(listed)
}

/// The backup `name` in `dir`, if it is one of ours and there.
pub fn find(dir: &Path, name: &str) -> std::io::Result<Option<Listed>> {
    if stamp_of(name).is_none() {
        return Ok(None);
    }
    Ok(list(dir)?.into_iter().find(|l| l.name == name))
}

/// Of `listed` (newest first), the newest backup that verified and is older
/// than the newest unusual change: the one to restore after a bad change.
/// `None` when no change looks unusual.
pub fn last_good(listed: &[Listed]) -> Option<&Listed> {
    let bad = listed.iter().position(|l| !l.unusual().is_empty())?;
    listed[bad + 1..]
        .iter()
        .find(|l| l.record.as_ref().is_some_and(|r| r.verified.ok))
}

/// Writes `record` beside `backup`, for its owner alone, replacing any.
pub fn write_record(backup: &Path, record: &Record) -> std::io::Result<()> {
    let path = record_path(backup);
    let partial = archive::partial_path(&path);
    let _ = std::fs::remove_file(&partial);
    let mut file = archive::create_private(&partial)?;
    std::io::Write::write_all(&mut file, &serde_json::to_vec_pretty(record)?)?;
    file.sync_all()?;
    std::fs::rename(&partial, &path)
}

/// Removes the scheduled backups `keep` does not keep, with what `serve`
/// wrote beside them; every other file is left alone. Returns their names.
pub fn prune(dir: &Path, keep: Keep) -> std::io::Result<Vec<String>> {
    let scheduled: Vec<Listed> = list(dir)?
        .into_iter()
        .filter(|l| l.record.is_some())
        .collect();
    let slots: Vec<DateTime<Utc>> = scheduled
        .iter()
        .map(|l| l.record.as_ref().map_or(l.at, |r| r.slot))
        .collect();
    let kept = retention::keep(&slots, keep);
    let mut removed = Vec::new();
    for (i, l) in scheduled.iter().enumerate() {
        if kept.contains(&i) {
            continue;
        }
        std::fs::remove_file(&l.path)?;
        for extra in [record_path(&l.path), rows_path(&l.path)] {
            match std::fs::remove_file(&extra) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        removed.push(l.name.clone());
    }
    Ok(removed)
}

/// Counts each scheduled backup's changes from the scheduled backup before
/// it, where that is not the one they were counted from (it is new, or the
/// one before was pruned).
pub fn count_changes(dir: &Path) -> std::io::Result<()> {
    let scheduled: Vec<Listed> = list(dir)?
        .into_iter()
        .rev()
        .filter(|l| l.record.is_some())
        .collect();
    for (i, l) in scheduled.iter().enumerate() {
        let Some(record) = &l.record else { continue };
        let before = i.checked_sub(1).map(|b| &scheduled[b]);
        let since = before.map(|b| b.name.clone());
        if record.since == since && (since.is_none() || record.changes.is_some()) {
            continue;
        }
        let changes = match before {
            None => None,
            Some(b) => match (
                digests::read(&rows_path(&b.path)),
                digests::read(&rows_path(&l.path)),
            ) {
                (Ok(from), Ok(to)) => Some(Changes::between(&from, &to)),
                _ => None,
            },
        };
        let mut record = record.clone();
        record.since = since;
        record.changes = changes;
        write_record(&l.path, &record)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(name: &str, ok: bool, changes: Option<Changes>) -> Listed {
        let at = stamp_of(name).unwrap();
        Listed {
            name: name.to_owned(),
            path: PathBuf::from(name),
            bytes: 2048,
            at,
            record: Some(Record {
                slot: at,
                created_at: at,
                bytes: 2048,
                verified: Verification {
                    ok,
                    at,
                    lines: vec![],
                },
                since: changes.as_ref().map(|_| "before".to_owned()),
                changes,
            }),
        }
    }

    #[test]
    fn a_failed_verification_stands_out_and_is_never_the_last_good() {
        use crate::domain::backup_changes::TableChange;
        let removed = Changes {
            tables: vec![TableChange {
                table: "incidents".into(),
                before: 3,
                removed: 3,
                ..Default::default()
            }],
        };
        let list = [
            listed(
                "statuspost-backup-20261206T230000Z.tar",
                true,
                Some(removed),
            ),
            listed(
                "statuspost-backup-20261206T220000Z.tar",
                false,
                Some(Changes::default()),
            ),
            listed("statuspost-backup-20261206T210000Z.tar", true, None),
        ];
        assert!(list[0].line().starts_with("! "), "{}", list[0].line());
        assert!(list[1].line().starts_with("! "), "{}", list[1].line());
        assert!(list[1].line().contains("FAILED verification"));
        assert!(list[2].line().starts_with("  "), "{}", list[2].line());
        assert_eq!(
            last_good(&list).map(|l| l.name.as_str()),
            Some("statuspost-backup-20261206T210000Z.tar")
        );
    }

    #[test]
    fn only_our_names_are_backups() {
        for ok in [
            "statuspost-backup-20261206T220000Z.tar",
            "statuspost-backup-20261206T220000Z-2.tar",
            "statuspost-before-restore-20261206T220000Z.tar",
        ] {
            assert!(stamp_of(ok).is_some(), "{ok}");
        }
        for bad in [
            "../statuspost-backup-20261206T220000Z.tar",
            "statuspost-backup-20261206T220000Z.tar/..",
            "statuspost-backup-20261206T220000Z.tar.json",
            "statuspost-backup-20261206T220000Z-.tar",
            "statuspost-backup-20261206T220000Z-x.tar",
            "statuspost-backup-2026120６T220000Z.tar",
            "statuspost-backup-20261306T220000Z.tar",
            "statuspost.db",
            "",
        ] {
            assert!(stamp_of(bad).is_none(), "{bad}");
        }
    }
}
