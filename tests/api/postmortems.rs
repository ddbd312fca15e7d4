//! Postmortems: drafted, previewed, published below a resolved incident's
//! updates (page, feeds, both APIs), reverted or waived; staff's text is never
//! lost; subscribers are told once, in the incident's mail thread and as a
//! webhook update with status `postmortem`, and never again.
use serde_json::Value;

use crate::helpers::{csrf_token, spawn_app, spawn_app_with, texts, TestApp};
use crate::notify_support::{email_subscriber, webhook_subscriber, SECRET, STEPPED};
use crate::smtp_server::SmtpServer;
use crate::webhook_receiver::WebhookReceiver;

const TEXT: &str = "## What happened\n\nA **bad deploy** at 12:30.\n\n- rolled back at 12:38";

/// A resolved incident, started three hours ago and resolved two hours ago
/// (in the page's zone, UTC), so that what is done to it now is later; returns its id.
async fn resolved(app: &TestApp) -> i32 {
    let ago = |h: i64| {
        (chrono::Utc::now() - chrono::Duration::hours(h))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let id = app
        .publish(
            "Checkout errors",
            "investigating",
            "Looking into it.",
            &[("started_at", &ago(3))],
        )
        .await;
    let res = app
        .post_update(id, "resolved", "Fixed it.", &[("at", &ago(2))])
        .await;
    assert_eq!(res.status(), 303);
    id
}

/// Submits the postmortem form of incident `id` with `action`.
async fn submit(
    app: &TestApp,
    id: i32,
    action: &str,
    text: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let page = format!("/admin/incidents/{id}/postmortem");
    let mut fields = vec![("postmortem", text), ("action", action)];
    fields.extend_from_slice(extra);
    app.post_form(&page, &page, &fields).await
}

fn done_of(res: &reqwest::Response) -> String {
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap();
    location
        .split("done=")
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

async fn v2_incident(app: &TestApp, id: i32) -> Value {
    let want = id.to_string();
    let doc: Value = app
        .get("/api/v2/incidents.json")
        .await
        .json()
        .await
        .unwrap();
    doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"].as_str() == Some(want.as_str()))
        .cloned()
        .expect("the incident is listed")
}

#[tokio::test]
async fn a_postmortem_is_drafted_previewed_published_below_the_updates_and_reverted() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let id = resolved(&app).await;
    let admin = app.get_html(&format!("/admin/incidents/{id}")).await;
    assert!(
        admin.contains(&format!("href=\"/admin/incidents/{id}/postmortem\"")),
        "the resolved incident's admin page leads to the postmortem"
    );
    let page = app
        .get_html(&format!("/admin/incidents/{id}/postmortem"))
        .await;
    assert!(texts(&page, "h1")[0].starts_with("Postmortem: Checkout errors"));

    // A draft: staff see it, readers do not.
    let res = submit(&app, id, "save", TEXT, &[]).await;
    assert_eq!(done_of(&res), "postmortem-saved");
    let admin = app.get_html(&format!("/admin/incidents/{id}")).await;
    assert_eq!(
        texts(&admin, ".postmortem-link a"),
        vec!["Finish the postmortem"]
    );
    let page = app
        .get_html(&format!(
            "/admin/incidents/{id}/postmortem?done=postmortem-saved"
        ))
        .await;
    assert!(page.contains("A **bad deploy** at 12:30."), "{page}");
    assert!(texts(&page, "[role=status]")[0].starts_with("Draft saved"));
    let public = app.get_html(&format!("/incidents/{id}")).await;
    assert!(!public.contains("bad deploy"), "a draft is not public");
    let api = v2_incident(&app, id).await;
    assert_eq!(api["postmortem_body"], Value::Null);
    assert_eq!(api["postmortem_published_at"], Value::Null);

    // Preview renders the Markdown and saves nothing.
    let res = submit(&app, id, "preview", "Now *different*.", &[]).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("<em>different</em>"), "{html}");
    assert!(
        html.contains("Now *different*."),
        "the text stays in the field"
    );
    let api = v2_incident(&app, id).await;
    assert_eq!(api["postmortem_body"], Value::Null);

    // Published: below the updates, in both APIs and the feeds.
    let res = submit(&app, id, "publish", TEXT, &[]).await;
    assert_eq!(done_of(&res), "postmortem-published");
    let public = app.get_html(&format!("/incidents/{id}")).await;
    let headings = texts(&public, ".postmortem > h2");
    assert_eq!(headings, vec!["Postmortem"]);
    let at_pm = public
        .find("<strong>bad deploy</strong>")
        .expect("rendered");
    let at_fix = public.find("Fixed it.").unwrap();
    assert!(at_fix < at_pm, "the postmortem comes after the updates");
    let api = v2_incident(&app, id).await;
    assert_eq!(api["postmortem_body"], TEXT);
    assert!(api["postmortem_published_at"].as_str().is_some());
    assert!(api["postmortem_body_last_updated_at"].as_str().is_some());
    assert_eq!(api["postmortem_notified_subscribers"], false);
    assert_eq!(api["postmortem_ignored"], false);
    let token = crate::api_v1::api_token(&app, "read").await;
    let v1: Value = app
        .client
        .get(app.url(&format!("/api/v1/incidents/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v1["postmortem_body"], TEXT);
    for feed in ["/feed.atom", "/feed.rss"] {
        let xml = app.get(feed).await.text().await.unwrap();
        assert!(xml.contains("Postmortem - "), "{feed}: {xml}");
        assert!(xml.contains("bad deploy"), "{feed}: {xml}");
    }
    // The entry moves when the postmortem is published, hours after the last update.
    let published = statuspost::store::postmortems::find(&app.db, id)
        .await
        .unwrap()
        .unwrap()
        .model
        .updated_at;
    let xml = app.get("/feed.atom").await.text().await.unwrap();
    let feed = atom_syndication::Feed::read_from(xml.as_bytes()).unwrap();
    assert_eq!(
        feed.entries()[0].updated().timestamp(),
        published.timestamp()
    );

    // An edit after publishing shows at once, and the page says it moved.
    let res = submit(&app, id, "save", "Edited: the **real** cause.", &[]).await;
    assert_eq!(done_of(&res), "postmortem-edited");
    let public = app.get_html(&format!("/incidents/{id}")).await;
    assert!(public.contains("Edited: the <strong>real</strong> cause."));
    assert!(!public.contains("bad deploy"));
    let edited = statuspost::store::postmortems::find(&app.db, id)
        .await
        .unwrap()
        .unwrap()
        .model
        .updated_at;
    let last_updated = crate::helpers::attr(&public, ".updated time", "datetime").unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&last_updated)
            .unwrap()
            .timestamp(),
        edited.timestamp(),
        "Last updated is the edit's time"
    );

    // Back to a draft: gone from the page and the APIs, kept for staff.
    let res = submit(&app, id, "revert", "Edited: the **real** cause.", &[]).await;
    assert_eq!(done_of(&res), "postmortem-reverted");
    let public = app.get_html(&format!("/incidents/{id}")).await;
    assert!(!public.contains("real</strong> cause"));
    assert!(texts(&public, ".postmortem").is_empty());
    assert_eq!(v2_incident(&app, id).await["postmortem_body"], Value::Null);
    let page = app
        .get_html(&format!("/admin/incidents/{id}/postmortem"))
        .await;
    assert!(page.contains("Edited: the **real** cause."));
}

#[tokio::test]
async fn no_postmortem_and_every_refusal_keeps_what_was_typed() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let open = app
        .publish("Still broken", "investigating", "Looking.", &[])
        .await;
    // Not resolved yet.
    let res = submit(&app, open, "save", "Too early, but kept.", &[]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Too early, but kept."));
    assert!(texts(&html, "#postmortem-error")[0].contains("once the incident is resolved"));

    let id = resolved(&app).await;
    let res = submit(&app, id, "publish", "   ", &[]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(
        texts(&html, "#postmortem-error"),
        vec!["Write the postmortem."]
    );
    let long = "x".repeat(statuspost::domain::PostmortemBody::MAX_CHARS + 1);
    let res = submit(&app, id, "save", &long, &[]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains(&long), "the long text comes back whole");
    assert!(texts(&html, "#postmortem-error")[0].starts_with("The postmortem is too long"));

    // A stale form and an expired session come back with the text.
    let path = format!("/admin/incidents/{id}/postmortem");
    let res = app
        .client
        .post(app.url(&path))
        .form(&[
            ("csrf_token", "stale"),
            ("postmortem", "Every word matters."),
            ("action", "save"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Every word matters."));
    let token = csrf_token(&app.get_html(&path).await);
    {
        use sea_orm::EntityTrait;
        statuspost::entity::session::Entity::delete_many()
            .exec(&app.db)
            .await
            .unwrap();
    }
    let res = app
        .client
        .post(app.url(&path))
        .form(&[
            ("csrf_token", token.as_str()),
            ("postmortem", "Typed while the session ran out."),
            ("action", "save"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert!(html.contains("Typed while the session ran out."));
    assert!(html.contains("name=\"reauth_password\""));
    let res = app
        .client
        .post(app.url(&path))
        .form(&[
            ("csrf_token", token.as_str()),
            ("postmortem", "Typed while the session ran out."),
            ("action", "save"),
            ("reauth_email", crate::helpers::ADMIN_EMAIL),
            ("reauth_password", crate::helpers::ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done_of(&res), "postmortem-saved");

    // "No postmortem", with nothing or a draft written.
    let res = submit(&app, id, "ignore", "", &[]).await;
    assert_eq!(done_of(&res), "postmortem-ignored");
    let api = v2_incident(&app, id).await;
    assert_eq!(api["postmortem_ignored"], true);
    assert_eq!(api["postmortem_body"], Value::Null);
    let page = app.get_html(&path).await;
    assert!(
        page.contains("Typed while the session ran out."),
        "the draft survives"
    );
    // Published, it cannot be waived without reverting first.
    assert_eq!(
        done_of(&submit(&app, id, "publish", "Published.", &[]).await),
        "postmortem-published"
    );
    assert_eq!(v2_incident(&app, id).await["postmortem_ignored"], false);
    let res = submit(&app, id, "ignore", "Published.", &[]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(texts(&html, "#postmortem-error")[0].contains("revert it to a draft first"));
    let res = submit(&app, id, "explode", "Published.", &[]).await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn publishing_tells_subscribers_once_in_the_incidents_thread_and_never_again() {
    let smtp = SmtpServer::start().await;
    let receiver = WebhookReceiver::start(SECRET).await;
    let url = smtp.url();
    let mut settings = vec![
        ("SMTP_URL", url.as_str()),
        ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
    ];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let web = app.add_component("Website").await;
    email_subscriber(&app.db, "all@example.com", &[]).await;
    email_subscriber(&app.db, "web-only@example.com", &[web]).await;
    webhook_subscriber(&app.db, &receiver.url("/hook"), "ops@example.com", &[api]).await;

    let id = app
        .publish(
            "Checkout errors",
            "investigating",
            "Looking into it.",
            &[(format!("component_{api}").as_str(), "major_outage")],
        )
        .await;
    let res = app.post_update(id, "resolved", "Fixed it.", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.deliver().await, 4, "two updates to two subscribers");
    smtp.wait_for(2).await;
    let first_update = statuspost::store::incidents::load(&app.db, id)
        .await
        .unwrap()
        .unwrap()
        .updates[0]
        .model
        .id;

    let res = submit(&app, id, "publish", TEXT, &[("notify", "on")]).await;
    assert_eq!(done_of(&res), "postmortem-published");
    assert_eq!(
        app.deliver().await,
        2,
        "the mail and the webhook of those who heard of the incident"
    );
    let mails = smtp.wait_for(3).await;
    let m = &mails[2];
    assert_eq!(m.to, vec!["all@example.com"]);
    assert_eq!(m.subject(), "[Acme Status] Postmortem: Checkout errors");
    assert_eq!(
        m.header("Message-ID").as_deref(),
        Some(format!("<incident-{id}-postmortem@127.0.0.1>").as_str())
    );
    let root = format!("<incident-{id}-update-{first_update}@127.0.0.1>");
    assert_eq!(m.header("In-Reply-To").as_deref(), Some(root.as_str()));
    assert_eq!(m.header("References").as_deref(), Some(root.as_str()));
    assert!(
        m.text().contains("A **bad deploy** at 12:30."),
        "{}",
        m.text()
    );
    assert!(
        m.html().contains("<strong>bad deploy</strong>"),
        "{}",
        m.html()
    );
    assert!(m.header("List-Unsubscribe").is_some());

    let hooks = receiver.received();
    assert_eq!(hooks.len(), 3);
    let hook = &hooks[2];
    assert_eq!(hook.verified, Ok(()));
    let body = hook.json();
    let incident = &body["incident"];
    assert_eq!(incident["id"], id.to_string());
    assert_eq!(incident["incident_updates"][0]["status"], "postmortem");
    assert_eq!(incident["incident_updates"][0]["body"], TEXT);
    assert_eq!(incident["incident_updates"][1]["body"], "Fixed it.");
    assert_eq!(incident["postmortem_body"], TEXT);
    assert_eq!(incident["postmortem_notified_subscribers"], true);
    assert_eq!(
        v2_incident(&app, id).await["postmortem_notified_subscribers"],
        true
    );
    // Staff see its deliveries beside the updates'.
    let admin = app.get_html(&format!("/admin/incidents/{id}")).await;
    let rows = texts(&admin, "table.deliveries tbody th");
    assert_eq!(
        rows.last().map(String::as_str),
        Some("Postmortem"),
        "{rows:?}"
    );
    assert_eq!(
        texts(
            &admin,
            "table.deliveries tbody tr:last-child td[data-label=Sent]"
        ),
        vec!["2"]
    );

    // Publishing again, editing, reverting and publishing anew: nobody is told.
    for (action, text) in [
        ("publish", TEXT),
        ("save", "An edit after publishing."),
        ("revert", "An edit after publishing."),
        ("publish", "Published a second time."),
    ] {
        let res = submit(&app, id, action, text, &[("notify", "on")]).await;
        assert_eq!(res.status(), 303, "{action}");
    }
    assert_eq!(app.deliver().await, 0, "no second notification");
    assert_eq!(smtp.count(), 3);
    assert_eq!(receiver.count(), 3);
    let page = app
        .get_html(&format!("/admin/incidents/{id}/postmortem"))
        .await;
    assert!(
        page.contains("Subscribers were told of it"),
        "the page says they were told, and offers no second time"
    );
    assert!(!page.contains("name=\"notify\""));
}

#[tokio::test]
async fn publishing_without_notify_tells_no_one() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let mut settings = vec![("SMTP_URL", url.as_str())];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    email_subscriber(&app.db, "all@example.com", &[]).await;
    let id = resolved(&app).await;
    assert_eq!(app.deliver().await, 2);
    let res = submit(&app, id, "publish", TEXT, &[]).await;
    assert_eq!(done_of(&res), "postmortem-published");
    assert_eq!(app.deliver().await, 0);
    assert_eq!(
        v2_incident(&app, id).await["postmortem_notified_subscribers"],
        false
    );
}

#[tokio::test]
async fn a_postmortem_published_behind_the_apps_back_reaches_its_cached_page() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let id = resolved(&app).await;
    let res = submit(&app, id, "save", "Written by a script.", &[]).await;
    assert_eq!(done_of(&res), "postmortem-saved");
    let path = format!("/incidents/{id}");
    assert!(!app.get_html(&path).await.contains("Written by a script."));
    // As another tool would: no handler, no published(). Only the table's
    // trigger can tell the page.
    let before = statuspost::store::settings::page_generation(&app.db)
        .await
        .unwrap();
    app.db
        .execute_unprepared("UPDATE postmortems SET published_at = updated_at")
        .await
        .unwrap();
    let after = statuspost::store::settings::page_generation(&app.db)
        .await
        .unwrap();
    assert!(after > before, "the write moved the page generation");
    let started = std::time::Instant::now();
    loop {
        if app.get_html(&path).await.contains("Written by a script.") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "the cached page never saw the postmortem"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
