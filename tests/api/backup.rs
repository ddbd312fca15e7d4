//! Restore drills, with the binary as an operator runs it: back up, restore
//! into an empty database (of the same backend or the other), and the pages
//! and API answers are byte for byte what they were; a damaged file is
//! refused with nothing changed; a restore killed half-way leaves its target
//! as it was or whole; a backup taken while writes go on restores to one
//! consistent moment.
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use statuspost::domain::{
    ComponentName, ComponentStatus, EmailAddress, Impact, IncidentStatus, IncidentTitle, TokenName,
    TokenScope, UpdateBody,
};
use statuspost::store::{self, components::ComponentInput, incidents};

use crate::cli::statuspost;
use crate::helpers::{spawn_app_on, zone_at_noon, TempDir, TestApp, TestDatabase};
use crate::instances::postgres_server;

/// The same public URL for the app before and after, so links match.
pub const BASE_URL: &str = "http://status.example.test/";

pub fn extra() -> [(&'static str, &'static str); 3] {
    [
        ("STATUSPOST_BASE_URL", BASE_URL),
        // Noon in the page's zone: "today" does not turn during the test.
        ("STATUSPOST_TIMEZONE", zone_at_noon()),
        ("STATUSPOST_RUN_WORKER", "false"),
    ]
}

async fn app_on(database: TestDatabase) -> TestApp {
    spawn_app_on(database, TempDir::new(), &extra()).await
}

pub fn run(db: &TestDatabase, dir: &TempDir, args: &[&str]) -> Output {
    statuspost(db, dir).args(args).output().unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[track_caller]
pub fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn component(name: &str, group: Option<&str>, position: i32) -> ComponentInput {
    ComponentInput {
        name: ComponentName::parse(name).unwrap(),
        description: format!("The {name}."),
        group: group.map(|g| ComponentName::parse(g).unwrap()),
        position,
        status: ComponentStatus::Operational,
        uptime: None,
    }
}

pub fn update(
    status: IncidentStatus,
    body: &str,
    components: Vec<(i32, ComponentStatus)>,
    at: chrono::DateTime<Utc>,
    author_id: i32,
) -> incidents::NewUpdate {
    incidents::NewUpdate {
        status,
        body: UpdateBody::parse(body).unwrap(),
        components,
        at,
        author_id,
        notify: true,
        operational_on_resolve: true,
        next_update_by: None,
    }
}

/// A page with a past of its own: components in a group and out of one, an
/// outage three days ago and resolved, one yesterday with Markdown and
/// characters beyond ASCII, an incident open now, a subscriber and a token.
/// Outages lie in past days, so no page turns with the clock while the test runs.
pub async fn seed(app: &TestApp) -> Vec<i32> {
    let author = app.sign_in_admin().await;
    let db = &app.db;
    let api = store::components::create(db, component("API", Some("Backend"), 1))
        .await
        .unwrap()
        .id;
    let queue = store::components::create(db, component("Queue", Some("Backend"), 2))
        .await
        .unwrap()
        .id;
    store::components::create(db, component("Website", None, 3))
        .await
        .unwrap();
    let now = store::now();
    let day = chrono::Duration::days(1);
    let first = incidents::create(
        db,
        incidents::NewIncident {
            plan: None,
            title: IncidentTitle::parse("API errors").unwrap(),
            impact: Impact::parse("major").unwrap(),
            update: update(
                IncidentStatus::Investigating,
                "We are looking into **errors** from the API.",
                vec![(api, ComponentStatus::MajorOutage)],
                now - day * 3,
                author,
            ),
            seed_key: None,
            integrity: None,
            milestones: Vec::new(),
        },
    )
    .await
    .unwrap();
    incidents::post_update(
        db,
        first.incident_id,
        update(
            IncidentStatus::Resolved,
            "Fixed.",
            vec![],
            now - day * 3 + chrono::Duration::hours(2),
            author,
        ),
    )
    .await
    .unwrap();
    let second = incidents::create(
        db,
        incidents::NewIncident {
            plan: None,
            title: IncidentTitle::parse("Größere Verzögerung — “queue” <lag>").unwrap(),
            impact: Impact::parse("minor").unwrap(),
            update: update(
                IncidentStatus::Identified,
                "Messages wait:\n\n- in the *queue*\n- `retry` ✓\n\n<script>x</script>",
                vec![(queue, ComponentStatus::PartialOutage)],
                now - day,
                author,
            ),
            seed_key: None,
            integrity: None,
            milestones: Vec::new(),
        },
    )
    .await
    .unwrap();
    incidents::post_update(
        db,
        second.incident_id,
        update(
            IncidentStatus::Resolved,
            "Drained.",
            vec![],
            now - day + chrono::Duration::minutes(45),
            author,
        ),
    )
    .await
    .unwrap();
    let open = incidents::create(
        db,
        incidents::NewIncident {
            plan: None,
            title: IncidentTitle::parse("Slow sign-in").unwrap(),
            impact: Impact::parse("minor").unwrap(),
            update: update(
                IncidentStatus::Investigating,
                "Some sign-ins take a minute.",
                vec![],
                now - chrono::Duration::hours(1),
                author,
            ),
            seed_key: None,
            integrity: None,
            milestones: Vec::new(),
        },
    )
    .await
    .unwrap();
    store::subscribers::add_confirmed_email(
        db,
        &EmailAddress::parse("reader@example.com").unwrap(),
        &[api],
    )
    .await
    .unwrap();
    store::api_tokens::create(
        db,
        &TokenName::parse("deploy").unwrap(),
        TokenScope::parse("write").unwrap(),
        author,
    )
    .await
    .unwrap();
    vec![first.incident_id, second.incident_id, open.incident_id]
}

/// Every public page and API answer whose text comes from the data.
async fn pages(app: &TestApp) -> Vec<(String, String)> {
    let mut paths: Vec<String> = [
        "/",
        "/history",
        "/uptime",
        "/feed.atom",
        "/feed.rss",
        "/badge.svg",
        "/api/v2/summary.json",
        "/api/v2/status.json",
        "/api/v2/components.json",
        "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json",
    ]
    .map(String::from)
    .to_vec();
    for id in ids(&app.db, "incidents").await {
        paths.push(format!("/incidents/{id}"));
    }
    for id in ids(&app.db, "components").await {
        paths.push(format!("/api/v2/components/{id}/uptime.json"));
    }
    let mut out = Vec::new();
    for path in paths {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        out.push((path, res.text().await.unwrap()));
    }
    out
}

async fn ids(db: &DatabaseConnection, table: &str) -> Vec<i32> {
    db.query_all(Statement::from_string(
        db.get_database_backend(),
        format!("SELECT id FROM {table} ORDER BY id"),
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get_by_index::<i32>(0).unwrap())
    .collect()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

#[track_caller]
fn assert_same_pages(before: &[(String, String)], after: &[(String, String)]) {
    assert_eq!(
        before.iter().map(|p| &p.0).collect::<Vec<_>>(),
        after.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    for ((path, a), (_, b)) in before.iter().zip(after) {
        assert!(a == b, "{path} differs after the restore:\n{a}\n---\n{b}");
    }
}

/// Backs up `from`, verifies the file, restores it into the empty `to`, and
/// compares every page; new rows on the restored page carry on the ids.
async fn drill(from: TestDatabase, to: TestDatabase) {
    let dir = TempDir::new();
    let app = app_on(from).await;
    seed(&app).await;
    let before = pages(&app).await;
    let file = dir.0.join("drill.tar");
    let said = succeeded(&run(
        &app.database,
        &dir,
        &["backup", "--out", file.to_str().unwrap()],
    ));
    assert!(said.starts_with("backed up "), "{said}");
    println!("{said}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a backup holds secrets");
    }
    let verified = succeeded(&run(
        &to,
        &dir,
        &["backup", "verify", file.to_str().unwrap()],
    ));
    assert!(verified.contains("identical"), "{verified}");
    println!("{verified}");

    let started = Instant::now();
    let said = succeeded(&run(&to, &dir, &["restore", file.to_str().unwrap()]));
    println!("{said} (the process: {:?})", started.elapsed());
    assert!(said.starts_with("restored "), "{said}");
    let restored = app_on(to).await;
    assert_same_pages(&before, &pages(&restored).await);

    // The sequences carry on: a new component's id follows the restored ones.
    let greatest = *ids(&restored.db, "components").await.last().unwrap();
    let added = store::components::create(&restored.db, component("Search", None, 4))
        .await
        .unwrap();
    assert_eq!(added.id, greatest + 1);
    // And the restored staff member signs in with the password of before.
    let res = restored
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn backup_restore_drill_sqlite_to_sqlite() {
    let dir = TempDir::new();
    drill(
        TestDatabase::on_sqlite(&dir, "from.db"),
        TestDatabase::on_sqlite(&dir, "to.db"),
    )
    .await;
}

#[tokio::test]
async fn backup_restore_drill_sqlite_to_postgres() {
    let Some(server) = postgres_server().await else {
        return;
    };
    let dir = TempDir::new();
    drill(
        TestDatabase::on_sqlite(&dir, "from.db"),
        TestDatabase::on_postgres(&server).await,
    )
    .await;
}

#[tokio::test]
async fn backup_restore_drill_postgres_to_sqlite() {
    let Some(server) = postgres_server().await else {
        return;
    };
    let dir = TempDir::new();
    drill(
        TestDatabase::on_postgres(&server).await,
        TestDatabase::on_sqlite(&dir, "to.db"),
    )
    .await;
}

/// Copies of `file` damaged in the ways a disk, a network or a newer version
/// would: each with the words its refusal must say.
fn damaged_copies(file: &Path, dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let bytes = std::fs::read(file).unwrap();
    let mut out = Vec::new();

    // One byte flipped in the middle of the biggest part.
    let mut archive = tar::Archive::new(&bytes[..]);
    let (offset, size) = archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.raw_file_position() as usize, e.size() as usize)
        })
        .skip(1)
        .max_by_key(|(_, size)| *size)
        .unwrap();
    let mut flipped = bytes.clone();
    flipped[offset + size / 2] ^= 0x55;
    out.push(("flipped.tar", flipped, "damaged"));

    out.push((
        "truncated.tar",
        bytes[..bytes.len() * 6 / 10].to_vec(),
        "cut short",
    ));

    // The manifest of a newer schema, and of a newer format.
    for (name, key, value, says) in [
        (
            "newer-schema.tar",
            "schema",
            serde_json::json!("m99991231_000001_from_the_future"),
            "newer than this statuspost knows",
        ),
        (
            "newer-format.tar",
            "format",
            serde_json::json!(99),
            "newer than this statuspost reads",
        ),
    ] {
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut builder = tar::Builder::new(Vec::new());
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().into_owned();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
            if path == Path::new("manifest.json") {
                let mut m: serde_json::Value = serde_json::from_slice(&data).unwrap();
                m[key] = value.clone();
                data = serde_json::to_vec(&m).unwrap();
            }
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o600);
            builder.append_data(&mut header, &path, &data[..]).unwrap();
        }
        out.push((name, builder.into_inner().unwrap(), says));
    }
    out.push((
        "not-a-backup.tar",
        b"id,email\n1,a@example.com\n".to_vec(),
        "not a statuspost backup",
    ));
    out.into_iter()
        .map(|(name, data, says)| {
            let path = dir.join(name);
            std::fs::write(&path, data).unwrap();
            (path, says)
        })
        .collect()
}

#[tokio::test]
async fn a_damaged_backup_is_refused_with_one_line_and_nothing_changes() {
    let dir = TempDir::new();
    let app = app_on(TestDatabase::new(&dir).await).await;
    seed(&app).await;
    let file = dir.0.join("good.tar");
    succeeded(&run(
        &app.database,
        &dir,
        &["backup", "--out", file.to_str().unwrap()],
    ));
    // The present, which a restore of the past would replace.
    app.publish("After the backup", "investigating", "Still here.", &[])
        .await;
    let present = pages(&app).await;

    for (damaged, says) in damaged_copies(&file, &dir.0) {
        let name = damaged.to_str().unwrap();
        for args in [
            vec!["restore", "--force", name],
            vec!["backup", "verify", name],
        ] {
            let out = run(&app.database, &dir, &args);
            assert!(!out.status.success(), "{args:?} succeeded");
            let err = text(&out.stderr);
            assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
            assert!(err.contains(says), "{args:?}: {err}");
        }
        // Into a database that does not exist yet: it is not even created.
        let fresh = TestDatabase::on_sqlite(&dir, "never.db");
        assert!(!run(&fresh, &dir, &["restore", name]).status.success());
        assert!(
            !dir.0.join("never.db").exists(),
            "{name} created the target"
        );
    }
    assert_same_pages(&present, &pages(&app).await);
    // Refused before anything: no backup of the present was even needed.
    let written: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("statuspost-before-restore")
        })
        .collect();
    assert!(written.is_empty(), "{written:?}");

    // Restoring over data without --force is refused too, naming what is there.
    let out = run(&app.database, &dir, &["restore", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("holds data") && err.contains("--force"),
        "{err}"
    );
    assert_same_pages(&present, &pages(&app).await);

    // With --force the past comes back, and the present is kept in a file.
    let generation = store::settings::page_generation(&app.db).await.unwrap();
    let said = succeeded(&run(
        &app.database,
        &dir,
        &["restore", "--force", file.to_str().unwrap()],
    ));
    // The generation moved on, so every `serve` drops the pages it cached
    // (this one would at its next poll; the test does not wait for it).
    let moved = store::settings::page_generation(&app.db).await.unwrap();
    assert!(moved > generation, "{generation} -> {moved}");
    app.state.cache.invalidate();
    let kept = said
        .rsplit("what it replaced is in ")
        .next()
        .unwrap()
        .trim()
        .to_owned();
    let kept = dir.0.join(kept);
    assert!(kept.exists(), "{said}");
    let titles = |pages: &[(String, String)]| {
        pages
            .iter()
            .find(|(p, _)| p == "/api/v2/incidents.json")
            .unwrap()
            .1
            .contains("After the backup")
    };
    let restored = pages(&app).await;
    assert!(!titles(&restored), "the restore brought the past back");
    // ... and restoring the kept file brings the present back, page for page.
    succeeded(&run(
        &app.database,
        &dir,
        &["restore", "--force", kept.to_str().unwrap()],
    ));
    app.state.cache.invalidate();
    assert_same_pages(&present, &pages(&app).await);
}

/// Adds `n` subscribers in a few statements: a backup big enough that its
/// restore takes a while.
async fn many_subscribers(db: &DatabaseConnection, n: usize) {
    let at = "2026-12-01T10:00:00+00:00";
    for chunk in (0..n).collect::<Vec<_>>().chunks(2000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "('email', 'reader{i}@example.com', 'unsubscribe-token-{i:08}', '{at}', '{at}')"
                )
            })
            .collect();
        db.execute_unprepared(&format!(
            "INSERT INTO subscribers (kind, email, unsubscribe_token, confirmed_at, created_at) \
             VALUES {}",
            rows.join(", ")
        ))
        .await
        .unwrap();
    }
}

/// Whether a restore's transaction is open on `db` now: on PostgreSQL it
/// holds the TRUNCATE's lock on `subscribers`; on SQLite the write lock,
/// with its rows spilling into the WAL.
async fn restore_in_flight(db: &DatabaseConnection, database: &TestDatabase) -> bool {
    if database.is_postgres() {
        return count(
            db,
            "SELECT COUNT(*) FROM pg_locks WHERE relation = 'subscribers'::regclass \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND mode = 'AccessExclusiveLock' AND granted",
        )
        .await
            > 0;
    }
    let file = database
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let wal = std::fs::metadata(format!("{file}-wal")).map_or(0, |m| m.len());
    if wal < 2 << 20 {
        return false;
    }
    match db.execute_unprepared("BEGIN IMMEDIATE").await {
        Ok(_) => {
            db.execute_unprepared("ROLLBACK").await.unwrap();
            false
        }
        Err(_) => true,
    }
}

async fn probe(database: &TestDatabase) -> DatabaseConnection {
    let mut opts = sea_orm::ConnectOptions::new(database.url.clone());
    opts.sqlx_logging(false).max_connections(1);
    if !database.is_postgres() {
        // Asks for the write lock without waiting for it.
        opts.map_sqlx_sqlite_opts(|o| o.busy_timeout(Duration::ZERO));
    }
    sea_orm::Database::connect(opts).await.unwrap()
}

#[tokio::test]
async fn a_restore_killed_half_way_leaves_its_target_as_it_was() {
    let dir = TempDir::new();
    // The backup: many rows.
    let source = app_on(TestDatabase::new(&dir).await).await;
    seed(&source).await;
    many_subscribers(&source.db, 60_000).await;
    let file = dir.0.join("big.tar");
    println!(
        "{}",
        succeeded(&run(
            &source.database,
            &dir,
            &["backup", "--out", file.to_str().unwrap()]
        ))
    );
    // The target: a page of its own.
    let other = TempDir::new();
    let target = app_on(TestDatabase::new(&other).await).await;
    target.sign_in_admin().await;
    target
        .publish("The target's own", "investigating", "Here before.", &[])
        .await;
    let before = pages(&target).await;
    let subscribers = "SELECT COUNT(*) FROM subscribers";
    let had = count(&target.db, subscribers).await;

    let probe = probe(&target.database).await;
    let mut child = statuspost(&target.database, &dir)
        .args(["restore", "--force", file.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let killed = loop {
        if restore_in_flight(&probe, &target.database).await {
            child.kill().unwrap();
            child.wait().unwrap();
            break true;
        }
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the restore hangs"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    assert!(killed, "the restore ended before it was seen half-way");
    drop(probe);
    let after = statuspost::store::connect(&target.database.url)
        .await
        .unwrap();
    assert_eq!(
        count(&after, subscribers).await,
        had,
        "rows of a half restore"
    );
    // The serving app reads the same page as before (its cache dropped or not).
    target.state.cache.invalidate();
    assert_same_pages(&before, &pages(&target).await);
    // And the file restores whole after all.
    succeeded(&run(
        &target.database,
        &dir,
        &["restore", "--force", file.to_str().unwrap()],
    ));
    assert_eq!(
        count(&after, subscribers).await,
        count(&source.db, subscribers).await
    );
}

#[tokio::test]
async fn a_backup_taken_while_writes_go_on_restores_to_one_moment() {
    let dir = TempDir::new();
    let app = app_on(TestDatabase::new(&dir).await).await;
    seed(&app).await;
    let author = ids(&app.db, "staff").await[0];
    many_subscribers(&app.db, 30_000).await;
    let api = ids(&app.db, "components").await[0];

    // Writes go on throughout: each an incident, its first update, a
    // component's change and an outbox event, in one transaction.
    let stop = Arc::new(AtomicBool::new(false));
    // In this task beside the backup (the store's futures stay on one thread).
    let writer = async {
        let mut took = Vec::new();
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let status = if n % 2 == 0 {
                ComponentStatus::Operational
            } else {
                ComponentStatus::DegradedPerformance
            };
            let started = Instant::now();
            incidents::create(
                &app.db,
                incidents::NewIncident {
                    plan: None,
                    title: IncidentTitle::parse(&format!("Write {n}")).unwrap(),
                    impact: Impact::parse("minor").unwrap(),
                    update: update(
                        IncidentStatus::Investigating,
                        "During the backup.",
                        vec![(api, status)],
                        store::now(),
                        author,
                    ),
                    seed_key: None,
                    integrity: None,
                    milestones: Vec::new(),
                },
            )
            .await
            .unwrap();
            took.push((Instant::now(), started.elapsed()));
        }
        took
    };
    let file = dir.0.join("busy.tar");
    let (database_url, cwd) = (app.database.url.clone(), dir.0.clone());
    let backup = async {
        // Writes are going on before the snapshot begins.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_statuspost"))
                .current_dir(cwd)
                .env_clear()
                .env("DATABASE_URL", database_url)
                .env("RUST_LOG", "warn")
                .args(["backup", "--out", file.to_str().unwrap()])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let ended = Instant::now();
        stop.store(true, Ordering::Relaxed);
        (out, started, ended)
    };
    let (took, (out, started, ended)) = tokio::join!(writer, backup);
    println!("{}", succeeded(&out));
    let during: Vec<Duration> = took
        .iter()
        .filter(|(at, _)| *at > started && *at < ended)
        .map(|(_, took)| *took)
        .collect();
    let slowest = during.iter().max().copied().unwrap_or_default();
    let before = took
        .iter()
        .filter(|(at, _)| *at < started)
        .map(|(_, took)| *took)
        .max()
        .unwrap_or_default();
    println!(
        "the backup took {:?}; {} writes committed meanwhile, the slowest in {:?} \
         (before it began: {:?})",
        ended - started,
        during.len(),
        slowest,
        before
    );
    assert!(during.len() >= 3, "writes went on: {}", during.len());
    assert!(
        slowest < Duration::from_millis(500),
        "a write waited {slowest:?} on the backup"
    );

    // Restored, the backup is one moment: every incident with its first
    // update, every update with its event, every event with its update.
    let file = dir.0.join("busy.tar");
    let elsewhere = TempDir::new();
    let restored = TestDatabase::new(&elsewhere).await;
    succeeded(&run(&restored, &dir, &["restore", file.to_str().unwrap()]));
    let db = statuspost::store::connect(&restored.url).await.unwrap();
    for check in [
        "SELECT COUNT(*) FROM incidents i WHERE NOT EXISTS \
         (SELECT 1 FROM incident_updates u WHERE u.incident_id = i.id)",
        "SELECT COUNT(*) FROM incident_updates u WHERE u.notify AND NOT EXISTS \
         (SELECT 1 FROM notification_events e WHERE e.update_id = u.id)",
        "SELECT COUNT(*) FROM notification_events e WHERE e.update_id IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM incident_updates u WHERE u.id = e.update_id)",
        "SELECT COUNT(*) FROM update_components uc WHERE NOT EXISTS \
         (SELECT 1 FROM component_status_changes c WHERE c.update_id = uc.update_id) \
         AND uc.old_status <> uc.new_status",
    ] {
        assert_eq!(count(&db, check).await, 0, "{check}");
    }
    let writes = count(
        &db,
        "SELECT COUNT(*) FROM incidents WHERE title LIKE 'Write %'",
    )
    .await;
    assert!(writes > 0 && (writes as usize) < took.len(), "{writes}");
    // And its pages read as they did at that moment.
    let verified = succeeded(&run(
        &restored,
        &dir,
        &["backup", "verify", file.to_str().unwrap()],
    ));
    assert!(verified.contains("identical"), "{verified}");
}

#[tokio::test]
async fn a_backup_of_an_older_schema_restores_and_is_brought_up_to_date() {
    use migration::MigratorTrait;
    let dir = TempDir::new();
    let old = TestDatabase::on_sqlite(&dir, "old.db");
    let db = statuspost::store::connect(&old.url).await.unwrap();
    // The schema before the uptime display migration (show_uptime,
    // uptime_start), whatever came after it.
    let before = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261203_000061_component_uptime_display")
        .expect("the uptime display migration") as u32;
    migration::Migrator::up(&db, Some(before)).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO components (name, description, position, status, created_at, updated_at) \
         VALUES ('API', '', 1, 'operational', '2026-12-01T10:00:00+00:00', '2026-12-01T10:00:00+00:00')",
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let file = dir.0.join("old.tar");
    let said = succeeded(&run(
        &old,
        &dir,
        &["backup", "--out", file.to_str().unwrap()],
    ));
    assert!(said.contains("m20261203_000060"), "{said}");

    let verified = succeeded(&run(
        &old,
        &dir,
        &["backup", "verify", file.to_str().unwrap()],
    ));
    assert!(verified.contains("1 components"), "{verified}");
    assert!(verified.contains("not compared"), "{verified}");

    let new = TestDatabase::new(&dir).await;
    let said = succeeded(&run(&new, &dir, &["restore", file.to_str().unwrap()]));
    assert!(said.contains("brought up to"), "{said}");
    let db = statuspost::store::connect(&new.url).await.unwrap();
    let list = store::components::list(&db).await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].model.show_uptime, "the later migration's default");
}

#[test]
fn help_documents_backup_and_restore() {
    let help = |args: &[&str]| {
        text(
            &std::process::Command::new(env!("CARGO_BIN_EXE_statuspost"))
                .args(args)
                .output()
                .unwrap()
                .stdout,
        )
    };
    let top = help(&["--help"]);
    assert!(top.contains("backup") && top.contains("restore"), "{top}");
    let backup = help(&["backup", "--help"]);
    assert!(
        backup.contains("--out") && backup.contains("verify"),
        "{backup}"
    );
    let restore = help(&["restore", "--help"]);
    assert!(restore.contains("--force"), "{restore}");
}

#[tokio::test]
async fn a_restore_refuses_a_database_shared_with_another_programs_tables() {
    let dir = TempDir::new();
    let app = app_on(TestDatabase::new(&dir).await).await;
    seed(&app).await;
    let file = dir.0.join("ours.tar");
    succeeded(&run(
        &app.database,
        &dir,
        &["backup", "--out", file.to_str().unwrap()],
    ));
    app.db
        .execute_unprepared("CREATE TABLE invoices (id integer PRIMARY KEY, total integer)")
        .await
        .unwrap();
    app.db
        .execute_unprepared("INSERT INTO invoices (id, total) VALUES (1, 100)")
        .await
        .unwrap();
    let out = run(
        &app.database,
        &dir,
        &["restore", "--force", file.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("invoices") && err.contains("own"), "{err}");
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM invoices").await, 1);
}
