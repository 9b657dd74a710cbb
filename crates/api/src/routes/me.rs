//! The caller's own account: changing their password.

use actix_web::{post, web, HttpResponse};

use super::AppState;
use crate::auth::extractor::Authenticated;
use crate::dto::auth::ChangePasswordRequest;
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem, ValidationProblem};

/// Change your password. Every token issued to you so far stops working at once, this one
/// included, on every instance and every open socket: log in again with the new password.
///
/// A wrong current password answers 422 naming `currentPassword` (not 401: the token itself is
/// fine, and a 401 would tell a client to drop it); a weak new one answers 422 naming
/// `newPassword`, by the same rules as sign-up.
#[utoipa::path(tag = "auth", request_body = ChangePasswordRequest, responses(
    (status = 204, description = "Changed; every earlier token is refused from now on"),
    (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "Missing, invalid or revoked token", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Wrong `currentPassword` or weak `newPassword`", body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let (current, new) = body.value.into_domain()?;
    state
        .services
        .auth
        .change_password(&actor, &current, new)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
