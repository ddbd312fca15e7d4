//! Setting up subscribers directly in the store, and waiting for the worker.
#![allow(dead_code)] // a harness: not every helper is used by every test
use std::future::Future;
use std::time::Duration;

use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use statuspost::entity::{delivery, subscriber, subscriber_component};

/// A secret every test webhook subscriber shares, so one receiver verifies them all.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Settings that make retries come within seconds instead of hours.
pub const FAST_RETRIES: (&str, &str) = ("STATUSPOST_RETRY_SCHEDULE", "200ms,500ms,1s,1s,2s");

/// Settings for a test that steps the worker itself (`TestApp::deliver`):
/// no worker of the app's own, and every retry due at once, five times, so
/// one pass (`deliver_once`) is one attempt of each due delivery.
pub const STEPPED: [(&str, &str); 2] = [
    ("STATUSPOST_RUN_WORKER", "false"),
    ("STATUSPOST_RETRY_SCHEDULE", "0s,0s,0s,0s,0s"),
];

/// How long `eventually` waits: generous, this is not a timing check.
pub const DEADLINE: Duration = Duration::from_secs(120);

async fn insert(
    db: &DatabaseConnection,
    kind: &str,
    email: &str,
    url: Option<&str>,
    components: &[i32],
    confirmed: bool,
) -> subscriber::Model {
    let now = statuspost::store::now();
    let s = subscriber::ActiveModel {
        kind: Set(kind.to_owned()),
        email: Set(email.to_owned()),
        webhook_url: Set(url.map(str::to_owned)),
        secret: Set(url.map(|_| SECRET.to_owned())),
        unsubscribe_token: Set(statuspost::secrets::random_token()),
        confirm_token_hash: Set(None),
        confirm_expires_at: Set(None),
        confirmed_at: Set(confirmed.then_some(now)),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("subscriber inserted");
    for c in components {
        subscriber_component::ActiveModel {
            subscriber_id: Set(s.id),
            component_id: Set(*c),
        }
        .insert(db)
        .await
        .expect("subscriber component inserted");
    }
    s
}

/// A confirmed email subscriber, to `components` (none: everything).
pub async fn email_subscriber(
    db: &DatabaseConnection,
    email: &str,
    components: &[i32],
) -> subscriber::Model {
    insert(db, "email", email, None, components, true).await
}

/// An email subscriber who never confirmed.
pub async fn unconfirmed_subscriber(db: &DatabaseConnection, email: &str) -> subscriber::Model {
    insert(db, "email", email, None, &[], false).await
}

/// A webhook subscriber signed with [`SECRET`], its contact `contact`.
pub async fn webhook_subscriber(
    db: &DatabaseConnection,
    url: &str,
    contact: &str,
    components: &[i32],
) -> subscriber::Model {
    insert(db, "webhook", contact, Some(url), components, true).await
}

pub async fn subscriber(db: &DatabaseConnection, id: i32) -> subscriber::Model {
    subscriber::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .expect("subscriber exists")
}

pub async fn all_deliveries(db: &DatabaseConnection) -> Vec<delivery::Model> {
    delivery::Entity::find().all(db).await.unwrap()
}

/// Polls `check` until it holds; panics with `what` after [`DEADLINE`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !check().await {
        if start.elapsed() > DEADLINE {
            panic!("{what}: not so within {DEADLINE:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
