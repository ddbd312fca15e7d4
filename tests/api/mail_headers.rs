//! What every message we send says of itself: a Message-ID on the base URL's
//! host, a subject that carries the state, the incident's thread, and, in a
//! component's mail, the change from what to what and when.
use sea_orm::{EntityTrait, QueryOrder};
use statuspost::entity::notification_event;

use crate::helpers::{spawn_app_with, TestApp};
use crate::notify_support::{email_subscriber, STEPPED};
use crate::smtp_server::{Received, SmtpServer};
use crate::subscribe::{confirm, confirm_link, mail_to, subscribe, BASE_URL};

/// Every Message-ID is on this host, the base URL's, not the server's address.
const HOST: &str = "status.example.test";

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

/// `<local@host>`: checks the shape and returns the id.
fn message_id(m: &Received) -> String {
    let id = m
        .header("Message-ID")
        .unwrap_or_else(|| panic!("no Message-ID in:\n{}", m.data));
    assert!(
        id.starts_with('<') && id.ends_with(&format!("@{HOST}>")) && !id.contains(' '),
        "{id}"
    );
    id
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
                ("notify", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn the_confirmation_mail_has_a_message_id_of_its_own_each_time() {
    let (app, smtp) = app().await;
    assert_eq!(subscribe(&app, "new@example.com", &[]).await.status(), 303);
    let first = mail_to(&smtp, "new@example.com", 0).await;
    assert_eq!(first.subject(), "[Acme Status] Confirm your subscription");
    // Signing up again at once sends a fresh link: another message, which a
    // provider dropping repeated ids must not take for the first.
    assert_eq!(subscribe(&app, "new@example.com", &[]).await.status(), 303);
    let second = mail_to(&smtp, "new@example.com", 1).await;
    assert_ne!(message_id(&first), message_id(&second));
    assert_eq!(first.header("In-Reply-To"), None);
    assert_eq!(
        first.header("List-Unsubscribe"),
        None,
        "no one is subscribed yet"
    );
    assert_eq!(confirm(&app, &confirm_link(&second)).await.status(), 200);
}

#[tokio::test]
async fn subjects_carry_the_state_and_the_thread_holds_across_them() {
    let (app, smtp) = app().await;
    let api = app.add_component("API").await;
    email_subscriber(&app.db, "reader@example.com", &[]).await;
    let field = format!("component_{api}");
    let id = app
        .publish(
            "Checkout errors",
            "investigating",
            "Looking.",
            &[(field.as_str(), "major_outage")],
        )
        .await;
    for (status, message) in [("identified", "Found it."), ("resolved", "Fixed.")] {
        assert_eq!(
            app.post_update(id, status, message, &[]).await.status(),
            303
        );
    }
    assert_eq!(app.deliver().await, 3);
    let mails = smtp.wait_for(3).await;
    let subjects: Vec<String> = mails.iter().map(Received::subject).collect();
    assert_eq!(
        subjects,
        [
            "[Acme Status] Investigating: Checkout errors",
            "[Acme Status] Identified: Checkout errors",
            "[Acme Status] Resolved: Checkout errors",
        ]
    );
    let ids: Vec<String> = mails.iter().map(message_id).collect();
    assert!(ids[0].starts_with(&format!("<incident-{id}-update-")));
    assert_eq!(mails[0].header("In-Reply-To"), None);
    for m in &mails[1..] {
        assert_eq!(m.header("In-Reply-To").as_ref(), Some(&ids[0]));
        assert_eq!(m.header("References").as_ref(), Some(&ids[0]));
    }
    assert!(ids[1] != ids[0] && ids[2] != ids[1]);
    // The component the first update changed says from what.
    assert!(
        mails[0]
            .text()
            .contains("API: Major Outage (was Operational)"),
        "{}",
        mails[0].text()
    );
    assert!(mails[0]
        .html()
        .contains("<li>API: Major Outage (was Operational)</li>"));
}

#[tokio::test]
async fn a_component_mail_says_from_what_to_what_and_when() {
    let (app, smtp) = app().await;
    let web = app.add_component("Web").await;
    email_subscriber(&app.db, "reader@example.com", &[]).await;
    set_status(&app, web, "Web", "degraded_performance").await;
    assert_eq!(app.deliver().await, 1);
    let m = &smtp.wait_for(1).await[0];
    assert_eq!(
        m.subject(),
        "[Acme Status] Web: Degraded Performance (was Operational)"
    );
    let event = notification_event::Entity::find()
        .order_by_desc(notification_event::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        message_id(m),
        format!("<component-{web}-event-{}@{HOST}>", event.id)
    );
    // When: the time of the change, in the page's zone.
    let at = statuspost::render::time::date_time(event.created_at, chrono_tz::UTC);
    let text = m.text();
    assert!(
        text.contains("Web changed from Operational to Degraded Performance."),
        "{text}"
    );
    assert!(text.contains(&format!("Changed: {at}")), "{text}");
    let html = m.html();
    assert!(
        html.contains(
            "<strong>Web</strong> changed from <strong>Operational</strong> to <strong>Degraded Performance</strong>."
        ),
        "{html}"
    );
    assert!(html.contains(&at), "{html}");
    assert!(m.header("List-Unsubscribe").is_some());
}
