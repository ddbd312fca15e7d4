//! The present first: on the front page the banner names and links what is
//! wrong, then come the incidents in progress (each its latest update, and the
//! way to the whole story), the components, and the past days. An incident's
//! own page keeps the seed's order, with its latest update at the top while
//! it is open. A time carries its date unless the reader knows the day.
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::helpers::{attr, spawn_app_with, texts, zone_at_noon, TestApp};
use statuspost::store;

/// `at` as the page writes a time of another day than `day`.
fn dated(at: DateTime<Utc>, tz: Tz, day: NaiveDate) -> String {
    let local = at.with_timezone(&tz);
    if local.year() == day.year() {
        local.format("%b %-d, %-I:%M %p %Z").to_string()
    } else {
        local.format("%b %-d, %Y, %-I:%M %p %Z").to_string()
    }
}

fn clock(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%-I:%M %p %Z").to_string()
}

/// A `datetime-local` value for `day` at `hour`:00 in the page's zone.
fn typed(day: NaiveDate, hour: u32) -> String {
    format!("{}T{hour:02}:00", day.format("%Y-%m-%d"))
}

struct Story {
    app: TestApp,
    tz: Tz,
    today: NaiveDate,
    started: NaiveDate,
    id: i32,
    /// The update ids, oldest first.
    updates: Vec<i32>,
    /// When each was shown at, oldest first.
    times: Vec<DateTime<Utc>>,
    /// The last change on the front page: the other incident's resolution.
    last_change: DateTime<Utc>,
}

/// Six components (a bad day has many) and an incident two days old, in its
/// third update now; plus one resolved today. The page's zone is at noon.
async fn a_bad_day() -> Story {
    let zone = zone_at_noon();
    let tz: Tz = zone.parse().unwrap();
    let app = spawn_app_with(&[("STATUSPOST_TIMEZONE", zone)]).await;
    app.sign_in_admin().await;
    let mut api = 0;
    for name in [
        "API",
        "Website",
        "Payments",
        "Search",
        "Email",
        "Mobile app",
    ] {
        let id = app.add_component(name).await;
        if name == "API" {
            api = id;
        }
    }
    let today = Utc::now().with_timezone(&tz).date_naive();
    let started = today - Days::new(2);
    let field = format!("component_{api}");
    let id = app
        .publish(
            "Checkout errors",
            "investigating",
            "We are investigating failed checkouts.",
            &[
                ("started_at", typed(started, 9).as_str()),
                (field.as_str(), "partial_outage"),
            ],
        )
        .await;
    let yesterday = typed(today - Days::new(1), 10);
    let res = app
        .post_update(
            id,
            "identified",
            "A bad deploy; rolling back.",
            &[("at", yesterday.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_update(id, "monitoring", "The rollback is done; watching.", &[])
        .await;
    assert_eq!(res.status(), 303);
    let other = app
        .publish("Slow search", "investigating", "Looking.", &[])
        .await;
    app.post_update(other, "resolved", "Fast again.", &[]).await;
    let view = store::incidents::load(&app.db, id).await.unwrap().unwrap();
    let resolved = store::incidents::load(&app.db, other)
        .await
        .unwrap()
        .unwrap();
    Story {
        last_change: resolved.last_update_at(),
        tz,
        today,
        started,
        id,
        updates: view.updates.iter().map(|u| u.model.id).collect(),
        times: view.updates.iter().map(|u| u.model.display_at).collect(),
        app,
    }
}

#[tokio::test]
async fn the_front_page_puts_the_present_first() {
    let s = a_bad_day().await;
    let html = s.app.get_html("/").await;
    let at = |marker: &str| {
        html.find(marker)
            .unwrap_or_else(|| panic!("{marker} on the page"))
    };
    let order = [
        at("class=\"banner"),
        at("id=\"open-heading\""),
        at("id=\"components-heading\""),
        at("id=\"past-heading\""),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");

    // The banner names what is wrong and links to it.
    assert_eq!(
        texts(&html, ".banner .overall"),
        vec!["Partial System Outage"]
    );
    assert_eq!(
        texts(&html, ".banner li"),
        vec!["Checkout errors · Monitoring", "API: Partial Outage"]
    );
    let link = attr(&html, ".banner li a", "href").unwrap();
    assert_eq!(link, format!("#incident-{}", s.id));
    assert_eq!(
        attr(&html, &format!("{link}.in-progress"), "id").as_deref(),
        Some(&link[1..]),
        "the banner's link leads to the incident in progress"
    );

    // In progress: the latest update only, its time today's clock, then the way on.
    let card = format!("#incident-{}", s.id);
    assert_eq!(
        texts(&html, &format!("{card} .body")),
        vec!["The rollback is done; watching."]
    );
    assert_eq!(
        texts(&html, &format!("{card} .update-heading")),
        vec![format!("UPDATE {} - Monitoring", clock(s.times[2], s.tz))]
    );
    assert_eq!(
        attr(&html, &format!("{card} .story a"), "href"),
        Some(format!("/incidents/{}", s.id))
    );
    assert_eq!(
        texts(&html, &format!("{card} .story")),
        vec![format!(
            "The whole story of Checkout errors: 3 posts since {}",
            dated(s.times[0], s.tz, s.today)
        )]
    );
    assert_eq!(
        texts(&html, "p.updated"),
        vec![format!("Last updated {}", clock(s.last_change, s.tz))]
    );

    // The past days list it collapsed under the day it started, its last
    // update dated (another day than the heading's).
    let days = texts(&html, ".day");
    let started_day = days
        .iter()
        .find(|d| d.contains("Checkout errors"))
        .expect("listed under its day");
    assert_eq!(
        started_day,
        &format!(
            "{} Checkout errors Monitoring Last update {}",
            s.started.format("%A, %B %-d, %Y"),
            dated(s.times[2], s.tz, s.started)
        )
    );
    assert!(texts(&html, ".past .body").is_empty(), "collapsed");
}

#[tokio::test]
async fn the_incident_page_reads_in_the_seeds_order_with_the_latest_update_on_top() {
    let s = a_bad_day().await;
    let path = format!("/incidents/{}", s.id);
    let html = s.app.get_html(&path).await;
    assert_eq!(
        texts(&html, ".update .body"),
        vec![
            "We are investigating failed checkouts.",
            "A bad deploy; rolling back.",
            "The rollback is done; watching."
        ],
        "the first post, then each update appended below it"
    );
    assert_eq!(
        texts(&html, "p.date"),
        vec![s.started.format("%A, %B %-d, %Y").to_string()]
    );
    // Under the start's date heading, that day's times show the clock alone.
    assert_eq!(
        texts(&html, ".when"),
        vec![format!(
            "Posted {} · Investigating",
            clock(s.times[0], s.tz)
        )]
    );
    assert_eq!(
        texts(&html, ".update-heading"),
        vec![
            format!(
                "UPDATE {} - Issue Identified",
                dated(s.times[1], s.tz, s.started)
            ),
            format!("UPDATE {} - Monitoring", dated(s.times[2], s.tz, s.started)),
        ]
    );
    // At the top, before the story: the latest update, today's, and a link to it.
    let latest = html.find("class=\"latest\"").expect("a latest-update line");
    assert!(latest < html.find("class=\"update first\"").unwrap());
    assert_eq!(
        texts(&html, ".latest"),
        vec![format!(
            "Latest update: {} · Monitoring",
            clock(s.times[2], s.tz)
        )]
    );
    let anchor = attr(&html, ".latest a", "href").unwrap();
    assert_eq!(anchor, format!("#update-{}", s.updates[2]));
    assert_eq!(texts(&html, &anchor).len(), 1, "the anchor is on the page");
    assert_eq!(
        texts(&html, "p.updated"),
        vec![format!("Last updated {}", clock(s.times[2], s.tz))]
    );

    // Once resolved, the story is whole: no latest line.
    s.app
        .post_update(s.id, "resolved", "Checkouts work again.", &[])
        .await;
    let html = s.app.get_html(&path).await;
    assert!(texts(&html, ".latest").is_empty());
    assert_eq!(texts(&html, ".update").len(), 4);
}
