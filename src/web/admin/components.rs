//! Managing components: add, rename, group, order, set status.
use actix_web::{get, http::StatusCode, post, web, HttpResponse};

use super::{
    notice::{see_other_done, Done, Notice},
    AdminPage,
};
use crate::domain::{ComponentName, ComponentStatus};
use crate::render::views;
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{
    self,
    components::{ComponentInput, UptimeDisplay},
};
use crate::web::audit;
use crate::web::{
    auth, csrf,
    form::{CheckedForm, FieldErrors, FormData},
    AppError,
};

/// The bars' fields of a component's form: shown when ticked, counted from
/// a day that is not in the future (empty: since the component was added).
fn uptime_display(
    form: &FormData,
    state: &AppState,
    errors: &mut FieldErrors,
) -> Option<UptimeDisplay> {
    let start = match form.get("uptime_start").trim() {
        "" => Some(None),
        d => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(date) if chrono::Datelike::year(&date) < crate::domain::EARLIEST_YEAR => {
                errors.add(
                    "uptime_start",
                    format!(
                        "The date must be in {} or later.",
                        crate::domain::EARLIEST_YEAR
                    ),
                );
                None
            }
            Ok(date)
                if date > crate::render::uptime::today(store::now(), state.page.zone().tz()) =>
            {
                errors.add("uptime_start", "The date cannot be in the future.");
                None
            }
            Ok(date) => Some(Some(date)),
            Err(_) => {
                errors.add(
                    "uptime_start",
                    "Enter a date like 2026-09-01, or leave it empty.",
                );
                None
            }
        },
    };
    Some(UptimeDisplay {
        show: form.has("show_uptime"),
        start: start?,
    })
}

fn parse(form: &FormData, errors: &mut FieldErrors) -> Option<ComponentInput> {
    let name = errors.check("name", ComponentName::parse(form.get("name")));
    let group = match form.get("group").trim() {
        "" => Some(None),
        g => errors.check("group", ComponentName::parse(g)).map(Some),
    };
    let status = errors.check("status", ComponentStatus::parse(form.get("status")));
    let position = match form.get("position").trim() {
        "" => Some(0),
        p => match p.parse::<i32>() {
            Ok(n) if (0..=10_000).contains(&n) => Some(n),
            _ => {
                errors.add("position", "Enter a whole number from 0 to 10000.");
                None
            }
        },
    };
    let description = form.get("description").trim().to_owned();
    if description.chars().count() > 500 {
        errors.add("description", "A description is 500 characters at most.");
    }
    Some(ComponentInput {
        name: name?,
        description,
        group: group?,
        position: position?,
        status: status?,
        uptime: None,
    })
    .filter(|_| errors.is_empty())
}

/// The components page: every component, each with its own form, and the
/// form that adds one.
async fn listing<'a>(
    state: &'a AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
) -> Result<AdminPage<'a>, AppError> {
    let mut page = AdminPage::new(state, "admin/components.html", Some(me), token);
    let list = store::components::list(&state.db).await?;
    let statuses: Vec<_> = ComponentStatus::ALL
        .iter()
        .map(|s| serde_json::json!({ "value": s.as_str(), "label": s.label() }))
        .collect();
    // Beside each component of `components`, in the same order.
    let uptime: Vec<_> = list
        .iter()
        .map(|c| {
            serde_json::json!({
                "show": c.model.show_uptime,
                "start": c.model.uptime_start.map(|d| d.to_string()).unwrap_or_default(),
            })
        })
        .collect();
    page.insert("components", &views::components(&list))
        .insert("components_uptime", &uptime)
        .insert("page_zone", state.page.zone().name())
        .insert("component_statuses", &statuses);
    Ok(page)
}

/// The page with the form that failed open: component `id`'s, or with None
/// the one that adds a component.
async fn failed<'a>(
    state: &'a AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
    id: Option<i32>,
) -> Result<AdminPage<'a>, AppError> {
    let mut page = listing(state, me, token).await?;
    page.insert("failed_id", &id);
    Ok(page)
}

#[get("/components")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    notice: Notice,
) -> Result<HttpResponse, AppError> {
    listing(&state, &me.0, &token)
        .await?
        .notice(notice)
        .render(StatusCode::OK)
}

#[post("/components")]
pub async fn create(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Staff>,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    let form = match fields {
        Ok(form) => form,
        Err(stale) => return failed(&state, &me.0, &token, None).await?.stale(&stale),
    };
    let mut errors = FieldErrors::default();
    match parse(&form, &mut errors) {
        Some(input) => {
            let made = store::components::create(&state.db, input).await?;
            state.published();
            audit::record(
                &state,
                &Actor::staff(&me.0),
                "component.create",
                Subject::new("component", made.id),
                format!("Added the component {}", made.name),
                None,
                audit::component(&state, made.id).await,
            )
            .await;
            Ok(see_other_done("/admin/components", Done::ComponentAdded))
        }
        None => failed(&state, &me.0, &token, None)
            .await?
            .refused(
                &form,
                &errors,
                "The component was not added: please fix the fields marked below.",
            )
            .render(StatusCode::UNPROCESSABLE_ENTITY),
    }
}

#[post("/components/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Staff>,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = match fields {
        Ok(form) => form,
        Err(stale) => return failed(&state, &me.0, &token, Some(id)).await?.stale(&stale),
    };
    let mut errors = FieldErrors::default();
    let uptime = uptime_display(&form, &state, &mut errors);
    match parse(&form, &mut errors).filter(|_| uptime.is_some()) {
        Some(input) => {
            let input = ComponentInput { uptime, ..input };
            let before = audit::component(&state, id).await;
            store::components::update(&state.db, id, input, form.has("notify")).await?;
            state.published();
            audit::record(
                &state,
                &Actor::staff(&me.0),
                "component.update",
                Subject::new("component", id),
                "Saved the component",
                before,
                audit::component(&state, id).await,
            )
            .await;
            Ok(see_other_done("/admin/components", Done::ComponentSaved))
        }
        None => failed(&state, &me.0, &token, Some(id))
            .await?
            .refused(
                &form,
                &errors,
                "The component was not saved: please fix the fields marked below.",
            )
            .render(StatusCode::UNPROCESSABLE_ENTITY),
    }
}

/// What deleting a component means, asked before it is done: the list's
/// Delete leads here, and only this page's button deletes.
#[get("/components/{id}/delete")]
pub async fn confirm_delete(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let c = store::components::find(&state.db, id.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    let meaning = [
        "It leaves the public page, its uptime bars and the status APIs at once, and subscribers can no longer choose it.".to_owned(),
        "Past incidents keep naming it, and no one is notified of the deletion.".to_owned(),
        "There is no undo here: to show it again, add it anew.".to_owned(),
    ];
    AdminPage::new(&state, "admin/confirm_delete.html", Some(&me.0), &token)
        .insert("title", &format!("Delete {}?", c.name))
        .insert("heading", &format!("Delete the component “{}”?", c.name))
        .insert("meaning", &meaning)
        .insert("action", &format!("/admin/components/{}/delete", c.id))
        .insert("button", &format!("Delete {}", c.name))
        .insert("back", "/admin/components")
        .render(StatusCode::OK)
}

#[post("/components/{id}/delete")]
pub async fn delete(
    state: web::Data<AppState>,
    form: CheckedForm<auth::Staff>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    form.fields?;
    let id = id.into_inner();
    let before = audit::component(&state, id).await;
    store::components::delete(&state.db, id).await?;
    state.published();
    audit::record(
        &state,
        &Actor::staff(&form.who.0),
        "component.delete",
        Subject::new("component", id),
        "Deleted the component",
        before,
        None,
    )
    .await;
    Ok(see_other_done("/admin/components", Done::ComponentDeleted))
}
