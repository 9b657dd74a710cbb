//! Which web pages may talk to the server: CORS for the polling transport, and the same rule
//! enforced on every request.
//!
//! Browsers apply CORS to the HTTP long-polling transport but not to WebSockets, so CORS headers
//! alone would let any page open a WebSocket. [`OriginGuard`] therefore refuses, with 403, every
//! request whose `Origin` header is neither allowed nor the server's own origin. Requests without
//! `Origin` (non-browser clients) pass; they are still subject to the token check.
//!
//! The allow-list: empty allows no cross-origin page (same-origin only), `*` allows any, otherwise
//! exact origins such as `https://app.example.com`.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{HOST, ORIGIN};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The configured origins, normalised.
#[derive(Debug, Clone)]
pub(crate) enum AllowedOrigins {
    Any,
    List(Arc<[String]>),
}

impl AllowedOrigins {
    pub(crate) fn from_config(origins: Vec<String>) -> Self {
        let origins: Vec<String> = origins
            .into_iter()
            .map(|origin| origin.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|origin| !origin.is_empty())
            .collect();
        if origins.iter().any(|origin| origin == "*") {
            AllowedOrigins::Any
        } else {
            AllowedOrigins::List(origins.into())
        }
    }

    /// Whether a request from `origin` to a server reached as `host` may proceed.
    fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.to_ascii_lowercase();
        match self {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => list.contains(&origin) || is_same_origin(&origin, host),
        }
    }

    pub(crate) fn cors_layer(&self) -> CorsLayer {
        let allow_origin = match self {
            AllowedOrigins::Any => AllowOrigin::any(),
            AllowedOrigins::List(list) => AllowOrigin::list(
                list.iter()
                    .filter_map(|origin| HeaderValue::from_str(origin).ok()),
            ),
        };
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([http::header::CONTENT_TYPE])
    }
}

/// `origin` (`scheme://host[:port]`) names the same host and port the request was sent to.
fn is_same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else {
        return false;
    };
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

/// Refuses requests from origins that are not allowed (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct OriginGuardLayer(pub(crate) AllowedOrigins);

impl<S> Layer<S> for OriginGuardLayer {
    type Service = OriginGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OriginGuard {
            allowed: self.0.clone(),
            inner,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct OriginGuard<S> {
    allowed: AllowedOrigins,
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for OriginGuard<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future =
        futures::future::Either<S::Future, std::future::Ready<Result<Response<ResBody>, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let origin = request.headers().get(ORIGIN).map(header_text);
        let host = request.headers().get(HOST).map(header_text);
        match origin {
            Some(origin) if !self.allowed.allows(origin, host) => {
                tracing::debug!(origin, "refused a request from a disallowed origin");
                let mut forbidden = Response::new(ResBody::default());
                *forbidden.status_mut() = StatusCode::FORBIDDEN;
                futures::future::Either::Right(std::future::ready(Ok(forbidden)))
            }
            _ => futures::future::Either::Left(self.inner.call(request)),
        }
    }
}

fn header_text(value: &HeaderValue) -> &str {
    value.to_str().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(origins: &[&str]) -> AllowedOrigins {
        AllowedOrigins::from_config(origins.iter().map(|o| o.to_string()).collect())
    }

    #[test]
    fn an_empty_list_allows_only_the_same_origin() {
        let none = list(&[]);
        assert!(!none.allows("https://evil.example", Some("stock.example:3001")));
        assert!(none.allows("http://stock.example:3001", Some("stock.example:3001")));
        assert!(none.allows("https://STOCK.example:3001", Some("stock.example:3001")));
        assert!(!none.allows("http://stock.example:3000", Some("stock.example:3001")));
        assert!(!none.allows("null", Some("stock.example:3001")));
        assert!(!none.allows("http://stock.example:3001", None));
    }

    #[test]
    fn listed_origins_match_exactly_after_normalising_the_config() {
        let some = list(&[" https://App.example.com/ ", ""]);
        assert!(some.allows("https://app.example.com", Some("api:3001")));
        assert!(!some.allows("http://app.example.com", Some("api:3001")));
        assert!(!some.allows("https://app.example.com.evil", Some("api:3001")));
    }

    #[test]
    fn a_star_allows_any_origin() {
        let any = list(&["https://a.example", "*"]);
        assert!(matches!(any, AllowedOrigins::Any));
        assert!(any.allows("https://whoever.example", None));
    }
}
