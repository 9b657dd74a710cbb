//! Sign-up, log-in and the caller's own profile.

use actix_web::{get, post, web, HttpResponse};

use domain::auth::models::Session;

use super::AppState;
use crate::auth::extractor::Authenticated;
use crate::dto::auth::{
    LoginRequest, LoginResponse, MeResponse, RegisterRequest, RegisterResponse,
};
use crate::http::body::JsonBody;
use crate::http::client_addr::ClientAddress;
use crate::http::error::{ApiError, Problem, ValidationProblem};

/// Create a tenant and its OWNER; answers with a token for the owner.
#[utoipa::path(tag = "auth", request_body = RegisterRequest, responses(
    (status = 201, body = RegisterResponse),
    (status = 409, description = "Slug taken", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Invalid input", body = ValidationProblem, content_type = "application/problem+json"),
    (status = 429, description = "Too many sign-ups from this address or for this slug and email; see Retry-After", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    client: ClientAddress,
    body: JsonBody<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let registration = body.value.into_domain()?;
    let (tenant, user) = state
        .services
        .auth
        .register_from(client.0, registration)
        .await?;
    let issued = state
        .tokens
        .issue(&Session::of(&user))
        .map_err(domain::DomainError::Unknown)?;
    Ok(HttpResponse::Created().json(RegisterResponse {
        tenant: (&tenant).into(),
        user: (&user).into(),
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}

/// Exchange tenant slug, email and password for a token. Every wrong value gives the same 401.
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, description = "Wrong tenant, email or password", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many failed log-ins for this account, or attempts from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    client: ClientAddress,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.value;
    let user = state
        .services
        .auth
        .login_from(client.0, &req.tenant, &req.email, &req.password)
        .await?;
    let issued = state
        .tokens
        .issue(&Session::of(&user))
        .map_err(domain::DomainError::Unknown)?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}

/// The caller and their tenant.
#[utoipa::path(tag = "auth", responses(
    (status = 200, body = MeResponse),
    (status = 401, body = Problem, content_type = "application/problem+json"),
), security(("bearer" = [])))]
#[get("/me")]
pub async fn me(
    state: web::Data<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let (user, tenant) = state.services.auth.me(&actor).await?;
    Ok(HttpResponse::Ok().json(MeResponse {
        user: (&user).into(),
        tenant: (&tenant).into(),
    }))
}
