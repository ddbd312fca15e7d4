//! The operator's endpoints: `/ready` says whether this instance can do its
//! job (the database answers, its schema is current, some delivery worker is
//! alive); `/metrics` counts requests and deliveries and shows the queue.
use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::notify_support::eventually;

async fn ready(app: &TestApp) -> (u16, serde_json::Value) {
    let res = app.get("/ready").await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn an_instance_with_its_worker_running_is_ready() {
    let app = spawn_app().await;
    eventually("the worker has beaten", || async {
        ready(&app).await.0 == 200
    })
    .await;
    let (_, body) = ready(&app).await;
    assert_eq!(body["database"], "ok");
    assert_eq!(body["migrations"], "ok");
    assert_eq!(body["workers"], 1);
}

#[tokio::test]
async fn without_a_live_worker_an_instance_is_not_ready_until_one_starts() {
    let app = spawn_app_with(&[("STATUSPOST_RUN_WORKER", "false")]).await;
    let (status, body) = ready(&app).await;
    assert_eq!(status, 503);
    assert_eq!(body["ready"], false);
    assert_eq!(body["database"], "ok");
    assert!(
        body["workers"]
            .as_str()
            .unwrap()
            .contains("no delivery worker"),
        "{body}"
    );

    // A worker elsewhere (here, on the same database) makes it ready...
    let worker = statuspost::notify::worker::spawn(app.state.worker());
    eventually("the worker has beaten", || async {
        ready(&app).await.0 == 200
    })
    .await;
    // ...and one that stops cleanly leaves at once, not when it falls silent.
    worker.stop().await;
    assert_eq!(ready(&app).await.0, 503);
}

/// The value of the series `name` (with its labels, as Prometheus prints
/// them) in a scrape, if it is there.
fn series(scrape: &str, name: &str) -> Option<f64> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_and_deliveries_and_show_the_queue() {
    let app = spawn_app_with(&crate::notify_support::STEPPED).await;
    app.sign_in_admin().await;
    crate::notify_support::email_subscriber(&app.db, "reader@example.com", &[]).await;
    app.publish("Outage", "investigating", "Looking.", &[])
        .await;
    assert_eq!(app.get("/").await.status(), 200);

    let scrape = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(
        series(&scrape, "statuspost_deliveries_pending"),
        Some(0.0),
        "the event is not expanded yet: {scrape}"
    );
    assert_eq!(series(&scrape, "statuspost_events_unexpanded"), Some(1.0));
    assert!(series(&scrape, "statuspost_oldest_pending_delivery_age_seconds").unwrap() >= 0.0);
    assert!(
        series(
            &scrape,
            r#"statuspost_http_requests_total{route="/",method="GET",status="200"}"#
        )
        .is_some(),
        "{scrape}"
    );

    app.deliver().await;
    let scrape = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(
        series(
            &scrape,
            r#"statuspost_deliveries_total{channel="email",outcome="sent"}"#
        ),
        Some(1.0),
        "{scrape}"
    );
    assert_eq!(series(&scrape, "statuspost_deliveries_pending"), Some(0.0));
    assert_eq!(series(&scrape, "statuspost_events_unexpanded"), Some(0.0));
    // Ids never become labels: one series for every incident page.
    app.get("/incidents/1").await;
    app.get("/incidents/2").await;
    let scrape = app.get("/metrics").await.text().await.unwrap();
    assert!(scrape.contains(r#"route="/incidents/{id}""#), "{scrape}");
    assert!(!scrape.contains(r#"route="/incidents/1""#));
}

#[tokio::test]
async fn metrics_are_for_this_host_or_a_token_bearer() {
    let app = spawn_app().await;
    let proxied = app
        .client
        .get(app.url("/metrics"))
        .header("X-Forwarded-For", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 403, "through a proxy, everyone is local");

    let token = "metrics-token-0123456789";
    let app = spawn_app_with(&[("STATUSPOST_METRICS_TOKEN", token)]).await;
    assert_eq!(app.get("/metrics").await.status(), 403);
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
