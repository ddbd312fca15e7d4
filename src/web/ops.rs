//! For the operator's tools: `/ready`, whether this instance can do its job.
use actix_web::{get, web, HttpResponse};
use migration::MigratorTrait;
use serde_json::json;

use crate::state::AppState;
use crate::store;

/// A worker silent for this many leases is taken for dead: its heartbeat
/// comes three times a lease, so one missed beat is not enough.
const SILENT_LEASES: i32 = 3;

/// How long a worker may be silent before it is taken for dead.
fn silent_for(state: &AppState) -> std::time::Duration {
    state.settings.worker_lease * SILENT_LEASES as u32
}

/// The workers, in any process, heard from within [`silent_for`].
async fn alive_workers(
    state: &AppState,
) -> Result<Vec<crate::entity::worker_heartbeat::Model>, sea_orm::DbErr> {
    let since = store::now()
        - chrono::Duration::from_std(silent_for(state)).unwrap_or(chrono::Duration::minutes(5));
    store::workers::alive_since(&state.db, since).await
}

/// 200 when the database answers, its schema is current and some delivery
/// worker (in this process or another) has beaten recently; else 503, with
/// what failed. `/health` stays the cheap liveness check.
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let db = &state.db;
    let database = match sea_orm::ConnectionTrait::execute_unprepared(db, "SELECT 1").await {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("the database does not answer: {e}")),
    };
    let migrations = match migration::Migrator::get_pending_migrations(db).await {
        Ok(p) if p.is_empty() => Ok(()),
        Ok(p) => Err(format!(
            "{} migration(s) not applied: run `statuspost migrate`",
            p.len()
        )),
        Err(e) => Err(format!("cannot read the schema version: {e}")),
    };
    let worker = match alive_workers(&state).await {
        Ok(alive) if !alive.is_empty() => Ok(alive.len()),
        Ok(_) => Err(format!(
            "no delivery worker has reported in the last {} s",
            silent_for(&state).as_secs()
        )),
        Err(e) => Err(format!("cannot read the workers' heartbeats: {e}")),
    };
    let ok = database.is_ok() && migrations.is_ok() && worker.is_ok();
    let word = |r: Result<(), String>| r.map_or_else(|e| e, |()| "ok".to_owned());
    let body = json!({
        "ready": ok,
        "database": word(database),
        "migrations": word(migrations),
        "workers": match worker {
            Ok(n) => json!(n),
            Err(e) => json!(e),
        },
    });
    let mut res = if ok {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    res.insert_header(("Cache-Control", "no-store")).json(body)
}

/// Who may read `/metrics`: with `STATUSPOST_METRICS_TOKEN` set, a request
/// bearing it; without, only a client on this host that did not come through
/// a proxy (a proxy on the same host would otherwise make everyone local).
fn may_scrape(
    req: &actix_web::HttpRequest,
    token: Option<&secrecy::SecretString>,
) -> Result<(), super::AppError> {
    use secrecy::ExposeSecret;
    use subtle::ConstantTimeEq;
    let refused = || {
        super::AppError::Forbidden(
            "Metrics are for this host only; set STATUSPOST_METRICS_TOKEN to scrape from elsewhere."
                .into(),
        )
    };
    match token {
        Some(token) => {
            let given = req
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            let expected = token.expose_secret().as_bytes();
            if bool::from(given.as_bytes().ct_eq(expected)) {
                Ok(())
            } else {
                Err(super::AppError::Forbidden(
                    "Send the metrics token as Authorization: Bearer TOKEN.".into(),
                ))
            }
        }
        None => {
            let local = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
            let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
                .iter()
                .any(|h| req.headers().contains_key(*h));
            if local && !proxied {
                Ok(())
            } else {
                Err(refused())
            }
        }
    }
}

/// `GET /metrics`, Prometheus' text format. The queue and the workers are
/// read from the database at each scrape, so every instance reports the
/// whole picture; counters and histograms are this process's own.
#[get("/metrics")]
pub async fn metrics(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, super::AppError> {
    may_scrape(&req, state.settings.metrics_token.as_ref())?;
    let queue = store::deliveries::queue(&state.db).await?;
    let now = store::now();
    let age = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
    };
    ::metrics::gauge!("statuspost_deliveries_pending").set(queue.pending as f64);
    ::metrics::gauge!("statuspost_events_unexpanded").set(queue.unexpanded as f64);
    ::metrics::gauge!("statuspost_oldest_pending_delivery_age_seconds").set(age(queue.oldest));
    let alive = alive_workers(&state).await?;
    ::metrics::gauge!("statuspost_workers_alive").set(alive.len() as f64);
    ::metrics::gauge!("statuspost_worker_last_heartbeat_age_seconds")
        .set(age(alive.iter().map(|w| w.beat_at).max()));
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(crate::prometheus::handle().render()))
}

/// Counts each request by route pattern (never the raw path: ids and tokens
/// would make a series each) and status, and times it.
pub async fn measure(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let began = std::time::Instant::now();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    // A hostile client may send any method token: only the usual ones are labels.
    let method: &'static str = match req.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let res = next.call(req).await?;
    let status = res.status().as_u16().to_string();
    ::metrics::counter!(
        "statuspost_http_requests_total",
        "route" => route.clone(),
        "method" => method,
        "status" => status
    )
    .increment(1);
    ::metrics::histogram!("statuspost_http_request_duration_seconds", "route" => route)
        .record(began.elapsed().as_secs_f64());
    Ok(res)
}
