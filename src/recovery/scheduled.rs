//! Backups `serve` takes on a schedule (`STATUSPOST_BACKUP_EVERY`) into
//! `STATUSPOST_BACKUP_DIR`: each written as `statuspost backup` writes one,
//! verified as `statuspost backup verify` does, recorded beside the file with
//! what changed since the one before, and the folder pruned to
//! `STATUSPOST_BACKUP_KEEP_HOURLY` and `_DAILY`. Of several instances on one
//! database, one takes each slot (`store::backup_schedule`).
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use super::catalogue::{self, Record, Verification};
use crate::config::Settings;
use crate::domain::retention;
use crate::store::{self, backup::digests};

/// What a scheduled backup came to.
#[derive(Debug)]
pub struct Taken {
    pub path: PathBuf,
    pub verified: bool,
    pub pruned: Vec<String>,
}

/// Takes the backup of the slot `at` falls in, unless it has been taken (here
/// or by another instance) or the schedule is off. `at` is the clock's time
/// when the schedule runs it; a test passes the times it wants.
pub async fn run_due(
    settings: &Settings,
    db: &DatabaseConnection,
    at: DateTime<Utc>,
    me: &str,
) -> anyhow::Result<Option<Taken>> {
    let Some(every) = settings.backup_every else {
        return Ok(None);
    };
    let slot = retention::slot(at, every);
    if !store::backup_schedule::claim(db, store::backup_schedule::SCHEDULED, slot, me).await? {
        return Ok(None);
    }
    let dir = &settings.backup_dir;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| anyhow::anyhow!("cannot make the backup folder {}: {e}", dir.display()))?;
    let path = super::name_at(dir, "statuspost-backup", slot);
    let written = super::write_backup(settings, db, &path).await?;
    let verified = match super::verify(settings, &path).await {
        Ok(v) => Verification {
            ok: v.differ.is_empty(),
            at: store::now(),
            lines: v.lines,
        },
        Err(e) => Verification {
            ok: false,
            at: store::now(),
            lines: vec![format!("{e:#}")],
        },
    };
    let rows = digests::of_backup(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    digests::write(&catalogue::rows_path(&path), &rows)?;
    let ok = verified.ok;
    catalogue::write_record(
        &path,
        &Record {
            slot,
            created_at: written.manifest.created_at,
            bytes: written.bytes,
            verified,
            since: None,
            changes: None,
        },
    )?;
    let pruned = catalogue::prune(dir, settings.backup_keep)?;
    catalogue::count_changes(dir)?;
    Ok(Some(Taken {
        path,
        verified: ok,
        pruned,
    }))
}

/// The schedule running in the background; [`Scheduler::stop`] ends it.
pub struct Scheduler {
    stop: CancellationToken,
    thread: std::thread::JoinHandle<()>,
}

impl Scheduler {
    /// Stops at once: a backup being written is left as `.partial` and its
    /// slot is not taken again (the next slot's is).
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = tokio::task::spawn_blocking(move || self.thread.join()).await;
    }
}

/// Starts the schedule, unless it is off: a backup at once for the slot we
/// are in (when no instance has taken it), then one at each slot's start.
///
/// It runs on a thread of its own with its own connection: reading and
/// writing the files holds values that stay on one thread, and a backup's
/// rendering and compression then take no time from the server's threads.
pub fn spawn(settings: Settings) -> anyhow::Result<Option<Scheduler>> {
    let Some(every) = settings.backup_every else {
        return Ok(None);
    };
    let stop = CancellationToken::new();
    let token = stop.clone();
    let me = format!(
        "{}-{}",
        std::process::id(),
        &crate::secrets::random_token()[..8]
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name("scheduled-backups".into())
        .spawn(move || {
            runtime.block_on(async move {
                let url = secrecy::ExposeSecret::expose_secret(&settings.database_url).to_owned();
                let db = match store::connect(&url).await {
                    Ok(db) => db,
                    Err(e) => {
                        let e = crate::secrets::scrub(&e.to_string(), &url);
                        tracing::error!("scheduled backups cannot open the database: {e}");
                        return;
                    }
                };
                let backups = async {
                    loop {
                        let run = run_due(&settings, &db, Utc::now(), &me);
                        tokio::select! {
                            _ = token.cancelled() => break,
                            taken = run => log(taken, &settings),
                        }
                        if !wait_for_next(every, &token).await {
                            break;
                        }
                    }
                };
                let points = async {
                    let Some(every) = settings.backup_points_every else {
                        return;
                    };
                    let mut last = super::points::Last::read(&settings);
                    loop {
                        let run =
                            super::points::run_due(&settings, &db, Utc::now(), &me, &mut last);
                        tokio::select! {
                            _ = token.cancelled() => break,
                            written = run => if let Err(e) = written {
                                tracing::error!("writing a point for restore --at failed: {e:#}");
                            },
                        }
                        if !wait_for_next(every, &token).await {
                            break;
                        }
                    }
                };
                tokio::join!(backups, points);
                db.close().await.ok();
            })
        })?;
    Ok(Some(Scheduler { stop, thread }))
}

/// Sleeps until the next slot starts; false when stopped first.
async fn wait_for_next(every: std::time::Duration, token: &CancellationToken) -> bool {
    let next = retention::next_slot(Utc::now(), every);
    let wait = (next - Utc::now()).to_std().unwrap_or_default();
    tokio::select! {
        _ = token.cancelled() => false,
        _ = tokio::time::sleep(wait) => true,
    }
}

fn log(taken: anyhow::Result<Option<Taken>>, settings: &Settings) {
    match taken {
        Ok(None) => {}
        Ok(Some(t)) if t.verified => tracing::info!(
            backup = %t.path.display(),
            pruned = t.pruned.len(),
            "scheduled backup written and verified"
        ),
        Ok(Some(t)) => tracing::error!(
            backup = %t.path.display(),
            "scheduled backup written but it FAILED verification: see `statuspost backup list`"
        ),
        Err(e) => tracing::error!(
            dir = %settings.backup_dir.display(),
            "scheduled backup failed: {e:#}"
        ),
    }
}
