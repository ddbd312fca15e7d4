//! Coalescing email: with STATUSPOST_EMAIL_COALESCE_MINUTES a subscriber gets
//! at most one email per incident per window; updates that come faster wait
//! and go together, in order, in the next one. Webhooks still get each. The
//! worker's pass is run at chosen instants, not waited for.
use chrono::{DateTime, Duration, Utc};

use crate::helpers::{spawn_app_with, TestApp};
use crate::notify_support::{
    all_deliveries, email_subscriber, webhook_subscriber, SECRET, STEPPED,
};
use crate::smtp_server::SmtpServer;
use crate::webhook_receiver::WebhookReceiver;

/// Every pass the worker would make at `at`, until nothing is left to do then.
async fn deliver_at(app: &TestApp, at: DateTime<Utc>) -> usize {
    let ctx = app.state.worker();
    let mut attempts = 0;
    loop {
        match statuspost::notify::worker::run_once_at(&ctx, at)
            .await
            .unwrap()
        {
            0 => return attempts,
            n => attempts += n,
        }
    }
}

#[tokio::test]
async fn updates_inside_the_window_go_in_one_email_in_order_and_webhooks_get_each() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let mut settings = vec![
        ("SMTP_URL", url.as_str()),
        ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("STATUSPOST_EMAIL_COALESCE_MINUTES", "10"),
    ];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    email_subscriber(&app.db, "seller@example.com", &[]).await;
    let receiver = WebhookReceiver::start(SECRET).await;
    webhook_subscriber(&app.db, &receiver.url("/hook"), "ops@example.com", &[]).await;

    let id = app
        .publish(
            "Checkout errors",
            "investigating",
            "First: checkout fails.",
            &[],
        )
        .await;
    let start = Utc::now();
    deliver_at(&app, start).await;
    assert_eq!(smtp.wait_for(1).await.len(), 1);
    for (status, text) in [
        ("identified", "Second: a bad deploy."),
        ("monitoring", "Third: rolled back."),
        ("resolved", "Fourth: fixed."),
    ] {
        assert_eq!(app.post_update(id, status, text, &[]).await.status(), 303);
    }
    // Inside the window: the webhook hears of each at once, the email waits.
    deliver_at(&app, start + Duration::minutes(1)).await;
    assert_eq!(receiver.received().len(), 4, "webhooks are never coalesced");
    assert_eq!(smtp.count(), 1);
    deliver_at(&app, start + Duration::minutes(9)).await;
    assert_eq!(smtp.count(), 1, "still inside the window");

    // After it: one email, every update since the last, in the order posted.
    deliver_at(&app, start + Duration::minutes(11)).await;
    let mails = smtp.wait_for(2).await;
    let text = mails[1].text();
    assert!(text.contains("3 updates since our last email"), "{text}");
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s:?} in {text}"));
    assert!(at("Second: a bad deploy.") < at("Third: rolled back."));
    assert!(at("Third: rolled back.") < at("Fourth: fixed."));
    assert!(
        mails[1].subject().contains("Resolved"),
        "{}",
        mails[1].subject()
    );
    deliver_at(&app, start + Duration::hours(1)).await;
    assert_eq!(smtp.count(), 2, "the updates it carried are not sent again");
    let pending: Vec<_> = all_deliveries(&app.db)
        .await
        .into_iter()
        .filter(|d| d.status != "sent")
        .collect();
    assert!(pending.is_empty(), "{pending:?}");
}

#[tokio::test]
async fn without_the_setting_each_update_is_its_own_email() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let mut settings = vec![("SMTP_URL", url.as_str())];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    email_subscriber(&app.db, "seller@example.com", &[]).await;
    let id = app
        .publish("Checkout errors", "investigating", "First.", &[])
        .await;
    assert_eq!(
        app.post_update(id, "identified", "Second.", &[])
            .await
            .status(),
        303
    );
    deliver_at(&app, Utc::now()).await;
    assert_eq!(smtp.wait_for(2).await.len(), 2);
}
