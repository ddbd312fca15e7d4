//! Fan-out benchmark: one update to 10,000 email and 10,000 webhook subscribers
//! on local sinks (a real SMTP server and a real HTTP receiver that verifies
//! every signature), and the publish request's latency with 0 and with 20,000
//! subscribers; then the crash catch-up: another fan-out by a `statuspost worker`
//! process SIGKILLed half-way and started again.
//!
//!     cargo bench --bench fanout
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench fanout
//!
//! With BENCH_DATABASE_URL, a throwaway database is made on that server.
#[path = "../tests/api/smtp_server.rs"]
mod smtp_server;
#[path = "../tests/api/webhook_receiver.rs"]
mod webhook_receiver;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use statuspost::config::Settings;
use statuspost::domain::{DisplayName, EmailAddress, Password};
use statuspost::entity::subscriber;
use statuspost::startup::Application;
use statuspost::store;

const EMAILS: usize = 10_000;
const WEBHOOKS: usize = 10_000;
const SAMPLES: usize = 20;
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PASSWORD: &str = "correct horse battery staple";

struct Admin {
    base: String,
    client: reqwest::Client,
}

fn csrf(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("input[name=csrf_token]").unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .expect("a csrf_token field")
        .to_owned()
}

impl Admin {
    async fn token(&self, path: &str) -> String {
        let page = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        csrf(&page.text().await.unwrap())
    }

    async fn sign_in(&self) {
        let token = self.token("/admin/login").await;
        let res = self
            .client
            .post(format!("{}/admin/login", self.base))
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", "bench@example.com"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "sign-in");
    }

    /// Publishes an incident; returns how long the POST took.
    async fn publish(&self, title: &str, notify: bool) -> Duration {
        let token = self.token("/admin/incidents/new").await;
        let mut form = vec![
            ("csrf_token", token.as_str()),
            ("title", title),
            ("status", "investigating"),
            ("impact", "major"),
            ("message", "We are looking into it."),
            ("action", "publish"),
        ];
        if notify {
            form.push(("notify", "on"));
        }
        let start = Instant::now();
        let res = self
            .client
            .post(format!("{}/admin/incidents", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        let took = start.elapsed();
        assert_eq!(res.status(), 303, "publish");
        took
    }
}

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} requests)",
        ms(v[v.len() / 2]),
        ms(v[(v.len() * 95 / 100).min(v.len() - 1)]),
        ms(*v.last().unwrap()),
        v.len()
    )
}

async fn add_subscribers(db: &DatabaseConnection, hook: &str) {
    let now = store::now();
    let model = |i: usize, webhook: bool| subscriber::ActiveModel {
        kind: Set(if webhook { "webhook" } else { "email" }.to_owned()),
        email: Set(format!("s{i}@example.com")),
        webhook_url: Set(webhook.then(|| format!("{hook}/{i}"))),
        secret: Set(webhook.then(|| SECRET.to_owned())),
        unsubscribe_token: Set(statuspost::secrets::random_token()),
        confirm_token_hash: Set(None),
        confirm_expires_at: Set(None),
        confirmed_at: Set(Some(now)),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    let all: Vec<_> = (0..EMAILS)
        .map(|i| model(i, false))
        .chain((EMAILS..EMAILS + WEBHOOKS).map(|i| model(i, true)))
        .collect();
    let txn = store::begin_write(db).await.unwrap();
    for chunk in all.chunks(500) {
        subscriber::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("statuspost-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (db_url, pg) = match std::env::var("BENCH_DATABASE_URL") {
        Ok(server) => {
            let name = format!("sp_bench_{}", std::process::id());
            let admin = sea_orm::Database::connect(&server).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            let mut url = url::Url::parse(&server).unwrap();
            url.set_path(&name);
            (url.to_string(), Some((admin, name)))
        }
        Err(_) => (
            format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
            None,
        ),
    };
    let smtp = smtp_server::SmtpServer::start().await;
    let receiver = webhook_receiver::WebhookReceiver::start(SECRET).await;
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", db_url.as_str()),
        ("STATUSPOST_BIND", "127.0.0.1:0"),
        ("SMTP_URL", smtp.url().as_str()),
        ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("STATUSPOST_SEND_DELAY_SECONDS", "0"),
        // The worker is started by hand once the latency samples are taken.
        ("STATUSPOST_RUN_WORKER", "false"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    // Worker settings to try, e.g. STATUSPOST_WORKER_CONCURRENCY=128.
    .chain(std::env::vars().filter(|(k, _)| k.starts_with("STATUSPOST_WORKER_")))
    .collect();
    let settings = Settings::from_sources(None, &env).unwrap();
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let db = state.db.clone();
    store::staff::create(
        &db,
        store::staff::NewStaff {
            email: EmailAddress::parse("bench@example.com").unwrap(),
            name: DisplayName::parse("Bench").unwrap(),
            password: Password::parse(PASSWORD).unwrap(),
            is_admin: true,
        },
    )
    .await
    .unwrap();
    let admin = Admin {
        base,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap(),
    };
    admin.sign_in().await;
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    println!("statuspost fan-out benchmark on {backend}");

    let mut empty = Vec::new();
    for i in 0..SAMPLES {
        empty.push(admin.publish(&format!("Warm-up {i}"), true).await);
    }
    println!("publish, 0 subscribers:       {}", summary(empty));

    add_subscribers(&db, &receiver.url("/hook")).await;
    let mut full = Vec::new();
    for i in 0..SAMPLES {
        full.push(admin.publish(&format!("Sample {i}"), true).await);
    }
    println!("publish, 20,000 subscribers:  {}", summary(full));
    // The samples' events would fan out too: only the measured one shall.
    db.execute_unprepared("DELETE FROM notification_events")
        .await
        .unwrap();

    let worker = statuspost::notify::worker::spawn(state.worker());
    let start = Instant::now();
    let took = admin.publish("Payments failing", true).await;
    println!(
        "publish, 20,000 subscribers, worker running: {:.1} ms",
        took.as_secs_f64() * 1000.0
    );
    let mut during = Vec::new();
    for i in 0..5 {
        during.push(admin.publish(&format!("During {i}"), false).await);
    }
    println!(
        "publish during the fan-out (notify off): {}",
        summary(during)
    );
    let mut last_report = Instant::now();
    loop {
        let (mails, hooks) = (smtp.count(), receiver.count());
        if mails >= EMAILS && hooks >= WEBHOOKS {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!("  ... {mails} emails, {hooks} webhooks");
            last_report = Instant::now();
        }
        if start.elapsed() > Duration::from_secs(1800) {
            panic!("the fan-out did not finish within 30 minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = start.elapsed();
    let bad = receiver
        .received()
        .iter()
        .filter(|r| r.verified.is_err())
        .count();
    assert_eq!(bad, 0, "every webhook signature verifies");
    let total = EMAILS + WEBHOOKS;
    println!(
        "fan-out: {total} deliveries ({EMAILS} email, {WEBHOOKS} webhook) from publish to last delivery in {:.2} s = {:.0} deliveries/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );

    worker.stop().await;
    crash_catch_up(&admin, &db_url, &dir, &smtp, &receiver).await;

    drop(state);
    if let Some((admin, name)) = pg {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `statuspost worker` process, SIGKILLed if still running when dropped.
struct WorkerProcess(Child);

impl WorkerProcess {
    fn start(db_url: &str, dir: &std::path::Path, smtp: &smtp_server::SmtpServer) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_statuspost"))
            .arg("worker")
            .current_dir(dir)
            .env("DATABASE_URL", db_url)
            // Notices go at once: these tests are about their delivery, not the send delay.
            .env("STATUSPOST_SEND_DELAY_SECONDS", "0")
            .env("SMTP_URL", smtp.url())
            .env("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the statuspost binary starts");
        Self(child)
    }

    fn kill(&mut self) {
        // SIGKILL: nothing is handed back, the leases must run out.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Another fan-out to the same 20,000, by a `statuspost worker` process that
/// is SIGKILLed half-way and started again at its defaults (15 s lease): how
/// long from the restart until the last subscriber has the update.
async fn crash_catch_up(
    admin: &Admin,
    db_url: &str,
    dir: &std::path::Path,
    smtp: &smtp_server::SmtpServer,
    receiver: &webhook_receiver::WebhookReceiver,
) {
    const TITLE: &str = "Payments failing again";
    let total = EMAILS + WEBHOOKS;
    // (subscribers who have it, messages about it): repeats of what was in
    // flight at the kill may come on top. It copies every message received.
    let reached = || {
        let mut mails = std::collections::HashSet::new();
        let mut n = 0;
        for m in smtp.messages().iter().filter(|m| m.data.contains(TITLE)) {
            mails.insert(m.to.clone());
            n += 1;
        }
        let mut hooks = std::collections::HashSet::new();
        for r in receiver.received().into_iter() {
            if String::from_utf8_lossy(&r.body).contains(TITLE) {
                hooks.insert(r.path);
                n += 1;
            }
        }
        (mails.len() + hooks.len(), n)
    };
    let before = smtp.count() + receiver.count();
    let count = || smtp.count() + receiver.count() - before;
    admin.publish(TITLE, true).await;
    let started = Instant::now();
    let mut first = WorkerProcess::start(db_url, dir, smtp);
    let deadline = Instant::now() + Duration::from_secs(600);
    while count() < total / 2 {
        assert!(
            Instant::now() < deadline,
            "the first worker did not get half-way"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill();
    let half_in = started.elapsed();
    let at_kill = reached().0;
    let restart = Instant::now();
    let _second = WorkerProcess::start(db_url, dir, smtp);
    let mut last_report = Instant::now();
    let messages = loop {
        // The copying count only once the cheap one says everyone may have it.
        if count() >= total {
            let (have, messages) = reached();
            if have >= total {
                break messages;
            }
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!("  ... {} messages after the restart", count());
            last_report = Instant::now();
        }
        assert!(
            restart.elapsed() < Duration::from_secs(600),
            "the restarted worker did not finish within 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let caught_up = restart.elapsed();
    println!(
        "crash catch-up: a worker process reached {at_kill} of {total} subscribers in {:.1} s \
         ({:.0}/s), SIGKILL; restart to last subscriber {:.1} s; {} sent twice",
        half_in.as_secs_f64(),
        at_kill as f64 / half_in.as_secs_f64(),
        caught_up.as_secs_f64(),
        messages - total
    );
}
