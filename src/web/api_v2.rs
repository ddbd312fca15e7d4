//! The public read API in Statuspage's v2 shape: read-only, no authentication,
//! readable from any origin, cached like the page until the next write.
use actix_web::{get, http::header, web, HttpRequest, HttpResponse};

use super::public::{cached, respond};
use super::AppError;
use crate::render::statuspage as sp;
use crate::state::AppState;
use crate::store;

/// How many incidents `incidents.json` lists, as Statuspage does.
const RECENT: u64 = 50;

const JSON: &str = "application/json";

/// Serves a cached JSON body that any origin may read.
async fn serve<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    key: &str,
    build: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<String, AppError>>,
{
    let page = cached(req, state, format!("{key}|api"), JSON, build).await?;
    Ok(public_read(respond(req, page, None)))
}

/// Marks a public read as readable from any origin: nothing in it depends on who asks.
pub fn public_read(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    res
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, AppError> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.into()))
}

/// The page, its overall status, every component and the unresolved incidents.
#[utoipa::path(get, path = "/api/v2/summary.json", tag = "v2",
    responses((status = 200, description = "Summary of the page", body = sp::Summary)))]
#[get("/api/v2/summary.json")]
pub async fn summary(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    serve(&req, &state, "/api/v2/summary.json", || {
        document(&state.db, &state.page, Document::Summary, store::now())
    })
    .await
}

/// The page and its overall status.
#[utoipa::path(get, path = "/api/v2/status.json", tag = "v2",
    responses((status = 200, description = "Overall status", body = sp::StatusDocument)))]
#[get("/api/v2/status.json")]
pub async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    serve(&req, &state, "/api/v2/status.json", || {
        document(&state.db, &state.page, Document::Status, store::now())
    })
    .await
}

/// Every component and component group.
#[utoipa::path(get, path = "/api/v2/components.json", tag = "v2",
    responses((status = 200, description = "Components", body = sp::ComponentsDocument)))]
#[get("/api/v2/components.json")]
pub async fn components(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    serve(&req, &state, "/api/v2/components.json", || {
        document(&state.db, &state.page, Document::Components, store::now())
    })
    .await
}

/// The 50 most recent incidents, newest first.
#[utoipa::path(get, path = "/api/v2/incidents.json", tag = "v2",
    responses((status = 200, description = "Recent incidents", body = sp::IncidentsDocument)))]
#[get("/api/v2/incidents.json")]
pub async fn incidents(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    serve(&req, &state, "/api/v2/incidents.json", || {
        document(&state.db, &state.page, Document::Incidents, store::now())
    })
    .await
}

/// Incidents not yet resolved, newest first.
#[utoipa::path(get, path = "/api/v2/incidents/unresolved.json", tag = "v2",
    responses((status = 200, description = "Unresolved incidents", body = sp::IncidentsDocument)))]
#[get("/api/v2/incidents/unresolved.json")]
pub async fn unresolved(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    serve(&req, &state, "/api/v2/incidents/unresolved.json", || {
        document(&state.db, &state.page, Document::Unresolved, store::now())
    })
    .await
}

/// The documents of the read API that read the page's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    Summary,
    Status,
    Components,
    Incidents,
    Unresolved,
    Maintenances,
    UpcomingMaintenances,
    ActiveMaintenances,
}

impl Document {
    /// The documents a backup records digests of.
    pub const ALL: [Self; 5] = [
        Self::Summary,
        Self::Status,
        Self::Components,
        Self::Incidents,
        Self::Unresolved,
    ];
    /// Every document, as a static copy holds them.
    pub const EVERY: [Self; 8] = [
        Self::Summary,
        Self::Status,
        Self::Components,
        Self::Incidents,
        Self::Unresolved,
        Self::Maintenances,
        Self::UpcomingMaintenances,
        Self::ActiveMaintenances,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Self::Summary => "/api/v2/summary.json",
            Self::Status => "/api/v2/status.json",
            Self::Components => "/api/v2/components.json",
            Self::Incidents => "/api/v2/incidents.json",
            Self::Unresolved => "/api/v2/incidents/unresolved.json",
            Self::Maintenances => "/api/v2/scheduled-maintenances.json",
            Self::UpcomingMaintenances => "/api/v2/scheduled-maintenances/upcoming.json",
            Self::ActiveMaintenances => "/api/v2/scheduled-maintenances/active.json",
        }
    }
}

/// A document's body from `db` as at `now`: what its path serves, and what a
/// backup's digest is taken of.
pub async fn document(
    db: &impl sea_orm::ConnectionTrait,
    info: &sp::PageInfo,
    which: Document,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, AppError> {
    let comps = store::components::list(db).await?;
    match which {
        Document::Summary => {
            let open = store::incidents::unresolved(db).await?;
            to_json(&sp::summary(info, &comps, &open, now))
        }
        Document::Status => {
            let open = store::incidents::unresolved(db).await?;
            to_json(&sp::StatusDocument {
                page: sp::page(info, sp::last_change(&comps, &open, now)),
                status: sp::status(&comps),
            })
        }
        Document::Components => {
            let open = store::incidents::unresolved(db).await?;
            to_json(&sp::ComponentsDocument {
                page: sp::page(info, sp::last_change(&comps, &open, now)),
                components: sp::components(info, &comps),
            })
        }
        Document::Incidents | Document::Unresolved => {
            // Scheduled maintenances are listed apart, as Statuspage does.
            let list = if which == Document::Incidents {
                store::incidents::recent_incidents(db, RECENT).await?
            } else {
                let mut open = store::incidents::unresolved(db).await?;
                open.retain(|i| !i.is_maintenance());
                open
            };
            to_json(&sp::IncidentsDocument {
                page: sp::page(info, sp::last_change(&comps, &list, now)),
                incidents: list.iter().map(|i| sp::incident(info, i, &comps)).collect(),
            })
        }
        Document::Maintenances | Document::UpcomingMaintenances | Document::ActiveMaintenances => {
            let open = store::incidents::unresolved(db).await?;
            let all;
            let list: Vec<&store::incidents::IncidentView> = match which {
                Document::Maintenances => {
                    all = store::maintenance::all(db, RECENT).await?;
                    all.iter().collect()
                }
                Document::UpcomingMaintenances => store::maintenance::upcoming(&open),
                _ => store::maintenance::active(&open),
            };
            let owned: Vec<store::incidents::IncidentView> =
                list.iter().map(|i| (*i).clone()).collect();
            to_json(&sp::MaintenancesDocument {
                page: sp::page(info, sp::last_change(&comps, &owned, now)),
                scheduled_maintenances: list
                    .iter()
                    .map(|i| sp::incident(info, i, &comps))
                    .collect(),
            })
        }
    }
}

async fn maintenances(
    req: &HttpRequest,
    state: &AppState,
    which: Document,
) -> Result<HttpResponse, AppError> {
    serve(req, state, which.path(), || {
        document(&state.db, &state.page, which, store::now())
    })
    .await
}

/// The 50 scheduled maintenances with the latest windows, newest first.
#[utoipa::path(get, path = "/api/v2/scheduled-maintenances.json", tag = "v2",
    responses((status = 200, description = "Scheduled maintenances", body = sp::MaintenancesDocument)))]
#[get("/api/v2/scheduled-maintenances.json")]
pub async fn scheduled_maintenances(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    maintenances(&req, &state, Document::Maintenances).await
}

/// Maintenances still to start, soonest first.
#[utoipa::path(get, path = "/api/v2/scheduled-maintenances/upcoming.json", tag = "v2",
    responses((status = 200, description = "Upcoming maintenances", body = sp::MaintenancesDocument)))]
#[get("/api/v2/scheduled-maintenances/upcoming.json")]
pub async fn upcoming_maintenances(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    maintenances(&req, &state, Document::UpcomingMaintenances).await
}

/// Maintenances in progress or being verified.
#[utoipa::path(get, path = "/api/v2/scheduled-maintenances/active.json", tag = "v2",
    responses((status = 200, description = "Active maintenances", body = sp::MaintenancesDocument)))]
#[get("/api/v2/scheduled-maintenances/active.json")]
pub async fn active_maintenances(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    maintenances(&req, &state, Document::ActiveMaintenances).await
}

/// The OpenAPI 3 document of the read and write APIs.
#[get("/api/openapi.json")]
pub async fn openapi() -> HttpResponse {
    public_read(
        HttpResponse::Ok()
            .content_type("application/json")
            .body(crate::web::openapi::json()),
    )
}
