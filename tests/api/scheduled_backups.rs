//! Backups `serve` takes on its own: into STATUSPOST_BACKUP_DIR (the folder
//! for its owner alone, each file too), verified and recorded beside the
//! file, one per slot however many instances share the database, pruned to
//! the retention settings without touching a file `serve` did not make, and
//! listed by `statuspost backup list` with what changed since the one before,
//! an unusual change marked.
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use statuspost::domain::EmailAddress;
use statuspost::recovery::{catalogue, scheduled};
use statuspost::store;

use crate::cli::statuspost;
use crate::helpers::{spawn_app_beside, spawn_app_with, TestApp};
use crate::notify_support::eventually;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn backups(app: &TestApp) -> PathBuf {
    app.dir.0.join("backups")
}

/// The scheduled backups in the folder, oldest first.
fn scheduled_in(dir: &Path) -> Vec<catalogue::Listed> {
    let mut listed: Vec<_> = catalogue::list(dir)
        .unwrap()
        .into_iter()
        .filter(|l| l.record.is_some())
        .collect();
    listed.reverse();
    listed
}

async fn app_backing_up(every: &str, keep_hourly: &str, keep_daily: &str) -> TestApp {
    app_with_points(every, keep_hourly, keep_daily, "30s").await
}

async fn app_with_points(
    every: &str,
    keep_hourly: &str,
    keep_daily: &str,
    points: &str,
) -> TestApp {
    let dir = crate::helpers::TempDir::new();
    let backups = dir.0.join("backups");
    let backups = backups.display().to_string();
    let database = crate::helpers::TestDatabase::new(&dir).await;
    crate::helpers::spawn_app_on(
        database,
        dir,
        &[
            ("STATUSPOST_BACKUP_DIR", &backups),
            ("STATUSPOST_BACKUP_EVERY", every),
            ("STATUSPOST_BACKUP_KEEP_HOURLY", keep_hourly),
            ("STATUSPOST_BACKUP_KEEP_DAILY", keep_daily),
            ("STATUSPOST_BACKUP_POINTS_EVERY", points),
            ("STATUSPOST_RUN_WORKER", "false"),
        ],
    )
    .await
}

#[tokio::test]
async fn serve_backs_up_at_start_and_each_slot_verified_and_private() {
    let app = app_backing_up("1s", "1", "0").await;
    let dir = backups(&app);
    eventually("serve's first scheduled backup is recorded", || async {
        !scheduled_in(&dir).is_empty()
    })
    .await;
    let first = scheduled_in(&dir).remove(0);
    assert_eq!(mode(&dir), 0o700, "the folder is its owner's alone");
    for file in [
        first.path.clone(),
        catalogue::record_path(&first.path),
        catalogue::rows_path(&first.path),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let record = first.record.clone().unwrap();
    assert!(record.verified.ok, "{:?}", record.verified.lines);
    assert!(
        record.verified.lines[0].contains("restores:"),
        "{:?}",
        record.verified.lines
    );
    // One slot a second; each new backup prunes the one before (one hour kept).
    eventually("a later slot's backup replaces it", || async {
        let now = scheduled_in(&dir);
        now.len() == 1 && now[0].name != first.name
    })
    .await;
    let later = scheduled_in(&dir).remove(0).record.unwrap();
    assert!(later.slot > record.slot);
    assert!(!first.path.exists() && !catalogue::record_path(&first.path).exists());
}

#[tokio::test]
async fn two_instances_on_one_database_take_each_slot_once() {
    let app = app_backing_up("off", "100", "0").await;
    let dir = backups(&app).display().to_string();
    let other = spawn_app_beside(
        &app,
        &[
            ("STATUSPOST_BACKUP_DIR", &dir),
            ("STATUSPOST_BACKUP_EVERY", "off"),
        ],
    )
    .await;
    // The schedule is off in both, so only these calls take backups.
    let mut settings = app.state.settings.clone();
    settings.backup_every = Some(std::time::Duration::from_secs(3600));
    let at = Utc::now() + Duration::days(1);
    let (a, b) = tokio::join!(
        scheduled::run_due(&settings, &app.db, at, "instance-a"),
        scheduled::run_due(&settings, &other.db, at, "instance-b"),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(
        a.is_some() != b.is_some(),
        "exactly one takes the slot: {a:?} {b:?}"
    );
    // Later in the same slot, or an earlier slot: taken already.
    for when in [at + Duration::minutes(1), at - Duration::hours(1)] {
        assert!(scheduled::run_due(&settings, &other.db, when, "instance-b")
            .await
            .unwrap()
            .is_none());
    }
    assert!(
        scheduled::run_due(&settings, &app.db, at + Duration::hours(1), "instance-a")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(scheduled_in(Path::new(&dir)).len(), 2);
}

fn on(day: DateTime<Utc>, hour: i64) -> DateTime<Utc> {
    day + Duration::hours(hour)
}

#[tokio::test]
async fn retention_prunes_only_its_own_and_the_list_shows_what_changed() {
    let app = app_backing_up("1h", "2", "2").await;
    let dir = backups(&app);
    eventually("serve's first scheduled backup is recorded", || async {
        !scheduled_in(&dir).is_empty()
    })
    .await;
    // Files serve did not make: a backup taken by hand, and a note.
    let by_hand = dir.join("statuspost-backup-20200101T000000Z.tar");
    std::fs::copy(&scheduled_in(&dir)[0].path, &by_hand).unwrap();
    std::fs::write(dir.join("notes.txt"), "keep me").unwrap();

    let settings = app.state.settings.clone();
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let (d1, d2) = (today + Duration::days(1), today + Duration::days(2));
    let take = |at: DateTime<Utc>| {
        let (settings, db) = (settings.clone(), app.db.clone());
        async move {
            let taken = scheduled::run_due(&settings, &db, at, "test")
                .await
                .unwrap()
                .expect("the slot is due");
            assert!(taken.verified, "{}", taken.path.display());
            taken
        }
    };

    app.sign_in_admin().await;
    let mut subscribers = Vec::new();
    for i in 0..12 {
        let email = EmailAddress::parse(&format!("reader{i}@example.com")).unwrap();
        subscribers.push(
            store::subscribers::add_confirmed_email(&app.db, &email, &[])
                .await
                .unwrap()
                .id,
        );
    }
    take(on(d1, 1)).await;
    app.publish("Checkout errors", "investigating", "We are looking.", &[])
        .await;
    take(on(d1, 2)).await;
    take(on(d1, 3)).await;
    // A bad change: most subscribers removed at once.
    for id in &subscribers[..10] {
        store::subscribers::remove(&app.db, *id).await.unwrap();
    }
    take(on(d2, 5)).await;
    let last = take(on(d2, 6)).await;
    // Two hours (d2 06:00, 05:00) and two more days (d1's last, today's).
    assert_eq!(last.pruned.len(), 0);
    let names: Vec<String> = scheduled_in(&dir).iter().map(|l| l.name.clone()).collect();
    let stamp =
        |at: DateTime<Utc>| format!("statuspost-backup-{}.tar", at.format("%Y%m%dT%H%M%SZ"));
    assert_eq!(names.len(), 4, "{names:?}");
    assert_eq!(
        names[1..],
        [stamp(on(d1, 3)), stamp(on(d2, 5)), stamp(on(d2, 6))]
    );
    for gone in [on(d1, 1), on(d1, 2)] {
        let path = dir.join(stamp(gone));
        assert!(!path.exists() && !catalogue::rows_path(&path).exists());
    }
    assert!(by_hand.exists(), "a backup serve did not take is kept");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "keep me"
    );

    // `statuspost backup list`, as an operator runs it.
    let out = statuspost(&app.database, &app.dir)
        .args(["backup", "list", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    let line_of = |at: DateTime<Utc>| {
        *lines
            .iter()
            .find(|l| l.contains(&stamp(at)))
            .unwrap_or_else(|| panic!("{} in {stdout}", stamp(at)))
    };
    // Newest first; the by-hand one (2020) last.
    assert!(lines[0].contains(&stamp(on(d2, 6))), "{stdout}");
    assert!(
        lines[4].contains("statuspost-backup-20200101T000000Z.tar"),
        "{stdout}"
    );
    assert!(lines[4].contains("not verified"), "{stdout}");
    assert!(line_of(on(d2, 6)).starts_with("  "), "{stdout}");
    assert!(
        line_of(on(d2, 6)).ends_with("since the one before: no changes"),
        "{stdout}"
    );
    let bad = line_of(on(d2, 5));
    assert!(bad.starts_with("! "), "{stdout}");
    assert!(
        bad.contains("verified  UNUSUAL (10 of 12 subscribers removed)"),
        "{stdout}"
    );
    // Counted again from the backup before it once d1's first two were pruned.
    assert!(
        line_of(on(d1, 3)).ends_with(
            "since the one before: 1 incident added, 1 update added, 12 subscribers added, \
             1 staff account added"
        ),
        "{stdout}"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "the newest verified backup before the latest unusual change: {}",
            dir.join(stamp(on(d1, 3))).display()
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn backup_list_says_when_there_is_nothing_to_list() {
    let app = spawn_app_with(&[]).await;
    let out = statuspost(&app.database, &app.dir)
        .args(["backup", "list", "--dir", "nowhere"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "statuspost: no backups in nowhere"
    );
}

#[tokio::test]
async fn admins_see_the_backups_and_download_them_no_one_else_does() {
    let mut app = app_backing_up("1h", "24", "30").await;
    let dir = backups(&app);
    eventually("serve's first scheduled backup is recorded", || async {
        !scheduled_in(&dir).is_empty()
    })
    .await;
    let first = scheduled_in(&dir).remove(0);
    let link = format!("/admin/backups/{}", first.name);

    // Signed out: to the sign-in; signed in but not an admin: refused.
    assert_eq!(app.get("/admin/backups").await.status(), 303);
    assert_eq!(app.get(&link).await.status(), 303);
    app.add_staff("ops@example.com", "Ops", "a long enough passphrase", false)
        .await;
    let res = app
        .sign_in("ops@example.com", "a long enough passphrase")
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.get("/admin/backups").await.status(), 403);
    assert_eq!(app.get(&link).await.status(), 403);

    // A bad change between two backups, to stand out.
    let mut ids = Vec::new();
    for i in 0..5 {
        let email = EmailAddress::parse(&format!("reader{i}@example.com")).unwrap();
        ids.push(
            store::subscribers::add_confirmed_email(&app.db, &email, &[])
                .await
                .unwrap()
                .id,
        );
    }
    let settings = app.state.settings.clone();
    let at = Utc::now() + Duration::days(1);
    let good = scheduled::run_due(&settings, &app.db, at, "test")
        .await
        .unwrap()
        .unwrap();
    for id in ids {
        store::subscribers::remove(&app.db, id).await.unwrap();
    }
    scheduled::run_due(&settings, &app.db, at + Duration::hours(1), "test")
        .await
        .unwrap()
        .unwrap();

    // Signed out (a fresh client), then in as an admin.
    app.client = crate::helpers::client();
    app.sign_in_admin().await;
    let html = app.get_html("/admin/backups").await;
    let good_name = good.path.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(html.contains(&link), "a download link for each");
    assert_eq!(
        crate::helpers::texts(&html, "tr.unusual td[data-label=Changed] strong"),
        vec!["Unusual: 5 of 5 subscribers removed."]
    );
    let alert = crate::helpers::texts(&html, "div.alert[role=alert]").join(" ");
    assert!(alert.contains(&good_name), "{alert}");
    assert_eq!(
        crate::helpers::texts(&html, "tbody tr").len(),
        3,
        "three backups listed"
    );

    let res = app.get(&link).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/x-tar");
    assert_eq!(
        res.headers()["content-disposition"],
        format!("attachment; filename=\"{}\"", first.name).as_str()
    );
    let body = res.bytes().await.unwrap();
    assert_eq!(&body[..], &std::fs::read(&first.path).unwrap()[..]);
    let log = app.get_html("/admin/audit").await;
    assert!(
        log.contains(&format!("Downloaded the backup {}", first.name)),
        "the download is in the audit log"
    );

    // Only a backup's own name, of a file in the folder, is handed out.
    std::fs::write(app.dir.0.join("secret.txt"), "not for download").unwrap();
    for crafted in [
        "..%2Fsecret.txt".to_owned(),
        "%2E%2E%2Fstatuspost.db".to_owned(),
        "statuspost.db".to_owned(),
        format!("{}.json", first.name),
        format!("{}.rows.zst", first.name),
        "statuspost-backup-20200101T000000Z.tar".to_owned(),
        format!("..%2Fbackups%2F{}", first.name),
    ] {
        let res = app.get(&format!("/admin/backups/{crafted}")).await;
        assert_eq!(res.status(), 404, "{crafted}");
    }
    let res = app.get("/admin/backups/../secret.txt").await;
    assert_ne!(res.status(), 200);
}

/// The slot of the newest point in `dir`, if there is one. A point's
/// snapshot begins at its slot or later, so it holds every write that had
/// returned before its slot began.
fn newest_point(dir: &Path) -> Option<DateTime<Utc>> {
    std::fs::read_dir(dir.join("points"))
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stamp = name
                .strip_prefix("statuspost-point-")?
                .strip_suffix(".tar")?;
            chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
                .ok()
                .map(|t| t.and_utc())
        })
        .max()
}

async fn titles(url: &str) -> Vec<String> {
    use sea_orm::EntityTrait;
    let db = store::connect(url).await.unwrap();
    let mut titles: Vec<String> = statuspost::entity::incident::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.title)
        .collect();
    titles.sort();
    db.close().await.ok();
    titles
}

#[tokio::test]
async fn restore_at_a_time_brings_back_what_was_before_it_and_nothing_after() {
    let app = app_with_points("1h", "24", "30", "1s").await;
    let dir = backups(&app);
    app.sign_in_admin().await;

    app.publish("Before the cut", "investigating", "One.", &[])
        .await;
    let after_a = Utc::now();
    eventually("a point holds the first incident", || async {
        newest_point(&dir).is_some_and(|t| t > after_a)
    })
    .await;
    let cut = Utc::now();
    app.publish("After the cut", "investigating", "Two.", &[])
        .await;
    let after_b = Utc::now();
    eventually("a point holds the second incident", || async {
        newest_point(&dir).is_some_and(|t| t > after_b)
    })
    .await;
    // The loss window: from the write's answer to a point that holds it.
    let window = Utc::now() - after_b;
    assert!(window < Duration::seconds(60), "{window}");
    let disaster = Utc::now();

    let at = |t: DateTime<Utc>, name: &str| {
        let target = crate::helpers::TestDatabase::on_sqlite(&app.dir, name);
        let out = statuspost(&target, &app.dir)
            .args(["restore", "--at", &t.to_rfc3339(), "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8(out.stdout).unwrap();
        assert!(said.contains("it holds what had been written by"), "{said}");
        target
    };
    let before = at(cut, "at-the-cut.db");
    assert_eq!(titles(&before.url).await, ["Before the cut"]);
    let last = at(disaster, "at-the-disaster.db");
    assert_eq!(titles(&last.url).await, ["After the cut", "Before the cut"]);

    // A time before every backup, or not a time: one line, nothing touched.
    let target = crate::helpers::TestDatabase::on_sqlite(&app.dir, "untouched.db");
    for (when, says) in [
        ("2001-01-01 00:00:00", "no backup or point in"),
        ("yesterday", "is not a time like"),
    ] {
        let out = statuspost(&target, &app.dir)
            .args(["restore", "--at", when, "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says) && err.lines().count() == 1, "{err}");
    }
    assert!(!app.dir.0.join("untouched.db").exists());
}

#[tokio::test]
async fn a_point_is_written_only_when_the_data_changed() {
    let app = app_with_points("1h", "24", "30", "1h").await;
    let dir = backups(&app);
    eventually("serve writes a point at start", || async {
        newest_point(&dir).is_some()
    })
    .await;
    use statuspost::recovery::points;
    let settings = &app.state.settings;
    let mut last = points::Last::read(settings);
    let day = Utc::now() + Duration::days(1);
    let written = points::run_due(settings, &app.db, day, "test", &mut last).await;
    assert!(written.unwrap().is_none(), "nothing changed");
    app.sign_in_admin().await;
    app.publish("Queue delays", "investigating", "Looking.", &[])
        .await;
    let at = day + Duration::hours(1);
    let written = points::run_due(settings, &app.db, at, "test", &mut last).await;
    assert!(written.unwrap().is_some_and(|p| p.exists()));
    let at = day + Duration::hours(2);
    let written = points::run_due(settings, &app.db, at, "test", &mut last).await;
    assert!(written.unwrap().is_none(), "nothing changed since");
}
