//! `Authenticated`: the verified caller of a request.
//!
//! The tenant comes only from a token signed by this server; the user's current role and active
//! flag then come from `AuthService::authenticate`, so that a deactivated user or a changed role
//! takes effect within a second on every instance, not when the token expires. That use case
//! keeps what it read for a bounded moment (see `domain::auth::cache`), so most requests cost no
//! store round trip for it.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};

use domain::auth::models::Actor;

use crate::http::error::ApiError;
use crate::routes::AppState;

/// The authenticated actor of a request.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
            });
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                ApiError::from(domain::DomainError::Unknown(anyhow::anyhow!(
                    "app state missing"
                )))
            })?;
            let session = token
                .and_then(|t| state.tokens.verify(&t))
                .ok_or_else(ApiError::unauthenticated)?;
            let actor = state.services.auth.authenticate(&session).await?;
            tracing::Span::current().record("tenant_id", tracing::field::display(&actor.tenant_id));
            Ok(Authenticated(actor))
        })
    }
}
