//! Products.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use domain::ids::ProductId;

use super::{path_id, AppState};
use crate::auth::extractor::Authenticated;
use crate::dto::catalog::{CreateProductRequest, ProductDto, ProductPage, UpdateProductRequest};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem, ValidationProblem, ValidationRefusal};
use crate::http::etag::{etag, precondition};
use crate::http::idempotency::{self, render, respond};
use crate::http::query::PageQuery;

/// List products, oldest first.
#[utoipa::path(tag = "products", params(PageQuery), responses(
    (status = 200, body = ProductPage),
    (status = 401, body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/products")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .services
        .catalog
        .list_products(&actor, &query.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(ProductPage::from_page(page, |p| (&p).into())))
}

/// Create a product.
#[utoipa::path(tag = "products", request_body = CreateProductRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = ProductDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/products")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<CreateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let render = render(
        StatusCode::CREATED,
        |x: &domain::catalog::models::Product| ProductDto::from(x),
    );
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .catalog
        .create_product(&actor, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// One product, with its version in `ETag` (for `If-Match` on PATCH and DELETE).
#[utoipa::path(tag = "products", params(("id" = String, Path)), responses(
    (status = 200, body = ProductDto, headers(("ETag" = String, description = "The product's version (strong)"))),
    (status = 404, body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/products/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ProductId = path_id(&id, "product")?;
    let product = state.services.catalog.get_product(&actor, &id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(product.version()))
        .json(ProductDto::from(&product)))
}

/// Rename or re-describe a product. `If-Match` (optional) makes the edit conditional on the
/// version read: without it the edit applies to the current product.
#[utoipa::path(tag = "products", params(("id" = String, Path),
    ("If-Match" = Option<String>, Header, description = "ETag of the version this edit is based on; `*` for any")),
    request_body = UpdateProductRequest, responses(
    (status = 200, body = ProductDto, headers(("ETag" = String, description = "The new version"))),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "The product changed since the If-Match version; nothing written", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Without `If-Match`: the product kept changing concurrently; retry", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[patch("/products/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<UpdateProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: ProductId = path_id(&id, "product")?;
    let condition = precondition(&req)?;
    let product = state
        .services
        .catalog
        .update_product(&actor, &id, body.value.into_domain()?, condition)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(product.version()))
        .json(ProductDto::from(&product)))
}

/// Delete a product and its variants; refused while any variant holds stock. `If-Match`
/// (optional) makes the delete conditional on the version read.
#[utoipa::path(tag = "products", params(("id" = String, Path),
    ("If-Match" = Option<String>, Header, description = "ETag of the version to delete; `*` for any")),
    responses(
    (status = 204),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "The product changed since the If-Match version; nothing deleted", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "A variant has stock", body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[delete("/products/{id}")]
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ProductId = path_id(&id, "product")?;
    let condition = precondition(&req)?;
    state
        .services
        .catalog
        .delete_product(&actor, &id, condition)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
