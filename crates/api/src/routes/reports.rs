//! Dashboard reports computed from the ledger.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

use domain::ids::VariantId;

use super::{path_id, AppState};
use crate::auth::extractor::Authenticated;
use crate::dto::purchasing::PurchaseOrderDto;
use crate::dto::reports::{
    LocationQuery, LowStockResponse, MoversQuery, MoversResponse, ReorderRequest, SeriesQuery,
    SeriesResponse, StockAtQuery, StockAtResponse, ValuationResponse,
};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem, ValidationProblem, ValidationRefusal};
use crate::http::idempotency::{self, render, respond};

/// Movement counts and Σ quantity per time bucket and type; empty buckets are zeros. SALEs are
/// written when an order is fulfilled, so sales count then, not when the order is placed.
#[utoipa::path(tag = "reports", params(SeriesQuery), responses(
    (status = 200, body = SeriesResponse),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Bad range, bucket or time zone; more than 1,000 buckets; unknown location", body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/reports/movements")]
pub async fn movements(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    query: web::Query<SeriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let req = query.into_domain()?;
    let buckets = state
        .services
        .reports
        .movement_series(&actor, req.from, req.to, req.bucket, req.tz, &req.filter)
        .await?;
    Ok(HttpResponse::Ok().json(SeriesResponse::new(req.bucket, req.tz, &buckets)))
}

/// Variants whose available units (`stock`: on hand − committed) are at or below their reorder
/// level, with sales velocity (from SALEs, written at fulfilment), cover and a suggestion. With
/// `locationId`, a variant is low when its stock at that location is, and the figures are that
/// location's.
#[utoipa::path(tag = "reports", params(LocationQuery), responses(
    (status = 200, body = LowStockResponse),
    (status = 422, description = "Unknown location", body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/reports/low-stock")]
pub async fn low_stock(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    query: web::Query<LocationQuery>,
) -> Result<HttpResponse, ApiError> {
    let location = query.into_domain()?;
    let lines = state.services.reports.low_stock(&actor, location).await?;
    Ok(HttpResponse::Ok().json(LowStockResponse::from(lines.as_slice())))
}

/// Draft a purchase order from the low-stock suggestions over every location's totals, bound for
/// the default location.
#[utoipa::path(tag = "reports", request_body = ReorderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = PurchaseOrderDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown supplier, or nothing to reorder", body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/reports/low-stock/purchase-orders")]
pub async fn reorder(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<ReorderRequest>,
) -> Result<HttpResponse, ApiError> {
    let render = render(
        StatusCode::CREATED,
        |p: &domain::purchasing::models::PurchaseOrder| PurchaseOrderDto::from(p),
    );
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let (supplier, variants) = body.value.into_domain()?;
    let outcome = state
        .services
        .purchasing
        .reorder(&actor, supplier, variants, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// Variants ranked by Σ |quantity| of one movement type in a window.
#[utoipa::path(tag = "reports", params(MoversQuery), responses(
    (status = 200, body = MoversResponse),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/reports/top-movers")]
pub async fn top_movers(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    query: web::Query<MoversQuery>,
) -> Result<HttpResponse, ApiError> {
    let (kind, from, to, limit) = query.into_domain()?;
    let rows = state
        .services
        .reports
        .top_movers(&actor, kind, from, to, limit)
        .await?;
    Ok(HttpResponse::Ok().json(MoversResponse::from(rows.as_slice())))
}

/// Stock value per variant at weighted average purchase cost (over every location's purchases),
/// of the units on hand — committed units included, they are still on the shelf; with
/// `locationId`, of the units on hand at that location only.
#[utoipa::path(tag = "reports", params(LocationQuery), responses(
    (status = 200, body = ValuationResponse),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown location", body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/reports/valuation")]
pub async fn valuation(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    query: web::Query<LocationQuery>,
) -> Result<HttpResponse, ApiError> {
    let location = query.into_domain()?;
    let valuation = state.services.reports.valuation(&actor, location).await?;
    Ok(HttpResponse::Ok().json(ValuationResponse::from(&valuation)))
}

/// A variant's units on hand at a past moment, replayed from the ledger: its total, or with
/// `locationId` its units on hand at that location — and of those, the units that were damaged,
/// in quality control or safety stock then.
#[utoipa::path(tag = "reports", params(("id" = String, Path), StockAtQuery), responses(
    (status = 200, body = StockAtResponse),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Bad timestamp or unknown location", body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/variants/{id}/stock")]
pub async fn stock_at(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    query: web::Query<StockAtQuery>,
) -> Result<HttpResponse, ApiError> {
    let id: VariantId = path_id(&id, "variant")?;
    let (at, location) = query.into_domain()?;
    let found = state
        .services
        .reports
        .stock_at(&actor, &id, at, location)
        .await?;
    Ok(HttpResponse::Ok().json(StockAtResponse::new(id, location, &found)))
}
