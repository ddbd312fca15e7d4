//! The public status page: what readers see, cached until the next write.
use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{
    cookie::{time::Duration as CookieDuration, Cookie, SameSite},
    get,
    http::header,
    web, HttpRequest, HttpResponse,
};

use super::AppError;
use crate::domain::{ComponentStatus, OverallStatus, PageZone};
use crate::render::{
    cache::{Coding, Page, Rendered},
    links::Links,
    time::{self, Today},
    views,
};
use crate::state::AppState;
use crate::store;

const TZ_COOKIE: &str = "sp_tz";
const HISTORY_PER_PAGE: u64 = 20;

/// The zone this reader sees times in, and a cookie to remember a new choice.
pub fn reader_zone(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(PageZone, Option<Cookie<'static>>), AppError> {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    if let Some(asked) = query.get("tz") {
        // Said, not ignored: a reader who mistyped a zone would otherwise
        // read every time in another one without knowing.
        let z = PageZone::parse(asked).map_err(|e| AppError::BadRequest(e.to_string()))?;
        let cookie = Cookie::build(TZ_COOKIE, z.name().to_owned())
            .path("/")
            .same_site(SameSite::Lax)
            .secure(state.settings.secure_cookies)
            .max_age(CookieDuration::days(365))
            .finish();
        return Ok((z, Some(cookie)));
    }
    let remembered = req
        .cookie(TZ_COOKIE)
        .and_then(|c| PageZone::parse(c.value()).ok());
    Ok((remembered.unwrap_or(state.page.zone()), None))
}

/// What every public page's layout needs.
pub fn layout_context(state: &AppState, zone: PageZone) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("page_name", &state.settings.page_name);
    ctx.insert("base_url", state.settings.base_url.as_str());
    ctx.insert("zone", zone.name());
    ctx.insert("zone_city", &crate::render::zones::city(zone.name()));
    ctx.insert("page_zone", state.page.zone().name());
    state.links().insert_into(&mut ctx);
    ctx
}

/// Serves a page from the cache, rendering it on a miss. Readers who ask while
/// it renders wait for that one render.
pub async fn cached<F, Fut, T>(
    req: &HttpRequest,
    state: &AppState,
    key: String,
    content_type: &'static str,
    render: F,
) -> Result<Arc<Page>, AppError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
    T: Into<Rendered>,
{
    state
        .cache
        .get_or_render(key, content_type, negotiate(req), async {
            render().await.map(Into::into)
        })
        .await
        .map_err(shared_error)
}

/// The render's error for each reader who waited on it.
fn shared_error(e: Arc<AppError>) -> AppError {
    Arc::try_unwrap(e).unwrap_or_else(|e| match &*e {
        AppError::NotFound => AppError::NotFound,
        AppError::BadRequest(m) => AppError::BadRequest(m.clone()),
        AppError::Forbidden(m) => AppError::Forbidden(m.clone()),
        AppError::TooManyRequests(s) => AppError::TooManyRequests(*s),
        AppError::SignInRequired { next } => AppError::SignInRequired { next: next.clone() },
        AppError::Internal(err) => AppError::Internal(anyhow::anyhow!("{err:#}")),
    })
}

/// Browsers and any cache that does not know `CDN-Cache-Control` check with us
/// before every use (a 304 when nothing changed), so a reader never sees a page
/// older than the last write.
const CACHE_CONTROL: &str = "public, no-cache";
/// A CDN (RFC 9213) may serve its copy for 30 s while it asks us again, and
/// for a day while we cannot answer: a status page should stay up when its
/// origin does not.
const CDN_CACHE_CONTROL: &str = "max-age=0, stale-while-revalidate=30, stale-if-error=86400";

/// The coding this reader prefers among those the page has.
fn negotiate(req: &HttpRequest) -> Coding {
    use header::{ContentEncoding, Encoding, Header};
    let Ok(accept) = header::AcceptEncoding::parse(req) else {
        return Coding::Identity;
    };
    let offered = [Encoding::brotli(), Encoding::gzip(), Encoding::identity()];
    match accept.negotiate(offered.iter()) {
        Some(Encoding::Known(ContentEncoding::Brotli)) => Coding::Brotli,
        Some(Encoding::Known(ContentEncoding::Gzip)) => Coding::Gzip,
        _ => Coding::Identity,
    }
}

/// Whether `If-None-Match` names this variant (weak comparison, as RFC 9110
/// has it for this header: a proxy may have weakened our tag).
fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

pub fn respond(
    req: &HttpRequest,
    page: Arc<Page>,
    cookie: Option<Cookie<'static>>,
) -> HttpResponse {
    let variant = page.variant(negotiate(req));
    let fresh = not_modified(req, &variant.etag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, variant.etag.clone()))
        .insert_header((header::VARY, "Cookie, Accept-Encoding"));
    if let Some(c) = cookie {
        // A reply that sets a reader's cookie is theirs alone.
        res.insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .cookie(c);
    } else {
        res.insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
            .insert_header(("CDN-Cache-Control", CDN_CACHE_CONTROL));
    }
    if fresh {
        return res.finish();
    }
    if let Some(coding) = variant.coding.header() {
        // actix's `Compress` leaves a body that has a Content-Encoding alone.
        res.insert_header((header::CONTENT_ENCODING, coding));
    }
    res.content_type(page.content_type)
        .body(variant.body.clone())
}

/// "Last updated ...", for a page's context.
fn updated_vm(at: Option<chrono::DateTime<chrono::Utc>>, today: &Today) -> serde_json::Value {
    at.map_or(
        serde_json::Value::Null,
        |at| serde_json::json!({ "iso": time::iso(at, today.tz), "when": today.when(at) }),
    )
}

/// The present first: the banner, the incidents in progress (each its latest
/// update), the components, then every one of the past days. Times read
/// against today, so the page is rendered again when the reader's day turns.
#[get("/")]
pub async fn index(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (zone, cookie) = reader_zone(&req, &state)?;
    let key = format!("/|{}", zone.name());
    let page = cached(&req, &state, key, "text/html; charset=utf-8", || async {
        let now = store::now();
        // Read once for every reader's zone: a render of another zone is then
        // the template's work alone, however long the history.
        let links = state.links();
        let data = state
            .cache
            .shared("front", async {
                let data = FrontData::read(&state, &state.db, now).await?;
                let until = data.until;
                Ok((data, Some(until)))
            })
            .await
            .map_err(shared_error)?;
        render_front(&state, &data, zone, now, &links)
    })
    .await?;
    Ok(respond(&req, page, cookie))
}

/// What the front page shows that is the same in every reader's zone.
pub struct FrontData {
    components: Vec<store::components::ComponentView>,
    open: Vec<store::incidents::IncidentView>,
    /// Started since the first past day any zone shows: each zone's page
    /// keeps those of its own days.
    recent: Vec<store::incidents::IncidentView>,
    bars: Vec<crate::render::uptime::BarsVm>,
    /// When the bars turn (a day passes in the page's zone, a running
    /// outage's bar grows), or the window of `recent` would fall short.
    until: chrono::DateTime<chrono::Utc>,
}

/// How far `recent` reaches back beyond the past days, and how long it is
/// used: every zone's first past day starts within `past_days` days and 25
/// hours of now (its today began at most a day ago, a DST change adds one),
/// so a margin of 48 hours covers every zone for the next 23.
const RECENT_MARGIN_HOURS: i64 = 48;
const RECENT_LASTS_HOURS: i64 = 12;

impl FrontData {
    pub async fn read(
        state: &AppState,
        db: &impl sea_orm::ConnectionTrait,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, AppError> {
        let days = i64::from(state.settings.past_days);
        let since =
            now - chrono::Duration::days(days) - chrono::Duration::hours(RECENT_MARGIN_HOURS);
        let components = store::components::list(db).await?;
        let open = store::incidents::unresolved(db).await?;
        let recent = store::incidents::started_since(db, since).await?;
        let (bars, bars_change) = super::uptime::bars(state, db, &components, now).await?;
        let lasts = now + chrono::Duration::hours(RECENT_LASTS_HOURS);
        Ok(Self {
            components,
            open,
            recent,
            bars,
            until: bars_change.map_or(lasts, |at| at.min(lasts)),
        })
    }
}

/// The front page from `db` as it reads at `now`: what a backup's digest is
/// taken of (from its snapshot, at its time) and what a static copy holds
/// (with its `links`); `/` renders the same from data it shares between zones.
pub async fn front_page(
    state: &AppState,
    db: &impl sea_orm::ConnectionTrait,
    zone: PageZone,
    now: chrono::DateTime<chrono::Utc>,
    links: &Links,
) -> Result<Rendered, AppError> {
    render_front(
        state,
        &FrontData::read(state, db, now).await?,
        zone,
        now,
        links,
    )
}

fn render_front(
    state: &AppState,
    data: &FrontData,
    zone: PageZone,
    now: chrono::DateTime<chrono::Utc>,
    links: &Links,
) -> Result<Rendered, AppError> {
    let tz = zone.tz();
    let today = Today::new(now, tz);
    let days = today.and_days_before(state.settings.past_days);
    let since = time::day_start(days.last().copied().unwrap_or(today.date), tz);
    let components = &data.components;
    let overall = OverallStatus::from_components(components.iter().map(|c| c.status));
    let open = &data.open;
    let mut ctx = layout_context(state, zone);
    links.insert_into(&mut ctx);
    links.insert_into(&mut ctx);
    ctx.insert("overall", overall.description());
    ctx.insert("overall_slug", overall.slug());
    let listed = views::components(components);
    // What the banner names: every component that is not operational.
    let down: Vec<_> = listed
        .iter()
        .filter(|c| c.status != ComponentStatus::Operational.as_str())
        .collect();
    ctx.insert("down", &down);
    ctx.insert("components", &listed);
    let incidents: Vec<_> = open.iter().filter(|i| !i.is_maintenance()).collect();
    ctx.insert(
        "open",
        &incidents
            .iter()
            .filter_map(|i| views::in_progress(i, now, &today))
            .collect::<Vec<_>>(),
    );
    // A promise turns into "was due" by itself: the page must not outlive it.
    let promise_turns = incidents
        .iter()
        .filter_map(|i| i.promise(now).and_then(|p| p.changes_at()))
        .min();
    let maintenances: Vec<_> = store::maintenance::not_over(open)
        .into_iter()
        .filter_map(|i| views::maintenance(i, &today))
        .collect();
    ctx.insert("maintenances", &maintenances);
    ctx.insert(
        "under_maintenance",
        &maintenances
            .iter()
            .filter(|m| m.status != crate::domain::IncidentStatus::Scheduled.as_str())
            .collect::<Vec<_>>(),
    );
    let past: Vec<_> = data
        .recent
        .iter()
        .filter(|i| i.model.started_at >= since)
        .filter(|i| views::listed_as_past(i))
        .collect();
    ctx.insert("past", &views::past_days(&past, &days, tz));
    ctx.insert(
        "updated",
        &updated_vm(
            views::last_changed(components, open.iter().chain(past.iter().copied())),
            &today,
        ),
    );
    ctx.insert("path", "");
    ctx.insert("uptime", &data.bars);
    let body = state.tera.render("public/index.html", &ctx)?;
    // Whichever turns first: the reader's day, a promise, or the shared data.
    let changes_at = [Some(data.until), promise_turns]
        .into_iter()
        .flatten()
        .fold(today.ends_at(), |a, b| a.min(b));
    Ok(Rendered::until(body, changes_at))
}

/// The whole story in the seed's order. The line at its top (the latest
/// update, while open) and "Last updated" read against today.
#[get("/incidents/{id}")]
pub async fn incident(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    let (zone, cookie) = reader_zone(&req, &state)?;
    let key = format!("/incidents/{id}|{}", zone.name());
    let page = cached(&req, &state, key, "text/html; charset=utf-8", || async {
        let names = shared_names(&state).await?;
        let view = store::incidents::load_named(&state.db, id, &names).await?;
        render_incident(&state, view, zone, store::now(), &state.links())
    })
    .await?;
    Ok(respond(&req, page, cookie))
}

/// The names beside ids on every page, read once per generation.
async fn shared_names(state: &AppState) -> Result<Arc<store::incidents::Names>, AppError> {
    state
        .cache
        .shared("names", async {
            Ok((store::incidents::Names::read(&state.db).await?, None))
        })
        .await
        .map_err(shared_error)
}

/// Incident `id`'s page from `db` as it reads at `now`.
pub async fn incident_page(
    state: &AppState,
    db: &impl sea_orm::ConnectionTrait,
    zone: PageZone,
    id: i32,
    now: chrono::DateTime<chrono::Utc>,
    links: &Links,
) -> Result<Rendered, AppError> {
    render_incident(
        state,
        store::incidents::load(db, id).await?,
        zone,
        now,
        links,
    )
}

fn render_incident(
    state: &AppState,
    view: Option<store::incidents::IncidentView>,
    zone: PageZone,
    now: chrono::DateTime<chrono::Utc>,
    links: &Links,
) -> Result<Rendered, AppError> {
    let view = view.ok_or(AppError::NotFound)?;
    let id = view.model.id;
    let today = Today::new(now, zone.tz());
    let mut ctx = layout_context(state, zone);
    links.insert_into(&mut ctx);
    ctx.insert("post", &views::post(&view, zone.tz()));
    ctx.insert("latest", &views::latest(&view, &today));
    ctx.insert("promise", &views::promise_vm(&view, now, &today));
    ctx.insert("updated", &updated_vm(Some(view.last_change_at()), &today));
    ctx.insert("path", &format!("incidents/{id}"));
    let body = state.tera.render("public/incident.html", &ctx)?;
    let changes_at = view
        .promise(now)
        .and_then(|p| p.changes_at())
        .map_or(today.ends_at(), |at| at.min(today.ends_at()));
    Ok(Rendered::until(body, changes_at))
}

#[derive(serde::Deserialize)]
pub struct HistoryQuery {
    page: Option<String>,
}

#[get("/history")]
pub async fn history(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<HistoryQuery>,
) -> Result<HttpResponse, AppError> {
    let page = crate::domain::page_number(q.page.as_deref());
    let (zone, cookie) = reader_zone(&req, &state)?;
    let key = format!("/history?{page}|{}", zone.name());
    let page = cached(&req, &state, key, "text/html; charset=utf-8", || async {
        let names = shared_names(&state).await?;
        history_page(&state, &state.db, &names, zone, page, &state.links())
            .await
            .map(|(body, _)| body)
    })
    .await?;
    Ok(respond(&req, page, cookie))
}

/// History page `page` (from 1) from `db`, and how many pages there are.
pub async fn history_page(
    state: &AppState,
    db: &sea_orm::DatabaseConnection,
    names: &store::incidents::Names,
    zone: PageZone,
    page: u64,
    links: &Links,
) -> Result<(String, u64), AppError> {
    let tz = zone.tz();
    let (list, pages) =
        store::incidents::history_named(db, page - 1, HISTORY_PER_PAGE, names).await?;
    if page > 1 && list.is_empty() {
        return Err(AppError::NotFound);
    }
    let months = views::by_heading(list.iter().map(|i| views::post(i, tz)).collect(), |p| {
        let at = list
            .iter()
            .find(|i| i.model.id == p.id)
            .map(|i| i.model.started_at)
            .unwrap_or_default();
        time::month_heading(at, tz)
    });
    let pages = pages.max(1);
    let mut ctx = layout_context(state, zone);
    links.insert_into(&mut ctx);
    ctx.insert("months", &months);
    ctx.insert("page", &page);
    ctx.insert("pages", &pages);
    ctx.insert("newer", &links.history(page.saturating_sub(1)));
    ctx.insert("older", &links.history(page + 1));
    ctx.insert("path", "history");
    Ok((state.tera.render("public/history.html", &ctx)?, pages))
}

#[get("/health")]
pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    use sea_orm::ConnectionTrait;
    state.db.execute_unprepared("SELECT 1").await?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ok"))
}
