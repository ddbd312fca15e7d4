//! Safe sending when tired: an update is on the page at once, its
//! notifications wait out the send delay, and meanwhile staff may change its
//! text (subscribers get the new text) or hold them. The worker's pass is
//! run at chosen instants, not waited for.
use chrono::{DateTime, Duration, Utc};

use crate::helpers::{spawn_app_with, texts, TestApp};
use crate::notify_support::{email_subscriber, STEPPED};
use crate::smtp_server::SmtpServer;
use statuspost::store;

const DELAY: i64 = 60;

async fn app_with_delay(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    let mut settings = vec![
        ("SMTP_URL", url.as_str()),
        ("STATUSPOST_SEND_DELAY_SECONDS", "60"),
    ];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    email_subscriber(&app.db, "seller@example.com", &[]).await;
    app
}

/// The worker's pass as it would run at `at`: what is due then is expanded
/// and sent. Returns the deliveries attempted.
async fn worker_at(app: &TestApp, at: DateTime<Utc>) -> usize {
    store::deliveries::expand_pending(&app.db, 20, at, Duration::seconds(DELAY))
        .await
        .unwrap();
    app.deliver().await
}

async fn update_ids(app: &TestApp, incident: i32) -> Vec<i32> {
    store::incidents::load(&app.db, incident)
        .await
        .unwrap()
        .unwrap()
        .updates
        .iter()
        .map(|u| u.model.id)
        .collect()
}

#[tokio::test]
async fn an_update_waits_out_the_delay_and_goes_as_corrected_in_it() {
    let smtp = SmtpServer::start().await;
    let app = app_with_delay(&smtp).await;
    let posted = Utc::now();
    let id = app
        .publish("Checkout errors", "investigating", "Chekout fails.", &[])
        .await;
    let first = update_ids(&app, id).await[0];
    // On the page at once; told to no one yet.
    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(texts(&page, ".body"), ["Chekout fails."]);
    let admin = format!("/admin/incidents/{id}");
    let html = app.get_html(&admin).await;
    let waiting = texts(&html, ".unsent-update p");
    assert_eq!(waiting.len(), 1, "{html}");
    assert!(
        waiting[0].contains("subscribers are notified at"),
        "{waiting:?}"
    );
    assert_eq!(app.deliver().await, 0);
    assert_eq!(worker_at(&app, posted + Duration::seconds(30)).await, 0);

    // A second look: the text is changed before it goes.
    let uid = first.to_string();
    let res = app
        .post_form(
            &admin,
            &format!("/admin/incidents/{id}/updates/{first}/edit"),
            &[
                ("edited_update", uid.as_str()),
                ("edited_message", "Checkout fails for card payments."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(texts(&page, ".body"), ["Checkout fails for card payments."]);

    // After the delay it goes, as it reads now.
    assert_eq!(
        worker_at(&app, posted + Duration::seconds(DELAY + 2)).await,
        1
    );
    let mail = &smtp.wait_for(1).await[0];
    assert!(
        mail.text().contains("Checkout fails for card payments."),
        "{}",
        mail.text()
    );
    assert!(!mail.text().contains("Chekout"), "{}", mail.text());

    // Once sent it can no longer change: the form says so and keeps the text.
    let res = app
        .post_form(
            &admin,
            &format!("/admin/incidents/{id}/updates/{first}/edit"),
            &[
                ("edited_update", uid.as_str()),
                ("edited_message", "Checkout fails for all payments."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("have gone out already"), "{html}");
    assert!(html.contains("Checkout fails for all payments."), "{html}");
    assert!(texts(&app.get_html(&admin).await, ".unsent-update").is_empty());
}

#[tokio::test]
async fn held_notifications_never_go_and_later_ones_do_not_wait_behind_them() {
    let smtp = SmtpServer::start().await;
    let app = app_with_delay(&smtp).await;
    let posted = Utc::now();
    let id = app
        .publish(
            "Checkout errors",
            "investigating",
            "Wrong incident, sorry.",
            &[],
        )
        .await;
    let first = update_ids(&app, id).await[0];
    let admin = format!("/admin/incidents/{id}");
    let res = app
        .post_form(
            &admin,
            &format!("/admin/incidents/{id}/updates/{first}/hold"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_update(
            id,
            "identified",
            "Card payments fail; a fix is coming.",
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        worker_at(&app, posted + Duration::seconds(DELAY + 5)).await,
        1
    );
    let mails = smtp.wait_for(1).await;
    assert!(
        mails[0].text().contains("Card payments fail"),
        "{}",
        mails[0].text()
    );
    assert!(
        !mails[0].text().contains("Wrong incident"),
        "{}",
        mails[0].text()
    );
    assert_eq!(worker_at(&app, posted + Duration::hours(1)).await, 0);
    assert_eq!(smtp.count(), 1);
    // The held update stays on the page; holding what was sent is refused.
    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(texts(&page, ".body").len(), 2);
    let second = update_ids(&app, id).await[1];
    let res = app
        .post_form(
            &admin,
            &format!("/admin/incidents/{id}/updates/{second}/hold"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 400);
}
