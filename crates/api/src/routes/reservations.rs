//! Checkout holds: reserve units while a customer pays, then confirm them into an order, release
//! them, or let them expire.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

use domain::ids::ReservationId;
use domain::orders::models::Order;
use domain::reservations::models::Reservation;

use super::{path_id, AppState};
use crate::auth::extractor::Authenticated;
use crate::dto::orders::OrderDto;
use crate::dto::reservations::{
    ConfirmReservationRequest, CreateReservationRequest, ExtendReservationRequest, ReservationDto,
    ReservationPage, ReservationQuery,
};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem, StockConflict, ValidationProblem, ValidationRefusal};
use crate::http::idempotency::{self, render, respond, Render};
use crate::http::query::PageQuery;

fn render_reservation(status: StatusCode) -> Render<Reservation> {
    render(status, |r: &Reservation| ReservationDto::from(r))
}

/// Hold units for a checkout: every line's units are reserved, or none are. They stay on hand,
/// are no longer available to orders or other holds, and count again the instant `expiresAt`
/// passes (no sweep needs to run first). A line naming `locationId` is held there alone; the
/// others are allocated across the active locations (the default first, then by priority), and
/// each line's `allocations` say where. Allowed to every role (STAFF included).
#[utoipa::path(tag = "reservations", request_body = CreateReservationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = ReservationDto),
        (status = 409, description = "Not enough stock: `shortages` lists every short line (with `locationId` when the line named one)", body = StockConflict, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`ttlSeconds` outside 1–86400, a bad line), unknown variant (line named), or an unknown or inactive location", body = ValidationRefusal, content_type = "application/problem+json"),
        (status = 503, description = "Busy; retry after Retry-After", body = Problem, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/reservations")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<CreateReservationRequest>,
) -> Result<HttpResponse, ApiError> {
    let render = render_reservation(StatusCode::CREATED);
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .reservations
        .reserve(&actor, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// List reservations, newest first, each with its status as it reads now. Allowed to every role.
#[utoipa::path(tag = "reservations", params(ReservationQuery, PageQuery), responses(
    (status = 200, body = ReservationPage),
    (status = 422, body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/reservations")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    filter: web::Query<ReservationQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter.into_domain()?;
    let page = state
        .services
        .reservations
        .list(&actor, &filter, &page.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(ReservationPage::from_page(page, |r| (&r).into())))
}

/// One reservation, its status as it reads now (EXPIRED from the instant `expiresAt` passes).
/// Allowed to every role.
#[utoipa::path(tag = "reservations", params(("id" = String, Path)), responses(
    (status = 200, body = ReservationDto),
    (status = 404, body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/reservations/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ReservationId = path_id(&id, "reservation")?;
    let reservation = state.services.reservations.get(&actor, &id).await?;
    Ok(HttpResponse::Ok().json(ReservationDto::from(&reservation)))
}

/// ACTIVE → CONFIRMED: places an order from the held units, at today's prices. The held units
/// become the order's commitment where they were held (reserved ↓, committed ↑), never judged
/// against availability again. Answers the order, as `POST /v1/orders` does. Allowed to every
/// role.
#[utoipa::path(tag = "reservations", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = ConfirmReservationRequest, responses(
        (status = 201, body = OrderDto),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not ACTIVE (expired, released or already confirmed), or another change of it landed first", body = StockConflict, content_type = "application/problem+json"),
        (status = 422, body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/reservations/{id}/confirm")]
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<ConfirmReservationRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: ReservationId = path_id(&id, "reservation")?;
    let render = render(StatusCode::CREATED, |o: &Order| OrderDto::from(o));
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .reservations
        .confirm(&actor, &id, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// ACTIVE → RELEASED: the held units are available again at once. Takes no body. Allowed to
/// every role.
#[utoipa::path(tag = "reservations", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, body = ReservationDto),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not ACTIVE (expired, released or confirmed), or another change of it landed first", body = Problem, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/reservations/{id}/release")]
pub async fn release(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: ReservationId = path_id(&id, "reservation")?;
    let render = render_reservation(StatusCode::OK);
    let idem = idempotency::from_request(&req, &[], &render)?;
    let outcome = state
        .services
        .reservations
        .release(&actor, &id, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// Holds an ACTIVE reservation's units for `ttlSeconds` from now instead (longer or shorter).
/// Allowed to every role.
#[utoipa::path(tag = "reservations", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = ExtendReservationRequest, responses(
        (status = 200, body = ReservationDto),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not ACTIVE (expired, released or confirmed), or another change of it landed first", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`ttlSeconds` outside 1–86400", body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/reservations/{id}/extend")]
pub async fn extend(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<ExtendReservationRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: ReservationId = path_id(&id, "reservation")?;
    let render = render_reservation(StatusCode::OK);
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .reservations
        .extend(&actor, &id, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}
