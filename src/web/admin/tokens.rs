//! API tokens (admins only): create one, see it once, revoke it.
use actix_web::{get, http::StatusCode, post, web, HttpResponse};

use super::{
    notice::{see_other_done, Done, Notice},
    AdminPage,
};
use crate::domain::{TokenName, TokenScope};
use crate::render::time;
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{self, api_tokens::TokenView};
use crate::web::audit;
use crate::web::{
    auth, csrf,
    form::{CheckedForm, FieldErrors, FormData, Stale},
    AppError,
};

/// The tokens page: every token, and the form that creates one.
async fn listing<'a>(
    state: &'a AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
) -> Result<AdminPage<'a>, AppError> {
    let mut page = AdminPage::new(state, "admin/tokens.html", Some(me), token);
    let tz = state.page.zone().tz();
    let staff = store::staff::list(&state.db).await?;
    let tokens: Vec<_> = store::api_tokens::list(&state.db)
        .await?
        .into_iter()
        .map(|TokenView { model: t, scope }| {
            let owner = staff.iter().find(|s| s.id == t.created_by);
            let by = owner.map(|s| s.name.clone()).unwrap_or_default();
            let suspended = !owner.is_some_and(store::api_tokens::owner_may_use);
            serde_json::json!({
                "id": t.id,
                "name": t.name,
                "scope": scope.as_str(),
                "created_by": by,
                "created_at": time::date_time(t.created_at, tz),
                "last_used_at": t.last_used_at.map(|at| time::date_time(at, tz)),
                "revoked_at": t.revoked_at.map(|at| time::date_time(at, tz)),
                "suspended": suspended,
            })
        })
        .collect();
    page.insert("tokens", &tokens)
        .insert("form", &serde_json::json!({ "scope": "write" }));
    Ok(page)
}

#[get("/tokens")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Admin,
    token: csrf::CsrfToken,
    notice: Notice,
) -> Result<HttpResponse, AppError> {
    listing(&state, &me.0, &token)
        .await?
        .notice(notice)
        .render(StatusCode::OK)
}

#[post("/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Admin>,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    let form = match fields {
        Ok(form) => form,
        Err(stale) => return listing(&state, &me.0, &token).await?.stale(&stale),
    };
    let mut errors = FieldErrors::default();
    let name = errors.check("name", TokenName::parse(form.get("name")));
    let scope = errors.check("scope", TokenScope::parse(form.get("scope")));
    let (Some(name), Some(scope)) = (name, scope) else {
        return listing(&state, &me.0, &token)
            .await?
            .refused(
                &form,
                &errors,
                "No token was created: please fix the fields marked below.",
            )
            .render(StatusCode::UNPROCESSABLE_ENTITY);
    };
    let (model, secret) = store::api_tokens::create(&state.db, &name, scope, me.0.id).await?;
    tracing::info!(
        token = model.id,
        staff = me.0.id,
        scope = scope.as_str(),
        "API token created"
    );
    audit::record(
        &state,
        &Actor::staff(&me.0),
        "token.create",
        Subject::new("token", model.id),
        format!("Created the {} token {}", scope.as_str(), model.name),
        None,
        Some(serde_json::json!({ "id": model.id, "name": model.name, "scope": scope.as_str() })),
    )
    .await;
    listing(&state, &me.0, &token)
        .await?
        .insert("new_token", &secret)
        .insert("new_token_name", &model.name)
        .render(StatusCode::OK)
}

#[post("/tokens/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Admin>,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    if fields.is_err() {
        // What a revoke button sent is no text for the create form.
        let nothing_typed = Stale(FormData::default());
        return listing(&state, &me.0, &token).await?.stale(&nothing_typed);
    }
    let id = id.into_inner();
    if !store::api_tokens::revoke(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(token = id, staff = me.0.id, "API token revoked");
    audit::record(
        &state,
        &Actor::staff(&me.0),
        "token.revoke",
        Subject::new("token", id),
        "Revoked the token",
        None,
        None,
    )
    .await;
    Ok(see_other_done("/admin/tokens", Done::TokenRevoked))
}
