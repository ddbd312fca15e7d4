//! API tokens (admins only): create one, see it once, revoke it.
use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};

use super::{context, page, see_other};
use crate::render::time;
use crate::state::AppState;
use crate::store::{self, api_tokens::Scope};
use crate::web::{
    auth, csrf,
    form::{FieldErrors, FormData},
    AppError,
};

/// What the page shows after a submit: the new token once, or the refused form.
enum Outcome<'a> {
    None,
    Created(String, String),
    Refused(&'a FormData, FieldErrors, &'a str),
}

async fn render(
    state: &AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
    outcome: Outcome<'_>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut ctx = context(Some(me), token, state);
    let tz = state.page.zone.tz();
    let staff = store::staff::list(&state.db).await?;
    let tokens: Vec<_> = store::api_tokens::list(&state.db)
        .await?
        .into_iter()
        .map(|t| {
            let owner = staff.iter().find(|s| s.id == t.created_by);
            let by = owner.map(|s| s.name.clone()).unwrap_or_default();
            let suspended = !owner.is_some_and(store::api_tokens::owner_may_use);
            serde_json::json!({
                "id": t.id,
                "name": t.name,
                "scope": t.scope,
                "created_by": by,
                "created_at": time::date_time(t.created_at, tz),
                "last_used_at": t.last_used_at.map(|at| time::date_time(at, tz)),
                "revoked_at": t.revoked_at.map(|at| time::date_time(at, tz)),
                "suspended": suspended,
            })
        })
        .collect();
    ctx.insert("tokens", &tokens);
    ctx.insert("form", &serde_json::json!({ "scope": "write" }));
    match outcome {
        Outcome::None => {}
        Outcome::Created(name, secret) => {
            ctx.insert("new_token", &secret);
            ctx.insert("new_token_name", &name);
        }
        Outcome::Refused(form, errors, message) => {
            ctx.insert("form", &form.values);
            ctx.insert("errors", &errors.0);
            ctx.insert("error", message);
        }
    }
    let mut res = page(state, "admin/tokens.html", &ctx, status)?;
    // The page may carry a secret: never keep it anywhere.
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

#[get("/tokens")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Admin,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    render(&state, &me.0, &token, Outcome::None, StatusCode::OK).await
}

#[post("/tokens")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: auth::Admin,
    token: csrf::CsrfToken,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?.without(&[csrf::FIELD]);
    let raw = FormData::parse(&body)?;
    if !csrf::is_valid(&req, raw.get(csrf::FIELD)) {
        let outcome = Outcome::Refused(&form, FieldErrors::default(), csrf::STALE_MESSAGE);
        return render(&state, &me.0, &token, outcome, StatusCode::FORBIDDEN).await;
    }
    let mut errors = FieldErrors::default();
    let name = form.get("name").trim();
    if name.is_empty() {
        errors.add(
            "name",
            "Name the token after who or what uses it, e.g. \"deploy script\".",
        );
    } else if name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.add("name", "A name is one line of 100 characters at most.");
    }
    let scope = errors.check("scope", Scope::parse(form.get("scope")));
    let Some(scope) = scope.filter(|_| errors.is_empty()) else {
        let outcome = Outcome::Refused(
            &form,
            errors,
            "No token was created: please fix the fields marked below.",
        );
        return render(
            &state,
            &me.0,
            &token,
            outcome,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let (model, secret) = store::api_tokens::create(&state.db, name, scope, me.0.id).await?;
    tracing::info!(
        token = model.id,
        staff = me.0.id,
        scope = scope.as_str(),
        "API token created"
    );
    render(
        &state,
        &me.0,
        &token,
        Outcome::Created(model.name, secret),
        StatusCode::OK,
    )
    .await
}

#[post("/tokens/{id}/revoke")]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: auth::Admin,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        let empty = FormData::default();
        let outcome = Outcome::Refused(&empty, FieldErrors::default(), csrf::STALE_MESSAGE);
        return render(&state, &me.0, &token, outcome, StatusCode::FORBIDDEN).await;
    }
    let id = id.into_inner();
    if !store::api_tokens::revoke(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(token = id, staff = me.0.id, "API token revoked");
    Ok(see_other("/admin/tokens"))
}
