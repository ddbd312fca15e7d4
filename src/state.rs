//! What every handler shares.
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tera::Tera;

use crate::config::Settings;
use crate::domain::PageZone;
use crate::notify::webhook::WebhookSender;
use crate::render::cache::PageCache;
use crate::web::throttle::LoginThrottle;

pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Settings,
    pub tera: Tera,
    pub cache: PageCache,
    /// Signs CSRF tokens and other server-made values; from settings or the database.
    pub secret: Vec<u8>,
    /// The zone times are shown in unless a reader picks another.
    pub page_zone: PageZone,
    /// Stable id of this page in the Statuspage-shaped API and webhooks.
    pub page_id: String,
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
    /// Called after every write that changes what the public sees.
    pub fn published(&self) {
        self.cache.invalidate();
        self.wake_worker.notify_one();
    }
}
