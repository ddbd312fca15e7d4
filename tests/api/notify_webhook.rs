//! The worker's webhook deliveries: signed, carrying the unsubscribe link, and
//! endpoints that are gone or failing for days are disabled.
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};

use crate::helpers::{spawn_app_with, TestApp};
use crate::notify_support::{
    all_deliveries, eventually, subscriber, webhook_subscriber, FAST_RETRIES, SECRET, STEPPED,
};
use crate::smtp_server::SmtpServer;
use crate::webhook_receiver::{Behaviour, WebhookReceiver};

/// An app whose own worker delivers, as in production.
async fn app(smtp: &SmtpServer) -> TestApp {
    let app = spawn_app_with(&[
        ("SMTP_URL", &smtp.url()),
        ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
        FAST_RETRIES,
    ])
    .await;
    app.sign_in_admin().await;
    app
}

/// An app whose worker the test steps (`app.deliver()`).
async fn stepped_app(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    let mut settings = vec![
        ("SMTP_URL", url.as_str()),
        ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
    ];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    app
}

#[tokio::test]
async fn a_webhook_subscriber_gets_a_signed_update_with_its_unsubscribe_link() {
    let smtp = SmtpServer::start().await;
    let app = app(&smtp).await;
    let receiver = WebhookReceiver::start(SECRET).await;
    let hung = WebhookReceiver::start_with(SECRET, Behaviour::Hang).await;
    let sub = webhook_subscriber(&app.db, &receiver.url("/hook"), "ops@example.com", &[]).await;
    // A receiver that never answers does not hold the other up.
    webhook_subscriber(&app.db, &hung.url("/hook"), "slow@example.com", &[]).await;

    let id = app
        .publish("Checkout errors", "investigating", "Looking.", &[])
        .await;
    eventually("the webhook arrived", || async {
        !receiver.received().is_empty()
    })
    .await;
    let r = &receiver.received()[0];
    assert_eq!(r.verified, Ok(()));
    let body = r.json();
    assert_eq!(
        body["meta"]["unsubscribe"],
        format!("{}/unsubscribe/{}", app.address, sub.unsubscribe_token)
    );
    assert_eq!(body["page"]["id"], app.state.page.id.as_str());
    assert_eq!(body["incident"]["id"], id.to_string());
    assert_eq!(body["incident"]["name"], "Checkout errors");
    assert_eq!(body["incident"]["incident_updates"][0]["body"], "Looking.");
    let event = all_deliveries(&app.db).await[0].event_id;
    assert_eq!(
        r.header("webhook-id"),
        format!("msg_{}_{event}", app.state.page.id)
    );
    let mine = all_deliveries(&app.db)
        .await
        .into_iter()
        .find(|d| d.subscriber_id == sub.id)
        .unwrap();
    eventually("the delivery is marked sent", || {
        let db = app.db.clone();
        async move {
            all_deliveries(&db)
                .await
                .iter()
                .any(|d| d.id == mine.id && d.status == "sent")
        }
    })
    .await;
}

#[tokio::test]
async fn an_endpoint_answering_410_is_disabled_at_once() {
    let smtp = SmtpServer::start().await;
    let app = stepped_app(&smtp).await;
    let receiver = WebhookReceiver::start_with(SECRET, Behaviour::Status(410, vec![])).await;
    let sub = webhook_subscriber(&app.db, &receiver.url("/gone"), "ops@example.com", &[]).await;
    app.publish("Outage", "investigating", "Looking.", &[])
        .await;
    assert_eq!(app.deliver().await, 1, "no retry after 410");
    let s = subscriber(&app.db, sub.id).await;
    assert!(s.disabled_reason.unwrap().contains("410"));
    let d = &all_deliveries(&app.db).await[0];
    assert_eq!(d.status, "dead");
    assert_eq!(receiver.received().len(), 1, "no retry after 410");

    // Later updates are not even queued for it.
    app.publish("Another", "investigating", "Looking.", &[])
        .await;
    app.publish("Third", "investigating", "Looking.", &[]).await;
    assert_eq!(app.deliver().await, 0);
    use sea_orm::EntityTrait;
    let events = statuspost::entity::notification_event::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(events.iter().all(|e| e.expanded_at.is_some()));
    assert_eq!(all_deliveries(&app.db).await.len(), 1);
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_disabled_and_its_contact_told() {
    let smtp = SmtpServer::start().await;
    let app = stepped_app(&smtp).await;
    let receiver = WebhookReceiver::start_with(SECRET, Behaviour::Status(500, vec![])).await;
    let sub = webhook_subscriber(&app.db, &receiver.url("/down"), "ops@example.com", &[]).await;
    // Failing since five days ago: the next failure ends it.
    let mut m = sub.clone().into_active_model();
    m.failing_since = Set(Some(
        statuspost::store::now() - chrono::Duration::days(5) - chrono::Duration::minutes(1),
    ));
    m.update(&app.db).await.unwrap();

    app.publish("Outage", "investigating", "Looking.", &[])
        .await;
    app.deliver().await;
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["ops@example.com"]);
    assert_eq!(
        mails[0].subject(),
        "[Acme Status] Your webhook was disabled"
    );
    assert!(mails[0].text().contains(&receiver.url("/down")));
    assert!(mails[0].text().contains("500"), "{}", mails[0].text());
    let id = mails[0].header("Message-ID").unwrap_or_default();
    assert!(
        id.starts_with(&format!("<webhook-{}-disabled-", sub.id)) && id.ends_with("@127.0.0.1>"),
        "a Message-ID on the base URL's host: {id:?}"
    );
    let s = subscriber(&app.db, sub.id).await;
    assert!(s.disabled_at.is_some());
    assert!(all_deliveries(&app.db)
        .await
        .iter()
        .all(|d| d.status == "dead"));
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_until_it_answers_and_its_failures_forgotten() {
    let smtp = SmtpServer::start().await;
    let app = stepped_app(&smtp).await;
    let receiver = WebhookReceiver::start_with(SECRET, Behaviour::Status(503, vec![])).await;
    let sub = webhook_subscriber(&app.db, &receiver.url("/flaky"), "ops@example.com", &[]).await;
    app.publish("Outage", "investigating", "Looking.", &[])
        .await;
    assert_eq!(app.deliver_once().await, 1);
    assert_eq!(app.deliver_once().await, 1);
    assert_eq!(receiver.received().len(), 2, "two attempts failed");
    assert!(subscriber(&app.db, sub.id).await.failing_since.is_some());
    receiver.set_behaviour(Behaviour::Status(200, vec![]));
    assert_eq!(app.deliver().await, 1);
    assert_eq!(all_deliveries(&app.db).await[0].status, "sent");
    let ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "one id on every retry: {ids:?}"
    );
    let s = subscriber(&app.db, sub.id).await;
    assert!(s.failing_since.is_none() && s.disabled_at.is_none());
}

#[tokio::test]
async fn retried_updates_reach_a_receiver_in_the_order_they_were_posted() {
    let smtp = SmtpServer::start().await;
    let app = stepped_app(&smtp).await;
    let receiver = WebhookReceiver::start_with(SECRET, Behaviour::Status(500, vec![])).await;
    webhook_subscriber(&app.db, &receiver.url("/hook"), "ops@example.com", &[]).await;
    let id = app
        .publish("Outage", "investigating", "Looking.", &[])
        .await;
    // Every attempt fails until the schedule is spent: the first update is dead.
    app.deliver().await;
    assert_eq!(all_deliveries(&app.db).await[0].status, "dead");
    // The receiver is back; later updates reach it, the first one does not.
    receiver.set_behaviour(Behaviour::Status(200, vec![]));
    for (status, body) in [("identified", "Found it."), ("resolved", "Fixed.")] {
        assert_eq!(app.post_update(id, status, body, &[]).await.status(), 303);
        app.deliver().await;
    }
    let before = receiver.received().len();

    let page = format!("/admin/incidents/{id}");
    let res = app
        .post_form(
            &page,
            &format!("/admin/incidents/{id}/deliveries/retry"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.deliver().await;
    let told: Vec<String> = receiver.received()[before..]
        .iter()
        .map(|r| {
            r.json()["incident"]["incident_updates"][0]["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        told,
        ["investigating", "identified", "resolved"],
        "the retried update, then again what came after it: the last word is the latest"
    );
    assert!(all_deliveries(&app.db)
        .await
        .iter()
        .all(|d| d.status == "sent"));
}
