//! Subscribers get every update by email, over real SMTP, as one thread per
//! incident, in order, and nothing is lost while the SMTP server is down.
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use statuspost::entity::{delivery, incident, notification_event};

use crate::helpers::{spawn_app_with, texts, TestApp};
use crate::notify_support::{all_deliveries, email_subscriber, unconfirmed_subscriber, STEPPED};
use crate::smtp_server::{Received, SmtpServer};

async fn app_with_smtp(extra: &[(&str, &str)]) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    // The tests step the worker themselves: `app.deliver()`.
    let mut settings = vec![("SMTP_URL", url.as_str())];
    settings.extend_from_slice(&STEPPED);
    settings.extend_from_slice(extra);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    (app, smtp)
}

async fn events_of(app: &TestApp, incident_id: i32) -> Vec<notification_event::Model> {
    let mut v: Vec<_> = notification_event::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.incident_id == Some(incident_id))
        .collect();
    v.sort_by_key(|e| e.id);
    v
}

fn recipients(mails: &[Received]) -> Vec<String> {
    let mut r: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    r.sort();
    r
}

#[tokio::test]
async fn confirmed_subscribers_get_each_update_as_one_thread_with_unsubscribe_headers() {
    let (app, smtp) = app_with_smtp(&[]).await;
    let api = app.add_component("API").await;
    let web = app.add_component("Web").await;
    let all = email_subscriber(&app.db, "all@example.com", &[]).await;
    let api_only = email_subscriber(&app.db, "api@example.com", &[api]).await;
    email_subscriber(&app.db, "web@example.com", &[web]).await;
    unconfirmed_subscriber(&app.db, "unconfirmed@example.com").await;

    let field = format!("component_{api}");
    let id = app
        .publish(
            "Checkout errors",
            "investigating",
            "We are **looking** into it.",
            &[(field.as_str(), "major_outage")],
        )
        .await;
    assert_eq!(app.deliver().await, 2);
    let mails = smtp.wait_for(2).await;
    assert_eq!(
        recipients(&mails),
        vec!["all@example.com", "api@example.com"],
        "only confirmed subscribers to everything or to an affected component"
    );
    // Expansion is done: nobody else has a delivery waiting either.
    let event = events_of(&app, id).await.remove(0);
    let mut subs: Vec<i32> = all_deliveries(&app.db)
        .await
        .into_iter()
        .filter(|d| d.event_id == event.id)
        .map(|d| d.subscriber_id)
        .collect();
    subs.sort();
    assert_eq!(subs, vec![all.id, api_only.id]);

    let first_update = event.update_id.unwrap();
    let first_id = format!("<incident-{id}-update-{first_update}@127.0.0.1>");
    for m in &mails {
        let sub = if m.to[0] == all.email {
            &all
        } else {
            &api_only
        };
        let unsubscribe = format!("{}/unsubscribe/{}", app.address, sub.unsubscribe_token);
        assert_eq!(m.subject(), "[Acme Status] Investigating: Checkout errors");
        assert_eq!(m.header("Message-ID").as_deref(), Some(first_id.as_str()));
        assert_eq!(
            m.header("In-Reply-To"),
            None,
            "the first message starts the thread"
        );
        assert_eq!(
            m.header("List-Unsubscribe"),
            Some(format!("<{unsubscribe}>"))
        );
        assert_eq!(
            m.header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        let text = m.text();
        assert!(text.contains("We are **looking** into it."), "{text}");
        assert!(
            text.contains(&unsubscribe),
            "visible unsubscribe link: {text}"
        );
        assert!(text.contains("API: Major Outage"), "{text}");
        let html = m.html();
        assert!(html.contains("<strong>looking</strong>"), "{html}");
        assert!(html.contains(&format!("href=\"{unsubscribe}\"")), "{html}");
        assert!(
            html.contains(&format!("href=\"{}/incidents/{id}\"", app.address)),
            "{html}"
        );
    }

    let res = app
        .post_update(id, "identified", "Found it: a bad `<deploy>`.", &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.deliver().await, 2);
    let mails = smtp.wait_for(4).await;
    for m in &mails[2..] {
        assert_eq!(m.header("In-Reply-To").as_deref(), Some(first_id.as_str()));
        assert_eq!(m.header("References").as_deref(), Some(first_id.as_str()));
        assert_ne!(m.header("Message-ID").as_deref(), Some(first_id.as_str()));
        assert!(m.text().contains("Found it: a bad `<deploy>`."));
        assert!(
            m.html().contains("a bad <code>&lt;deploy&gt;</code>."),
            "{}",
            m.html()
        );
    }
    assert_eq!(
        recipients(&mails[2..]),
        vec!["all@example.com", "api@example.com"]
    );

    // An incident that names no component goes to every confirmed subscriber.
    app.publish("Slow pages", "investigating", "Looking.", &[])
        .await;
    assert_eq!(app.deliver().await, 3);
    let mails = smtp.wait_for(7).await;
    assert_eq!(
        recipients(&mails[4..]),
        vec!["all@example.com", "api@example.com", "web@example.com"]
    );
}

#[tokio::test]
async fn a_line_break_in_a_title_cannot_add_a_header() {
    let (app, smtp) = app_with_smtp(&[]).await;
    email_subscriber(&app.db, "reader@example.com", &[]).await;
    // The form refuses such a title, so it is planted in the database.
    let id = app
        .publish("Outage", "investigating", "Looking.", &[])
        .await;
    let mut m = incident::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    m.title = Set("Outage\r\nBcc: evil@example.com\r\n\r\nInjected body".into());
    m.update(&app.db).await.unwrap();
    app.deliver().await;

    let mails = smtp.wait_for(1).await;
    let m = &mails[0];
    assert_eq!(
        m.to,
        vec!["reader@example.com"],
        "no Bcc recipient was added"
    );
    assert!(
        !m.headers()
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("bcc")),
        "{}",
        m.data
    );
    let subject = m.subject();
    assert!(
        subject.starts_with("[Acme Status] Investigating: Outage"),
        "{subject}"
    );
    assert!(!subject.contains('\n') && !subject.contains('\r'));
    assert!(m.text().contains("Looking."));
}

#[tokio::test]
async fn mail_waits_out_an_smtp_outage_and_arrives_in_order() {
    let (app, smtp) = app_with_smtp(&[]).await;
    for i in 0..3 {
        email_subscriber(&app.db, &format!("s{i}@example.com"), &[]).await;
    }
    smtp.stop();
    let id = app.publish("Outage", "investigating", "One.", &[]).await;
    assert_eq!(
        app.post_update(id, "identified", "Two.", &[])
            .await
            .status(),
        303
    );
    assert_eq!(
        app.post_update(id, "monitoring", "Three.", &[])
            .await
            .status(),
        303
    );
    // Two passes: each subscriber's first update tried twice, and failed.
    assert_eq!(app.deliver_once().await, 3);
    assert_eq!(app.deliver_once().await, 3);
    let failing = all_deliveries(&app.db)
        .await
        .into_iter()
        .filter(|d| d.attempts == 2 && d.last_error.is_some() && d.status == "pending")
        .count();
    assert_eq!(
        failing, 3,
        "each subscriber's first update is being retried"
    );
    // Later updates wait behind the first, which is failing.
    let waiting: Vec<delivery::Model> = all_deliveries(&app.db).await;
    assert_eq!(waiting.len(), 9);
    assert!(waiting.iter().all(|d| d.status == "pending"));

    smtp.restart().await;
    assert_eq!(app.deliver().await, 9);
    let mails = smtp.wait_for(9).await;
    let events = events_of(&app, id).await;
    let ids: Vec<String> = events
        .iter()
        .map(|e| format!("<incident-{id}-update-{}@127.0.0.1>", e.update_id.unwrap()))
        .collect();
    for i in 0..3 {
        let to = format!("s{i}@example.com");
        let got: Vec<String> = mails
            .iter()
            .filter(|m| m.to[0] == to)
            .map(|m| m.header("Message-ID").unwrap())
            .collect();
        assert_eq!(got, ids, "{to} got each update once, in order");
    }
    assert!(all_deliveries(&app.db)
        .await
        .iter()
        .all(|d| d.status == "sent"));
}

#[tokio::test]
async fn staff_see_failures_and_retry_dead_deliveries() {
    let (app, smtp) = app_with_smtp(&[]).await;
    email_subscriber(&app.db, "ok@example.com", &[]).await;
    smtp.reject_recipients(Some("550 5.1.1 mailbox unavailable"));
    let id = app
        .publish("Outage", "investigating", "Looking.", &[])
        .await;
    // A 550 is permanent: one attempt, and the delivery is dead.
    assert_eq!(app.deliver().await, 1);
    assert_eq!(all_deliveries(&app.db).await[0].status, "dead");

    let page = format!("/admin/incidents/{id}");
    let html = app.get_html(&page).await;
    let cells = texts(&html, "table.deliveries tbody td");
    assert_eq!(
        cells,
        vec!["0", "0", "0", "1"],
        "sent, pending, failed, dead"
    );
    let errors = texts(&html, "table.delivery-failures td.last-error");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("550"), "{errors:?}");

    let action = format!("/admin/incidents/{id}/deliveries/retry");
    let forged = app
        .client
        .post(app.url(&action))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(all_deliveries(&app.db).await[0].status, "dead");

    smtp.reject_recipients(None);
    let res = app.post_form(&page, &action, &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.deliver().await, 1);
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["ok@example.com"]);
    assert_eq!(all_deliveries(&app.db).await[0].status, "sent");
    let html = app.get_html(&page).await;
    assert_eq!(
        texts(&html, "table.deliveries tbody td"),
        vec!["1", "0", "0", "0"]
    );
    assert!(!html.contains("Retry dead deliveries"));
}

#[tokio::test]
async fn an_unreadable_delivery_status_is_an_error_not_a_count() {
    use sea_orm::ConnectionTrait;
    let (app, smtp) = app_with_smtp(&[]).await;
    email_subscriber(&app.db, "ok@example.com", &[]).await;
    let id = app
        .publish("Outage", "investigating", "Looking.", &[])
        .await;
    assert_eq!(app.deliver().await, 1);
    smtp.wait_for(1).await;
    let page = format!("/admin/incidents/{id}");
    assert_eq!(
        texts(&app.get_html(&page).await, "table.deliveries tbody td"),
        vec!["1", "0", "0", "0"]
    );
    // A status this version cannot read: written by hand, or by a newer version.
    app.db
        .execute_unprepared("UPDATE deliveries SET status = 'lost'")
        .await
        .unwrap();
    let res = app.get(&page).await;
    assert_eq!(res.status(), 500, "never counted as pending");
}
