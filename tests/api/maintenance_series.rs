//! Recurring maintenance: an RRULE on the page zone's wall clock, each
//! occurrence a maintenance of its own made 14 days ahead by the worker's
//! step (called here at chosen instants), once each even with two workers,
//! never made again once edited or cancelled, and at the same local time on
//! both sides of a daylight saving change.
use chrono::{DateTime, Utc};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

use crate::api_v1::{api_token, call};
use crate::helpers::{attr, spawn_app_with, texts, TestApp};
use crate::maintenance::v2;
use statuspost::entity::incident;
use statuspost::store::maintenance::run_due;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// An app whose page zone is New York, with a write token.
async fn new_york() -> (TestApp, String) {
    let app = spawn_app_with(&[("STATUSPOST_TIMEZONE", "America/New_York")]).await;
    app.sign_in_admin().await;
    let token = api_token(&app, "write").await;
    (app, token)
}

/// Saturdays 2:00 to 3:00 AM New York time from March 2, 2030 (clocks
/// spring forward on Sunday March 10).
async fn saturday_nights(app: &TestApp, token: &str, rule: &str) -> (u16, Value) {
    let (status, v) = call(
        app,
        Method::POST,
        "/api/v1/incidents",
        Some(token),
        Some(json!({
            "name": "Weekly patching",
            "message": "Servers restart one by one.",
            "scheduled_for": "2030-03-02T02:00:00-05:00",
            "scheduled_until": "2030-03-02T03:00:00-05:00",
            "scheduled_recurrence": rule,
        })),
    )
    .await;
    (status.as_u16(), v)
}

async fn occurrences(app: &TestApp) -> u64 {
    incident::Entity::find()
        .filter(incident::Column::SeriesId.is_not_null())
        .count(&app.db)
        .await
        .unwrap()
}

/// The upcoming maintenances' starts as the v2 API gives them.
async fn upcoming(app: &TestApp) -> Vec<(String, String)> {
    v2(app, "/api/v2/scheduled-maintenances/upcoming.json").await["scheduled_maintenances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                m["scheduled_for"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_weekly_series_makes_each_occurrence_once_ahead_at_the_same_local_time() {
    let (app, token) = new_york().await;
    let (status, first) = saturday_nights(&app, &token, "FREQ=WEEKLY;BYDAY=SA").await;
    assert_eq!(status, 201, "{first:#}");
    assert_eq!(first["scheduled_for"], "2030-03-02T02:00:00-05:00");
    assert_eq!(first["status"], "scheduled");
    // Four years ahead: only the first window exists yet.
    assert_eq!(occurrences(&app).await, 1);

    // Two weeks ahead of March 1: the 9th, not yet the 16th.
    let day = at("2030-03-01T00:00:00Z");
    let made = run_due(&app.db, day).await.unwrap();
    assert_eq!(made.created.len(), 1, "{made:?}");
    assert!(run_due(&app.db, day).await.unwrap().is_empty(), "made once");
    let later = at("2030-03-02T12:00:00Z");
    assert_eq!(run_due(&app.db, later).await.unwrap().created.len(), 1);
    let windows = upcoming(&app).await;
    let starts: Vec<&str> = windows.iter().map(|(_, s)| s.as_str()).collect();
    // 2:00 AM local on both sides of the change: the UTC time moves. (The
    // first window has run by noon on the 2nd.)
    assert_eq!(
        starts,
        ["2030-03-09T02:00:00-05:00", "2030-03-16T02:00:00-04:00"]
    );
    let m = &v2(&app, "/api/v2/scheduled-maintenances/upcoming.json").await
        ["scheduled_maintenances"][1];
    assert_eq!(m["scheduled_until"], "2030-03-16T03:00:00-04:00");
    assert_eq!(m["name"], "Weekly patching");
    assert_eq!(
        m["incident_updates"][0]["body"],
        "Servers restart one by one."
    );
    assert_eq!(
        m["incident_updates"][0]["deliver_notifications"], false,
        "later occurrences are made quietly"
    );

    // Each on its own: one cancelled, one moved, the rest untouched; the
    // worker makes neither again at the rule's time.
    let (second, third) = (&windows[0].0, &windows[1].0);
    let (status, m) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{second}/cancel"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{m:#}");
    let (status, m) = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/incidents/{third}"),
        Some(&token),
        Some(json!({
            "scheduled_for": "2030-03-16T04:00:00-04:00",
            "scheduled_until": "2030-03-16T05:00:00-04:00",
        })),
    )
    .await;
    assert_eq!(status, 200, "{m:#}");
    let after = run_due(&app.db, at("2030-03-03T00:00:00Z")).await.unwrap();
    assert!(after.created.is_empty(), "{after:?}");
    assert_eq!(occurrences(&app).await, 3);
    let starts: Vec<String> = upcoming(&app).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(starts, ["2030-03-16T04:00:00-04:00"]);
    // The next one comes in its turn.
    let next = run_due(&app.db, at("2030-03-10T00:00:00Z")).await.unwrap();
    assert_eq!(next.created.len(), 1, "{next:?}");
}

#[tokio::test]
async fn two_workers_make_each_occurrence_once() {
    let (app, token) = new_york().await;
    let (status, _) = saturday_nights(&app, &token, "FREQ=DAILY").await;
    assert_eq!(status, 201);
    let day = at("2030-03-02T12:00:00Z");
    let (a, b) = tokio::join!(run_due(&app.db, day), run_due(&app.db, day));
    let mut made = a.unwrap().created;
    made.extend(b.unwrap().created);
    made.sort_unstable();
    let before = made.len();
    made.dedup();
    assert_eq!(made.len(), before, "no occurrence made by both");
    // March 3 to March 16 (the 16th starts before the 16th, 12:00 UTC).
    assert_eq!(made.len(), 14, "{made:?}");
    assert_eq!(occurrences(&app).await, 15);
}

#[tokio::test]
async fn a_rule_that_does_not_fit_is_refused_and_makes_nothing() {
    let (app, token) = new_york().await;
    for (rule, field) in [
        ("FREQ=HOURLY", "scheduled_recurrence"),
        ("every sunday", "scheduled_recurrence"),
        (
            "DTSTART:20300302T020000\nRRULE:FREQ=DAILY",
            "scheduled_recurrence",
        ),
    ] {
        let (status, e) = saturday_nights(&app, &token, rule).await;
        assert_eq!(status, 422, "{rule}: {e:#}");
        assert_eq!(e["error"]["field"], field, "{rule}: {e:#}");
    }
    let (status, e) = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(json!({
            "name": "No window",
            "message": "m",
            "scheduled_recurrence": "FREQ=DAILY",
        })),
    )
    .await;
    assert_eq!(status, 422, "{e:#}");
    assert_eq!(e["error"]["field"], "scheduled_recurrence");
    assert_eq!(occurrences(&app).await, 0);
    assert_eq!(
        incident::Entity::find().count(&app.db).await.unwrap(),
        0,
        "nothing was made"
    );
}

#[tokio::test]
async fn staff_schedule_a_recurring_maintenance_from_the_admin_form() {
    let (app, _) = new_york().await;
    let mut fields = vec![
        ("title", "Nightly backup"),
        ("scheduled_for", "2030-03-02T02:00"),
        ("scheduled_until", "2030-03-02T02:30"),
        ("recurrence", "FREQ=DAILY;BYHOUR=x"),
        ("impact", "maintenance"),
        ("message", "Writes pause for **half an hour**."),
        ("remind", ""),
        ("auto_in_progress", "on"),
        ("auto_completed", "on"),
        ("action", "publish"),
    ];
    let res = app
        .post_form("/admin/maintenance/new", "/admin/maintenance", &fields)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(texts(&html, "#recurrence-error").len(), 1, "{html}");
    assert_eq!(
        attr(&html, "#recurrence", "value").as_deref(),
        Some("FREQ=DAILY;BYHOUR=x"),
        "the rule as typed"
    );
    assert!(html.contains("Writes pause for **half an hour**."));
    assert_eq!(incident::Entity::find().count(&app.db).await.unwrap(), 0);

    fields[3] = ("recurrence", "FREQ=DAILY");
    let res = app
        .post_form("/admin/maintenance/new", "/admin/maintenance", &fields)
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("?done=series-scheduled"), "{location}");
    let page = app.get_html(&location).await;
    assert!(
        texts(&page, "[role=status]")
            .join(" ")
            .contains("Recurring maintenance scheduled."),
        "{page}"
    );
    run_due(&app.db, at("2030-03-02T00:00:00Z")).await.unwrap();
    let starts: Vec<String> = upcoming(&app).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(starts.len(), 14, "{starts:?}");
    assert_eq!(starts[0], "2030-03-02T02:00:00-05:00");
    // March 10 has no 2:00 AM: read with the offset before the gap, as RFC 5545 says.
    assert_eq!(starts[8], "2030-03-10T03:00:00-04:00");
    assert_eq!(starts[9], "2030-03-11T02:00:00-04:00");
}

#[tokio::test]
async fn staff_schedule_a_maintenance_from_a_template() {
    let (app, token) = new_york().await;
    let db = app.add_component("Database").await;
    let (status, t) = call(
        &app,
        Method::POST,
        "/api/v1/templates",
        Some(&token),
        Some(json!({
            "name": "DB upgrade",
            "title": "{component} upgrade",
            "message": "We upgrade {component}; {{ 7*7 }} stays as written.",
            "impact": "maintenance",
            "components": { db.to_string(): "under_maintenance" },
            "notify": false,
        })),
    )
    .await;
    assert_eq!(status, 201, "{t:#}");
    let id = t["id"].to_string().trim_matches('"').to_owned();
    let form = app.get_html("/admin/maintenance/new").await;
    assert_eq!(texts(&form, "#template option"), ["DB upgrade"]);
    let form = app
        .get_html(&format!("/admin/maintenance/new?template={id}"))
        .await;
    assert_eq!(
        attr(&form, "#title", "value").as_deref(),
        Some("Database upgrade")
    );
    assert_eq!(
        texts(&form, "#message"),
        ["We upgrade Database; {{ 7*7 }} stays as written."]
    );
    assert_eq!(
        attr(&form, &format!("#mc-{db}"), "checked").as_deref(),
        Some(""),
        "the template's component is ticked"
    );
    assert_eq!(
        attr(&form, "#notify", "checked"),
        None,
        "its notify default"
    );
    assert_eq!(
        attr(&form, "#auto_in_progress", "checked").as_deref(),
        Some(""),
        "the edges keep the form's defaults"
    );
    assert_eq!(texts(&form, "#impact option[selected]"), ["Maintenance"]);
    let res = app.get("/admin/maintenance/new?template=999999").await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn staff_stop_a_series_after_a_confirmation_and_no_window_is_made_after() {
    let (app, token) = new_york().await;
    let (status, first) = saturday_nights(&app, &token, "FREQ=WEEKLY").await;
    assert_eq!(status, 201, "{first:#}");
    let admin = format!("/admin/incidents/{}", first["id"].as_str().unwrap());
    let page = app.get_html(&admin).await;
    let line = texts(&page, "p.series").join(" ");
    assert!(
        line.starts_with("Repeats FREQ=WEEKLY on the clock of America/New_York"),
        "{line}"
    );
    let link = attr(&page, "p.series a", "href").expect("a Stop repeating link");
    assert_eq!(link, format!("{admin}/stop-series"));
    let confirm = app.get_html(&link).await;
    assert_eq!(
        texts(&confirm, "h1"),
        ["Stop repeating “Weekly patching” (FREQ=WEEKLY in America/New_York)?"]
    );
    // Nothing stops until the button is pressed.
    let day = at("2030-03-01T00:00:00Z");
    assert_eq!(run_due(&app.db, day).await.unwrap().created.len(), 1);

    let res = app.post_form(&link, &link, &[]).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("{admin}?done=series-stopped"));
    let page = app.get_html(&location).await;
    assert!(
        texts(&page, "p.series").join(" ").contains("stopped"),
        "{page}"
    );
    assert!(
        run_due(&app.db, at("2030-03-20T00:00:00Z"))
            .await
            .unwrap()
            .created
            .is_empty(),
        "no window is made after the stop"
    );
    assert_eq!(occurrences(&app).await, 2, "the windows made stay");
    let res = app.get(&link).await;
    assert_eq!(res.status(), 303, "stopped already: back to the page");
    // A maintenance of no series has nothing to stop.
    let single =
        crate::maintenance::schedule(&app, &token, app.add_component("Web").await, Utc::now())
            .await;
    let res = app
        .get(&format!("/admin/incidents/{single}/stop-series"))
        .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn a_series_stopped_through_the_api_makes_no_window_after() {
    let (app, token) = new_york().await;
    let (status, first) = saturday_nights(&app, &token, "FREQ=WEEKLY").await;
    assert_eq!(status, 201, "{first:#}");
    let id = first["id"].as_str().unwrap();
    let stop = |id: String| {
        let (app, token) = (&app, &token);
        async move {
            call(
                app,
                Method::POST,
                &format!("/api/v1/incidents/{id}/stop-series"),
                Some(token),
                None,
            )
            .await
        }
    };
    let (status, m) = stop(id.to_owned()).await;
    assert_eq!(status, 200, "{m:#}");
    assert_eq!(m["status"], "scheduled", "the windows made stay");
    let (status, _) = stop(id.to_owned()).await;
    assert_eq!(status, 200, "stopping again changes nothing");
    assert!(run_due(&app.db, at("2030-03-01T00:00:00Z"))
        .await
        .unwrap()
        .created
        .is_empty());
    assert_eq!(occurrences(&app).await, 1);
    // A single maintenance has no series.
    let single =
        crate::maintenance::schedule(&app, &token, app.add_component("Web").await, Utc::now())
            .await;
    let (status, e) = stop(single).await;
    assert_eq!(status, 422, "{e:#}");
    assert_eq!(e["error"]["field"], "id");
    let (status, _) = stop("999999".into()).await;
    assert_eq!(status, 404);
}
