//! Several instances on one PostgreSQL database, as a deployment behind a load
//! balancer runs them, each the real binary: two `statuspost serve` with
//! `STATUSPOST_RUN_WORKER=false` and `statuspost worker` processes beside them.
//! A write through one instance is on the other's cached pages within half a
//! second, and a fan-out, even one shared by two workers, sends each notice to
//! each subscriber once.
//!
//! What makes the pages agree is PostgreSQL's LISTEN/NOTIFY and what keeps two
//! workers apart is `FOR UPDATE SKIP LOCKED`; on SQLite neither would be
//! shown, so these run on PostgreSQL whatever the suite runs on:
//! TEST_DATABASE_URL when it names one, else a server on this machine.
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder, Set};
use serde_json::{json, Value};
use statuspost::domain::{DisplayName, EmailAddress, Password, TokenName, TokenScope};
use statuspost::entity::{delivery, notification_event, subscriber};
use statuspost::store;

use crate::helpers::{client, test_settings, tool_available, TempDir, TestDatabase};
use crate::notify_support::{eventually, SECRET};
use crate::webhook_receiver::{Behaviour, WebhookReceiver};

/// Where `.ci/run` starts PostgreSQL, tried when TEST_DATABASE_URL names none.
const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The promise of the README's "Running several instances".
const PROMPTLY: Duration = Duration::from_millis(500);

/// How long to keep looking after [`PROMPTLY`], so that a failure says how
/// late the page was rather than only that it was.
const LOOK_FOR: Duration = Duration::from_secs(10);

const SUBSCRIBERS: usize = 300;

/// The first worker's sends at once: few, so that they can all be held.
const FIRST_WORKER_CONCURRENCY: usize = 4;

/// The PostgreSQL server to run on, or `None` (after a loud note) when there
/// is none here; in CI its absence fails the test.
pub async fn postgres_server() -> Option<String> {
    if let Some(url) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
    {
        return Some(url);
    }
    let mut options = sea_orm::ConnectOptions::new(LOCAL_POSTGRES);
    options
        .connect_timeout(Duration::from_secs(2))
        .acquire_timeout(Duration::from_secs(2))
        .sqlx_logging(false);
    let reachable = match sea_orm::Database::connect(options).await {
        Ok(db) => {
            db.close().await.ok();
            true
        }
        Err(_) => false,
    };
    tool_available(
        reachable,
        &format!(
            "PostgreSQL (none answered at {LOCAL_POSTGRES}, and TEST_DATABASE_URL names none)"
        ),
        "apt-get install postgresql, or set TEST_DATABASE_URL=postgres://...",
    )
    .then(|| LOCAL_POSTGRES.to_owned())
}

/// A statuspost process of this test's; killed when the test ends, however.
struct Process {
    child: Child,
    /// Where a `serve` listens.
    base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `statuspost <command>` on `db_url`. Its log goes to the test's
/// stderr, each line marked with `name`; for a `serve`, this waits for the
/// line that names the port it got.
async fn start(
    name: &'static str,
    command: &str,
    db_url: &str,
    dir: &TempDir,
    extra: &[(&str, &str)],
) -> Process {
    use std::io::BufRead;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_statuspost"));
    cmd.arg(command)
        .current_dir(&dir.0)
        .env("DATABASE_URL", db_url)
        // No scheduled backup taking the machine's time from what is measured here.
        .env("STATUSPOST_BACKUP_EVERY", "off")
        // Notices go at once: these tests are about their delivery, not the send delay.
        .env("STATUSPOST_SEND_DELAY_SECONDS", "0")
        .env("STATUSPOST_BIND", "127.0.0.1:0")
        // One public name for all, as behind a load balancer.
        .env("STATUSPOST_BASE_URL", "http://status.example.com/")
        .env("STATUSPOST_PAGE_NAME", "Acme Status")
        .env("STATUSPOST_RUN_WORKER", "false")
        .env("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true")
        .env(
            "RUST_LOG",
            "warn,statuspost=info,statuspost::startup=warn,statuspost::access=warn",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the statuspost binary starts");
    let stderr = child.stderr.take().expect("a piped stderr");
    let (port_tx, port_rx) = tokio::sync::oneshot::channel::<u16>();
    // Read to the end, so that a full pipe never stalls the process.
    std::thread::spawn(move || {
        let mut port_tx = Some(port_tx);
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("[{name}] {line}");
            if line.contains("statuspost is serving") {
                if let (Some(tx), Some(port)) = (
                    port_tx.take(),
                    line.rsplit("port=")
                        .next()
                        .and_then(|p| p.trim().parse().ok()),
                ) {
                    let _ = tx.send(port);
                }
            }
        }
    });
    let mut process = Process {
        child,
        base: String::new(),
    };
    if command == "serve" {
        let port = tokio::time::timeout(Duration::from_secs(60), port_rx)
            .await
            .unwrap_or_else(|_| panic!("{name} did not say its port within 60 s"))
            .unwrap_or_else(|_| panic!("{name} ended before serving"));
        process.base = format!("http://127.0.0.1:{port}");
    }
    process
}

/// Two web instances on a fresh database with an admin's write token; the
/// workers are the test's to start.
struct Deployment {
    a: Process,
    b: Process,
    token: String,
    db: DatabaseConnection,
    http: reqwest::Client,
    // Dropped last: the processes above are gone by then.
    database: TestDatabase,
    dir: TempDir,
}

async fn deploy(server: &str) -> Deployment {
    let dir = TempDir::new();
    let database = TestDatabase::on_postgres(server).await;
    // Migrated once here, before any instance starts.
    let db = statuspost::startup::open_database(&test_settings(&database.url, &dir, &[]))
        .await
        .expect("the database opens");
    let admin = store::staff::create(
        &db,
        store::staff::NewStaff {
            email: EmailAddress::parse("ops@example.com").unwrap(),
            name: DisplayName::parse("Robin Ops").unwrap(),
            password: Password::parse("correct horse battery staple").unwrap(),
            is_admin: true,
        },
    )
    .await
    .unwrap();
    let (_, token) = store::api_tokens::create(
        &db,
        &TokenName::parse("deploy script").unwrap(),
        TokenScope::Write,
        admin.id,
    )
    .await
    .unwrap();
    let (a, b) = tokio::join!(
        start("A", "serve", &database.url, &dir, &[]),
        start("B", "serve", &database.url, &dir, &[]),
    );
    Deployment {
        a,
        b,
        token,
        db,
        http: client(),
        database,
        dir,
    }
}

impl Deployment {
    async fn start_worker(&self, name: &'static str, extra: &[(&str, &str)]) -> Process {
        start(name, "worker", &self.database.url, &self.dir, extra).await
    }

    async fn get(&self, on: &Process, path: &str) -> String {
        let res = self
            .http
            .get(format!("{}{path}", on.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status(), 200, "GET {path}");
        res.text().await.unwrap()
    }

    /// A write through the API of `on`; the answer's JSON.
    async fn post(&self, on: &Process, path: &str, body: Value) -> Value {
        let res = self
            .http
            .request(Method::POST, format!("{}{path}", on.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, 201, "POST {path}: {text}");
        serde_json::from_str(&text).expect("JSON")
    }

    /// The page cache hits `on` has counted (its `/metrics`, read from this host).
    async fn cache_hits(&self, on: &Process) -> f64 {
        let metrics = self.get(on, "/metrics").await;
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("statuspost_page_cache_hits_total "))
            .map_or(0.0, |v| v.trim().parse().expect("a number"))
    }

    /// Reads `paths` on `on` until its cache holds them, and checks that it
    /// does (the second reading of each is a hit); returns what they show.
    async fn cached(&self, on: &Process, paths: &[&str]) -> Vec<String> {
        for path in paths {
            self.get(on, path).await;
        }
        let before = self.cache_hits(on).await;
        let mut bodies = Vec::new();
        for path in paths {
            bodies.push(self.get(on, path).await);
        }
        assert_eq!(
            self.cache_hits(on).await - before,
            paths.len() as f64,
            "{paths:?} were served from the cache before the write"
        );
        bodies
    }

    /// How long after `since` each of `paths` on `on` first showed `text`:
    /// read again and again, with nothing in between but the request itself.
    async fn seen_after(
        &self,
        on: &Process,
        paths: &[&str],
        text: &str,
        since: Instant,
    ) -> Vec<(String, Duration)> {
        let mut seen: Vec<(String, Duration)> = Vec::new();
        while seen.len() < paths.len() {
            for path in paths {
                if seen.iter().any(|(p, _)| p == path) {
                    continue;
                }
                if self.get(on, path).await.contains(text) {
                    seen.push((path.to_string(), since.elapsed()));
                }
            }
            assert!(
                since.elapsed() < PROMPTLY + LOOK_FOR,
                "{text:?} not on {paths:?} of {} after {:?} (seen: {seen:?})",
                on.base,
                since.elapsed()
            );
        }
        seen
    }
}

/// Says how long each took (every figure first, so a failure shows them all).
fn assert_prompt(what: &str, seen: &[(String, Duration)]) {
    for (path, took) in seen {
        eprintln!("instances: {what}: {path} showed it {took:?} after the POST returned");
    }
    for (path, took) in seen {
        assert!(
            *took <= PROMPTLY,
            "{what}: {path} showed it only after {took:?}, more than {PROMPTLY:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_through_one_instance_is_on_the_others_page_and_api_within_half_a_second() {
    let Some(server) = postgres_server().await else {
        return;
    };
    let d = deploy(&server).await;
    let _worker = d.start_worker("worker", &[]).await;

    let before = d.cached(&d.b, &["/", "/api/v2/incidents.json"]).await;
    assert!(before.iter().all(|body| !body.contains("Checkout failing")));
    let incident = d
        .post(
            &d.a,
            "/api/v1/incidents",
            json!({"name": "Checkout failing", "message": "Card payments time out."}),
        )
        .await;
    let posted = Instant::now();
    let seen = d
        .seen_after(
            &d.b,
            &["/", "/api/v2/incidents.json"],
            "Checkout failing",
            posted,
        )
        .await;
    assert_prompt("an incident posted through A, on B", &seen);

    let id = incident["id"].as_str().expect("the incident's id");
    let page = format!("/incidents/{id}");
    let before = d.cached(&d.a, &[&page]).await;
    assert!(before[0].contains("Card payments time out."));
    d.post(
        &d.b,
        &format!("/api/v1/incidents/{id}/updates"),
        json!({"status": "identified", "message": "A faulty deploy; rolling back."}),
    )
    .await;
    let posted = Instant::now();
    let seen = d
        .seen_after(&d.a, &[&page], "A faulty deploy; rolling back.", posted)
        .await;
    assert_prompt("an update posted through B, on A", &seen);
}

async fn add_webhook_subscribers(db: &DatabaseConnection, receiver: &WebhookReceiver) {
    let now = store::now();
    let all: Vec<_> = (0..SUBSCRIBERS)
        .map(|i| subscriber::ActiveModel {
            kind: Set("webhook".into()),
            email: Set(format!("s{i}@example.com")),
            webhook_url: Set(Some(receiver.url(&format!("/hook/{i}")))),
            secret: Set(Some(SECRET.into())),
            unsubscribe_token: Set(statuspost::secrets::random_token()),
            confirmed_at: Set(Some(now)),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in all.chunks(100) {
        subscriber::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .expect("subscribers inserted");
    }
}

/// The `webhook-id`s each subscriber's path received, in arrival order.
fn ids_by_path(receiver: &WebhookReceiver) -> HashMap<String, Vec<String>> {
    let mut by_path: HashMap<String, Vec<String>> = HashMap::new();
    for r in receiver.received() {
        assert_eq!(r.verified, Ok(()), "signature of {}", r.path);
        by_path
            .entry(r.path.clone())
            .or_default()
            .push(r.header("webhook-id").to_owned());
    }
    by_path
}

/// Every delivery the database holds is sent: nothing can go out again.
async fn all_sent(db: &DatabaseConnection, expected: usize) -> bool {
    let all = delivery::Entity::find().all(db).await.unwrap();
    all.len() == expected && all.iter().all(|d| d.status == "sent")
}

/// Asserts that each subscriber got exactly `ids`, once each, in that order.
fn assert_each_got(receiver: &WebhookReceiver, ids: &[String]) {
    let by_path = ids_by_path(receiver);
    assert_eq!(by_path.len(), SUBSCRIBERS, "every subscriber heard");
    for (path, got) in by_path {
        assert_eq!(got, ids, "{path}");
    }
}

/// The webhook ids of the events so far, oldest first.
async fn webhook_ids(db: &DatabaseConnection) -> Vec<String> {
    let page_id = store::settings::get(db, store::settings::PAGE_ID)
        .await
        .unwrap()
        .expect("the page has an id");
    notification_event::Entity::find()
        .order_by_asc(notification_event::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("msg_{page_id}_{}", e.id))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_processes_send_each_notice_to_each_subscriber_once() {
    let Some(server) = postgres_server().await else {
        return;
    };
    let receiver = WebhookReceiver::start(SECRET).await;
    let d = deploy(&server).await;
    add_webhook_subscribers(&d.db, &receiver).await;
    let concurrency = FIRST_WORKER_CONCURRENCY.to_string();
    let _first = d
        .start_worker(
            "worker 1",
            &[("STATUSPOST_WORKER_CONCURRENCY", concurrency.as_str())],
        )
        .await;

    // One worker process: an incident posted through A.
    let incident = d
        .post(
            &d.a,
            "/api/v1/incidents",
            json!({"name": "Checkout failing", "message": "Card payments time out."}),
        )
        .await;
    eventually("every delivery of the incident is sent", || {
        all_sent(&d.db, SUBSCRIBERS)
    })
    .await;
    assert_each_got(&receiver, &webhook_ids(&d.db).await);

    // Two worker processes: an update posted through B. The receiver holds
    // its answers, so the first worker is stuck with all it may send at once
    // and whatever arrives beyond that is the second worker's, which starts
    // only now, part-way through the fan-out.
    receiver.set_behaviour(Behaviour::Held);
    let id = incident["id"].as_str().expect("the incident's id");
    d.post(
        &d.b,
        &format!("/api/v1/incidents/{id}/updates"),
        json!({"status": "identified", "message": "A faulty deploy; rolling back."}),
    )
    .await;
    let in_flight = || receiver.received().len() - SUBSCRIBERS;
    eventually("the first worker's sends are in flight", || async {
        in_flight() >= FIRST_WORKER_CONCURRENCY
    })
    .await;
    assert_eq!(
        in_flight(),
        FIRST_WORKER_CONCURRENCY,
        "one worker sends at most its concurrency at once"
    );
    let _second = d.start_worker("worker 2", &[]).await;
    // Held sends must be answered well within the webhook timeout (15 s), or
    // they would fail and go again: a test failure, but not the one to find.
    tokio::time::timeout(
        Duration::from_secs(10),
        eventually("the second worker sends", || async {
            in_flight() > FIRST_WORKER_CONCURRENCY
        }),
    )
    .await
    .expect("the second worker sent within 10 s of starting");
    let shared = in_flight() - FIRST_WORKER_CONCURRENCY;
    receiver.set_behaviour(Behaviour::Status(204, vec![]));
    receiver.open_gate();
    eventually("every delivery of the update is sent", || {
        all_sent(&d.db, 2 * SUBSCRIBERS)
    })
    .await;
    let ids = webhook_ids(&d.db).await;
    assert_eq!(
        ids.len(),
        2,
        "one event for the incident, one for the update"
    );
    assert_each_got(&receiver, &ids);
    let attempts: i32 = delivery::Entity::find()
        .all(&d.db)
        .await
        .unwrap()
        .iter()
        .map(|d| d.attempts)
        .sum();
    assert_eq!(attempts as usize, 2 * SUBSCRIBERS, "one attempt each");
    eprintln!(
        "instances: the second worker had at least {shared} of the update's {SUBSCRIBERS} \
         deliveries in flight while the first held its {FIRST_WORKER_CONCURRENCY}"
    );
}
