//! Break glass: `statuspost post --offline` while the database cannot be
//! reached shows the post in the static copy at once and keeps it in the
//! journal; `statuspost journal replay`, once the database is back, writes
//! it in with its original time and subscribers are notified then.
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use statuspost::recovery::journal;
use statuspost::store::incidents;

use crate::backup::{succeeded, BASE_URL};
use crate::cli::statuspost;
use crate::helpers::{spawn_app_on, zone_at_noon, TempDir, TestApp, TestDatabase};
use crate::notify_support::{eventually, webhook_subscriber, SECRET};
use crate::webhook_receiver::WebhookReceiver;

/// The binary as an operator runs it, with the copy set and `database` as its database.
fn cli(app: &TestApp, site: &Path, database: &str) -> Command {
    let mut cmd = statuspost(&app.database, &app.dir);
    cmd.env("DATABASE_URL", database)
        .env("STATUSPOST_BASE_URL", BASE_URL)
        .env("STATUSPOST_TIMEZONE", zone_at_noon())
        .env("STATUSPOST_PAGE_NAME", "Acme Status")
        .env("STATUSPOST_STATIC_DIR", site);
    cmd
}

fn with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn read(site: &Path, path: &str) -> String {
    std::fs::read_to_string(site.join(path)).unwrap()
}

#[tokio::test]
async fn offline_posts_reach_the_copy_at_once_and_the_database_and_subscribers_on_replay() {
    let dir = TempDir::new();
    let database = TestDatabase::new(&dir).await;
    let app = spawn_app_on(
        database,
        dir,
        &[
            ("STATUSPOST_BASE_URL", BASE_URL),
            ("STATUSPOST_TIMEZONE", zone_at_noon()),
            ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
            // The test runs the app's worker (`app.deliver()`) after the
            // replay, so the worker and the replay never write at once.
            ("STATUSPOST_RUN_WORKER", "false"),
        ],
    )
    .await;
    app.sign_in_admin().await;
    let receiver = WebhookReceiver::start(SECRET).await;
    webhook_subscriber(&app.db, &receiver.url("/hook"), "ops@example.com", &[]).await;
    let id = app
        .publish("Queue stalled", "investigating", "Jobs wait.", &[])
        .await;
    let site = app.dir.0.join("site");
    let real = app.database.url.clone();
    let said = succeeded(
        &cli(&app, &site, &real)
            .arg("export-static")
            .arg(&site)
            .output()
            .unwrap(),
    );
    assert!(said.contains("exported the site"), "{said}");
    let journal_file = app.dir.0.join("site.journal");
    assert!(journal::snapshot_path(&journal_file).exists());

    // The database is gone.
    let gone = if app.database.is_postgres() {
        "postgres://postgres@127.0.0.1:1/postgres".to_owned()
    } else {
        format!(
            "sqlite://{}/gone/statuspost.db?mode=rw",
            app.dir.0.display()
        )
    };
    let out = cli(&app, &site, &gone)
        .args(["journal", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the database is reachable");

    // Bad input is refused in one line, and nothing is written.
    let front_before = read(&site, "index.html");
    for (args, says) in [
        (
            vec!["--incident", &id.to_string(), "--status", "fixed"],
            "--status",
        ),
        (
            vec!["--incident", "seven", "--status", "identified"],
            "--incident",
        ),
        (
            vec!["--incident", "9999", "--status", "identified"],
            "does not exist",
        ),
        (vec!["--title", "", "--status", "investigating"], "--title"),
    ] {
        let out = cli(&app, &site, &gone)
            .args(["post", "--offline", "--message", "Found it."])
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} was taken");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!journal_file.exists(), "{args:?} wrote the journal");
        assert_eq!(read(&site, "index.html"), front_before);
    }

    // An update to an incident, then a new incident with a message from stdin.
    let said = succeeded(
        &cli(&app, &site, &gone)
            .args(["post", "--offline", "--incident", &id.to_string()])
            .args(["--status", "identified", "--message", "Found the cause."])
            .output()
            .unwrap(),
    );
    assert!(said.contains("posted offline"), "{said}");
    let page = format!("incidents/{id}.html");
    assert!(read(&site, &page).contains("Found the cause."));
    assert!(read(&site, "index.html").contains("Found the cause."));
    assert!(read(&site, "api/v2/incidents/unresolved.json").contains("Found the cause."));

    let out = with_stdin(
        {
            let mut c = cli(&app, &site, &gone);
            c.args(["post", "--offline", "--title", "Payments failing"])
                .args(["--status", "investigating", "--message", "-"]);
            c
        },
        "Cards are declined.\n\nWe are on it.\n",
    );
    let said = succeeded(&out);
    let offline = said
        .split_whitespace()
        .find(|w| w.starts_with("offline-"))
        .unwrap_or_else(|| panic!("no offline name in {said}"))
        .to_owned();
    assert!(read(&site, "index.html").contains("Payments failing"));
    assert!(read(&site, "api/v2/summary.json").contains("Payments failing"));
    assert!(read(&site, "api/v2/incidents.json").contains("We are on it."));
    succeeded(
        &cli(&app, &site, &gone)
            .args(["post", "--offline", "--incident", &offline])
            .args(["--status", "monitoring", "--message", "Cards go through."])
            .output()
            .unwrap(),
    );
    assert!(read(&site, "api/v2/incidents/unresolved.json").contains("Cards go through."));
    // Both updates so far still show: each post renders the whole journal.
    assert!(read(&site, &page).contains("Found the cause."));

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&journal_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let entries = journal::read(&journal_file).unwrap();
    assert_eq!(entries.len(), 3);
    // Nothing reached the database meanwhile.
    assert_eq!(
        incidents::load(&app.db, id)
            .await
            .unwrap()
            .unwrap()
            .updates
            .len(),
        1
    );

    // The database is back.
    let pending = succeeded(
        &cli(&app, &site, &real)
            .args(["journal", "list"])
            .output()
            .unwrap(),
    );
    assert_eq!(pending.lines().count(), 3, "{pending}");
    let said = succeeded(
        &cli(&app, &site, &real)
            .args(["journal", "replay"])
            .output()
            .unwrap(),
    );
    assert_eq!(said.lines().count(), 3, "{said}");
    assert_eq!(said.matches("wrote update").count(), 3, "{said}");

    let view = incidents::load(&app.db, id).await.unwrap().unwrap();
    let found = view.updates.last().unwrap();
    assert_eq!(found.model.body, "Found the cause.");
    assert_eq!(found.model.display_at, entries[0].at);
    let (all, _) = incidents::history(&app.db, 0, 100).await.unwrap();
    let new = all
        .iter()
        .find(|i| i.model.title == "Payments failing")
        .expect("the offline incident is in the database");
    assert_eq!(new.model.started_at, entries[1].at);
    let bodies: Vec<&str> = new.updates.iter().map(|u| u.model.body.as_str()).collect();
    assert_eq!(
        bodies,
        ["Cards are declined.\n\nWe are on it.", "Cards go through."]
    );
    assert_eq!(new.updates[1].model.display_at, entries[2].at);

    app.deliver().await;
    eventually("the replayed updates reached the webhook", || async {
        let bodies: Vec<String> = receiver
            .received()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        bodies.iter().any(|b| b.contains("Found the cause."))
            && bodies.iter().any(|b| b.contains("Cards go through."))
    })
    .await;

    // Again: nothing more is written.
    let again = succeeded(
        &cli(&app, &site, &real)
            .args(["journal", "replay"])
            .output()
            .unwrap(),
    );
    assert_eq!(again.matches("already written").count(), 3, "{again}");
    assert_eq!(
        incidents::load(&app.db, id)
            .await
            .unwrap()
            .unwrap()
            .updates
            .len(),
        2
    );
    let pending = succeeded(
        &cli(&app, &site, &real)
            .args(["journal", "list"])
            .output()
            .unwrap(),
    );
    assert!(pending.contains("no offline posts wait"), "{pending}");
}

/// The database came back from a backup older than an incident the copy
/// showed: its offline update is reported and skipped, the others replay.
#[tokio::test]
async fn replay_skips_an_entry_whose_incident_is_gone_and_writes_the_rest() {
    let dir = TempDir::new();
    let database = TestDatabase::new(&dir).await;
    let app = spawn_app_on(database, dir, &crate::backup::extra()).await;
    app.sign_in_admin().await;
    let kept = app
        .publish("Queue stalled", "investigating", "Jobs wait.", &[])
        .await;
    let backup = app.dir.0.join("before.tar");
    succeeded(&crate::backup::run(
        &app.database,
        &app.dir,
        &["backup", "--out", backup.to_str().unwrap()],
    ));
    let lost = app
        .publish("Added after the backup", "investigating", "Hm.", &[])
        .await;
    let site = app.dir.0.join("site");
    let real = app.database.url.clone();
    succeeded(
        &cli(&app, &site, &real)
            .arg("export-static")
            .arg(&site)
            .output()
            .unwrap(),
    );
    let gone = "postgres://postgres@127.0.0.1:1/postgres";
    for (id, message) in [
        (lost, "Lost with the database."),
        (kept, "Found the cause."),
    ] {
        succeeded(
            &cli(&app, &site, gone)
                .args(["post", "--offline", "--incident", &id.to_string()])
                .args(["--status", "identified", "--message", message])
                .output()
                .unwrap(),
        );
    }
    succeeded(&crate::backup::run(
        &app.database,
        &app.dir,
        &["restore", backup.to_str().unwrap(), "--force"],
    ));

    let out = cli(&app, &site, &real)
        .args(["journal", "replay"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a skipped entry goes unnoticed");
    let said = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.len(), 2, "{said}");
    assert!(
        lines[0].contains("skipped")
            && lines[0].contains(&format!("incident {lost} does not exist")),
        "{said}"
    );
    assert!(lines[1].contains("wrote update"), "{said}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 journal entries not written"), "{err}");
    let view = incidents::load(&app.db, kept).await.unwrap().unwrap();
    assert_eq!(view.updates.last().unwrap().model.body, "Found the cause.");
    assert!(incidents::load(&app.db, lost).await.unwrap().is_none());
}

/// A snapshot that cannot be written is said, and the copy is written all the same.
#[tokio::test]
async fn an_export_says_when_the_offline_snapshot_cannot_be_written() {
    let app = crate::helpers::spawn_app_with(&crate::backup::extra()).await;
    let site = app.dir.0.join("site");
    let nowhere = app.dir.0.join("missing/folder/journal");
    let out = cli(&app, &site, &app.database.url.clone())
        .env("STATUSPOST_JOURNAL", &nowhere)
        .arg("export-static")
        .arg(&site)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write the offline snapshot"), "{err}");
    assert!(site.join("index.html").exists());
}
