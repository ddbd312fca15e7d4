//! Settings: defaults < `statuspost.toml` < environment.
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::PageZone;

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
    pub retry_schedule: crate::domain::retry_schedule::RetrySchedule,
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
}

/// The shape of `statuspost.toml`; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    bind: Option<String>,
    base_url: Option<String>,
    page_name: Option<String>,
    timezone: Option<String>,
    secret_key: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    mail_dir: Option<PathBuf>,
    webhook_allow_private: Option<bool>,
    run_worker: Option<bool>,
    retry_schedule: Option<String>,
    worker_concurrency: Option<usize>,
    worker_lease: Option<String>,
    session_hours: Option<i64>,
    trusted_proxies: Option<String>,
    metrics_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// Every environment variable we read; keep in step with `from_sources`.
pub const KNOWN_ENV: [&str; 18] = [
    "DATABASE_URL",
    "SMTP_URL",
    "STATUSPOST_BASE_URL",
    "STATUSPOST_BIND",
    "STATUSPOST_CONFIG",
    "STATUSPOST_MAIL_DIR",
    "STATUSPOST_MAIL_FROM",
    "STATUSPOST_METRICS_TOKEN",
    "STATUSPOST_PAGE_NAME",
    "STATUSPOST_RETRY_SCHEDULE",
    "STATUSPOST_RUN_WORKER",
    "STATUSPOST_SECRET_KEY",
    "STATUSPOST_SESSION_HOURS",
    "STATUSPOST_TIMEZONE",
    "STATUSPOST_TRUSTED_PROXIES",
    "STATUSPOST_WEBHOOK_ALLOW_PRIVATE",
    "STATUSPOST_WORKER_CONCURRENCY",
    "STATUSPOST_WORKER_LEASE",
];

/// `STATUSPOST_*` variables we do not read, each with the known name it most
/// likely meant: a typo would otherwise be silently ignored.
pub fn unknown_variables(env: &[(String, String)]) -> Vec<(String, &'static str)> {
    env.iter()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("STATUSPOST_") && !KNOWN_ENV.contains(&k.as_str()))
        .map(|k| {
            let nearest = KNOWN_ENV
                .iter()
                .copied()
                .min_by_key(|known| strsim::levenshtein(k, known))
                .unwrap_or("STATUSPOST_BIND");
            (k.clone(), nearest)
        })
        .collect()
}

impl Settings {
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
        let file: FileSettings = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| ConfigError(format!("{}: {}", path.display(), e.message())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                FileSettings::default()
            }
            Err(e) => return Err(ConfigError(format!("cannot read {}: {e}", path.display()))),
        };
        let var = |k: &str| {
            env.iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let flag = |k: &str, fallback: Option<bool>, default: bool| -> Result<bool, ConfigError> {
            match var(k) {
                Some(v) => match v.to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => Ok(true),
                    "0" | "false" | "no" | "off" => Ok(false),
                    _ => Err(ConfigError(format!("{k}={v} is not true or false"))),
                },
                None => Ok(fallback.unwrap_or(default)),
            }
        };

        let database_url = var("DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| "sqlite://statuspost.db?mode=rwc".into());
        let bind = var("STATUSPOST_BIND")
            .or(file.bind)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let configured_base_url = var("STATUSPOST_BASE_URL").or(file.base_url);
        let base_url_from_bind = configured_base_url.is_none();
        let base_url_text = configured_base_url.unwrap_or_else(|| format!("http://{bind}"));
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
        let timezone = var("STATUSPOST_TIMEZONE")
            .or(file.timezone)
            .map(|tz| {
                PageZone::parse(&tz).map_err(|e| ConfigError(format!("STATUSPOST_TIMEZONE: {e}")))
            })
            .transpose()?;
        let secret_key = var("STATUSPOST_SECRET_KEY").or(file.secret_key);
        if let Some(k) = &secret_key {
            if k.len() < 32 {
                return Err(ConfigError(
                    "STATUSPOST_SECRET_KEY must be at least 32 characters (or unset, to generate one)".into(),
                ));
            }
        }
        let session_hours = match var("STATUSPOST_SESSION_HOURS") {
            Some(v) => v.parse().map_err(|_| {
                ConfigError(format!("STATUSPOST_SESSION_HOURS={v} is not a number"))
            })?,
            None => file.session_hours.unwrap_or(12),
        };
        let retry_schedule = crate::domain::retry_schedule::RetrySchedule::parse(
            &var("STATUSPOST_RETRY_SCHEDULE")
                .or(file.retry_schedule)
                .unwrap_or_else(|| crate::domain::retry_schedule::DEFAULT.into()),
        )
        .map_err(|e| ConfigError(format!("STATUSPOST_RETRY_SCHEDULE: {e}")))?;
        let worker_concurrency = match var("STATUSPOST_WORKER_CONCURRENCY") {
            Some(v) => v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                ConfigError(format!(
                    "STATUSPOST_WORKER_CONCURRENCY={v} is not a positive number"
                ))
            })?,
            None => file.worker_concurrency.unwrap_or(64),
        };
        let worker_lease = crate::domain::retry_schedule::parse_duration(
            &var("STATUSPOST_WORKER_LEASE")
                .or(file.worker_lease)
                .unwrap_or_else(|| "2m".into()),
        )
        .map_err(|e| ConfigError(format!("STATUSPOST_WORKER_LEASE: {e}")))?;
        let trusted_proxies = crate::domain::TrustedProxies::parse(
            &var("STATUSPOST_TRUSTED_PROXIES")
                .or(file.trusted_proxies)
                .unwrap_or_default(),
        )
        .map_err(|e| ConfigError(format!("STATUSPOST_TRUSTED_PROXIES: {e}")))?;
        let metrics_token = var("STATUSPOST_METRICS_TOKEN").or(file.metrics_token);
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError(
                "STATUSPOST_METRICS_TOKEN must be at least 16 characters".into(),
            ));
        }
        let secure_cookies = base_url.scheme() == "https";
        let host = base_url.host_str().unwrap_or("localhost").to_owned();
        Ok(Self {
            database_url: database_url.into(),
            bind,
            page_name: var("STATUSPOST_PAGE_NAME")
                .or(file.page_name)
                .unwrap_or_else(|| "Status".into()),
            timezone,
            secret_key: secret_key.map(SecretString::from),
            smtp_url: var("SMTP_URL").or(file.smtp_url).map(SecretString::from),
            mail_from: var("STATUSPOST_MAIL_FROM")
                .or(file.mail_from)
                .unwrap_or_else(|| format!("statuspost@{host}")),
            mail_dir: var("STATUSPOST_MAIL_DIR")
                .map(PathBuf::from)
                .or(file.mail_dir)
                .unwrap_or_else(|| PathBuf::from("outbox")),
            webhook_allow_private: flag(
                "STATUSPOST_WEBHOOK_ALLOW_PRIVATE",
                file.webhook_allow_private,
                false,
            )?,
            run_worker: flag("STATUSPOST_RUN_WORKER", file.run_worker, true)?,
            retry_schedule,
            worker_concurrency,
            worker_lease,
            session_hours,
            secure_cookies,
            trusted_proxies,
            metrics_token: metrics_token.map(SecretString::from),
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
            ]),
        )
        .unwrap();
        let shown = format!("{s:?}");
        for secret in ["dbpass", "smtppass", "a-secret-key"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("REDACTED"));
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
}
