//! The write API under /api/v1: JSON in and out, bearer tokens, the same
//! validation, transactions and outbox as the staff forms.
pub mod components;
pub mod corrections;
mod error;
pub mod incidents;
pub mod maintenance;
pub mod recovery;
pub mod responses;
pub mod subscribers;
pub mod templates;

use std::future::Future;
use std::pin::Pin;

use actix_web::{
    dev::Payload, http::header, http::StatusCode, web, FromRequest, HttpRequest, HttpResponse,
};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

pub use error::{ApiError, ErrorBody, ErrorDetail};

use crate::state::AppState;
use crate::store::{self, api_tokens::TokenView, idempotency};

/// Largest request body the API reads.
pub const MAX_BODY: usize = 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| ApiError::invalid("query", e.to_string()).into()),
            )
            .service(incidents::list_incidents)
            .service(incidents::create_incident)
            .service(incidents::get_incident)
            .service(incidents::post_update)
            .service(corrections::correct_update)
            .service(recovery::put_data_integrity)
            .service(recovery::add_milestone)
            .service(recovery::complete_milestone)
            .service(maintenance::edit_maintenance)
            .service(maintenance::cancel_maintenance)
            .service(maintenance::stop_series)
            .service(components::list_components)
            .service(components::create_component)
            .service(components::update_component)
            .service(components::delete_component)
            .service(subscribers::list_subscribers)
            .service(subscribers::create_subscriber)
            .service(subscribers::delete_subscriber)
            .service(templates::list_templates)
            .service(templates::create_template)
            .service(templates::get_template)
            .service(templates::update_template)
            .service(templates::delete_template)
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::not_found())
            })),
    );
}

/// The token a request carries; any request without a live one is refused with 401.
pub struct Caller(pub TokenView);

impl Caller {
    /// Refuses a write made with a read token.
    pub fn require_write(&self) -> Result<(), ApiError> {
        if self.0.scope.may_write() {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "This token may only read: create a write token for this.",
            ))
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let token = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(str::trim)
                .ok_or_else(ApiError::unauthorized)?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .expect("state is registered");
            store::api_tokens::authenticate(&state.db, token)
                .await?
                .map(Caller)
                .ok_or_else(ApiError::unauthorized)
        })
    }
}

/// Reads the body up to [`MAX_BODY`], answering 413 beyond it.
pub async fn read_body(mut payload: web::Payload) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "The request body could not be read.",
            )
        })?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("The request body is larger than {MAX_BODY} bytes."),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses a JSON body, naming the field at fault when serde can tell.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("The body is not valid JSON: {e}"),
        )
    })?;
    if let Some(path) = nul_in(&value, "") {
        // PostgreSQL cannot store NUL in text; no field of ours needs it.
        return Err(ApiError::invalid(
            path.trim_start_matches('.'),
            "Text cannot contain NUL characters.",
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        let msg = e.to_string();
        let field = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|p| msg.split(p).nth(1))
            .and_then(|rest| rest.split('`').next())
            .unwrap_or("body")
            .to_owned();
        ApiError::invalid(&field, format!("The body does not fit the schema: {msg}"))
    })
}

/// The path of the first string (or key) holding a NUL character.
fn nul_in(v: &serde_json::Value, at: &str) -> Option<String> {
    match v {
        serde_json::Value::String(s) if s.contains('\0') => Some(at.to_owned()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_in(x, &format!("{at}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
            if k.contains('\0') {
                Some(at.to_owned())
            } else {
                nul_in(x, &format!("{at}.{k}"))
            }
        }),
        _ => None,
    }
}

/// Parses a body that may be left out: an empty one is `T::default()`.
pub fn parse_optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(body)
    }
}

/// Parses a path id; anything but a positive integer names nothing.
pub fn path_id(raw: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(ApiError::not_found)
}

fn json_response(status: StatusCode, body: String, replayed: bool) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    if status == StatusCode::NO_CONTENT {
        return res.finish();
    }
    res.content_type("application/json").body(body)
}

/// Answers a JSON value with `status`.
pub fn json<T: serde::Serialize>(status: StatusCode, v: &T) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_string(v).map_err(|e| ApiError::internal(e.into()))?;
    Ok(json_response(status, body, false))
}

/// The result of a write: a status and a JSON body (empty for 204).
pub type Written = Result<(StatusCode, String), ApiError>;

/// Runs a POST once per `Idempotency-Key`: a retry with the same key and body
/// gets the first answer (success or refusal); the same key with another body
/// is a 409. Without the header the action simply runs.
pub async fn idempotent<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    body: &[u8],
    action: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Written>,
{
    let key = match req.headers().get("Idempotency-Key") {
        None => None,
        Some(v) => match v.to_str().map(str::trim) {
            Ok(k) if !k.is_empty() && k.len() <= 255 => Some(k.to_owned()),
            _ => {
                return Err(ApiError::invalid(
                    "Idempotency-Key",
                    "An Idempotency-Key is 1 to 255 visible ASCII characters.",
                ))
            }
        },
    };
    let Some(key) = key else {
        return match action().await {
            Ok((status, body)) => Ok(json_response(status, body, false)),
            Err(e) => Err(e),
        };
    };
    let hash = crate::secrets::sha256_hex(&format!(
        "{} {}\n{}",
        req.method(),
        req.path(),
        String::from_utf8_lossy(body)
    ));
    let token_id = caller.0.model.id;
    match idempotency::claim(&state.db, token_id, &key, &hash).await? {
        idempotency::Claim::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Ok(json_response(status, body, true))
        }
        idempotency::Claim::Mismatch => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different request.",
        )),
        idempotency::Claim::InProgress => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_progress",
            "A request with this Idempotency-Key is still being processed; retry shortly.",
        )),
        idempotency::Claim::Fresh => match action().await {
            Ok((status, body)) => {
                idempotency::complete(&state.db, token_id, &key, status.as_u16(), &body).await?;
                Ok(json_response(status, body, false))
            }
            Err(e) if e.status.is_client_error() => {
                let body = serde_json::to_string(&e.body()).unwrap_or_default();
                idempotency::complete(&state.db, token_id, &key, e.status.as_u16(), &body).await?;
                Err(e)
            }
            Err(e) => {
                idempotency::release(&state.db, token_id, &key).await?;
                Err(e)
            }
        },
    }
}

/// Serialises a value for [`Written`].
pub fn written<T: serde::Serialize>(status: StatusCode, v: &T) -> Written {
    let body = serde_json::to_string(v).map_err(|e| ApiError::internal(e.into()))?;
    Ok((status, body))
}
