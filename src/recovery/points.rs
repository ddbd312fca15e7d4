//! Point-in-time recovery between scheduled backups: every
//! `STATUSPOST_BACKUP_POINTS_EVERY` (30 s) `serve` writes a snapshot of
//! every table into `STATUSPOST_BACKUP_DIR/points/`, when the data has
//! changed since the last one, and `statuspost restore --at TIME` restores
//! the newest snapshot (point or backup) taken at or before TIME through the
//! ordinary restore. A point is a backup file like any other, less its page
//! digests: whole, checked part by part, and restorable alone, so recovering
//! to a moment needs no replay of a journal that could itself be damaged.
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::catalogue;
use crate::config::Settings;
use crate::domain::retention;
use crate::store::{self, backup::archive, backup::Manifest};

pub const PREFIX: &str = "statuspost-point";

/// Where the points are.
pub fn dir(settings: &Settings) -> PathBuf {
    settings.backup_dir.join("points")
}

/// The manifest of the backup at `path` (its first entry: quick to read).
fn manifest_of(path: &Path) -> Option<Manifest> {
    let mut reader = archive::Reader::open(path).ok()?;
    let parts = reader.parts().ok()?;
    Some(parts.manifest)
}

/// The points in `dir`, newest first, by the moment in their names.
fn points_in(dir: &Path) -> Vec<(DateTime<Utc>, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<_> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            let stamp = name.strip_prefix(PREFIX)?;
            let at = catalogue::stamp_of(&format!("statuspost-backup{stamp}"))?;
            Some((at, e.path()))
        })
        .collect();
    found.sort_by(|a, b| b.cmp(a));
    found
}

/// What the last point held, so an unchanged database writes no new one.
pub struct Last(Option<Manifest>);

impl Last {
    pub fn read(settings: &Settings) -> Self {
        Self(
            points_in(&dir(settings))
                .first()
                .and_then(|(_, p)| manifest_of(p)),
        )
    }
}

/// Writes the point of the slot `at` falls in, when no instance has and the
/// data differs from `last`'s; prunes points older than the kept hours.
pub async fn run_due(
    settings: &Settings,
    db: &DatabaseConnection,
    at: DateTime<Utc>,
    me: &str,
    last: &mut Last,
) -> anyhow::Result<Option<PathBuf>> {
    let Some(every) = settings.backup_points_every else {
        return Ok(None);
    };
    let slot = retention::slot(at, every);
    if !store::backup_schedule::claim(db, store::backup_schedule::POINTS, slot, me).await? {
        return Ok(None);
    }
    let dir = dir(settings);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| anyhow::anyhow!("cannot make the folder {}: {e}", dir.display()))?;
    let path = super::name_at(&dir, PREFIX, slot);
    let written = super::write_snapshot(settings, db, &path, false, last.0.as_ref()).await?;
    let keep = chrono::Duration::hours(settings.backup_points_keep_hours.into());
    for (stamp, old) in points_in(&dir).iter().skip(1) {
        if *stamp < at - keep {
            std::fs::remove_file(old)?;
        }
    }
    Ok(written.map(|w| {
        tracing::debug!(
            point = %w.path.display(),
            bytes = w.bytes,
            seconds = w.seconds,
            "point for restore --at written"
        );
        last.0 = Some(w.manifest);
        w.path
    }))
}

/// The newest backup or point in `backups` or `points` that holds the data
/// as at `at` or before: the file `restore --at` restores. A manifest's
/// `created_at` is taken after its snapshot began, so all a file holds was
/// committed by then; names are only to the second (a point's is its slot,
/// before it began), so every file named at or before `at` is read.
pub fn at_or_before(
    backups: &Path,
    points: &Path,
    at: DateTime<Utc>,
) -> anyhow::Result<(PathBuf, Manifest)> {
    let mut candidates: Vec<(DateTime<Utc>, PathBuf)> = points_in(points);
    candidates.extend(
        catalogue::list(backups)?
            .into_iter()
            .map(|l| (l.at, l.path)),
    );
    let best = candidates
        .into_iter()
        .filter(|(stamp, _)| *stamp <= at)
        .filter_map(|(_, path)| manifest_of(&path).map(|m| (path, m)))
        .filter(|(_, m)| m.created_at <= at)
        .max_by_key(|(_, m)| m.created_at);
    best.ok_or_else(|| {
        anyhow::anyhow!(
            "no backup or point in {} or {} holds the data as at {}",
            backups.display(),
            points.display(),
            at.format("%Y-%m-%d %H:%M:%S UTC")
        )
    })
}

/// `TIME` as `restore --at` takes it: RFC 3339 (`2026-12-06T22:40:00Z`,
/// `...+01:00`), or `YYYY-MM-DD HH:MM[:SS]` in UTC.
pub fn parse_time(text: &str) -> anyhow::Result<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    anyhow::bail!(
        "--at {text:?} is not a time like 2026-12-06T22:40:00Z or \"2026-12-06 22:40:00\" (UTC)"
    )
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_are_read_as_utc_unless_they_say_otherwise() {
        let t = parse_time("2026-12-06T22:40:00Z").unwrap();
        assert_eq!(parse_time("2026-12-06 22:40:00").unwrap(), t);
        assert_eq!(parse_time("2026-12-06 22:40").unwrap(), t);
        assert_eq!(parse_time("2026-12-06T23:40:00+01:00").unwrap(), t);
        assert!(parse_time("yesterday").is_err());
    }
}
