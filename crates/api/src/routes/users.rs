//! The tenant's users (OWNER only).

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use domain::ids::UserId;

use super::{path_id, AppState};
use crate::auth::extractor::Authenticated;
use crate::dto::auth::{CreateUserRequest, UpdateUserRequest, UserDto, UserPage};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem};
use crate::http::etag::{etag, precondition};
use crate::http::idempotency::{self, render, respond};
use crate::http::query::PageQuery;

/// List users, oldest first.
#[utoipa::path(tag = "users", params(PageQuery), responses(
    (status = 200, body = UserPage),
    (status = 403, description = "Only an OWNER may do this", body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .services
        .auth
        .list_users(&actor, &query.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(UserPage::from_page(page, |u| (&u).into())))
}

/// Add a user to the tenant.
#[utoipa::path(tag = "users", request_body = CreateUserRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = UserDto),
        (status = 403, description = "Only an OWNER may do this", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::error::ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/users")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let render = render(StatusCode::CREATED, |x: &domain::auth::models::User| {
        UserDto::from(x)
    });
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .auth
        .create_user(&actor, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// One user, with its version in `ETag` (for `If-Match` on PATCH).
#[utoipa::path(tag = "users", params(("id" = String, Path)), responses(
    (status = 200, body = UserDto, headers(("ETag" = String, description = "The user's version (strong)"))),
    (status = 403, description = "Only an OWNER may do this", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: UserId = path_id(&id, "user")?;
    let user = state.services.auth.get_user(&actor, &id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(user.version()))
        .json(UserDto::from(&user)))
}

/// Change a user's name, role or active flag. Deactivating a user ends every session they hold
/// (tokens and open sockets); a change that would leave the tenant without an active OWNER is
/// refused with 409. `If-Match` (optional) makes the edit conditional on the version read:
/// without it the edit applies to the current user.
#[utoipa::path(tag = "users", params(("id" = String, Path),
    ("If-Match" = Option<String>, Header, description = "ETag of the version this edit is based on; `*` for any")),
    request_body = UpdateUserRequest, responses(
    (status = 200, body = UserDto, headers(("ETag" = String, description = "The new version"))),
    (status = 403, description = "Only an OWNER may do this", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "The user changed since the If-Match version; nothing written", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Owners cannot demote or deactivate themselves, and a tenant must keep at least one active OWNER", body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[patch("/users/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: UserId = path_id(&id, "user")?;
    let condition = precondition(&req)?;
    let user = state
        .services
        .auth
        .update_user(&actor, &id, body.value.into_domain()?, condition)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(user.version()))
        .json(UserDto::from(&user)))
}
