//! Incident templates: saved in the admin and through the write API, and
//! opening the new-incident and update forms filled in, their placeholders
//! replaced as plain text (never run through the template engine).
use reqwest::Method;
use serde_json::json;

use crate::api_v1::{api_token, call};
use crate::helpers::{attr, spawn_app, texts, TestApp};

/// Text a template engine would run: it must come out exactly as written.
const ENGINE: &str = "{{ 7*7 }} {% if true %}yes{% endif %} {{ page_name }}";

async fn add_template(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form("/admin/templates", "/admin/templates", fields)
        .await
}

fn template_id(app_html: &str, name: &str) -> i32 {
    let doc = scraper::Html::parse_document(app_html);
    let sel = scraper::Selector::parse("ul.templates a").unwrap();
    let href = doc
        .select(&sel)
        .find(|a| a.text().collect::<String>() == name)
        .and_then(|a| a.value().attr("href"))
        .expect("the template is listed")
        .to_owned();
    href.rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_template_opens_the_new_incident_and_update_forms_filled_in_as_plain_text() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let web = app.add_component("Website").await;
    let message = format!(
        "Since {{start}}, {{component}} on {{page}} is slow. {ENGINE} {{incident}} {{unknown}}"
    );
    let res = add_template(
        &app,
        &[
            ("name", "Slow API"),
            ("title", "{component} degraded"),
            ("status", "identified"),
            ("impact", "major"),
            ("message", &message),
            (format!("component_{api}").as_str(), "degraded_performance"),
            (format!("component_{web}").as_str(), ""),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("done=template-added"));
    let list = app.get_html("/admin/templates?done=template-added").await;
    assert!(texts(&list, "[role=status]")[0].starts_with("Template added"));
    let id = template_id(&list, "Slow API");

    // The new-incident form, filled in.
    let html = app
        .get_html(&format!("/admin/incidents/new?template={id}"))
        .await;
    assert_eq!(
        attr(&html, "#title", "value").as_deref(),
        Some("API degraded")
    );
    let text = texts(&html, "#message").remove(0);
    assert!(text.starts_with("Since "), "{text}");
    // (`texts` folds runs of spaces: `{incident}` is empty here.)
    assert!(
        text.contains(&format!("API on Acme Status is slow. {ENGINE} {{unknown}}")),
        "placeholders filled, the rest as written and nothing evaluated: {text}"
    );
    assert_eq!(
        attr(&html, "#status option[selected]", "value").as_deref(),
        Some("identified")
    );
    assert_eq!(
        attr(&html, "#impact option[selected]", "value").as_deref(),
        Some("major")
    );
    assert_eq!(
        attr(
            &html,
            &format!("#component_{api} option[selected]"),
            "value"
        )
        .as_deref(),
        Some("degraded_performance")
    );
    assert_eq!(
        attr(
            &html,
            &format!("#component_{web} option[selected]"),
            "value"
        ),
        None
    );
    assert_eq!(
        attr(&html, "#notify", "checked"),
        None,
        "its notify default: off"
    );
    assert_eq!(
        attr(&html, "#template option[selected]", "value"),
        Some(id.to_string())
    );

    // Published from that form as it stands, the text is what staff saw.
    let incident = app
        .publish(
            "API degraded",
            "identified",
            &text,
            &[(format!("component_{api}").as_str(), "degraded_performance")],
        )
        .await;
    let public = app.get_html(&format!("/incidents/{incident}")).await;
    assert!(public.contains("{{ 7*7 }}"), "{public}");

    // The update form of that incident: {incident} is its title.
    let html = app
        .get_html(&format!("/admin/incidents/{incident}?template={id}"))
        .await;
    let text = texts(&html, "#message").remove(0);
    assert!(
        text.contains(&format!("{ENGINE} API degraded {{unknown}}")),
        "{text}"
    );
    assert_eq!(
        attr(&html, "#status option[selected]", "value").as_deref(),
        Some("identified")
    );
    assert_eq!(
        app.get(&format!("/admin/incidents/new?template={}", id + 100))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn template_forms_keep_the_text_and_deleting_asks_first() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = add_template(
        &app,
        &[
            ("name", " "),
            ("title", "Kept title"),
            ("status", "investigating"),
            ("impact", "minor"),
            ("message", "Kept *message*."),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(
        texts(&html, "#name-error"),
        vec!["Enter a name for the template."]
    );
    assert_eq!(
        attr(&html, "#title", "value").as_deref(),
        Some("Kept title")
    );
    assert!(html.contains("Kept *message*."));

    let ok = [
        ("name", "Failover"),
        ("title", ""),
        ("status", "monitoring"),
        ("impact", "minor"),
        ("message", "Switched to the replica."),
        ("notify", "on"),
        ("action", "save"),
    ];
    assert_eq!(add_template(&app, &ok).await.status(), 303);
    let mut again = ok.to_vec();
    again[0] = ("name", "FAILOVER");
    let res = add_template(&app, &again).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(texts(&html, "#name-error")[0].contains("Another template has this name"));
    assert!(html.contains("Switched to the replica."));

    // Preview renders, saves nothing.
    let mut preview = ok.to_vec();
    preview[0] = ("name", "Previewed");
    preview[4] = ("message", "A **bold** plan.");
    preview[6] = ("action", "preview");
    let res = add_template(&app, &preview).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("<strong>bold</strong>"));

    let list = app.get_html("/admin/templates").await;
    assert!(!list.contains("Previewed"));
    let id = template_id(&list, "Failover");
    let path = format!("/admin/templates/{id}");
    let page = app.get_html(&path).await;
    assert_eq!(attr(&page, "#name", "value").as_deref(), Some("Failover"));
    assert_eq!(attr(&page, "#notify", "checked").as_deref(), Some(""));
    let mut edit = ok.to_vec();
    edit[4] = ("message", "");
    let res = app.post_form(&path, &path, &edit).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        attr(&res.text().await.unwrap(), "#name", "value").as_deref(),
        Some("Failover")
    );
    edit[4] = ("message", "Switched to the replica in {page}.");
    let res = app.post_form(&path, &path, &edit).await;
    assert_eq!(res.status(), 303);
    let page = app.get_html(&path).await;
    assert!(page.contains("Switched to the replica in {page}."));

    let confirm = app.get_html(&format!("{path}/delete")).await;
    assert!(texts(&confirm, "h1")[0].contains("Failover"));
    assert!(
        app.get_html("/admin/templates").await.contains("Failover"),
        "the confirmation page deletes nothing"
    );
    let res = app
        .post_form(&format!("{path}/delete"), &format!("{path}/delete"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("done=template-deleted"));
    assert!(!app.get_html("/admin/templates").await.contains("Failover"));
    assert_eq!(app.get(&path).await.status(), 404);
}

#[tokio::test]
async fn the_write_api_manages_templates_read_tokens_only_read() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let read = api_token(&app, "read").await;
    let write = api_token(&app, "write").await;
    let body = json!({
        "name": "Slow API",
        "title": "{component} degraded",
        "message": format!("{{component}} is slow. {ENGINE}"),
        "status": "identified",
        "components": { api.to_string(): "degraded_performance" },
        "notify": false,
    });
    let (status, got) = call(
        &app,
        Method::POST,
        "/api/v1/templates",
        Some(&read),
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 403, "{got}");
    let (status, created) = call(
        &app,
        Method::POST,
        "/api/v1/templates",
        Some(&write),
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    // The documented shape, field for field.
    let shaped: statuspost::web::api_v1::templates::Template =
        serde_json::from_value(created.clone()).expect("the documented shape");
    assert_eq!(shaped.message, format!("{{component}} is slow. {ENGINE}"));
    assert_eq!(created["impact"], "minor");
    assert_eq!(
        created["components"][api.to_string()],
        "degraded_performance"
    );
    assert_eq!(created["notify"], false);
    let id = created["id"].as_str().unwrap().to_owned();

    let (status, list) = call(&app, Method::GET, "/api/v1/templates", Some(&read), None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, one) = call(
        &app,
        Method::GET,
        &format!("/api/v1/templates/{id}"),
        Some(&read),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one, created);
    let (status, _) = call(&app, Method::GET, "/api/v1/templates", None, None).await;
    assert_eq!(status, 401);

    let (status, err) = call(
        &app,
        Method::POST,
        "/api/v1/templates",
        Some(&write),
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 422, "a taken name");
    assert_eq!(err["error"]["field"], "name");
    let (status, err) = call(
        &app,
        Method::POST,
        "/api/v1/templates",
        Some(&write),
        Some(json!({ "name": "Other", "message": "x", "components": { "999": "major_outage" } })),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "components.999");

    let path = format!("/api/v1/templates/{id}");
    let (status, _) = call(
        &app,
        Method::PATCH,
        &path,
        Some(&read),
        Some(json!({ "notify": true })),
    )
    .await;
    assert_eq!(status, 403);
    let (status, patched) = call(
        &app,
        Method::PATCH,
        &path,
        Some(&write),
        Some(json!({ "notify": true, "components": {} })),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["notify"], true);
    assert_eq!(patched["components"], json!({}));
    assert_eq!(
        patched["name"], "Slow API",
        "what the patch leaves out stays"
    );
    // The admin sees what the API wrote.
    assert!(app.get_html("/admin/templates").await.contains("Slow API"));

    let (status, _) = call(&app, Method::DELETE, &path, Some(&read), None).await;
    assert_eq!(status, 403);
    let (status, _) = call(&app, Method::DELETE, &path, Some(&write), None).await;
    assert_eq!(status, 204);
    let (status, _) = call(&app, Method::GET, &path, Some(&read), None).await;
    assert_eq!(status, 404);
}
