//! One error type for every handler, mapped to a status and a calm page.
use actix_web::{http::StatusCode, HttpResponse, ResponseError};

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
        res.content_type("text/html; charset=utf-8")
            .body(error_page(status, &message))
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
