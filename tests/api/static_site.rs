//! The static copy: `statuspost export-static DIR` run as an operator runs
//! it, and the copy `serve` keeps with `STATUSPOST_STATIC_DIR`. Its links
//! must work under any prefix, its read API must read as the live one, and
//! it must follow every write within seconds.
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use statuspost::domain::{Impact, IncidentStatus, IncidentTitle};
use statuspost::store::{self, incidents};

use crate::backup::{extra, run, seed, succeeded, update, BASE_URL};
use crate::cli::statuspost;
use crate::helpers::{spawn_app_on, spawn_app_with, TempDir, TestApp, TestDatabase};

/// The copy's files, by their paths under its top (the manifest left out).
fn files(dir: &Path) -> BTreeSet<String> {
    fn walk(top: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(top, &path, out);
            } else {
                let rel = path
                    .strip_prefix(top)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out.remove(statuspost::recovery::static_site::MANIFEST);
    out
}

fn export(app: &TestApp, dir: &Path) -> String {
    let mut cmd = statuspost(&app.database, &app.dir);
    for (k, v) in extra() {
        cmd.env(k, v);
    }
    let out = cmd
        .env("STATUSPOST_PAGE_NAME", "Acme Status")
        .arg("export-static")
        .arg(dir)
        .output()
        .unwrap();
    succeeded(&out)
}

/// Every link and asset in every HTML file of the copy, read as a browser
/// reads it with the copy under https://example.org/some/prefix/: each must
/// name a file of the copy (and an element of it, for a #fragment), or be
/// one of the live site's forms. Returns how many were followed.
fn assert_links_resolve(dir: &Path, files: &BTreeSet<String>) -> usize {
    let top = url::Url::parse("https://example.org/some/prefix/").unwrap();
    let links = scraper::Selector::parse("a[href], link[href], img[src], script[src]").unwrap();
    let mut followed = 0;
    for file in files.iter().filter(|f| f.ends_with(".html")) {
        let html = std::fs::read_to_string(dir.join(file)).unwrap();
        let doc = scraper::Html::parse_document(&html);
        let here = top.join(file).unwrap();
        for el in doc.select(&links) {
            let link = el
                .value()
                .attr("href")
                .or_else(|| el.value().attr("src"))
                .unwrap();
            if let Some(live) = link.strip_prefix(BASE_URL) {
                assert_eq!(
                    live, "subscribe",
                    "{file}: only forms link to the live site"
                );
                continue;
            }
            assert!(
                !link.starts_with('/') && !link.contains("://"),
                "{file}: {link} would leave the copy"
            );
            let to = here.join(link).unwrap();
            let path = to
                .path()
                .strip_prefix(top.path())
                .unwrap_or_else(|| panic!("{file}: {link} climbs out of the copy"));
            let target = if path.is_empty() { file.as_str() } else { path };
            assert!(
                files.contains(target),
                "{file}: {link} names {target}, which the copy lacks"
            );
            if let Some(id) = to.fragment() {
                let target_html = std::fs::read_to_string(dir.join(target)).unwrap();
                let sel = scraper::Selector::parse(&format!("[id=\"{id}\"]")).unwrap();
                assert!(
                    scraper::Html::parse_document(&target_html)
                        .select(&sel)
                        .next()
                        .is_some(),
                    "{file}: {link}: {target} has no #{id}"
                );
            }
            followed += 1;
        }
    }
    followed
}

/// Twenty more resolved incidents, so the history has a second page.
async fn more_incidents(app: &TestApp, author: i32) {
    let start = store::now() - chrono::Duration::days(30);
    for n in 0..20 {
        incidents::create(
            &app.db,
            incidents::NewIncident {
                plan: None,
                title: IncidentTitle::parse(&format!("Old incident {n}")).unwrap(),
                impact: Impact::parse("minor").unwrap(),
                update: update(
                    IncidentStatus::Resolved,
                    "Over.",
                    vec![],
                    start + chrono::Duration::hours(n),
                    author,
                ),
                seed_key: None,
                integrity: None,
                milestones: Vec::new(),
            },
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn export_static_writes_the_whole_site_with_links_that_work_under_any_prefix() {
    let dir = TempDir::new();
    let database = TestDatabase::new(&dir).await;
    let app = spawn_app_on(database, dir, &extra()).await;
    let ids = seed(&app).await;
    let author = store::staff::list(&app.db).await.unwrap()[0].id;
    more_incidents(&app, author).await;
    let site = app.dir.0.join("site");

    let said = export(&app, &site);
    assert!(said.contains("exported the site to"), "{said}");
    let got = files(&site);
    let every = incidents::history(&app.db, 0, 1000).await.unwrap().0;
    assert_eq!(every.len(), 23);
    for i in &every {
        assert!(
            got.contains(&format!("incidents/{}.html", i.model.id)),
            "{got:?}"
        );
    }
    for want in [
        "index.html",
        "history.html",
        "history/2.html",
        "uptime.html",
        "api/v2/summary.json",
        "api/v2/status.json",
        "api/v2/components.json",
        "api/v2/incidents.json",
        "api/v2/incidents/unresolved.json",
        "api/v2/scheduled-maintenances.json",
        "api/v2/scheduled-maintenances/upcoming.json",
        "api/v2/scheduled-maintenances/active.json",
        "feed.atom",
        "feed.rss",
        "history.atom",
        "history.rss",
        "maintenance.ics",
        "badge.svg",
        "assets/style.css",
        "assets/favicon.svg",
    ] {
        assert!(got.contains(want), "{want} missing from {got:?}");
    }
    assert!(!got.contains("history/3.html"), "{got:?}");

    let followed = assert_links_resolve(&site, &got);
    // The front page alone links its incidents, the history and the assets.
    assert!(followed > 100, "only {followed} links followed");

    // What Statuspage clients and feed readers get is the live body, byte for byte.
    for path in got.iter().filter(|p| {
        p.starts_with("api/") || p.ends_with(".atom") || p.ends_with(".rss") || *p == "badge.svg"
    }) {
        let live = app.get(&format!("/{path}")).await;
        assert_eq!(live.status(), 200, "{path}");
        let live = live.text().await.unwrap();
        let copy = std::fs::read_to_string(site.join(path)).unwrap();
        assert_eq!(copy, live, "{path} differs from the live answer");
    }
    // The pages read as the live ones do.
    let open = std::fs::read_to_string(site.join(format!("incidents/{}.html", ids[2]))).unwrap();
    assert!(open.contains("Some sign-ins take a minute."), "{open}");
    let front = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(front.contains("Slow sign-in"), "{front}");
    assert!(
        !front.contains("time-zone"),
        "the copy has no picker: {front}"
    );

    // Again, with nothing changed: nothing is written.
    let again = export(&app, &site);
    assert!(again.contains(" 0 files written"), "{again}");
}

#[tokio::test]
async fn export_static_removes_what_the_site_no_longer_has_and_leaves_foreign_folders_alone() {
    let dir = TempDir::new();
    let database = TestDatabase::new(&dir).await;
    let app = spawn_app_on(database, dir, &extra()).await;
    let ids = seed(&app).await;
    let backup = app.dir.0.join("before.tar");
    succeeded(&run(
        &app.database,
        &app.dir,
        &["backup", "--out", backup.to_str().unwrap()],
    ));
    let later = app
        .publish("Added after the backup", "investigating", "Hm.", &[])
        .await;
    let site = app.dir.0.join("site");
    export(&app, &site);
    assert!(site.join(format!("incidents/{later}.html")).exists());

    // The incident is gone from the database: restored from before it.
    succeeded(&run(
        &app.database,
        &app.dir,
        &["restore", backup.to_str().unwrap(), "--force"],
    ));
    let said = export(&app, &site);
    assert!(said.contains("1 removed"), "{said}");
    let got = files(&site);
    assert!(!got.contains(&format!("incidents/{later}.html")), "{got:?}");
    for id in ids {
        assert!(got.contains(&format!("incidents/{id}.html")), "{got:?}");
    }
    assert_links_resolve(&site, &got);

    // A folder with files of its own is refused, and keeps them.
    let foreign = app.dir.0.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let mut cmd = statuspost(&app.database, &app.dir);
    let out = cmd.arg("export-static").arg(&foreign).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds files that no export wrote"), "{err}");
    assert_eq!(files(&foreign), BTreeSet::from(["notes.txt".to_owned()]));
}

/// Polls `path` until it holds `text`, for up to ten seconds.
async fn until_it_says(path: &Path, text: &str) -> Duration {
    let started = Instant::now();
    loop {
        if std::fs::read_to_string(path).is_ok_and(|t| t.contains(text)) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{} never said {text:?}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn serve_republishes_the_copy_within_seconds_of_every_write() {
    let site = TempDir::new();
    let app = spawn_app_with(&[("STATUSPOST_STATIC_DIR", site.0.to_str().unwrap())]).await;
    until_it_says(&site.0.join("index.html"), "Acme Status").await;
    app.sign_in_admin().await;
    let id = app
        .publish("Queue stalled", "investigating", "Jobs wait.", &[])
        .await;
    let page = site.0.join(format!("incidents/{id}.html"));
    let took = until_it_says(&page, "Jobs wait.").await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    until_it_says(
        &site.0.join("api/v2/incidents/unresolved.json"),
        "Queue stalled",
    )
    .await;
    let res = app.post_update(id, "resolved", "Drained.", &[]).await;
    assert_eq!(res.status(), 303);
    until_it_says(&page, "Drained.").await;
    until_it_says(&site.0.join("index.html"), "All Systems Operational").await;

    // A second process on the same database writes; this one's copy follows.
    let other = crate::helpers::spawn_app_beside(&app, &[]).await;
    let res = other
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    assert_eq!(res.status(), 303);
    let elsewhere = other
        .publish(
            "Written elsewhere",
            "investigating",
            "From the other one.",
            &[],
        )
        .await;
    until_it_says(
        &site.0.join(format!("incidents/{elsewhere}.html")),
        "From the other one.",
    )
    .await;
}

/// The figure in README ("Recovery"): a whole export of a page with 2,001
/// incidents, first into an empty folder, then again with one changed.
/// `cargo nextest run --run-ignored only -E 'test(/static_site::time_/)' --no-capture`
#[tokio::test]
#[ignore = "a measurement, run by hand"]
async fn time_an_export_of_two_thousand_incidents() {
    let app = spawn_app_with(&extra()).await;
    app.sign_in_admin().await;
    let author = store::staff::list(&app.db).await.unwrap()[0].id;
    for _ in 0..100 {
        more_incidents(&app, author).await;
    }
    app.publish("The one that changes", "investigating", "First.", &[])
        .await;
    let site = app.dir.0.join("site");
    let to = statuspost::recovery::static_site::Target::Dir(site.clone());
    let started = Instant::now();
    let first = statuspost::recovery::static_site::export(&app.state, &to)
        .await
        .unwrap();
    let cold = started.elapsed();
    let again = Instant::now();
    let id = app
        .publish("Another", "investigating", "Second.", &[])
        .await;
    let second = statuspost::recovery::static_site::export(&app.state, &to)
        .await
        .unwrap();
    let warm = again.elapsed();
    assert!(site.join(format!("incidents/{id}.html")).exists());
    eprintln!(
        "2001 incidents: first export {cold:?} ({} files), again after one more incident {warm:?} ({} written, {} current)",
        first.changed, second.changed, second.unchanged
    );
    assert!(cold < Duration::from_secs(120), "{cold:?}");
}

/// moto's S3 server on a free port of this host, stopped when dropped.
struct S3Server {
    child: std::process::Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `moto_server` (MOTO_SERVER, else the one on PATH) and makes `bucket`.
async fn s3_server(bucket: &str) -> Option<S3Server> {
    use std::io::BufRead;
    let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    if !crate::helpers::tool_available(
        crate::helpers::runs(&program, "--help"),
        "moto's S3 server (moto_server)",
        "pip install 'moto[server]', or set MOTO_SERVER to a moto_server",
    ) {
        return None;
    }
    let mut child = std::process::Command::new(&program)
        .args(["-H", "127.0.0.1", "-p", "0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // Read to the end, so its request log never fills the pipe and stalls it.
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if let Some(at) = line.find("Running on http://") {
                let _ = tx.send(line[at + "Running on ".len()..].trim().to_owned());
            }
        }
    });
    let endpoint = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("moto_server says where it listens");
    let server = S3Server { child, endpoint };
    let made = reqwest::Client::new()
        .put(format!("{}/{bucket}", server.endpoint))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{:?}", made.status());
    Some(server)
}

fn s3_settings(server: &S3Server) -> [(&'static str, String); 3] {
    [
        ("STATUSPOST_STATIC_S3_ENDPOINT", server.endpoint.clone()),
        ("STATUSPOST_STATIC_S3_ACCESS_KEY_ID", "testing".into()),
        (
            "STATUSPOST_STATIC_S3_SECRET_ACCESS_KEY",
            "testing-secret".into(),
        ),
    ]
}

fn bucket(server: &S3Server, name: &str) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(name)
        .with_region("us-east-1")
        .with_endpoint(&server.endpoint)
        .with_allow_http(true)
        .with_access_key_id("testing")
        .with_secret_access_key("testing-secret")
        .build()
        .unwrap()
}

async fn put(server: &S3Server, at: &str, body: &'static str) {
    use object_store::ObjectStore;
    let (name, key) = at.split_once('/').unwrap();
    bucket(server, name)
        .put(&object_store::path::Path::from(key), body.into())
        .await
        .unwrap();
}

/// An object of the bucket (`bucket/key`) and its Content-Type; `None` when absent.
async fn object(server: &S3Server, at: &str) -> Option<(String, String)> {
    use object_store::ObjectStore;
    let (name, key) = at.split_once('/').unwrap();
    match bucket(server, name)
        .get(&object_store::path::Path::from(key))
        .await
    {
        Ok(got) => {
            let kind = got
                .attributes
                .get(&object_store::Attribute::ContentType)
                .map(|v| v.to_string())
                .unwrap_or_default();
            let body = got.bytes().await.unwrap();
            Some((String::from_utf8(body.to_vec()).unwrap(), kind))
        }
        Err(object_store::Error::NotFound { .. }) => None,
        Err(e) => panic!("{at}: {e}"),
    }
}

#[tokio::test]
async fn export_static_writes_the_site_into_an_s3_bucket() {
    let Some(s3) = s3_server("site").await else {
        return;
    };
    let dir = TempDir::new();
    let database = TestDatabase::new(&dir).await;
    let app = spawn_app_on(database, dir, &extra()).await;
    let ids = seed(&app).await;
    let backup = app.dir.0.join("before.tar");
    succeeded(&run(
        &app.database,
        &app.dir,
        &["backup", "--out", backup.to_str().unwrap()],
    ));
    let later = app
        .publish("Added after the backup", "investigating", "Hm.", &[])
        .await;
    let export_to_bucket = |to: &str| {
        let mut cmd = statuspost(&app.database, &app.dir);
        for (k, v) in extra() {
            cmd.env(k, v);
        }
        for (k, v) in s3_settings(&s3) {
            cmd.env(k, v);
        }
        cmd.env("STATUSPOST_PAGE_NAME", "Acme Status")
            .args(["export-static", to])
            .output()
            .unwrap()
    };
    let said = succeeded(&export_to_bucket("s3://site/status"));
    assert!(
        said.contains("exported the site to s3://site/status"),
        "{said}"
    );

    let (front, kind) = object(&s3, "site/status/index.html").await.unwrap();
    assert_eq!(kind, "text/html; charset=utf-8");
    assert!(front.contains("Slow sign-in"), "{front}");
    for id in ids.iter().chain([&later]) {
        let page = object(&s3, &format!("site/status/incidents/{id}.html")).await;
        assert!(page.is_some(), "incident {id}");
    }
    for path in ["api/v2/summary.json", "api/v2/incidents.json", "feed.atom"] {
        let live = app.get(&format!("/{path}")).await.text().await.unwrap();
        let (copy, _) = object(&s3, &format!("site/status/{path}")).await.unwrap();
        assert_eq!(copy, live, "{path}");
    }

    succeeded(&run(
        &app.database,
        &app.dir,
        &["restore", backup.to_str().unwrap(), "--force"],
    ));
    let said = succeeded(&export_to_bucket("s3://site/status"));
    assert!(said.contains("1 removed"), "{said}");
    let gone = object(&s3, &format!("site/status/incidents/{later}.html")).await;
    assert!(gone.is_none());

    // A prefix with objects of its own is refused, and keeps them.
    put(&s3, "site/theirs/notes.txt", "mine").await;
    let out = export_to_bucket("s3://site/theirs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds objects that no export wrote"), "{err}");
    assert!(object(&s3, "site/theirs/index.html").await.is_none());
    assert!(object(&s3, "site/theirs/notes.txt").await.is_some());
}

#[tokio::test]
async fn serve_republishes_the_copy_in_a_bucket_within_seconds_of_every_write() {
    let Some(s3) = s3_server("live-copy").await else {
        return;
    };
    let settings = s3_settings(&s3);
    let mut extra: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    extra.push(("STATUSPOST_STATIC_URL", "s3://live-copy/status/"));
    let app = spawn_app_with(&extra).await;
    let started = Instant::now();
    loop {
        let res = object(&s3, "live-copy/status/index.html").await;
        if res.is_some_and(|(page, _)| page.contains("Acme Status")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no front page in the bucket"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.sign_in_admin().await;
    let id = app
        .publish("Queue stalled", "investigating", "Jobs wait.", &[])
        .await;
    let posted = Instant::now();
    loop {
        let res = object(&s3, &format!("live-copy/status/incidents/{id}.html")).await;
        if res.is_some_and(|(page, _)| page.contains("Jobs wait.")) {
            break;
        }
        assert!(
            posted.elapsed() < Duration::from_secs(5),
            "the incident is not in the bucket 5 s after it was posted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
