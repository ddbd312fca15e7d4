//! Public subscribing: double opt-in by email, webhooks with a secret shown
//! once, per-component choices, and RFC 8058 one-click unsubscribe.
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use statuspost::entity::{subscriber, subscriber_component};

use crate::helpers::{attr, csrf_token, spawn_app_with, texts, TestApp};
use crate::smtp_server::{Received, SmtpServer};

/// Links in mail must come from this, never from the request.
pub const BASE_URL: &str = "http://status.example.test/";

/// An app whose mail goes to a fresh test SMTP server.
pub async fn app_with_mail() -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(&[("SMTP_URL", &smtp.url()), ("STATUSPOST_BASE_URL", BASE_URL)]).await;
    (app, smtp)
}

/// Fills in the email form of /subscribe as a browser would.
pub async fn subscribe(app: &TestApp, email: &str, components: &[i32]) -> reqwest::Response {
    let ids: Vec<String> = components.iter().map(i32::to_string).collect();
    let mut fields = vec![("email", email)];
    fields.extend(ids.iter().map(|i| ("components", i.as_str())));
    app.post_form("/subscribe", "/subscribe/email", &fields)
        .await
}

/// The confirmation link in a message (text part), checked against the HTML part.
pub fn confirm_link(msg: &Received) -> String {
    let text = msg.text();
    let start = text
        .find("http")
        .filter(|_| text.contains("/subscribe/confirm/"))
        .unwrap_or_else(|| panic!("no confirmation link in:\n{text}"));
    let link: String = text[start..].split_whitespace().next().unwrap().to_owned();
    let html = msg.html();
    assert_eq!(
        attr(&html, "a[href*='/subscribe/confirm/']", "href").as_deref(),
        Some(link.as_str()),
        "the HTML part carries the same link"
    );
    link
}

/// The path of an absolute link under BASE_URL, to request it from the test app.
pub fn path_of(link: &str) -> String {
    let rest = link
        .strip_prefix(BASE_URL)
        .unwrap_or_else(|| panic!("{link} is not under the base URL {BASE_URL}"));
    format!("/{rest}")
}

/// Waits for the next message to `to`, given how many there were before.
pub async fn mail_to(smtp: &SmtpServer, to: &str, nth: usize) -> Received {
    let mut n = smtp.messages().len();
    loop {
        let all = smtp.wait_for(n.max(1)).await;
        let mine: Vec<_> = all
            .iter()
            .filter(|m| m.to.iter().any(|t| t == to))
            .cloned()
            .collect();
        if mine.len() > nth {
            return mine[nth].clone();
        }
        n = all.len() + 1;
    }
}

pub async fn subscriber_by_email(app: &TestApp, email: &str) -> Vec<subscriber::Model> {
    subscriber::Entity::find()
        .filter(subscriber::Column::Email.eq(email))
        .all(&app.db)
        .await
        .unwrap()
}

/// The state of the one subscriber with this address.
pub async fn state_of(app: &TestApp, email: &str) -> &'static str {
    let mut found = subscriber_by_email(app, email).await;
    assert_eq!(found.len(), 1, "one row for {email}");
    statuspost::store::subscribers::state_of(&found.remove(0))
}

/// Opens a confirmation link and presses the page's button, as a person does;
/// returns the answer to the button.
pub async fn confirm(app: &TestApp, link: &str) -> reqwest::Response {
    let page = app.get_html(&path_of(link)).await;
    assert_eq!(
        texts(&page, "main form button"),
        vec!["Confirm subscription"],
        "{page}"
    );
    assert_eq!(attr(&page, "main form", "method").as_deref(), Some("post"));
    let action = attr(&page, "main form", "action").unwrap();
    assert_eq!(action, path_of(link), "the button posts to the link itself");
    app.client.post(app.url(&action)).send().await.unwrap()
}

/// Subscribes and confirms `email` through the public pages; returns its row.
pub async fn confirmed_subscriber(
    app: &TestApp,
    smtp: &SmtpServer,
    email: &str,
) -> subscriber::Model {
    assert_eq!(subscribe(app, email, &[]).await.status(), 303);
    let link = confirm_link(&mail_to(smtp, email, 0).await);
    assert_eq!(confirm(app, &link).await.status(), 200);
    let rows = subscriber_by_email(app, email).await;
    assert!(rows[0].confirmed_at.is_some());
    rows[0].clone()
}

#[tokio::test]
async fn email_is_confirmed_by_a_single_use_link_that_expires() {
    let (app, smtp) = app_with_mail().await;

    let res = subscribe(&app, "reader@example.com", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/subscribe/sent");
    let page = app.get_html("/subscribe/sent").await;
    assert!(texts(&page, "h1")[0].contains("Check your inbox"));

    // Nothing but the confirmation goes out until it is confirmed.
    let msg = mail_to(&smtp, "reader@example.com", 0).await;
    let rows = subscriber_by_email(&app, "reader@example.com").await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].confirmed_at.is_none(), "pending until confirmed");

    assert_eq!(msg.subject(), "[Acme Status] Confirm your subscription");
    let link = confirm_link(&msg);
    let token = link.rsplit('/').next().unwrap();
    // Only a hash of the token is stored.
    let stored = rows[0].confirm_token_hash.clone().unwrap();
    assert_ne!(stored, token);
    assert!(!stored.contains(token));

    // A scanner opening the link, as often as it likes, confirms nothing
    // and spends nothing.
    let scanner = bare_client();
    for _ in 0..3 {
        let res = scanner.get(app.url(&path_of(&link))).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let page = res.text().await.unwrap();
        assert!(
            texts(&page, "h1")[0].contains("Confirm your subscription"),
            "{page}"
        );
        assert!(page.contains("reader@example.com"), "{page}");
    }
    assert_eq!(subscriber_by_email(&app, "reader@example.com").await, rows);

    // Only a POST confirms; it needs no cookie or CSRF token.
    let res = scanner.post(app.url(&path_of(&link))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        texts(&page, "h1")[0].contains("You are subscribed"),
        "{page}"
    );
    let row = &subscriber_by_email(&app, "reader@example.com").await[0];
    assert!(row.confirmed_at.is_some());
    assert!(row.confirm_token_hash.is_none());

    // Single use: the page says so at once, and the button does nothing more.
    let res = app.get(&path_of(&link)).await;
    assert_eq!(res.status(), 410);
    let page = res.text().await.unwrap();
    assert!(texts(&page, "h1")[0].contains("no longer valid"));
    assert!(texts(&page, "main form button").is_empty());
    let res = app
        .client
        .post(app.url(&path_of(&link)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 410);

    // An expired link fails and confirms nothing.
    subscribe(&app, "late@example.com", &[]).await;
    let link = confirm_link(&mail_to(&smtp, "late@example.com", 0).await);
    let late = subscriber_by_email(&app, "late@example.com")
        .await
        .remove(0);
    subscriber::Entity::update(subscriber::ActiveModel {
        id: Set(late.id),
        confirm_expires_at: Set(Some(chrono::Utc::now() - chrono::Duration::minutes(1))),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    assert_eq!(app.get(&path_of(&link)).await.status(), 410);
    assert_eq!(
        app.client
            .post(app.url(&path_of(&link)))
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
    let late = subscriber_by_email(&app, "late@example.com")
        .await
        .remove(0);
    assert!(late.confirmed_at.is_none());

    // A made-up token fails too.
    assert_eq!(
        app.get("/subscribe/confirm/not-a-real-token")
            .await
            .status(),
        410
    );
    let res = app
        .client
        .post(app.url("/subscribe/confirm/not-a-real-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 410);
}

#[tokio::test]
async fn links_in_mail_come_from_the_base_url_not_the_host_header() {
    let (app, smtp) = app_with_mail().await;
    let page = app.get_html("/subscribe").await;
    let token = csrf_token(&page);
    let res = app
        .client
        .post(app.url("/subscribe/email"))
        .header("Host", "evil.example.net")
        .header("X-Forwarded-Host", "evil.example.net")
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "host@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let msg = mail_to(&smtp, "host@example.com", 0).await;
    let link = confirm_link(&msg);
    assert!(link.starts_with(BASE_URL), "{link}");
    assert!(!msg.data.contains("evil.example.net"), "{}", msg.data);
}

#[tokio::test]
async fn subscribing_again_neither_duplicates_nor_reveals() {
    let (app, smtp) = app_with_mail().await;
    let known = confirmed_subscriber(&app, &smtp, "known@example.com").await;

    // The answer to an address already confirmed is the answer to a new one.
    let again = subscribe(&app, "Known@EXAMPLE.com", &[]).await;
    let fresh = subscribe(&app, "fresh@example.com", &[]).await;
    assert_eq!(again.status(), fresh.status());
    assert_eq!(again.headers()["location"], fresh.headers()["location"]);
    assert_eq!(again.text().await.unwrap(), fresh.text().await.unwrap());

    // The new address got its mail; the confirmed one nothing more, and is unchanged.
    mail_to(&smtp, "fresh@example.com", 0).await;
    let to_known = smtp
        .messages()
        .iter()
        .filter(|m| {
            m.to.iter()
                .any(|t| t.eq_ignore_ascii_case("known@example.com"))
        })
        .count();
    assert_eq!(to_known, 1, "only the first confirmation");
    let count = subscriber::Entity::find()
        .filter(subscriber::Column::Kind.eq("email"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 2, "known and fresh, once each");
    let still = subscriber_by_email(&app, "known@example.com")
        .await
        .remove(0);
    assert_eq!(still, known);

    // An unconfirmed address asking again gets a fresh link; the old one stops working.
    subscribe(&app, "fresh@example.com", &[]).await;
    let first = confirm_link(&mail_to(&smtp, "fresh@example.com", 0).await);
    let second = confirm_link(&mail_to(&smtp, "fresh@example.com", 1).await);
    assert_ne!(first, second);
    assert_eq!(
        subscriber_by_email(&app, "fresh@example.com").await.len(),
        1
    );
    assert_eq!(app.get(&path_of(&first)).await.status(), 410);
    assert_eq!(confirm(&app, &second).await.status(), 200);
}

#[tokio::test]
async fn components_chosen_are_stored_and_a_bad_form_keeps_what_was_typed() {
    let (app, smtp) = app_with_mail().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let web = app.add_component("Website").await;
    let _billing = app.add_component("Billing").await;

    let page = app.get_html("/subscribe").await;
    assert!(texts(&page, "label").iter().any(|l| l == "API"));

    // A bad address comes back with the text, the ticks and a message beside the field.
    let res = subscribe(&app, "not an address", &[api, web]).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert_eq!(
        attr(
            &page,
            "form[action='/subscribe/email'] input[name=email]",
            "value"
        )
        .as_deref(),
        Some("not an address")
    );
    let err = texts(&page, "form[action='/subscribe/email'] .field-error");
    assert_eq!(err.len(), 1);
    assert!(err[0].contains("email address"), "{err:?}");
    let checked = texts(
        &page,
        "form[action='/subscribe/email'] input[checked] + label",
    );
    assert_eq!(checked, vec!["API", "Website"]);

    // A form without its CSRF token saves nothing and keeps the text.
    let res = app
        .client
        .post(app.url("/subscribe/email"))
        .form(&[("email", "nocsrf@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let page = res.text().await.unwrap();
    assert!(page.contains("nocsrf@example.com"));
    assert!(subscriber_by_email(&app, "nocsrf@example.com")
        .await
        .is_empty());

    let s = confirmed_subscriber(&app, &smtp, "all@example.com").await;
    assert!(
        chosen(&app, s.id).await.is_empty(),
        "none ticked: everything"
    );

    assert_eq!(
        subscribe(&app, "some@example.com", &[api, web])
            .await
            .status(),
        303
    );
    mail_to(&smtp, "some@example.com", 0).await;
    let s = subscriber_by_email(&app, "some@example.com")
        .await
        .remove(0);
    let mut got = chosen(&app, s.id).await;
    got.sort();
    assert_eq!(got, vec![api, web]);

    let res = app
        .post_form(
            "/subscribe",
            "/subscribe/webhook",
            &[
                ("webhook_url", "https://hooks.example.com/only-web"),
                ("email", "ops@example.com"),
                ("components", &web.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let hook = subscriber::Entity::find()
        .filter(subscriber::Column::Kind.eq("webhook"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chosen(&app, hook.id).await, vec![web]);
}

async fn chosen(app: &TestApp, id: i32) -> Vec<i32> {
    subscriber_component::Entity::find()
        .filter(subscriber_component::Column::SubscriberId.eq(id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.component_id)
        .collect()
}

#[tokio::test]
async fn a_webhook_secret_is_shown_once() {
    let (app, _smtp) = app_with_mail().await;
    let page = app.get_html("/subscribe").await;
    let labels = texts(&page, "form[action='/subscribe/webhook'] label");
    assert!(labels.contains(&"Webhook URL".to_owned()), "{labels:?}");
    assert!(labels.contains(&"Email".to_owned()), "{labels:?}");

    let fields = [
        ("webhook_url", "https://hooks.example.com/status"),
        ("email", "ops@example.com"),
    ];
    let res = app
        .post_form("/subscribe", "/subscribe/webhook", &fields)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let page = res.text().await.unwrap();
    let secret = texts(&page, "#secret").remove(0);
    assert!(secret.starts_with("whsec_"), "{secret}");
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&secret["whsec_".len()..])
        .unwrap();
    assert!(raw.len() >= 24);
    // The secret signs and verifies with the Standard Webhooks library.
    let wh = standardwebhooks::Webhook::new(&secret).unwrap();
    let sig = wh.sign("msg_1", 1_700_000_000, b"{}").unwrap();
    assert!(sig.starts_with("v1,"));

    let row = subscriber::Entity::find()
        .filter(subscriber::Column::Kind.eq("webhook"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.secret.as_deref(), Some(secret.as_str()));
    assert_eq!(row.email, "ops@example.com");
    assert!(row.confirmed_at.is_some(), "webhooks are active at once");
    // The page names the unsubscribe URL, under the base URL.
    assert_eq!(
        texts(&page, "#unsubscribe-url"),
        vec![format!("{BASE_URL}unsubscribe/{}", row.unsubscribe_token)]
    );

    // The same URL again: refused beside the field, and the secret is not shown again.
    let res = app
        .post_form("/subscribe", "/subscribe/webhook", &fields)
        .await;
    assert_eq!(res.status(), 409);
    let page = res.text().await.unwrap();
    assert!(!page.contains(&secret));
    let err = texts(&page, "form[action='/subscribe/webhook'] .field-error");
    assert!(err[0].contains("already subscribed"), "{err:?}");
    assert_eq!(
        attr(&page, "#webhook-email", "value").as_deref(),
        Some("ops@example.com")
    );
    let again = subscriber::Entity::find_by_id(row.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.secret, row.secret);
    assert!(!app.get_html("/subscribe").await.contains(&secret));

    // A URL that is not http(s) is refused beside its field.
    let res = app
        .post_form(
            "/subscribe",
            "/subscribe/webhook",
            &[
                ("webhook_url", "ftp://x.example.com/"),
                ("email", "a@example.com"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert_eq!(
        texts(&page, "form[action='/subscribe/webhook'] .field-error").len(),
        1
    );
    assert_eq!(
        attr(&page, "#webhook_url", "value").as_deref(),
        Some("ftp://x.example.com/")
    );
}

/// A client as a mail provider's one-click POST comes: no cookies at all.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn get_never_unsubscribes_and_one_click_post_does() {
    let (app, smtp) = app_with_mail().await;
    let s = confirmed_subscriber(&app, &smtp, "leaving@example.com").await;
    let url = app.url(&format!("/unsubscribe/{}", s.unsubscribe_token));
    let client = bare_client();

    for _ in 0..3 {
        let res = client.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("set-cookie").is_none());
        let page = res.text().await.unwrap();
        assert_eq!(texts(&page, "main form button"), vec!["Unsubscribe"]);
    }
    assert_eq!(
        subscriber_by_email(&app, "leaving@example.com").await.len(),
        1
    );

    let res = client
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none());
    assert!(texts(&res.text().await.unwrap(), "h1")[0].contains("unsubscribed"));
    assert_eq!(state_of(&app, "leaving@example.com").await, "unsubscribed");
    // The link's page now says so, and offers no button.
    let page = client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(texts(&page, "h1")[0].contains("unsubscribed"), "{page}");
    assert!(texts(&page, "main form button").is_empty(), "{page}");

    // Clicking again is harmless.
    let res = client
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn the_confirm_button_and_a_multipart_one_click_unsubscribe_too() {
    let (app, smtp) = app_with_mail().await;
    let s = confirmed_subscriber(&app, &smtp, "button@example.com").await;
    let client = bare_client();

    // The page's own form, submitted as a browser would.
    let page = client
        .get(app.url(&format!("/unsubscribe/{}", s.unsubscribe_token)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let action = attr(&page, "main form", "action").unwrap();
    let name = attr(&page, "main form input[type=hidden]", "name").unwrap();
    let value = attr(&page, "main form input[type=hidden]", "value").unwrap();
    let res = client
        .post(app.url(&action))
        .form(&[(name.as_str(), value.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(state_of(&app, "button@example.com").await, "unsubscribed");

    // RFC 8058 prefers multipart/form-data; a webhook's unsubscribe URL takes it too.
    let res = app
        .post_form(
            "/subscribe",
            "/subscribe/webhook",
            &[
                ("webhook_url", "https://hooks.example.com/x"),
                ("email", "ops@example.com"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let hook = subscriber_by_email(&app, "ops@example.com").await.remove(0);
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
    let res = client
        .post(app.url(&format!("/unsubscribe/{}", hook.unsubscribe_token)))
        .header("Content-Type", "multipart/form-data; boundary=XyZ")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(state_of(&app, "ops@example.com").await, "unsubscribed");

    // An unknown token changes nothing and tells nothing.
    let res = client
        .get(app.url("/unsubscribe/unknown-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn the_form_cannot_flood_an_inbox() {
    let (app, smtp) = app_with_mail().await;
    // Five confirmations to one address go out, each replacing the last link.
    let mut last = String::new();
    for n in 0..5 {
        assert_eq!(
            subscribe(&app, "victim@example.com", &[]).await.status(),
            303
        );
        last = confirm_link(&mail_to(&smtp, "victim@example.com", n).await);
    }
    let before = subscriber_by_email(&app, "victim@example.com")
        .await
        .remove(0);
    // The sixth answers the same but sends nothing and leaves the last link working.
    let res = subscribe(&app, "Victim@example.com", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/subscribe/sent");
    // Other addresses are not held up.
    subscribe(&app, "other@example.com", &[]).await;
    mail_to(&smtp, "other@example.com", 0).await;
    // By now the sixth sign-up, made first, has been dealt with too.
    let after = subscriber_by_email(&app, "victim@example.com")
        .await
        .remove(0);
    assert_eq!(after.confirm_token_hash, before.confirm_token_hash);
    let to_victim = smtp
        .messages()
        .iter()
        .filter(|m| m.to.iter().any(|t| t == "victim@example.com"))
        .count();
    assert_eq!(to_victim, 5);
    assert_eq!(app.get(&path_of(&last)).await.status(), 200);
}

/// Holds the write lock on the subscribers table until dropped (rolled back).
async fn lock_subscribers(app: &TestApp) -> sea_orm::DatabaseTransaction {
    use sea_orm::ConnectionTrait;
    let txn = statuspost::store::begin_write(&app.db).await.unwrap();
    if app.database.is_postgres() {
        // Readers pass, writers wait.
        txn.execute_unprepared("LOCK TABLE subscribers IN EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    txn
}

#[tokio::test]
async fn the_answer_does_not_wait_for_the_address_dependent_work() {
    let (app, smtp) = app_with_mail().await;
    let known = confirmed_subscriber(&app, &smtp, "known@example.com").await;

    // With no write possible, neither a new nor a confirmed address can be
    // looked up and written before the answer; both answer all the same.
    let lock = lock_subscribers(&app).await;
    let bound = std::time::Duration::from_secs(5);
    let mut answers = Vec::new();
    for email in ["new@example.com", "known@example.com"] {
        let res = tokio::time::timeout(bound, subscribe(&app, email, &[]))
            .await
            .unwrap_or_else(|_| panic!("the answer to {email} waited for the database"));
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].clone();
        answers.push((location, res.bytes().await.unwrap()));
    }
    assert_eq!(answers[0], answers[1], "the same answer, byte for byte");
    assert!(subscriber_by_email(&app, "new@example.com")
        .await
        .is_empty());

    // Once the database takes writes again the sign-up goes through.
    lock.rollback().await.unwrap();
    let link = confirm_link(&mail_to(&smtp, "new@example.com", 0).await);
    assert!(link.starts_with(BASE_URL));
    assert_eq!(subscriber_by_email(&app, "new@example.com").await.len(), 1);
    assert_eq!(
        subscriber_by_email(&app, "known@example.com").await,
        vec![known],
        "a confirmed address is left as it was"
    );
}

#[tokio::test]
async fn a_webhook_url_every_delivery_would_refuse_is_refused_at_once() {
    let app = spawn_app_with(&[("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "false")]).await;
    let cases = [
        ("http://127.0.0.1:9/hook", "a loopback address"),
        ("http://10.0.0.1/hook", "a private address"),
        ("http://[::1]:9/hook", "a loopback address"),
        ("http://localhost:9/", "localhost resolves to"),
    ];
    for (url, why) in cases {
        let res = app
            .post_form(
                "/subscribe",
                "/subscribe/webhook",
                &[("webhook_url", url), ("email", "ops@example.com")],
            )
            .await;
        assert_eq!(res.status(), 422, "{url}");
        let page = res.text().await.unwrap();
        let err = texts(&page, "form[action='/subscribe/webhook'] .field-error");
        assert_eq!(err.len(), 1, "{url}: {err:?}");
        assert!(err[0].contains(why), "{url}: {err:?}");
        // Beside the URL field, with what was typed kept.
        let described = attr(&page, "#webhook_url", "aria-describedby").unwrap_or_default();
        assert!(
            !described.is_empty() && texts(&page, &format!("#{described}")) == err,
            "{url}: the message belongs to the URL field"
        );
        assert_eq!(attr(&page, "#webhook_url", "value").as_deref(), Some(url));
        assert_eq!(
            attr(&page, "#webhook-email", "value").as_deref(),
            Some("ops@example.com")
        );
    }

    // The staff form and the write API use the same check.
    app.sign_in_admin().await;
    let res = app
        .post_form(
            "/admin/subscribers",
            "/admin/subscribers",
            &[
                ("email", "ops@example.com"),
                ("webhook_url", "http://localhost:9/"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("localhost resolves to"), "{page}");
    assert!(
        page.contains("http://localhost:9/"),
        "the URL typed is kept"
    );
    let token = crate::api_v1::api_token(&app, "write").await;
    let res = app
        .client
        .post(app.url("/api/v1/subscribers"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"email": "ops@example.com", "webhook_url": "http://[::1]:9/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "webhook_url", "{body}");
    assert_eq!(
        subscriber::Entity::find().count(&app.db).await.unwrap(),
        0,
        "nothing was added"
    );

    // Where private receivers are allowed, the same URL is taken.
    let open = spawn_app_with(&[("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let res = open
        .post_form(
            "/subscribe",
            "/subscribe/webhook",
            &[
                ("webhook_url", "http://localhost:9/"),
                ("email", "ops@example.com"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
}
