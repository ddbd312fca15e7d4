use actix_web::{get, web, HttpResponse};

use super::AppError;

#[get("/assets/{name}")]
pub async fn asset(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let a = crate::assets::find(&name).ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(a.content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(a.body))
}
