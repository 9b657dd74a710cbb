//! The OpenAPI document, generated from the route registrations themselves.
//!
//! `document()` registers the same routes as the running app into a throw-away app, so the
//! document cannot list a route the server does not have. The committed copy at
//! `openapi/openapi.json` is checked against it by a test (`just openapi` rewrites it).

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, AppExt, UtoipaApp};
use utoipa_swagger_ui::SwaggerUi;

use crate::http::problem::{
    FieldProblem, InsufficientStockProblem, Problem, ShortageProblem, StockConflict,
    ValidationProblem, ValidationRefusal,
};
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Stockroom API",
        description = "Multi-tenant inventory: catalog, stock per location and by state, the stock ledger, transfers between locations, suppliers, purchase orders, checkout reservations and customer orders.\n\nAuthenticate with `POST /v1/auth/register` or `POST /v1/auth/login` and send `Authorization: Bearer <token>`. Errors are RFC 9457 `application/problem+json`. Money is in integer minor units. Lists page with `?limit` and `?cursor`. Every creating or changing POST accepts an `Idempotency-Key` header.",
        license(name = "Apache-2.0")
    ),
    components(schemas(
        Problem,
        ValidationProblem,
        InsufficientStockProblem,
        StockConflict,
        ValidationRefusal,
        FieldProblem,
        ShortageProblem
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-up, log-in, the caller"),
        (name = "users", description = "The tenant's users (OWNER)"),
        (name = "products", description = "Products group variants"),
        (name = "variants", description = "Sellable SKUs with stock"),
        (name = "locations", description = "Warehouses, shops and sites that hold stock, and their levels"),
        (name = "stock", description = "Adjustments, moves between states, the movement ledger, the audit"),
        (name = "transfers", description = "Stock moved between locations"),
        (name = "suppliers", description = "Who stock comes from"),
        (name = "purchase-orders", description = "Stock coming in"),
        (name = "orders", description = "Customer orders: stock going out"),
        (name = "reservations", description = "Checkout holds: units set aside while a customer pays, confirmed into an order, released, or expired"),
        (name = "reports", description = "Dashboard analytics from the ledger"),
        (name = "health", description = "Probes"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/openapi.json";
/// The folder the Swagger UI pages are served from.
pub const DOCS_FOLDER: &str = "/docs/";

/// The Swagger UI over `doc`, at [`DOCS_FOLDER`], with the document at [`DOCUMENT_PATH`].
/// The shared refusals ([`crate::openapi_problems`]) are added to `doc` first.
pub fn swagger_ui(doc: utoipa::openapi::OpenApi) -> SwaggerUi {
    SwaggerUi::new(format!("{DOCS_FOLDER}{{_:.*}}")).url(DOCUMENT_PATH, completed(doc))
}

/// Mounts every documented route, with the document's header, on `app`. The server and
/// [`document`] both go through here, so the document cannot list a route the server does not
/// have, or miss one it has.
pub fn mount<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .service(scope("/v1").configure(routes::v1))
        .configure(routes::probes)
}

/// The document of every route the app serves.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, doc) = mount(App::new().into_utoipa_app()).split_for_parts();
    completed(doc)
}

/// `doc` with what every operation shares added: the refusals of its kind and the path ids' format.
fn completed(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    crate::openapi_path_ids::complete(crate::openapi_problems::complete(doc))
}

pub fn document_json() -> String {
    document()
        .to_pretty_json()
        .expect("the OpenAPI document always serializes")
}
