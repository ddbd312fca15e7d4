//! The page cache as readers meet it: exact after writes, here and in other
//! processes on the same database, one render per page at a time, and stored
//! gzip and brotli variants with their own ETags.
use std::io::Read;
use std::time::{Duration, Instant};

use crate::helpers::{spawn_app, spawn_app_beside, TestApp};

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.client.get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("GET")
}

#[tokio::test]
async fn a_read_after_a_write_sees_it_on_the_page_and_in_the_api() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    // Both cached before the write.
    assert!(!app.get_html("/").await.contains("Cache test outage"));
    let summary = app.get("/api/v2/summary.json").await.text().await.unwrap();
    assert!(!summary.contains("Cache test outage"));
    app.publish("Cache test outage", "investigating", "Looking.", &[])
        .await;
    assert!(app.get_html("/").await.contains("Cache test outage"));
    let summary = app.get("/api/v2/summary.json").await.text().await.unwrap();
    assert!(summary.contains("Cache test outage"), "{summary}");
}

fn decode(coding: &str, body: &[u8]) -> String {
    let mut out = String::new();
    match coding {
        "br" => brotli::Decompressor::new(body, 4096)
            .read_to_string(&mut out)
            .unwrap(),
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_string(&mut out)
            .unwrap(),
        other => panic!("unexpected coding {other}"),
    };
    out
}

#[tokio::test]
async fn brotli_and_gzip_readers_get_the_same_page_each_with_its_own_etag() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    app.publish("Encoded outage", "investigating", "Looking.", &[])
        .await;
    for path in ["/", "/api/v2/summary.json", "/feed.atom", "/badge.svg"] {
        let plain = app.get(path).await;
        assert!(!plain.headers().contains_key("content-encoding"), "{path}");
        let plain_tag = plain.headers()["etag"].to_str().unwrap().to_owned();
        let plain_body = plain.text().await.unwrap();
        let mut tags = vec![plain_tag];
        for (accept, coding) in [
            ("br", "br"),
            ("gzip", "gzip"),
            ("gzip, deflate, br", "br"),
            ("br;q=0.5, gzip", "gzip"),
        ] {
            let res = get_with(&app, path, &[("Accept-Encoding", accept)]).await;
            assert_eq!(res.status(), 200, "{path} {accept}");
            assert_eq!(res.headers()["content-encoding"], coding, "{path} {accept}");
            let vary = res.headers()["vary"].to_str().unwrap().to_lowercase();
            assert!(vary.contains("accept-encoding"), "{path}: {vary}");
            let tag = res.headers()["etag"].to_str().unwrap().to_owned();
            assert!(tag.starts_with('"'), "a strong ETag: {tag}");
            let body = res.bytes().await.unwrap();
            assert_eq!(decode(coding, &body), plain_body, "{path} {accept}");
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        assert_eq!(tags.len(), 3, "{path}: one ETag per variant, {tags:?}");
    }
}

#[tokio::test]
async fn if_none_match_with_the_variants_etag_is_304() {
    let app = spawn_app().await;
    let br = get_with(&app, "/", &[("Accept-Encoding", "br")]).await;
    let tag = br.headers()["etag"].to_str().unwrap().to_owned();
    let again = get_with(
        &app,
        "/",
        &[("Accept-Encoding", "br"), ("If-None-Match", &tag)],
    )
    .await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
    assert!(again.bytes().await.unwrap().is_empty());
    // The brotli variant's tag does not stand for the gzip one.
    let gzip = get_with(
        &app,
        "/",
        &[("Accept-Encoding", "gzip"), ("If-None-Match", &tag)],
    )
    .await;
    assert_eq!(gzip.status(), 200);
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn a_shared_cache_may_serve_stale_while_it_revalidates_a_browser_may_not() {
    let app = spawn_app().await;
    let res = app.get("/").await;
    assert_eq!(res.headers()["cache-control"], "public, no-cache");
    let cdn = res.headers()["cdn-cache-control"].to_str().unwrap();
    assert!(cdn.contains("stale-while-revalidate="), "{cdn}");
    // A reply that sets the reader's zone cookie is theirs alone.
    let res = app.get("/?tz=Europe/Paris").await;
    assert!(res.headers().contains_key("set-cookie"));
    assert_eq!(res.headers()["cache-control"], "private, no-cache");
    assert!(!res.headers().contains_key("cdn-cache-control"));
}

#[tokio::test]
async fn concurrent_readers_of_a_cold_page_cause_one_render() {
    // No write after start, so nothing invalidates while the readers ask.
    let app = spawn_app().await;
    let before = app.state.cache.renders();
    let readers: Vec<_> = (0..64)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url("/history");
            tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
        })
        .collect();
    for r in readers {
        assert_eq!(r.await.unwrap(), 200);
    }
    assert_eq!(app.state.cache.renders() - before, 1);
}

/// Waits until `path` on `app` contains `text`, for at most `within`.
async fn seen_within(app: &TestApp, path: &str, text: &str, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        let body = app.get(path).await.text().await.unwrap();
        if body.contains(text) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::test]
async fn a_post_through_one_process_is_on_the_others_page_and_api_promptly() {
    let one = spawn_app().await;
    let other = spawn_app_beside(&one, &[]).await;
    one.sign_in_admin().await;
    // The other process has both cached before the write.
    assert!(!other.get_html("/").await.contains("Shared outage"));
    let summary = other
        .get("/api/v2/summary.json")
        .await
        .text()
        .await
        .unwrap();
    assert!(!summary.contains("Shared outage"));
    one.publish("Shared outage", "investigating", "Looking.", &[])
        .await;
    // PostgreSQL notifies on commit; SQLite's generation is read every second.
    let within = Duration::from_secs(3);
    for path in ["/", "/api/v2/summary.json"] {
        let took = seen_within(&other, path, "Shared outage", within).await;
        eprintln!("{path} of the other process: seen after {took:?}");
        assert!(took.is_some(), "{path} of the other process still stale");
    }
}

#[tokio::test]
async fn a_write_made_behind_the_apps_back_reaches_its_pages() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    app.add_component("Payments").await;
    assert!(app.get_html("/").await.contains("Operational"));
    // As a script or another tool would: no handler, no published().
    app.db
        .execute_unprepared("UPDATE components SET status = 'major_outage'")
        .await
        .unwrap();
    let took = seen_within(&app, "/", "Major Outage", Duration::from_secs(3)).await;
    assert!(took.is_some(), "the page never saw the write");
}

#[tokio::test]
async fn a_flood_of_distinct_urls_stays_within_the_configured_bound() {
    let app = crate::helpers::spawn_app_with(&[("STATUSPOST_PAGE_CACHE_MB", "1")]).await;
    assert_eq!(app.state.cache.max_bytes(), 1024 * 1024);
    // Every zone is a page of its own; together far more than 1 MiB.
    let zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    let mut stored = 0;
    for chunk in zones.chunks(16) {
        let asks: Vec<_> = chunk
            .iter()
            .map(|z| {
                let url = app.url(&format!("/?tz={}", urlencoding::encode(z)));
                let client = app.client.clone();
                tokio::spawn(async move {
                    let res = client.get(url).send().await.unwrap();
                    assert_eq!(res.status(), 200);
                    res.bytes().await.unwrap().len()
                })
            })
            .collect();
        for a in asks {
            stored += a.await.unwrap();
        }
    }
    // The plain bodies alone outweigh the bound; each entry holds two more variants.
    assert!(
        stored > 1024 * 1024,
        "the flood is bigger than the bound: {stored}"
    );
    let held = app.state.cache.weighed_bytes().await;
    assert!(held <= 1024 * 1024, "held {held} bytes");
    assert!(held > 0);
}
