//! Every setting, declared once: its name, type, default and meaning. Its key in
//! `statuspost.toml` is the field's name; its environment variable is [`env_name`].
use std::path::PathBuf;
use std::sync::LazyLock;

use secrecy::SecretString;
use serde::Deserialize;
use smart_default::SmartDefault;

/// The settings as given, before [`super::Settings::from_raw`] checks them. A key missing
/// from the file and the environment takes the field's default; `None` means "work it out"
/// (see each field).
#[derive(Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub(super) struct Raw {
    /// SQLite file, or `postgres://user:pass@host/db`.
    #[default = "sqlite://statuspost.db?mode=rwc"]
    pub database_url: SecretString,
    /// Address to listen on.
    #[default = "127.0.0.1:8080"]
    pub bind: String,
    /// Public URL that every link starts with; unset, `http://<bind>/`.
    pub base_url: Option<String>,
    /// The page's name in headers and titles.
    #[default = "Status"]
    pub page_name: String,
    /// IANA zone the page shows times in; unset, the one saved in the database, else UTC.
    pub timezone: Option<String>,
    /// Days of past incidents on the front page, today's included, each under its date.
    #[default = 7]
    pub past_days: u32,
    /// Keys the CSRF tokens; unset, one is generated once and kept in the database.
    pub secret_key: Option<SecretString>,
    /// Unset, mail goes to `.eml` files in `mail_dir`.
    pub smtp_url: Option<SecretString>,
    /// Sender of notification mail; unset, `statuspost@<base URL host>`.
    pub mail_from: Option<String>,
    /// Where mail is written when there is no SMTP server.
    #[default = "outbox"]
    pub mail_dir: PathBuf,
    /// Allow webhooks to private and loopback addresses.
    pub webhook_allow_private: bool,
    /// Deliver notifications from the serving process.
    #[default = true]
    pub run_worker: bool,
    /// Waits between delivery attempts, e.g. "5s,5m,30m".
    #[default(crate::domain::retry_schedule::DEFAULT.into())]
    pub retry_schedule: String,
    /// Deliveries a worker sends at once: each waits mostly on its receiver,
    /// so many in flight cost little (256 doubled the fan-out rate of 64).
    #[default = 256]
    pub worker_concurrency: usize,
    /// How long a claimed delivery stays one worker's without a heartbeat:
    /// renewed while in flight, so a dead worker's deliveries wait at most this.
    #[default = "15s"]
    pub worker_lease: String,
    /// How long a staff sign-in lasts.
    #[default = 12]
    pub session_hours: i64,
    /// Reverse proxies (addresses or CIDR blocks, comma-separated) whose `X-Forwarded-For`
    /// names the client.
    pub trusted_proxies: String,
    /// Lets `/metrics` be scraped from elsewhere by a request bearing it.
    pub metrics_token: Option<SecretString>,
    /// Memory the rendered public pages may take, in MiB, all variants counted.
    #[default = 32]
    pub page_cache_mb: u64,
    /// How much an hour of partial outage counts against uptime (a major outage's hour
    /// counts 1); Statuspage's 0.3.
    #[default = 0.3]
    pub uptime_partial_weight: f64,
    /// Minutes an open incident may go without an update (and without a promise of
    /// one) before its author is reminded; 0 turns the reminder off.
    #[default = 60]
    pub remind_silent_after_minutes: u32,
    /// Seconds an incident update's notifications wait, in which staff may edit
    /// the update or hold them; 0 sends at once.
    #[default = 60]
    pub send_delay_seconds: u32,
    /// A subscriber gets at most one email per incident this many minutes
    /// apart; faster updates wait and go together. 0 turns it off.
    pub email_coalesce_minutes: u32,
    /// Where `serve` writes its scheduled backups (created for its owner alone).
    #[default = "backups"]
    pub backup_dir: PathBuf,
    /// How often `serve` takes a backup, e.g. "1h" or "15m"; "off" for never.
    #[default = "1h"]
    pub backup_every: String,
    /// Scheduled backups kept: the last of each of this many latest hours...
    #[default = 24]
    pub backup_keep_hourly: u32,
    /// ...and of this many latest days.
    #[default = 30]
    pub backup_keep_daily: u32,
    /// Between backups, a snapshot this often when the data changed, for
    /// `restore --at`; "off" for none.
    #[default = "30s"]
    pub backup_points_every: String,
    /// Hours those snapshots are kept.
    #[default = 24]
    pub backup_points_keep_hours: u32,
    /// A folder `serve` keeps a static copy of the public site in, rewritten
    /// within seconds of every write; unset, none.
    pub static_dir: Option<PathBuf>,
    /// The journal `post --offline` appends to and `journal replay` reads;
    /// unset, `STATIC_DIR.journal` beside the static copy.
    pub journal: Option<PathBuf>,
    /// An S3-compatible bucket `serve` keeps the same copy in, `s3://bucket/prefix`.
    pub static_url: Option<String>,
    /// The bucket's endpoint, e.g. `https://s3.eu-west-1.amazonaws.com` or a
    /// MinIO server's URL; unset, AWS's for the region.
    pub static_s3_endpoint: Option<String>,
    /// The bucket's region.
    #[default = "us-east-1"]
    pub static_s3_region: String,
    /// The key the copy is written with; unset, `AWS_ACCESS_KEY_ID`.
    pub static_s3_access_key_id: Option<String>,
    /// Its secret; unset, `AWS_SECRET_ACCESS_KEY`.
    pub static_s3_secret_access_key: Option<SecretString>,
}

/// Settings whose variables keep the name other tools give them, without our prefix.
const UNPREFIXED: [&str; 2] = ["database_url", "smtp_url"];

/// The environment variable that sets `key`.
pub(super) fn env_name(key: &str) -> String {
    let upper = key.to_ascii_uppercase();
    if UNPREFIXED.contains(&key) {
        upper
    } else {
        format!("STATUSPOST_{upper}")
    }
}

/// The fields of [`Raw`], in order, as serde's derive lists them: read from the struct so
/// that a new field is a known key (and variable) without being listed anywhere else.
pub(super) fn keys() -> &'static [&'static str] {
    static KEYS: LazyLock<&'static [&'static str]> = LazyLock::new(|| {
        let mut names = FieldNames(None);
        // Fails on purpose once the names are seen: nothing is built.
        let _ = Raw::deserialize(&mut names);
        names.0.expect("Raw is a struct with named fields")
    });
    &KEYS
}

/// A deserializer that only records the field list serde's derive passes to `deserialize_struct`.
struct FieldNames(Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for &mut FieldNames {
    type Error = serde::de::value::Error;

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(serde::de::Error::custom("field names taken"))
    }

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unprefixed_names_are_settings() {
        for key in UNPREFIXED {
            assert!(keys().contains(&key), "{key} is not a setting");
        }
    }

    #[test]
    fn variables_carry_the_prefix_unless_named_otherwise() {
        assert_eq!(env_name("database_url"), "DATABASE_URL");
        assert_eq!(env_name("smtp_url"), "SMTP_URL");
        assert_eq!(env_name("worker_lease"), "STATUSPOST_WORKER_LEASE");
    }
}
