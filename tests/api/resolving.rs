//! Resolving resolves: posting "Resolved" from the update form returns the
//! incident's components to Operational unless staff set them in the same
//! form, and says so there. The change rides in the update's own
//! notification, in the incident's mail thread; nothing else is sent.
use sea_orm::EntityTrait;
use statuspost::entity::notification_event;
use statuspost::store;

use crate::helpers::{spawn_app, spawn_app_with, texts, TestApp};
use crate::notify_support::{email_subscriber, STEPPED};
use crate::smtp_server::SmtpServer;

async fn status_of(app: &TestApp, id: i32) -> String {
    store::components::find(&app.db, id)
        .await
        .unwrap()
        .unwrap()
        .status
}

async fn set_status(app: &TestApp, id: i32, name: &str, status: &str) {
    let res = app
        .post_form(
            "/admin/components",
            &format!("/admin/components/{id}"),
            &[
                ("name", name),
                ("group", ""),
                ("position", "0"),
                ("status", status),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn resolving_returns_what_staff_left_alone_to_operational() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let web = app.add_component("Website").await;
    let billing = app.add_component("Billing").await;
    // Degraded outside this incident: not the incident's to reset.
    set_status(&app, billing, "Billing", "degraded_performance").await;
    let (api_f, web_f) = (format!("component_{api}"), format!("component_{web}"));
    let id = app
        .publish(
            "Errors",
            "investigating",
            "Looking.",
            &[
                (api_f.as_str(), "partial_outage"),
                (web_f.as_str(), "major_outage"),
            ],
        )
        .await;

    // The form says what Resolved will do, beside the components it affects.
    let form = app.get_html(&format!("/admin/incidents/{id}")).await;
    assert_eq!(
        texts(&form, "#resolve-help"),
        vec!["On Resolved, affected components return to Operational unless you set them here."]
    );
    assert_eq!(
        crate::helpers::attr(&form, &format!("#{api_f}"), "aria-describedby").as_deref(),
        Some("resolve-help")
    );
    assert_eq!(
        crate::helpers::attr(&form, &format!("#component_{billing}"), "aria-describedby"),
        None
    );

    // Only Resolved does it.
    app.post_update(id, "monitoring", "A fix is out.", &[])
        .await;
    assert_eq!(status_of(&app, api).await, "partial_outage");

    // Staff keep the website degraded; the API, left alone, is operational.
    let res = app
        .post_update(
            id,
            "resolved",
            "Fixed; the website is still slow.",
            &[(web_f.as_str(), "degraded_performance")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(status_of(&app, api).await, "operational");
    assert_eq!(status_of(&app, web).await, "degraded_performance");
    assert_eq!(status_of(&app, billing).await, "degraded_performance");
    // The update itself records both changes: the story says what happened.
    let html = app.get_html(&format!("/incidents/{id}")).await;
    let mut changes = texts(&html, ".update:last-child .changes li");
    changes.sort();
    assert_eq!(
        changes,
        vec!["API: Operational", "Website: Degraded Performance"]
    );
}

#[tokio::test]
async fn after_resolving_the_banner_says_operational() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let web = app.add_component("Website").await;
    let (api_f, web_f) = (format!("component_{api}"), format!("component_{web}"));
    let id = app
        .publish(
            "Errors",
            "identified",
            "Found it.",
            &[(api_f.as_str(), "major_outage")],
        )
        .await;
    app.post_update(
        id,
        "identified",
        "The website too.",
        &[(web_f.as_str(), "degraded_performance")],
    )
    .await;
    let html = app.get_html("/").await;
    assert_eq!(
        texts(&html, ".banner .overall"),
        vec!["Major Service Outage"]
    );

    app.post_update(id, "resolved", "All fixed.", &[]).await;
    let html = app.get_html("/").await;
    assert_eq!(
        texts(&html, ".banner .overall"),
        vec!["All Systems Operational"]
    );
    assert!(texts(&html, ".banner li").is_empty());
    assert!(texts(&html, "#open-heading").is_empty());
    assert_eq!(
        texts(&html, "ul.components .cs"),
        vec!["Operational", "Operational"]
    );
}

#[tokio::test]
async fn a_backdated_resolved_update_leaves_the_present_alone() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let field = format!("component_{api}");
    let id = app
        .publish(
            "Errors",
            "investigating",
            "Looking.",
            &[
                ("started_at", "2025-03-01T09:00"),
                (field.as_str(), "major_outage"),
            ],
        )
        .await;
    app.post_update(id, "identified", "Found it.", &[]).await;
    // Filled in before the latest update: history, not where it stands now.
    app.post_update(
        id,
        "resolved",
        "(typed late)",
        &[("at", "2025-03-01T10:00")],
    )
    .await;
    let view = store::incidents::load(&app.db, id).await.unwrap().unwrap();
    assert_eq!(view.model.status, "identified");
    assert_eq!(status_of(&app, api).await, "major_outage");
}

#[tokio::test]
async fn the_components_return_inside_the_incidents_own_thread() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let mut settings = vec![("SMTP_URL", url.as_str())];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    let api = app.add_component("Payments").await;
    app.add_component("Search").await;
    email_subscriber(&app.db, "payments@example.com", &[api]).await;
    email_subscriber(&app.db, "all@example.com", &[]).await;
    let field = format!("component_{api}");
    let id = app
        .publish(
            "Card payments fail",
            "investigating",
            "Looking.",
            &[(field.as_str(), "partial_outage")],
        )
        .await;
    assert_eq!(app.deliver().await, 2);
    let first = smtp.wait_for(2).await;
    let root = first[0].header("Message-ID").expect("a Message-ID");
    assert_eq!(first[1].header("Message-ID").as_ref(), Some(&root));

    app.post_update(id, "resolved", "Payments work again.", &[])
        .await;
    assert_eq!(app.deliver().await, 2);
    let mails = smtp.wait_for(4).await;
    assert_eq!(mails.len(), 4, "one mail each for the update, nothing else");
    for m in &mails[2..] {
        assert_eq!(m.header("In-Reply-To").as_ref(), Some(&root), "threaded");
        let text = m.text();
        assert!(text.contains("Payments work again."), "{text}");
        assert!(
            text.lines()
                .any(|l| l.contains("Payments") && l.contains("Operational")),
            "the component's return is in the update's mail: {text}"
        );
    }
    // The only events are the incident's two updates: no component-change blast.
    let kinds: Vec<String> = notification_event::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, vec!["incident_update", "incident_update"]);
    assert_eq!(status_of(&app, api).await, "operational");
}
