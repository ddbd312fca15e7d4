//! The webhook sender against real HTTP receivers on 127.0.0.1 that verify
//! every signature with the `standardwebhooks` crate.
//!
//! No test here lets a request leave 127.0.0.1: addresses elsewhere are only
//! ever used where the guard must refuse them before connecting, and those
//! cases run after the loopback ones, which prove (with a listening receiver)
//! that the guard refuses without connecting.
use std::time::Duration;

use statuspost::notify::webhook::{WebhookOutcome, WebhookSender};

use crate::helpers::spawn_app_with;
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
