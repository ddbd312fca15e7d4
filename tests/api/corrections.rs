//! Corrections: staff correct a published update's text, from the admin or
//! through `/api/v1`. Readers see the corrected text marked "Corrected" with
//! its time and the original kept; subscribers are told only when staff
//! choose so, by a mail in the incident's thread that says it is a correction.
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{json, Value};

use crate::api_v1::{api_token, call};
use crate::api_v2::assert_shape;
use crate::helpers::{spawn_app_with, texts, TestApp};
use crate::notify_support::{email_subscriber, STEPPED};
use crate::smtp_server::SmtpServer;

async fn app_with_mail(smtp: &SmtpServer) -> (TestApp, String) {
    let url = smtp.url();
    let mut settings = vec![("SMTP_URL", url.as_str())];
    settings.extend_from_slice(&STEPPED);
    let app = spawn_app_with(&settings).await;
    app.sign_in_admin().await;
    email_subscriber(&app.db, "seller@example.com", &[]).await;
    let token = api_token(&app, "write").await;
    (app, token)
}

#[tokio::test]
async fn a_correction_through_the_api_keeps_the_original_and_tells_in_the_thread_when_asked() {
    let smtp = SmtpServer::start().await;
    let (app, token) = app_with_mail(&smtp).await;
    let (status, inc) = call(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&token),
        Some(json!({ "name": "Checkout errors", "message": "Chekout fails." })),
    )
    .await;
    assert_eq!(status, 201, "{inc:#}");
    let id = inc["id"].as_str().unwrap().to_owned();
    let uid = inc["incident_updates"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.deliver().await;
    let first = smtp.wait_for(1).await.remove(0);

    let path = format!("/api/v1/incidents/{id}/updates/{uid}");
    let (status, after) = call(
        &app,
        Method::PATCH,
        &path,
        Some(&token),
        Some(json!({ "message": "Checkout fails for card payments.", "notify": true })),
    )
    .await;
    assert_eq!(status, 200, "{after:#}");
    let u = &after["incident_updates"][0];
    assert_eq!(u["body"], "Checkout fails for card payments.");
    let row = statuspost::entity::incident_update::Entity::find_by_id(uid.parse::<i32>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let corrected_at = row.corrected_at.expect("the correction's time is kept");
    let updated_at =
        chrono::DateTime::parse_from_rfc3339(u["updated_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        updated_at.timestamp(),
        corrected_at.timestamp(),
        "updated_at is the correction's time"
    );
    let v2: Value = app
        .get("/api/v2/incidents.json")
        .await
        .json()
        .await
        .unwrap();
    assert_shape("incidents_document", &v2);

    // The page: the corrected text, said to be corrected, the original kept.
    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(
        texts(&page, ".update > .body"),
        ["Checkout fails for card payments."]
    );
    let corrected = texts(&page, ".corrected");
    assert!(corrected[0].starts_with("Corrected "), "{corrected:?}");
    assert_eq!(
        texts(&page, ".revisions .revision .body"),
        ["Chekout fails."]
    );

    // Subscribers: a mail of its own, said to be a correction, in the thread.
    app.deliver().await;
    let mails = smtp.wait_for(2).await;
    let told = &mails[1];
    assert!(told.subject().contains("Correction:"), "{}", told.subject());
    assert!(told.text().contains("CORRECTION"), "{}", told.text());
    assert!(
        told.text().contains("Checkout fails for card payments."),
        "{}",
        told.text()
    );
    assert_ne!(told.header("Message-ID"), first.header("Message-ID"));
    assert_eq!(told.header("In-Reply-To"), first.header("Message-ID"));

    // Without "notify" nobody is told; a text that does not change is refused.
    let (status, _) = call(
        &app,
        Method::PATCH,
        &path,
        Some(&token),
        Some(json!({ "message": "Checkout fails for card payments only." })),
    )
    .await;
    assert_eq!(status, 200);
    app.deliver().await;
    assert_eq!(smtp.count(), 2);
    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(texts(&page, ".revisions .revision").len(), 2);
    let (status, err) = call(
        &app,
        Method::PATCH,
        &path,
        Some(&token),
        Some(json!({ "message": "Checkout fails for card payments only." })),
    )
    .await;
    assert_eq!(status, 422, "{err:#}");
    assert_eq!(err["error"]["field"], "message");
    let (status, _) = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/incidents/{id}/updates/999"),
        Some(&token),
        Some(json!({ "message": "x" })),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn staff_correct_from_the_admin_and_a_refused_correction_keeps_the_text() {
    let smtp = SmtpServer::start().await;
    let (app, _) = app_with_mail(&smtp).await;
    let id = app
        .publish("Checkout errors", "investigating", "Chekout fails.", &[])
        .await;
    app.deliver().await;
    let uid = statuspost::store::incidents::load(&app.db, id)
        .await
        .unwrap()
        .unwrap()
        .updates[0]
        .model
        .id
        .to_string();
    let admin = format!("/admin/incidents/{id}");
    let action = format!("/admin/incidents/{id}/updates/{uid}/correct");
    let res = app
        .post_form(
            &admin,
            &action,
            &[
                ("corrected_update", uid.as_str()),
                ("corrected_message", "Checkout fails."),
                ("action", "correct"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(texts(&page, ".update > .body"), ["Checkout fails."]);
    app.deliver().await;
    assert_eq!(smtp.count(), 1, "not told: notify was not ticked");

    let res = app
        .post_form(
            &admin,
            &action,
            &[
                ("corrected_update", uid.as_str()),
                ("corrected_message", "Checkout fails."),
                ("correction_notify", "on"),
                ("action", "correct"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("same as it reads now"), "{html}");
    assert_eq!(
        texts(&html, &format!("#corrected_message_{uid}")),
        ["Checkout fails."]
    );
}
