//! Transfers between two locations of the tenant: draft, edit, ship, receive, cancel.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use domain::ids::TransferId;
use domain::transfers::models::Transfer;

use super::{path_id, AppState};
use crate::auth::extractor::Authenticated;
use crate::dto::purchasing::ReceiptRequest;
use crate::dto::transfers::{
    CreateTransferRequest, TransferDto, TransferPage, TransferQuery, UpdateTransferRequest,
};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, Problem, StockConflict, ValidationProblem, ValidationRefusal};
use crate::http::etag::{etag, precondition};
use crate::http::idempotency::{self, render, respond, Render};
use crate::http::query::PageQuery;

fn render_transfer(status: StatusCode) -> Render<Transfer> {
    render(status, |x: &Transfer| TransferDto::from(x))
}

/// List transfers, newest first.
#[utoipa::path(tag = "transfers", params(TransferQuery, PageQuery), responses(
    (status = 200, body = TransferPage),
    (status = 422, body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/transfers")]
pub async fn list(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    filter: web::Query<TransferQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter.into_domain()?;
    let page = state
        .services
        .transfers
        .list(&actor, &filter, &page.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(TransferPage::from_page(page, |t| (&t).into())))
}

/// Draft a transfer between two distinct active locations; nothing moves until it is shipped.
#[utoipa::path(tag = "transfers", request_body = CreateTransferRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, body = TransferDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown, inactive or identical locations; unknown or repeated variant; line named", body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/transfers")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<CreateTransferRequest>,
) -> Result<HttpResponse, ApiError> {
    let render = render_transfer(StatusCode::CREATED);
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .transfers
        .create(&actor, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// One transfer with what each line has received and has in transit; `ETag` is its version
/// (every change moves it), for `If-Match` on PATCH.
#[utoipa::path(tag = "transfers", params(("id" = String, Path)), responses(
    (status = 200, body = TransferDto, headers(("ETag" = String, description = "The transfer's version (strong)"))),
    (status = 404, body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/transfers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: TransferId = path_id(&id, "transfer")?;
    let transfer = state.services.transfers.get(&actor, &id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(transfer.version))
        .json(TransferDto::from(&transfer)))
}

/// Edit a DRAFT transfer; `lines` replaces all lines. `If-Match` (optional) makes the edit
/// conditional on the version read.
#[utoipa::path(tag = "transfers", params(("id" = String, Path),
    ("If-Match" = Option<String>, Header, description = "ETag of the version this edit is based on; `*` for any")),
    request_body = UpdateTransferRequest, responses(
    (status = 200, body = TransferDto, headers(("ETag" = String, description = "The new version"))),
    (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "The transfer changed since the If-Match version; nothing written", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "Not DRAFT, or changed concurrently", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = ValidationProblem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[patch("/transfers/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<UpdateTransferRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: TransferId = path_id(&id, "transfer")?;
    let condition = precondition(&req)?;
    let transfer = state
        .services
        .transfers
        .update(&actor, &id, body.value.into_domain()?, condition)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(transfer.version))
        .json(TransferDto::from(&transfer)))
}

/// DRAFT → SHIPPED: one TRANSFER_OUT movement per line at the source, all or none.
#[utoipa::path(tag = "transfers", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, body = TransferDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock at the source (`shortages` lists every short line with its `locationId`), or not DRAFT", body = StockConflict, content_type = "application/problem+json"),
        (status = 503, description = "Busy; retry after Retry-After", body = Problem, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/transfers/{id}/ship")]
pub async fn ship(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: TransferId = path_id(&id, "transfer")?;
    let render = render_transfer(StatusCode::OK);
    let idem = idempotency::from_request(&req, &[], &render)?;
    let outcome = state.services.transfers.ship(&actor, &id, idem).await?;
    Ok(respond(outcome, &render))
}

/// Record units that arrived: one TRANSFER_IN movement per line at the destination. Partial
/// receipts are allowed; more than is in transit on a line is 409 and writes nothing.
#[utoipa::path(tag = "transfers", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = ReceiptRequest, responses(
        (status = 200, body = TransferDto),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Over-receipt, or not SHIPPED or PARTIALLY_RECEIVED", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = ValidationRefusal, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/transfers/{id}/receipts")]
pub async fn receive(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
    body: JsonBody<ReceiptRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: TransferId = path_id(&id, "transfer")?;
    let render = render_transfer(StatusCode::OK);
    let idem = idempotency::from_request(&req, &body.raw, &render)?;
    let outcome = state
        .services
        .transfers
        .receive(&actor, &id, body.value.into_domain()?, idem)
        .await?;
    Ok(respond(outcome, &render))
}

/// DRAFT → CANCELLED; nothing had moved.
#[utoipa::path(tag = "transfers", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, body = TransferDto),
        (status = 403, description = "The caller's role may not do this (STAFF)", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not DRAFT", body = Problem, content_type = "application/problem+json"),
    ), security(("bearer" = [])))]
#[post("/transfers/{id}/cancel")]
pub async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: TransferId = path_id(&id, "transfer")?;
    let render = render_transfer(StatusCode::OK);
    let idem = idempotency::from_request(&req, &[], &render)?;
    let outcome = state.services.transfers.cancel(&actor, &id, idem).await?;
    Ok(respond(outcome, &render))
}
