//! Every answer names its request in `X-Request-Id`, and the log lines of
//! that request carry the same id; the access log hides tokens in paths.
use std::io::BufRead;
use std::process::{Child, Command};
use std::sync::mpsc::Receiver;

use crate::helpers::{spawn_app, TempDir, TestDatabase};

fn id_of(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-request-id")
        .unwrap_or_else(|| panic!("no X-Request-Id on {} {}", res.status(), res.url()))
        .to_str()
        .unwrap()
        .to_owned()
}

fn looks_generated(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn every_answer_carries_a_request_id_of_its_own() {
    let app = spawn_app().await;
    let first = app.get("/").await;
    assert_eq!(first.status(), 200);
    let second = app.get("/").await;
    let (a, b) = (id_of(&first), id_of(&second));
    assert!(looks_generated(&a), "{a}");
    assert_ne!(a, b, "each request gets its own");

    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status(), 404);
    assert!(looks_generated(&id_of(&missing)));
    assert!(looks_generated(&id_of(&app.get("/health").await)));
}

#[tokio::test]
async fn a_plain_incoming_id_is_echoed_and_a_hostile_one_replaced() {
    let app = spawn_app().await;
    let send = |id: reqwest::header::HeaderValue| {
        app.client
            .get(app.url("/no/such/page"))
            .header("X-Request-Id", id)
            .send()
    };
    for sane in ["abc-123_DEF.4", &"a".repeat(64)] {
        let res = send(sane.parse().unwrap()).await.unwrap();
        assert_eq!(res.status(), 404);
        assert_eq!(id_of(&res), sane);
    }
    let hostile = [
        reqwest::header::HeaderValue::from_str(&"a".repeat(65)).unwrap(),
        "two words".parse().unwrap(),
        "tab\there".parse().unwrap(),
        "a=b;c".parse().unwrap(),
        reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        "".parse().unwrap(),
    ];
    for id in hostile {
        let res = send(id.clone()).await.unwrap();
        let got = id_of(&res);
        assert!(looks_generated(&got), "{id:?} was answered with {got:?}");
    }
}

#[tokio::test]
async fn an_error_page_carries_the_request_id() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    app.add_component("Payments").await;
    app.db
        .execute_unprepared("UPDATE components SET status = 'exploded'")
        .await
        .unwrap();
    app.state.published();
    let res = app
        .client
        .get(app.url("/"))
        .header("X-Request-Id", "trace-500")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    assert_eq!(id_of(&res), "trace-500");
    let api = app.get("/api/v2/summary.json").await;
    assert_eq!(api.status(), 500);
    assert!(looks_generated(&id_of(&api)));
}

/// A `statuspost serve` child on its own test database, its stderr read line
/// by line on a thread, once it has said which port it serves.
struct Served {
    child: Child,
    lines: Receiver<String>,
    port: u16,
}

impl Served {
    fn start(mut cmd: Command, db: &TestDatabase) -> Self {
        let mut child = cmd.env("DATABASE_URL", &db.url).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let _ = tx.send(line.unwrap());
            }
        });
        let mut served = Self {
            child,
            lines,
            port: 0,
        };
        while served.port == 0 {
            let line = served.next_line();
            if line.contains("statuspost is serving") {
                served.port = line.rsplit("port=").next().unwrap().trim().parse().unwrap();
            }
        }
        served
    }

    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the server keeps logging")
    }

    /// Lines up to and including the first that `last` picks: the log is
    /// written in order, so a line not among them was never written before it.
    fn lines_until(&self, last: impl Fn(&str) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self.next_line();
            let done = last(&line);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }

    fn get(&self, path: &str, id: Option<&str>) -> reqwest::RequestBuilder {
        let req = crate::helpers::client().get(format!("http://127.0.0.1:{}{path}", self.port));
        match id {
            Some(id) => req.header("X-Request-Id", id),
            None => req,
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes `GET /` fail: a component status this version cannot read.
async fn break_the_page(db: &TestDatabase) {
    use sea_orm::ConnectionTrait;
    let conn = statuspost::store::connect(&db.url).await.unwrap();
    conn.execute_unprepared(
        "INSERT INTO components (name, description, position, status, created_at, updated_at) \
         VALUES ('Payments', '', 0, 'exploded', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await
    .unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn log_lines_carry_the_request_id_and_access_lines_hide_tokens() {
    let dir = TempDir::new();
    let db = TestDatabase::new(&dir).await;
    let served = Served::start(crate::cli::serve_command(&dir), &db);
    let token = statuspost::secrets::random_token();

    let health = served.get("/health", Some("health-check")).send().await;
    assert_eq!(health.unwrap().status(), 200);
    let unsubscribe = served
        .get(&format!("/unsubscribe/{token}?from=mail"), Some("unsub-1"))
        .send()
        .await
        .unwrap();
    let confirm = served
        .get(&format!("/subscribe/confirm/{token}"), None)
        .send()
        .await
        .unwrap();
    let confirm_id = id_of(&confirm);
    break_the_page(&db).await;
    let failed = served.get("/", Some("broken-1")).send().await.unwrap();
    assert_eq!(failed.status(), 500);

    let is_access = |line: &str, id: &str| {
        line.contains(" GET /") && line.contains(&format!("request_id={id}"))
    };
    let log = served.lines_until(|l| is_access(l, "broken-1"));
    let access = |id: &str| {
        log.iter()
            .find(|l| is_access(l, id))
            .unwrap_or_else(|| panic!("no access line for {id} in:\n{}", log.join("\n")))
    };
    let line = access("unsub-1");
    assert!(
        line.contains(&format!(
            "{} GET /unsubscribe/[redacted]?from=mail ",
            unsubscribe.status().as_u16()
        )),
        "{line}"
    );
    let line = access(&confirm_id);
    assert!(
        line.contains(&format!(
            "{} GET /subscribe/confirm/[redacted] ",
            confirm.status().as_u16()
        )),
        "{line}"
    );
    assert!(line.contains("ms "), "the duration: {line}");
    for line in &log {
        assert!(!line.contains(&token), "{line}");
        assert!(
            !line.contains("health-check"),
            "/health is not logged: {line}"
        );
    }
    assert!(access("broken-1").contains("500 GET / "));
    // The handler's own line, inside the request's span.
    let error = log
        .iter()
        .find(|l| l.contains("request failed"))
        .unwrap_or_else(|| panic!("the error is logged:\n{}", log.join("\n")));
    assert!(
        error.contains("request_id=broken-1") && error.contains("path=/ "),
        "{error}"
    );
}

#[tokio::test]
async fn the_access_log_has_a_level_of_its_own() {
    let dir = TempDir::new();
    let db = TestDatabase::new(&dir).await;
    let mut cmd = crate::cli::serve_command(&dir);
    cmd.env("RUST_LOG", "info,statuspost::access=off");
    let served = Served::start(cmd, &db);
    let res = served.get("/no/such/page", Some("quiet-1")).send().await;
    assert_eq!(res.unwrap().status(), 404);
    break_the_page(&db).await;
    let failed = served.get("/", Some("loud-1")).send().await.unwrap();
    assert_eq!(failed.status(), 500);
    // The error is still logged, and nothing of the request before it.
    let log = served.lines_until(|l| l.contains("request failed"));
    assert!(log.last().unwrap().contains("request_id=loud-1"), "{log:?}");
    for line in &log {
        assert!(
            !line.contains("quiet-1") && !line.contains(" GET /"),
            "{line}"
        );
    }
}

#[test]
fn a_command_that_fails_still_prints_its_log_lines_first() {
    let dir = TempDir::new();
    let out = Command::new(env!("CARGO_BIN_EXE_statuspost"))
        .current_dir(&dir.0)
        .env_clear()
        .env("RUST_LOG", "warn")
        .env("STATUSPOST_TIMEZON", "UTC")
        .env("STATUSPOST_TIMEZONE", "Mars/Olympus")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].contains("STATUSPOST_TIMEZON is not a setting"),
        "the warning, written before the process exits: {err}"
    );
    assert!(
        lines[1].starts_with("statuspost: ") && lines[1].contains("Mars/Olympus"),
        "{err}"
    );
}
