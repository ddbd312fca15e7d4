//! The public site as static files: `statuspost export-static DIR`, and the
//! copy `serve` keeps up to date, readable from a second place while
//! statuspost or its database is down.
//!
//! Every file is rendered by the function its live handler uses. HTML links
//! relative to its own file and names files whole (`incidents/7.html`,
//! `history/2.html`), so the copy reads the same under any prefix of any
//! web server or object store; the read API, the feeds and the badge keep
//! their live paths and bodies, so Statuspage clients read the copy as they
//! read the live site.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::render::cache::Rendered;
use crate::render::links::Links;
use crate::state::AppState;
use crate::store;
use crate::web::{api_v2, badge, feeds, public, uptime, AppError};

/// The list of files the last export wrote, kept in the copy itself: what
/// the next export may remove, and nothing else. Its lines read as
/// `sha256sum`'s (`HASH  PATH`), so `sha256sum -c` checks a copy.
pub const MANIFEST: &str = ".statuspost-static";

/// Where a copy is kept.
#[derive(Clone)]
pub enum Target {
    Dir(PathBuf),
    Bucket(super::static_bucket::Bucket),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dir(dir) => write!(f, "{}", dir.display()),
            Self::Bucket(b) => write!(f, "{b}"),
        }
    }
}

impl Target {
    /// `DIR`, or `s3://bucket/prefix` reached as the settings say.
    pub fn parse(at: &str, settings: &crate::config::Settings) -> anyhow::Result<Self> {
        if at.starts_with("s3://") {
            let bucket = crate::config::StaticBucket::parse(at).map_err(anyhow::Error::msg)?;
            return Ok(Self::Bucket(super::static_bucket::Bucket::new(
                &bucket,
                &settings.static_s3,
            )?));
        }
        Ok(Self::Dir(PathBuf::from(at)))
    }

    /// Every copy the settings ask `serve` to keep.
    pub fn from_settings(settings: &crate::config::Settings) -> anyhow::Result<Vec<Self>> {
        let mut out: Vec<Self> = settings.static_dir.iter().cloned().map(Self::Dir).collect();
        if let Some(bucket) = &settings.static_url {
            out.push(Self::Bucket(super::static_bucket::Bucket::new(
                bucket,
                &settings.static_s3,
            )?));
        }
        Ok(out)
    }
}

/// The type a file is served as, for stores that keep one with each object.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "atom" => "application/atom+xml; charset=utf-8",
        "rss" => "application/rss+xml; charset=utf-8",
        "ics" => "text/calendar; charset=utf-8",
        _ => crate::assets::ASSETS
            .iter()
            .find(|a| path.ends_with(a.name))
            .map_or(
                if ext == "svg" {
                    "image/svg+xml"
                } else {
                    "text/plain; charset=utf-8"
                },
                |a| a.content_type,
            ),
    }
}

pub fn sha256(body: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One file of the copy, by its path under the copy's top.
pub struct File {
    pub path: String,
    pub body: Vec<u8>,
}

/// The whole copy, as rendered at one moment.
pub struct Site {
    pub files: Vec<File>,
    /// When a page would read differently with no write: the copy is due
    /// again then.
    pub changes_at: Option<DateTime<Utc>>,
}

impl Site {
    fn add(&mut self, path: impl Into<String>, body: impl Into<Vec<u8>>) {
        self.files.push(File {
            path: path.into(),
            body: body.into(),
        });
    }

    fn add_page(&mut self, path: impl Into<String>, page: Rendered) {
        if let Some(at) = page.changes_at {
            self.changes_at = Some(self.changes_at.map_or(at, |c| c.min(at)));
        }
        self.add(path, page.body);
    }
}

fn rendered(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("rendering a page failed: {e}")
}

/// Every public file, read from `db` as at `now`, times in the page's zone.
pub async fn render(
    state: &AppState,
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> anyhow::Result<Site> {
    let zone = state.page.zone();
    let base = state.settings.base_url.as_str();
    let links = |path: &str| Links::copy_at(base, path);
    let mut site = Site {
        files: Vec::new(),
        changes_at: None,
    };
    let front = public::front_page(state, db, zone, now, &links("index.html"))
        .await
        .map_err(rendered)?;
    site.add_page("index.html", front);
    for id in super::pages::incident_ids(db).await? {
        let path = format!("incidents/{id}.html");
        let page = public::incident_page(state, db, zone, id, now, &links(&path))
            .await
            .map_err(rendered)?;
        site.add_page(path, page);
    }
    let names = store::incidents::Names::read(db).await?;
    let (first, pages) = public::history_page(state, db, &names, zone, 1, &links("history.html"))
        .await
        .map_err(rendered)?;
    site.add("history.html", first);
    for n in 2..=pages {
        let path = format!("history/{n}.html");
        let (page, _) = public::history_page(state, db, &names, zone, n, &links(&path))
            .await
            .map_err(rendered)?;
        site.add(path, page);
    }
    let calendars = uptime::uptime_page(state, db, zone, now, &links("uptime.html"))
        .await
        .map_err(rendered)?;
    site.add_page("uptime.html", calendars);
    for doc in api_v2::Document::EVERY {
        let body = api_v2::document(db, &state.page, doc, now)
            .await
            .map_err(rendered)?;
        site.add(doc.path().trim_start_matches('/'), body);
    }
    for path in ["feed.atom", "history.atom"] {
        let body = feeds::atom_feed(db, &state.page, path, now)
            .await
            .map_err(rendered)?;
        site.add(path, body);
    }
    let rss = feeds::rss_feed(db, &state.page, now)
        .await
        .map_err(rendered)?;
    site.add("feed.rss", rss.clone());
    site.add("history.rss", rss);
    site.add(
        "maintenance.ics",
        feeds::calendar(db, &state.page).await.map_err(rendered)?,
    );
    site.add("badge.svg", badge::badge_svg(db).await.map_err(rendered)?);
    for asset in crate::assets::ASSETS {
        site.add(format!("assets/{}", asset.name), asset.body);
    }
    Ok(site)
}

/// What an export did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Files written because they are new or read differently.
    pub changed: usize,
    /// Files left alone: already as they should be.
    pub unchanged: usize,
    /// Files of the last export that the site no longer has.
    pub removed: usize,
    /// When a page would next read differently with no write.
    pub changes_at: Option<DateTime<Utc>>,
    /// Why the offline snapshot beside the journal could not be written,
    /// when it could not: the copy itself was.
    pub snapshot_failed: Option<String>,
}

impl Written {
    pub fn summary(&self, to: &Target) -> String {
        format!(
            "exported the site to {to}: {} files written, {} already current, {} removed",
            self.changed, self.unchanged, self.removed
        )
    }
}

/// Writes `site` into `dir`: each file replaced at once (a temporary file
/// beside it, then renamed over it), so a reader gets the old file or the
/// new one, never half of one; then removes what the last export wrote and
/// this one does not have. A folder that holds files of its own, and no
/// manifest of ours, is refused: we would not know which are ours.
pub fn write_dir(dir: &Path, site: &Site) -> anyhow::Result<Written> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let manifest = dir.join(MANIFEST);
    let before: BTreeSet<String> = match std::fs::read_to_string(&manifest) {
        Ok(text) => text
            .lines()
            .filter_map(|l| l.split_once("  "))
            .map(|(_, path)| path.to_owned())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut entries =
                std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
            if entries.next().is_some() {
                anyhow::bail!(
                    "{} holds files that no export wrote (it has no {MANIFEST}); export into a new or empty folder",
                    dir.display()
                );
            }
            BTreeSet::new()
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", manifest.display())),
    };
    let mut written = Written {
        changes_at: site.changes_at,
        ..Written::default()
    };
    let mut now: BTreeSet<String> = BTreeSet::new();
    let mut listed = String::new();
    for file in &site.files {
        let path = safe_path(dir, &file.path)?;
        now.insert(file.path.clone());
        listed.push_str(&format!("{}  {}\n", sha256(&file.body), file.path));
        if std::fs::read(&path).is_ok_and(|old| old == file.body) {
            written.unchanged += 1;
            continue;
        }
        replace(&path, &file.body)?;
        written.changed += 1;
    }
    replace(&manifest, listed.as_bytes())?;
    for gone in before.difference(&now) {
        let Ok(path) = safe_path(dir, gone) else {
            continue;
        };
        match std::fs::remove_file(&path) {
            Ok(()) => written.removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
    Ok(written)
}

/// `rel` under `dir`, refused if it could reach outside it (a manifest is
/// read back from the folder, where anyone with access may have edited it).
fn safe_path(dir: &Path, rel: &str) -> anyhow::Result<PathBuf> {
    let ok = !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    anyhow::ensure!(ok, "{rel:?} is not a path inside the copy");
    Ok(dir.join(rel))
}

fn replace(path: &Path, body: &[u8]) -> anyhow::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    // Unique to this process and this write: two instances may publish at once.
    let tmp = parent.join(format!(
        ".{}.tmp-{}-{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id(),
        &crate::secrets::random_token()[..8]
    ));
    std::fs::write(&tmp, body).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::anyhow!("cannot replace {}: {e}", path.display())
    })
}

/// `statuspost export-static DIR`: the site as it reads now.
pub async fn export(state: &AppState, to: &Target) -> anyhow::Result<Written> {
    let site = render(state, &state.db, crate::store::now()).await?;
    let mut written = match to {
        Target::Dir(dir) => {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || write_dir(&dir, &site)).await??
        }
        Target::Bucket(bucket) => bucket.write(&site).await?,
    };
    // What `post --offline` starts from when the database is gone.
    if let Some(journal) = state.settings.journal() {
        let snapshot = super::journal::snapshot_path(&journal);
        if let Err(e) = super::write_offline_snapshot(&state.settings, &state.db, &snapshot).await {
            let e = format!(
                "cannot write the offline snapshot {}: {e:#}",
                snapshot.display()
            );
            tracing::warn!(error = %e, "the static copy is written, the offline snapshot is not");
            written.snapshot_failed = Some(e);
        }
    }
    Ok(written)
}

/// How long after a change the copy is written: the writes of one action
/// (an update and its components, say) go out together.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);
/// How long after a failed export the next is tried.
const RETRY: std::time::Duration = std::time::Duration::from_secs(5);
/// The longest the copy goes unwritten with no change: a clock-driven change
/// the pages did not foresee is caught within this.
const AT_LEAST_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Keeps the copy in `dir` as the site reads, for as long as `serve` runs:
/// written at start, a second after every change this process sees (its own
/// writes and, through the page generation, every other process's), and
/// when a page would read differently with no write. While the database is
/// unreachable, exports fail and the copy stays as it last was.
///
/// Several processes may keep the same copy: each file is replaced whole,
/// every one renders from the one database, and each exports again after
/// every change it sees, so the copy ends as the last write left the site.
pub async fn keep_published(state: actix_web::web::Data<AppState>, to: Target) {
    let mut changes = state.cache.follow();
    loop {
        changes.borrow_and_update();
        let started = std::time::Instant::now();
        let due = match export(&state, &to).await {
            Ok(written) => {
                if written.changed + written.removed > 0 {
                    tracing::info!(
                        to = %to,
                        changed = written.changed,
                        removed = written.removed,
                        ms = started.elapsed().as_millis() as u64,
                        "static copy published"
                    );
                }
                due_in(written.changes_at)
            }
            Err(e) => {
                tracing::warn!(to = %to, error = %format!("{e:#}"), "cannot publish the static copy; it stays as it was");
                RETRY
            }
        };
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                tokio::time::sleep(SETTLE).await;
            }
            _ = tokio::time::sleep(due) => {}
        }
    }
}

/// How long until `at`, within bounds: never sooner than a change would
/// be written, never later than [`AT_LEAST_EVERY`].
fn due_in(at: Option<DateTime<Utc>>) -> std::time::Duration {
    match at {
        None => AT_LEAST_EVERY,
        Some(at) => (at - crate::store::now())
            .to_std()
            .unwrap_or_default()
            .clamp(SETTLE, AT_LEAST_EVERY),
    }
}
