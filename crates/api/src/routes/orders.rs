//! Customer orders: place, fulfil, cancel, return.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

use domain::ids::OrderId;

use super::{path_id, AppState};
use crate::auth::extractor::Authenticated;
use crate::dto::orders::{OrderDto, OrderPage, OrderQuery, PlaceOrderRequest, ReturnItemsRequest};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem, StockConflict, ValidationProblem, ValidationRefusal};
use crate::http::idempotency::{self, render, respond, Render};
use crate::http::query::PageQuery;

fn render_order() -> Render<domain::orders::models::Order> {
    render(StatusCode::OK, |x: &domain::orders::models::Order| {
        OrderDto::from(x)
    })
}

/// List orders, newest first.
#[utoipa::path(tag = "orders", params(OrderQuery, PageQuery), responses(
    (status = 200, body = OrderPage),
    (status = 422, body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/orders")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    filter: web::Query<OrderQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter.into_domain()?;
    let page = state
        .services
        .orders
        .list(&actor, &filter, &page.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(OrderPage::from_page(page, |o| (&o).into())))
}

/// Place an order: every line's units are committed, or none are — they stay on hand, no longer
/// available, and no movement is written until the order is fulfilled. With `locationId` every
/// line is served from that location; without, each line is allocated across the active locations
/// (the default first, then by priority) and its `allocations` say where its units came from.
#[utoipa::path(tag = "orders", request_body = PlaceOrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = OrderDto),
        (status = 409, description = "Not enough stock: `shortages` lists every short line (with `locationId` when the order named one)", body = StockConflict, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, unknown variant (line named), or an unknown or inactive location", body = ValidationRefusal, content_type = "application/problem+json"),
        (status = 503, description = "Busy; retry after Retry-After", body = Problem, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/orders")]
pub async fn place(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<PlaceOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let render = render(StatusCode::CREATED, |x: &domain::orders::models::Order| {
        OrderDto::from(x)
    });
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .orders
        .place(&actor, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// One order.
#[utoipa::path(tag = "orders", params(("id" = String, Path)), responses(
    (status = 200, body = OrderDto),
    (status = 404, body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/orders/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: OrderId = path_id(&id, "order")?;
    let order = state.services.orders.get(&actor, &id).await?;
    Ok(HttpResponse::Ok().json(OrderDto::from(&order)))
}

/// PLACED → FULFILLED: the committed units leave on hand with one SALE movement per location they
/// were committed at.
#[utoipa::path(tag = "orders", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, body = OrderDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not PLACED", body = Problem, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/orders/{id}/fulfil")]
pub async fn fulfil(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: OrderId = path_id(&id, "order")?;
    let render = render_order();
    let idem = idempotency::from_request(&req, &[], &render)?;
    let outcome = state.services.orders.fulfil(&actor, &id, idem).await?;
    Ok(respond(outcome, &render))
}

/// PLACED → CANCELLED: the commitment is released and the units are available again; nothing
/// moves. (An order placed before orders committed units — whose units left with a SALE when it
/// was placed — brings them back with RETURN movements, reason `order-cancelled`.)
#[utoipa::path(tag = "orders", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, body = OrderDto),
        (status = 409, description = "Not PLACED", body = Problem, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/orders/{id}/cancel")]
pub async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: OrderId = path_id(&id, "order")?;
    let render = render_order();
    let idem = idempotency::from_request(&req, &[], &render)?;
    let outcome = state.services.orders.cancel(&actor, &id, idem).await?;
    Ok(respond(outcome, &render))
}

/// Return items of a fulfilled order (RETURN movements), put back where they were taken from or
/// at `locationId`, into `state`: `available` (default), or straight into `damaged` or
/// `qualityControl` (then on hand, not for sale).
#[utoipa::path(tag = "orders", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = ReturnItemsRequest, responses(
        (status = 201, body = OrderDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "More than sold − returned, or not fulfilled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`state` `safetyStock` among others), or an unknown or inactive location", body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/orders/{id}/returns")]
pub async fn return_items(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<ReturnItemsRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: OrderId = path_id(&id, "order")?;
    let render = render(StatusCode::CREATED, |x: &domain::orders::models::Order| {
        OrderDto::from(x)
    });
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .orders
        .return_items(&actor, &id, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}
