//! The public read API: Statuspage's v2 shape, checked against a strict schema.
use serde_json::{json, Value};

use crate::api_v1::api_token;
use crate::helpers::{spawn_app, spawn_app_with, TestApp};

const SCHEMA: &str = include_str!("schemas/statuspage_v2.json");

/// Validates `doc` against the `$defs/<def>` of the strict Statuspage schema.
pub fn assert_shape(def: &str, doc: &Value) {
    let mut schema: Value = serde_json::from_str(SCHEMA).unwrap();
    schema["$ref"] = json!(format!("#/$defs/{def}"));
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{def} breaks the schema: {errors:#?}\n{doc:#}"
    );
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "GET {path}");
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "*",
        "{path} is readable from any origin"
    );
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    res.json().await.unwrap()
}

/// A page with a grouped component, an open incident and a resolved one.
async fn seeded() -> (TestApp, i32, i32, i32) {
    let app = spawn_app_with(&[("STATUSPOST_TIMEZONE", "America/New_York")]).await;
    app.sign_in_admin().await;
    let res = app
        .post_form(
            "/admin/components",
            "/admin/components",
            &[
                ("name", "API"),
                ("group", "Core"),
                ("position", "1"),
                ("status", "operational"),
                ("description", "The public API"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let web = app.add_component("Website").await;
    let api = statuspost::store::components::list(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.model.name == "API")
        .unwrap()
        .model
        .id;
    let old = app
        .publish("Old trouble", "investigating", "It broke.", &[])
        .await;
    let res = app.post_update(old, "resolved", "Fixed it.", &[]).await;
    assert_eq!(res.status(), 303);
    let open = app
        .publish(
            "Slow API",
            "identified",
            "Requests are **slow**.",
            &[(&format!("component_{api}"), "partial_outage")],
        )
        .await;
    let res = app
        .post_update(open, "monitoring", "A fix is out; watching.", &[])
        .await;
    assert_eq!(res.status(), 303);
    let _ = web;
    (app, api, open, old)
}

#[tokio::test]
async fn every_document_has_statuspages_shape() {
    let (app, api, open, old) = seeded().await;

    let summary = get_json(&app, "/api/v2/summary.json").await;
    assert_shape("summary", &summary);
    assert_eq!(summary["page"]["name"], "Acme Status");
    assert_eq!(summary["page"]["time_zone"], "America/New_York");
    assert_eq!(summary["page"]["url"], format!("{}/", app.address));
    assert_eq!(summary["status"]["indicator"], "major");
    assert_eq!(summary["status"]["description"], "Partial System Outage");
    // The group comes first, with its member's worst status, then its member.
    let names: Vec<&str> = summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Website", "Core", "API"], "in page order");
    assert_eq!(summary["components"][1]["group"], true);
    assert_eq!(summary["components"][1]["status"], "partial_outage");
    assert_eq!(
        summary["components"][1]["components"],
        json!([api.to_string()])
    );
    assert_eq!(
        summary["components"][2]["group_id"],
        summary["components"][1]["id"]
    );
    assert_eq!(summary["components"][2]["id"], api.to_string());
    assert_eq!(summary["components"][2]["description"], "The public API");
    assert_eq!(summary["components"][0]["group"], false);
    // Only the open incident, its updates newest first, times in the page's zone.
    let incidents = summary["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1);
    let inc = &incidents[0];
    assert_eq!(inc["id"], open.to_string());
    assert_eq!(inc["status"], "monitoring");
    assert_eq!(inc["impact"], "major");
    assert!(inc["monitoring_at"].is_string());
    assert!(inc["resolved_at"].is_null());
    assert_eq!(
        inc["shortlink"],
        format!("{}/incidents/{open}", app.address)
    );
    let updates = inc["incident_updates"].as_array().unwrap();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0]["status"], "monitoring");
    assert_eq!(updates[1]["body"], "Requests are **slow**.");
    assert_eq!(updates[1]["author"], "Shannon");
    assert_eq!(updates[1]["deliver_notifications"], true);
    assert_eq!(
        updates[1]["affected_components"],
        json!([{ "code": api.to_string(), "name": "API", "old_status": "operational", "new_status": "partial_outage" }])
    );
    assert_eq!(inc["components"][0]["name"], "API");
    let started = inc["started_at"].as_str().unwrap();
    assert!(
        started.ends_with("-05:00") || started.ends_with("-04:00"),
        "{started} carries New York's offset"
    );

    let status = get_json(&app, "/api/v2/status.json").await;
    assert_shape("status_document", &status);
    assert_eq!(status["status"], summary["status"]);

    let components = get_json(&app, "/api/v2/components.json").await;
    assert_shape("components_document", &components);
    assert_eq!(components["components"], summary["components"]);

    let all = get_json(&app, "/api/v2/incidents.json").await;
    assert_shape("incidents_document", &all);
    let ids: Vec<&str> = all["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [open.to_string(), old.to_string()], "newest first");
    assert_eq!(all["incidents"][1]["status"], "resolved");
    assert!(all["incidents"][1]["resolved_at"].is_string());

    let unresolved = get_json(&app, "/api/v2/incidents/unresolved.json").await;
    assert_shape("incidents_document", &unresolved);
    assert_eq!(unresolved["incidents"], summary["incidents"]);
}

#[tokio::test]
async fn an_empty_page_reads_all_operational() {
    let app = spawn_app().await;
    let summary = get_json(&app, "/api/v2/summary.json").await;
    assert_shape("summary", &summary);
    assert_eq!(summary["status"]["indicator"], "none");
    assert_eq!(summary["status"]["description"], "All Systems Operational");
    assert_eq!(summary["page"]["time_zone"], "UTC");
    assert!(summary["page"]["updated_at"]
        .as_str()
        .unwrap()
        .ends_with("+00:00"));
    let all = get_json(&app, "/api/v2/incidents.json").await;
    assert_eq!(all["incidents"], json!([]));
}

#[tokio::test]
async fn incidents_json_lists_the_fifty_most_recent() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let token = api_token(&app, "write").await;
    for n in 1..=51 {
        let res = app
            .client
            .post(app.url("/api/v1/incidents"))
            .bearer_auth(&token)
            .json(&json!({ "name": format!("Incident {n}"), "message": "m", "status": "resolved", "notify": false }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let all = get_json(&app, "/api/v2/incidents.json").await;
    let list = all["incidents"].as_array().unwrap();
    assert_eq!(list.len(), 50);
    assert_eq!(list[0]["name"], "Incident 51");
    assert_eq!(list[49]["name"], "Incident 2");
}

#[tokio::test]
async fn reads_are_cached_until_the_next_write() {
    let (app, ..) = seeded().await;
    let first = app.get("/api/v2/status.json").await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/api/v2/status.json"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        304,
        "an unchanged document is not sent twice"
    );

    // Resolving the incident changes the document at once.
    let summary = get_json(&app, "/api/v2/summary.json").await;
    let open: i32 = summary["incidents"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let api = summary["components"][2]["id"].as_str().unwrap().to_owned();
    let res = app
        .post_update(
            open,
            "resolved",
            "All good.",
            &[(&format!("component_{api}"), "operational")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let after = app
        .client
        .get(app.url("/api/v2/status.json"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200);
    let body: Value = after.json().await.unwrap();
    assert_eq!(body["status"]["indicator"], "none");
    let unresolved = get_json(&app, "/api/v2/incidents/unresolved.json").await;
    assert_eq!(unresolved["incidents"], json!([]));
}

#[tokio::test]
async fn the_read_api_refuses_writes() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/v2/summary.json"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(
        res.status() == 404 || res.status() == 405,
        "got {}",
        res.status()
    );
}

#[tokio::test]
async fn the_badge_shows_the_overall_status_in_its_colour() {
    let (app, api, ..) = seeded().await;
    let res = app.get("/badge.svg").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(res.headers().contains_key("etag"));
    let svg = res.text().await.unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("Partial System Outage"), "{svg}");
    assert!(svg.contains("#c05621"), "major is orange: {svg}");
    let doc = scraper::Html::parse_fragment(&svg);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);

    let res = app
        .post_form(
            "/admin/components",
            &format!("/admin/components/{api}"),
            &[
                ("name", "API"),
                ("group", "Core"),
                ("position", "1"),
                ("status", "operational"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let svg = app.get("/badge.svg").await.text().await.unwrap();
    assert!(svg.contains("All Systems Operational"), "{svg}");
    assert!(svg.contains("#2e7d32"), "operational is green: {svg}");
}

#[tokio::test]
async fn the_openapi_document_covers_both_apis() {
    let app = spawn_app().await;
    let doc = get_json(&app, "/api/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v2/summary.json",
        "/api/v2/status.json",
        "/api/v2/components.json",
        "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json",
        "/api/v1/incidents",
        "/api/v1/incidents/{id}",
        "/api/v1/incidents/{id}/updates",
        "/api/v1/incidents/{id}/cancel",
        "/api/v1/incidents/{id}/stop-series",
        "/api/v1/components",
        "/api/v1/components/{id}",
        "/api/v1/subscribers",
        "/api/v1/subscribers/{id}",
        "/api/v1/templates",
        "/api/v1/templates/{id}",
    ] {
        assert!(paths.contains_key(p), "{p} is documented");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let incident = &doc["components"]["schemas"]["Incident"]["properties"];
    for field in [
        "postmortem_body",
        "postmortem_body_last_updated_at",
        "postmortem_ignored",
        "postmortem_notified_subscribers",
        "postmortem_notified_twitter",
        "postmortem_published_at",
    ] {
        assert!(incident[field].is_object(), "Incident documents {field}");
    }
    assert!(doc["components"]["schemas"]["Template"]["properties"]["message"].is_object());
}

#[tokio::test]
async fn every_write_api_operation_documents_the_errors_it_can_answer() {
    let app = spawn_app().await;
    let doc = get_json(&app, "/api/openapi.json").await;
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let mut expected = vec!["401"];
            if method != "get" {
                expected.push("403");
            }
            if op.get("requestBody").is_some() {
                expected.extend(["400", "413", "422"]);
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["name"] == "Idempotency-Key") {
                expected.push("409");
            }
            if path.contains("{id}") {
                expected.push("404");
            }
            for status in expected {
                assert_eq!(
                    op["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} documents {status} with the error body"
                );
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 23, "every operation of the write API was checked");
}
