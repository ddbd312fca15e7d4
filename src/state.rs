//! What every handler shares.
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tera::Tera;

use crate::config::Settings;
use crate::notify::webhook::WebhookSender;
use crate::render::cache::PageCache;
use crate::render::statuspage::PageInfo;
use crate::throttle::LoginThrottle;

pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Settings,
    pub tera: Arc<Tera>,
    /// Shared with the task that hears of other processes' writes.
    pub cache: Arc<PageCache>,
    /// Signs CSRF tokens and other server-made values; from settings or the database.
    pub secret: Vec<u8>,
    /// Which page this is (id, name, public URL, zone), built once at start.
    /// Its zone is the one times are shown in unless a reader picks another;
    /// the first admin may choose it at setup.
    pub page: PageInfo,
    pub throttle: LoginThrottle,
    /// Caps confirmation emails per address, so the form cannot flood an inbox.
    pub signup_throttle: LoginThrottle,
    /// Wakes the in-process delivery worker when an event is written.
    pub wake_worker: Arc<tokio::sync::Notify>,
    /// Sends every email: SMTP with pooled connections, or .eml files.
    pub mailer: Arc<crate::notify::mail::Mailer>,
    /// Sends subscribers' webhooks; refuses private addresses unless
    /// `webhook_allow_private`.
    pub webhooks: WebhookSender,
}

impl AppState {
    /// What the delivery worker needs of this process, and nothing more.
    pub fn worker(&self) -> crate::notify::worker::Context {
        crate::notify::worker::Context {
            db: self.db.clone(),
            page: self.page.clone(),
            tera: self.tera.clone(),
            mailer: self.mailer.clone(),
            webhooks: self.webhooks.clone(),
            schedule: self.settings.retry_schedule.clone(),
            concurrency: self.settings.worker_concurrency,
            lease: self.settings.worker_lease,
            wake: self.wake_worker.clone(),
            remind_silent_after: self.settings.remind_silent_after,
            send_delay: self.settings.send_delay,
            email_coalesce: self.settings.email_coalesce,
        }
    }

    /// What follows other processes' writes for a `serve` process: its
    /// cache, and its page zone unless the settings fix it.
    pub fn held(&self) -> crate::render::invalidation::Held {
        crate::render::invalidation::Held {
            cache: Some(Arc::downgrade(&self.cache)),
            zone: self.followed_zone(),
        }
    }

    /// The zone to keep in step with the database, if it may change there.
    pub fn followed_zone(&self) -> Option<crate::render::statuspage::SharedZone> {
        self.settings
            .timezone
            .is_none()
            .then(|| self.page.zone.clone())
    }

    /// The live site's links, for public pages' templates.
    pub fn links(&self) -> crate::render::links::Links {
        crate::render::links::Links::live(self.settings.base_url.as_str())
    }

    /// Called after every write that changes what the public sees.
    pub fn published(&self) {
        self.cache.invalidate();
        self.wake_worker.notify_one();
    }
}
