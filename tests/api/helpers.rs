//! The integration test harness. Each test binary that includes it uses a part.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::DatabaseConnection;
use statuspost::config::Settings;
use statuspost::domain::{DisplayName, EmailAddress, Password};
use statuspost::startup::Application;
use statuspost::store;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// Keeps cookies, follows no redirects: tests see each 303 as it is.
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub setup_link: Option<String>,
    pub state: actix_web::web::Data<statuspost::state::AppState>,
    pub database: TestDatabase,
    pub dir: TempDir,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros() % 1_000_000_000
    )
}

/// A folder removed when the test ends.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(unique("statuspost-test"));
        std::fs::create_dir_all(&p).expect("temp dir");
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A database of the test's own: a SQLite file, or a PostgreSQL database
/// dropped when the test ends.
pub struct TestDatabase {
    pub url: String,
    pg_admin: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn new(dir: &TempDir) -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        {
            Some(server) => Self::on_postgres(&server).await,
            None => Self {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.0.join("statuspost.db").display()
                ),
                pg_admin: None,
            },
        }
    }

    /// A database of its own on the PostgreSQL server that `server` reaches,
    /// whatever TEST_DATABASE_URL says: for tests only PostgreSQL can run.
    pub async fn on_postgres(server: &str) -> Self {
        use sea_orm::ConnectionTrait;
        let name = unique("sp_test");
        let admin = sea_orm::Database::connect(server)
            .await
            .expect("the PostgreSQL server is reachable");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let mut url = url::Url::parse(server).expect("a PostgreSQL URL");
        url.set_path(&name);
        Self {
            url: url.to_string(),
            pg_admin: Some((server.to_owned(), name)),
        }
    }

    /// A SQLite file `name` in `dir`, whatever TEST_DATABASE_URL says: for
    /// tests that name their backends.
    pub fn on_sqlite(dir: &TempDir, name: &str) -> Self {
        Self {
            url: format!("sqlite://{}?mode=rwc", dir.0.join(name).display()),
            pg_admin: None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_admin.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = self.pg_admin.take() {
            // Drop runs outside any runtime we may block; use a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    use sea_orm::ConnectionTrait;
                    if let Ok(admin) = sea_orm::Database::connect(&server).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                        admin.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}

/// Settings for a test app; `extra` pairs override or add environment settings.
pub fn test_settings(db_url: &str, dir: &TempDir, extra: &[(&str, &str)]) -> Settings {
    let mut env: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), db_url.into()),
        ("STATUSPOST_BIND".into(), "127.0.0.1:0".into()),
        ("STATUSPOST_PAGE_NAME".into(), "Acme Status".into()),
        (
            "STATUSPOST_MAIL_DIR".into(),
            dir.0.join("mail").display().to_string(),
        ),
        // Tests send at once unless they test the send delay (`send_delay.rs`).
        ("STATUSPOST_SEND_DELAY_SECONDS".into(), "0".into()),
        // Scheduled backups only where a test asks (`scheduled_backups.rs`).
        ("STATUSPOST_BACKUP_EVERY".into(), "off".into()),
    ];
    for (k, v) in extra {
        env.retain(|(name, _)| name != k);
        env.push((k.to_string(), v.to_string()));
    }
    Settings::from_sources(None, &env).expect("test settings")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app with extra settings, e.g. `("STATUSPOST_TIMEZONE", "America/New_York")`.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let dir = TempDir::new();
    let database = TestDatabase::new(&dir).await;
    spawn_app_on(database, dir, extra).await
}

pub async fn spawn_app_on(database: TestDatabase, dir: TempDir, extra: &[(&str, &str)]) -> TestApp {
    let settings = test_settings(&database.url, &dir, extra);
    let app = Application::build(settings).await.expect("app builds");
    let port = app.port();
    let state = app.state();
    let setup_link = app.setup_link.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: client(),
        db: state.db.clone(),
        setup_link,
        state,
        database,
        dir,
    }
}

/// Another app on `app`'s database, as a second `serve` process sharing it
/// would be: its own cache, server and mail folder. The database stays
/// `app`'s to drop.
pub async fn spawn_app_beside(app: &TestApp, extra: &[(&str, &str)]) -> TestApp {
    let database = TestDatabase {
        url: app.database.url.clone(),
        pg_admin: None,
    };
    spawn_app_on(database, TempDir::new(), extra).await
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// The value of the first `name="csrf_token"` field in a page.
pub fn csrf_token(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("input[name=csrf_token]").unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .unwrap_or_else(|| panic!("no csrf_token in page:\n{html}"))
        .to_owned()
}

/// Text of every element matching `selector`.
pub fn texts(html: &str, selector: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel)
        .map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The value of attribute `attr` of the first element matching `selector`.
pub fn attr(html: &str, selector: &str, attr: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr(attr))
        .map(str::to_owned)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.text().await.unwrap()
    }

    /// Posts a form as a browser would, taking the CSRF token from `form_page`.
    pub async fn post_form(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let page = self.get_html(form_page).await;
        let token = csrf_token(&page);
        let mut body: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        body.extend_from_slice(fields);
        self.client
            .post(self.url(action))
            .form(&body)
            .send()
            .await
            .expect("POST")
    }

    /// Creates a staff account directly in the store.
    pub async fn add_staff(&self, email: &str, name: &str, password: &str, is_admin: bool) -> i32 {
        store::staff::create(
            &self.db,
            store::staff::NewStaff {
                email: EmailAddress::parse(email).unwrap(),
                name: DisplayName::parse(name).unwrap(),
                password: Password::parse(password).unwrap(),
                is_admin,
            },
        )
        .await
        .expect("staff created")
        .id
    }

    /// Signs in through the login form.
    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/admin/login",
            "/admin/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Signs in through the login form on another browser (`client`), as one
    /// behind a proxy that names it in `X-Forwarded-For` when `forwarded_for` is given.
    pub async fn sign_in_on(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
        forwarded_for: Option<&str>,
    ) -> reqwest::Response {
        let page = client
            .get(self.url("/admin/login"))
            .send()
            .await
            .expect("GET /admin/login")
            .text()
            .await
            .unwrap();
        let mut req = client.post(self.url("/admin/login")).form(&[
            ("csrf_token", csrf_token(&page).as_str()),
            ("email", email),
            ("password", password),
        ]);
        if let Some(from) = forwarded_for {
            req = req.header("x-forwarded-for", from);
        }
        req.send().await.expect("POST /admin/login")
    }

    /// An admin account, signed in on this app's client.
    pub async fn sign_in_admin(&self) -> i32 {
        let id = self
            .add_staff(ADMIN_EMAIL, "Shannon", ADMIN_PASSWORD, true)
            .await;
        let res = self.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(res.status(), 303, "sign-in redirects");
        id
    }

    pub async fn add_component(&self, name: &str) -> i32 {
        let res = self
            .post_form(
                "/admin/components",
                "/admin/components",
                &[
                    ("name", name),
                    ("group", ""),
                    ("position", "0"),
                    ("status", "operational"),
                    ("description", ""),
                ],
            )
            .await;
        assert_eq!(res.status(), 303);
        store::components::list(&self.db)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.model.name == name)
            .expect("component created")
            .model
            .id
    }

    /// Runs the delivery worker until nothing is due now, and returns how
    /// many attempts it made. For apps spawned with `STATUSPOST_RUN_WORKER=false`
    /// (see `notify_support::STEPPED`): the test says when the worker works.
    pub async fn deliver(&self) -> usize {
        statuspost::notify::worker::run_until_idle(&self.state.worker())
            .await
            .expect("the worker reads the database")
    }

    /// One pass of the delivery worker: each due delivery tried once.
    pub async fn deliver_once(&self) -> usize {
        statuspost::notify::worker::run_once(&self.state.worker())
            .await
            .expect("the worker reads the database")
    }

    /// Publishes an incident through the staff form; returns its id.
    pub async fn publish(
        &self,
        title: &str,
        status: &str,
        message: &str,
        extra: &[(&str, &str)],
    ) -> i32 {
        let mut fields = vec![
            ("title", title),
            ("status", status),
            ("impact", "major"),
            ("message", message),
            ("notify", "on"),
            ("action", "publish"),
        ];
        fields.extend_from_slice(extra);
        let res = self
            .post_form("/admin/incidents/new", "/admin/incidents", &fields)
            .await;
        assert_eq!(
            res.status(),
            303,
            "publish: {}",
            res.text().await.unwrap_or_default()
        );
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let path = location.split('?').next().unwrap();
        path.rsplit('/').next().unwrap().parse().unwrap()
    }

    /// Submits the new-incident form with `title` and `message` (investigating,
    /// minor impact) plus `extra` fields, whatever comes back.
    pub async fn submit_new_incident(
        &self,
        title: &str,
        message: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut fields = vec![
            ("title", title),
            ("status", "investigating"),
            ("impact", "minor"),
            ("message", message),
        ];
        fields.extend_from_slice(extra);
        self.post_form("/admin/incidents/new", "/admin/incidents", &fields)
            .await
    }

    /// Posts an update through the incident's admin form.
    pub async fn post_update(
        &self,
        incident: i32,
        status: &str,
        message: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let page = format!("/admin/incidents/{incident}");
        let action = format!("/admin/incidents/{incident}/updates");
        let mut fields = vec![
            ("status", status),
            ("message", message),
            ("notify", "on"),
            ("action", "post"),
        ];
        fields.extend_from_slice(extra);
        self.post_form(&page, &action, &fields).await
    }
}

/// Whether CI is running us: there a missing tool is a failure, never a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether an outside tool a test needs is here. In CI its absence fails the
/// test; on a developer's machine the test says so loudly and is skipped, so a
/// newcomer's first `cargo nextest run` passes.
pub fn tool_available(found: bool, what: &str, install: &str) -> bool {
    if found {
        return true;
    }
    if in_ci() {
        panic!("{what} is missing and CI never skips this test. Install it: {install}");
    }
    // Straight to the process's stderr, past libtest's capture, so a plain
    // `cargo test` shows it too; .config/nextest.toml shows these tests' output.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! SKIPPED: {what} is not available here, so this check did not run.\n\
         !! Install it with: {install}\n\
         !! (`bash .ci/run` installs it; in CI a missing tool fails the test.)\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
    false
}

/// Cargo's target folder: where screenshots and CI tools are kept.
pub fn target_dir() -> std::path::PathBuf {
    let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest.join(dir),
        None => manifest.join("target"),
    }
}

/// Whether `program` runs (`program arg` exits, whatever its status).
pub fn runs(program: &str, arg: &str) -> bool {
    std::process::Command::new(program)
        .arg(arg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// A zone where it is now between noon and one: a test that reads "today" on
/// the page then has eleven hours before the reader's date turns.
pub fn zone_at_noon() -> &'static str {
    use chrono::Timelike;
    const EAST: [&str; 13] = [
        "Etc/GMT",
        "Etc/GMT-1",
        "Etc/GMT-2",
        "Etc/GMT-3",
        "Etc/GMT-4",
        "Etc/GMT-5",
        "Etc/GMT-6",
        "Etc/GMT-7",
        "Etc/GMT-8",
        "Etc/GMT-9",
        "Etc/GMT-10",
        "Etc/GMT-11",
        "Etc/GMT-12",
    ];
    const WEST: [&str; 12] = [
        "Etc/GMT+1",
        "Etc/GMT+2",
        "Etc/GMT+3",
        "Etc/GMT+4",
        "Etc/GMT+5",
        "Etc/GMT+6",
        "Etc/GMT+7",
        "Etc/GMT+8",
        "Etc/GMT+9",
        "Etc/GMT+10",
        "Etc/GMT+11",
        "Etc/GMT+12",
    ];
    // Etc/GMT-3 is three hours ahead of UTC (POSIX signs).
    let ahead = 12 - chrono::Utc::now().hour() as i32;
    if ahead >= 0 {
        EAST[ahead as usize]
    } else {
        WEST[(-ahead - 1) as usize]
    }
}
