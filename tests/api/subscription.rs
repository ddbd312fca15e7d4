//! A subscriber's own page, from the link in every mail: choosing components
//! (the next notification honours them) and unsubscribing, which keeps what
//! was sent on record and sends nothing more.
use crate::helpers::{attr, client, csrf_token, spawn_app_with, texts, TestApp};
use crate::notify_support::{all_deliveries, email_subscriber, STEPPED};
use crate::smtp_server::{Received, SmtpServer};
use crate::subscribe::{
    confirm, confirm_link, mail_to, path_of, state_of, subscribe, subscriber_by_email, BASE_URL,
};

async fn app() -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let mut settings = vec![
        ("SMTP_URL", url.as_str()),
        ("STATUSPOST_BASE_URL", BASE_URL),
    ];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    (app, smtp)
}

/// The "Manage your subscription" link of a notification, the same in both parts.
fn manage_link(m: &Received) -> String {
    let text = m.text();
    let link = text
        .lines()
        .find_map(|l| l.strip_prefix("Manage your subscription (components, unsubscribe): "))
        .unwrap_or_else(|| panic!("no manage link in:\n{text}"))
        .trim()
        .to_owned();
    let html = m.html();
    assert_eq!(
        texts(&html, "a[href*='/subscription/']"),
        vec!["Manage your subscription"]
    );
    assert_eq!(
        attr(&html, "a[href*='/subscription/']", "href").as_deref(),
        Some(link.as_str())
    );
    link
}

/// The subscriber's browser: no staff session, cookies of its own.
struct Reader {
    client: reqwest::Client,
    page: String,
}

impl Reader {
    async fn open(app: &TestApp, link: &str) -> (Self, String) {
        let r = Self {
            client: client(),
            page: path_of(link),
        };
        let html = r.get(app).await;
        (r, html)
    }

    async fn get(&self, app: &TestApp) -> String {
        let res = self.client.get(app.url(&self.page)).send().await.unwrap();
        assert_eq!(res.status(), 200, "GET {}", self.page);
        res.text().await.unwrap()
    }

    /// Ticks `components` (only those) and saves, as the page's form does.
    async fn save(&self, app: &TestApp, components: &[i32]) -> reqwest::Response {
        let html = self.get(app).await;
        let action = post_actions(&html).remove(0);
        assert_eq!(action, self.page, "the form posts to the page itself");
        let token = csrf_token(&html);
        let ids: Vec<String> = components.iter().map(i32::to_string).collect();
        let mut body = vec![("csrf_token", token.as_str())];
        body.extend(ids.iter().map(|i| ("components", i.as_str())));
        self.client
            .post(app.url(&action))
            .form(&body)
            .send()
            .await
            .unwrap()
    }
}

/// The actions of a page's POST forms, in order.
fn post_actions(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("form[method=post]").unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().attr("action").map(str::to_owned))
        .collect()
}

fn ticked(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("input[name=components][checked]").unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().attr("value").map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_page_in_every_mail_changes_the_components_and_the_next_notification_honours_it() {
    let (app, smtp) = app().await;
    let api = app.add_component("API").await;
    let web = app.add_component("Web").await;
    let sub = email_subscriber(&app.db, "reader@example.com", &[]).await;
    let (api_field, web_field) = (format!("component_{api}"), format!("component_{web}"));

    app.publish(
        "Slow API",
        "investigating",
        "Looking.",
        &[(api_field.as_str(), "degraded_performance")],
    )
    .await;
    assert_eq!(app.deliver().await, 1);
    let link = manage_link(&mail_to(&smtp, "reader@example.com", 0).await);
    assert_eq!(
        link,
        format!("{BASE_URL}subscription/{}", sub.unsubscribe_token),
        "from the base URL, with the subscriber's own secret"
    );

    let (reader, page) = Reader::open(&app, &link).await;
    assert_eq!(texts(&page, "h1"), vec!["Your subscription"]);
    assert!(
        texts(&page, "main p")
            .iter()
            .any(|p| p.contains("reader@example.com") && p.contains("every incident")),
        "{page}"
    );
    assert!(ticked(&page).is_empty());

    // A form from elsewhere (no CSRF token of this browser's) changes nothing.
    let forged = client()
        .post(app.url(&reader.page))
        .form(&[("components", api.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(ticked(&reader.get(&app).await).is_empty());

    let res = reader.save(&app, &[web]).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("{}?saved=1", reader.page));
    let saved = reader
        .client
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&saved, ".notice"),
        vec!["Saved. You will hear of incidents that affect Web, and of those that name no component."]
    );
    assert_eq!(ticked(&saved), vec![web.to_string()]);

    // An incident on API alone no longer reaches the reader; one on Web does.
    app.publish(
        "API down",
        "investigating",
        "Looking.",
        &[(api_field.as_str(), "major_outage")],
    )
    .await;
    assert_eq!(app.deliver().await, 0, "nobody hears of API now");
    app.publish(
        "Web slow",
        "investigating",
        "Looking.",
        &[(web_field.as_str(), "degraded_performance")],
    )
    .await;
    assert_eq!(app.deliver().await, 1);
    let m = mail_to(&smtp, "reader@example.com", 1).await;
    assert_eq!(m.subject(), "[Acme Status] Investigating: Web slow");
    assert_eq!(smtp.messages().len(), 2);

    // Nothing ticked: every incident again.
    assert_eq!(reader.save(&app, &[]).await.status(), 303);
    app.publish(
        "API again",
        "investigating",
        "Looking.",
        &[(api_field.as_str(), "major_outage")],
    )
    .await;
    assert_eq!(app.deliver().await, 1);
    assert_eq!(
        mail_to(&smtp, "reader@example.com", 2).await.subject(),
        "[Acme Status] Investigating: API again"
    );
}

#[tokio::test]
async fn an_unknown_link_says_so_and_changes_nothing() {
    let (app, _smtp) = app().await;
    let res = client()
        .get(app.url("/subscription/not-a-real-token-but-long-enough-to-look-like-one"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let page = res.text().await.unwrap();
    assert_eq!(texts(&page, "h1"), vec!["This link is not valid"]);
    let res = client()
        .post(app.url("/subscription/not-a-real-token"))
        .form(&[("components", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// The admin incident page's delivery counts: sent, pending, failed and dead
/// of each update that has deliveries, sorted (the page's order is not ours).
async fn counts(app: &TestApp, incident: i32) -> Vec<[i64; 4]> {
    let html = app.get_html(&format!("/admin/incidents/{incident}")).await;
    let cells: Vec<i64> = texts(&html, "table.deliveries tbody td")
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    let mut rows: Vec<[i64; 4]> = cells.chunks(4).map(|c| c.try_into().unwrap()).collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn unsubscribing_keeps_the_delivery_counts_sends_nothing_more_and_can_be_undone() {
    let (app, smtp) = app().await;
    email_subscriber(&app.db, "stays@example.com", &[]).await;
    email_subscriber(&app.db, "leaves@example.com", &[]).await;
    let id = app
        .publish("Outage", "investigating", "Looking.", &[])
        .await;
    assert_eq!(app.deliver().await, 2);
    assert_eq!(counts(&app, id).await, [[2, 0, 0, 0]]);

    // The reader leaves from the manage page's button.
    let link = manage_link(&mail_to(&smtp, "leaves@example.com", 0).await);
    let (reader, page) = Reader::open(&app, &link).await;
    let action = post_actions(&page)
        .into_iter()
        .find(|a| a.starts_with("/unsubscribe/"))
        .unwrap_or_else(|| panic!("no unsubscribe button in {page}"));
    let res = reader
        .client
        .post(app.url(&action))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        texts(&res.text().await.unwrap(), "h1"),
        vec!["You are unsubscribed"]
    );
    assert_eq!(state_of(&app, "leaves@example.com").await, "unsubscribed");

    // What was sent stays counted, and the next update goes to the other only.
    assert_eq!(counts(&app, id).await, [[2, 0, 0, 0]]);
    assert_eq!(
        app.post_update(id, "identified", "Found it.", &[])
            .await
            .status(),
        303
    );
    assert_eq!(app.deliver().await, 1);
    assert_eq!(
        mail_to(&smtp, "stays@example.com", 1).await.subject(),
        "[Acme Status] Identified: Outage"
    );
    assert_eq!(counts(&app, id).await, [[1, 0, 0, 0], [2, 0, 0, 0]]);
    assert_eq!(smtp.messages().len(), 3);

    // The manage page says so and offers no form; staff see who left, and when.
    let page = reader.get(&app).await;
    assert_eq!(texts(&page, "h1"), vec!["You are unsubscribed"]);
    assert!(texts(&page, "main form").is_empty(), "{page}");
    let admin = app.get_html("/admin/subscribers").await;
    assert!(
        texts(&admin, "main p")
            .iter()
            .any(|p| p.starts_with("1 confirmed and active; 2 in all")),
        "{admin}"
    );
    let row = texts(&admin, "table.subscribers tbody tr")
        .into_iter()
        .find(|r| r.contains("leaves@example.com"))
        .unwrap();
    assert!(row.contains("Unsubscribed"), "{row}");

    // Subscribing again with the same address: the same row, confirmed anew.
    assert_eq!(
        subscribe(&app, "leaves@example.com", &[]).await.status(),
        303
    );
    let confirmation = mail_to(&smtp, "leaves@example.com", 1).await;
    assert_eq!(
        confirmation.subject(),
        "[Acme Status] Confirm your subscription"
    );
    let admin = app.get_html("/admin/subscribers").await;
    let row = texts(&admin, "table.subscribers tbody tr")
        .into_iter()
        .find(|r| r.contains("leaves@example.com"))
        .unwrap();
    assert!(row.contains("awaiting confirmation"), "{row}");
    assert_eq!(app.deliver().await, 0, "nothing before the confirmation");
    assert_eq!(
        confirm(&app, &confirm_link(&confirmation)).await.status(),
        200
    );
    assert_eq!(
        subscriber_by_email(&app, "leaves@example.com").await.len(),
        1
    );
    assert_eq!(state_of(&app, "leaves@example.com").await, "confirmed");
    assert_eq!(
        app.post_update(id, "resolved", "Fixed.", &[])
            .await
            .status(),
        303
    );
    assert_eq!(app.deliver().await, 2);
    assert_eq!(
        mail_to(&smtp, "leaves@example.com", 2).await.subject(),
        "[Acme Status] Resolved: Outage"
    );
}

#[tokio::test]
async fn what_was_waiting_is_not_sent_and_a_failed_attempt_stays_on_record() {
    let (app, smtp) = app().await;
    let waiting = email_subscriber(&app.db, "waiting@example.com", &[]).await;
    let failing = email_subscriber(&app.db, "failing@example.com", &[]).await;
    smtp.stop();
    let id = app
        .publish("Outage", "investigating", "Looking.", &[])
        .await;
    // One attempt each, both failed: pending, to be retried.
    assert_eq!(app.deliver_once().await, 2);
    assert_eq!(counts(&app, id).await, [[0, 0, 2, 0]]);
    // Another update; its deliveries wait behind the failing ones, untried,
    // while those are tried a second time.
    assert_eq!(
        app.post_update(id, "identified", "Found it.", &[])
            .await
            .status(),
        303
    );
    assert_eq!(app.deliver_once().await, 2);
    assert_eq!(all_deliveries(&app.db).await.len(), 4);

    let one_click = |token: String| {
        let app = &app;
        async move {
            client()
                .post(app.url(&format!("/unsubscribe/{token}")))
                .form(&[("List-Unsubscribe", "One-Click")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(one_click(failing.unsubscribe_token.clone()).await, 200);
    assert_eq!(one_click(waiting.unsubscribe_token.clone()).await, 200);
    // The attempts made stay, as dead with the reason; the update never tried is gone.
    let rows = all_deliveries(&app.db).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter().all(|d| d.status == "dead"
            && d.attempts == 2
            && d.last_error.as_deref() == Some("the subscriber unsubscribed")),
        "{rows:?}"
    );
    assert_eq!(counts(&app, id).await, [[0, 0, 0, 2]]);

    // Nothing reaches them, not even when staff retry the dead deliveries.
    smtp.restart().await;
    let page = format!("/admin/incidents/{id}");
    let retry = format!("/admin/incidents/{id}/deliveries/retry");
    assert_eq!(app.post_form(&page, &retry, &[]).await.status(), 303);
    assert_eq!(app.deliver().await, 0);
    assert!(smtp.messages().is_empty());
}

#[tokio::test]
async fn a_webhook_that_unsubscribed_can_subscribe_again_with_a_new_secret() {
    let (app, _smtp) = app().await;
    let add = || {
        app.post_form(
            "/subscribe",
            "/subscribe/webhook",
            &[
                ("webhook_url", "https://hooks.example.com/status"),
                ("email", "ops@example.com"),
            ],
        )
    };
    let first = add().await.text().await.unwrap();
    let secret = texts(&first, "#secret").remove(0);
    let row = subscriber_by_email(&app, "ops@example.com").await.remove(0);
    let res = client()
        .post(app.url(&format!("/unsubscribe/{}", row.unsubscribe_token)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(state_of(&app, "ops@example.com").await, "unsubscribed");

    let res = add().await;
    assert_eq!(res.status(), 200);
    let again = texts(&res.text().await.unwrap(), "#secret").remove(0);
    assert!(again.starts_with("whsec_") && again != secret);
    assert_eq!(state_of(&app, "ops@example.com").await, "confirmed");
}

/// The `Origin` a browser sends with a form posted from a page served with
/// this `Referrer-Policy` to the page's own origin (Fetch: "append a request
/// Origin header"): `null` under `no-referrer`, else the page's origin.
fn browser_origin(page: &reqwest::Response, origin: &str) -> String {
    let policy = page
        .headers()
        .get("referrer-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("strict-origin-when-cross-origin");
    // The last policy a browser knows wins; ours are all known.
    match policy.rsplit(',').next().map(str::trim) {
        Some("no-referrer") => "null".to_owned(),
        _ => origin.to_owned(),
    }
}

#[tokio::test]
async fn the_public_forms_work_from_a_browser_that_sends_origin() {
    let (app, _smtp) = app().await;
    app.add_component("API").await;
    let sub = email_subscriber(&app.db, "reader@example.com", &[]).await;
    let origin = BASE_URL.trim_end_matches('/');
    for (page, action, fields) in [
        (
            "/subscribe".to_owned(),
            "/subscribe/email".to_owned(),
            vec![("email", "new@example.com")],
        ),
        (
            format!("/subscription/{}", sub.unsubscribe_token),
            format!("/subscription/{}", sub.unsubscribe_token),
            vec![],
        ),
    ] {
        let browser = client();
        let res = browser.get(app.url(&page)).send().await.unwrap();
        let sent_origin = browser_origin(&res, origin);
        let token = csrf_token(&res.text().await.unwrap());
        let mut body = vec![("csrf_token", token.as_str())];
        body.extend(fields);
        let res = browser
            .post(app.url(&action))
            .header("Origin", &sent_origin)
            .form(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            303,
            "{page} posted with Origin: {sent_origin}"
        );
    }
}
