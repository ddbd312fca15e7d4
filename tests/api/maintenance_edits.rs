//! Editing and cancelling a scheduled maintenance, through the write API and
//! from its admin page: the worker follows the new plan (a reminder sent for
//! the old start is sent again for a later one), the calendar replaces the
//! event, and what cannot change (a started window's start, anything of a
//! finished one, an incident's "window") is refused with the field at fault.
//! Time is moved by calling the worker's step at chosen instants.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::api_v1::{admin_with_token, call};
use crate::helpers::{attr, texts, TestApp};
use crate::maintenance::{iso, schedule, v2};
use statuspost::store::maintenance::{run_due, Done};

/// The fields of the calendar's event for maintenance `id`, lines unfolded.
async fn calendar_event(app: &TestApp, id: &str) -> HashMap<String, String> {
    let ics = app.get("/maintenance.ics").await.text().await.unwrap();
    let unfolded = ics.replace("\r\n ", "");
    let uid = format!("UID:maintenance-{id}@");
    let event = unfolded
        .split("BEGIN:VEVENT")
        .find(|e| e.contains(&uid))
        .unwrap_or_else(|| panic!("no event for {id} in {ics}"));
    event
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

fn ics_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    let (status, v) = call(
        app,
        Method::PATCH,
        &format!("/api/v1/incidents/{id}"),
        Some(token),
        Some(body),
    )
    .await;
    (status.as_u16(), v)
}

#[tokio::test]
async fn a_window_moved_through_the_api_reminds_again_and_the_calendar_follows() {
    let (app, token) = admin_with_token("write").await;
    let db = app.add_component("Database").await;
    let now = Utc::now();
    let id = schedule(&app, &token, db, now).await;
    let id_n: i32 = id.parse().unwrap();
    assert_eq!(calendar_event(&app, &id).await["SEQUENCE"], "0");
    assert_eq!(
        run_due(&app.db, now + Duration::minutes(61))
            .await
            .unwrap()
            .reminded,
        [id_n]
    );

    // An hour later than planned: the reminder sent for 2 hours from now
    // told a time that no longer holds.
    let (from, until) = (now + Duration::hours(3), now + Duration::hours(5));
    let (status, m) = patch(
        &app,
        &token,
        &id,
        json!({
            "name": "Database upgrade (moved)",
            "scheduled_for": iso(from),
            "scheduled_until": iso(until),
        }),
    )
    .await;
    assert_eq!(status, 200, "{m:#}");
    assert_eq!(m["name"], "Database upgrade (moved)");
    assert_eq!(m["status"], "scheduled");
    assert_eq!(
        m["incident_updates"].as_array().unwrap().len(),
        1,
        "an edit posts no update"
    );
    let event = calendar_event(&app, &id).await;
    assert_eq!(event["DTSTART"], ics_time(from));
    assert_eq!(event["DTEND"], ics_time(until));
    assert_eq!(event["SUMMARY"], "Database upgrade (moved)");
    assert_eq!(event["SEQUENCE"], "1");
    assert_eq!(event["STATUS"], "CONFIRMED");
    // The same request again changes nothing, so calendars see nothing new.
    let (status, _) = patch(
        &app,
        &token,
        &id,
        json!({ "scheduled_for": iso(from), "scheduled_until": iso(until) }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(calendar_event(&app, &id).await["SEQUENCE"], "1");

    let nothing = Done::default();
    assert_eq!(
        run_due(&app.db, now + Duration::minutes(62)).await.unwrap(),
        nothing,
        "not yet: an hour before the new start"
    );
    let at_old_start = run_due(&app.db, now + Duration::hours(2)).await.unwrap();
    assert_eq!(
        at_old_start,
        Done {
            reminded: vec![id_n],
            ..Done::default()
        },
        "reminded for the new start, and not started at the old one"
    );
    assert_eq!(
        run_due(&app.db, now + Duration::hours(2) + Duration::minutes(1))
            .await
            .unwrap(),
        nothing
    );
    assert_eq!(
        run_due(&app.db, from).await.unwrap().started,
        [id_n],
        "starts at the new start"
    );

    // Started: its start is what happened, its end may still move.
    let (status, e) = patch(
        &app,
        &token,
        &id,
        json!({ "scheduled_for": iso(from + Duration::minutes(30)) }),
    )
    .await;
    assert_eq!(status, 422, "{e:#}");
    assert_eq!(e["error"]["field"], "scheduled_for");
    assert_eq!(
        e["error"]["message"],
        "The maintenance has started: its start can no longer change."
    );
    let later = until + Duration::hours(1);
    let (status, m) = patch(
        &app,
        &token,
        &id,
        json!({ "scheduled_for": iso(from), "scheduled_until": iso(later) }),
    )
    .await;
    assert_eq!(status, 200, "{m:#}");
    assert_eq!(m["status"], "in_progress");
    assert_eq!(
        run_due(&app.db, until).await.unwrap(),
        nothing,
        "not completed at the old end"
    );
    assert_eq!(run_due(&app.db, later).await.unwrap().completed, [id_n]);

    // Over: nothing of it changes any more.
    let (status, e) = patch(&app, &token, &id, json!({ "name": "Again" })).await;
    assert_eq!(status, 422, "{e:#}");
    assert_eq!(e["error"]["field"], "status");
}

#[tokio::test]
async fn a_start_pulled_in_after_the_reminder_went_out_reminds_at_once() {
    let (app, token) = admin_with_token("write").await;
    let db = app.add_component("Database").await;
    let now = Utc::now();
    let id = schedule(&app, &token, db, now).await;
    let id_n: i32 = id.parse().unwrap();
    let sent = now + Duration::minutes(61);
    assert_eq!(run_due(&app.db, sent).await.unwrap().reminded, [id_n]);
    // Earlier, but still after the reminder went out: the new time is told
    // on the next pass, within its own reminder hour.
    let (status, m) = patch(
        &app,
        &token,
        &id,
        json!({ "scheduled_for": iso(now + Duration::minutes(90)) }),
    )
    .await;
    assert_eq!(status, 200, "{m:#}");
    assert_eq!(
        run_due(&app.db, sent + Duration::minutes(1))
            .await
            .unwrap()
            .reminded,
        [id_n]
    );
    // A reminder set or changed without moving the start sends none again.
    let (status, m) = patch(&app, &token, &id, json!({ "scheduled_remind_minutes": 80 })).await;
    assert_eq!(status, 200, "{m:#}");
    assert_eq!(
        run_due(&app.db, sent + Duration::minutes(2)).await.unwrap(),
        Done::default()
    );
}

#[tokio::test]
async fn a_patch_that_does_not_fit_is_refused_with_its_field_and_changes_nothing() {
    let (app, token) = admin_with_token("write").await;
    let db = app.add_component("Database").await;
    let now = Utc::now();
    let id = schedule(&app, &token, db, now).await;
    let before = call(
        &app,
        Method::GET,
        &format!("/api/v1/incidents/{id}"),
        Some(&token),
        None,
    )
    .await
    .1;
    for (body, field) in [
        (
            json!({ "scheduled_until": iso(now + Duration::hours(1)) }),
            "scheduled_until",
        ),
        (
            json!({ "scheduled_until": iso(now + Duration::days(40)) }),
            "scheduled_until",
        ),
        (json!({ "scheduled_for": "tomorrow" }), "scheduled_for"),
        (
            json!({ "scheduled_remind_minutes": 0 }),
            "scheduled_remind_minutes",
        ),
        (json!({ "name": "" }), "name"),
        (json!({ "name": "x", "status": "completed" }), "status"),
    ] {
        let (status, e) = patch(&app, &token, &id, body.clone()).await;
        assert_eq!(status, 422, "{body}: {e:#}");
        assert_eq!(e["error"]["field"], field, "{body}: {e:#}");
    }
    let after = call(
        &app,
        Method::GET,
        &format!("/api/v1/incidents/{id}"),
        Some(&token),
        None,
    )
    .await
    .1;
    assert_eq!(before, after, "nothing was changed by the refusals");

    // An incident has no window to edit.
    let (status, incident) = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(json!({ "name": "Outage", "message": "Looking into it." })),
    )
    .await;
    assert_eq!(status, 201);
    let incident_id = incident["id"].as_str().unwrap();
    let (status, e) = patch(&app, &token, incident_id, json!({ "name": "Renamed" })).await;
    assert_eq!(status, 422, "{e:#}");
    assert_eq!(e["error"]["field"], "name");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Only a scheduled maintenance"),
        "{e:#}"
    );
    let (status, e) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{incident_id}/cancel"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 422, "{e:#}");
    assert_eq!(e["error"]["field"], "status");
    let (status, _) = patch(&app, &token, "999999", json!({ "name": "x" })).await;
    assert_eq!(status, 404);

    // Turning the reminder off: none is ever sent.
    let (status, m) = patch(
        &app,
        &token,
        &id,
        json!({ "scheduled_remind_prior": false }),
    )
    .await;
    assert_eq!(status, 200, "{m:#}");
    assert_eq!(m["scheduled_remind_prior"], false);
    assert!(run_due(&app.db, now + Duration::minutes(90))
        .await
        .unwrap()
        .reminded
        .is_empty());
}

#[tokio::test]
async fn a_read_token_neither_edits_nor_cancels() {
    let (app, write) = admin_with_token("write").await;
    let read = crate::api_v1::api_token(&app, "read").await;
    let id = schedule(&app, &write, app.add_component("Web").await, Utc::now()).await;
    let (status, _) = patch(&app, &read, &id, json!({ "name": "x" })).await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/cancel"),
        Some(&read),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/cancel"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn cancelling_through_the_api_posts_the_final_update_once() {
    let (app, token) = admin_with_token("write").await;
    let db = app.add_component("Database").await;
    let now = Utc::now();
    let id = schedule(&app, &token, db, now).await;
    // The page is read once, so that its cached copy would show the window.
    let page = app.get_html("/").await;
    assert_eq!(texts(&page, ".maintenance h3"), ["Database upgrade"]);

    let cancel = || async {
        let res = app
            .client
            .post(app.url(&format!("/api/v1/incidents/{id}/cancel")))
            .bearer_auth(&token)
            .header("Idempotency-Key", "cancel-1")
            .json(&json!({ "notify": false }))
            .send()
            .await
            .unwrap();
        let replayed = res.headers().contains_key("Idempotent-Replayed");
        (
            res.status().as_u16(),
            replayed,
            res.json::<Value>().await.unwrap(),
        )
    };
    let (status, replayed, m) = cancel().await;
    assert_eq!(status, 200, "{m:#}");
    assert!(!replayed);
    assert_eq!(m["status"], "completed");
    let updates = m["incident_updates"].as_array().unwrap();
    assert_eq!(updates.len(), 2);
    assert_eq!(
        updates[0]["body"],
        "This scheduled maintenance has been cancelled."
    );
    assert_eq!(updates[0]["deliver_notifications"], false);
    // A retry with the key gets the first answer; nothing is posted twice.
    let (status, replayed, again) = cancel().await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again, m);
    let (status, e) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/cancel"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 422, "{e:#}");
    assert_eq!(e["error"]["message"], "This maintenance is already over.");

    // Gone from the page at once, cancelled in the calendar, never started.
    let page = app.get_html("/").await;
    assert!(texts(&page, ".maintenance h3").is_empty(), "{page}");
    let event = calendar_event(&app, &id).await;
    assert_eq!(event["STATUS"], "CANCELLED");
    assert_eq!(event["SEQUENCE"], "1");
    assert_eq!(
        run_due(&app.db, now + Duration::hours(6)).await.unwrap(),
        Done::default()
    );
    let public = app.get_html(&format!("/incidents/{id}")).await;
    assert!(
        texts(&public, "p.window")[0].starts_with("Cancelled maintenance:"),
        "{public}"
    );

    // One that started is finished, not cancelled.
    let other = schedule(&app, &token, db, now).await;
    run_due(&app.db, now + Duration::hours(2)).await.unwrap();
    let (status, e) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{other}/cancel"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 422, "{e:#}");
    assert_eq!(e["error"]["field"], "status");
    assert_eq!(
        v2(&app, "/api/v2/scheduled-maintenances/active.json").await["scheduled_maintenances"][0]
            ["id"],
        other.as_str()
    );
}

/// Schedules through the admin form, 2030-03-08 05:00 to 09:00 UTC, and
/// answers the maintenance's admin page.
async fn schedule_from_admin(app: &TestApp) -> String {
    let res = app
        .post_form(
            "/admin/maintenance/new",
            "/admin/maintenance",
            &[
                ("title", "Database upgrade"),
                ("scheduled_for", "2030-03-08T05:00"),
                ("scheduled_until", "2030-03-08T09:00"),
                ("impact", "maintenance"),
                ("message", "Checkout pauses."),
                ("remind", "60"),
                ("auto_in_progress", "on"),
                ("auto_completed", "on"),
                ("notify_start", "on"),
                ("notify_end", "on"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    res.headers()["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn staff_edit_a_maintenance_on_its_admin_page_and_mistakes_lose_nothing() {
    let app = crate::helpers::spawn_app().await;
    app.sign_in_admin().await;
    let admin = schedule_from_admin(&app).await;
    let id = admin.trim_start_matches("/admin/incidents/").to_owned();
    let page = app.get_html(&admin).await;
    assert_eq!(texts(&page, "#plan-heading"), ["Edit the maintenance"]);
    assert_eq!(
        attr(&page, "#scheduled_for", "value").as_deref(),
        Some("2030-03-08T05:00")
    );
    assert_eq!(texts(&page, "#remind option[selected]"), ["1 hour before"]);
    assert_eq!(
        attr(&page, "#plan-auto_completed", "checked").as_deref(),
        Some("")
    );

    let edit = format!("{admin}/maintenance");
    let mut fields = vec![
        ("title", "Database upgrade, part two"),
        ("scheduled_for", "2030-03-08T06:00"),
        ("scheduled_until", "2030-03-08T05:30"),
        ("remind", "30"),
        ("auto_in_progress", "on"),
        ("notify_start", "on"),
        ("notify_end", "on"),
        ("action", "save"),
    ];
    let res = app.post_form(&admin, &edit, &fields).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(
        texts(&html, "#scheduled_until-error"),
        ["The window must end after it starts."]
    );
    assert_eq!(
        attr(&html, "#plan-title", "value").as_deref(),
        Some("Database upgrade, part two"),
        "the typed title is kept"
    );
    assert_eq!(
        attr(&html, "#scheduled_for", "value").as_deref(),
        Some("2030-03-08T06:00")
    );
    assert_eq!(
        texts(&html, "#remind option[selected]"),
        ["30 minutes before"]
    );
    assert_eq!(attr(&html, "#plan-auto_completed", "checked"), None);
    let public = app.get_html(&format!("/incidents/{id}")).await;
    assert!(
        texts(&public, "p.window")[0].starts_with(
            "Scheduled maintenance: Mar 8, 2030 5:00 AM UTC to Mar 8, 2030 9:00 AM UTC"
        ),
        "nothing changed yet"
    );

    fields[2] = ("scheduled_until", "2030-03-08T10:00");
    let res = app.post_form(&admin, &edit, &fields).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("{admin}?done=maintenance-edited"));
    let page = app.get_html(&location).await;
    assert!(
        texts(&page, "[role=status]")
            .join(" ")
            .contains("Maintenance saved."),
        "{page}"
    );
    let public = app.get_html(&format!("/incidents/{id}")).await;
    assert!(
        texts(&public, "p.window")[0].starts_with(
            "Scheduled maintenance: Mar 8, 2030 6:00 AM UTC to Mar 8, 2030 10:00 AM UTC"
        ),
        "{public}"
    );
    assert_eq!(
        texts(&public, "article.post h1"),
        ["Database upgrade, part two"]
    );
    let m = &v2(&app, "/api/v2/scheduled-maintenances/upcoming.json").await
        ["scheduled_maintenances"][0];
    assert_eq!(m["scheduled_auto_completed"], false);
    assert_eq!(m["scheduled_remind_prior"], true);

    // Started: the start field is fixed, the end can still move.
    let from: DateTime<Utc> = "2030-03-08T06:00:00Z".parse().unwrap();
    run_due(&app.db, from).await.unwrap();
    let page = app.get_html(&admin).await;
    assert_eq!(
        attr(&page, "#scheduled_for", "disabled").as_deref(),
        Some("")
    );
    assert!(
        texts(&page, "a.danger").is_empty(),
        "no cancel once started"
    );
    let res = app
        .post_form(
            &admin,
            &edit,
            &[
                ("title", "Database upgrade, part two"),
                ("scheduled_until", "2030-03-08T11:00"),
                ("remind", "30"),
                ("auto_completed", "on"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let m =
        &v2(&app, "/api/v2/scheduled-maintenances/active.json").await["scheduled_maintenances"][0];
    assert_eq!(m["scheduled_for"], "2030-03-08T06:00:00+00:00");
    assert_eq!(m["scheduled_until"], "2030-03-08T11:00:00+00:00");
}

#[tokio::test]
async fn staff_cancel_a_maintenance_after_a_confirmation() {
    let app = crate::helpers::spawn_app().await;
    app.sign_in_admin().await;
    let admin = schedule_from_admin(&app).await;
    let id = admin.trim_start_matches("/admin/incidents/").to_owned();
    let page = app.get_html(&admin).await;
    let link = attr(&page, "a.danger", "href").expect("a Cancel maintenance link");
    assert_eq!(link, format!("{admin}/cancel"));
    let confirm = app.get_html(&link).await;
    assert_eq!(
        texts(&confirm, "h1"),
        ["Cancel the maintenance “Database upgrade”?"]
    );
    assert!(confirm.contains("This scheduled maintenance has been cancelled."));
    // Nothing happens until the button is pressed.
    assert_eq!(
        v2(&app, "/api/v2/scheduled-maintenances/upcoming.json").await["scheduled_maintenances"][0]
            ["status"],
        "scheduled"
    );

    let res = app.post_form(&link, &link, &[("notify", "on")]).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("{admin}?done=maintenance-cancelled"));
    let page = app.get_html(&location).await;
    assert!(
        texts(&page, "#plan-heading").is_empty(),
        "nothing left to edit"
    );
    let public = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(
        texts(&public, "article.post h1"),
        ["Database upgrade (Cancelled)"]
    );
    let m = &v2(&app, "/api/v2/scheduled-maintenances.json").await["scheduled_maintenances"][0];
    assert_eq!(m["status"], "completed");
    assert_eq!(
        m["incident_updates"][0]["body"],
        "This scheduled maintenance has been cancelled."
    );
    assert_eq!(m["incident_updates"][0]["deliver_notifications"], true);

    // Over: the confirmation page sends staff back to where it stands, and a
    // second press posts nothing.
    let res = app.get(&link).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], admin.as_str());
    let res = app.post_form(&admin, &link, &[]).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        v2(&app, "/api/v2/scheduled-maintenances.json").await["scheduled_maintenances"][0]
            ["incident_updates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn subscribers_hear_of_a_cancellation_as_such_in_the_maintenance_thread() {
    use crate::notify_support::{email_subscriber, STEPPED};
    let smtp = crate::smtp_server::SmtpServer::start().await;
    let url = smtp.url();
    let mut settings = vec![("SMTP_URL", url.as_str())];
    settings.extend_from_slice(&STEPPED);
    let app = crate::helpers::spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    let token = crate::api_v1::api_token(&app, "write").await;
    let db = app.add_component("Database").await;
    email_subscriber(&app.db, "reader@example.com", &[]).await;
    let id = schedule(&app, &token, db, Utc::now()).await;
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/cancel"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.deliver().await, 2);
    let mails = smtp.wait_for(2).await;
    assert_eq!(
        mails[1].subject(),
        "[Acme Status] Cancelled: Database upgrade"
    );
    assert!(
        mails[1]
            .text()
            .contains("This scheduled maintenance has been cancelled."),
        "{}",
        mails[1].text()
    );
    assert_eq!(
        mails[1].header("In-Reply-To"),
        mails[0].header("Message-ID"),
        "in the maintenance's thread"
    );
}
