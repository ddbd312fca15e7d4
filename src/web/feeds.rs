//! Atom and RSS feeds of incidents, at /feed.* and where Statuspage keeps them (/history.*).
use actix_web::{get, web, HttpRequest, HttpResponse};

use super::api_v2::public_read;
use super::public::{cached, respond};
use super::AppError;
use crate::render::feeds;
use crate::render::statuspage::PageInfo;
use crate::state::AppState;
use crate::store;

/// Entries in a feed: the most recent incidents.
const ENTRIES: u64 = 50;

/// The Atom feed at `self_path` (`feed.atom` or `history.atom`) from `db`:
/// what it serves, and what a static copy holds.
pub async fn atom_feed(
    db: &impl sea_orm::ConnectionTrait,
    info: &PageInfo,
    self_path: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, AppError> {
    let list = store::incidents::recent(db, ENTRIES).await?;
    Ok(feeds::atom(info, &list, self_path, now))
}

pub async fn rss_feed(
    db: &impl sea_orm::ConnectionTrait,
    info: &PageInfo,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, AppError> {
    let list = store::incidents::recent(db, ENTRIES).await?;
    Ok(feeds::rss(info, &list, now))
}

pub async fn calendar(
    db: &impl sea_orm::ConnectionTrait,
    info: &PageInfo,
) -> Result<String, AppError> {
    let list = store::maintenance::all(db, 500).await?;
    Ok(crate::render::calendar::maintenance_calendar(info, &list))
}

async fn atom(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let self_path = req.path().trim_start_matches('/').to_owned();
    let key = format!("/{self_path}|feed");
    let page = cached(
        &req,
        &state,
        key,
        "application/atom+xml; charset=utf-8",
        || atom_feed(&state.db, &state.page, &self_path, store::now()),
    )
    .await?;
    Ok(public_read(respond(&req, page, None)))
}

async fn rss(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let page = cached(
        &req,
        &state,
        "/feed.rss|feed".into(),
        "application/rss+xml; charset=utf-8",
        || rss_feed(&state.db, &state.page, store::now()),
    )
    .await?;
    Ok(public_read(respond(&req, page, None)))
}

#[get("/feed.atom")]
pub async fn feed_atom(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    atom(req, state).await
}

#[get("/history.atom")]
pub async fn history_atom(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    atom(req, state).await
}

#[get("/feed.rss")]
pub async fn feed_rss(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    rss(req, state).await
}

#[get("/history.rss")]
pub async fn history_rss(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    rss(req, state).await
}

/// Every scheduled maintenance as a calendar (RFC 5545) to subscribe to.
#[get("/maintenance.ics")]
pub async fn maintenance_ics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let page = cached(
        &req,
        &state,
        "/maintenance.ics|feed".into(),
        "text/calendar; charset=utf-8",
        || calendar(&state.db, &state.page),
    )
    .await?;
    Ok(public_read(respond(&req, page, None)))
}
