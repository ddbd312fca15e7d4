//! `statuspost backup`, `restore` and `backup verify`: the files and the
//! words around `store::backup`, which reads and writes the tables.
pub mod catalogue;
pub mod journal;
pub mod pages;
pub mod points;
pub mod scheduled;
pub mod static_bucket;
pub mod static_site;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::config::Settings;
use crate::store::backup::manifest::PageDigests;
use crate::store::backup::{archive, dump::Snapshot, load, BackupError, Manifest};

/// A folder of our own, for its owner alone, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn beside(path: &Path, what: &str) -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let name = format!(
            ".{}.{what}-{}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        );
        let dir = path.with_file_name(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        Ok(Self(dir))
    }

    fn temporary(what: &str) -> std::io::Result<Self> {
        let name = format!(
            "statuspost-{what}-{}-{}",
            std::process::id(),
            crate::secrets::random_token()[..8].to_lowercase()
        );
        Self::beside(&std::env::temp_dir().join(name), "d")
    }

    fn sqlite_url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.join("scratch.db").display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A progress bar on a terminal; nothing otherwise (the summary line says it all).
fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {human_pos}/{human_len} rows, {eta} left",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    // Redrawn while no row moves it too (the pages, a commit), so it never looks stuck.
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    bar
}

/// Connects without migrating: a backup reads the schema as it is.
async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = sqlite_path(url) {
        if !path.exists() {
            anyhow::bail!("there is no database at {}", path.display());
        }
    }
    crate::store::connect(url).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot open the database at {}: {}",
            crate::secrets::redact_url(url),
            crate::secrets::scrub(&e.to_string(), url)
        )
    })
}

fn sqlite_path(url: &str) -> Option<PathBuf> {
    use std::str::FromStr;
    let opts = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    url.starts_with("sqlite:")
        .then(|| opts.get_filename().to_path_buf())
}

fn database_url(settings: &Settings) -> &str {
    secrecy::ExposeSecret::expose_secret(&settings.database_url)
}

/// The name a backup taken now gets by default in `dir`: one not taken yet
/// (a second backup within the same second gets `-2`).
pub fn default_name(dir: &Path, prefix: &str) -> PathBuf {
    name_at(dir, prefix, chrono::Utc::now())
}

/// The name of a backup of the moment `at` in `dir`: one not taken yet.
pub fn name_at(dir: &Path, prefix: &str, at: chrono::DateTime<chrono::Utc>) -> PathBuf {
    let stamp = at.format("%Y%m%dT%H%M%SZ");
    let mut path = dir.join(format!("{prefix}-{stamp}.tar"));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("{prefix}-{stamp}-{n}.tar"));
    }
    path
}

/// What a backup wrote, for the summary line.
pub struct Written {
    pub manifest: Manifest,
    pub path: PathBuf,
    pub bytes: u64,
    pub seconds: f64,
}

impl Written {
    pub fn summary(&self) -> String {
        let m = &self.manifest;
        format!(
            "backed up {} rows of {} tables ({}, schema {}) to {} ({}) in {:.1} s{}",
            m.rows(),
            m.tables.len(),
            m.backend,
            m.schema,
            self.path.display(),
            human_bytes(self.bytes),
            self.seconds,
            match &m.pages {
                Some(p) => format!("; {} pages digested", p.digests.len()),
                None => String::new(),
            }
        )
    }
}

pub fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} bytes"),
    }
}

/// `statuspost backup [--out FILE]`.
pub async fn backup(settings: &Settings, out: Option<PathBuf>) -> anyhow::Result<Written> {
    let out = out.unwrap_or_else(|| default_name(Path::new(""), "statuspost-backup"));
    if out.exists() {
        anyhow::bail!("{} already exists; it is left as it is", out.display());
    }
    let db = connect(database_url(settings)).await?;
    let written = write_backup(settings, &db, &out).await?;
    db.close().await.ok();
    Ok(written)
}

/// The snapshot offline posts start from, written beside the journal with
/// every export: a backup, so it is one consistent read, private to its owner.
pub async fn write_offline_snapshot(
    settings: &Settings,
    db: &DatabaseConnection,
    out: &Path,
) -> anyhow::Result<()> {
    write_backup(settings, db, out).await.map(|_| ())
}

/// A scratch SQLite database holding what the backup `file` holds, at this
/// version's schema: removed with the returned folder.
async fn scratch_copy(file: &Path, what: &str) -> anyhow::Result<(Scratch, DatabaseConnection)> {
    let (manifest, older) = check(file)?;
    let scratch = Scratch::temporary(what)?;
    let db = crate::store::connect(&scratch.sqlite_url()).await?;
    Migrator::up(&db, older.map(|steps| steps as u32))
        .await
        .context("migrating the scratch database")?;
    load::load(&db, file, &manifest, &|_| {})
        .await
        .map_err(one_line)?;
    Migrator::up(&db, None)
        .await
        .context("bringing the snapshot's schema up to date")?;
    Ok((scratch, db))
}

/// Writes a backup of `db` to `out`: one snapshot, its tables, and the
/// digests of its pages rendered from that snapshot at its time.
async fn write_backup(
    settings: &Settings,
    db: &DatabaseConnection,
    out: &Path,
) -> anyhow::Result<Written> {
    let written = write_snapshot(settings, db, out, true, None).await?;
    Ok(written.expect("written when not compared"))
}

/// Writes the snapshot of `db` to `out`, with its pages' digests when
/// `pages`; unless `unchanged_from` is given and the snapshot's tables (all
/// but those the program itself moves) are the same as that manifest's,
/// when nothing is written and `None` returned.
async fn write_snapshot(
    settings: &Settings,
    db: &DatabaseConnection,
    out: &Path,
    with_pages: bool,
    unchanged_from: Option<&Manifest>,
) -> anyhow::Result<Option<Written>> {
    let started = Instant::now();
    let parts = Scratch::beside(out, "parts")
        .with_context(|| format!("cannot write beside {}", out.display()))?;
    let snapshot = Snapshot::begin(db).await.map_err(one_line)?;
    let total = snapshot.counts().await?.iter().sum();
    let bar = progress(total, "backing up");
    let (mut manifest, paths) = snapshot
        .write_parts(&parts.0, &|n| bar.inc(n))
        .await
        .map_err(one_line)?;
    if unchanged_from.is_some_and(|before| same_data(before, &manifest)) {
        bar.finish_and_clear();
        snapshot.end().await?;
        return Ok(None);
    }
    // Pages are rendered by this version's code, which reads this version's schema.
    if with_pages && manifest.schema == latest_migration() {
        bar.set_message("rendering the pages to digest");
        let zone = pages::page_zone(settings, snapshot.conn()).await?;
        let recorded = pages::render_settings(settings, zone);
        let render = pages::with_recorded(settings.clone(), &recorded)?;
        let state = pages::render_state(render, db.clone(), snapshot.conn()).await?;
        let digests = pages::digests(&state, snapshot.conn(), snapshot.created_at).await?;
        manifest.pages = Some(PageDigests {
            now: snapshot.created_at,
            settings: recorded,
            digests,
        });
    }
    bar.finish_and_clear();
    snapshot.end().await?;
    archive::write(out, &manifest, &paths)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(Some(Written {
        bytes: std::fs::metadata(out)?.len(),
        manifest,
        path: out.to_owned(),
        seconds: started.elapsed().as_secs_f64(),
    }))
}

/// Whether two snapshots hold the same data: every table's part the same,
/// but for what the program moves by itself (worker heartbeats, the backup
/// schedule), which is no one's change.
fn same_data(a: &Manifest, b: &Manifest) -> bool {
    let data = |m: &Manifest| -> Vec<(String, String)> {
        m.tables
            .iter()
            .filter(|t| !matches!(t.name.as_str(), "worker_heartbeats" | "backup_schedule"))
            .map(|t| (t.name.clone(), t.sha256.clone()))
            .collect()
    };
    a.schema == b.schema && data(a) == data(b)
}

fn one_line(e: BackupError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

fn known_migrations() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

fn latest_migration() -> String {
    known_migrations().pop().unwrap_or_default()
}

/// Checks the whole file, and its schema against what this binary knows:
/// the manifest, and how many migrations its schema has, when it is older.
fn check(file: &Path) -> anyhow::Result<(Manifest, Option<usize>)> {
    let manifest = archive::check(file).map_err(one_line)?;
    let known = known_migrations();
    let latest = known.last().cloned().unwrap_or_default();
    match known.iter().position(|m| *m == manifest.schema) {
        Some(i) if i + 1 == known.len() => Ok((manifest, None)),
        Some(i) => Ok((manifest, Some(i + 1))),
        None if manifest.schema > latest => anyhow::bail!(
            "{} is of schema {}, newer than this statuspost knows ({latest}): restore it with \
             statuspost {} or later",
            file.display(),
            manifest.schema,
            manifest.statuspost
        ),
        None => anyhow::bail!(
            "{} is of schema {}, which this statuspost does not know",
            file.display(),
            manifest.schema
        ),
    }
}

/// Loads a backup of an older schema into a scratch SQLite database at that
/// schema, runs the migrations since, and writes it again as a backup of
/// the current schema: the file a restore then loads.
async fn upgrade(
    settings: &Settings,
    file: &Path,
    manifest: &Manifest,
    steps: usize,
    scratch: &Scratch,
) -> anyhow::Result<(PathBuf, Manifest)> {
    let db = crate::store::connect(&scratch.sqlite_url()).await?;
    Migrator::up(&db, Some(steps as u32))
        .await
        .context("migrating the scratch database to the backup's schema")?;
    load::load(&db, file, manifest, &|_| {})
        .await
        .map_err(one_line)?;
    Migrator::up(&db, None)
        .await
        .context("bringing the backup's schema up to date")?;
    let upgraded = scratch.0.join("upgraded.tar");
    let written = write_backup(settings, &db, &upgraded).await?;
    db.close().await.ok();
    Ok((upgraded, written.manifest))
}

/// `statuspost restore FILE [--force]`.
pub async fn restore(settings: &Settings, file: &Path, force: bool) -> anyhow::Result<String> {
    let started = Instant::now();
    let (manifest, older) = check(file)?;
    // Held to the end: an upgraded file lives in it.
    let mut scratch = None;
    let (source, loaded) = match older {
        None => (file.to_owned(), manifest.clone()),
        Some(steps) => {
            let dir = scratch.insert(Scratch::temporary("restore")?);
            upgrade(settings, file, &manifest, steps, dir).await?
        }
    };
    let db = crate::startup::open_database(settings).await?;
    let held = load::holdings(&db).await?;
    let mut kept = String::new();
    if !held.is_empty() {
        let what = held
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect::<Vec<_>>()
            .join(", ");
        if !force {
            anyhow::bail!(
                "the database holds data ({what}); nothing was changed. `statuspost restore \
                 --force {}` replaces it, after writing a backup of it",
                file.display()
            );
        }
        let dir = file.parent().unwrap_or(Path::new(""));
        let before = default_name(dir, "statuspost-before-restore");
        let written = write_backup(settings, &db, &before)
            .await
            .with_context(|| {
                "cannot back up what the restore would replace, so nothing was changed"
            })?;
        kept = format!("; what it replaced is in {}", written.path.display());
        // Logged before the load, so it is said even if the restore then fails.
        tracing::info!(backup = %written.path.display(), "{}", written.summary());
    }
    let bar = progress(loaded.rows(), "restoring");
    load::load(&db, &source, &loaded, &|n| bar.inc(n))
        .await
        .map_err(one_line)?;
    bar.finish_and_clear();
    db.close().await.ok();
    Ok(format!(
        "restored {} rows of {} tables from {} ({} backup of {}, schema {}{}) in {:.1} s{kept}",
        manifest.rows(),
        manifest.tables.len(),
        file.display(),
        manifest.backend,
        manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        manifest.schema,
        if older.is_some() {
            format!(", brought up to {}", loaded.schema)
        } else {
            String::new()
        },
        started.elapsed().as_secs_f64(),
    ))
}

/// `statuspost restore --at TIME [--dir DIR]`: the newest backup or point in
/// the backup folder that holds the data as at TIME or before, restored.
pub async fn restore_at(
    settings: &Settings,
    dir: Option<PathBuf>,
    at: chrono::DateTime<chrono::Utc>,
    force: bool,
) -> anyhow::Result<String> {
    let backups = dir.unwrap_or_else(|| settings.backup_dir.clone());
    let (file, manifest) = points::at_or_before(&backups, &backups.join("points"), at)?;
    let restored = restore(settings, &file, force).await?;
    Ok(format!(
        "{restored}; it holds what had been written by {}, {:.1} s before {}",
        manifest.created_at.format("%Y-%m-%d %H:%M:%S%.3f UTC"),
        (at - manifest.created_at).num_milliseconds() as f64 / 1000.0,
        at.format("%Y-%m-%d %H:%M:%S UTC"),
    ))
}

/// What `backup verify` found.
pub struct Verified {
    pub lines: Vec<String>,
    /// Pages that read differently from the backup's digests.
    pub differ: Vec<String>,
}

/// `statuspost backup verify FILE`: a trial restore into a scratch SQLite
/// database, then every page rendered from it as at the backup's time.
pub async fn verify(settings: &Settings, file: &Path) -> anyhow::Result<Verified> {
    let started = Instant::now();
    let (manifest, older) = check(file)?;
    let scratch = Scratch::temporary("verify")?;
    let db = crate::store::connect(&scratch.sqlite_url()).await?;
    Migrator::up(&db, older.map(|steps| steps as u32))
        .await
        .context("migrating the scratch database")?;
    load::load(&db, file, &manifest, &|_| {})
        .await
        .map_err(one_line)?;
    // The rows are there, as many as the manifest counted at backup time (the
    // settings less the page generation, which is the scratch database's own).
    for t in manifest.tables.iter().filter(|t| t.name != "settings") {
        let there = db
            .query_one(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!(
                    "SELECT COUNT(*) FROM {}",
                    crate::store::backup::schema::quote(&t.name)
                ),
            ))
            .await?
            .map(|r| r.try_get_by_index::<i64>(0))
            .transpose()?
            .unwrap_or(0);
        if there as u64 != t.rows {
            anyhow::bail!(
                "{}: {} has {there} rows after a trial restore, its manifest says {}",
                file.display(),
                t.name,
                t.rows
            );
        }
    }
    let mut lines = Vec::new();
    let held: Vec<String> = manifest
        .tables
        .iter()
        .filter(|t| t.rows > 0 && t.name != "settings")
        .map(|t| format!("{} {}", t.rows, t.name))
        .collect();
    lines.push(format!(
        "{} restores: {} rows of {} tables ({} backup of {}, schema {}): {}",
        file.display(),
        manifest.rows(),
        manifest.tables.len(),
        manifest.backend,
        manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        manifest.schema,
        if held.is_empty() {
            "no data".to_owned()
        } else {
            held.join(", ")
        }
    ));
    let mut differ = Vec::new();
    match (&manifest.pages, older) {
        (Some(recorded), None) => {
            let render = pages::with_recorded(settings.clone(), &recorded.settings)?;
            let state = pages::render_state(render, db.clone(), &db).await?;
            let now = pages::digests(&state, &db, recorded.now).await?;
            for (path, digest) in &recorded.digests {
                if now.get(path) != Some(digest) {
                    differ.push(path.clone());
                }
            }
            differ.extend(
                now.keys()
                    .filter(|p| !recorded.digests.contains_key(*p))
                    .cloned(),
            );
            let incidents = recorded
                .digests
                .keys()
                .filter(|p| p.starts_with("/incidents/"))
                .count();
            lines.push(if differ.is_empty() {
                format!(
                    "its pages read as they did at backup time: the front page, {incidents} \
                     incident pages and {} v2 documents, {} in all, identical",
                    crate::web::api_v2::Document::ALL.len(),
                    recorded.digests.len()
                )
            } else {
                format!(
                    "{} of {} pages read differently than at backup time: {}",
                    differ.len(),
                    recorded.digests.len(),
                    differ.join(", ")
                )
            });
        }
        (Some(_), Some(_)) | (None, Some(_)) => lines.push(format!(
            "its pages were not compared: its schema ({}) is older than this statuspost's, \
             whose pages may rightly read differently",
            manifest.schema
        )),
        (None, None) => lines.push("it holds no page digests to compare".to_owned()),
    }
    lines.push(format!(
        "checked in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    db.close().await.ok();
    Ok(Verified { lines, differ })
}
