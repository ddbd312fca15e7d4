//! Atom and RSS feeds, read by strict parsers.
use rss::validation::Validate;

use crate::helpers::{attr, spawn_app, TestApp};

async fn fetch(app: &TestApp, path: &str, content_type: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "GET {path}");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(content_type),
        "{path}: {:?}",
        res.headers()["content-type"]
    );
    res.text().await.unwrap()
}

/// Two incidents, one with a tricky title and three updates.
async fn seeded() -> (TestApp, i32, i32) {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let db = app.add_component("Database").await;
    let first = app
        .publish("Quiet one", "investigating", "Looking.", &[])
        .await;
    let res = app.post_update(first, "resolved", "Done.", &[]).await;
    assert_eq!(res.status(), 303);
    let second = app
        .publish(
            "Logins <fail> & \"retry\"",
            "investigating",
            "Users **cannot** sign in. <script>alert(1)</script>",
            &[(&format!("component_{db}"), "major_outage")],
        )
        .await;
    for (status, msg) in [
        ("identified", "Found the cause."),
        ("resolved", "Fixed; sorry & thanks."),
    ] {
        let res = app.post_update(second, status, msg, &[]).await;
        assert_eq!(res.status(), 303);
    }
    (app, first, second)
}

#[tokio::test]
async fn atom_is_valid_with_one_entry_per_incident() {
    let (app, first, second) = seeded().await;
    for path in ["/feed.atom", "/history.atom"] {
        let xml = fetch(&app, path, "application/atom+xml").await;
        let feed = atom_syndication::Feed::read_from(xml.as_bytes())
            .unwrap_or_else(|e| panic!("{path} is not valid Atom: {e}\n{xml}"));
        assert_eq!(feed.title().as_str(), "Acme Status incidents");
        assert_eq!(feed.entries().len(), 2);
        let e = &feed.entries()[0];
        assert_eq!(e.title().as_str(), "Logins <fail> & \"retry\" (Resolved)");
        assert_eq!(e.id(), format!("{}/incidents/{second}", app.address));
        assert_eq!(
            e.links()[0].href(),
            format!("{}/incidents/{second}", app.address)
        );
        let content = e.content().unwrap().value().unwrap();
        for text in [
            "Users <strong>cannot</strong> sign in.",
            "Found the cause.",
            "Fixed; sorry &amp; thanks.",
            "Database: Major Outage",
        ] {
            assert!(content.contains(text), "{text} in {content}");
        }
        assert!(!content.contains("<script"), "sanitised: {content}");

        // Its updated time is its latest update's.
        let view = statuspost::store::incidents::load(&app.db, second)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            e.updated().timestamp_micros(),
            view.last_update_at().timestamp_micros()
        );
        assert_eq!(
            feed.updated().timestamp_micros(),
            view.last_update_at().timestamp_micros()
        );
        assert_eq!(
            feed.entries()[1].id(),
            format!("{}/incidents/{first}", app.address)
        );
        let self_link = feed
            .links()
            .iter()
            .find(|l| l.rel() == "self")
            .expect("a self link");
        assert_eq!(self_link.href(), format!("{}{path}", app.address));
    }
}

#[tokio::test]
async fn rss_is_valid_with_one_item_per_incident() {
    let (app, first, second) = seeded().await;
    for path in ["/feed.rss", "/history.rss"] {
        let xml = fetch(&app, path, "application/rss+xml").await;
        let channel = rss::Channel::read_from(xml.as_bytes())
            .unwrap_or_else(|e| panic!("{path} is not valid RSS: {e}\n{xml}"));
        channel
            .validate()
            .unwrap_or_else(|e| panic!("{path} breaks RSS 2.0: {e}\n{xml}"));
        assert_eq!(channel.items().len(), 2);
        let item = &channel.items()[0];
        assert_eq!(item.title(), Some("Logins <fail> & \"retry\" (Resolved)"));
        let link = format!("{}/incidents/{second}", app.address);
        assert_eq!(item.link(), Some(link.as_str()));
        assert_eq!(item.guid().unwrap().value(), link);
        let body = item.description().unwrap();
        assert!(body.contains("Found the cause."), "{body}");
        assert!(body.contains("Fixed; sorry &amp; thanks."), "{body}");
        assert!(!body.contains("<script"), "{body}");
        let view = statuspost::store::incidents::load(&app.db, second)
            .await
            .unwrap()
            .unwrap();
        let pub_date = chrono::DateTime::parse_from_rfc2822(item.pub_date().unwrap()).unwrap();
        assert_eq!(pub_date.timestamp(), view.last_update_at().timestamp());
        assert_eq!(
            channel.items()[1].link(),
            Some(format!("{}/incidents/{first}", app.address).as_str())
        );
    }
}

#[tokio::test]
async fn an_empty_page_has_valid_empty_feeds() {
    let app = spawn_app().await;
    let xml = fetch(&app, "/feed.atom", "application/atom+xml").await;
    let feed = atom_syndication::Feed::read_from(xml.as_bytes()).unwrap();
    assert!(feed.entries().is_empty());
    let xml = fetch(&app, "/feed.rss", "application/rss+xml").await;
    let channel = rss::Channel::read_from(xml.as_bytes()).unwrap();
    channel.validate().unwrap();
    assert!(channel.items().is_empty());
}

#[tokio::test]
async fn every_public_page_links_its_feeds() {
    let (app, _, second) = seeded().await;
    for page in ["/", "/history", &format!("/incidents/{second}")] {
        let html = app.get_html(page).await;
        let atom = attr(
            &html,
            "link[rel=alternate][type='application/atom+xml']",
            "href",
        );
        let rss = attr(
            &html,
            "link[rel=alternate][type='application/rss+xml']",
            "href",
        );
        assert_eq!(atom, Some(format!("{}/feed.atom", app.address)), "{page}");
        assert_eq!(rss, Some(format!("{}/feed.rss", app.address)), "{page}");
    }
}

#[tokio::test]
async fn a_maintenance_and_a_data_incident_read_in_the_feeds_and_the_history_as_on_the_page() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = app
        .post_form(
            "/admin/maintenance/new",
            "/admin/maintenance",
            &[
                ("title", "Database upgrade"),
                ("scheduled_for", "2030-03-08T05:00"),
                ("scheduled_until", "2030-03-08T09:00"),
                ("impact", "maintenance"),
                ("message", "We upgrade the database."),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    app.publish(
        "Orders missing",
        "identified",
        "We restore from a backup.",
        &[
            ("data_loss", "confirmed"),
            ("reader_actions", "Resend the downloads."),
        ],
    )
    .await;
    let atom = fetch(&app, "/feed.atom", "application/atom+xml").await;
    let feed = atom_syndication::Feed::read_from(atom.as_bytes()).unwrap();
    let content = |title: &str| {
        feed.entries()
            .iter()
            .find(|e| e.title().as_str().starts_with(title))
            .and_then(|e| e.content().and_then(|c| c.value()).map(str::to_owned))
            .unwrap_or_else(|| panic!("no entry {title} in {atom}"))
    };
    let maintenance = content("Database upgrade");
    assert!(
        maintenance.contains("<strong>Scheduled maintenance:</strong> Mar 8, 2030"),
        "{maintenance}"
    );
    let data = content("Orders missing");
    assert!(data.contains("<li>Data loss confirmed</li>"), "{data}");
    assert!(
        data.contains("What you need to do: Resend the downloads."),
        "{data}"
    );
    let rss = fetch(&app, "/feed.rss", "application/rss+xml").await;
    assert!(rss.contains("Database upgrade"), "{rss}");
    let history = app.get_html("/history").await;
    let titles = crate::helpers::texts(&history, "article h3");
    assert!(
        titles.iter().any(|t| t.starts_with("Database upgrade")),
        "{titles:?}"
    );
    assert!(
        titles.iter().any(|t| t.starts_with("Orders missing")),
        "{titles:?}"
    );
}
