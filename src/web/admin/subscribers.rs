//! Subscribers for staff: list and search, add, remove, rotate a webhook's
//! secret (shown once), export as CSV.
use std::collections::HashMap;

use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};

use super::{context, page, see_other};
use crate::domain::{EmailAddress, WebhookUrl};
use crate::notify::ssrf;
use crate::render::{time, views};
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::web::{
    auth, csrf,
    form::{FieldErrors, FormData},
    AppError,
};

const PER_PAGE: u64 = 50;

#[derive(serde::Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<String>,
}

/// What the page shows besides the list: a failed add form, or a secret once.
#[derive(Default)]
struct Extra<'a> {
    failed: Option<(&'a FormData, FieldErrors, &'a str)>,
    secret: Option<(String, String)>,
    notice: Option<String>,
}

fn chosen_components(form: &FormData) -> Vec<i32> {
    form.pairs
        .iter()
        .filter(|(k, _)| k == "components")
        .filter_map(|(_, v)| v.trim().parse().ok())
        .collect()
}

async fn render(
    state: &AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
    query: &str,
    page_no: u64,
    extra: Extra<'_>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut ctx = context(Some(me), token, state);
    let components = store::components::list(&state.db).await?;
    let names: HashMap<i32, String> = components
        .iter()
        .map(|c| (c.model.id, c.model.name.clone()))
        .collect();
    ctx.insert("components", &views::components(&components));
    let (list, total) =
        store::subscribers::search(&state.db, query, page_no.saturating_sub(1), PER_PAGE).await?;
    let tz = state.page.zone.tz();
    let rows: Vec<_> = list
        .iter()
        .map(|s| {
            let comps: Vec<&str> = s
                .components
                .iter()
                .filter_map(|id| names.get(id).map(String::as_str))
                .collect();
            serde_json::json!({
                "id": s.model.id,
                "kind": s.model.kind,
                "email": s.model.email,
                "webhook_url": s.model.webhook_url,
                "state": s.state(),
                "disabled_reason": s.model.disabled_reason,
                "components": comps,
                "created": time::date_time(s.model.created_at, tz),
                "created_iso": time::iso(s.model.created_at, tz),
            })
        })
        .collect();
    ctx.insert("subscribers", &rows);
    ctx.insert("total", &total);
    ctx.insert(
        "active",
        &store::subscribers::count_active(&state.db).await?,
    );
    ctx.insert("q", query);
    ctx.insert("q_param", &urlencoding::encode(query));
    ctx.insert("page", &page_no);
    ctx.insert("pages", &total.div_ceil(PER_PAGE).max(1));
    let mut chosen = Vec::new();
    if let Some((form, errors, message)) = extra.failed {
        ctx.insert("form", &form.values);
        ctx.insert("errors", &errors.0);
        ctx.insert("error", message);
        chosen = chosen_components(form);
    }
    ctx.insert("chosen", &chosen);
    if let Some((url, secret)) = extra.secret {
        ctx.insert("secret_url", &url);
        ctx.insert("secret", &secret);
    }
    if let Some(n) = extra.notice {
        ctx.insert("notice", &n);
    }
    page(state, "admin/subscribers.html", &ctx, status)
}

#[get("/subscribers")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    // A NUL cannot match anything stored, and PostgreSQL refuses it in a query.
    let query = q.q.clone().unwrap_or_default().replace('\0', "");
    let page_no = crate::domain::page_number(q.page.as_deref());
    render(
        &state,
        &me.0,
        &token,
        &query,
        page_no,
        Extra::default(),
        StatusCode::OK,
    )
    .await
}

/// Staff add an email subscriber (confirmed at once) or, when a webhook URL is
/// given, a webhook whose secret the next page shows once.
#[post("/subscribers")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    let fail = |errors: FieldErrors, message: &'static str, status: StatusCode| {
        let (state, me, token, form) = (&state, &me, &token, &form);
        async move {
            render(
                state,
                &me.0,
                token,
                "",
                1,
                Extra {
                    failed: Some((form, errors, message)),
                    ..Default::default()
                },
                status,
            )
            .await
        }
    };
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        return fail(
            FieldErrors::default(),
            csrf::STALE_MESSAGE,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    const NOT_ADDED: &str = "The subscriber was not added: please fix the fields marked below.";
    let mut errors = FieldErrors::default();
    let email = errors.check("email", EmailAddress::parse(form.get("email")));
    let url = match form.get("webhook_url").trim() {
        "" => Some(None),
        u => {
            let url = match WebhookUrl::parse(u) {
                Ok(u) => ssrf::deliverable(u, state.settings.webhook_allow_private).await,
                Err(e) => Err(e),
            };
            errors.check("webhook_url", url).map(Some)
        }
    };
    let (Some(email), Some(url)) = (email, url) else {
        return fail(errors, NOT_ADDED, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let components = chosen_components(&form);
    let result = match &url {
        None => store::subscribers::add_confirmed_email(&state.db, &email, &components)
            .await
            .map(|_| None),
        Some(url) => store::subscribers::subscribe_webhook(&state.db, url, &email, &components)
            .await
            .map(|(_, secret)| Some(secret)),
    };
    match result {
        Ok(None) => Ok(see_other("/admin/subscribers")),
        Ok(Some(secret)) => {
            let url = url.map(|u| u.as_str().to_owned()).unwrap_or_default();
            render(
                &state,
                &me.0,
                &token,
                "",
                1,
                Extra {
                    secret: Some((url, secret)),
                    ..Default::default()
                },
                StatusCode::OK,
            )
            .await
        }
        Err(StoreError::Conflict { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            fail(errors, NOT_ADDED, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

#[post("/subscribers/{id}/delete")]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    _me: auth::Staff,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        return Err(AppError::Forbidden(csrf::STALE_MESSAGE.into()));
    }
    store::subscribers::remove(&state.db, id.into_inner()).await?;
    Ok(see_other("/admin/subscribers"))
}

/// A new signing secret for a webhook, shown on the page this once.
#[post("/subscribers/{id}/rotate")]
pub async fn rotate(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        return Err(AppError::Forbidden(csrf::STALE_MESSAGE.into()));
    }
    let id = id.into_inner();
    let secret = store::subscribers::rotate_secret(&state.db, id).await?;
    let url = store::subscribers::find(&state.db, id)
        .await?
        .and_then(|s| s.model.webhook_url)
        .unwrap_or_default();
    tracing::info!(staff = me.0.id, subscriber = id, "webhook secret rotated");
    render(
        &state,
        &me.0,
        &token,
        "",
        1,
        Extra {
            secret: Some((url, secret)),
            notice: Some("The old secret no longer signs anything.".into()),
            ..Default::default()
        },
        StatusCode::OK,
    )
    .await
}

#[get("/subscribers.csv")]
pub async fn export(state: web::Data<AppState>, me: auth::Staff) -> Result<HttpResponse, AppError> {
    let all = store::subscribers::all(&state.db).await?;
    let names: HashMap<i32, String> = store::components::list(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.model.id, c.model.name))
        .collect();
    tracing::info!(staff = me.0.id, rows = all.len(), "subscribers exported");
    let body = crate::subscriber_csv::export(&all, &names);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"subscribers.csv\"",
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}
