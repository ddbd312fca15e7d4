//! Subscribers: list, add (confirmed, as staff adding one vouch for it), remove.
use actix_web::{delete, get, http::StatusCode, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::responses::{BadBody, Forbidden, Unauthorized};
use super::{
    idempotent, json, parse_json, path_id, read_body, written, ApiError, Caller, ErrorBody,
};
use crate::domain::{EmailAddress, WebhookUrl};
use crate::notify::ssrf;
use crate::render::statuspage::PageInfo;
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{self, subscribers::SubscriberView, StoreError};
use crate::web::audit;

/// A subscriber as the API shows it; secrets are never listed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Subscriber {
    pub id: String,
    /// `email` or `webhook`.
    pub kind: String,
    /// The subscriber's address; for a webhook, its contact.
    pub email: String,
    pub webhook_url: Option<String>,
    /// Ids of the components followed; empty means all.
    pub components: Vec<String>,
    pub confirmed: bool,
    pub disabled: bool,
    /// The subscriber asked to hear nothing more; it stays listed.
    pub unsubscribed: bool,
    pub created_at: String,
}

/// A subscriber just added; `secret` (webhooks only) is shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedSubscriber {
    pub subscriber: Subscriber,
    /// The webhook's signing secret (`whsec_...`), for Standard Webhooks verification.
    pub secret: Option<String>,
}

/// An email subscriber (`email`), or a webhook (`webhook_url`, with `email` as
/// the contact for delivery problems).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscriberBody {
    pub email: String,
    /// An http(s) URL that receives signed JSON posts.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Component ids to follow; absent or empty follows all.
    #[serde(default)]
    pub components: Option<Vec<String>>,
}

fn view(info: &PageInfo, s: &SubscriberView) -> Subscriber {
    Subscriber {
        id: s.model.id.to_string(),
        kind: s.kind.as_str().to_owned(),
        email: s.model.email.clone(),
        webhook_url: s.model.webhook_url.clone(),
        components: s.components.iter().map(i32::to_string).collect(),
        confirmed: s.model.confirmed_at.is_some(),
        disabled: s.model.disabled_at.is_some(),
        unsubscribed: s.model.unsubscribed_at.is_some(),
        created_at: info.time(s.model.created_at),
    }
}

enum Target {
    Email(EmailAddress),
    Webhook(WebhookUrl, EmailAddress),
}

fn target(b: &NewSubscriberBody) -> Result<Target, ApiError> {
    let email = EmailAddress::parse(&b.email).map_err(|e| ApiError::invalid("email", e.0))?;
    match b.webhook_url.as_deref() {
        None => Ok(Target::Email(email)),
        Some(u) => WebhookUrl::parse(u)
            .map(|u| Target::Webhook(u, email))
            .map_err(|e| ApiError::invalid("webhook_url", e.0)),
    }
}

/// The ids in `raw`, each naming an existing component.
async fn component_ids(state: &AppState, raw: Vec<String>) -> Result<Vec<i32>, ApiError> {
    let existing = store::components::list(&state.db).await?;
    let mut ids = Vec::new();
    for c in raw {
        let id = c
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|id| existing.iter().any(|e| e.model.id == *id))
            .ok_or_else(|| {
                ApiError::invalid("components", format!("There is no component \"{c}\"."))
            })?;
        ids.push(id);
    }
    Ok(ids)
}

/// Every subscriber.
#[utoipa::path(get, path = "/api/v1/subscribers", tag = "v1", security(("bearer" = [])),
    responses(
        (status = 200, description = "Subscribers", body = [Subscriber]),
        Unauthorized,
    ))]
#[get("/subscribers")]
pub async fn list_subscribers(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let info = &state.page;
    let list = store::subscribers::all(&state.db).await?;
    let out: Vec<Subscriber> = list.iter().map(|s| view(info, s)).collect();
    json(StatusCode::OK, &out)
}

/// Adds a confirmed subscriber: no confirmation mail is sent.
#[utoipa::path(post, path = "/api/v1/subscribers", tag = "v1", security(("bearer" = [])),
    request_body = NewSubscriberBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result")),
    responses(
        (status = 201, description = "Added", body = CreatedSubscriber),
        (status = 409, description = "Already subscribed, or Idempotency-Key reused", body = ErrorBody),
        Unauthorized, Forbidden, BadBody,
    ))]
#[post("/subscribers")]
pub async fn create_subscriber(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let body = read_body(payload).await?;
    idempotent(&req, &state, &caller, &body, || async {
        let b: NewSubscriberBody = parse_json(&body)?;
        let target = target(&b)?;
        if let Target::Webhook(url, _) = &target {
            ssrf::check_url(url.as_url(), state.settings.webhook_allow_private)
                .await
                .map_err(|blocked| ApiError::invalid("webhook_url", blocked.form_message()))?;
        }
        let ids = component_ids(&state, b.components.unwrap_or_default()).await?;
        let added = match target {
            Target::Email(email) => {
                store::subscribers::add_confirmed_email(&state.db, &email, &ids)
                    .await
                    .map(|m| (m, None))
            }
            Target::Webhook(url, contact) => {
                store::subscribers::subscribe_webhook(&state.db, &url, &contact, &ids)
                    .await
                    .map(|(m, secret)| (m, Some(secret)))
            }
        };
        let (model, secret) = match added {
            Err(StoreError::Conflict { field, message }) => {
                return Err(ApiError {
                    field: Some(field.to_owned()),
                    ..ApiError::new(StatusCode::CONFLICT, "conflict", message)
                })
            }
            other => other?,
        };
        let added = store::subscribers::find(&state.db, model.id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        tracing::info!(
            subscriber = added.model.id,
            token = caller.0.model.id,
            "subscriber added through the API"
        );
        audit::record(
            &state,
            &Actor::token(&caller.0.model),
            "subscriber.create",
            Subject::new("subscriber", added.model.id),
            "Added a subscriber",
            None,
            audit::subscriber(&state, added.model.id).await,
        )
        .await;
        written(
            StatusCode::CREATED,
            &CreatedSubscriber {
                subscriber: view(&state.page, &added),
                secret,
            },
        )
    })
    .await
}

/// Removes a subscriber.
#[utoipa::path(delete, path = "/api/v1/subscribers/{id}", tag = "v1", security(("bearer" = [])),
    params(("id" = String, Path, description = "Subscriber id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such subscriber", body = ErrorBody),
        Unauthorized, Forbidden,
    ))]
#[delete("/subscribers/{id}")]
pub async fn delete_subscriber(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let id = path_id(&id)?;
    let before = audit::subscriber(&state, id).await;
    store::subscribers::remove(&state.db, id).await?;
    audit::record(
        &state,
        &Actor::token(&caller.0.model),
        "subscriber.delete",
        Subject::new("subscriber", id),
        "Removed a subscriber",
        before,
        None,
    )
    .await;
    Ok(HttpResponse::NoContent().finish())
}
