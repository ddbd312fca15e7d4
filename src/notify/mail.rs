//! Sending mail: over SMTP with pooled connections when `SMTP_URL` is set,
//! else into a folder of .eml files (for development; a warning says so at start).
//!
//! `SMTP_URL` forms (lettre's connection URLs):
//! - `smtp://host:25`: plain SMTP, no TLS (a local relay)
//! - `smtp://user:pass@host:587?tls=required`: STARTTLS, required
//! - `smtp://user:pass@host:587?tls=opportunistic`: STARTTLS when offered
//! - `smtps://user:pass@host:465`: SMTP over TLS
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

/// Why a message was not sent, and whether trying again later may help.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The server was unreachable, timed out or answered 4xx: try again later.
    #[error("{0}")]
    Transient(String),
    /// The server answered 5xx (or the message cannot be sent as it is).
    #[error("{0}")]
    Permanent(String),
}

impl MailError {
    pub fn is_transient(&self) -> bool {
        matches!(self, MailError::Transient(_))
    }
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let from: Mailbox = settings
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("STATUSPOST_MAIL_FROM={}: {e}", settings.mail_from))?;
        let transport = match &settings.smtp_url {
            Some(url) => {
                let url = secrecy::ExposeSecret::expose_secret(url);
                let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "SMTP_URL={}: {}",
                            crate::secrets::redact_url(url),
                            crate::secrets::scrub(&e.to_string(), url)
                        )
                    })?
                    .timeout(Some(Duration::from_secs(30)))
                    .pool_config(
                        PoolConfig::new()
                            .max_size(16)
                            .idle_timeout(Duration::from_secs(60)),
                    )
                    .build();
                Transport::Smtp(smtp)
            }
            None => {
                tracing::warn!(
                    folder = %settings.mail_dir.display(),
                    "SMTP_URL is not set: mail is written as .eml files to this folder, not sent"
                );
                Transport::Folder(settings.mail_dir.clone())
            }
        };
        Ok(Self { transport, from })
    }

    /// The sender every message carries (`STATUSPOST_MAIL_FROM`).
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    pub async fn send(&self, message: Message) -> Result<(), MailError> {
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(classify),
            Transport::Folder(dir) => write_eml(dir, &message)
                .await
                .map_err(|e| MailError::Transient(format!("writing to {}: {e}", dir.display()))),
        }
    }
}

fn classify(e: lettre::transport::smtp::Error) -> MailError {
    if e.is_permanent() {
        MailError::Permanent(e.to_string())
    } else {
        // Connection refused, timeouts, TLS hiccups and 4xx all may pass.
        MailError::Transient(e.to_string())
    }
}

async fn write_eml(dir: &std::path::Path, message: &Message) -> std::io::Result<()> {
    // Messages hold unsubscribe links: for the owner's eyes only.
    tokio::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .await?;
    let name = format!(
        "{}-{}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
        &crate::secrets::random_token()[..8]
    );
    // Written aside then renamed, so a reader never sees half a message.
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .await?;
    tokio::io::AsyncWriteExt::write_all(&mut file, &message.formatted()).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&tmp, dir.join(name)).await
}
