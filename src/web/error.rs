//! One error type for every handler, mapped to a status and a calm page.
use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::StatusCode,
    middleware::Next,
    web, HttpResponse, ResponseError,
};

use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("Not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("Too many attempts. Try again in {0} seconds.")]
    TooManyRequests(u64),
    #[error("Sign in to continue")]
    SignInRequired { next: String },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

impl From<tera::Error> for AppError {
    fn from(e: tera::Error) -> Self {
        Self::Internal(anyhow::anyhow!("template: {e:?}"))
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict { message, .. } => Self::BadRequest(message),
            StoreError::Db(e) => e.into(),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::SignInRequired { .. } => StatusCode::SEE_OTHER,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::SignInRequired { next } = self {
            let to = format!("/admin/login?next={}", urlencoding::encode(next));
            return HttpResponse::SeeOther()
                .insert_header(("Location", to))
                .finish();
        }
        let message = match self {
            Self::Internal(e) => {
                tracing::error!(error = ?e, "request failed");
                "Something went wrong on our side. Nothing you sent was published; please try again.".to_owned()
            }
            other => other.to_string(),
        };
        let status = self.status_code();
        let mut res = HttpResponse::build(status);
        if let Self::TooManyRequests(secs) = self {
            res.insert_header(("Retry-After", secs.to_string()));
        }
        let mut res = res
            .content_type("text/html; charset=utf-8")
            .body(error_page(status, &message));
        res.extensions_mut().insert(ErrorMessage(message));
        res
    }
}

/// Marks a response as an error page, with what it says, for [`render_pages`].
#[derive(Clone)]
struct ErrorMessage(String);

/// Renders error pages from `templates/error.html`, in the page's own layout.
/// `error_response` has no access to the templates, so it writes a plain page
/// and marks it; this replaces the plain page when the template renders, and
/// keeps it when it does not (the error may be the templates' own).
pub async fn render_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let Some(ErrorMessage(message)) = res.response().extensions().get::<ErrorMessage>().cloned()
    else {
        return Ok(res.map_into_boxed_body());
    };
    let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
        return Ok(res.map_into_boxed_body());
    };
    let status = res.status();
    let mut ctx = super::public::layout_context(&state, state.page.zone());
    ctx.insert("title", status.canonical_reason().unwrap_or("Error"));
    ctx.insert("message", &message);
    ctx.insert("path", "");
    match state.tera.render("error.html", &ctx) {
        Ok(body) => {
            let (req, old) = res.into_parts();
            let mut page = HttpResponse::build(status);
            for (name, value) in old.headers() {
                if name != actix_web::http::header::CONTENT_LENGTH {
                    page.insert_header((name.clone(), value.clone()));
                }
            }
            Ok(ServiceResponse::new(req, page.body(body)))
        }
        Err(e) => {
            tracing::error!(error = ?e, "the error page template failed; serving the plain one");
            Ok(res.map_into_boxed_body())
        }
    }
}

/// A page that needs nothing (no template, no database), so it renders even when those fail.
pub fn error_page(status: StatusCode, message: &str) -> String {
    let title = status.canonical_reason().unwrap_or("Error");
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><link rel=\"stylesheet\" href=\"/assets/style.css\"></head><body><main class=\"wrap\"><h1>{title}</h1><p>{}</p><p><a href=\"/\">Back to the status page</a></p></main></body></html>",
        tera::escape_html(message)
    )
}
