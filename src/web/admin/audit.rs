//! The audit log for admins: `/admin/audit`, newest first, and its CSV export.
use actix_web::{get, http::StatusCode, web, HttpResponse};

use super::AdminPage;
use crate::render::time;
use crate::state::AppState;
use crate::store;
use crate::web::{auth, csrf, AppError};

const PER_PAGE: u64 = 100;

#[derive(serde::Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

#[get("/audit")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Admin,
    token: csrf::CsrfToken,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let n = crate::domain::page_number(q.page.as_deref());
    let (rows, pages) = store::audit::page(&state.db, n, PER_PAGE).await?;
    let tz = state.page.zone().tz();
    let entries: Vec<_> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "at": time::date_time(r.at, tz),
                "iso": time::iso(r.at, tz),
                "actor": r.actor_name,
                "actor_kind": r.actor_kind,
                "action": r.action,
                "subject": format!("{} {}", r.subject_kind, r.subject_id.map(|i| i.to_string()).unwrap_or_default()).trim().to_owned(),
                "subject_link": (r.subject_kind == "incident").then(|| r.subject_id.map(|i| format!("/admin/incidents/{i}"))).flatten(),
                "summary": r.summary,
                "before": r.before,
                "after": r.after,
            })
        })
        .collect();
    AdminPage::new(&state, "admin/audit.html", Some(&me.0), &token)
        .insert("entries", &entries)
        .insert("page", &n)
        .insert("pages", &pages)
        .render(StatusCode::OK)
}

/// The export's columns.
const CSV_HEADER: [&str; 10] = [
    "id",
    "at",
    "actor_kind",
    "actor_name",
    "action",
    "subject_kind",
    "subject_id",
    "summary",
    "before",
    "after",
];

#[get("/audit.csv")]
pub async fn export(state: web::Data<AppState>, me: auth::Admin) -> Result<HttpResponse, AppError> {
    use crate::subscriber_csv::safe_cell;
    let rows = store::audit::all(&state.db).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER).expect("csv to memory");
    for r in &rows {
        w.write_record([
            r.id.to_string(),
            r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            r.actor_kind.clone(),
            safe_cell(&r.actor_name),
            r.action.clone(),
            r.subject_kind.clone(),
            r.subject_id.map(|i| i.to_string()).unwrap_or_default(),
            safe_cell(&r.summary),
            safe_cell(r.before.as_deref().unwrap_or_default()),
            safe_cell(r.after.as_deref().unwrap_or_default()),
        ])
        .expect("csv to memory");
    }
    tracing::info!(staff = me.0.id, rows = rows.len(), "audit log exported");
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"audit.csv\""))
        .insert_header(("Cache-Control", "no-store"))
        .body(w.into_inner().expect("csv to memory")))
}
