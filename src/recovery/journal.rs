//! Break glass: `statuspost post --offline` while the database is
//! unreachable, and `statuspost journal replay` once it is back.
//!
//! An offline post is appended to a local journal (JSON lines, one per
//! post, each synced to disk before the command returns) and shown in the
//! static copy at once. The copy is re-rendered whole by the live site's
//! own code, from a scratch database: the snapshot the last export wrote
//! beside the journal, with every journal entry applied to it through the
//! store functions a replay uses. A replay writes the same entries into
//! the real database, with their original times, and records each, so a
//! second replay writes nothing and the snapshot, once it holds the
//! record, no longer applies them twice.
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::domain::{Impact, IncidentStatus, IncidentTitle, UpdateBody};
use crate::store::incidents::{self, NewIncident, NewUpdate, Published};
use crate::store::{self, StoreError};

/// What an offline incident is called until a replay gives it its id.
const OFFLINE: &str = "offline-";

/// One offline post, as the journal keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Unique to this entry: what a replay records it by.
    pub id: String,
    /// When it was posted: the update's time, wherever it is written.
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub of: Of,
    pub status: String,
    pub message: String,
    /// The staff member's email; none: the first admin.
    pub author: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Of {
    /// An update to an incident: its id, or `offline-ENTRY` for one opened
    /// offline by entry ENTRY.
    Update { incident: String },
    /// A new incident.
    Incident { title: String, impact: String },
}

impl Entry {
    /// What the entry is to, as `journal list` and `replay` name it.
    pub fn to_what(&self) -> String {
        match &self.of {
            Of::Update { incident } => format!("incident {incident}"),
            Of::Incident { title, .. } => format!("new incident {OFFLINE}{} {title:?}", self.id),
        }
    }
}

/// What `post --offline` was asked to post.
pub enum Post {
    Update { incident: String },
    Incident { title: String, impact: String },
}

/// The inputs checked as the live forms check them, before anything is
/// read or written.
fn checked(
    post: Post,
    status: &str,
    message: &str,
    author: Option<String>,
) -> anyhow::Result<Entry> {
    let new = matches!(post, Post::Incident { .. });
    // An offline post is an incident's: scheduling a maintenance waits for the database.
    IncidentStatus::parse_for(status, false).map_err(|e| anyhow::anyhow!("--status: {e}"))?;
    if new && status == "resolved" {
        anyhow::bail!("--status: a new incident cannot start resolved");
    }
    UpdateBody::parse(message).map_err(|e| anyhow::anyhow!("--message: {e}"))?;
    let of = match post {
        Post::Update { incident } => {
            let ok = incident.parse::<i32>().is_ok_and(|n| n > 0)
                || incident
                    .strip_prefix(OFFLINE)
                    .is_some_and(|id| !id.is_empty());
            if !ok {
                anyhow::bail!(
                    "--incident: {incident:?} is neither an incident's number nor an {OFFLINE}… \
                     name that post --offline gave"
                );
            }
            Of::Update { incident }
        }
        Post::Incident { title, impact } => {
            IncidentTitle::parse(&title).map_err(|e| anyhow::anyhow!("--title: {e}"))?;
            Impact::parse(&impact).map_err(|e| anyhow::anyhow!("--impact: {e}"))?;
            Of::Incident { title, impact }
        }
    };
    Ok(Entry {
        id: crate::secrets::random_token()[..10]
            .to_lowercase()
            .replace(['-', '_'], "x"),
        at: store::now(),
        of,
        status: status.to_owned(),
        message: message.to_owned(),
        author,
    })
}

/// Every entry of the journal at `path`, oldest first; none if it is not there.
pub fn read(path: &Path) -> anyhow::Result<Vec<Entry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}: line {}: not a journal entry", path.display(), n + 1))
        })
        .collect()
}

/// Appends `entry` to the journal, created for its owner alone, and syncs
/// it to disk: once this returns, a crash does not lose the post.
fn append(path: &Path, entry: &Entry) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut line = serde_json::to_string(entry)?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open the journal {}", path.display()))?;
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write the journal {}", path.display()))
}

/// Where the snapshot beside journal `path` is.
pub fn snapshot_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".snapshot.tar");
    PathBuf::from(name)
}

fn journal_path(settings: &Settings) -> anyhow::Result<PathBuf> {
    settings.journal().context(
        "no journal: set STATUSPOST_JOURNAL, or STATUSPOST_STATIC_DIR (the journal is then \
         STATIC_DIR.journal)",
    )
}

/// What writing an entry in came to.
pub enum Applied {
    Written(Published),
    /// Written before, as this.
    Already(Published),
}

/// Writes `entry` into `db` through the store functions the admin uses,
/// with its original time, and records it; an entry recorded already is
/// left alone. One owner for offline posts and replays alike.
pub async fn apply(db: &DatabaseConnection, entry: &Entry) -> anyhow::Result<Applied> {
    if let Some(p) = store::journal::replayed(db, &entry.id).await? {
        return Ok(Applied::Already(p));
    }
    let author_id = author(db, entry.author.as_deref()).await?;
    let status = IncidentStatus::parse_for(&entry.status, false).map_err(anyhow::Error::msg)?;
    let update = NewUpdate {
        status,
        body: UpdateBody::parse(&entry.message).map_err(anyhow::Error::msg)?,
        components: Vec::new(),
        at: entry.at,
        author_id,
        notify: true,
        operational_on_resolve: true,
        next_update_by: None,
    };
    let published = match &entry.of {
        Of::Incident { title, impact } => incidents::create(
            db,
            NewIncident {
                title: IncidentTitle::parse(title).map_err(anyhow::Error::msg)?,
                impact: Impact::parse(impact).map_err(anyhow::Error::msg)?,
                update,
                seed_key: None,
                plan: None,
                integrity: None,
                milestones: Vec::new(),
            },
        )
        .await
        .map_err(|e| stored(e, entry))?,
        Of::Update { incident } => {
            let id = match incident.strip_prefix(OFFLINE) {
                Some(opened_by) => {
                    store::journal::replayed(db, opened_by)
                        .await?
                        .with_context(|| {
                            format!(
                                "{incident} is not there: the entry that opened it was not written"
                            )
                        })?
                        .incident_id
                }
                None => incident.parse().context("not an incident's number")?,
            };
            incidents::post_update(db, id, update)
                .await
                .map_err(|e| stored(e, entry))?
        }
    };
    store::journal::record(db, &entry.id, &published).await?;
    Ok(Applied::Written(published))
}

fn stored(e: StoreError, entry: &Entry) -> anyhow::Error {
    match e {
        StoreError::NotFound => anyhow::anyhow!("{} does not exist", entry.to_what()),
        StoreError::Conflict { message, .. } => anyhow::anyhow!("{message}"),
        StoreError::Db(e) => anyhow::anyhow!("{e}"),
    }
}

/// The staff member `email`, or the first active admin.
async fn author(db: &DatabaseConnection, email: Option<&str>) -> anyhow::Result<i32> {
    Ok(match email {
        Some(email) => {
            store::staff::find_by_email(db, email)
                .await?
                .with_context(|| format!("no staff account {email}"))?
                .id
        }
        None => {
            store::staff::list(db)
                .await?
                .into_iter()
                .filter(|s| s.is_admin && s.active)
                .min_by_key(|s| s.id)
                .context("no admin to post as: give --author")?
                .id
        }
    })
}

/// `statuspost post --offline`: checks the post, shows it in the static
/// copy with what the journal already holds, and appends it to the journal.
/// Reads and writes no database of yours. Refused, it writes nothing.
pub async fn post_offline(
    settings: &Settings,
    post: Post,
    status: &str,
    message: &str,
    author: Option<String>,
) -> anyhow::Result<String> {
    let entry = checked(post, status, message, author)?;
    let dir = settings
        .static_dir
        .clone()
        .context("no static copy to post to: set STATUSPOST_STATIC_DIR")?;
    let journal = journal_path(settings)?;
    let snapshot = snapshot_path(&journal);
    if !snapshot.exists() {
        anyhow::bail!(
            "no snapshot at {}: it is written by `statuspost export-static` and by `serve` \
             with STATUSPOST_STATIC_DIR set, while the database is reachable",
            snapshot.display()
        );
    }
    let (_scratch, db) = super::scratch_copy(&snapshot, "offline").await?;
    let mut notes = Vec::new();
    for earlier in read(&journal)? {
        if let Err(e) = apply(&db, &earlier).await {
            notes.push(format!(
                "earlier entry {} ({}) is not shown: {e:#}",
                earlier.id,
                earlier.to_what()
            ));
        }
    }
    let shown = match apply(&db, &entry).await? {
        Applied::Written(p) | Applied::Already(p) => p,
    };
    append(&journal, &entry)?;
    let state = super::pages::render_state(settings.clone(), db.clone(), &db).await?;
    let site = super::static_site::render(&state, &db, store::now()).await?;
    let written = tokio::task::spawn_blocking(move || super::static_site::write_dir(&dir, &site))
        .await?
        .context("the post is in the journal, but the static copy could not be written")?;
    db.close().await.ok();
    let name = match entry.of {
        Of::Incident { .. } => format!(
            "new incident {OFFLINE}{} (incidents/{}.html in the copy)",
            entry.id, shown.incident_id
        ),
        Of::Update { incident } => format!("incident {incident}"),
    };
    let mut said = format!(
        "posted offline to {name} as journal entry {} at {}: {} files of the static copy \
         rewritten; `statuspost journal replay` writes it into the database when it is back",
        entry.id,
        entry.at.to_rfc3339(),
        written.changed + written.removed
    );
    for note in notes {
        said.push_str("\nstatuspost: ");
        said.push_str(&note);
    }
    Ok(said)
}

/// What a replay did.
pub struct Replayed {
    pub lines: Vec<String>,
    pub failed: usize,
}

/// `statuspost journal replay`: every entry not yet in `db`, oldest first.
pub async fn replay(settings: &Settings, db: &DatabaseConnection) -> anyhow::Result<Replayed> {
    let journal = journal_path(settings)?;
    let mut out = Replayed {
        lines: Vec::new(),
        failed: 0,
    };
    for entry in read(&journal)? {
        let line = match apply(db, &entry).await {
            Ok(Applied::Written(p)) => format!(
                "{}: wrote update {} to incident {} at {}",
                entry.id,
                p.update_id,
                p.incident_id,
                entry.at.to_rfc3339()
            ),
            Ok(Applied::Already(p)) => format!(
                "{}: already written (update {} of incident {})",
                entry.id, p.update_id, p.incident_id
            ),
            Err(e) => {
                out.failed += 1;
                format!("{}: skipped, {}: {e:#}", entry.id, entry.to_what())
            }
        };
        out.lines.push(line);
    }
    if out.lines.is_empty() {
        out.lines
            .push(format!("the journal {} holds nothing", journal.display()));
    }
    Ok(out)
}

/// `statuspost journal list`: the entries not yet written into `db`.
pub async fn pending(settings: &Settings, db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let journal = journal_path(settings)?;
    let mut out = Vec::new();
    for entry in read(&journal)? {
        if store::journal::replayed(db, &entry.id).await?.is_none() {
            out.push(format!(
                "{}\t{}\t{}\t{}\t{}",
                entry.id,
                entry.at.to_rfc3339(),
                entry.to_what(),
                entry.status,
                entry.message.lines().next().unwrap_or("")
            ));
        }
    }
    Ok(out)
}
