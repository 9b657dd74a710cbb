//! Purchase orders: draft, submit, receive, cancel.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use domain::ids::PurchaseOrderId;

use super::{path_id, AppState};
use crate::auth::extractor::Authenticated;
use crate::dto::purchasing::{
    CreatePurchaseOrderRequest, PurchaseOrderDto, PurchaseOrderPage, PurchaseOrderQuery,
    ReceiptRequest, UpdatePurchaseOrderRequest,
};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem, ValidationProblem, ValidationRefusal};
use crate::http::etag::{etag, precondition};
use crate::http::idempotency::{self, render, respond, Render};
use crate::http::query::PageQuery;

fn render_po() -> Render<domain::purchasing::models::PurchaseOrder> {
    render(
        StatusCode::OK,
        |x: &domain::purchasing::models::PurchaseOrder| PurchaseOrderDto::from(x),
    )
}

/// List purchase orders, newest first.
#[utoipa::path(tag = "purchase-orders", params(PurchaseOrderQuery, PageQuery), responses(
    (status = 200, body = PurchaseOrderPage),
    (status = 422, body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/purchase-orders")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    filter: web::Query<PurchaseOrderQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter.into_domain()?;
    let page = state
        .services
        .purchasing
        .list_purchase_orders(&actor, &filter, &page.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(PurchaseOrderPage::from_page(page, |p| (&p).into())))
}

/// Draft a purchase order.
#[utoipa::path(tag = "purchase-orders", request_body = CreatePurchaseOrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = PurchaseOrderDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown supplier or variant, or an unknown or inactive location", body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/purchase-orders")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<CreatePurchaseOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let render = render(
        StatusCode::CREATED,
        |x: &domain::purchasing::models::PurchaseOrder| PurchaseOrderDto::from(x),
    );
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .purchasing
        .create_purchase_order(&actor, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// One purchase order with what each line has received; `ETag` is its version (every
/// change moves it), for `If-Match` on PATCH.
#[utoipa::path(tag = "purchase-orders", params(("id" = String, Path)), responses(
    (status = 200, body = PurchaseOrderDto, headers(("ETag" = String, description = "The purchase order's version (strong)"))),
    (status = 404, body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/purchase-orders/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: PurchaseOrderId = path_id(&id, "purchase order")?;
    let po = state
        .services
        .purchasing
        .get_purchase_order(&actor, &id)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(po.version))
        .json(PurchaseOrderDto::from(&po)))
}

/// Edit a DRAFT purchase order. `If-Match` (optional) makes the edit conditional on the
/// version read.
#[utoipa::path(tag = "purchase-orders", params(("id" = String, Path),
    ("If-Match" = Option<String>, Header, description = "ETag of the version this edit is based on; `*` for any")),
    request_body = UpdatePurchaseOrderRequest, responses(
    (status = 200, body = PurchaseOrderDto, headers(("ETag" = String, description = "The new version"))),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "The purchase order changed since the If-Match version; nothing written", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not DRAFT", body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[patch("/purchase-orders/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<UpdatePurchaseOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: PurchaseOrderId = path_id(&id, "purchase order")?;
    let condition = precondition(&req)?;
    let po = state
        .services
        .purchasing
        .update_purchase_order(&actor, &id, body.value.into_domain()?, condition)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(po.version))
        .json(PurchaseOrderDto::from(&po)))
}

/// DRAFT → ORDERED.
#[utoipa::path(tag = "purchase-orders", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, body = PurchaseOrderDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not DRAFT", body = Problem, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/purchase-orders/{id}/submit")]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: PurchaseOrderId = path_id(&id, "purchase order")?;
    let render = render_po();
    let idem = idempotency::from_request(&req, &[], &render)?;
    let outcome = state.services.purchasing.submit(&actor, &id, idem).await?;
    Ok(respond(outcome, &render))
}

/// Cancel (nothing received yet) or close (after a partial receipt).
#[utoipa::path(tag = "purchase-orders", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, body = PurchaseOrderDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already received, cancelled or closed", body = Problem, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/purchase-orders/{id}/cancel")]
pub async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: PurchaseOrderId = path_id(&id, "purchase order")?;
    let render = render_po();
    let idem = idempotency::from_request(&req, &[], &render)?;
    let outcome = state.services.purchasing.cancel(&actor, &id, idem).await?;
    Ok(respond(outcome, &render))
}

/// Receive goods at the order's location: one PURCHASE movement per line. More than outstanding
/// is 409 and writes nothing.
#[utoipa::path(tag = "purchase-orders", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = ReceiptRequest, responses(
        (status = 201, body = PurchaseOrderDto),
        (status = 409, description = "Over-receipt or wrong status", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/purchase-orders/{id}/receipts")]
pub async fn receive(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<ReceiptRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: PurchaseOrderId = path_id(&id, "purchase order")?;
    let render = render(
        StatusCode::CREATED,
        |x: &domain::purchasing::models::PurchaseOrder| PurchaseOrderDto::from(x),
    );
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .purchasing
        .receive(&actor, &id, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}
