//! Scheduled maintenance: scheduled through the write API or the admin, it
//! reminds, starts and completes at its window's edges from the worker, once
//! each, late rather than never; readers see it apart from incidents, in the
//! v2 API and the calendar. Time is moved by calling the worker's transition
//! step with the instant to act at, not by waiting.
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::api_v1::{admin_with_token, call};
use crate::helpers::{spawn_app_with, texts, TestApp};
use crate::notify_support::{email_subscriber, STEPPED};
use crate::smtp_server::SmtpServer;
use statuspost::store::maintenance::{run_due, Done};

pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A maintenance on `component` two hours from `now`, for two hours.
pub(crate) async fn schedule(
    app: &TestApp,
    token: &str,
    component: i32,
    now: DateTime<Utc>,
) -> String {
    let (status, m) = call(
        app,
        Method::POST,
        "/api/v1/incidents",
        Some(token),
        Some(json!({
            "name": "Database upgrade",
            "message": "We upgrade the **database**; checkout pauses.",
            "scheduled_for": iso(now + Duration::hours(2)),
            "scheduled_until": iso(now + Duration::hours(4)),
            "components": { component.to_string(): "under_maintenance" },
        })),
    )
    .await;
    assert_eq!(status, 201, "{m:#}");
    m["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn v2(app: &TestApp, path: &str) -> Value {
    app.get(path).await.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn component_status(app: &TestApp) -> String {
    v2(app, "/api/v2/components.json").await["components"][0]["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The worker's writes reach this process's cached pages as another
/// process's do: through the page generation, read every second on SQLite.
async fn component_becomes(app: &TestApp, status: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while component_status(app).await != status {
        assert!(
            std::time::Instant::now() < deadline,
            "the component is still {}",
            component_status(app).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_maintenance_reminds_starts_and_completes_at_its_edges_once_each() {
    let (app, token) = admin_with_token("write").await;
    let db = app.add_component("Database").await;
    let now = Utc::now();
    let id = schedule(&app, &token, db, now).await;

    // Scheduled: apart from incidents, its components untouched for now.
    let m = &v2(&app, "/api/v2/scheduled-maintenances/upcoming.json").await
        ["scheduled_maintenances"][0];
    assert_eq!(m["id"], id.as_str());
    assert_eq!(m["status"], "scheduled");
    assert_eq!(m["impact"], "maintenance");
    assert_eq!(m["scheduled_remind_prior"], true);
    assert_eq!(m["scheduled_auto_in_progress"], true);
    assert_eq!(m["components"][0]["name"], "Database");
    let summary = v2(&app, "/api/v2/summary.json").await;
    assert_eq!(
        ids(&summary["scheduled_maintenances"]),
        std::slice::from_ref(&id)
    );
    assert!(ids(&summary["incidents"]).is_empty());
    assert!(ids(&v2(&app, "/api/v2/incidents.json").await["incidents"]).is_empty());
    assert!(ids(
        &v2(&app, "/api/v2/scheduled-maintenances/active.json").await["scheduled_maintenances"]
    )
    .is_empty());
    assert_eq!(component_status(&app).await, "operational");
    let page = app.get_html("/").await;
    assert_eq!(
        texts(&page, "#maintenance-heading"),
        ["Scheduled maintenance"]
    );
    assert_eq!(texts(&page, ".maintenance h3"), ["Database upgrade"]);
    assert_eq!(
        texts(&page, ".banner .overall"),
        ["All Systems Operational"]
    );

    let id_n: i32 = id.parse().unwrap();
    let nothing = Done::default();
    // An hour before: too early for the reminder (60 minutes by default).
    assert_eq!(
        run_due(&app.db, now + Duration::minutes(59)).await.unwrap(),
        nothing
    );
    let reminded = run_due(&app.db, now + Duration::minutes(61)).await.unwrap();
    assert_eq!(reminded.reminded, [id_n]);
    assert_eq!(
        run_due(&app.db, now + Duration::minutes(62)).await.unwrap(),
        nothing
    );

    // The start: in progress, the component under maintenance, in the banner.
    let started = run_due(&app.db, now + Duration::hours(2)).await.unwrap();
    assert_eq!(started.started, [id_n]);
    assert_eq!(
        run_due(&app.db, now + Duration::hours(3)).await.unwrap(),
        nothing
    );
    component_becomes(&app, "under_maintenance").await;
    let active = v2(&app, "/api/v2/scheduled-maintenances/active.json").await;
    crate::api_v2::assert_shape("maintenance", &active["scheduled_maintenances"][0]);
    assert_eq!(active["scheduled_maintenances"][0]["status"], "in_progress");
    let page = app.get_html("/").await;
    assert_eq!(
        texts(&page, ".banner .overall"),
        ["Service Under Maintenance"]
    );

    // The end: completed, the component operational again.
    let ended = run_due(&app.db, now + Duration::hours(4)).await.unwrap();
    assert_eq!(ended.completed, [id_n]);
    assert_eq!(
        run_due(&app.db, now + Duration::hours(5)).await.unwrap(),
        nothing
    );
    component_becomes(&app, "operational").await;
    let all = v2(&app, "/api/v2/scheduled-maintenances.json").await;
    let m = &all["scheduled_maintenances"][0];
    assert_eq!(m["status"], "completed");
    let statuses: Vec<&str> = m["incident_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["completed", "in_progress", "scheduled"]);
    assert!(ids(&v2(&app, "/api/v2/summary.json").await["scheduled_maintenances"]).is_empty());
}

#[tokio::test]
async fn a_worker_down_across_the_whole_window_starts_and_completes_it_late_once() {
    let (app, token) = admin_with_token("write").await;
    let db = app.add_component("Database").await;
    let now = Utc::now();
    let id: i32 = schedule(&app, &token, db, now).await.parse().unwrap();
    // Back after the window closed: nothing is skipped, nothing doubled, and
    // no reminder of what is already past.
    let late = run_due(&app.db, now + Duration::hours(6)).await.unwrap();
    assert_eq!(
        late,
        Done {
            created: vec![],
            started: vec![id],
            completed: vec![id],
            reminded: vec![],
        }
    );
    assert_eq!(
        run_due(&app.db, now + Duration::hours(7)).await.unwrap(),
        Done::default()
    );
    assert_eq!(component_status(&app).await, "operational");
}

#[tokio::test]
async fn two_workers_make_each_transition_once() {
    let (app, token) = admin_with_token("write").await;
    let db = app.add_component("Database").await;
    let now = Utc::now();
    let id: i32 = schedule(&app, &token, db, now).await.parse().unwrap();
    let at = now + Duration::hours(2) + Duration::minutes(1);
    let (a, b) = tokio::join!(run_due(&app.db, at), run_due(&app.db, at));
    let mut started = a.unwrap().started;
    started.extend(b.unwrap().started);
    assert_eq!(started, [id], "started by exactly one");
    let m: Value = call(
        &app,
        Method::GET,
        &format!("/api/v1/incidents/{id}"),
        Some(&token),
        None,
    )
    .await
    .1;
    assert_eq!(m["incident_updates"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn updates_keep_to_their_kind_and_windows_must_make_sense() {
    let (app, token) = admin_with_token("write").await;
    let now = Utc::now();
    let (status, e) = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(json!({
            "name": "Backwards",
            "message": "m",
            "scheduled_for": iso(now + Duration::hours(2)),
            "scheduled_until": iso(now + Duration::hours(1)),
        })),
    )
    .await;
    assert_eq!(status, 422, "{e:#}");
    assert_eq!(e["error"]["field"], "scheduled_until", "{e:#}");
    let id = schedule(&app, &token, app.add_component("Web").await, now).await;
    let (status, e) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/updates"),
        Some(&token),
        Some(json!({ "status": "resolved", "message": "Done?" })),
    )
    .await;
    assert_eq!(status, 422, "{e:#}");
    assert_eq!(e["error"]["field"], "status");
    // Its own statuses go through the same endpoint: finished early by hand.
    let (status, m) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/updates"),
        Some(&token),
        Some(json!({ "status": "completed", "message": "Called off: not needed." })),
    )
    .await;
    assert_eq!(status, 201, "{m:#}");
    assert_eq!(m["status"], "completed");
    assert_eq!(
        run_due(&app.db, now + Duration::hours(3)).await.unwrap(),
        Done::default(),
        "a window called off never starts"
    );
}

#[tokio::test]
async fn subscribers_are_told_when_scheduled_reminded_and_at_each_edge_in_one_thread() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let mut settings = vec![("SMTP_URL", url.as_str())];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    let token = crate::api_v1::api_token(&app, "write").await;
    let db = app.add_component("Database").await;
    email_subscriber(&app.db, "reader@example.com", &[]).await;
    let now = Utc::now();
    schedule(&app, &token, db, now).await;
    for at in [
        now + Duration::minutes(61),
        now + Duration::hours(2),
        now + Duration::hours(4),
    ] {
        run_due(&app.db, at).await.unwrap();
    }
    assert_eq!(app.deliver().await, 4);
    let mails = smtp.wait_for(4).await;
    let subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    assert_eq!(subjects[0], "[Acme Status] Scheduled: Database upgrade");
    assert!(
        subjects[1].starts_with("[Acme Status] Reminder: Database upgrade starts "),
        "{subjects:?}"
    );
    assert_eq!(subjects[2], "[Acme Status] In progress: Database upgrade");
    assert_eq!(subjects[3], "[Acme Status] Completed: Database upgrade");
    let root = mails[0].header("Message-ID").unwrap();
    for m in &mails[1..] {
        assert_eq!(
            m.header("In-Reply-To").as_ref(),
            Some(&root),
            "{}",
            m.subject()
        );
    }
    assert!(mails[0].text().contains("Window: "), "{}", mails[0].text());
    assert!(
        mails[1].text().contains("Under maintenance then: Database"),
        "{}",
        mails[1].text()
    );
}

/// A Python with the `icalendar` package: ICAL_PYTHON, else `python3`.
fn ical_python() -> Option<String> {
    let python = std::env::var("ICAL_PYTHON").unwrap_or_else(|_| "python3".into());
    let found = std::process::Command::new(&python)
        .args(["-c", "import icalendar"])
        .status()
        .is_ok_and(|s| s.success());
    crate::helpers::tool_available(
        found,
        "Python's icalendar package",
        "pip install icalendar, or set ICAL_PYTHON to a python that has it",
    )
    .then_some(python)
}

/// What a real calendar parser reads in the feed: one line per event.
const READ_ICS: &str = r#"
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
for e in cal.walk('VEVENT'):
    print('|'.join([str(e['UID']), str(e['SUMMARY']), e['DTSTART'].dt.isoformat(),
                    e['DTEND'].dt.isoformat(), str(e['STATUS']), str(e['SEQUENCE'])]))
"#;

#[tokio::test]
async fn calendars_read_each_window_and_see_it_cancelled() {
    let (app, token) = admin_with_token("write").await;
    let db = app.add_component("Database").await;
    let now = Utc::now();
    let id = schedule(&app, &token, db, now).await;
    let res = app.get("/maintenance.ics").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let first = res.text().await.unwrap();
    assert!(first.contains("\r\n"), "lines end in CRLF");

    // Called off: the same event, now cancelled, one sequence on.
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/updates"),
        Some(&token),
        Some(json!({ "status": "completed", "message": "Not needed after all." })),
    )
    .await;
    assert_eq!(status, 201);
    let second = app.get("/maintenance.ics").await.text().await.unwrap();

    let Some(python) = ical_python() else { return };
    let dir = crate::helpers::TempDir::new();
    let read = |ics: &str, name: &str| {
        let file = dir.0.join(name);
        std::fs::write(&file, ics).unwrap();
        let out = std::process::Command::new(&python)
            .args(["-c", READ_ICS])
            .arg(&file)
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let from = (now + Duration::hours(2)).format("%Y-%m-%dT%H:%M:%S+00:00");
    let until = (now + Duration::hours(4)).format("%Y-%m-%dT%H:%M:%S+00:00");
    let uid = format!("maintenance-{id}@127.0.0.1");
    assert_eq!(
        read(&first, "first.ics").trim(),
        format!("{uid}|Database upgrade|{from}|{until}|CONFIRMED|0")
    );
    assert_eq!(
        read(&second, "second.ics").trim(),
        format!("{uid}|Database upgrade|{from}|{until}|CANCELLED|1")
    );
}

#[tokio::test]
async fn staff_schedule_a_maintenance_from_the_admin_and_mistakes_lose_nothing() {
    let app = crate::helpers::spawn_app().await;
    app.sign_in_admin().await;
    let db = app.add_component("Database").await;
    app.add_component("Website").await;
    let form = app.get_html("/admin/maintenance/new").await;
    assert_eq!(texts(&form, "h1"), ["Schedule maintenance"]);
    assert_eq!(texts(&form, "#remind option[selected]"), ["1 hour before"]);
    let db_box = db.to_string();
    let mut fields = vec![
        ("title", "Database upgrade"),
        ("scheduled_for", "2030-03-08T05:00"),
        ("scheduled_until", "2030-03-08T01:00"),
        ("impact", "maintenance"),
        ("components", db_box.as_str()),
        ("message", "Checkout pauses for **ten minutes**."),
        ("remind", "30"),
        ("auto_in_progress", "on"),
        ("auto_completed", "on"),
        ("notify_start", "on"),
        ("notify_end", "on"),
        ("action", "publish"),
    ];
    let res = app
        .post_form("/admin/maintenance/new", "/admin/maintenance", &fields)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(
        texts(&html, "#scheduled_until-error"),
        ["The window must end after it starts."]
    );
    assert!(html.contains("Checkout pauses for **ten minutes**."));
    assert_eq!(
        crate::helpers::attr(&html, &format!("#mc-{db}"), "checked").as_deref(),
        Some(""),
        "the ticked component stays ticked"
    );
    assert_eq!(
        texts(&html, "#remind option[selected]"),
        ["30 minutes before"]
    );

    fields[2] = ("scheduled_until", "2030-03-08T09:00");
    let res = app
        .post_form("/admin/maintenance/new", "/admin/maintenance", &fields)
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.ends_with("?done=maintenance-scheduled"),
        "{location}"
    );
    let admin = app.get_html(&location).await;
    // Its update form offers a maintenance's statuses only.
    let statuses = texts(&admin, "#status option");
    assert_eq!(
        statuses,
        ["Scheduled", "In Progress", "Verifying", "Completed"]
    );
    let id = location
        .trim_start_matches("/admin/incidents/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let public = app.get_html(&format!("/incidents/{id}")).await;
    let window = texts(&public, "p.window")[0].clone();
    assert!(
        window.starts_with(
            "Scheduled maintenance: Mar 8, 2030 5:00 AM UTC to Mar 8, 2030 9:00 AM UTC"
        ),
        "{window}"
    );
    assert!(window.ends_with("Under maintenance: Database"), "{window}");
    let v: Value = v2(&app, "/api/v2/scheduled-maintenances/upcoming.json").await;
    let m = &v["scheduled_maintenances"][0];
    assert_eq!(m["scheduled_for"], "2030-03-08T05:00:00+00:00");
    assert_eq!(m["incident_updates"][0]["deliver_notifications"], false);
}

#[tokio::test]
async fn a_window_across_a_daylight_saving_change_keeps_its_local_times() {
    let app = spawn_app_with(&[("STATUSPOST_TIMEZONE", "America/New_York")]).await;
    app.sign_in_admin().await;
    // New York's clocks jump from 2:00 to 3:00 AM on March 10, 2030: a window
    // typed as 1:00 to 4:00 AM lasts two hours, not three.
    let res = app
        .post_form(
            "/admin/maintenance/new",
            "/admin/maintenance",
            &[
                ("title", "Night work"),
                ("scheduled_for", "2030-03-10T01:00"),
                ("scheduled_until", "2030-03-10T04:00"),
                ("impact", "maintenance"),
                ("message", "Overnight."),
                ("remind", ""),
                ("auto_in_progress", "on"),
                ("auto_completed", "on"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let m = &v2(&app, "/api/v2/scheduled-maintenances/upcoming.json").await
        ["scheduled_maintenances"][0];
    assert_eq!(m["scheduled_for"], "2030-03-10T01:00:00-05:00");
    assert_eq!(m["scheduled_until"], "2030-03-10T04:00:00-04:00");
    assert_eq!(m["scheduled_remind_prior"], false);
    let from: DateTime<Utc> = "2030-03-10T06:00:00Z".parse().unwrap();
    let id: i32 = m["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        run_due(&app.db, from - Duration::seconds(1)).await.unwrap(),
        Done::default()
    );
    assert_eq!(run_due(&app.db, from).await.unwrap().started, [id]);
    let until = from + Duration::hours(2);
    assert_eq!(
        run_due(&app.db, until - Duration::seconds(1))
            .await
            .unwrap(),
        Done::default(),
        "two hours, not three"
    );
    assert_eq!(run_due(&app.db, until).await.unwrap().completed, [id]);
}
