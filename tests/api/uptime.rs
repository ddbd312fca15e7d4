//! Uptime from the recorded status changes: `uptime.json`, the bars on the
//! page and the `/uptime` calendars, all counted in the page's zone.
use chrono::{Days, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

/// A day well in the past, so that no test depends on the hour it runs at.
fn days_ago(n: u64) -> NaiveDate {
    Utc::now()
        .date_naive()
        .checked_sub_days(Days::new(n))
        .unwrap()
}

async fn uptime(app: &TestApp, id: i32, query: &str) -> (u16, Value) {
    let res = app
        .get(&format!("/api/v2/components/{id}/uptime.json{query}"))
        .await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// On `day`: major outage 10:00-11:30, partial outage until 12:00, then
/// operational again, each set by an update of one incident (page-zone times).
async fn outage_on(app: &TestApp, component: i32, day: NaiveDate) -> i32 {
    let field = format!("component_{component}");
    let incident = app
        .publish(
            "Checkout errors",
            "investigating",
            "Payments fail.",
            &[
                (field.as_str(), "major_outage"),
                ("started_at", &format!("{day}T10:00")),
            ],
        )
        .await;
    for (status, component_status, at) in [
        ("identified", "partial_outage", "11:30"),
        ("resolved", "operational", "12:00"),
    ] {
        let res = app
            .post_update(
                incident,
                status,
                "Moving on.",
                &[
                    (field.as_str(), component_status),
                    ("at", &format!("{day}T{at}")),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    }
    incident
}

#[tokio::test]
async fn uptime_json_counts_the_outages_an_incident_recorded() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let other = app.add_component("Website").await;
    let day = days_ago(3);
    let incident = outage_on(&app, api, day).await;

    let query = format!(
        "?range_start={}&range_end={}",
        day.checked_sub_days(Days::new(5)).unwrap(),
        day.succ_opt().unwrap()
    );
    let (status, doc) = uptime(&app, api, &query).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["id"], api.to_string());
    assert_eq!(doc["name"], "API");
    assert_eq!(doc["major_outage"], 90 * 60);
    assert_eq!(doc["partial_outage"], 30 * 60);
    // The record starts with the incident (the component is younger), so the
    // range starts that day, and only its hours from 10:00 count: 14 h + 24 h.
    assert_eq!(doc["range_start"], day.to_string());
    assert_eq!(doc["range_end"], day.succ_opt().unwrap().to_string());
    let warnings = doc["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{doc}");
    assert!(warnings[0].as_str().unwrap().contains("record starts"));
    let expected = 100.0 * (1.0 - (5400.0 + 0.3 * 1800.0) / (38.0 * 3600.0));
    let got = doc["uptime_percentage"].as_f64().unwrap();
    assert!(
        (got - expected).abs() < 0.0001 && got <= expected,
        "{got} vs {expected}"
    );
    assert_eq!(doc["related_events"][0]["id"], incident.to_string());
    assert_eq!(doc["related_events"][0]["name"], "Checkout errors");

    // The other component was never touched: up all along, no incidents.
    let (status, doc) = uptime(&app, other, "").await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["uptime_percentage"], 100.0);
    assert_eq!(doc["major_outage"], 0);
    assert_eq!(doc["related_events"], serde_json::json!([]));
    // By default, the 90 days up to today, from the day it was added.
    let today = Utc::now().date_naive();
    assert!(doc["range_end"] == today.to_string() || doc["range_end"] == days_ago(1).to_string());
    assert_eq!(doc["range_start"], doc["range_end"], "added today: {doc}");

    // A day before the outage alone: the record has not started, nothing to count.
    let before = day.checked_sub_days(Days::new(1)).unwrap();
    let (status, doc) = uptime(
        &app,
        api,
        &format!("?range_start={before}&range_end={before}"),
    )
    .await;
    assert_eq!(status, 400, "{doc}");
    assert_eq!(doc["error"]["code"], "invalid_range");
}

#[tokio::test]
async fn the_partial_outage_weight_is_a_setting() {
    let app = spawn_app_with(&[("STATUSPOST_UPTIME_PARTIAL_WEIGHT", "1")]).await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let day = days_ago(2);
    outage_on(&app, api, day).await;
    let (status, doc) = uptime(&app, api, &format!("?range_start={day}&range_end={day}")).await;
    assert_eq!(status, 200, "{doc}");
    // Two hours down of the 14 counted.
    let expected = 100.0 * (1.0 - 2.0 / 14.0);
    let got = doc["uptime_percentage"].as_f64().unwrap();
    assert!((got - expected).abs() < 0.0001, "{got} vs {expected}");
}

#[tokio::test]
async fn days_are_the_page_zones_across_a_daylight_saving_change() {
    let app = spawn_app_with(&[("STATUSPOST_TIMEZONE", "America/New_York")]).await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let field = format!("component_{api}");
    // 11 PM to 4 AM New York time, the night the clocks sprang forward: four
    // real hours, one on the 7th and three on the 8th (2 to 3 AM never was).
    let incident = app
        .publish(
            "Night outage",
            "investigating",
            "Down.",
            &[
                (field.as_str(), "major_outage"),
                ("started_at", "2026-03-07T23:00"),
            ],
        )
        .await;
    let res = app
        .post_update(
            incident,
            "resolved",
            "Up.",
            &[(field.as_str(), "operational"), ("at", "2026-03-08T04:00")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, seventh) = uptime(&app, api, "?range_start=2026-03-07&range_end=2026-03-07").await;
    assert_eq!(seventh["major_outage"], 3600, "{seventh}");
    let (_, eighth) = uptime(&app, api, "?range_start=2026-03-08&range_end=2026-03-08").await;
    assert_eq!(eighth["major_outage"], 3 * 3600, "{eighth}");
    assert_eq!(eighth["related_events"][0]["id"], incident.to_string());
    // The 8th had 23 hours.
    let expected = 100.0 * (1.0 - 3.0 / 23.0);
    let got = eighth["uptime_percentage"].as_f64().unwrap();
    assert!((got - expected).abs() < 0.0001, "{got} vs {expected}");
}

#[tokio::test]
async fn bad_ranges_are_400_and_unknown_components_404_in_json() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    // A record that goes back years.
    app.publish(
        "Slow since long ago",
        "identified",
        "Slow.",
        &[
            (format!("component_{api}").as_str(), "degraded_performance"),
            ("started_at", "2024-01-01T00:00"),
        ],
    )
    .await;
    let (status, doc) = uptime(&app, api, "?range_start=2024-06-01&range_end=2025-06-01").await;
    assert_eq!(status, 200, "366 days: {doc}");
    assert_eq!(doc["uptime_percentage"], 100.0, "degraded counts as up");
    let today = Utc::now().date_naive();
    for query in [
        "?range_start=2026-13-01".to_owned(),
        "?range_end=yesterday".to_owned(),
        format!("?range_start={today}&range_end={}", days_ago(1)),
        "?range_start=2024-06-01&range_end=2025-06-02".to_owned(),
        "?range_start=2020-01-01&range_end=2023-12-31".to_owned(),
        format!(
            "?range_start={}",
            today.checked_add_days(Days::new(2)).unwrap()
        ),
    ] {
        let res = app
            .get(&format!("/api/v2/components/{api}/uptime.json{query}"))
            .await;
        assert_eq!(res.status(), 400, "{query}");
        assert_eq!(res.headers()["content-type"], "application/json");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_range", "{query}: {body}");
    }
    for id in ["999", "abc", "0"] {
        let res = app
            .get(&format!("/api/v2/components/{id}/uptime.json"))
            .await;
        assert_eq!(res.status(), 404, "{id}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
    // A removed component has no uptime either.
    let page = app.get_html("/admin/components").await;
    let res = app
        .client
        .post(app.url(&format!("/admin/components/{api}/delete")))
        .form(&[("csrf_token", crate::helpers::csrf_token(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (status, _) = uptime(&app, api, "").await;
    assert_eq!(status, 404);
    // A range past today is counted to today, and says so.
    let api = app.add_component("API 2").await;
    let (status, doc) = uptime(
        &app,
        api,
        &format!(
            "?range_end={}",
            today.checked_add_days(Days::new(30)).unwrap()
        ),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert!(
        doc["warnings"][0].as_str().unwrap().contains("after today"),
        "{doc}"
    );
}

#[tokio::test]
async fn a_status_set_on_the_component_itself_is_recorded_even_without_notifying() {
    use statuspost::entity::component_status_change as change;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let res = app
        .post_form(
            "/admin/components",
            &format!("/admin/components/{api}"),
            &[
                ("name", "API"),
                ("group", ""),
                ("position", "0"),
                ("status", "major_outage"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let changes = change::Entity::find()
        .filter(change::Column::ComponentId.eq(api))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (
            changes[0].old_status.as_str(),
            changes[0].new_status.as_str()
        ),
        ("operational", "major_outage")
    );
    assert_eq!(changes[0].incident_id, None);
    // Saving it again with the same status records nothing more.
    let res = app
        .post_form(
            "/admin/components",
            &format!("/admin/components/{api}"),
            &[
                ("name", "API v2"),
                ("group", ""),
                ("position", "0"),
                ("status", "major_outage"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let again = change::Entity::find()
        .filter(change::Column::ComponentId.eq(api))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "{again:?}");
}

/// Checks `body` against the response schema the served OpenAPI document
/// gives for `status`, as schemathesis does.
fn conforms(openapi: &Value, status: u16, body: &Value) {
    let op = &openapi["paths"]["/api/v2/components/{id}/uptime.json"]["get"];
    let mut schema =
        op["responses"][status.to_string()]["content"]["application/json"]["schema"].clone();
    assert!(schema.is_object(), "{status} is documented: {op:#}");
    schema["components"] = openapi["components"].clone();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{status}: {errors:#?}\n{body:#}");
}

#[tokio::test]
async fn every_answer_matches_the_openapi_document() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let day = days_ago(4);
    outage_on(&app, api, day).await;
    let openapi: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let params = openapi["paths"]["/api/v2/components/{id}/uptime.json"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(params, ["id", "range_start", "range_end"]);
    for (id, query, status) in [
        (api.to_string(), format!("?range_start={day}"), 200),
        (api.to_string(), String::new(), 200),
        (api.to_string(), "?range_start=2026-02-30".to_owned(), 400),
        ("404".to_owned(), String::new(), 404),
    ] {
        let res = app
            .get(&format!("/api/v2/components/{id}/uptime.json{query}"))
            .await;
        assert_eq!(res.status(), status, "{id}{query}");
        let body: Value = res.json().await.unwrap();
        conforms(&openapi, status, &body);
    }
}

/// Adds a component in `group` through the staff form; returns its id.
async fn add_in_group(app: &TestApp, name: &str, group: &str) -> i32 {
    let res = app
        .post_form(
            "/admin/components",
            "/admin/components",
            &[
                ("name", name),
                ("group", group),
                ("position", "0"),
                ("status", "operational"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    statuspost::store::components::list(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.model.name == name)
        .unwrap()
        .model
        .id
}

fn classes(html: &str, selector: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel)
        .map(|e| e.value().attr("class").unwrap_or_default().to_owned())
        .collect()
}

/// The percentage as the page shows it: cut to two decimals.
fn shown(p: f64) -> String {
    format!("{:.2}", (p * 100.0).floor() / 100.0)
}

#[tokio::test]
async fn the_page_shows_90_bars_per_component_and_group_with_each_days_text() {
    use crate::helpers::texts;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = add_in_group(&app, "API", "Core").await;
    let web = add_in_group(&app, "Website", "Core").await;
    let docs = app.add_component("Docs").await;
    let day = days_ago(3);
    let incident = outage_on(&app, api, day).await;
    let group = statuspost::store::components::list(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.model.id == api)
        .unwrap()
        .group
        .unwrap()
        .id;

    let html = app.get_html("/").await;
    let bars = classes(&html, &format!("#uptime-{api} ol.bars li"));
    assert_eq!(bars.len(), 90);
    // Oldest first: the record starts on the outage's day, three days before the last bar.
    assert!(bars[..86].iter().all(|c| c == "bar s-none"), "{bars:?}");
    assert_eq!(bars[86], "bar s-major_outage");
    assert!(
        bars[87..].iter().all(|c| c == "bar s-operational"),
        "{bars:?}"
    );
    let said = texts(&html, &format!("#uptime-{api} ol.bars li"));
    let label = day.format("%A, %B %-d, %Y").to_string();
    assert_eq!(
        said[86],
        format!("{label}: Major outage for 1 h 30 min, partial outage for 30 min.")
    );
    assert!(said[89].ends_with(": No downtime."), "{}", said[89]);
    assert!(said[0].ends_with(": No data."), "{}", said[0]);
    // The day, told in words with a link to its incident, one click away.
    let told = texts(&html, &format!("#uptime-{api} details.uptime-days li"));
    assert_eq!(
        told,
        [format!(
            "{label}: Major outage for 1 h 30 min, partial outage for 30 min. Checkout errors (Resolved)"
        )]
    );
    assert_eq!(
        crate::helpers::attr(
            &html,
            &format!("#uptime-{api} details.uptime-days li a"),
            "href"
        ),
        Some(format!("/incidents/{incident}"))
    );
    // 14 hours of the first day counted, then three whole days.
    let expected = 100.0 * (1.0 - (5400.0 + 0.3 * 1800.0) / ((14.0 + 72.0) * 3600.0));
    let legend = texts(&html, &format!("#uptime-{api} .uptime-legend"));
    assert_eq!(
        legend,
        [format!("90 days ago {} % uptime Today", shown(expected))]
    );

    // In the page's order; a group is the worst of its members, listed right after it.
    let rows: Vec<String> = scraper::Html::parse_document(&html)
        .select(&scraper::Selector::parse(".uptime-row").unwrap())
        .map(|e| e.value().attr("id").unwrap().to_owned())
        .collect();
    assert_eq!(
        rows,
        [
            format!("uptime-{docs}"),
            format!("uptime-group-{group}"),
            format!("uptime-{api}"),
            format!("uptime-{web}"),
        ]
    );
    let group_bars = classes(&html, &format!("#uptime-group-{group} ol.bars li"));
    assert_eq!(group_bars[86], "bar s-major_outage");
    assert_eq!(
        texts(&html, &format!("#uptime-group-{group} h3")),
        ["Core (group: API, Website)"]
    );
    // Website had nothing, and it says so without a list to open.
    assert!(classes(&html, &format!("#uptime-{web} details")).is_empty());
    assert_eq!(
        classes(&html, &format!("#uptime-{web} ol.bars li.s-operational")).len(),
        1,
        "added today"
    );
}

#[tokio::test]
async fn staff_choose_whether_and_from_when_a_component_shows_bars() {
    use crate::helpers::texts;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let web = app.add_component("Website").await;
    let day = days_ago(5);
    outage_on(&app, api, day).await;
    let save = |id: i32, name: &'static str, fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let mut body: Vec<(&str, String)> = vec![
                ("name", name.to_owned()),
                ("group", String::new()),
                ("position", "0".to_owned()),
                ("status", "operational".to_owned()),
                ("description", String::new()),
            ];
            body.extend(fields);
            let body: Vec<(&str, &str)> = body.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_form(
                "/admin/components",
                &format!("/admin/components/{id}"),
                &body,
            )
            .await
        }
    };
    // Website's bars off; API's counted from the day after the outage.
    let res = save(web, "Website", vec![]).await;
    assert_eq!(res.status(), 303);
    let from = day.succ_opt().unwrap();
    let res = save(
        api,
        "API",
        vec![
            ("show_uptime", "on".to_owned()),
            ("uptime_start", from.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);

    let html = app.get_html("/").await;
    assert!(classes(&html, &format!("#uptime-{web}")).is_empty());
    let bars = classes(&html, &format!("#uptime-{api} ol.bars li"));
    assert_eq!(
        bars[84], "bar s-none",
        "the outage's day is before the record"
    );
    assert_eq!(bars[85], "bar s-operational");
    assert_eq!(
        texts(&html, &format!("#uptime-{api} .uptime-legend")),
        ["90 days ago 100.00 % uptime Today"]
    );
    let (_, doc) = uptime(&app, api, &format!("?range_start={day}")).await;
    assert_eq!(doc["range_start"], from.to_string());
    assert_eq!(doc["major_outage"], 0);
    // The read API says the same.
    let comps: Value = app
        .get("/api/v2/components.json")
        .await
        .json()
        .await
        .unwrap();
    let of = |id: i32| {
        let want = id.to_string();
        comps["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"].as_str() == Some(want.as_str()))
            .unwrap()
            .clone()
    };
    assert_eq!(of(api)["showcase"], true);
    assert_eq!(of(api)["start_date"], from.to_string());
    assert_eq!(of(web)["showcase"], false);
    // The form shows what was chosen.
    let admin = app.get_html("/admin/components").await;
    assert_eq!(
        crate::helpers::attr(&admin, &format!("#uptime-start-{api}"), "value"),
        Some(from.to_string())
    );
    assert!(crate::helpers::attr(&admin, &format!("#show-uptime-{api}"), "checked").is_some());
    assert!(crate::helpers::attr(&admin, &format!("#show-uptime-{web}"), "checked").is_none());

    // A day to come, or a garbled one, is refused beside the field with the text kept.
    let tomorrow = Utc::now()
        .date_naive()
        .checked_add_days(Days::new(2))
        .unwrap()
        .to_string();
    for (typed, message) in [
        (tomorrow.as_str(), "The date cannot be in the future."),
        ("1969-12-31", "The date must be in 1970 or later."),
        ("soon", "Enter a date like 2026-09-01, or leave it empty."),
    ] {
        let res = save(
            api,
            "API",
            vec![
                ("show_uptime", "on".to_owned()),
                ("uptime_start", typed.to_owned()),
            ],
        )
        .await;
        assert_eq!(res.status(), 422, "{typed}");
        let page = res.text().await.unwrap();
        assert_eq!(
            crate::helpers::attr(&page, &format!("#uptime-start-{api}"), "value"),
            Some(typed.to_owned())
        );
        assert!(
            texts(&page, ".field-error").contains(&message.to_owned()),
            "{page}"
        );
    }
    let (_, doc) = uptime(&app, api, "").await;
    assert_eq!(doc["range_start"], from.to_string(), "nothing was saved");

    // Without a CSRF token, nothing changes.
    let res = app
        .client
        .post(app.url(&format!("/admin/components/{api}")))
        .form(&[
            ("name", "API"),
            ("status", "operational"),
            ("uptime_start", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (_, doc) = uptime(&app, api, "").await;
    assert_eq!(doc["range_start"], from.to_string());
}

#[tokio::test]
async fn the_uptime_page_has_a_calendar_of_each_of_the_last_three_months() {
    use crate::helpers::texts;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let api = app.add_component("API").await;
    let day = days_ago(3);
    let incident = outage_on(&app, api, day).await;
    let html = app.get_html("/uptime").await;
    let today = Utc::now().date_naive();
    let months = texts(&html, &format!("section:has(#uptime-{api}) h3"));
    assert_eq!(months.len(), 3, "{months:?}");
    assert!(
        months[2].starts_with(&today.format("%B %Y").to_string())
            || months[2].starts_with(&days_ago(1).format("%B %Y").to_string()),
        "{months:?}"
    );
    // The outage's day, in its month's calendar: the colour, a sign, and the words.
    let cell = texts(
        &html,
        &format!("section:has(#uptime-{api}) td.s-major_outage"),
    );
    assert_eq!(
        cell,
        [format!(
            "{} !!: Major outage for 1 h 30 min, partial outage for 30 min.",
            chrono::Datelike::day(&day)
        )]
    );
    let told = texts(
        &html,
        &format!("section:has(#uptime-{api}) ul.uptime-days li"),
    );
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].ends_with("Checkout errors (Resolved)"), "{told:?}");
    assert!(html.contains(&format!("href=\"/incidents/{incident}\"")));
    // Every week has seven cells.
    let doc = scraper::Html::parse_document(&html);
    let weeks: Vec<usize> = doc
        .select(&scraper::Selector::parse(&format!("section:has(#uptime-{api}) tbody tr")).unwrap())
        .map(|tr| tr.children().filter(|c| c.value().is_element()).count())
        .collect();
    assert!(
        weeks.len() >= 12 && weeks.iter().all(|n| *n == 7),
        "{weeks:?}"
    );
}
