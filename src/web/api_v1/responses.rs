//! The error responses the write API documents, each set shared by the paths
//! that can answer it, with the JSON error body of [`super::ErrorBody`].
//! A path lists its own success response, and its own wording where an error
//! names what it is about, then these.
use utoipa::IntoResponses;

use super::ErrorBody;

/// Every path: the token is missing, unknown, revoked, or its owner is no
/// longer an active admin.
#[derive(IntoResponses)]
#[response(status = 401, description = "No valid token")]
pub struct Unauthorized(pub ErrorBody);

/// Every write.
#[derive(IntoResponses)]
#[response(status = 403, description = "A read token")]
pub struct Forbidden(pub ErrorBody);

/// Every write with a JSON body.
#[derive(IntoResponses)]
pub enum BadBody {
    #[response(status = 400, description = "Not JSON")]
    NotJson(ErrorBody),
    #[response(status = 413, description = "Body too large")]
    TooLarge(ErrorBody),
    #[response(status = 422, description = "Invalid field")]
    Unprocessable(ErrorBody),
}

/// Every POST that takes an `Idempotency-Key`.
#[derive(IntoResponses)]
#[response(status = 409, description = "Idempotency-Key reused or in progress")]
pub struct KeyReused(pub ErrorBody);
