//! The front page's past incidents, as Statuspage lists them: a heading for
//! every one of the last `STATUSPOST_PAST_DAYS` days, "No incidents reported."
//! under a day without one, each incident collapsed to its title, where it
//! stands and its last update, then the way to the history.
use chrono::{Days, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::helpers::{attr, spawn_app_with, texts, zone_at_noon};

fn heading(day: NaiveDate) -> String {
    day.format("%A, %B %-d, %Y").to_string()
}

#[tokio::test]
async fn every_past_day_has_its_heading_and_only_empty_ones_say_so() {
    let zone = zone_at_noon();
    let tz: Tz = zone.parse().unwrap();
    let app = spawn_app_with(&[("STATUSPOST_TIMEZONE", zone), ("STATUSPOST_PAST_DAYS", "3")]).await;
    app.sign_in_admin().await;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let yesterday = today - Days::new(1);
    let at = |day: NaiveDate, hour: u32| format!("{}T{hour:02}:00", day.format("%Y-%m-%d"));
    let id = app
        .publish(
            "Login failures",
            "investigating",
            "Looking.",
            &[("started_at", at(yesterday, 9).as_str())],
        )
        .await;
    app.post_update(
        id,
        "resolved",
        "Fixed.",
        &[("at", at(yesterday, 11).as_str())],
    )
    .await;
    // Three days back is outside the three days shown.
    app.publish(
        "Old trouble",
        "resolved",
        "Long gone.",
        &[("started_at", at(today - Days::new(3), 9).as_str())],
    )
    .await;

    let html = app.get_html("/").await;
    assert_eq!(
        texts(&html, ".day h3.date"),
        vec![
            heading(today),
            heading(yesterday),
            heading(today - Days::new(2))
        ]
    );
    assert_eq!(
        texts(&html, ".day"),
        vec![
            format!("{} No incidents reported.", heading(today)),
            format!(
                "{} Login failures (Resolved) Issue Resolved Last update 11:00 AM {}",
                heading(yesterday),
                Utc::now().with_timezone(&tz).format("%Z")
            ),
            format!("{} No incidents reported.", heading(today - Days::new(2))),
        ]
    );
    assert_eq!(
        attr(&html, ".past h4 a", "href"),
        Some(format!("/incidents/{id}")),
        "the whole story is one click away"
    );
    assert!(!html.contains("Old trouble"));
    // The history link comes after the days.
    let history = html.find("href=\"/history\">Incident history").unwrap();
    assert!(history > html.rfind("class=\"day\"").unwrap());
}

#[tokio::test]
async fn an_incident_in_progress_counts_for_its_day_and_seven_days_are_the_default() {
    let app = spawn_app_with(&[("STATUSPOST_TIMEZONE", zone_at_noon())]).await;
    app.sign_in_admin().await;
    app.publish("Slow pages", "investigating", "Looking.", &[])
        .await;
    let html = app.get_html("/").await;
    let days = texts(&html, ".day");
    assert_eq!(days.len(), 7);
    assert!(days[0].contains("Slow pages Investigating"), "{}", days[0]);
    assert!(!days[0].contains("No incidents reported."));
    assert_eq!(
        html.matches("No incidents reported.").count(),
        6,
        "only under the days without one"
    );
}
