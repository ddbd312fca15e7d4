//! A data-integrity incident and a long recovery: the data window, restore
//! point, loss and reader actions in a box at the top of the page and of
//! every email, and in the APIs; milestones ticked by staff or by a script
//! through `/api/v1`, each with its time, notifying when staff chose so.
use reqwest::Method;
use serde_json::{json, Value};

use crate::api_v1::{api_token, call};
use crate::api_v2::assert_shape;
use crate::helpers::{spawn_app_with, texts, TestApp};
use crate::notify_support::{email_subscriber, STEPPED};
use crate::smtp_server::SmtpServer;

async fn app_with_mail(smtp: &SmtpServer) -> (TestApp, String) {
    let url = smtp.url();
    let mut settings = vec![("SMTP_URL", url.as_str())];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    let token = api_token(&app, "write").await;
    (app, token)
}

fn the_day() -> Value {
    json!({
        "name": "Live Site Issue: File Names",
        "message": "We are restoring the data from a backup.",
        "status": "identified",
        "impact": "major",
        "data_integrity": {
            "from": "2008-02-28T06:00:00-05:00",
            "until": "2008-02-28T12:00:00-05:00",
            "restored_to": "2008-02-28T06:00:00-05:00",
            "loss": "confirmed",
            "actions": ["Send the downloads with the Add Download Email link."],
        },
        "milestones": [
            { "title": "Stop writes", "notify": false },
            { "title": "Restore the 6 AM backup", "notify": true },
            { "title": "Verify" },
        ],
    })
}

#[tokio::test]
async fn a_data_incident_shows_its_box_and_a_script_ticks_its_milestones() {
    let smtp = SmtpServer::start().await;
    let (app, token) = app_with_mail(&smtp).await;
    email_subscriber(&app.db, "seller@example.com", &[]).await;
    let (status, inc) = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(the_day()),
    )
    .await;
    assert_eq!(status, 201, "{inc:#}");
    let id = inc["id"].as_str().unwrap().to_owned();
    let d = &inc["data_integrity"];
    assert_eq!(d["loss"], "confirmed");
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(at(&d["from"]), at(&json!("2008-02-28T06:00:00-05:00")));
    assert_eq!(
        at(&d["restored_to"]),
        at(&json!("2008-02-28T06:00:00-05:00"))
    );
    assert_eq!(
        d["actions"][0],
        "Send the downloads with the Add Download Email link."
    );
    let keys: Vec<&str> = inc["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["1", "2", "3"]);
    assert!(inc["milestones"][0]["done_at"].is_null());

    // The box reads first on the incident's page and the front page.
    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(texts(&page, ".integrity .loss"), ["Data loss confirmed"]);
    assert_eq!(
        texts(&page, ".integrity ul.actions li"),
        ["Send the downloads with the Add Download Email link."]
    );
    let dd = texts(&page, ".integrity dd");
    assert!(
        dd[0].starts_with("From Feb 28, 2008") && dd[0].contains(" to Feb 28, 2008"),
        "{dd:?}"
    );
    assert_eq!(
        texts(&page, ".milestones h2"),
        ["Recovery progress: 0 of 3 done"]
    );
    assert_eq!(
        texts(&app.get_html("/").await, ".in-progress .integrity .loss"),
        ["Data loss confirmed"]
    );

    // The first email carries it.
    app.deliver().await;
    let first = &smtp.wait_for(1).await[0];
    assert!(
        first.text().contains("Data loss confirmed."),
        "{}",
        first.text()
    );
    assert!(
        first.text().contains("Add Download Email"),
        "{}",
        first.text()
    );
    let html = first.part("text/html").unwrap();
    assert!(html.contains("What you need to do"), "{html}");

    // A restore script ticks its steps; a retry changes nothing.
    let tick = |key: &str| format!("/api/v1/incidents/{id}/milestones/{key}/complete");
    let (status, after) = call(&app, Method::POST, &tick("1"), Some(&token), None).await;
    assert_eq!(status, 200, "{after:#}");
    assert!(after["milestones"][0]["done_at"].is_string());
    assert_eq!(after["milestones"][0]["done_by"], "write bot");
    assert_eq!(
        after["incident_updates"].as_array().unwrap().len(),
        1,
        "a quiet milestone posts nothing"
    );
    let (status, after) = call(
        &app,
        Method::POST,
        &tick("2"),
        Some(&token),
        Some(json!({ "done_at": inc["started_at"] })),
    )
    .await;
    assert_eq!(status, 200, "{after:#}");
    assert_eq!(after["milestones"][1]["done_at"], inc["started_at"]);
    let updates = after["incident_updates"].as_array().unwrap();
    assert_eq!(
        updates.len(),
        2,
        "a notifying milestone is told as an update"
    );
    assert_eq!(
        updates[0]["body"],
        "Milestone done (2 of 3): Restore the 6 AM backup"
    );
    assert_eq!(updates[0]["status"], "identified");
    let (_, again) = call(&app, Method::POST, &tick("2"), Some(&token), None).await;
    assert_eq!(again["incident_updates"].as_array().unwrap().len(), 2);
    assert_eq!(
        again["milestones"][1]["done_at"],
        after["milestones"][1]["done_at"]
    );
    let (status, err) = call(&app, Method::POST, &tick("9"), Some(&token), None).await;
    assert_eq!(status, 404, "{err:#}");
    let (status, err) = call(
        &app,
        Method::POST,
        &tick("3"),
        Some(&token),
        Some(json!({ "done_at": "2008-02-28T12:10:00-05:00" })),
    )
    .await;
    assert_eq!(status, 422, "{err:#}");
    assert_eq!(err["error"]["field"], "done_at");

    app.deliver().await;
    let told = &smtp.wait_for(2).await[1];
    assert!(
        told.text().contains("Restore the 6 AM backup"),
        "{}",
        told.text()
    );
    assert!(
        told.text().contains("Recovery progress: 2 of 3 done"),
        "{}",
        told.text()
    );

    // Readers see the progress with its times; the APIs carry it in their shape.
    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(
        texts(&page, ".milestones h2"),
        ["Recovery progress: 2 of 3 done"]
    );
    assert_eq!(texts(&page, ".milestones li.done").len(), 2);
    let v2: Value = app
        .get("/api/v2/incidents.json")
        .await
        .json()
        .await
        .unwrap();
    assert_shape("incidents_document", &v2);
    assert_eq!(
        v2["incidents"][0]["milestones"].as_array().unwrap().len(),
        3
    );

    // A script adds a step and later clears what it said of the data.
    let (status, added) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/milestones"),
        Some(&token),
        Some(json!({ "title": "Backfill the gap" })),
    )
    .await;
    assert_eq!(status, 201, "{added:#}");
    assert_eq!(added["milestones"][3]["key"], "4");
    let (status, cleared) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/incidents/{id}/data_integrity"),
        Some(&token),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{cleared:#}");
    assert!(cleared.get("data_integrity").is_none(), "{cleared:#}");
    assert!(texts(
        &app.get_html(&format!("/incidents/{id}")).await,
        ".integrity"
    )
    .is_empty());
}

#[tokio::test]
async fn bad_data_and_milestones_are_refused_with_the_field_named() {
    let smtp = SmtpServer::start().await;
    let (app, token) = app_with_mail(&smtp).await;
    let cases = [
        (
            json!({ "data_integrity": { "from": "2008-02-28T12:00:00-05:00", "until": "2008-02-28T06:00:00-05:00" } }),
            "data_integrity.until",
        ),
        (
            json!({ "data_integrity": { "loss": "maybe" } }),
            "data_integrity.loss",
        ),
        (
            json!({ "data_integrity": { "restored_to": "yesterday" } }),
            "data_integrity.restored_to",
        ),
        (
            json!({ "data_integrity": { "actions": [""] } }),
            "data_integrity.actions[0]",
        ),
        (
            json!({ "milestones": [{ "title": "  " }] }),
            "milestones[0].title",
        ),
    ];
    for (extra, field) in cases {
        let mut b = json!({ "name": "Data", "message": "Restoring." });
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
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
    let (status, _) = call(&app, Method::GET, "/api/v1/incidents", Some(&token), None).await;
    assert_eq!(status, 200);
    let read = api_token(&app, "read").await;
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/incidents/1/milestones/1/complete",
        Some(&read),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/incidents/1/milestones/1/complete",
        None,
        None,
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn staff_say_it_from_the_admin_and_a_refused_form_keeps_their_text() {
    let smtp = SmtpServer::start().await;
    let (app, _) = app_with_mail(&smtp).await;
    let id = app
        .publish(
            "Orders missing",
            "identified",
            "We restore from a backup.",
            &[
                ("data_from", "2008-02-28T06:00"),
                ("data_until", "2008-02-28T12:00"),
                ("data_loss", "possible"),
                (
                    "reader_actions",
                    "Check orders placed this morning.\n\nResend their downloads.",
                ),
                ("milestones", "Restore the backup\nVerify"),
                ("milestones_notify", "on"),
            ],
        )
        .await;
    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(texts(&page, ".integrity .loss"), ["Data loss possible"]);
    assert_eq!(
        texts(&page, ".integrity ul.actions li"),
        [
            "Check orders placed this morning.",
            "Resend their downloads."
        ]
    );
    assert_eq!(
        texts(&page, ".milestones h2"),
        ["Recovery progress: 0 of 2 done"]
    );

    // Ticking from the admin posts the update it notifies with.
    let admin = format!("/admin/incidents/{id}");
    let res = app
        .post_form(
            &admin,
            &format!("/admin/incidents/{id}/milestones/1/complete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(
        texts(&page, ".milestones h2"),
        ["Recovery progress: 1 of 2 done"]
    );
    assert!(page.contains("Milestone done (1 of 2): Restore the backup"));

    // A wrong date is refused with every field as typed.
    let res = app
        .post_form(
            &admin,
            &format!("/admin/incidents/{id}/data_integrity"),
            &[
                ("data_from", "2008-02-28T12:00"),
                ("data_until", "2008-02-28T06:00"),
                ("data_loss", "confirmed"),
                ("reader_actions", "Resend the downloads."),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(texts(&html, "#reader_actions"), ["Resend the downloads."]);
    assert!(!texts(&html, "#data_until-error").is_empty(), "{html}");
    assert_eq!(
        texts(
            &app.get_html(&format!("/incidents/{id}")).await,
            ".integrity .loss"
        ),
        ["Data loss possible"]
    );

    // A milestone added from the admin, quiet by default.
    let res = app
        .post_form(
            &admin,
            &format!("/admin/incidents/{id}/milestones"),
            &[("milestone_title", "Backfill")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(
        texts(&page, ".milestones h2"),
        ["Recovery progress: 1 of 3 done"]
    );
}

#[tokio::test]
async fn webhooks_carry_the_promise_the_data_box_milestones_and_corrections() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let mut settings = vec![
        ("SMTP_URL", url.as_str()),
        ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
    ];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    let token = api_token(&app, "write").await;
    let receiver =
        crate::webhook_receiver::WebhookReceiver::start(crate::notify_support::SECRET).await;
    crate::notify_support::webhook_subscriber(
        &app.db,
        &receiver.url("/hook"),
        "ops@example.com",
        &[],
    )
    .await;
    let mut body = the_day();
    body["next_update_in_minutes"] = json!(30);
    let (status, inc) = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{inc:#}");
    let id = inc["id"].as_str().unwrap().to_owned();
    let uid = inc["incident_updates"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.deliver().await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let told = &got[0].json()["incident"];
    assert_eq!(told["next_update_by"], inc["next_update_by"]);
    assert_eq!(
        told["incident_updates"][0]["next_update_by"],
        inc["next_update_by"]
    );
    assert_eq!(told["data_integrity"]["loss"], "confirmed");
    assert_eq!(told["milestones"].as_array().unwrap().len(), 3);
    assert_shape("incident", told);

    // A notifying correction reaches the webhook too, with the new text.
    let (status, _) = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/incidents/{id}/updates/{uid}"),
        Some(&token),
        Some(
            json!({ "message": "We are restoring the data from the 6 AM backup.", "notify": true }),
        ),
    )
    .await;
    assert_eq!(status, 200);
    app.deliver().await;
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let told = &got[1].json()["incident"]["incident_updates"][0];
    assert_eq!(
        told["body"],
        "We are restoring the data from the 6 AM backup."
    );
    assert_ne!(got[0].header("webhook-id"), got[1].header("webhook-id"));
}
