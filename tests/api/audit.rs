//! The audit log: every staff and API action, with who, when, what, and the
//! state before and after, kept when what it describes is deleted; admins
//! read it at /admin/audit and export it as CSV.
use reqwest::Method;
use serde_json::{json, Value};

use crate::api_v1::{api_token, call};
use crate::helpers::{spawn_app, texts};

#[tokio::test]
async fn staff_and_api_actions_are_logged_with_before_and_after_and_outlive_what_they_describe() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let id = app
        .publish("Checkout errors", "investigating", "Chekout fails.", &[])
        .await;
    let res = app
        .post_update(id, "monitoring", "A fix is out.", &[])
        .await;
    assert_eq!(res.status(), 303);
    let api = app.add_component("Payments").await;
    let res = app
        .post_form(
            &format!("/admin/components/{api}/delete"),
            &format!("/admin/components/{api}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let token = api_token(&app, "write").await;
    let (status, inc) = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(json!({ "name": "Slow search", "message": "Looking." })),
    )
    .await;
    assert_eq!(status, 201, "{inc:#}");

    let html = app.get_html("/admin/audit").await;
    let whats = texts(&html, "td[data-label=What]");
    let who = texts(&html, "td[data-label=Who]");
    // Newest first.
    assert!(whats[0].starts_with("Published the incident"), "{whats:?}");
    assert_eq!(who[0], "write bot (API token)");
    assert!(
        whats
            .iter()
            .any(|w| w.starts_with("Created the write token write bot")),
        "{whats:?}"
    );
    assert!(
        whats.iter().any(|w| w.starts_with("Deleted the component")),
        "{whats:?}"
    );
    assert!(
        whats
            .iter()
            .any(|w| w.starts_with("Added the component Payments")),
        "{whats:?}"
    );
    assert!(
        whats
            .iter()
            .any(|w| w.starts_with("Posted an update (Monitoring)")),
        "{whats:?}"
    );
    assert!(whats.last().unwrap().starts_with("Signed in"), "{whats:?}");
    assert!(
        who.iter()
            .all(|w| w == "Shannon" || w == "write bot (API token)"),
        "{who:?}"
    );

    // The export: every entry, oldest first, with before and after as JSON.
    let res = app.get("/admin/audit.csv").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let body = res.text().await.unwrap();
    let mut rows = csv::Reader::from_reader(body.as_bytes());
    let rows: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    let actions: Vec<&str> = rows.iter().map(|r| &r[4]).collect();
    assert_eq!(
        actions,
        [
            "staff.sign_in",
            "incident.create",
            "update.post",
            "component.create",
            "component.delete",
            "token.create",
            "incident.create"
        ]
    );
    // The deleted component still reads, from its state before.
    let deleted = rows.iter().find(|r| &r[4] == "component.delete").unwrap();
    let before: Value = serde_json::from_str(&deleted[8]).unwrap();
    assert_eq!(before["name"], "Payments");
    assert_eq!(&deleted[9], "", "nothing after a deletion");
    // An update's before and after are the incident as the API shows it.
    let update = rows.iter().find(|r| &r[4] == "update.post").unwrap();
    let before: Value = serde_json::from_str(&update[8]).unwrap();
    let after: Value = serde_json::from_str(&update[9]).unwrap();
    assert_eq!(before["incident_updates"].as_array().unwrap().len(), 1);
    assert_eq!(after["incident_updates"].as_array().unwrap().len(), 2);
    // No secret is ever logged.
    assert!(!body.contains(&token), "the token is not in the log");
    assert!(!body.contains("argon2"), "no password hash in the log");
}

#[tokio::test]
async fn only_admins_read_the_audit_log() {
    let app = spawn_app().await;
    app.add_staff("ops@example.com", "Ops", "a long enough passphrase", false)
        .await;
    assert_eq!(
        app.get("/admin/audit").await.status(),
        303,
        "signed out: to the sign-in"
    );
    let res = app
        .sign_in("ops@example.com", "a long enough passphrase")
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.get("/admin/audit").await.status(), 403);
    assert_eq!(app.get("/admin/audit.csv").await.status(), 403);
}
