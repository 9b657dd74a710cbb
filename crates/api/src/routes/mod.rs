//! Route registration. Each module holds the handlers of one resource; a handler parses its
//! input, calls one use case and maps the result.

pub mod auth;
pub mod health;
pub mod locations;
pub mod me;
pub mod orders;
pub mod products;
pub mod purchase_orders;
pub mod reports;
pub mod reservations;
pub mod stock;
pub mod suppliers;
pub mod transfers;
pub mod users;
pub mod variants;

use std::str::FromStr;
use std::sync::Arc;

use utoipa_actix_web::service_config::ServiceConfig;

use domain::events::EventFanout;
use domain::lock::LockManager;
use domain::Services;

use crate::auth::jwt::TokenService;
use crate::http::error::ApiError;

/// What every handler can reach.
pub struct AppState {
    pub services: Services,
    pub tokens: TokenService,
    /// The lock the use cases take: readiness pings it.
    pub lock: Arc<dyn LockManager>,
    /// The cross-instance event fan-out, when configured: readiness pings it.
    pub fanout: Option<Arc<dyn EventFanout>>,
}

/// A path id; one that cannot exist is simply not found (the same answer as a missing one).
pub fn path_id<T: FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(what))
}

/// Everything under `/v1`.
pub fn v1(cfg: &mut ServiceConfig) {
    cfg.service(auth::register)
        .service(auth::login)
        .service(auth::me)
        .service(me::change_password)
        .service(users::list)
        .service(users::create)
        .service(users::get)
        .service(users::update)
        .service(products::list)
        .service(products::create)
        .service(products::get)
        .service(products::update)
        .service(products::remove)
        .service(variants::list)
        .service(variants::create)
        .service(variants::get)
        .service(variants::update)
        .service(variants::remove)
        .service(locations::list)
        .service(locations::create)
        .service(locations::get)
        .service(locations::update)
        .service(locations::levels)
        .service(stock::adjust)
        .service(stock::move_units)
        .service(stock::movements)
        .service(stock::audit)
        .service(suppliers::list)
        .service(suppliers::create)
        .service(suppliers::get)
        .service(suppliers::update)
        .service(suppliers::remove)
        .service(purchase_orders::list)
        .service(purchase_orders::create)
        .service(purchase_orders::get)
        .service(purchase_orders::update)
        .service(purchase_orders::submit)
        .service(purchase_orders::cancel)
        .service(purchase_orders::receive)
        .service(orders::list)
        .service(orders::place)
        .service(orders::get)
        .service(orders::fulfil)
        .service(orders::cancel)
        .service(orders::return_items)
        .service(reservations::list)
        .service(reservations::create)
        .service(reservations::get)
        .service(reservations::confirm)
        .service(reservations::release)
        .service(reservations::extend)
        .service(transfers::list)
        .service(transfers::create)
        .service(transfers::get)
        .service(transfers::update)
        .service(transfers::ship)
        .service(transfers::receive)
        .service(transfers::cancel)
        .service(reports::movements)
        .service(reports::low_stock)
        .service(reports::reorder)
        .service(reports::top_movers)
        .service(reports::valuation)
        .service(reports::stock_at);
}

/// Health and readiness, outside `/v1`.
pub fn probes(cfg: &mut ServiceConfig) {
    cfg.service(health::health).service(health::ready);
}
