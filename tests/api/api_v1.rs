//! The write API: tokens, validation, the outbox, idempotent retries.
use reqwest::{Method, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

use crate::helpers::{csrf_token, spawn_app, texts, TestApp};
use statuspost::entity::{api_token, notification_event};

/// Creates a token on the admin page (the admin must be signed in) and reads it
/// from the page, the one place it is ever shown.
pub async fn api_token(app: &TestApp, scope: &str) -> String {
    let res = app
        .post_form(
            "/admin/tokens",
            "/admin/tokens",
            &[("name", &format!("{scope} bot")), ("scope", scope)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let token = texts(&html, "#new-token")
        .pop()
        .expect("the token is shown");
    assert!(token.starts_with("sp_"), "{token}");
    token
}

pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let text = res.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}"))
    };
    (status, value)
}

fn assert_error(got: &(StatusCode, Value), status: u16, code: &str, field: Option<&str>) {
    assert_eq!(got.0.as_u16(), status, "{:#}", got.1);
    assert_eq!(got.1["error"]["code"], code, "{:#}", got.1);
    assert!(got.1["error"]["message"].is_string());
    if let Some(f) = field {
        assert_eq!(got.1["error"]["field"], f, "{:#}", got.1);
    }
}

async fn events(app: &TestApp) -> u64 {
    notification_event::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

pub async fn admin_with_token(scope: &str) -> (TestApp, String) {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let token = api_token(&app, scope).await;
    (app, token)
}

#[tokio::test]
async fn every_endpoint_needs_a_live_token() {
    let (app, token) = admin_with_token("write").await;
    let endpoints = [
        (Method::GET, "/api/v1/incidents"),
        (Method::POST, "/api/v1/incidents"),
        (Method::GET, "/api/v1/incidents/1"),
        (Method::POST, "/api/v1/incidents/1/updates"),
        (Method::GET, "/api/v1/components"),
        (Method::POST, "/api/v1/components"),
        (Method::PATCH, "/api/v1/components/1"),
        (Method::DELETE, "/api/v1/components/1"),
        (Method::GET, "/api/v1/subscribers"),
        (Method::POST, "/api/v1/subscribers"),
        (Method::DELETE, "/api/v1/subscribers/1"),
    ];
    for (method, path) in &endpoints {
        for bad in [None, Some("sp_not-a-real-token"), Some("garbage")] {
            let got = call(&app, method.clone(), path, bad, Some(json!({}))).await;
            assert_error(&got, 401, "unauthorized", None);
        }
    }
    // Revoked on the admin page, the token stops working at once.
    let (status, _) = call(&app, Method::GET, "/api/v1/incidents", Some(&token), None).await;
    assert_eq!(status, 200);
    let id = api_token::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let page = app.get_html("/admin/tokens").await;
    let res = app
        .client
        .post(app.url(&format!("/admin/tokens/{id}/revoke")))
        .form(&[("csrf_token", csrf_token(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let got = call(&app, Method::GET, "/api/v1/incidents", Some(&token), None).await;
    assert_error(&got, 401, "unauthorized", None);
    let page = app.get_html("/admin/tokens").await;
    assert!(page.contains("Revoked"), "{page}");
}

#[tokio::test]
async fn a_read_token_reads_but_cannot_write() {
    let (app, token) = admin_with_token("read").await;
    for path in [
        "/api/v1/incidents",
        "/api/v1/components",
        "/api/v1/subscribers",
    ] {
        let (status, body) = call(&app, Method::GET, path, Some(&token), None).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.is_array());
    }
    let writes = [
        (Method::POST, "/api/v1/incidents"),
        (Method::POST, "/api/v1/incidents/1/updates"),
        (Method::POST, "/api/v1/components"),
        (Method::PATCH, "/api/v1/components/1"),
        (Method::DELETE, "/api/v1/components/1"),
        (Method::POST, "/api/v1/subscribers"),
        (Method::DELETE, "/api/v1/subscribers/1"),
    ];
    for (method, path) in writes {
        let got = call(&app, method, path, Some(&token), Some(json!({}))).await;
        assert_error(&got, 403, "forbidden", None);
    }
    // Its use is recorded and shown to admins.
    let t = api_token::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(t.last_used_at.is_some());
    assert_eq!(t.token_hash.len(), 64, "only a SHA-256 is stored");
    assert!(!t.token_hash.contains(&token));
    let page = app.get_html("/admin/tokens").await;
    assert!(!page.contains(&token), "a token is shown once only");
    assert!(!page.contains("Never"), "last use is shown");
}

#[tokio::test]
async fn tokens_are_for_admins_only() {
    let app = spawn_app().await;
    app.add_staff("staff@example.com", "Sam", "another long password", false)
        .await;
    app.sign_in("staff@example.com", "another long password")
        .await;
    let res = app.get("/admin/tokens").await;
    assert_eq!(res.status(), 403);
    let res = app
        .client
        .post(app.url("/admin/tokens"))
        .form(&[("name", "x"), ("scope", "write")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(api_token::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn the_token_form_checks_csrf_and_fields() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = app
        .client
        .post(app.url("/admin/tokens"))
        .form(&[("csrf_token", "forged"), ("name", "x"), ("scope", "write")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .post_form(
            "/admin/tokens",
            "/admin/tokens",
            &[("name", ""), ("scope", "admin")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(texts(&html, ".field-error").len(), 2, "{html}");
    assert_eq!(api_token::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn incidents_posted_through_the_api_notify_like_the_form() {
    let (app, token) = admin_with_token("write").await;
    let db = app.add_component("Database").await;

    // The staff form: one outbox event per notified update.
    let form_incident = app
        .publish("From the form", "investigating", "Form.", &[])
        .await;
    assert_eq!(events(&app).await, 1);

    let (status, inc) = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(json!({
            "name": "Database down",
            "status": "identified",
            "impact": "critical",
            "message": "The **primary** is down.",
            "components": { db.to_string(): "major_outage" },
        })),
    )
    .await;
    assert_eq!(status, 201, "{inc:#}");
    assert_eq!(
        events(&app).await,
        2,
        "an API post notifies as the form does"
    );
    assert_eq!(inc["name"], "Database down");
    assert_eq!(inc["impact"], "critical");
    assert_eq!(inc["status"], "identified");
    assert_eq!(inc["incident_updates"][0]["author"], "Shannon");
    assert_eq!(
        inc["incident_updates"][0]["affected_components"][0]["new_status"],
        "major_outage"
    );
    let id = inc["id"].as_str().unwrap().to_owned();

    let (status, after) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/updates"),
        Some(&token),
        Some(json!({
            "status": "resolved",
            "message": "Failed over.",
            "components": { db.to_string(): "operational" },
        })),
    )
    .await;
    assert_eq!(status, 201, "{after:#}");
    assert_eq!(after["status"], "resolved");
    assert_eq!(after["incident_updates"][0]["body"], "Failed over.");
    assert_eq!(after["incident_updates"].as_array().unwrap().len(), 2);
    assert_eq!(events(&app).await, 3);

    // notify: false writes no event, as the unticked box on the form.
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{form_incident}/updates"),
        Some(&token),
        Some(json!({ "status": "resolved", "message": "Quietly.", "notify": false })),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(events(&app).await, 3);

    // The public page and the read API show it at once.
    let html = app.get_html(&format!("/incidents/{id}")).await;
    assert!(html.contains("Failed over."));
    let (status, one) = call(
        &app,
        Method::GET,
        &format!("/api/v1/incidents/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one, after);
    let (_, list) = call(&app, Method::GET, "/api/v1/incidents", Some(&token), None).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], id.as_str());
}

/// The status of each component in `/api/v2/components.json`, by name.
async fn component_statuses(app: &TestApp) -> Vec<(String, String)> {
    let v: Value = app
        .get("/api/v2/components.json")
        .await
        .json()
        .await
        .unwrap();
    v["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn resolving_through_the_api_returns_components_to_operational_when_asked() {
    let (app, token) = admin_with_token("write").await;
    let db = app.add_component("Database").await;
    let web = app.add_component("Website").await;
    let mut ids = Vec::new();
    for title in ["Asked", "Not asked"] {
        let (status, inc) = call(
            &app,
            Method::POST,
            "/api/v1/incidents",
            Some(&token),
            Some(json!({
                "name": title,
                "message": "Down.",
                "components": { db.to_string(): "major_outage", web.to_string(): "degraded_performance" },
            })),
        )
        .await;
        assert_eq!(status, 201, "{inc:#}");
        ids.push(inc["id"].as_str().unwrap().to_owned());
    }
    // As Statuspage's API: a plain resolve changes only what it names.
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{}/updates", ids[1]),
        Some(&token),
        Some(json!({ "status": "resolved", "message": "Fixed.", "components": { web.to_string(): "operational" } })),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        component_statuses(&app).await,
        [
            ("Database".to_owned(), "major_outage".to_owned()),
            ("Website".to_owned(), "operational".to_owned())
        ]
    );
    // Asked, as the admin form does: the rest returns to operational, in the update.
    let (status, inc) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{}/updates", ids[0]),
        Some(&token),
        Some(json!({ "status": "resolved", "message": "Fixed.", "operational_on_resolve": true })),
    )
    .await;
    assert_eq!(status, 201, "{inc:#}");
    let changed: Vec<&str> = inc["incident_updates"][0]["affected_components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["new_status"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["operational"], "{inc:#}");
    assert!(component_statuses(&app)
        .await
        .iter()
        .all(|(_, s)| s == "operational"));
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_at_fault() {
    let (app, token) = admin_with_token("write").await;
    let t = Some(token.as_str());
    let inc = app.publish("Open", "investigating", "Hm.", &[]).await;
    let before = events(&app).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "message": "m" }), "name"),
        (json!({ "name": "n" }), "message"),
        (json!({ "name": "", "message": "m" }), "name"),
        (json!({ "name": "two\nlines", "message": "m" }), "name"),
        (json!({ "name": "n", "message": "   " }), "message"),
        (
            json!({ "name": "n", "message": "m", "status": "fixed" }),
            "status",
        ),
        (
            json!({ "name": "n", "message": "m", "impact": "huge" }),
            "impact",
        ),
        (
            json!({ "name": "n", "message": "m", "components": { "999": "major_outage" } }),
            "components",
        ),
        (
            json!({ "name": "n", "message": "m", "components": { "abc": "major_outage" } }),
            "components.abc",
        ),
        (
            json!({ "name": "n", "message": "m", "started_at": "2999-01-01T00:00:00Z" }),
            "started_at",
        ),
        (
            json!({ "name": "n", "message": "m", "started_at": "yesterday" }),
            "started_at",
        ),
        (json!({ "name": "n", "message": "m", "extra": 1 }), "extra"),
        (json!({ "name": 5, "message": "m" }), "body"),
        (json!({ "name": "n\u{0}", "message": "m" }), "name"),
        (json!({ "name": "x".repeat(201), "message": "m" }), "name"),
    ];
    for (body, field) in cases {
        let got = call(
            &app,
            Method::POST,
            "/api/v1/incidents",
            t,
            Some(body.clone()),
        )
        .await;
        assert_error(&got, 422, "validation_failed", Some(field));
    }
    let update = format!("/api/v1/incidents/{inc}/updates");
    let got = call(
        &app,
        Method::POST,
        &update,
        t,
        Some(json!({ "status": "done", "message": "m" })),
    )
    .await;
    assert_error(&got, 422, "validation_failed", Some("status"));
    let got = call(
        &app,
        Method::POST,
        &update,
        t,
        Some(json!({ "status": "resolved", "message": "m", "display_at": "2001-01-01T00:00:00+00:00" })),
    )
    .await;
    assert_error(&got, 422, "validation_failed", Some("display_at"));
    assert_eq!(events(&app).await, before, "nothing refused was published");

    // Not JSON at all.
    let res = app
        .client
        .post(app.url("/api/v1/incidents"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");

    // Too large.
    let big = json!({ "name": "n", "message": "x".repeat(100 * 1024) });
    let got = call(&app, Method::POST, "/api/v1/incidents", t, Some(big)).await;
    assert_error(&got, 413, "payload_too_large", None);

    // Ids that name nothing.
    for path in [
        "/api/v1/incidents/999",
        "/api/v1/incidents/abc",
        "/api/v1/incidents/-1",
        "/api/v1/incidents/99999999999999999999",
        "/api/v1/nothing-here",
    ] {
        let got = call(&app, Method::GET, path, t, None).await;
        assert_error(&got, 404, "not_found", None);
    }
    let got = call(
        &app,
        Method::POST,
        "/api/v1/incidents/999/updates",
        t,
        Some(json!({ "status": "resolved", "message": "m" })),
    )
    .await;
    assert_error(&got, 404, "not_found", None);
}

#[tokio::test]
async fn a_retried_post_with_an_idempotency_key_posts_once() {
    let (app, token) = admin_with_token("write").await;
    let body = json!({ "name": "Flaky network", "message": "Looking into it." });
    let send = |key: &'static str, body: Value| {
        let req = app
            .client
            .post(app.url("/api/v1/incidents"))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let first = send("deploy-42", body.clone()).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let retry = send("deploy-42", body.clone()).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first, "the retry gets the first result");
    let (_, list) = call(&app, Method::GET, "/api/v1/incidents", Some(&token), None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "posted once");
    assert_eq!(events(&app).await, 1, "notified once");

    // The same key for another request is a conflict.
    let other = send("deploy-42", json!({ "name": "Other", "message": "m" })).await;
    assert_eq!(other.status(), 409);
    let other: Value = other.json().await.unwrap();
    assert_eq!(other["error"]["code"], "idempotency_key_reused");

    // A refused request is remembered as refused.
    let bad = send("deploy-43", json!({ "name": "" , "message": "m"})).await;
    assert_eq!(bad.status(), 422);
    let again = send("deploy-43", json!({ "name": "" , "message": "m"})).await;
    assert_eq!(again.status(), 422);
    assert_eq!(again.headers()["idempotent-replayed"], "true");

    // Updates too.
    let id = first["id"].as_str().unwrap();
    let path = format!("/api/v1/incidents/{id}/updates");
    for _ in 0..2 {
        let res = app
            .client
            .post(app.url(&path))
            .bearer_auth(&token)
            .header("Idempotency-Key", "resolve-1")
            .json(&json!({ "status": "resolved", "message": "Done." }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let (_, inc) = call(
        &app,
        Method::GET,
        &format!("/api/v1/incidents/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(inc["incident_updates"].as_array().unwrap().len(), 2);
    assert_eq!(events(&app).await, 2);

    // Without a key, each POST acts.
    let got = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(body.clone()),
    )
    .await;
    assert_eq!(got.0, 201);
    let got = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(body),
    )
    .await;
    assert_eq!(got.0, 201);
    let (_, list) = call(&app, Method::GET, "/api/v1/incidents", Some(&token), None).await;
    assert_eq!(list.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn components_can_be_listed_added_changed_and_removed() {
    let (app, token) = admin_with_token("write").await;
    let t = Some(token.as_str());
    let (status, c) = call(
        &app,
        Method::POST,
        "/api/v1/components",
        t,
        Some(json!({ "name": "Search", "group": "Backend", "position": 3, "description": "Finds things" })),
    )
    .await;
    assert_eq!(status, 201, "{c:#}");
    assert_eq!(c["name"], "Search");
    assert_eq!(c["status"], "operational");
    assert_eq!(c["position"], 3);
    assert_eq!(c["description"], "Finds things");
    assert!(c["group_id"].is_string());
    let id = c["id"].as_str().unwrap().to_owned();

    let before = events(&app).await;
    let (status, c) = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/components/{id}"),
        t,
        Some(json!({ "status": "degraded_performance" })),
    )
    .await;
    assert_eq!(status, 200, "{c:#}");
    assert_eq!(c["status"], "degraded_performance");
    assert_eq!(c["name"], "Search", "absent fields stay");
    assert!(c["group_id"].is_string());
    assert_eq!(events(&app).await, before + 1, "a status change notifies");
    let (_, summary) = call(&app, Method::GET, "/api/v2/summary.json", None, None).await;
    assert_eq!(summary["status"]["indicator"], "minor");

    let (status, c) = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/components/{id}"),
        t,
        Some(json!({ "status": "operational", "group": "", "notify": false })),
    )
    .await;
    assert_eq!(status, 200);
    assert!(c["group_id"].is_null());
    assert_eq!(events(&app).await, before + 1, "notify: false is quiet");

    for (body, field) in [
        (json!({ "status": "down" }), "status"),
        (json!({ "name": "" }), "name"),
        (json!({ "position": -1 }), "position"),
        (json!({ "position": 1e12 }), "body"),
        (json!({ "description": "d".repeat(501) }), "description"),
    ] {
        let got = call(
            &app,
            Method::PATCH,
            &format!("/api/v1/components/{id}"),
            t,
            Some(body),
        )
        .await;
        assert_error(&got, 422, "validation_failed", Some(field));
    }
    let got = call(
        &app,
        Method::POST,
        "/api/v1/components",
        t,
        Some(json!({ "description": "no name" })),
    )
    .await;
    assert_error(&got, 422, "validation_failed", Some("name"));
    let got = call(
        &app,
        Method::PATCH,
        "/api/v1/components/999",
        t,
        Some(json!({})),
    )
    .await;
    assert_error(&got, 404, "not_found", None);

    let (_, list) = call(&app, Method::GET, "/api/v1/components", t, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, body) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/components/{id}"),
        t,
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(body.is_null());
    let got = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/components/{id}"),
        t,
        None,
    )
    .await;
    assert_error(&got, 404, "not_found", None);
    let (_, list) = call(&app, Method::GET, "/api/v1/components", t, None).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn subscribers_can_be_listed_added_and_removed() {
    let (app, token) = admin_with_token("write").await;
    let t = Some(token.as_str());
    let db = app.add_component("Database").await;

    let (status, created) = call(
        &app,
        Method::POST,
        "/api/v1/subscribers",
        t,
        Some(json!({ "email": "ops@example.com", "components": [db.to_string()] })),
    )
    .await;
    assert_eq!(status, 201, "{created:#}");
    assert_eq!(created["subscriber"]["kind"], "email");
    assert_eq!(created["subscriber"]["email"], "ops@example.com");
    assert_eq!(
        created["subscriber"]["confirmed"], true,
        "an API add is confirmed"
    );
    assert_eq!(created["subscriber"]["components"], json!([db.to_string()]));
    assert!(created["secret"].is_null());

    let (status, hook) = call(
        &app,
        Method::POST,
        "/api/v1/subscribers",
        t,
        Some(json!({ "webhook_url": "https://hooks.example.com/status", "email": "dev@example.com" })),
    )
    .await;
    assert_eq!(status, 201, "{hook:#}");
    assert_eq!(hook["subscriber"]["kind"], "webhook");
    assert_eq!(
        hook["subscriber"]["webhook_url"],
        "https://hooks.example.com/status"
    );
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&secret["whsec_".len()..])
        .unwrap();
    assert!(raw.len() >= 24);

    let (status, list) = call(&app, Method::GET, "/api/v1/subscribers", t, None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains(secret), "secrets are shown once");

    let got = call(
        &app,
        Method::POST,
        "/api/v1/subscribers",
        t,
        Some(json!({ "email": "ops@example.com" })),
    )
    .await;
    assert_error(&got, 409, "conflict", Some("email"));
    let got = call(
        &app,
        Method::POST,
        "/api/v1/subscribers",
        t,
        Some(
            json!({ "webhook_url": "https://hooks.example.com/status", "email": "x@example.com" }),
        ),
    )
    .await;
    assert_error(&got, 409, "conflict", Some("webhook_url"));
    for (body, field) in [
        (json!({ "email": "not an address" }), "email"),
        (
            json!({ "webhook_url": "ftp://x.example.com", "email": "a@example.com" }),
            "webhook_url",
        ),
        (json!({ "webhook_url": "https://x.example.com" }), "email"),
        (json!({}), "email"),
        (
            json!({ "email": "b@example.com", "components": ["999"] }),
            "components",
        ),
        (
            json!({ "email": "b@example.com", "components": ["x"] }),
            "components",
        ),
    ] {
        let got = call(&app, Method::POST, "/api/v1/subscribers", t, Some(body)).await;
        assert_error(&got, 422, "validation_failed", Some(field));
    }

    let id = created["subscriber"]["id"].as_str().unwrap();
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/subscribers/{id}"),
        t,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let got = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/subscribers/{id}"),
        t,
        None,
    )
    .await;
    assert_error(&got, 404, "not_found", None);
    let (_, list) = call(&app, Method::GET, "/api/v1/subscribers", t, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_post_once() {
    let (app, token) = admin_with_token("write").await;
    let body = json!({ "name": "Retried storm", "message": "Once only." });
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let req = app
            .client
            .post(app.url("/api/v1/incidents"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "storm-1")
            .json(&body);
        sends.spawn(async move { req.send().await.unwrap().status().as_u16() });
    }
    let statuses = sends.join_all().await;
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201), "{statuses:?}");
    let (_, list) = call(&app, Method::GET, "/api/v1/incidents", Some(&token), None).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "posted once: {statuses:?}"
    );
    assert_eq!(events(&app).await, 1);
}

fn cli(db_url: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_statuspost"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

// Multi-threaded: the CLI runs as a blocking child process, and the app's
// delivery worker (spawned on this runtime) must not stall mid-transaction,
// holding SQLite's write lock, while the test thread waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_manage_tokens_from_the_command_line() {
    let dir = crate::helpers::TempDir::new();
    let db = crate::helpers::TestDatabase::new(&dir).await;
    let url = db.url.clone();
    let (ok, _, err) = cli(&url, &["migrate"], "");
    assert!(ok, "{err}");
    let (ok, _, err) = cli(
        &url,
        &["token", "add", "--name", "ci", "--scope", "write"],
        "",
    );
    assert!(!ok);
    assert!(err.contains("user add"), "says how to get an admin: {err}");
    let (ok, _, err) = cli(
        &url,
        &[
            "user",
            "add",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--admin",
        ],
        "a long enough password\n",
    );
    assert!(ok, "{err}");
    let (ok, _, err) = cli(
        &url,
        &["token", "add", "--name", "ci", "--scope", "admin"],
        "",
    );
    assert!(!ok);
    assert!(err.contains("scope"), "{err}");
    let (ok, token, err) = cli(
        &url,
        &["token", "add", "--name", "ci", "--scope", "write"],
        "",
    );
    assert!(ok, "{err}");
    let token = token.trim().to_owned();
    assert!(token.starts_with("sp_") && token.len() > 40, "{token}");

    let app = crate::helpers::spawn_app_on(db, dir, &[]).await;
    let (status, inc) = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(json!({ "name": "From CI", "message": "m" })),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        inc["incident_updates"][0]["author"], "Ops",
        "written as the first admin"
    );

    let (ok, listed, _) = cli(&url, &["token", "list"], "");
    assert!(ok);
    assert!(listed.contains("\twrite\tci\tlast used "), "{listed}");
    assert!(!listed.contains(&token), "never the secret: {listed}");
    let id = listed.split('\t').next().unwrap().to_owned();
    let (ok, out, _) = cli(&url, &["token", "revoke", &id], "");
    assert!(ok);
    assert!(out.contains("revoked"), "{out}");
    let (ok, _, err) = cli(&url, &["token", "revoke", &id], "");
    assert!(!ok, "{err}");
    let got = call(&app, Method::GET, "/api/v1/incidents", Some(&token), None).await;
    assert_error(&got, 401, "unauthorized", None);
}

#[tokio::test]
async fn an_unreadable_token_scope_is_an_error_not_a_read_token() {
    use sea_orm::ConnectionTrait;
    let (app, token) = admin_with_token("write").await;
    let got = call(&app, Method::GET, "/api/v1/incidents", Some(&token), None).await;
    assert_eq!(got.0, 200, "{:#}", got.1);
    // A scope this version cannot read: written by hand, or by a newer version.
    app.db
        .execute_unprepared("UPDATE api_tokens SET scope = 'admin'")
        .await
        .unwrap();
    let got = call(&app, Method::GET, "/api/v1/incidents", Some(&token), None).await;
    assert_error(&got, 500, "internal", None);
    let body = json!({ "name": "Outage", "message": "Looking." });
    let got = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(body),
    )
    .await;
    assert_error(&got, 500, "internal", None);
    assert_eq!(events(&app).await, 0);
    assert_eq!(app.get("/admin/tokens").await.status(), 500);
}

// Multi-threaded for the same reason as operators_manage_tokens_from_the_command_line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_and_the_form_refuse_a_token_name_in_the_same_words() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let long = "x".repeat(101);
    for name in ["", "   ", long.as_str(), "deploy\tscript"] {
        let res = app
            .post_form(
                "/admin/tokens",
                "/admin/tokens",
                &[("name", name), ("scope", "write")],
            )
            .await;
        assert_eq!(res.status(), 422, "{name:?}");
        let html = res.text().await.unwrap();
        let said = texts(&html, ".field-error");
        assert_eq!(said.len(), 1, "{name:?}: {html}");
        let (ok, _, err) = cli(
            &app.database.url,
            &["token", "add", "--name", name, "--scope", "write"],
            "",
        );
        assert!(!ok, "{name:?}");
        assert!(
            err.contains(&format!("statuspost: {}", said[0])),
            "{name:?}: the form said {:?}, the command line {err:?}",
            said[0]
        );
    }
    assert_eq!(api_token::Entity::find().count(&app.db).await.unwrap(), 0);
    let (ok, _, err) = cli(
        &app.database.url,
        &[
            "token",
            "add",
            "--name",
            " deploy script ",
            "--scope",
            "read",
        ],
        "",
    );
    assert!(ok, "{err}");
    let (ok, listed, _) = cli(&app.database.url, &["token", "list"], "");
    assert!(ok);
    assert!(
        listed.contains("\tread\tdeploy script\tnever used"),
        "{listed}"
    );
}
