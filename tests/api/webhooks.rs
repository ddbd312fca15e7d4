//! The webhook sender against real HTTP receivers on 127.0.0.1 that verify
//! every signature with the `standardwebhooks` crate.
//!
//! No test here lets a request leave 127.0.0.1: addresses elsewhere are only
//! ever used where the guard must refuse them before connecting, and those
//! cases run after the loopback ones, which prove (with a listening receiver)
//! that the guard refuses without connecting.
use std::time::Duration;

use sea_orm::{EntityTrait, QueryOrder};
use statuspost::entity::notification_event;
use statuspost::notify::webhook::{payload, Notice, WebhookOutcome, WebhookSender};
use statuspost::render::statuspage;

use crate::helpers::{spawn_app_with, TestApp};
use crate::webhook_receiver::{Behaviour, WebhookReceiver};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BODY: &[u8] = br#"{"incident":{"name":"Checkout is slow"}}"#;

/// A sender allowed to reach the test's own receivers on 127.0.0.1.
fn local_sender() -> WebhookSender {
    WebhookSender::new(true)
}

/// A timeout tests can afford to wait out.
const SHORT: Duration = Duration::from_millis(300);

fn assert_retry(outcome: &WebhookOutcome, needle: &str) {
    match outcome {
        WebhookOutcome::Retry { error, .. } => {
            assert!(error.contains(needle), "{error:?} lacks {needle:?}")
        }
        other => panic!("expected a retry ({needle}), got {other:?}"),
    }
}

#[tokio::test]
async fn delivers_a_signed_post_the_receiver_verifies() {
    let receiver = WebhookReceiver::start(SECRET).await;
    let outcome = local_sender()
        .send(&receiver.url("/hooks/status"), SECRET, "evt_1", BODY)
        .await;
    assert_eq!(outcome, WebhookOutcome::Delivered);

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    assert_eq!(req.verified, Ok(()));
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hooks/status");
    assert_eq!(req.body, BODY);
    assert_eq!(req.header("webhook-id"), "evt_1");
    assert!(req.header("webhook-signature").starts_with("v1,"));
    assert_eq!(req.header("content-type"), "application/json");
    assert!(req.header("user-agent").starts_with("statuspost/"));
}

#[tokio::test]
async fn a_wrong_secret_fails_verification() {
    // The receiver knows another secret: it must see a bad signature, and
    // answer 401, which is not a delivery.
    let receiver = WebhookReceiver::start("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").await;
    let outcome = local_sender()
        .send(&receiver.url("/"), SECRET, "evt_1", BODY)
        .await;
    assert_retry(&outcome, "401");
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].verified, Err("signature invalid".into()));
}

#[tokio::test]
async fn a_500_is_retried_with_the_same_webhook_id() {
    let receiver = WebhookReceiver::start_with(SECRET, Behaviour::Status(500, vec![])).await;
    let sender = local_sender();
    let url = receiver.url("/");
    let first = sender.send(&url, SECRET, "evt_42", BODY).await;
    assert_eq!(
        first,
        WebhookOutcome::Retry {
            error: "HTTP 500 Internal Server Error".into(),
            retry_after: None
        }
    );

    receiver.set_behaviour(Behaviour::Status(200, vec![]));
    assert_eq!(
        sender.send(&url, SECRET, "evt_42", BODY).await,
        WebhookOutcome::Delivered
    );
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    for req in &got {
        assert_eq!(req.verified, Ok(()));
        assert_eq!(req.header("webhook-id"), "evt_42");
    }
}

#[tokio::test]
async fn the_receivers_explanation_is_kept_on_one_line() {
    let receiver = WebhookReceiver::start_with(
        SECRET,
        Behaviour::StatusBody(
            500,
            format!("{{\"error\":\r\n \"database down\"}}{}", "x".repeat(5000)),
        ),
    )
    .await;
    let outcome = local_sender()
        .send(&receiver.url("/"), SECRET, "evt_1", BODY)
        .await;
    match outcome {
        WebhookOutcome::Retry { error, .. } => {
            assert!(
                error.starts_with(
                    "HTTP 500 Internal Server Error: {\"error\": \"database down\"}xxx"
                ),
                "{error}"
            );
            assert!(error.ends_with("...") && error.len() < 300, "{error}");
        }
        other => panic!("expected a retry, got {other:?}"),
    }
}

#[tokio::test]
async fn gone_410_says_so() {
    let receiver = WebhookReceiver::start_with(SECRET, Behaviour::Status(410, vec![])).await;
    let outcome = local_sender()
        .send(&receiver.url("/"), SECRET, "evt_1", BODY)
        .await;
    assert_eq!(outcome, WebhookOutcome::Gone);
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn retry_after_in_seconds_or_as_a_date_is_passed_on() {
    let receiver = WebhookReceiver::start_with(
        SECRET,
        Behaviour::Status(503, vec![("Retry-After".into(), "120".into())]),
    )
    .await;
    let sender = local_sender();
    let url = receiver.url("/");
    assert_eq!(
        sender.send(&url, SECRET, "evt_1", BODY).await,
        WebhookOutcome::Retry {
            error: "HTTP 503 Service Unavailable".into(),
            retry_after: Some(Duration::from_secs(120)),
        }
    );

    let in_an_hour = (chrono::Utc::now() + chrono::Duration::hours(1))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    receiver.set_behaviour(Behaviour::Status(
        429,
        vec![("Retry-After".into(), in_an_hour)],
    ));
    match sender.send(&url, SECRET, "evt_1", BODY).await {
        WebhookOutcome::Retry {
            error,
            retry_after: Some(wait),
        } => {
            assert_eq!(error, "HTTP 429 Too Many Requests");
            // The date has one-second precision and the clock moved on a little.
            assert!(
                wait > Duration::from_secs(3000) && wait <= Duration::from_secs(3600),
                "{wait:?}"
            );
        }
        other => panic!("expected a retry with a wait, got {other:?}"),
    }
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out() {
    let receiver = WebhookReceiver::start_with(SECRET, Behaviour::Hang).await;
    let sender = WebhookSender::with_timeout(true, SHORT);
    let outcome = sender.send(&receiver.url("/"), SECRET, "evt_1", BODY).await;
    assert_retry(&outcome, "no answer within 0.3 s");
    // It did get the request: the wait was for its answer.
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_receiver_that_stalls_mid_answer_times_out() {
    let receiver = WebhookReceiver::start_with(SECRET, Behaviour::Stall).await;
    let sender = WebhookSender::with_timeout(true, SHORT);
    let outcome = sender.send(&receiver.url("/"), SECRET, "evt_1", BODY).await;
    assert_retry(&outcome, "no answer within");
}

#[tokio::test]
async fn an_unreachable_receiver_is_retried() {
    // A port nobody listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let outcome = local_sender()
        .send(&format!("http://127.0.0.1:{port}/"), SECRET, "evt_1", BODY)
        .await;
    assert_retry(&outcome, "onnect");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let target = WebhookReceiver::start(SECRET).await;
    for status in [301, 302, 307, 308] {
        let redirector = WebhookReceiver::start_with(
            SECRET,
            Behaviour::Status(status, vec![("Location".into(), target.url("/elsewhere"))]),
        )
        .await;
        let outcome = local_sender()
            .send(&redirector.url("/"), SECRET, "evt_1", BODY)
            .await;
        assert_retry(&outcome, "redirects are not followed");
        assert_retry(&outcome, &status.to_string());
        assert_eq!(redirector.received().len(), 1);
    }
    assert_eq!(target.connections(), 0, "a redirect was followed");
}

#[tokio::test]
async fn private_addresses_are_refused_without_a_connection() {
    let receiver = WebhookReceiver::start(SECRET).await;
    let port = receiver.port;
    // Where the host has IPv6, a listener on [::1] that never answers: a
    // request that got there would end in a timeout, not a refusal.
    let v6 = tokio::net::TcpListener::bind("[::1]:0").await.ok();
    let v6_port = v6.as_ref().map_or(port, |l| l.local_addr().unwrap().port());
    let sender = WebhookSender::new(false);

    // Loopback first: a guard that let these through would show up here, on a
    // listening receiver, before any address outside 127.0.0.1 is tried.
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://localhost:{port}/"),
    ] {
        match sender.send(&url, SECRET, "evt_1", BODY).await {
            WebhookOutcome::Refused(why) => assert!(why.contains("loopback"), "{url}: {why}"),
            other => panic!("{url} was not refused: {other:?}"),
        }
        assert_eq!(receiver.connections(), 0, "{url} reached the receiver");
    }
    let url = format!("http://[::1]:{v6_port}/");
    match sender.send(&url, SECRET, "evt_1", BODY).await {
        WebhookOutcome::Refused(why) => assert!(why.contains("loopback"), "{url}: {why}"),
        other => panic!("{url} was not refused: {other:?}"),
    }

    // Refused before connecting, by the same check the loopback cases passed.
    for (url, why) in [
        ("http://10.0.0.1/hook", "private"),
        ("http://192.168.1.1/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://100.64.0.1/hook", "carrier-grade NAT"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://[fd00::1]/hook", "unique-local"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://[::ffff:10.0.0.1]/hook", "private"),
    ] {
        match sender.send(url, SECRET, "evt_1", BODY).await {
            WebhookOutcome::Refused(e) => assert!(e.contains(why), "{url}: {e}"),
            other => panic!("{url} was not refused: {other:?}"),
        }
    }
    assert_eq!(receiver.connections(), 0);
}

#[tokio::test]
async fn the_allow_private_setting_reaches_the_apps_sender() {
    let receiver = WebhookReceiver::start(SECRET).await;
    let url = format!("http://localhost:{}/", receiver.port);

    let strict = spawn_app_with(&[]).await;
    assert!(matches!(
        strict
            .state
            .webhooks
            .send(&url, SECRET, "evt_1", BODY)
            .await,
        WebhookOutcome::Refused(_)
    ));
    assert_eq!(receiver.connections(), 0);

    let open = spawn_app_with(&[("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    assert_eq!(
        open.state.webhooks.send(&url, SECRET, "evt_1", BODY).await,
        WebhookOutcome::Delivered
    );
    assert_eq!(receiver.received()[0].verified, Ok(()));
}

#[tokio::test]
async fn bad_urls_and_secrets_are_refused_unsent() {
    let receiver = WebhookReceiver::start(SECRET).await;
    let sender = local_sender();
    for (url, secret) in [
        (format!("ftp://127.0.0.1:{}/", receiver.port), SECRET),
        (
            format!("http://user:pw@127.0.0.1:{}/", receiver.port),
            SECRET,
        ),
        (receiver.url("/"), "whsec_!!not base64!!"),
    ] {
        assert!(
            matches!(
                sender.send(&url, secret, "evt_1", BODY).await,
                WebhookOutcome::Refused(_)
            ),
            "{url} {secret}"
        );
    }
    assert_eq!(receiver.connections(), 0);
}

/// An app whose links start at https://status.example.com/, with no worker of
/// its own: these tests build and send the payloads themselves.
async fn payload_app() -> TestApp {
    spawn_app_with(&[
        ("STATUSPOST_BASE_URL", "https://status.example.com/"),
        ("STATUSPOST_RUN_WORKER", "false"),
        ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
    ])
    .await
}

async fn events(app: &TestApp) -> Vec<notification_event::Model> {
    notification_event::Entity::find()
        .order_by_asc(notification_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

/// Builds the payload of `event` for a subscriber with unsubscribe token
/// "tok123", sends it to a verifying receiver and returns what arrived.
async fn deliver(app: &TestApp, event: &notification_event::Model) -> serde_json::Value {
    let info = app.state.page.clone();
    let loaded = statuspost::notify::content::load(&app.db, event)
        .await
        .unwrap();
    let notice = Notice::new(&info, &loaded).expect("the event names something");
    let unsubscribe = app
        .state
        .settings
        .link(&format!("unsubscribe/{}", "tok123"));
    let body = payload(&info, &notice, &unsubscribe, chrono::Utc::now());
    let bytes = serde_json::to_vec(&body).unwrap();
    let receiver = WebhookReceiver::start(SECRET).await;
    let id = format!("evt_{}", event.id);
    assert_eq!(
        app.state
            .webhooks
            .send(&receiver.url("/"), SECRET, &id, &bytes)
            .await,
        WebhookOutcome::Delivered
    );
    let got = receiver.received().pop().unwrap();
    assert_eq!(got.verified, Ok(()));
    assert_eq!(got.header("webhook-id"), id);
    got.json()
}

fn keys(v: &serde_json::Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

#[tokio::test]
async fn an_incident_payload_tells_of_the_update_as_it_stood() {
    let app = payload_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let field = format!("component_{api}");
    let incident = app
        .publish(
            "Checkout is slow",
            "investigating",
            "We are **looking** into it.",
            &[(field.as_str(), "major_outage")],
        )
        .await;
    let res = app
        .post_update(
            incident,
            "resolved",
            "Fixed.",
            &[(field.as_str(), "operational")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let events = events(&app).await;
    assert_eq!(events.len(), 2);

    // The first update's payload, sent after the second was posted.
    let first = deliver(&app, &events[0]).await;
    assert_eq!(keys(&first), ["incident", "meta", "page"]);
    assert_eq!(
        first["meta"]["unsubscribe"],
        "https://status.example.com/unsubscribe/tok123"
    );
    let generated = first["meta"]["generated_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(generated).is_ok(),
        "{generated}"
    );
    assert_eq!(first["page"]["id"], app.state.page.id.as_str());
    // The page as it is now: all resolved.
    assert_eq!(first["page"]["status_indicator"], "none");
    assert_eq!(
        first["page"]["status_description"],
        "All Systems Operational"
    );
    // The shape is the API's own, field for field.
    let inc: statuspage::Incident = serde_json::from_value(first["incident"].clone()).unwrap();
    assert_eq!(inc.id, incident.to_string());
    assert_eq!(inc.name, "Checkout is slow");
    assert_eq!(
        inc.shortlink,
        format!("https://status.example.com/incidents/{incident}")
    );
    assert_eq!(inc.status, "investigating");
    assert_eq!(inc.resolved_at, None);
    assert_eq!(inc.incident_updates.len(), 1);
    assert_eq!(inc.incident_updates[0].body, "We are **looking** into it.");
    assert_eq!(
        inc.incident_updates[0].affected_components[0].new_status,
        "major_outage"
    );

    let second = deliver(&app, &events[1]).await;
    let inc: statuspage::Incident = serde_json::from_value(second["incident"].clone()).unwrap();
    assert_eq!(inc.status, "resolved");
    assert!(inc.resolved_at.is_some());
    let bodies: Vec<&str> = inc
        .incident_updates
        .iter()
        .map(|u| u.body.as_str())
        .collect();
    assert_eq!(
        bodies,
        ["Fixed.", "We are **looking** into it."],
        "newest first"
    );
}

#[tokio::test]
async fn a_component_payload_tells_of_the_change_it_was() {
    let app = payload_app().await;
    app.sign_in_admin().await;
    let id = app.add_component("Database").await;
    for status in ["partial_outage", "operational"] {
        let res = app
            .post_form(
                "/admin/components",
                &format!("/admin/components/{id}"),
                &[
                    ("name", "Database"),
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
    let events = events(&app).await;
    assert_eq!(events.len(), 2);

    // Sent after the component recovered, it still tells of the outage.
    let body = deliver(&app, &events[0]).await;
    assert_eq!(
        keys(&body),
        ["component", "component_update", "meta", "page"]
    );
    assert_eq!(
        body["meta"]["unsubscribe"],
        "https://status.example.com/unsubscribe/tok123"
    );
    let update: statuspage::ComponentUpdate =
        serde_json::from_value(body["component_update"].clone()).unwrap();
    assert_eq!(update.component_id, id.to_string());
    assert_eq!(update.old_status, "operational");
    assert_eq!(update.new_status, "partial_outage");
    let component: statuspage::Component =
        serde_json::from_value(body["component"].clone()).unwrap();
    assert_eq!(component.id, id.to_string());
    assert_eq!(component.name, "Database");
    assert_eq!(component.status, "partial_outage");

    let body = deliver(&app, &events[1]).await;
    assert_eq!(body["component_update"]["old_status"], "partial_outage");
    assert_eq!(body["component_update"]["new_status"], "operational");
}

#[tokio::test]
async fn an_incident_as_of_its_latest_update_is_the_incident_as_stored() {
    // incident_as_of replays the store's rule for where an incident stands
    // (backdated updates fill in history without moving it): after every
    // post, replaying up to the latest update must give what the store has.
    let app = payload_app().await;
    app.sign_in_admin().await;
    let ago = |hours: i64| {
        (chrono::Utc::now() - chrono::Duration::hours(hours))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let incident = app
        .publish(
            "Search is down",
            "investigating",
            "Looking.",
            &[("started_at", ago(5).as_str())],
        )
        .await;
    let steps = [
        ("identified", "Found it.", ago(3)),
        ("monitoring", "A fix is out.", String::new()),
        // Backdated between the first two: history only.
        ("resolved", "It had cleared up by then.", ago(4)),
        ("resolved", "Resolved now.", String::new()),
        ("monitoring", "Backdated note.", ago(2)),
    ];
    for (status, message, at) in steps {
        let res = app
            .post_update(incident, status, message, &[("at", at.as_str())])
            .await;
        assert_eq!(res.status(), 303, "{message}");
        let now = statuspost::store::incidents::load(&app.db, incident)
            .await
            .unwrap()
            .unwrap();
        let latest = now.updates.iter().map(|u| u.model.id).max().unwrap();
        let then = statuspost::notify::webhook::incident_as_of(&now, latest).unwrap();
        assert_eq!(then.status, now.status, "after {message}");
        assert_eq!(then.model.status, now.model.status, "after {message}");
        assert_eq!(
            then.model.resolved_at, now.model.resolved_at,
            "after {message}"
        );
        assert_eq!(
            then.model.monitoring_at, now.model.monitoring_at,
            "after {message}"
        );
        assert_eq!(then.updates.len(), now.updates.len());
    }
    let now = statuspost::store::incidents::load(&app.db, incident)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        now.model.status, "resolved",
        "the backdated note moved nothing"
    );

    // Earlier: as of "A fix is out." the incident was being monitored.
    let fix = now
        .updates
        .iter()
        .find(|u| u.model.body == "A fix is out.")
        .unwrap();
    let then = statuspost::notify::webhook::incident_as_of(&now, fix.model.id).unwrap();
    assert_eq!(then.model.status, "monitoring");
    assert_eq!(then.model.resolved_at, None);
    assert!(then.model.monitoring_at.is_some());
    assert_eq!(then.updates.len(), 3);
    assert!(statuspost::notify::webhook::incident_as_of(&now, 999_999).is_none());
}

#[tokio::test]
async fn the_worker_sends_each_component_change_as_it_was() {
    use crate::notify_support::{email_subscriber, webhook_subscriber};
    // The worker runs only once both changes are made, so that both are
    // sent when the component has already moved on from the first.
    let app = spawn_app_with(&[
        ("STATUSPOST_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("STATUSPOST_RUN_WORKER", "false"),
    ])
    .await;
    app.sign_in_admin().await;
    let receiver = WebhookReceiver::start(crate::notify_support::SECRET).await;
    let id = app.add_component("Database").await;
    let sub = webhook_subscriber(&app.db, &receiver.url("/hook"), "ops@example.com", &[]).await;
    email_subscriber(&app.db, "reader@example.com", &[]).await;
    for status in ["partial_outage", "operational"] {
        let res = app
            .post_form(
                "/admin/components",
                &format!("/admin/components/{id}"),
                &[
                    ("name", "Database"),
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
    assert_eq!(app.deliver().await, 4, "two changes, two subscribers");
    // Without SMTP_URL the mails are .eml files: one per change, each naming
    // the statuses that change went from and to.
    let mail_dir = app.dir.0.join("mail");
    let subjects = || {
        let mut s: Vec<String> = std::fs::read_dir(&mail_dir)
            .map(|d| {
                d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                    .filter_map(|m| {
                        m.lines()
                            .find_map(|l| l.strip_prefix("Subject: ").map(str::to_owned))
                    })
                    .collect()
            })
            .unwrap_or_default();
        s.sort();
        s
    };
    assert_eq!(
        subjects(),
        [
            "[Acme Status] Database: Operational (was Partial Outage)",
            "[Acme Status] Database: Partial Outage (was Operational)"
        ]
    );

    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let mut changes = Vec::new();
    for r in &got {
        assert_eq!(r.verified, Ok(()));
        let body = r.json();
        assert_eq!(
            body["meta"]["unsubscribe"],
            app.state
                .settings
                .link(&format!("unsubscribe/{}", sub.unsubscribe_token))
        );
        assert_eq!(body["component"]["id"], id.to_string());
        assert_eq!(
            body["component"]["status"],
            body["component_update"]["new_status"]
        );
        changes.push((
            body["component_update"]["old_status"]
                .as_str()
                .unwrap()
                .to_owned(),
            body["component_update"]["new_status"]
                .as_str()
                .unwrap()
                .to_owned(),
        ));
    }
    changes.sort();
    assert_eq!(
        changes,
        [
            ("operational".to_owned(), "partial_outage".to_owned()),
            ("partial_outage".to_owned(), "operational".to_owned()),
        ]
    );
    assert_ne!(got[0].header("webhook-id"), got[1].header("webhook-id"));
}
