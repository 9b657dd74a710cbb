//! Locations and the stock levels they hold. A location is deactivated, never deleted: its
//! movements keep pointing at it.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use domain::ids::LocationId;

use super::{path_id, AppState};
use crate::auth::extractor::Authenticated;
use crate::dto::locations::{
    CreateLocationRequest, LevelQuery, LocationDto, LocationLevelPage, LocationPage,
    UpdateLocationRequest,
};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem, ValidationProblem, ValidationRefusal};
use crate::http::etag::{etag, precondition};
use crate::http::idempotency::{self, render, respond};
use crate::http::query::PageQuery;

/// List the tenant's locations, oldest first.
#[utoipa::path(tag = "locations", params(PageQuery), responses(
    (status = 200, body = LocationPage),
    (status = 422, body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/locations")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .services
        .locations
        .list(&actor, &page.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(LocationPage::from_page(page, |l| (&l).into())))
}

/// Create an active location (never the default: make it so with PATCH `isDefault: true`).
#[utoipa::path(tag = "locations", request_body = CreateLocationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = LocationDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code taken in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/locations")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<CreateLocationRequest>,
) -> Result<HttpResponse, ApiError> {
    let render = render(
        StatusCode::CREATED,
        |x: &domain::locations::models::Location| LocationDto::from(x),
    );
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .locations
        .create(&actor, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// One location, with its version in `ETag` (for `If-Match` on PATCH).
#[utoipa::path(tag = "locations", params(("id" = String, Path)), responses(
    (status = 200, body = LocationDto, headers(("ETag" = String, description = "The location's version (strong)"))),
    (status = 404, body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/locations/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: LocationId = path_id(&id, "location")?;
    let location = state.services.locations.get(&actor, &id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(location.version()))
        .json(LocationDto::from(&location)))
}

/// Rename, reprioritise, (de)activate, or make the location the default. `If-Match` (optional)
/// makes the edit conditional on the version read: without it the edit applies to the current
/// location.
#[utoipa::path(tag = "locations", params(("id" = String, Path),
    ("If-Match" = Option<String>, Header, description = "ETag of the version this edit is based on; `*` for any")),
    request_body = UpdateLocationRequest, responses(
    (status = 200, body = LocationDto, headers(("ETag" = String, description = "The new version"))),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "The location changed since the If-Match version; nothing written", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Deactivating the default, or a location that still holds or expects stock", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`isDefault: false`, an inactive default, or a bad field", body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[patch("/locations/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<UpdateLocationRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: LocationId = path_id(&id, "location")?;
    let condition = precondition(&req)?;
    let location = state
        .services
        .locations
        .update(&actor, &id, body.value.into_domain()?, condition)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(location.version()))
        .json(LocationDto::from(&location)))
}

/// The stock levels held at a location, by variant id; `?lowStock=true` keeps the low ones.
#[utoipa::path(tag = "locations", params(("id" = String, Path), LevelQuery, PageQuery), responses(
    (status = 200, body = LocationLevelPage),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/locations/{id}/levels")]
pub async fn levels(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    filter: web::Query<LevelQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id: LocationId = path_id(&id, "location")?;
    let filter = filter.into_domain()?;
    let page = state
        .services
        .locations
        .levels(&actor, &id, &filter, &page.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(LocationLevelPage::from_page(page, |l| (&l).into())))
}
