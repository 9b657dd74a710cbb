//! Suppliers.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use domain::ids::SupplierId;

use super::{path_id, AppState};
use crate::auth::extractor::Authenticated;
use crate::dto::purchasing::{
    CreateSupplierRequest, SupplierDto, SupplierPage, UpdateSupplierRequest,
};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem, ValidationRefusal};
use crate::http::etag::{etag, precondition};
use crate::http::idempotency::{self, render, respond};
use crate::http::query::PageQuery;

/// List suppliers, oldest first.
#[utoipa::path(tag = "suppliers", params(PageQuery), responses((status = 200, body = SupplierPage)), security(("bearer" = [])))]
#[get("/suppliers")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .services
        .purchasing
        .list_suppliers(&actor, &query.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(SupplierPage::from_page(page, |s| (&s).into())))
}

/// Create a supplier.
#[utoipa::path(tag = "suppliers", request_body = CreateSupplierRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = SupplierDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/suppliers")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<CreateSupplierRequest>,
) -> Result<HttpResponse, ApiError> {
    let render = render(
        StatusCode::CREATED,
        |x: &domain::purchasing::models::Supplier| SupplierDto::from(x),
    );
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .purchasing
        .create_supplier(&actor, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// One supplier, with its version in `ETag` (for `If-Match` on PATCH and DELETE).
#[utoipa::path(tag = "suppliers", params(("id" = String, Path)), responses(
    (status = 200, body = SupplierDto, headers(("ETag" = String, description = "The supplier's version (strong)"))),
    (status = 404, body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/suppliers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: SupplierId = path_id(&id, "supplier")?;
    let supplier = state.services.purchasing.get_supplier(&actor, &id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(supplier.version()))
        .json(SupplierDto::from(&supplier)))
}

/// Update a supplier; `null` clears an optional field. `If-Match` (optional) makes the edit
/// conditional on the version read: without it the edit applies to the current supplier.
#[utoipa::path(tag = "suppliers", params(("id" = String, Path),
    ("If-Match" = Option<String>, Header, description = "ETag of the version this edit is based on; `*` for any")),
    request_body = UpdateSupplierRequest, responses(
    (status = 200, body = SupplierDto, headers(("ETag" = String, description = "The new version"))),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "The supplier changed since the If-Match version; nothing written", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Without `If-Match`: the supplier kept changing concurrently; retry", body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[patch("/suppliers/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<UpdateSupplierRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: SupplierId = path_id(&id, "supplier")?;
    let condition = precondition(&req)?;
    let supplier = state
        .services
        .purchasing
        .update_supplier(&actor, &id, body.value.into_domain()?, condition)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(supplier.version()))
        .json(SupplierDto::from(&supplier)))
}

/// Delete a supplier with no open purchase order. `If-Match` (optional) makes the delete
/// conditional on the version read.
#[utoipa::path(tag = "suppliers", params(("id" = String, Path),
    ("If-Match" = Option<String>, Header, description = "ETag of the version to delete; `*` for any")),
    responses(
    (status = 204),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "The supplier changed since the If-Match version; nothing deleted", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Open purchase orders", body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[delete("/suppliers/{id}")]
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: SupplierId = path_id(&id, "supplier")?;
    let condition = precondition(&req)?;
    state
        .services
        .purchasing
        .delete_supplier(&actor, &id, condition)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
