//! Subscribers: list, add (confirmed, as an import is), remove.
use actix_web::{delete, get, http::StatusCode, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    idempotent, json, parse_json, path_id, read_body, written, ApiError, Caller, ErrorBody,
};
use crate::api::statuspage::PageInfo;
use crate::domain::EmailAddress;
use crate::state::AppState;
use crate::store::{
    self,
    api_subscribers::{SubscriberView, Target},
    StoreError,
};

/// A subscriber as the API shows it; secrets are never listed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Subscriber {
    pub id: String,
    /// `email` or `webhook`.
    pub kind: String,
    /// Empty for a webhook.
    pub email: String,
    pub webhook_url: Option<String>,
    /// Ids of the components followed; empty means all.
    pub components: Vec<String>,
    pub confirmed: bool,
    pub disabled: bool,
    pub created_at: String,
}

/// A subscriber just added; `secret` (webhooks only) is shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedSubscriber {
    pub subscriber: Subscriber,
    /// The webhook's signing secret (`whsec_...`), for Standard Webhooks verification.
    pub secret: Option<String>,
}

/// Give exactly one of `email` and `webhook_url`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscriberBody {
    #[serde(default)]
    pub email: Option<String>,
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
        kind: s.model.kind.clone(),
        email: s.model.email.clone(),
        webhook_url: s.model.webhook_url.clone(),
        components: s.components.iter().map(i32::to_string).collect(),
        confirmed: s.model.confirmed_at.is_some(),
        disabled: s.model.disabled_at.is_some(),
        created_at: info.time(s.model.created_at),
    }
}

fn target(b: &NewSubscriberBody) -> Result<Target, ApiError> {
    match (b.email.as_deref(), b.webhook_url.as_deref()) {
        (Some(e), None) => EmailAddress::parse(e)
            .map(Target::Email)
            .map_err(|e| ApiError::invalid("email", e.0)),
        (None, Some(u)) => {
            let url = url::Url::parse(u.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .filter(|_| u.len() <= 2000)
                .ok_or_else(|| {
                    ApiError::invalid("webhook_url", "Give an http(s) URL with a host.")
                })?;
            Ok(Target::Webhook(url))
        }
        _ => Err(ApiError::invalid(
            "email",
            "Give either an email or a webhook_url.",
        )),
    }
}

/// Every subscriber.
#[utoipa::path(get, path = "/api/v1/subscribers", tag = "v1", security(("bearer" = [])),
    responses(
        (status = 200, description = "Subscribers", body = [Subscriber]),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
#[get("/subscribers")]
pub async fn list_subscribers(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let info = PageInfo::from_state(&state);
    let list = store::api_subscribers::list(&state.db).await?;
    let out: Vec<Subscriber> = list.iter().map(|s| view(&info, s)).collect();
    json(StatusCode::OK, &out)
}

/// Adds a confirmed subscriber: no confirmation mail is sent.
#[utoipa::path(post, path = "/api/v1/subscribers", tag = "v1", security(("bearer" = [])),
    request_body = NewSubscriberBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result")),
    responses(
        (status = 201, description = "Added", body = CreatedSubscriber),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A read token", body = ErrorBody),
        (status = 409, description = "Already subscribed, or Idempotency-Key reused", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody),
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
        let mut ids = Vec::new();
        for c in b.components.unwrap_or_default() {
            ids.push(c.trim().parse::<i32>().map_err(|_| {
                ApiError::invalid("components", "Component ids are whole numbers.")
            })?);
        }
        let added = match store::api_subscribers::add(&state.db, target, &ids).await {
            Err(StoreError::Conflict { field, message }) if field != "components" => {
                return Err(ApiError {
                    field: Some(field.to_owned()),
                    ..ApiError::new(StatusCode::CONFLICT, "conflict", message)
                })
            }
            other => other?,
        };
        tracing::info!(
            subscriber = added.model.id,
            token = caller.0.id,
            "subscriber added through the API"
        );
        written(
            StatusCode::CREATED,
            &CreatedSubscriber {
                subscriber: view(&PageInfo::from_state(&state), &added),
                secret: added.model.secret.clone(),
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
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A read token", body = ErrorBody),
        (status = 404, description = "No such subscriber", body = ErrorBody),
    ))]
#[delete("/subscribers/{id}")]
pub async fn delete_subscriber(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let id = path_id(&id)?;
    store::api_subscribers::remove(&state.db, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
