//! Settings: defaults < `statuspost.toml` < environment. Each is declared once, in
//! [`raw::Raw`]; [`Settings`] is what the program uses, checked.
mod raw;
mod sources;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use secrecy::{ExposeSecret, SecretString};

use crate::domain::retry_schedule::RetrySchedule;
use crate::domain::PageZone;
use raw::Raw;

/// Every setting, as the program uses it. `Debug` prints the secrets (the
/// database and SMTP URLs, which may carry passwords, and the secret key) as
/// `[REDACTED]`, so the settings can be logged whole.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: SecretString,
    pub bind: String,
    /// Every link we put in a page, an email or a webhook starts with this.
    pub base_url: url::Url,
    /// True when no base URL was configured and it was made from `bind`.
    base_url_from_bind: bool,
    pub page_name: String,
    /// The page's zone when set here; otherwise the one stored in the database, else UTC.
    pub timezone: Option<PageZone>,
    /// Days of past incidents on the front page, today's included (1 to [`MAX_PAST_DAYS`]).
    pub past_days: u32,
    /// When unset, a key is generated once and kept in the database.
    pub secret_key: Option<SecretString>,
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    /// Where mail goes as .eml files when no SMTP server is configured.
    pub mail_dir: PathBuf,
    pub webhook_allow_private: bool,
    /// Run the delivery worker inside `serve`.
    pub run_worker: bool,
    /// Waits between delivery attempts (`STATUSPOST_RETRY_SCHEDULE`, e.g. "5s,5m,30m").
    pub retry_schedule: RetrySchedule,
    /// Deliveries a worker sends at once.
    pub worker_concurrency: usize,
    /// How long a claimed delivery stays a worker's before another may take it.
    pub worker_lease: std::time::Duration,
    pub session_hours: i64,
    /// Cookies marked Secure; on by default when the base URL is https.
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::domain::TrustedProxies,
    /// Lets `/metrics` be scraped from elsewhere, by a request bearing it.
    pub metrics_token: Option<SecretString>,
    /// The byte bound of the rendered-page cache.
    pub page_cache_bytes: u64,
    /// How partial outages count against uptime.
    pub uptime_weights: crate::domain::UptimeWeights,
    /// How long an open incident may say nothing before staff are reminded; `None`: never.
    pub remind_silent_after: Option<chrono::Duration>,
    /// How long an incident update's notifications wait before they go.
    pub send_delay: chrono::Duration,
    /// At most one email per subscriber and incident this often; `None`: every update at once.
    pub email_coalesce: Option<chrono::Duration>,
    /// Where scheduled backups go.
    pub backup_dir: PathBuf,
    /// How often `serve` takes a backup; `None`: never.
    pub backup_every: Option<std::time::Duration>,
    /// How many scheduled backups are kept.
    pub backup_keep: crate::domain::retention::Keep,
    /// How often a point for `restore --at` is written; `None`: never (also
    /// when scheduled backups are off).
    pub backup_points_every: Option<std::time::Duration>,
    pub backup_points_keep_hours: u32,
    /// Where `serve` keeps a static copy of the public site, if anywhere.
    pub static_dir: Option<PathBuf>,
    /// Where offline posts are journalled, if anywhere (see [`Settings::journal`]).
    pub journal: Option<PathBuf>,
    /// Where `serve` keeps the copy in a bucket, if anywhere.
    pub static_url: Option<StaticBucket>,
    /// How to reach a bucket the copy is kept in.
    pub static_s3: S3Access,
}

/// A bucket and a prefix in it, from `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticBucket {
    pub bucket: String,
    /// Without slashes at either end; empty for the bucket's top.
    pub prefix: String,
}

impl StaticBucket {
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{url} is not an s3://bucket/prefix URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("{url} names no bucket"));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }
}

/// The endpoint, region and keys of the bucket; `Debug` redacts the secret.
#[derive(Debug, Clone)]
pub struct S3Access {
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// A schedule's interval: a duration of at least a second, or `off` (or 0).
fn every_or_off(name: &str, value: &str) -> Result<Option<std::time::Duration>, ConfigError> {
    match value.trim() {
        "off" | "0" => Ok(None),
        every => {
            let d = crate::domain::retry_schedule::parse_duration(every)
                .map_err(|e| ConfigError(format!("{name}: {e}, or off")))?;
            if d < std::time::Duration::from_secs(1) {
                return Err(ConfigError(format!("{name} must be at least 1s, or off")));
            }
            Ok(Some(d))
        }
    }
}

/// Each past day is a heading on the front page, and all their incidents are
/// read for every render: a quarter is as far back as the page goes, the
/// history is for the rest.
pub const MAX_PAST_DAYS: u32 = 90;

/// Every environment variable we read: each setting's, and the one naming the settings file.
pub fn known_variables() -> &'static [String] {
    static KNOWN: LazyLock<Vec<String>> = LazyLock::new(|| {
        let mut known: Vec<String> = raw::keys().iter().map(|k| raw::env_name(k)).collect();
        // Read by the command line (`--config`), not a setting itself.
        known.push("STATUSPOST_CONFIG".into());
        known.sort();
        known
    });
    &KNOWN
}

/// `STATUSPOST_*` variables we do not read, each with the known name it most
/// likely meant: a typo would otherwise be silently ignored.
pub fn unknown_variables(env: &[(String, String)]) -> Vec<(String, &'static str)> {
    let known = known_variables();
    env.iter()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("STATUSPOST_") && !known.contains(k))
        .map(|k| {
            let nearest = known
                .iter()
                .min_by_key(|known| strsim::levenshtein(k, known))
                .map_or("STATUSPOST_BIND", String::as_str);
            (k.clone(), nearest)
        })
        .collect()
}

impl Settings {
    /// The journal of offline posts: the setting, else `STATIC_DIR.journal`
    /// beside the copy (outside it, so it is never published).
    pub fn journal(&self) -> Option<PathBuf> {
        self.journal.clone().or_else(|| {
            self.static_dir.as_ref().map(|d| {
                let mut name = d.as_os_str().to_owned();
                name.push(".journal");
                PathBuf::from(name)
            })
        })
    }

    /// Loads settings from `path` (if it exists) and the process environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::from_sources(path, &env)
    }

    pub fn from_sources(
        path: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Self, ConfigError> {
        for (name, nearest) in unknown_variables(env) {
            tracing::warn!("{name} is not a setting and is ignored; did you mean {nearest}?");
        }
        let default_path = PathBuf::from("statuspost.toml");
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (default_path, false),
        };
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| ConfigError(format!("{}: {}", path.display(), e.message())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => toml::Table::new(),
            Err(e) => return Err(ConfigError(format!("cannot read {}: {e}", path.display()))),
        };
        Self::from_raw(sources::read(&path, file, env)?)
    }

    /// Checks the settings as given and works out the ones left to us. Messages name the
    /// environment variable, wherever the value came from.
    fn from_raw(raw: Raw) -> Result<Self, ConfigError> {
        // Whole, so that a new setting cannot be forgotten here.
        let Raw {
            database_url,
            bind,
            base_url,
            page_name,
            timezone,
            past_days,
            secret_key,
            smtp_url,
            mail_from,
            mail_dir,
            webhook_allow_private,
            run_worker,
            retry_schedule,
            worker_concurrency,
            worker_lease,
            session_hours,
            trusted_proxies,
            metrics_token,
            page_cache_mb,
            uptime_partial_weight,
            remind_silent_after_minutes,
            send_delay_seconds,
            email_coalesce_minutes,
            backup_dir,
            backup_every,
            backup_keep_hourly,
            backup_keep_daily,
            backup_points_every,
            backup_points_keep_hours,
            static_dir,
            journal,
            static_url,
            static_s3_endpoint,
            static_s3_region,
            static_s3_access_key_id,
            static_s3_secret_access_key,
        } = raw;
        let static_url = static_url
            .map(|u| {
                StaticBucket::parse(&u)
                    .map_err(|e| ConfigError(format!("STATUSPOST_STATIC_URL: {e}")))
            })
            .transpose()?;
        if let Some(endpoint) = &static_s3_endpoint {
            let ok = url::Url::parse(endpoint)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(ConfigError(format!(
                    "STATUSPOST_STATIC_S3_ENDPOINT={endpoint} must be an http(s) URL with a host"
                )));
            }
        }
        let static_s3 = S3Access {
            endpoint: static_s3_endpoint,
            region: static_s3_region,
            access_key_id: static_s3_access_key_id,
            secret_access_key: static_s3_secret_access_key,
        };
        let base_url_from_bind = base_url.is_none();
        let base_url_text = base_url.unwrap_or_else(|| format!("http://{bind}"));
        let mut base_url = url::Url::parse(&base_url_text).map_err(|e| {
            ConfigError(format!(
                "STATUSPOST_BASE_URL={base_url_text} is not a URL: {e}"
            ))
        })?;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.host().is_none() {
            return Err(ConfigError(format!(
                "STATUSPOST_BASE_URL={base_url_text} must be an http(s) URL with a host"
            )));
        }
        if !base_url.path().ends_with('/') {
            let p = format!("{}/", base_url.path());
            base_url.set_path(&p);
        }
        let timezone = timezone
            .map(|tz| {
                PageZone::parse(&tz).map_err(|e| ConfigError(format!("STATUSPOST_TIMEZONE: {e}")))
            })
            .transpose()?;
        if !(1..=MAX_PAST_DAYS).contains(&past_days) {
            return Err(ConfigError(format!(
                "STATUSPOST_PAST_DAYS={past_days} must be from 1 to {MAX_PAST_DAYS}"
            )));
        }
        if secret_key
            .as_ref()
            .is_some_and(|k| k.expose_secret().len() < 32)
        {
            return Err(ConfigError(
                "STATUSPOST_SECRET_KEY must be at least 32 characters (or unset, to generate one)"
                    .into(),
            ));
        }
        let retry_schedule = RetrySchedule::parse(&retry_schedule)
            .map_err(|e| ConfigError(format!("STATUSPOST_RETRY_SCHEDULE: {e}")))?;
        if worker_concurrency == 0 {
            return Err(ConfigError(
                "STATUSPOST_WORKER_CONCURRENCY=0 is not a positive number".into(),
            ));
        }
        let worker_lease = crate::domain::retry_schedule::parse_duration(&worker_lease)
            .map_err(|e| ConfigError(format!("STATUSPOST_WORKER_LEASE: {e}")))?;
        // The heartbeat renews three times a lease, and must have time to.
        if worker_lease < std::time::Duration::from_secs(1) {
            return Err(ConfigError(
                "STATUSPOST_WORKER_LEASE must be at least 1s".into(),
            ));
        }
        let trusted_proxies = crate::domain::TrustedProxies::parse(&trusted_proxies)
            .map_err(|e| ConfigError(format!("STATUSPOST_TRUSTED_PROXIES: {e}")))?;
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.expose_secret().len() < 16)
        {
            return Err(ConfigError(
                "STATUSPOST_METRICS_TOKEN must be at least 16 characters".into(),
            ));
        }
        // Below one page's variants, every render would be thrown away at once.
        if !(1..=65_536).contains(&page_cache_mb) {
            return Err(ConfigError(format!(
                "STATUSPOST_PAGE_CACHE_MB={page_cache_mb} must be between 1 and 65536"
            )));
        }
        let page_cache_bytes = page_cache_mb * 1024 * 1024;
        let uptime_weights = crate::domain::UptimeWeights::new(uptime_partial_weight)
            .map_err(|e| ConfigError(format!("STATUSPOST_UPTIME_PARTIAL_WEIGHT={e}")))?;
        // A week of silence is no longer a reminder worth sending.
        if remind_silent_after_minutes > 7 * 24 * 60 {
            return Err(ConfigError(format!(
                "STATUSPOST_REMIND_SILENT_AFTER_MINUTES={remind_silent_after_minutes} must be \
                 at most 10080 (a week), or 0 for never"
            )));
        }
        let remind_silent_after = (remind_silent_after_minutes > 0)
            .then(|| chrono::Duration::minutes(remind_silent_after_minutes.into()));
        // Longer, and a notice would be late news; the window is for a second look.
        if send_delay_seconds > 3600 {
            return Err(ConfigError(format!(
                "STATUSPOST_SEND_DELAY_SECONDS={send_delay_seconds} must be at most 3600, or 0 to send at once"
            )));
        }
        let send_delay = chrono::Duration::seconds(send_delay_seconds.into());
        if email_coalesce_minutes > 1440 {
            return Err(ConfigError(format!(
                "STATUSPOST_EMAIL_COALESCE_MINUTES={email_coalesce_minutes} must be at most 1440 (a day), or 0 for off"
            )));
        }
        let email_coalesce = (email_coalesce_minutes > 0)
            .then(|| chrono::Duration::minutes(email_coalesce_minutes.into()));
        let backup_every = every_or_off("STATUSPOST_BACKUP_EVERY", &backup_every)?;
        let backup_points_every = backup_every.and(every_or_off(
            "STATUSPOST_BACKUP_POINTS_EVERY",
            &backup_points_every,
        )?);
        let backup_keep = crate::domain::retention::Keep {
            hourly: backup_keep_hourly,
            daily: backup_keep_daily,
        };
        let secure_cookies = base_url.scheme() == "https";
        let host = base_url.host_str().unwrap_or("localhost").to_owned();
        Ok(Self {
            database_url,
            bind,
            page_name,
            timezone,
            past_days,
            secret_key,
            smtp_url,
            mail_from: mail_from.unwrap_or_else(|| format!("statuspost@{host}")),
            mail_dir,
            webhook_allow_private,
            run_worker,
            retry_schedule,
            worker_concurrency,
            worker_lease,
            session_hours,
            secure_cookies,
            trusted_proxies,
            metrics_token,
            page_cache_bytes,
            uptime_weights,
            remind_silent_after,
            send_delay,
            email_coalesce,
            backup_dir,
            backup_every,
            backup_keep,
            backup_points_every,
            backup_points_keep_hours,
            static_dir,
            journal,
            static_url,
            static_s3,
            base_url,
            base_url_from_bind,
        })
    }

    /// Changes the address to listen on (`serve --bind`, or the port the OS
    /// gave for port 0); a base URL made from the bind follows it.
    pub fn set_bind(&mut self, bind: &str) {
        self.bind = bind.to_owned();
        if self.base_url_from_bind {
            if let Ok(u) = url::Url::parse(&format!("http://{bind}/")) {
                self.base_url = u;
            }
        }
    }

    /// An absolute link to `path` (which must not start with '/') under the base URL.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path.trim_start_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_need_nothing() {
        let s = Settings::from_sources(None, &env(&[])).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert!(s.database_url.expose_secret().starts_with("sqlite://"));
        assert_eq!(s.link("/incidents/1"), "http://127.0.0.1:8080/incidents/1");
        assert!(s.secret_key.is_none());
        assert_eq!(s.page_cache_bytes, 32 * 1024 * 1024);
        assert_eq!(s.past_days, 7);
        assert_eq!(s.uptime_weights, crate::domain::UptimeWeights::STATUSPAGE);
    }

    #[test]
    fn debug_hides_every_secret() {
        let s = Settings::from_sources(
            None,
            &env(&[
                ("DATABASE_URL", "postgres://u:dbpass@h/db"),
                ("SMTP_URL", "smtps://u:smtppass@mail.example.com"),
                (
                    "STATUSPOST_SECRET_KEY",
                    "a-secret-key-of-at-least-32-characters",
                ),
                ("STATUSPOST_STATIC_S3_SECRET_ACCESS_KEY", "bucketsecret"),
            ]),
        )
        .unwrap();
        let shown = format!("{s:?}");
        for secret in ["dbpass", "smtppass", "a-secret-key", "bucketsecret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn a_static_url_names_a_bucket_and_a_prefix() {
        let at = StaticBucket::parse("s3://status-copy/pages/live/").unwrap();
        assert_eq!(at.bucket, "status-copy");
        assert_eq!(at.prefix, "pages/live");
        assert_eq!(StaticBucket::parse("s3://b").unwrap().prefix, "");
        for bad in ["https://b/p", "s3://", "s3:///p"] {
            assert!(StaticBucket::parse(bad).is_err(), "{bad}");
        }
        let err = Settings::from_sources(None, &env(&[("STATUSPOST_STATIC_URL", "/srv/copy")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("STATUSPOST_STATIC_URL: "), "{err}");
    }

    #[test]
    fn a_mistyped_variable_is_named_with_its_nearest_setting() {
        let found = unknown_variables(&env(&[
            ("STATUSPOST_TIMEZOME", "UTC"),
            ("STATUSPOST_BIND", "127.0.0.1:1"),
            ("HOME", "/root"),
        ]));
        assert_eq!(
            found,
            vec![("STATUSPOST_TIMEZOME".to_owned(), "STATUSPOST_TIMEZONE")]
        );
    }

    #[test]
    fn environment_beats_file() {
        let dir = std::env::temp_dir().join(format!("sp-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("statuspost.toml");
        std::fs::write(
            &path,
            "page_name = \"From file\"\nbind = \"0.0.0.0:9000\"\n",
        )
        .unwrap();
        let s = Settings::from_sources(Some(&path), &env(&[("STATUSPOST_PAGE_NAME", "From env")]))
            .unwrap();
        assert_eq!(s.page_name, "From env");
        assert_eq!(s.bind, "0.0.0.0:9000");
    }

    #[test]
    fn bad_settings_are_one_clear_line() {
        let e = Settings::from_sources(None, &env(&[("STATUSPOST_TIMEZONE", "Mars/Base")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Unknown time zone"), "{e}");
        assert!(!e.contains('\n'));
        assert!(Settings::from_sources(None, &env(&[("STATUSPOST_SECRET_KEY", "short")])).is_err());
        assert!(Settings::from_sources(None, &env(&[("STATUSPOST_BASE_URL", "ftp://x")])).is_err());
        let e = Settings::from_sources(None, &env(&[("STATUSPOST_PAGE_CACHE_MB", "0")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("STATUSPOST_PAGE_CACHE_MB"), "{e}");
        let s = Settings::from_sources(None, &env(&[("STATUSPOST_PAGE_CACHE_MB", "4")])).unwrap();
        assert_eq!(s.page_cache_bytes, 4 * 1024 * 1024);
        for days in ["0", "91"] {
            let e = Settings::from_sources(None, &env(&[("STATUSPOST_PAST_DAYS", days)]))
                .unwrap_err()
                .to_string();
            assert_eq!(
                e,
                format!("STATUSPOST_PAST_DAYS={days} must be from 1 to 90")
            );
        }
        let e = Settings::from_sources(None, &env(&[("STATUSPOST_PAST_DAYS", "-1")]))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "STATUSPOST_PAST_DAYS=-1 is not a positive number");
        let e = Settings::from_sources(None, &env(&[("STATUSPOST_UPTIME_PARTIAL_WEIGHT", "2")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("STATUSPOST_UPTIME_PARTIAL_WEIGHT=2 is not a weight"),
            "{e}"
        );
        let s = Settings::from_sources(None, &env(&[("STATUSPOST_UPTIME_PARTIAL_WEIGHT", "0.5")]))
            .unwrap();
        assert_eq!(s.uptime_weights.partial(), 0.5);
    }

    #[test]
    fn the_backup_schedule_is_a_duration_or_off() {
        let s = Settings::from_sources(None, &env(&[])).unwrap();
        assert_eq!(s.backup_every, Some(std::time::Duration::from_secs(3600)));
        assert_eq!(
            s.backup_points_every,
            Some(std::time::Duration::from_secs(30))
        );
        let s = Settings::from_sources(None, &env(&[("STATUSPOST_BACKUP_EVERY", "off")])).unwrap();
        assert_eq!((s.backup_every, s.backup_points_every), (None, None));
        let s = Settings::from_sources(None, &env(&[("STATUSPOST_BACKUP_POINTS_EVERY", "off")]))
            .unwrap();
        assert!(s.backup_every.is_some() && s.backup_points_every.is_none());
        for (name, value, says) in [
            ("STATUSPOST_BACKUP_EVERY", "500ms", "STATUSPOST_BACKUP_EVERY must be at least 1s, or off"),
            ("STATUSPOST_BACKUP_POINTS_EVERY", "soon", "STATUSPOST_BACKUP_POINTS_EVERY: \"soon\" is not a duration like 5s, 5m or 2h, or off"),
        ] {
            let e = Settings::from_sources(None, &env(&[(name, value)]))
                .unwrap_err()
                .to_string();
            assert_eq!(e, says);
        }
    }

    #[test]
    fn a_derived_base_url_follows_the_bind() {
        let mut s = Settings::from_sources(None, &env(&[])).unwrap();
        s.set_bind("127.0.0.1:9999");
        assert_eq!(s.link(""), "http://127.0.0.1:9999/");
        let mut s = Settings::from_sources(
            None,
            &env(&[("STATUSPOST_BASE_URL", "https://status.example.com")]),
        )
        .unwrap();
        s.set_bind("127.0.0.1:9999");
        assert_eq!(s.link(""), "https://status.example.com/");
    }

    #[test]
    fn base_url_path_is_kept() {
        let s = Settings::from_sources(
            None,
            &env(&[("STATUSPOST_BASE_URL", "https://example.com/status")]),
        )
        .unwrap();
        assert_eq!(
            s.link("incidents/3"),
            "https://example.com/status/incidents/3"
        );
        assert!(s.secure_cookies);
    }

    /// A settings file with `text`, in a directory of its own.
    fn settings_file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sp-config-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("statuspost.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_setting_given_only_in_the_file_counts() {
        let path = settings_file(
            "file-only",
            "run_worker = false\nworker_concurrency = 8\nmail_from = \"ops@example.com\"\n",
        );
        let s = Settings::from_sources(Some(&path), &env(&[])).unwrap();
        assert!(!s.run_worker);
        assert_eq!(s.worker_concurrency, 8);
        assert_eq!(s.mail_from, "ops@example.com");
        assert_eq!(s.session_hours, 12);
    }

    #[test]
    fn a_setting_given_only_in_the_environment_counts() {
        let path = settings_file("env-only", "page_name = \"From file\"\n");
        let s = Settings::from_sources(
            Some(&path),
            &env(&[
                ("STATUSPOST_RUN_WORKER", "off"),
                ("STATUSPOST_SESSION_HOURS", "3"),
                ("SMTP_URL", "smtp://mail.example.com"),
            ]),
        )
        .unwrap();
        assert!(!s.run_worker);
        assert_eq!(s.session_hours, 3);
        assert_eq!(
            s.smtp_url.as_ref().map(|u| u.expose_secret()),
            Some("smtp://mail.example.com")
        );
        assert_eq!(s.page_name, "From file");
    }

    #[test]
    fn the_environment_beats_the_file_unless_empty() {
        let path = settings_file(
            "both",
            "run_worker = false\nsession_hours = 3\nworker_lease = \"5m\"\n",
        );
        let s = Settings::from_sources(
            Some(&path),
            &env(&[
                ("STATUSPOST_RUN_WORKER", "YES"),
                ("STATUSPOST_SESSION_HOURS", "5"),
                ("STATUSPOST_WORKER_LEASE", ""),
            ]),
        )
        .unwrap();
        assert!(s.run_worker);
        assert_eq!(s.session_hours, 5);
        assert_eq!(s.worker_lease, std::time::Duration::from_secs(300));
    }

    #[test]
    fn the_file_is_checked_like_the_environment() {
        let path = settings_file("checked", "worker_concurrency = 0\n");
        let e = Settings::from_sources(Some(&path), &env(&[])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "STATUSPOST_WORKER_CONCURRENCY=0 is not a positive number"
        );
        let path = settings_file("unknown-key", "page_nmae = \"Status\"\n");
        let e = Settings::from_sources(Some(&path), &env(&[])).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("{}: unknown field `page_nmae`", path.display())),
            "{e}"
        );
        let missing = path.with_file_name("missing.toml");
        let e = Settings::from_sources(Some(&missing), &env(&[])).unwrap_err();
        assert!(e.to_string().starts_with("cannot read "), "{e}");
    }

    /// The keys the file accepts, as its own refusal of an unknown one lists them.
    fn file_keys() -> Vec<String> {
        let path = settings_file("keys", "no_such_setting = 1\n");
        let e = Settings::from_sources(Some(&path), &env(&[]))
            .unwrap_err()
            .to_string();
        let (_, listed) = e.split_once("expected one of ").expect(&e);
        listed
            .split(", ")
            .map(|k| k.trim_matches('`').to_owned())
            .collect()
    }

    #[test]
    fn every_setting_is_a_known_variable_and_a_typo_of_it_is_named() {
        let keys = file_keys();
        assert!(keys.contains(&"metrics_token".to_owned()), "{keys:?}");
        for key in &keys {
            let name = raw::env_name(key);
            assert!(known_variables().contains(&name), "{name} is not known");
            assert!(unknown_variables(&env(&[(&name, "x")])).is_empty());
            // Only our prefix is ours to warn about.
            if name.starts_with("STATUSPOST_") {
                let typo = format!("{name}S");
                let (_, nearest) = &unknown_variables(&env(&[(&typo, "x")]))[0];
                assert_eq!(*nearest, name);
            }
        }
        assert_eq!(known_variables().len(), keys.len() + 1);
    }

    #[test]
    fn special_names_are_as_they_were() {
        for name in ["DATABASE_URL", "SMTP_URL", "STATUSPOST_CONFIG"] {
            assert!(known_variables().iter().any(|k| k == name), "{name}");
        }
        // Not read: the database's variable has no prefix.
        assert_eq!(
            unknown_variables(&env(&[("STATUSPOST_DATABASE_URL", "sqlite://x.db")])),
            vec![("STATUSPOST_DATABASE_URL".to_owned(), "STATUSPOST_BASE_URL")]
        );
        let s = Settings::from_sources(
            None,
            &env(&[("STATUSPOST_DATABASE_URL", "postgres://elsewhere/db")]),
        )
        .unwrap();
        assert!(s.database_url.expose_secret().starts_with("sqlite://"));
    }
}
