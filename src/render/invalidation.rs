//! What tells this process's page cache that another process changed a page.
//!
//! Every write to what the pages show moves a generation row in the database
//! in its own transaction (triggers). On PostgreSQL the commit also notifies
//! every listening process at once; the row is read again whenever the
//! listener connects or reconnects, and every few seconds, so a notification
//! missed while a connection was down cannot leave a page stale for good. On
//! SQLite, which has no notifications, the row is read every second.
use std::sync::Weak;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::cache::PageCache;
use super::statuspage::SharedZone;
use crate::store::settings::{self, PageChanges};

/// How often the generation is read when notifications tell us at once.
const POLL_WITH_NOTIFY: Duration = Duration::from_secs(5);
/// How often when nothing else would tell us.
const POLL_ALONE: Duration = Duration::from_secs(1);
/// How long to wait before listening again after the listener failed.
const RELISTEN_AFTER: Duration = Duration::from_secs(2);

/// What a process holds that goes stale when pages change elsewhere.
pub struct Held {
    /// The page cache of a `serve` process; following ends when it is dropped.
    pub cache: Option<Weak<PageCache>>,
    /// The page zone, unless the settings fix it: staff may choose another.
    pub zone: Option<SharedZone>,
}

impl Held {
    fn gone(&self) -> bool {
        self.cache.as_ref().is_some_and(|c| c.strong_count() == 0)
    }
}

/// Runs until the cache is dropped (forever when there is none). `seen` is
/// the generation read before the first page was rendered.
pub async fn follow(db: DatabaseConnection, held: Held, mut seen: Option<i64>) {
    let postgres = db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    let mut tick = tokio::time::interval(if postgres {
        POLL_WITH_NOTIFY
    } else {
        POLL_ALONE
    });
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut listener: Option<PageChanges> = None;
    let mut listen_at = tokio::time::Instant::now();
    loop {
        if held.gone() {
            return;
        }
        if postgres && listener.is_none() && tokio::time::Instant::now() >= listen_at {
            match PageChanges::listen(&db).await {
                Ok(l) => {
                    listener = l;
                    // Whatever was committed while nobody listened.
                    check(&db, &held, &mut seen).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for page changes; reading the generation instead");
                    listen_at = tokio::time::Instant::now() + RELISTEN_AFTER;
                }
            }
        }
        tokio::select! {
            _ = tick.tick() => check(&db, &held, &mut seen).await,
            heard = next(&mut listener) => match heard {
                Ok(Some(generation)) => {
                    if seen != Some(generation) {
                        seen = Some(generation);
                        changed(&db, &held).await;
                    }
                }
                // Reconnected: changes may have gone by unheard.
                Ok(None) => check(&db, &held, &mut seen).await,
                Err(e) => {
                    tracing::warn!(error = %e, "lost the page change listener");
                    listener = None;
                    listen_at = tokio::time::Instant::now() + RELISTEN_AFTER;
                }
            },
        }
    }
}

async fn next(listener: &mut Option<PageChanges>) -> Result<Option<i64>, sea_orm::DbErr> {
    match listener {
        Some(l) => l.next().await,
        None => std::future::pending().await,
    }
}

/// Reads the generation; a change invalidates, and so does a first reading
/// (pages may have been rendered before it).
async fn check(db: &DatabaseConnection, held: &Held, seen: &mut Option<i64>) {
    match settings::page_generation(db).await {
        Ok(generation) if *seen != Some(generation) => {
            *seen = Some(generation);
            changed(db, held).await;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the page generation"),
    }
}

/// The zone is read before the pages are dropped, so none is rendered again
/// in the old one.
async fn changed(db: &DatabaseConnection, held: &Held) {
    if let Some(zone) = &held.zone {
        match settings::page_zone(db).await {
            Ok(Some(z)) => zone.set(z),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the page zone"),
        }
    }
    if let Some(cache) = held.cache.as_ref().and_then(Weak::upgrade) {
        cache.invalidate();
    }
}
