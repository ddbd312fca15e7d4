use crate::helpers::{csrf_token, spawn_app, texts};
use statuspost::store;

#[tokio::test]
async fn the_new_incident_form_has_every_labelled_field() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    app.add_component("API").await;
    let html = app.get_html("/admin/incidents/new").await;
    for label in [
        "Title",
        "Status",
        "Impact",
        "Message",
        "Notify subscribers",
        "API",
    ] {
        assert!(
            texts(&html, "label").iter().any(|l| l.starts_with(label)),
            "no label {label}"
        );
    }
    assert_eq!(
        texts(&html, "legend"),
        vec!["Affected components", "Next update"]
    );
    assert!(texts(&html, "button").contains(&"Preview".to_owned()));
    assert!(texts(&html, "button").contains(&"Publish".to_owned()));
    assert!(
        html.contains(
            "<input id=\"notify\" name=\"notify\" type=\"checkbox\" value=\"on\" checked>"
        ),
        "notify is ticked by default"
    );
}

#[tokio::test]
async fn publishing_records_the_incident_and_its_first_update() {
    let app = spawn_app().await;
    let me = app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let field = format!("component_{api}");
    let id = app
        .publish(
            "Checkout failing",
            "investigating",
            "We are **looking** into it.",
            &[(field.as_str(), "major_outage")],
        )
        .await;
    let view = store::incidents::load(&app.db, id).await.unwrap().unwrap();
    assert_eq!(view.model.title, "Checkout failing");
    assert_eq!(view.model.status, "investigating");
    assert_eq!(view.model.author_id, me);
    assert_eq!(view.updates.len(), 1);
    assert_eq!(view.updates[0].model.body, "We are **looking** into it.");
    assert_eq!(
        view.updates[0].components[0].new_status.as_str(),
        "major_outage"
    );
    assert_eq!(
        view.updates[0].components[0].old_status.as_str(),
        "operational"
    );
    let comp = store::components::find(&app.db, api)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(comp.status, "major_outage");
    let html = app.get_html(&format!("/admin/incidents/{id}")).await;
    assert!(html.contains("Post an update"));
    // Open: the form comes before the story, and a preview reloads into view.
    let form_at = html.find("id=\"update-heading\"").expect("the update form");
    let story_at = html.find("id=\"story-heading\"").expect("the story");
    assert!(
        form_at < story_at,
        "the form is first while the incident is open"
    );
    assert!(html.contains(&format!(
        "action=\"/admin/incidents/{id}/updates#preview-heading\""
    )));
    assert_eq!(crate::helpers::texts(&html, "h1"), vec!["Checkout failing"]);
}

#[tokio::test]
async fn resolving_sets_the_resolved_time_and_reopening_clears_it() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let id = app
        .publish("Slow pages", "investigating", "Looking.", &[])
        .await;
    let res = app.post_update(id, "resolved", "All good now.", &[]).await;
    assert_eq!(res.status(), 303);
    let inc = store::incidents::load(&app.db, id).await.unwrap().unwrap();
    assert_eq!(inc.model.status, "resolved");
    assert!(inc.model.resolved_at.is_some());

    // A follow-up after resolution is allowed and keeps it resolved.
    assert_eq!(
        app.post_update(id, "resolved", "Post-mortem to follow.", &[])
            .await
            .status(),
        303
    );
    // Reopening is allowed too.
    assert_eq!(
        app.post_update(id, "investigating", "It is back.", &[])
            .await
            .status(),
        303
    );
    let inc = store::incidents::load(&app.db, id).await.unwrap().unwrap();
    assert_eq!(inc.model.status, "investigating");
    assert!(inc.model.resolved_at.is_none());
    assert_eq!(inc.updates.len(), 4);
}

#[tokio::test]
async fn bad_input_comes_back_with_everything_typed() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let field = format!("component_{api}");
    let message = "A long careful message\nwith two lines & <angle> brackets";
    let page = app.get_html("/admin/incidents/new").await;
    let token = csrf_token(&page);
    let res = app
        .client
        .post(app.url("/admin/incidents"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("title", "   "),
            ("status", "exploded"),
            ("impact", "major"),
            ("message", message),
            (field.as_str(), "partial_outage"),
            ("action", "publish"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(texts(&html, "#title-error"), vec!["Enter a title."]);
    assert!(texts(&html, "#status-error")[0].starts_with("Unknown status \"exploded\""));
    assert_eq!(
        texts(&html, "textarea#message"),
        vec![message.split_whitespace().collect::<Vec<_>>().join(" ")]
    );
    assert!(html.contains("A long careful message\nwith two lines &amp; &lt;angle&gt; brackets"));
    assert!(
        html.contains("<option value=\"partial_outage\" selected>"),
        "component choice kept"
    );
    assert!(
        store::incidents::recent(&app.db, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing published"
    );
}

#[tokio::test]
async fn a_message_over_the_limit_is_refused_and_kept() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let long = "x".repeat(20_001);
    let res = app
        .post_form(
            "/admin/incidents/new",
            "/admin/incidents",
            &[
                ("title", "Big"),
                ("status", "investigating"),
                ("impact", "minor"),
                ("message", long.as_str()),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(texts(&html, "#message-error")[0].starts_with("The message is too long"));
    assert!(html.contains(&long));
}

#[tokio::test]
async fn an_image_without_a_description_is_refused_and_the_text_kept() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let message = "The graph:\n\n<img src=\"/assets/favicon.svg\">";
    let fields = |message: &'static str| {
        [
            ("title", "Errors"),
            ("status", "investigating"),
            ("impact", "minor"),
            ("message", message),
            ("action", "publish"),
        ]
    };
    let res = app
        .post_form("/admin/incidents/new", "/admin/incidents", &fields(message))
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        texts(&html, "#message-error")[0].starts_with("Image 1 has no description"),
        "{html}"
    );
    // Kept as typed, in the textarea, not as an image.
    assert_eq!(
        texts(&html, "textarea#message"),
        ["The graph: <img src=\"/assets/favicon.svg\">"]
    );
    // Described, it is published, and readers get its description.
    let res = app
        .post_form(
            "/admin/incidents/new",
            "/admin/incidents",
            &fields("The graph:\n\n![Errors falling since 12:30](/assets/favicon.svg)"),
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.get_html("/").await;
    assert_eq!(
        crate::helpers::attr(&page, ".in-progress img", "alt").as_deref(),
        Some("Errors falling since 12:30")
    );
}

#[tokio::test]
async fn a_stale_csrf_token_keeps_the_text() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = app
        .client
        .post(app.url("/admin/incidents"))
        .form(&[
            ("csrf_token", "stale"),
            ("title", "Database down"),
            ("status", "investigating"),
            ("impact", "critical"),
            ("message", "Every word matters."),
            ("action", "publish"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let html = res.text().await.unwrap();
    assert!(texts(&html, "[role=alert]")[0].starts_with("This form had expired"));
    assert!(html.contains("value=\"Database down\""));
    assert!(html.contains("Every word matters."));
    // The re-rendered form carries a fresh token that works.
    let token = csrf_token(&html);
    let res = app
        .client
        .post(app.url("/admin/incidents"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("title", "Database down"),
            ("status", "investigating"),
            ("impact", "critical"),
            ("message", "Every word matters."),
            ("action", "publish"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_session_that_expired_while_typing_loses_nothing() {
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let page = app.get_html("/admin/incidents/new").await;
    let token = csrf_token(&page);
    // The session runs out while the staff member types.
    statuspost::entity::session::Entity::delete_many()
        .exec(&app.db)
        .await
        .unwrap();
    let fields = [
        ("csrf_token", token.as_str()),
        ("title", "Payments down"),
        ("status", "identified"),
        ("impact", "critical"),
        ("message", "Card payments fail at the bank."),
        ("action", "publish"),
    ];
    let res = app
        .client
        .post(app.url("/admin/incidents"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert!(texts(&html, "[role=alert]")[0].starts_with("Your session has expired"));
    assert!(html.contains("value=\"Payments down\""));
    assert!(html.contains("Card payments fail at the bank."));
    assert_eq!(
        texts(&html, "legend").last().map(String::as_str),
        Some("Sign in again to save")
    );

    // Signing in inside the same form publishes it.
    let mut again = fields.to_vec();
    again.push(("reauth_email", crate::helpers::ADMIN_EMAIL));
    again.push(("reauth_password", crate::helpers::ADMIN_PASSWORD));
    let res = app
        .client
        .post(app.url("/admin/incidents"))
        .form(&again)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.get("/admin").await.status(),
        200,
        "and the staff member is signed in again"
    );
    let list = store::incidents::recent(&app.db, 10).await.unwrap();
    assert_eq!(list[0].model.title, "Payments down");
}

#[tokio::test]
async fn preview_renders_without_publishing() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = app
        .post_form(
            "/admin/incidents/new",
            "/admin/incidents",
            &[
                ("title", "Draft"),
                ("status", "investigating"),
                ("impact", "minor"),
                ("message", "Some **bold** <script>x</script>"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("<strong>bold</strong>"));
    assert!(!html.contains("<script>x"));
    assert!(html.contains("value=\"Draft\""));
    assert!(store::incidents::recent(&app.db, 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn backdating_is_allowed_but_not_the_future() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let id = app
        .publish(
            "Old outage",
            "resolved",
            "Recorded afterwards.",
            &[("started_at", "2020-05-01T10:00")],
        )
        .await;
    let inc = store::incidents::load(&app.db, id).await.unwrap().unwrap();
    assert_eq!(
        inc.model.started_at.to_rfc3339(),
        "2020-05-01T10:00:00+00:00"
    );

    let res = app
        .post_form(
            "/admin/incidents/new",
            "/admin/incidents",
            &[
                ("title", "Future"),
                ("status", "investigating"),
                ("impact", "minor"),
                ("message", "x"),
                ("started_at", "2999-01-01T00:00"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        texts(&res.text().await.unwrap(), "#started_at-error"),
        vec!["The time cannot be in the future."]
    );

    // An update cannot predate its incident.
    let res = app
        .post_update(id, "resolved", "Earlier?", &[("at", "2019-01-01T00:00")])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("cannot be earlier than the incident"));
}

#[tokio::test]
async fn components_are_managed_from_the_admin() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let id = app.add_component("Database").await;
    let res = app
        .post_form(
            "/admin/components",
            &format!("/admin/components/{id}"),
            &[
                ("name", "Primary database"),
                ("group", "Backend"),
                ("position", "2"),
                ("status", "degraded_performance"),
                ("description", "Postgres"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get_html("/").await;
    assert!(texts(&html, "ul.components li")
        .contains(&"Backend / Primary database Degraded Performance".to_owned()));
    assert_eq!(
        texts(&html, ".banner .overall"),
        vec!["Degraded System Service"]
    );
    assert_eq!(
        texts(&html, ".banner li"),
        vec!["Primary database: Degraded Performance"],
        "the banner names what is wrong"
    );
    assert_eq!(
        crate::helpers::attr(&html, ".banner li a", "href").as_deref(),
        Some(format!("#component-{id}").as_str())
    );

    let res = app
        .post_form(
            "/admin/components",
            &format!("/admin/components/{id}"),
            &[
                ("name", ""),
                ("group", "Backend"),
                ("position", "many"),
                ("status", "operational"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Enter a name."));
    assert!(html.contains("Enter a whole number"));
    assert!(html.contains("value=\"many\""));

    let res = app
        .post_form(
            "/admin/components",
            &format!("/admin/components/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(store::components::list(&app.db).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_database_failure_mid_publish_keeps_the_text() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    // Break the write half-way: the incident row goes in, the component change cannot.
    app.db
        .execute_unprepared("DROP TABLE update_components")
        .await
        .unwrap();
    let field = format!("component_{api}");
    let res = app
        .post_form(
            "/admin/incidents/new",
            "/admin/incidents",
            &[
                ("title", "Search is down"),
                ("status", "investigating"),
                ("impact", "major"),
                ("message", "Every word of this matters."),
                (field.as_str(), "major_outage"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(res.status(), 503);
    let html = res.text().await.unwrap();
    assert!(texts(&html, "[role=alert]")[0]
        .starts_with("Nothing was saved: the database did not answer."));
    assert!(html.contains("value=\"Search is down\""));
    assert!(html.contains("Every word of this matters."));
    // The transaction rolled back whole: no half-published incident.
    assert!(store::incidents::recent(&app.db, 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn deleting_a_component_keeps_the_incidents_that_named_it() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("Legacy API").await;
    let field = format!("component_{api}");
    let id = app
        .publish(
            "Legacy API down",
            "investigating",
            "Looking.",
            &[(field.as_str(), "major_outage")],
        )
        .await;
    let res = app
        .post_form(
            "/admin/components",
            &format!("/admin/components/{api}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);

    let front = app.get_html("/").await;
    assert!(
        texts(&front, "ul.components li").is_empty(),
        "gone from the page"
    );
    assert_eq!(
        texts(&front, ".banner .overall"),
        vec!["All Systems Operational"]
    );
    let html = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(
        texts(&html, ".changes li"),
        vec!["Legacy API: Major Outage"],
        "history keeps it"
    );

    // It can no longer be set by an update.
    let res = app
        .post_update(id, "resolved", "Fixed.", &[(field.as_str(), "operational")])
        .await;
    assert_eq!(res.status(), 422);
    // Deleting twice finds nothing.
    let res = app
        .post_form(
            "/admin/components",
            &format!("/admin/components/{api}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn a_refused_form_keeps_the_text_and_never_a_password() {
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = app
        .post_form(
            "/admin/staff",
            "/admin/staff",
            &[
                ("email", "sam@example.com"),
                ("name", ""),
                ("password", "a secret passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("value=\"sam@example.com\""));
    assert!(!html.contains("a secret passphrase"));

    let page = app.get_html("/admin/incidents/new").await;
    let token = csrf_token(&page);
    statuspost::entity::session::Entity::delete_many()
        .exec(&app.db)
        .await
        .unwrap();
    let res = app
        .client
        .post(app.url("/admin/incidents"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("title", "Payments down"),
            ("status", "identified"),
            ("impact", "critical"),
            ("message", "Card payments fail at the bank."),
            ("action", "publish"),
            ("reauth_email", crate::helpers::ADMIN_EMAIL),
            ("reauth_password", "a wrong passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert!(texts(&html, "[role=alert]")[0].starts_with("That email and password did not match"));
    assert!(html.contains("Card payments fail at the bank."));
    assert!(html.contains(crate::helpers::ADMIN_EMAIL));
    assert!(!html.contains("a wrong passphrase"));
}

fn notice(html: &str) -> Vec<String> {
    texts(html, "main > .notice[role=status]")
}

#[tokio::test]
async fn deleting_a_component_asks_first() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let id = app.add_component("Payments API").await;
    let list = app.get_html("/admin/components").await;
    assert!(
        crate::helpers::attr(&list, "form[action$='/delete']", "action").is_none(),
        "no button on the list deletes by itself"
    );
    let confirm = format!("/admin/components/{id}/delete");
    assert_eq!(
        texts(&list, &format!("a[href='{confirm}']")),
        vec!["Delete Payments API"]
    );

    let asked = app.get_html(&confirm).await;
    assert_eq!(store::components::list(&app.db).await.unwrap().len(), 1);
    assert_eq!(
        texts(&asked, "h1"),
        vec!["Delete the component “Payments API”?"]
    );
    assert!(asked.contains("Past incidents keep naming it"));
    assert_eq!(
        crate::helpers::attr(&asked, "main form[method=post]", "action").as_deref(),
        Some(confirm.as_str())
    );
    assert_eq!(
        texts(&asked, "main form button"),
        vec!["Delete Payments API"]
    );
    assert_eq!(
        crate::helpers::attr(&asked, "main a", "href").as_deref(),
        Some("/admin/components")
    );
    assert_eq!(texts(&asked, "main a"), vec!["Keep it"]);

    // Without the page's CSRF token nothing is deleted.
    let res = app
        .client
        .post(app.url(&confirm))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(store::components::list(&app.db).await.unwrap().len(), 1);

    let res = app
        .client
        .post(app.url(&confirm))
        .form(&[("csrf_token", csrf_token(&asked).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/admin/components?done=component-deleted"
    );
    assert!(store::components::list(&app.db).await.unwrap().is_empty());
    let after = app
        .get_html("/admin/components?done=component-deleted")
        .await;
    assert_eq!(
        notice(&after),
        vec!["Component deleted. Past incidents that named it still do."]
    );
    // A deleted component has nothing left to confirm.
    assert_eq!(app.get(&confirm).await.status(), 404);
    assert_eq!(app.get("/admin/components/9999/delete").await.status(), 404);
}

#[tokio::test]
async fn every_action_that_goes_back_to_a_page_says_what_it_did() {
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    app.sign_in_admin().await;

    // Each action's 303 names what was done; the page it leads to says so.
    let mut seen = Vec::new();
    let mut follow = async |res: reqwest::Response| {
        assert_eq!(res.status(), 303);
        let to = res.headers()["location"].to_str().unwrap().to_owned();
        let html = app.get_html(&to).await;
        seen.push(notice(&html).join(" "));
        to
    };

    let res = app
        .post_form(
            "/admin/components",
            "/admin/components",
            &[
                ("name", "API"),
                ("group", ""),
                ("position", "0"),
                ("status", "operational"),
                ("description", ""),
            ],
        )
        .await;
    let to = follow(res).await;
    assert_eq!(to, "/admin/components?done=component-added");
    let api = store::components::list(&app.db).await.unwrap()[0].model.id;
    let res = app
        .post_form(
            "/admin/components",
            &format!("/admin/components/{api}"),
            &[
                ("name", "API"),
                ("group", ""),
                ("position", "1"),
                ("status", "operational"),
                ("description", ""),
            ],
        )
        .await;
    follow(res).await;

    let res = app
        .submit_new_incident("Search is slow", "Looking.", &[("action", "publish")])
        .await;
    let to = follow(res).await;
    let id: i32 = to
        .trim_start_matches("/admin/incidents/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(to, format!("/admin/incidents/{id}?done=incident-published"));
    follow(app.post_update(id, "identified", "Found it.", &[]).await).await;

    let res = app
        .post_form(
            "/admin/staff",
            "/admin/staff",
            &[
                ("email", "robin@example.com"),
                ("name", "Robin"),
                ("password", "a long enough passphrase"),
            ],
        )
        .await;
    follow(res).await;

    let res = app
        .post_form(
            "/admin/tokens",
            "/admin/tokens",
            &[("name", "monitor"), ("scope", "read")],
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "the new token is shown on the page itself"
    );
    let token = statuspost::entity::api_token::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let res = app
        .post_form(
            "/admin/tokens",
            &format!("/admin/tokens/{}/revoke", token.id),
            &[],
        )
        .await;
    follow(res).await;

    assert_eq!(
        seen,
        vec![
            "Component added. It is on the public page now.",
            "Component saved.",
            "Incident published. Subscribers are being notified if you chose to.",
            "Update posted. Subscribers are being notified if you chose to.",
            "Staff account added. They can sign in now.",
            "Token revoked. It no longer works.",
        ]
    );

    // Only known keys show anything, and nothing from the URL is echoed.
    for path in [
        "/admin/components",
        "/admin/components?done=%3Cb%3Ehacked%3C%2Fb%3E",
        "/admin/components?done=Component+saved.",
    ] {
        let html = app.get_html(path).await;
        assert!(notice(&html).is_empty(), "{path}");
        assert!(!html.contains("hacked"), "{path}");
    }
}
