//! "Next update by 3:30 PM": an update promises the next one; readers see the
//! promise on the page, in the email and in the APIs; once it passes with no
//! update the page says it was due and staff are reminded, once, however many
//! workers look. An incident silent too long reminds staff without a promise.
//! Time moves by calling the worker's reminder step, and the page's render,
//! with the instant to act at, not by waiting.
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::json;

use crate::api_v1::{api_token, call};
use crate::api_v2::assert_shape;
use crate::helpers::{spawn_app_beside, spawn_app_with, texts, TestApp, ADMIN_EMAIL};
use crate::notify_support::{email_subscriber, STEPPED};
use crate::smtp_server::SmtpServer;
use statuspost::notify::worker::remind_staff;

async fn app_with_mail(smtp: &SmtpServer, extra: &[(&str, &str)]) -> (TestApp, String) {
    let url = smtp.url();
    let mut settings = vec![("SMTP_URL", url.as_str())];
    settings.extend_from_slice(&STEPPED);
    settings.extend_from_slice(extra);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    let token = api_token(&app, "write").await;
    (app, token)
}

fn parse(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
}

/// The incident page as a reader would get it at `at`.
async fn page_at(app: &TestApp, id: i32, at: DateTime<Utc>) -> (String, Option<DateTime<Utc>>) {
    let zone = app.state.page.zone();
    let r = statuspost::web::public::incident_page(
        &app.state,
        &app.db,
        zone,
        id,
        at,
        &app.state.links(),
    )
    .await
    .unwrap();
    (r.body, r.changes_at)
}

#[tokio::test]
async fn a_promise_is_shown_turns_due_and_reminds_the_author_once_across_two_workers() {
    let smtp = SmtpServer::start().await;
    let (app, token) = app_with_mail(&smtp, &[]).await;
    email_subscriber(&app.db, "seller@example.com", &[]).await;
    let (status, inc) = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(json!({
            "name": "Live Site Issue: File Names",
            "message": "Downloads serve the wrong file; we are on it.",
            "status": "identified",
            "next_update_in_minutes": 30,
        })),
    )
    .await;
    assert_eq!(status, 201, "{inc:#}");
    let id: i32 = inc["id"].as_str().unwrap().parse().unwrap();
    let by = parse(inc["next_update_by"].as_str().expect("promised"));
    assert_eq!(
        inc["incident_updates"][0]["next_update_by"],
        inc["next_update_by"]
    );
    let posted = parse(inc["created_at"].as_str().unwrap());
    assert!((by - posted - Duration::minutes(30)).num_seconds().abs() <= 2);

    // Readers: on the page (and its cache lasts no longer than the promise),
    // in the v2 API, which keeps Statuspage's shape.
    let (page, changes_at) = page_at(&app, id, posted).await;
    let promise = texts(&page, ".promise");
    assert_eq!(promise.len(), 1, "{promise:?}");
    assert!(promise[0].starts_with("Next update by "), "{promise:?}");
    // Unless the reader's day ends first: the page turns then too.
    let day_ends =
        statuspost::render::time::Today::new(posted, app.state.page.zone().tz()).ends_at();
    assert_eq!(changes_at, Some(by.min(day_ends)));
    let front = app.get_html("/").await;
    assert_eq!(texts(&front, ".in-progress .promise"), promise);
    let v2: serde_json::Value = app
        .get("/api/v2/incidents.json")
        .await
        .json()
        .await
        .unwrap();
    assert_shape("incidents_document", &v2);
    assert_eq!(v2["incidents"][0]["next_update_by"], inc["next_update_by"]);

    // The email says it too.
    app.deliver().await;
    let mails = smtp.wait_for(1).await;
    assert!(
        mails[0].text().contains("Next update by "),
        "{}",
        mails[0].text()
    );

    // Before the time: nothing owed. After: the page says it was due, and one
    // reminder goes to the author, however many workers look at once.
    let ctx = app.state.worker();
    assert_eq!(remind_staff(&ctx, by - Duration::minutes(1)).await, 0);
    let (page, _) = page_at(&app, id, by + Duration::minutes(1)).await;
    let due = texts(&page, ".promise.overdue");
    assert_eq!(due.len(), 1, "{page}");
    assert!(due[0].starts_with("Next update was due at "), "{due:?}");
    let url = smtp.url();
    let mut settings = vec![("SMTP_URL", url.as_str())];
    settings.extend_from_slice(&STEPPED);
    let beside = spawn_app_beside(&app, &settings).await;
    let other = beside.state.worker();
    let later = by + Duration::minutes(1);
    let (a, b) = tokio::join!(remind_staff(&ctx, later), remind_staff(&other, later));
    assert_eq!(a + b, 1, "one reminder between two workers");
    assert_eq!(remind_staff(&ctx, later + Duration::minutes(5)).await, 0);
    assert_eq!(remind_staff(&other, later + Duration::hours(3)).await, 0);
    let mails = smtp.wait_for(2).await;
    let reminder = &mails[1];
    assert_eq!(reminder.to, [ADMIN_EMAIL]);
    assert!(
        reminder.subject().contains("Update overdue"),
        "{}",
        reminder.subject()
    );
    assert!(
        reminder.text().contains(&format!("/admin/incidents/{id}")),
        "{}",
        reminder.text()
    );

    // The admin's banner names it until someone posts; then it is answered.
    let admin = app.get_html("/admin").await;
    let owed = texts(&admin, ".owed li");
    assert_eq!(owed.len(), 1, "{admin}");
    assert!(owed[0].contains("Live Site Issue"), "{owed:?}");
    let res = app
        .post_update(
            id,
            "monitoring",
            "A fix is out; we are watching.",
            &[("next_update", "60")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(texts(&app.get_html("/admin").await, ".owed li").is_empty());
    let (page, _) = page_at(&app, id, later).await;
    let promise = texts(&page, ".promise");
    assert!(promise[0].starts_with("Next update by "), "{promise:?}");
    // The answered promise stays on the record under the update that made it:
    // the staff answered within the 30 minutes, so it was kept.
    let kept = texts(&page, ".update.first .promised");
    assert_eq!(kept.len(), 1, "{page}");
    assert!(
        kept[0].starts_with("Next update promised by ") && kept[0].ends_with(": kept"),
        "{kept:?}"
    );
    assert!(texts(&page, ".update:not(.first) .promised").is_empty());
    assert_eq!(smtp.count(), 2, "answering sends no reminder");
}

#[tokio::test]
async fn an_incident_silent_too_long_reminds_staff_and_a_resolved_one_never() {
    let smtp = SmtpServer::start().await;
    let (app, _) = app_with_mail(&smtp, &[("STATUSPOST_REMIND_SILENT_AFTER_MINUTES", "45")]).await;
    let id = app
        .publish("Checkout errors", "investigating", "Looking into it.", &[])
        .await;
    let ctx = app.state.worker();
    let now = Utc::now();
    assert_eq!(remind_staff(&ctx, now + Duration::minutes(44)).await, 0);
    assert_eq!(remind_staff(&ctx, now + Duration::minutes(46)).await, 1);
    assert_eq!(remind_staff(&ctx, now + Duration::minutes(90)).await, 0);
    let mails = smtp.wait_for(1).await;
    assert!(
        mails[0].subject().contains("No update lately"),
        "{}",
        mails[0].subject()
    );
    // No promise was made: the page promises nothing.
    let (page, _) = page_at(&app, id, now + Duration::minutes(46)).await;
    assert!(texts(&page, ".promise").is_empty());

    let res = app.post_update(id, "resolved", "Fixed.", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(remind_staff(&ctx, now + Duration::days(2)).await, 0);
    assert!(texts(&app.get_html("/admin").await, ".owed li").is_empty());
}

#[tokio::test]
async fn a_promise_must_be_for_a_time_to_come_and_a_refused_form_keeps_the_text() {
    let smtp = SmtpServer::start().await;
    let (app, token) = app_with_mail(&smtp, &[]).await;
    for (body, field) in [
        (
            json!({ "next_update_by": "2008-02-28T12:38:00-05:00" }),
            "next_update_by",
        ),
        (
            json!({ "next_update_in_minutes": 0 }),
            "next_update_in_minutes",
        ),
        (
            json!({ "next_update_in_minutes": 20000 }),
            "next_update_in_minutes",
        ),
        (
            json!({ "next_update_in_minutes": 30, "next_update_by": "2999-01-01T00:00:00Z" }),
            "next_update_in_minutes",
        ),
    ] {
        let mut b = json!({ "name": "Slow pages", "message": "Looking." });
        b.as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let (status, err) = call(
            &app,
            Method::POST,
            "/api/v1/incidents",
            Some(&token),
            Some(b),
        )
        .await;
        assert_eq!(status, 422, "{err:#}");
        assert_eq!(err["error"]["field"], field, "{err:#}");
    }
    let res = app
        .submit_new_incident(
            "Slow pages",
            "Pages take **seconds** to load.",
            &[
                ("action", "publish"),
                ("next_update", "at"),
                ("next_update_at", "2008-02-28T15:30"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(
        texts(&html, "#message"),
        ["Pages take **seconds** to load."]
    );
    assert!(
        !texts(
            &html,
            "#next_update_at + .field-error, .promise-fields .field-error"
        )
        .is_empty(),
        "{html}"
    );
}
