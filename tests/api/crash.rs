//! Nothing is lost when the process dies: the real binary is killed with SIGKILL
//! in the middle of a fan-out to thousands of subscribers, started again, and
//! every subscriber gets the update (a repeat carries the same id).
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};

use sea_orm::{DatabaseConnection, EntityTrait, Set};
use statuspost::domain::{
    DisplayName, EmailAddress, Impact, IncidentStatus, IncidentTitle, Password, UpdateBody,
};
use statuspost::entity::{delivery, subscriber};
use statuspost::store;

use crate::helpers::{test_settings, TempDir, TestDatabase};
use crate::notify_support::{eventually, SECRET};
use crate::smtp_server::SmtpServer;
use crate::webhook_receiver::WebhookReceiver;

const WEBHOOKS: usize = 2000;
const EMAILS: usize = 1000;

async fn add_subscribers(db: &DatabaseConnection, receiver: &WebhookReceiver) {
    let now = store::now();
    let model = |i: usize, webhook: bool| subscriber::ActiveModel {
        kind: Set(if webhook { "webhook" } else { "email" }.to_owned()),
        email: Set(format!("s{i}@example.com")),
        webhook_url: Set(webhook.then(|| receiver.url(&format!("/hook/{i}")))),
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
    let all: Vec<_> = (0..WEBHOOKS)
        .map(|i| model(i, true))
        .chain((WEBHOOKS..WEBHOOKS + EMAILS).map(|i| model(i, false)))
        .collect();
    for chunk in all.chunks(200) {
        subscriber::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .expect("subscribers inserted");
    }
}

/// The running binary; killed if the test ends early.
struct Running(Child);

impl Running {
    /// SIGKILL (std's `Child::kill` on Unix): no shutdown code runs.
    fn kill(&mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("the process ended");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `statuspost serve` (the worker inside) or `statuspost worker` (alone).
fn start(
    command: &str,
    db_url: &str,
    dir: &TempDir,
    smtp: &SmtpServer,
    extra: &[(&str, &str)],
) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_statuspost"));
    cmd.arg(command)
        .current_dir(&dir.0)
        .env("DATABASE_URL", db_url)
        // No scheduled backup taking the machine's time from what is measured here.
        .env("STATUSPOST_BACKUP_EVERY", "off")
        // Notices go at once: these tests are about their delivery, not the send delay.
        .env("STATUSPOST_SEND_DELAY_SECONDS", "0")
        .env("STATUSPOST_BIND", "127.0.0.1:0")
        .env("STATUSPOST_PAGE_NAME", "Acme Status")
        .env("SMTP_URL", smtp.url())
        .env("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true")
        // A killed worker's claims pass to the next one soon.
        .env("STATUSPOST_WORKER_LEASE", "2s")
        .env("STATUSPOST_RETRY_SCHEDULE", "200ms,500ms,1s,2s,5s,10s")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    Running(cmd.spawn().expect("the statuspost binary starts"))
}

fn webhook_paths(receiver: &WebhookReceiver) -> HashMap<String, Vec<String>> {
    let mut by_path: HashMap<String, Vec<String>> = HashMap::new();
    for r in receiver.received() {
        assert!(
            r.verified.is_ok(),
            "signature of {}: {:?}",
            r.path,
            r.verified
        );
        by_path
            .entry(r.path.clone())
            .or_default()
            .push(r.header("webhook-id").to_owned());
    }
    by_path
}

fn mail_recipients(smtp: &SmtpServer) -> HashMap<String, Vec<String>> {
    let mut by_to: HashMap<String, Vec<String>> = HashMap::new();
    for m in smtp.messages() {
        by_to
            .entry(m.to[0].clone())
            .or_default()
            .push(m.header("Message-ID").unwrap_or_default());
    }
    by_to
}

#[tokio::test]
async fn a_fan_out_killed_half_way_completes_after_a_restart() {
    let dir = TempDir::new();
    let database = TestDatabase::new(&dir).await;
    let settings = test_settings(&database.url, &dir, &[]);
    let db = statuspost::startup::open_database(&settings).await.unwrap();
    let smtp = SmtpServer::start().await;
    let receiver = WebhookReceiver::start(SECRET).await;
    add_subscribers(&db, &receiver).await;
    let author = store::staff::create(
        &db,
        store::staff::NewStaff {
            email: EmailAddress::parse("staff@example.com").unwrap(),
            name: DisplayName::parse("Staff").unwrap(),
            password: Password::parse("correct horse battery staple").unwrap(),
            is_admin: true,
        },
    )
    .await
    .unwrap();

    // A slow first worker, so that the kill lands in the middle.
    let mut first = start(
        "serve",
        &database.url,
        &dir,
        &smtp,
        &[("STATUSPOST_WORKER_CONCURRENCY", "4")],
    );
    let published = store::incidents::create(
        &db,
        store::incidents::NewIncident {
            plan: None,
            title: IncidentTitle::parse("Payments failing").unwrap(),
            impact: Impact::Major,
            seed_key: None,
            integrity: None,
            milestones: Vec::new(),
            update: store::incidents::NewUpdate {
                status: IncidentStatus::Investigating,
                body: UpdateBody::parse("We are looking into it.").unwrap(),
                components: vec![],
                at: store::now(),
                author_id: author.id,
                notify: true,
                operational_on_resolve: false,
                next_update_by: None,
            },
        },
    )
    .await
    .unwrap();

    eventually("some deliveries arrived", || async {
        receiver.received().len() + smtp.messages().len() >= 200
    })
    .await;
    first.kill();
    let unsent = delivery::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.status != "sent")
        .count();
    assert!(
        unsent > 0,
        "the process was killed before the fan-out finished"
    );
    let before = receiver.received().len() + smtp.messages().len();
    assert!(
        before < WEBHOOKS + EMAILS,
        "some subscribers were still waiting"
    );

    // The second run is the worker alone, as a deployment with separate workers has it.
    let mut second = start("worker", &database.url, &dir, &smtp, &[]);
    eventually("every subscriber got the update", || async {
        webhook_paths(&receiver).len() == WEBHOOKS && mail_recipients(&smtp).len() == EMAILS
    })
    .await;
    eventually("every delivery is marked sent", || async {
        delivery::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .iter()
            .all(|d| d.status == "sent")
    })
    .await;
    second.kill();

    let event_id = delivery::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .event_id;
    let page_id = store::settings::get(&db, store::settings::PAGE_ID)
        .await
        .unwrap()
        .unwrap();
    let webhook_id = format!("msg_{page_id}_{event_id}");
    for (path, ids) in webhook_paths(&receiver) {
        assert!(ids.iter().all(|id| *id == webhook_id), "{path}: {ids:?}");
    }
    let message_id = format!(
        "<incident-{}-update-{}@127.0.0.1>",
        published.incident_id, published.update_id
    );
    for (to, ids) in mail_recipients(&smtp) {
        assert!(ids.iter().all(|id| *id == message_id), "{to}: {ids:?}");
    }
    let total = receiver.received().len() + smtp.messages().len();
    eprintln!(
        "crash test: {before} delivered before SIGKILL, {total} in all, {} repeats",
        total - (WEBHOOKS + EMAILS)
    );
}
