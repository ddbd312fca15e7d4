//! What the public reads, as digests: the front page, every incident's page
//! and the v2 documents, rendered through the handlers' own functions from a
//! given connection at a given time. A backup records them from its snapshot
//! at its own time; `backup verify` renders them again from a trial restore
//! at that same time and compares.
use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::config::Settings;
use crate::domain::{PageZone, UptimeWeights};
use crate::render::statuspage::PageInfo;
use crate::state::AppState;
use crate::store;
use crate::web::api_v2::{self, Document};
use crate::web::public;

/// The settings that change what a page says, by their settings-file names.
pub fn render_settings(settings: &Settings, zone: PageZone) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("base_url".into(), settings.base_url.to_string()),
        ("page_name".into(), settings.page_name.clone()),
        ("timezone".into(), zone.name().to_owned()),
        ("past_days".into(), settings.past_days.to_string()),
        (
            "uptime_partial_weight".into(),
            settings.uptime_weights.partial().to_string(),
        ),
    ])
}

/// `settings` with the values a backup recorded, so pages render as they did then.
pub fn with_recorded(
    mut settings: Settings,
    recorded: &BTreeMap<String, String>,
) -> anyhow::Result<Settings> {
    let get = |k: &str| {
        recorded
            .get(k)
            .with_context(|| format!("the backup's page settings have no {k}"))
    };
    settings.base_url = get("base_url")?.parse().context("base_url")?;
    settings.page_name = get("page_name")?.clone();
    settings.timezone = Some(PageZone::parse(get("timezone")?)?);
    settings.past_days = get("past_days")?.parse().context("past_days")?;
    settings.uptime_weights = UptimeWeights::new(
        get("uptime_partial_weight")?
            .parse()
            .context("uptime_partial_weight")?,
    )?;
    Ok(settings)
}

/// The page's zone as `serve` works it out: the setting, else the one the
/// database keeps, else UTC.
pub async fn page_zone(settings: &Settings, db: &impl ConnectionTrait) -> anyhow::Result<PageZone> {
    Ok(match settings.timezone {
        Some(z) => z,
        None => store::settings::page_zone(db)
            .await?
            .unwrap_or(PageZone::parse("UTC").expect("UTC exists")),
    })
}

/// A state to render public pages with, reading nothing and writing nothing
/// to `db` but the page's id from `reads` (no key is generated, as
/// `startup::state` would): `db` is only held, pages read from the
/// connection they are given.
pub async fn render_state(
    settings: Settings,
    db: DatabaseConnection,
    reads: &impl ConnectionTrait,
) -> anyhow::Result<AppState> {
    let zone = page_zone(&settings, reads).await?;
    let page = PageInfo {
        id: store::settings::get(reads, store::settings::PAGE_ID)
            .await?
            .unwrap_or_default(),
        name: settings.page_name.clone(),
        url: settings.link(""),
        zone: crate::render::statuspage::SharedZone::new(zone),
    };
    let tera = crate::render::templates::load().map_err(|e| anyhow::anyhow!("templates: {e:?}"))?;
    // This state sends no mail: it need not warn that mail is not sent.
    let mailer =
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            crate::notify::mail::Mailer::from_settings(&settings)
        })?;
    Ok(AppState {
        mailer: Arc::new(mailer),
        webhooks: crate::notify::webhook::WebhookSender::new(false),
        cache: Arc::new(crate::render::cache::PageCache::new(1024 * 1024)),
        db,
        tera: Arc::new(tera),
        // Public pages sign nothing.
        secret: Vec::new(),
        page,
        throttle: Default::default(),
        signup_throttle: Default::default(),
        wake_worker: Arc::new(tokio::sync::Notify::new()),
        settings,
    })
}

/// SHA-256 of each public page read from `db` as at `now`, by path.
pub async fn digests(
    state: &AppState,
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let zone = state.page.zone();
    let rendered = |e: crate::web::AppError| anyhow::anyhow!("rendering a page failed: {e}");
    let mut out = BTreeMap::new();
    let front = public::front_page(state, db, zone, now, &state.links())
        .await
        .map_err(rendered)?;
    out.insert("/".to_owned(), hex(&front.body));
    for id in incident_ids(db).await? {
        let page = public::incident_page(state, db, zone, id, now, &state.links())
            .await
            .map_err(rendered)?;
        out.insert(format!("/incidents/{id}"), hex(&page.body));
    }
    for doc in Document::ALL {
        let body = api_v2::document(db, &state.page, doc, now)
            .await
            .map_err(rendered)?;
        out.insert(doc.path().to_owned(), hex(&body));
    }
    Ok(out)
}

/// Every incident's id, in order: each has a public page.
pub async fn incident_ids(db: &impl ConnectionTrait) -> anyhow::Result<Vec<i32>> {
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM incidents ORDER BY id",
        ))
        .await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect::<Result<_, _>>()?)
}

fn hex(body: &str) -> String {
    super::static_site::sha256(body.as_bytes())
}
