//! Subscribers for staff: list and search, add, remove, rotate a webhook's
//! secret (shown once), export as CSV.
use std::collections::HashMap;

use actix_web::{get, http::StatusCode, post, web, HttpResponse};

use super::{
    notice::{see_other_done, Done, Notice},
    AdminPage,
};
use crate::domain::{EmailAddress, WebhookUrl};
use crate::notify::ssrf;
use crate::render::{time, views};
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{self, StoreError};
use crate::web::audit;
use crate::web::{
    auth, csrf,
    form::{CheckedForm, FieldErrors, FormData, Stale},
    AppError,
};

const PER_PAGE: u64 = 50;

#[derive(serde::Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<String>,
}

fn chosen_components(form: &FormData) -> Vec<i32> {
    form.pairs
        .iter()
        .filter(|(k, _)| k == "components")
        .filter_map(|(_, v)| v.trim().parse().ok())
        .collect()
}

/// The subscribers page: the list, searched by `query`, at page `page_no`, and
/// the form that adds one.
async fn listing<'a>(
    state: &'a AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
    query: &str,
    page_no: u64,
) -> Result<AdminPage<'a>, AppError> {
    let mut page = AdminPage::new(state, "admin/subscribers.html", Some(me), token);
    let components = store::components::list(&state.db).await?;
    let names: HashMap<i32, String> = components
        .iter()
        .map(|c| (c.model.id, c.model.name.clone()))
        .collect();
    page.insert("components", &views::components(&components));
    let (list, total) =
        store::subscribers::search(&state.db, query, page_no.saturating_sub(1), PER_PAGE).await?;
    let tz = state.page.zone().tz();
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
                "kind": s.kind.as_str(),
                "email": s.model.email,
                "webhook_url": s.model.webhook_url,
                "state": s.state(),
                "disabled_reason": s.model.disabled_reason,
                "unsubscribed": s.model.unsubscribed_at.map(|t| time::date_time(t, tz)),
                "unsubscribed_iso": s.model.unsubscribed_at.map(|t| time::iso(t, tz)),
                // Signed up again and not yet confirmed: still sent nothing.
                "resubscribing": s.model.confirm_expires_at.is_some_and(|t| t > store::now()),
                "components": comps,
                "created": time::date_time(s.model.created_at, tz),
                "created_iso": time::iso(s.model.created_at, tz),
            })
        })
        .collect();
    page.insert("subscribers", &rows)
        .insert("total", &total)
        .insert(
            "active",
            &store::subscribers::count_active(&state.db).await?,
        )
        .insert("q", &query)
        .insert("q_param", &urlencoding::encode(query))
        .insert("page", &page_no)
        .insert("pages", &total.div_ceil(PER_PAGE).max(1))
        .insert("chosen", &Vec::<i32>::new());
    Ok(page)
}

/// The first page of the list with the add form refused, its text and the
/// components ticked kept.
async fn refused(
    state: &AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
    form: &FormData,
    errors: &FieldErrors,
    message: &str,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    listing(state, me, token, "", 1)
        .await?
        .refused(form, errors, message)
        .insert("chosen", &chosen_components(form))
        .render(status)
}

/// The first page of the list, showing a webhook's signing secret this once.
async fn with_secret<'a>(
    state: &'a AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
    url: &str,
    secret: &str,
) -> Result<AdminPage<'a>, AppError> {
    let mut page = listing(state, me, token, "", 1).await?;
    page.insert("secret_url", &url).insert("secret", &secret);
    Ok(page)
}

#[get("/subscribers")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    q: web::Query<ListQuery>,
    notice: Notice,
) -> Result<HttpResponse, AppError> {
    // A NUL cannot match anything stored, and PostgreSQL refuses it in a query.
    let query = q.q.clone().unwrap_or_default().replace('\0', "");
    let page_no = crate::domain::page_number(q.page.as_deref());
    listing(&state, &me.0, &token, &query, page_no)
        .await?
        .notice(notice)
        .render(StatusCode::OK)
}

/// Staff add an email subscriber (confirmed at once) or, when a webhook URL is
/// given, a webhook whose secret the next page shows once.
#[post("/subscribers")]
pub async fn create(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Staff>,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    let form = match fields {
        Ok(form) => form,
        Err(Stale(form)) => {
            let errors = FieldErrors::default();
            let (message, status) = (csrf::STALE_MESSAGE, StatusCode::FORBIDDEN);
            return refused(&state, &me.0, &token, &form, &errors, message, status).await;
        }
    };
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
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return refused(&state, &me.0, &token, &form, &errors, NOT_ADDED, status).await;
    };
    let components = chosen_components(&form);
    let result = match &url {
        None => store::subscribers::add_confirmed_email(&state.db, &email, &components)
            .await
            .map(|s| (s.id, None)),
        Some(url) => store::subscribers::subscribe_webhook(&state.db, url, &email, &components)
            .await
            .map(|(s, secret)| (s.id, Some(secret))),
    };
    if let Ok((sid, _)) = &result {
        audit::record(
            &state,
            &Actor::staff(&me.0),
            "subscriber.create",
            Subject::new("subscriber", *sid),
            "Added a subscriber",
            None,
            audit::subscriber(&state, *sid).await,
        )
        .await;
    }
    let result = result.map(|(_, secret)| secret);
    match result {
        Ok(None) => Ok(see_other_done("/admin/subscribers", Done::SubscriberAdded)),
        Ok(Some(secret)) => {
            let url = url.map(|u| u.as_str().to_owned()).unwrap_or_default();
            with_secret(&state, &me.0, &token, &url, &secret)
                .await?
                .render(StatusCode::OK)
        }
        Err(StoreError::Conflict { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            let status = StatusCode::CONFLICT;
            refused(&state, &me.0, &token, &form, &errors, NOT_ADDED, status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// What removing a subscriber means, asked before it is done: the list's
/// Remove leads here, and only this page's button removes.
#[get("/subscribers/{id}/delete")]
pub async fn confirm_delete(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let s = store::subscribers::find(&state.db, id.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    let (kind, name) = match &s.model.webhook_url {
        Some(url) => ("webhook", url.clone()),
        None => ("email subscriber", s.model.email.clone()),
    };
    let mut meaning = vec![
        "Nothing more is sent to it, and its delivery history goes with it: the delivery counts on incident pages drop.".to_owned(),
        "To stop the notifications but keep that history, the subscriber unsubscribes instead (the link in every notification).".to_owned(),
    ];
    if s.model.webhook_url.is_some() {
        meaning.push("Its signing secret stops working; the endpoint can subscribe again and gets a new one.".to_owned());
    } else {
        meaning.push("The address can subscribe again, and is asked to confirm.".to_owned());
    }
    AdminPage::new(&state, "admin/confirm_delete.html", Some(&me.0), &token)
        .insert("title", &format!("Remove {name}?"))
        .insert("heading", &format!("Remove the {kind} {name}?"))
        .insert("meaning", &meaning)
        .insert(
            "action",
            &format!("/admin/subscribers/{}/delete", s.model.id),
        )
        .insert("button", "Remove this subscriber")
        .insert(
            "back",
            &format!("/admin/subscribers#subscriber-{}", s.model.id),
        )
        .render(StatusCode::OK)
}

#[post("/subscribers/{id}/delete")]
pub async fn delete(
    state: web::Data<AppState>,
    form: CheckedForm<auth::Staff>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    form.fields?;
    let id = id.into_inner();
    let before = audit::subscriber(&state, id).await;
    store::subscribers::remove(&state.db, id).await?;
    audit::record(
        &state,
        &Actor::staff(&form.who.0),
        "subscriber.delete",
        Subject::new("subscriber", id),
        "Removed a subscriber",
        before,
        None,
    )
    .await;
    Ok(see_other_done(
        "/admin/subscribers",
        Done::SubscriberRemoved,
    ))
}

/// A new signing secret for a webhook, shown on the page this once.
#[post("/subscribers/{id}/rotate")]
pub async fn rotate(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Staff>,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    fields?;
    let id = id.into_inner();
    let secret = store::subscribers::rotate_secret(&state.db, id).await?;
    let url = store::subscribers::find(&state.db, id)
        .await?
        .and_then(|s| s.model.webhook_url)
        .unwrap_or_default();
    tracing::info!(staff = me.0.id, subscriber = id, "webhook secret rotated");
    audit::record(
        &state,
        &Actor::staff(&me.0),
        "subscriber.rotate_secret",
        Subject::new("subscriber", id),
        "Rotated the webhook secret",
        None,
        None,
    )
    .await;
    with_secret(&state, &me.0, &token, &url, &secret)
        .await?
        .insert("notice", &"The old secret no longer signs anything.")
        .render(StatusCode::OK)
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
