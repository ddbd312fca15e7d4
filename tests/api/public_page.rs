use crate::helpers::{attr, spawn_app, spawn_app_with, texts};

#[tokio::test]
async fn an_empty_page_is_calm_and_secure() {
    let app = spawn_app().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    let html = res.text().await.unwrap();
    assert_eq!(texts(&html, ".banner"), vec!["All Systems Operational"]);
    assert!(html.contains("No incidents reported."));
    assert_eq!(attr(&html, "html", "lang").as_deref(), Some("en"));
}

#[tokio::test]
async fn the_banner_reflects_the_worst_component() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    app.add_component("Website").await;
    let html = app.get_html("/").await;
    assert_eq!(texts(&html, ".banner"), vec!["All Systems Operational"]);
    let field = format!("component_{api}");
    app.publish(
        "API errors",
        "investigating",
        "Looking into it.",
        &[(field.as_str(), "partial_outage")],
    )
    .await;
    let html = app.get_html("/").await;
    assert_eq!(
        texts(&html, ".banner .overall"),
        vec!["Partial System Outage"]
    );
    // It names and links what is wrong: the incident, then the component.
    assert_eq!(
        texts(&html, ".banner li"),
        vec!["API errors · Investigating", "API: Partial Outage"]
    );
    let rows = texts(&html, "ul.components li");
    assert!(rows.contains(&"API Partial Outage".to_owned()), "{rows:?}");
    assert!(rows.contains(&"Website Operational".to_owned()), "{rows:?}");
    assert_eq!(texts(&html, "#open-heading"), vec!["Incidents in progress"]);
}

#[tokio::test]
async fn an_incident_reads_like_a_blog_post() {
    let app = spawn_app_with(&[("STATUSPOST_TIMEZONE", "America/New_York")]).await;
    app.sign_in_admin().await;
    let id = app
        .publish(
            "Live Site Issue: File Names",
            "identified",
            "We are working on it.\n\nRegards,",
            &[("started_at", "2008-02-28T09:14")],
        )
        .await;
    let res = app
        .post_update(
            id,
            "resolved",
            "The issue has been **resolved**.",
            &[("at", "2008-02-28T12:38")],
        )
        .await;
    assert_eq!(res.status(), 303);

    for path in ["/history".to_owned(), format!("/incidents/{id}")] {
        let html = app.get_html(&path).await;
        assert!(
            html.contains("Live Site Issue: File Names (Resolved)"),
            "{path}"
        );
        assert!(html.contains("Thursday, February 28, 2008"), "{path}");
        let headings = texts(&html, ".update-heading");
        assert_eq!(
            headings,
            vec!["UPDATE 12:38 PM EST - Issue Resolved"],
            "{path}"
        );
        assert!(html.contains("<strong>resolved</strong>"));
        assert_eq!(texts(&html, ".signature"), vec!["Shannon", "Shannon"]);
        assert!(html.contains("datetime=\"2008-02-28T12:38:00-05:00\""));
    }
    // The permalink page has the title as its one h1.
    let html = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(
        texts(&html, "h1"),
        vec!["Live Site Issue: File Names (Resolved)"]
    );
}

#[tokio::test]
async fn summer_times_are_daylight_time() {
    let app = spawn_app_with(&[("STATUSPOST_TIMEZONE", "America/New_York")]).await;
    app.sign_in_admin().await;
    let id = app
        .publish(
            "Slow checkout",
            "investigating",
            "Looking.",
            &[("started_at", "2025-07-01T09:00")],
        )
        .await;
    app.post_update(
        id,
        "monitoring",
        "Fix deployed.",
        &[("at", "2025-07-01T12:38")],
    )
    .await;
    let html = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(
        texts(&html, ".update-heading"),
        vec!["UPDATE 12:38 PM EDT - Monitoring"]
    );
}

#[tokio::test]
async fn a_reader_picks_a_zone_and_it_is_remembered() {
    let app = spawn_app_with(&[("STATUSPOST_TIMEZONE", "America/New_York")]).await;
    app.sign_in_admin().await;
    let id = app
        .publish(
            "Outage",
            "investigating",
            "Looking.",
            &[("started_at", "2008-02-28T09:14")],
        )
        .await;
    app.post_update(id, "resolved", "Fixed.", &[("at", "2008-02-28T12:38")])
        .await;

    let reader = crate::helpers::client();
    let res = reader
        .get(app.url("/?tz=Europe/Berlin"))
        .send()
        .await
        .unwrap();
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("sp_tz=Europe/Berlin"));
    let html = res.text().await.unwrap();
    assert_eq!(
        crate::helpers::texts(&html, "header.site a[href^='/time-zone']"),
        ["Time zone: Berlin"]
    );
    // Later visits, with no query, keep the choice.
    let html = reader
        .get(app.url(&format!("/incidents/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&html, ".update-heading"),
        vec!["UPDATE 6:38 PM CET - Issue Resolved"]
    );
    // An unknown zone is said, not silently replaced by another.
    for path in [
        "/?tz=Mars/Olympus",
        "/history?tz=Mars/Olympus",
        "/uptime?tz=Mars/Olympus",
    ] {
        let res = reader.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 400, "{path}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Unknown time zone &quot;Mars/Olympus&quot;")
                || body.contains("Unknown time zone \"Mars/Olympus\""),
            "{body}"
        );
    }
    // The zone chosen before is still the reader's.
    let html = reader
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        crate::helpers::texts(&html, "header.site a[href^='/time-zone']"),
        ["Time zone: Berlin"]
    );
}

#[tokio::test]
async fn staff_markdown_cannot_inject_script() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let evil = "Hi <script>alert(1)</script> <img src=x alt=\"a graph\" onerror=alert(2)> [a](javascript:alert(3)) [b](data:text/html,x) <a href=\"JAVASCRIPT:alert(4)\">c</a>";
    let id = app
        .publish(
            "<b>Title</b> <script>x</script>",
            "investigating",
            evil,
            &[],
        )
        .await;
    for path in [
        "/".to_owned(),
        format!("/incidents/{id}"),
        "/history".to_owned(),
    ] {
        let html = app.get_html(&path).await.to_lowercase();
        for bad in ["<script", "onerror", "javascript:", "data:text", "<b>title"] {
            assert!(!html.contains(bad), "{bad} on {path}");
        }
        assert!(html.contains("&lt;b&gt;title&lt;/b&gt;"), "{path}");
    }
}

#[tokio::test]
async fn unknown_incidents_are_404() {
    let app = spawn_app().await;
    assert_eq!(app.get("/incidents/999").await.status(), 404);
    assert_eq!(app.get("/incidents/abc").await.status(), 404);
    assert_eq!(app.get("/no-such-page").await.status(), 404);
    assert_eq!(app.get("/history?page=7").await.status(), 404);
}

#[tokio::test]
async fn pages_are_cached_until_the_next_write() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = app.get("/").await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    app.publish("New problem", "investigating", "Looking.", &[])
        .await;
    let after = app
        .client
        .get(app.url("/"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        200,
        "a write must invalidate the cached page"
    );
    assert!(after.text().await.unwrap().contains("New problem"));
}

#[tokio::test]
async fn history_groups_by_month_and_paginates() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let months = ["2025-01", "2025-02", "2025-03"];
    for (i, m) in months.iter().enumerate() {
        for d in 0..8 {
            let at = format!("{m}-{:02}T10:00", d + 1);
            app.publish(
                &format!("Incident {i}-{d}"),
                "resolved",
                "Done.",
                &[("started_at", at.as_str())],
            )
            .await;
        }
    }
    let html = app.get_html("/history").await;
    assert_eq!(
        texts(&html, ".month > h2"),
        vec!["March 2025", "February 2025", "January 2025"]
    );
    assert_eq!(texts(&html, "article.post").len(), 20);
    assert!(html.contains("Page 1 of 2"));
    let html = app.get_html("/history?page=2").await;
    assert_eq!(texts(&html, ".month > h2"), vec!["January 2025"]);
    assert_eq!(texts(&html, "article.post").len(), 4);
}

#[tokio::test]
async fn assets_are_embedded() {
    let app = spawn_app().await;
    let res = app.get("/assets/style.css").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert_eq!(app.get("/assets/../Cargo.toml").await.status(), 404);
    assert_eq!(app.get("/health").await.status(), 200);
}

#[tokio::test]
async fn an_unreadable_row_is_an_error_not_a_healthy_page() {
    use sea_orm::ConnectionTrait;
    let app = crate::helpers::spawn_app().await;
    app.sign_in_admin().await;
    app.add_component("Payments").await;
    // A value this version cannot read: written by hand, or by a newer version.
    app.db
        .execute_unprepared("UPDATE components SET status = 'exploded'")
        .await
        .unwrap();
    app.state.published();
    for path in [
        "/",
        "/api/v2/summary.json",
        "/api/v2/components.json",
        "/badge.svg",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 500, "{path} must not look healthy");
        let body = res.text().await.unwrap();
        assert!(!body.contains("All Systems Operational"), "{path}: {body}");
    }
}

#[tokio::test]
async fn error_pages_wear_the_page_layout() {
    let app = crate::helpers::spawn_app().await;
    let res = app.get("/incidents/999999").await;
    assert_eq!(res.status(), 404);
    assert!(res.headers().contains_key("content-security-policy"));
    let html = res.text().await.unwrap();
    let title = crate::helpers::texts(&html, "title");
    assert_eq!(title, vec!["Not Found · Acme Status"], "{html}");
    assert_eq!(crate::helpers::texts(&html, "h1"), vec!["Not Found"]);
    assert!(html.contains("Back to the status page"));
}
