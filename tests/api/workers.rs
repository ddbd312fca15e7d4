//! Several workers on one database never hold the same delivery at once: each
//! delivery is sent exactly once when no lease runs out.
use std::collections::HashMap;
use std::time::Duration;

use sea_orm::{EntityTrait, Set};
use statuspost::entity::{delivery, subscriber};
use statuspost::store;

use crate::helpers::{spawn_app_with, test_settings};
use crate::notify_support::{eventually, SECRET};
use crate::webhook_receiver::{Behaviour, WebhookReceiver};

const SUBSCRIBERS: usize = 1500;

#[tokio::test]
async fn two_workers_share_a_fan_out_without_sending_anything_twice() {
    let app = spawn_app_with(&[
        ("STATUSPOST_RUN_WORKER", "false"),
        ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
    ])
    .await;
    app.sign_in_admin().await;
    let receiver = WebhookReceiver::start(SECRET).await;
    let now = store::now();
    let subs: Vec<_> = (0..SUBSCRIBERS)
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
    for chunk in subs.chunks(200) {
        subscriber::Entity::insert_many(chunk.to_vec())
            .exec(&app.db)
            .await
            .unwrap();
    }
    let id = app
        .publish("Outage", "investigating", "Looking.", &[])
        .await;
    assert_eq!(
        app.post_update(id, "identified", "Found it.", &[])
            .await
            .status(),
        303
    );

    // Two workers, each with its own connection pool, as two processes would be.
    for _ in 0..2 {
        let settings = test_settings(
            &app.database.url,
            &app.dir,
            &[
                ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
                ("STATUSPOST_WORKER_CONCURRENCY", "16"),
            ],
        );
        let db = statuspost::startup::open_database(&settings).await.unwrap();
        let state = statuspost::startup::state(settings, db).await.unwrap();
        statuspost::notify::worker::spawn(state.worker());
    }
    eventually("every delivery is sent", || async {
        let all = delivery::Entity::find().all(&app.db).await.unwrap();
        all.len() == 2 * SUBSCRIBERS && all.iter().all(|d| d.status == "sent")
    })
    .await;
    let mut per_path: HashMap<String, Vec<String>> = HashMap::new();
    for r in receiver.received() {
        assert_eq!(r.verified, Ok(()));
        per_path
            .entry(r.path.clone())
            .or_default()
            .push(r.header("webhook-id").to_owned());
    }
    assert_eq!(per_path.len(), SUBSCRIBERS);
    for (path, ids) in per_path {
        assert_eq!(
            ids.len(),
            2,
            "{path} got each of the two updates once: {ids:?}"
        );
        // Both workers, and still in order: the first event's id comes first.
        assert!(
            ids[0].ends_with("_1") && ids[1].ends_with("_2"),
            "{path}: {ids:?}"
        );
    }
    let attempts: i32 = delivery::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|d| d.attempts)
        .sum();
    assert_eq!(attempts as usize, 2 * SUBSCRIBERS, "one attempt each");
}

#[tokio::test]
async fn expanding_an_event_again_adds_no_delivery() {
    use sea_orm::{ActiveModelTrait, IntoActiveModel};
    use statuspost::entity::notification_event;
    let app = spawn_app_with(&[("STATUSPOST_RUN_WORKER", "false")]).await;
    app.sign_in_admin().await;
    for i in 0..3 {
        crate::notify_support::email_subscriber(&app.db, &format!("s{i}@example.com"), &[]).await;
    }
    app.publish("Outage", "investigating", "Looking.", &[])
        .await;
    let event = notification_event::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store::deliveries::expand(&app.db, event.id).await.unwrap(),
        Some(3)
    );
    assert_eq!(
        store::deliveries::expand(&app.db, event.id).await.unwrap(),
        None,
        "an expanded event is left alone"
    );
    // As if the mark were lost: expanding again makes nothing new.
    let mut e = notification_event::Entity::find_by_id(event.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    e.expanded_at = Set(None);
    e.update(&app.db).await.unwrap();
    assert_eq!(
        store::deliveries::expand(&app.db, event.id).await.unwrap(),
        Some(0)
    );
    assert_eq!(
        delivery::Entity::find().all(&app.db).await.unwrap().len(),
        3
    );
}

#[tokio::test]
async fn an_event_that_cannot_be_read_is_set_aside_not_guessed() {
    use sea_orm::ActiveModelTrait;
    use statuspost::entity::notification_event;
    let app = spawn_app_with(&[("STATUSPOST_RUN_WORKER", "false")]).await;
    crate::notify_support::email_subscriber(&app.db, "s@example.com", &[]).await;
    // Written by a newer version, or by hand: a kind this version does not know,
    // and an incident update that names no update.
    let mut ids = Vec::new();
    for (kind, update) in [
        ("postmortem_published_v9", Some(1)),
        ("incident_update", None),
    ] {
        let row = notification_event::ActiveModel {
            kind: Set(kind.to_owned()),
            incident_id: Set(Some(1)),
            update_id: Set(update),
            created_at: Set(store::now()),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
        ids.push(row.id);
    }
    for id in ids {
        assert_eq!(
            store::deliveries::expand(&app.db, id).await.unwrap(),
            Some(0),
            "nobody is told of what cannot be read"
        );
        assert_eq!(
            store::deliveries::expand(&app.db, id).await.unwrap(),
            None,
            "and it is not tried again on every pass"
        );
    }
    assert!(delivery::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .is_empty());
}

/// A webhook subscriber whose receiver never answers, and one published
/// incident: the worker's one delivery stays in flight.
async fn one_hung_delivery() -> (crate::helpers::TestApp, WebhookReceiver) {
    let app = spawn_app_with(&[
        ("STATUSPOST_RUN_WORKER", "false"),
        ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
    ])
    .await;
    app.sign_in_admin().await;
    let receiver = WebhookReceiver::start_with(SECRET, Behaviour::Hang).await;
    crate::notify_support::webhook_subscriber(
        &app.db,
        &receiver.url("/hook"),
        "ops@example.com",
        &[],
    )
    .await;
    app.publish("Outage", "investigating", "Looking.", &[])
        .await;
    (app, receiver)
}

async fn the_delivery(app: &crate::helpers::TestApp) -> delivery::Model {
    delivery::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_delivery_in_flight_keeps_its_lease_and_no_other_worker_takes_it() {
    let (app, receiver) = one_hung_delivery().await;
    let mut ctx = app.state.worker();
    ctx.lease = Duration::from_millis(600);
    let worker = statuspost::notify::worker::spawn(ctx.clone());
    eventually("the receiver has the request", || async {
        !receiver.received().is_empty()
    })
    .await;
    let first = the_delivery(&app).await.lease_until.expect("claimed");
    // The heartbeat (every lease/3) pushes the lease on while the send hangs.
    eventually("the lease was renewed", || async {
        the_delivery(&app).await.lease_until > Some(first + chrono::Duration::milliseconds(600))
    })
    .await;
    assert_eq!(
        statuspost::notify::worker::run_once(&ctx).await.unwrap(),
        0,
        "another worker finds nothing to take"
    );
    // Asked to stop, the worker waits out one lease, then hands the delivery back.
    worker.stop().await;
    let d = the_delivery(&app).await;
    assert_eq!(d.status, "pending");
    assert_eq!(d.lease_until, None, "due at once for the next worker");
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_a_worker_which_hands_back_what_it_holds() {
    let (app, receiver) = one_hung_delivery().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_statuspost"))
        .arg("worker")
        .current_dir(&app.dir.0)
        .env("DATABASE_URL", &app.database.url)
        // Notices go at once: these tests are about their delivery, not the send delay.
        .env("STATUSPOST_SEND_DELAY_SECONDS", "0")
        .env("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("STATUSPOST_WORKER_LEASE", "1s")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the worker starts");
    eventually("the receiver has the request", || async {
        !receiver.received().is_empty()
    })
    .await;
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "a clean exit: {status:?}");
    let d = the_delivery(&app).await;
    assert_eq!((d.status.as_str(), d.lease_until), ("pending", None));
    // The next worker takes it at once, not a lease later.
    receiver.set_behaviour(Behaviour::Status(200, vec![]));
    assert_eq!(app.deliver().await, 1);
    assert_eq!(the_delivery(&app).await.status, "sent");
}
