//! Variants (SKUs). Stock is read-only here; it changes through adjustments, orders and receipts.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use domain::ids::VariantId;

use super::{path_id, AppState};
use crate::auth::extractor::Authenticated;
use crate::dto::catalog::{
    CreateVariantRequest, UpdateVariantRequest, VariantDto, VariantPage, VariantQuery,
};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem, ValidationProblem, ValidationRefusal};
use crate::http::etag::{etag, precondition};
use crate::http::idempotency::{self, render, respond};
use crate::http::query::PageQuery;

/// List variants, oldest first, optionally by product, SKU or low stock.
#[utoipa::path(tag = "variants", params(VariantQuery, PageQuery), responses(
    (status = 200, body = VariantPage),
    (status = 422, body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/variants")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    filter: web::Query<VariantQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter.into_domain()?;
    let page = state
        .services
        .catalog
        .list_variants(&actor, &filter, &page.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(VariantPage::from_page(page, |v| (&v).into())))
}

/// Create a variant with stock 0. The SKU is unique within the tenant.
#[utoipa::path(tag = "variants", request_body = CreateVariantRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = VariantDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "SKU taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/variants")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<CreateVariantRequest>,
) -> Result<HttpResponse, ApiError> {
    let render = render(
        StatusCode::CREATED,
        |x: &domain::catalog::models::Variant| VariantDto::from(x),
    );
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .catalog
        .create_variant(&actor, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// One variant with its stock and incoming units. `ETag` is the version of its catalog fields
/// (product, SKU, attributes, price, reorder level): stock changes leave it as it is.
#[utoipa::path(tag = "variants", params(("id" = String, Path)), responses(
    (status = 200, body = VariantDto, headers(("ETag" = String, description = "The variant's catalog version (strong); stock changes do not change it"))),
    (status = 404, body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/variants/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: VariantId = path_id(&id, "variant")?;
    let variant = state.services.catalog.get_variant(&actor, &id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(variant.version()))
        .json(VariantDto::from(&variant)))
}

/// Change a variant's product, SKU, attributes, price or reorder level (never its stock).
/// `If-Match` (optional) makes the edit conditional on the catalog version read: two
/// integrations syncing prices cannot overwrite each other. Without it the edit applies to the
/// current variant.
#[utoipa::path(tag = "variants", params(("id" = String, Path),
    ("If-Match" = Option<String>, Header, description = "ETag of the version this edit is based on; `*` for any")),
    request_body = UpdateVariantRequest, responses(
    (status = 200, body = VariantDto, headers(("ETag" = String, description = "The new catalog version"))),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "The variant changed since the If-Match version; nothing written", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "SKU taken", body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[patch("/variants/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<UpdateVariantRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: VariantId = path_id(&id, "variant")?;
    let condition = precondition(&req)?;
    let variant = state
        .services
        .catalog
        .update_variant(&actor, &id, body.value.into_domain()?, condition)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(variant.version()))
        .json(VariantDto::from(&variant)))
}

/// Delete a variant with no stock. `If-Match` (optional) makes the delete conditional on the
/// version read.
#[utoipa::path(tag = "variants", params(("id" = String, Path),
    ("If-Match" = Option<String>, Header, description = "ETag of the version to delete; `*` for any")),
    responses(
    (status = 204),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "The variant changed since the If-Match version; nothing deleted", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The variant has stock", body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[delete("/variants/{id}")]
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: VariantId = path_id(&id, "variant")?;
    let condition = precondition(&req)?;
    state
        .services
        .catalog
        .delete_variant(&actor, &id, condition)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
