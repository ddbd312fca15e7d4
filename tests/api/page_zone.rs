//! The page's zone, chosen by the first admin at setup, and the reader's
//! picker: zones by city with their offsets, reached from every page.
use std::time::{Duration, Instant};

use crate::helpers::{attr, spawn_app, spawn_app_beside, spawn_app_with, texts, TestApp};

/// The page's zone as the read API reports it.
async fn api_zone(app: &TestApp) -> String {
    let v: serde_json::Value = app.get("/api/v2/summary.json").await.json().await.unwrap();
    v["page"]["time_zone"].as_str().unwrap().to_owned()
}

fn setup_path(app: &TestApp) -> String {
    let link = app.setup_link.clone().expect("a setup link");
    link.trim_start_matches(&app.address).to_owned()
}

const ACCOUNT: [(&str, &str); 4] = [
    ("email", "owner@example.com"),
    ("name", "Owner"),
    ("password", "a long password"),
    ("password_confirm", "a long password"),
];

#[tokio::test]
async fn the_first_admin_chooses_the_page_zone_and_every_process_takes_it() {
    let app = spawn_app().await;
    // A second `serve` on the same database, its page already cached.
    let other = spawn_app_beside(&app, &[]).await;
    assert_eq!(api_zone(&other).await, "UTC");
    // Its start made a new setup link, as any process's does while there is no staff.
    let path = setup_path(&other);

    // The form offers zones by city, grouped, with today's offset; UTC first.
    let html = app.get_html(&path).await;
    assert_eq!(texts(&html, "#timezone option[selected]"), ["UTC"]);
    assert!(
        texts(&html, "#timezone optgroup[label='America'] option")
            .iter()
            .any(|o| o.starts_with("New York, UTC\u{2212}0")),
        "New York by its city name and offset"
    );

    // A zone that does not exist is refused by its field; the rest is kept.
    let mut fields = ACCOUNT.to_vec();
    fields.push(("timezone", "Mars/Olympus_Mons"));
    let res = app.post_form(&path, &path, &fields).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        texts(&html, "#timezone-error")[0].starts_with("Unknown time zone"),
        "{html}"
    );
    assert!(html.contains("value=\"owner@example.com\""));
    assert_eq!(api_zone(&app).await, "UTC", "nothing changed");

    fields.pop();
    fields.push(("timezone", "America/New_York"));
    let res = app.post_form(&path, &path, &fields).await;
    assert_eq!(res.status(), 303);
    assert_eq!(api_zone(&app).await, "America/New_York");
    let page = app.get_html("/").await;
    assert_eq!(
        texts(&page, "header.site a[href^='/time-zone']"),
        ["Time zone: New York"]
    );
    // The other process reads it when it learns pages changed (about a
    // second on SQLite, at once on PostgreSQL).
    let deadline = Instant::now() + Duration::from_secs(10);
    while api_zone(&other).await != "America/New_York" {
        assert!(
            Instant::now() < deadline,
            "the other process still says {}",
            api_zone(&other).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        texts(
            &other.get_html("/").await,
            "header.site a[href^='/time-zone']"
        ),
        ["Time zone: New York"]
    );
}

#[tokio::test]
async fn a_zone_fixed_by_the_settings_is_not_asked() {
    let app = spawn_app_with(&[("STATUSPOST_TIMEZONE", "Europe/Paris")]).await;
    let path = setup_path(&app);
    let html = app.get_html(&path).await;
    assert!(texts(&html, "#timezone").is_empty(), "no zone field");
    let res = app.post_form(&path, &path, &ACCOUNT).await;
    assert_eq!(res.status(), 303);
    assert_eq!(api_zone(&app).await, "Europe/Paris");
}

#[tokio::test]
async fn the_picker_lists_cities_and_sends_the_reader_back() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let incident = app
        .publish("Slow search", "identified", "Looking.", &[])
        .await;
    let page = app.get_html(&format!("/incidents/{incident}")).await;
    let link = attr(&page, "header.site a[href^='/time-zone']", "href").unwrap();
    assert_eq!(link, format!("/time-zone?back=/incidents/{incident}"));

    let picker = app.get_html(&link).await;
    assert_eq!(
        attr(&picker, "main form", "action").unwrap(),
        format!("/incidents/{incident}")
    );
    let doc = scraper::Html::parse_document(&picker);
    let regions: Vec<String> = doc
        .select(&scraper::Selector::parse("#tz optgroup").unwrap())
        .filter_map(|g| g.value().attr("label").map(str::to_owned))
        .collect();
    assert_eq!(regions[0], "Common");
    assert!(regions.contains(&"Asia".to_owned()) && regions.contains(&"Pacific".to_owned()));
    let kathmandu = texts(&picker, "#tz option[value='Asia/Kathmandu']");
    assert_eq!(kathmandu, ["Kathmandu, UTC+05:45"]);

    // What the form sends: the page again, in the chosen zone, remembered.
    let res = app
        .get(&format!("/incidents/{incident}?tz=Asia/Kathmandu"))
        .await;
    assert_eq!(res.status(), 200);
    let html = app.get_html(&format!("/incidents/{incident}")).await;
    assert_eq!(
        texts(&html, "header.site a[href^='/time-zone']"),
        ["Time zone: Kathmandu"]
    );
    assert!(
        texts(&app.get_html("/time-zone").await, "#tz option[selected]")
            == ["Kathmandu, UTC+05:45"]
    );

    // The way back never leaves the site.
    for evil in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let picker = app
            .get(&format!("/time-zone?back={}", urlencode(evil)))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(attr(&picker, "main form", "action").unwrap(), "/", "{evil}");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
