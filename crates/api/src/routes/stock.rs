//! Adjustments, the movement ledger and the stock audit.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

use domain::ids::VariantId;

use super::{path_id, AppState};
use crate::auth::extractor::Authenticated;
use crate::dto::stock::{
    AdjustmentRequest, AdjustmentResponse, AuditResponse, MoveRequest, MoveResponse, MovementPage,
    MovementQuery,
};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem, StockConflict, ValidationProblem, ValidationRefusal};
use crate::http::idempotency::{self, render, respond};
use crate::http::query::PageQuery;

/// Record an ADJUSTMENT movement at one location (the default unless `locationId` names
/// another): a signed change with a reason, optionally compare-and-set on that location's units
/// on hand. `state` says which units it counts: `available` (default) or an unavailable state,
/// which moves with on hand — `{"quantity": -2, "state": "damaged"}` writes off two damaged
/// units. MANAGER or OWNER.
#[utoipa::path(tag = "stock", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = AdjustmentRequest, responses(
        (status = 201, body = AdjustmentResponse),
        (status = 403, description = "STAFF", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The units of `state` (or those available) at the location would go below zero, or expectedStock differs", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, or an unknown or inactive location", body = ValidationRefusal, content_type = "application/problem+json"),
        (status = 503, description = "Busy; retry after Retry-After", body = Problem, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/variants/{id}/adjustments")]
pub async fn adjust(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<AdjustmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: VariantId = path_id(&id, "variant")?;
    let render = render(
        StatusCode::CREATED,
        |x: &domain::stock::models::Adjusted| AdjustmentResponse::from(x),
    );
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .stock
        .adjust(&actor, &id, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// Move units between states at one location (the default unless `locationId` names another):
/// between `available` and `damaged`, `qualityControl` or `safetyStock`, or between two of those.
/// On hand is unchanged; a MOVE movement records how each state moved. Refused with 409 when the
/// source state holds too few units (for `available`: too few not committed or reserved).
/// MANAGER or OWNER.
#[utoipa::path(tag = "stock", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = MoveRequest, responses(
        (status = 201, body = MoveResponse),
        (status = 403, description = "STAFF", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The source state holds too few units at the location", body = StockConflict, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`from` equal to `to`, an unknown state), or an unknown or inactive location", body = ValidationRefusal, content_type = "application/problem+json"),
        (status = 503, description = "Busy; retry after Retry-After", body = Problem, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/variants/{id}/moves")]
pub async fn move_units(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<MoveRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: VariantId = path_id(&id, "variant")?;
    let render = render(StatusCode::CREATED, |x: &domain::stock::service::Moved| {
        MoveResponse::from(x)
    });
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .stock
        .move_units(&actor, &id, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// The ledger, newest first.
#[utoipa::path(tag = "stock", params(MovementQuery, PageQuery), responses(
    (status = 200, body = MovementPage),
    (status = 422, body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/movements")]
pub async fn movements(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    filter: web::Query<MovementQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter.into_domain()?;
    let page = state
        .services
        .stock
        .list_movements(&actor, &filter, &page.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(MovementPage::from_page(page, |m| (&m).into())))
}

/// Every level of the tenant whose stock differs from the sum of its movements, and every variant
/// whose stock differs from the sum of its levels (always none).
#[utoipa::path(tag = "stock", responses((status = 200, body = AuditResponse)), security(("bearer" = [])))]
#[get("/stock/audit")]
pub async fn audit(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let report = state.services.stock.audit(&actor).await?;
    Ok(HttpResponse::Ok().json(AuditResponse::from(&report)))
}
