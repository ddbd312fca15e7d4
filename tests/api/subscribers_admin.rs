//! Subscribers for staff: list, search, add, remove, rotate a webhook's secret,
//! export as CSV.
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use statuspost::entity::subscriber;

use crate::helpers::{attr, client, csrf_token, spawn_app, texts, TestApp};
use crate::subscribe::{
    app_with_mail, confirmed_subscriber, mail_to, subscribe, subscriber_by_email,
};

async fn add(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form("/admin/subscribers", "/admin/subscribers", fields)
        .await
}

async fn pending_still_there(app: &TestApp) -> bool {
    !subscriber_by_email(app, "pending@example.com")
        .await
        .is_empty()
}

fn row_texts(page: &str) -> Vec<String> {
    texts(page, "table.subscribers tbody tr")
}

#[tokio::test]
async fn staff_only() {
    let app = spawn_app().await;
    for path in ["/admin/subscribers", "/admin/subscribers.csv"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        assert!(res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/admin/login"));
    }
    let res = client()
        .post(app.url("/admin/subscribers"))
        .form(&[("email", "x@example.com")])
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 200);
    assert_eq!(
        subscriber::Entity::find().count(&app.db).await.unwrap(),
        0,
        "nothing added without a session"
    );
}

#[tokio::test]
async fn staff_list_search_add_and_remove_subscribers() {
    let (app, smtp) = app_with_mail().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    confirmed_subscriber(&app, &smtp, "reader@example.com").await;
    subscribe(&app, "pending@example.com", &[]).await;
    mail_to(&smtp, "pending@example.com", 0).await;

    // Staff add an address: confirmed at once, with the components ticked.
    let res = add(
        &app,
        &[
            ("email", "added@example.com"),
            ("components", &api.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let added = subscriber_by_email(&app, "added@example.com")
        .await
        .remove(0);
    assert!(added.confirmed_at.is_some(), "staff-added means confirmed");

    // A bad address comes back beside its field with the text kept.
    let res = add(&app, &[("email", "nope"), ("webhook_url", "")]).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert_eq!(attr(&page, "#email", "value").as_deref(), Some("nope"));
    assert_eq!(texts(&page, ".field-error").len(), 1);

    // Adding an address already subscribed is refused, not duplicated.
    let res = add(&app, &[("email", "READER@example.com")]).await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        subscriber::Entity::find()
            .filter(subscriber::Column::Kind.eq("email"))
            .count(&app.db)
            .await
            .unwrap(),
        3
    );

    // A webhook: its secret is on the next page, once.
    let res = add(
        &app,
        &[
            ("email", "ops@example.com"),
            ("webhook_url", "https://hooks.example.com/ours"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let secret = texts(&page, "#secret").remove(0);
    assert!(secret.starts_with("whsec_"));

    let page = app.get_html("/admin/subscribers").await;
    assert!(!page.contains(&secret), "the secret is not listed");
    let rows = row_texts(&page);
    assert_eq!(rows.len(), 4, "{rows:?}");
    let row = |needle: &str| {
        rows.iter()
            .find(|r| r.contains(needle))
            .unwrap_or_else(|| panic!("no row with {needle}: {rows:?}"))
            .clone()
    };
    assert!(row("reader@example.com").contains("Confirmed"));
    assert!(row("pending@example.com").contains("Awaiting confirmation"));
    assert!(row("added@example.com").contains("API"));
    assert!(row("hooks.example.com/ours").contains("webhook"));

    // Search matches address or URL, literally.
    let page = app.get_html("/admin/subscribers?q=HOOKS.example").await;
    let rows = row_texts(&page);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("hooks.example.com/ours"));
    let page = app.get_html("/admin/subscribers?q=pending").await;
    assert_eq!(row_texts(&page).len(), 1);
    let page = app.get_html("/admin/subscribers?q=%25").await;
    assert!(row_texts(&page).is_empty(), "% is not a wildcard");

    // Remove: the list's button only leads to a page that asks first.
    let page = app.get_html("/admin/subscribers?q=pending").await;
    assert!(
        attr(&page, "form[action$='/delete']", "action").is_none(),
        "no button on the list removes by itself"
    );
    let confirm = attr(&page, "a[href$='/delete']", "href").unwrap();
    let asked = app.get_html(&confirm).await;
    assert!(pending_still_there(&app).await, "asking removes nothing");
    assert_eq!(
        texts(&asked, "h1"),
        vec!["Remove the email subscriber pending@example.com?"]
    );
    assert!(asked.contains("its delivery history goes with it"));
    assert_eq!(
        attr(&asked, "main a", "href").as_deref(),
        Some(
            confirm
                .replace("/delete", "")
                .replace("/admin/subscribers/", "/admin/subscribers#subscriber-")
                .as_str()
        ),
        "Keep it leads back to the row"
    );
    assert_eq!(texts(&asked, "main a"), vec!["Keep it"]);
    let action = attr(&asked, "main form[method=post]", "action").unwrap();
    assert_eq!(action, confirm, "the page posts where it was asked from");
    let res = app
        .client
        .post(app.url(&action))
        .form(&[("csrf_token", csrf_token(&asked).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/admin/subscribers?done=subscriber-removed"
    );
    assert!(!pending_still_there(&app).await);
    let after = app
        .get_html("/admin/subscribers?done=subscriber-removed")
        .await;
    assert_eq!(
        texts(&after, "main > .notice[role=status]"),
        vec!["Subscriber removed. Nothing more is sent to it."]
    );
    // Without the CSRF token nothing is removed.
    let page = app.get_html("/admin/subscribers?q=reader").await;
    let action = attr(&page, "a[href$='/delete']", "href").unwrap();
    let res = app
        .client
        .post(app.url(&action))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        subscriber_by_email(&app, "reader@example.com").await.len(),
        1
    );
}

#[tokio::test]
async fn staff_rotate_a_webhook_secret_shown_once() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = add(
        &app,
        &[
            ("email", "ops@example.com"),
            ("webhook_url", "https://hooks.example.com/rotate"),
        ],
    )
    .await;
    let first = texts(&res.text().await.unwrap(), "#secret").remove(0);

    let page = app.get_html("/admin/subscribers").await;
    let action = attr(&page, "form[action$='/rotate']", "action").unwrap();
    let res = app
        .client
        .post(app.url(&action))
        .form(&[("csrf_token", csrf_token(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let second = texts(&page, "#secret").remove(0);
    assert!(second.starts_with("whsec_"));
    assert_ne!(first, second);
    let row = subscriber_by_email(&app, "ops@example.com").await.remove(0);
    assert_eq!(row.secret.as_deref(), Some(second.as_str()));
    assert!(!app.get_html("/admin/subscribers").await.contains(&second));
}

#[tokio::test]
async fn csv_export_has_a_header_and_defuses_formulas() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app
        .add_component("=HYPERLINK(\"http://evil.example\")")
        .await;
    for email in ["plain@example.com", "=cmd@example.com", "+1@example.com"] {
        let res = add(&app, &[("email", email), ("components", &api.to_string())]).await;
        assert_eq!(res.status(), 303, "{email}");
    }
    add(
        &app,
        &[
            ("email", "-ops@example.com"),
            ("webhook_url", "https://hooks.example.com/csv"),
        ],
    )
    .await;

    let res = app.get("/admin/subscribers.csv").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let body = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "kind",
            "email",
            "webhook_url",
            "components",
            "status",
            "confirmed_at",
            "created_at"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    for r in &rows {
        for cell in r.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a cell a spreadsheet would run: {cell:?}"
            );
        }
    }
    assert_eq!(&rows[0][1], "plain@example.com");
    assert_eq!(&rows[0][4], "confirmed");
    assert_eq!(&rows[1][1], "'=cmd@example.com");
    assert_eq!(&rows[1][3], "'=HYPERLINK(\"http://evil.example\")");
    assert_eq!(&rows[2][1], "'+1@example.com");
    assert_eq!(&rows[3][0], "webhook");
    assert_eq!(&rows[3][1], "'-ops@example.com");
    assert_eq!(&rows[3][2], "https://hooks.example.com/csv");
    assert!(!body.contains("whsec_"), "secrets are never exported");
}

#[tokio::test]
async fn an_unreadable_subscriber_kind_is_an_error_not_a_list() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = add(&app, &[("email", "reader@example.com")]).await;
    assert_eq!(res.status(), 303);
    assert!(app
        .get_html("/admin/subscribers")
        .await
        .contains("reader@example.com"));
    let token = crate::api_v1::api_token(&app, "read").await;
    let unsubscribe = subscriber_by_email(&app, "reader@example.com").await[0]
        .unsubscribe_token
        .clone();
    // A kind this version cannot read: written by hand, or by a newer version.
    app.db
        .execute_unprepared("UPDATE subscribers SET kind = 'pigeon'")
        .await
        .unwrap();
    for path in [
        "/admin/subscribers",
        "/admin/subscribers.csv",
        &format!("/unsubscribe/{unsubscribe}"),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 500, "{path} must not pass it for an email");
        let body = res.text().await.unwrap();
        assert!(!body.contains("reader@example.com"), "{path}: {body}");
    }
    let res = app
        .client
        .get(app.url("/api/v1/subscribers"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
}

#[tokio::test]
async fn every_cell_of_the_subscribers_and_deliveries_tables_says_its_column() {
    let (app, smtp) = app_with_mail().await;
    app.sign_in_admin().await;
    confirmed_subscriber(&app, &smtp, "reader@example.com").await;
    let res = add(&app, &[("email", "ops@example.com"), ("webhook_url", "")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/admin/subscribers?done=subscriber-added"
    );
    let id = app
        .publish("Search is slow", "investigating", "Looking.", &[])
        .await;
    // The deliveries table shows once the app's own worker has fanned the
    // update out, which it does after the publish returns.
    crate::notify_support::eventually("the update's deliveries", || async {
        !crate::notify_support::all_deliveries(&app.db)
            .await
            .is_empty()
    })
    .await;

    for (path, table) in [
        ("/admin/subscribers".to_owned(), "table.subscribers"),
        (format!("/admin/incidents/{id}"), "table.deliveries"),
    ] {
        let html = app.get_html(&path).await;
        let heads = texts(&html, &format!("{table} thead th"));
        let doc = scraper::Html::parse_document(&html);
        let rows = scraper::Selector::parse(&format!("{table} tbody tr")).unwrap();
        let cells = scraper::Selector::parse("td, th").unwrap();
        let mut seen = 0;
        for row in doc.select(&rows) {
            let labels: Vec<_> = row
                .select(&cells)
                .map(|c| {
                    c.value().attr("data-label").unwrap_or_else(|| {
                        panic!("{path}: a cell without data-label in {}", row.html())
                    })
                })
                .collect();
            // Each cell is labelled with its column's heading.
            for (label, head) in labels.iter().zip(&heads) {
                if !head.is_empty() && head != "Actions" {
                    assert_eq!(label, head, "{path}");
                }
            }
            seen += 1;
        }
        assert!(seen > 0, "{path}: no rows");
    }
    // The failures table is not reached here: every td of both templates is labelled.
    for template in ["deliveries.html", "subscribers.html"] {
        let text = std::fs::read_to_string(format!(
            "{}/templates/admin/{template}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let tds = text.matches("<td").count();
        assert!(tds > 0);
        assert_eq!(
            tds,
            text.matches("<td data-label=").count()
                + text.matches("<td class=\"actions\" data-label=").count(),
            "{template}"
        );
    }
    // Long URLs and secrets wrap instead of widening the page on a phone.
    let css = app.get_html("/assets/style.css").await;
    assert!(css.contains("code, .url, .last-error, .confirm-heading { overflow-wrap: anywhere; }"));
    assert!(css.contains("td[data-label]::before"));
}
