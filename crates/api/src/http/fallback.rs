//! What answers when no route matched: 405 with `Allow` when the path exists under another
//! method, else 404 — both as problem+json.
//!
//! The known paths come from the generated OpenAPI document, which is built from the same route
//! registrations as the app, so the two cannot disagree.

use actix_web::{web, HttpRequest};

use super::error::{ApiError, ErrorCode};

/// What a template's last segment is when the template covers everything below its prefix.
const REST: &str = "{**}";

/// Path templates (split into segments, `{x}` = any one segment, a final [`REST`] = any
/// remainder) and their methods.
#[derive(Debug, Clone, Default)]
pub struct KnownRoutes(Vec<(Vec<String>, Vec<String>)>);

impl KnownRoutes {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_owned).collect();
                let mut methods: Vec<String> = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter(|(_, has)| *has)
                .map(|(m, _)| m.to_owned())
                .collect();
                if methods.iter().any(|m| m == "GET") {
                    methods.push("HEAD".to_owned());
                }
                (segments, methods)
            })
            .collect();
        Self(routes)
    }

    /// Adds a read-only path served outside the OpenAPI document (the document itself).
    pub fn with_get(self, path: &str) -> Self {
        self.with_read_only(path.split('/').map(str::to_owned).collect())
    }

    /// Adds every read-only path under `prefix` (a folder such as the Swagger UI's `/docs/`).
    pub fn with_get_under(self, prefix: &str) -> Self {
        let mut segments: Vec<String> = prefix
            .trim_end_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect();
        segments.push(REST.to_owned());
        self.with_read_only(segments)
    }

    fn with_read_only(mut self, segments: Vec<String>) -> Self {
        self.0
            .push((segments, vec!["GET".to_owned(), "HEAD".to_owned()]));
        self
    }

    /// The methods allowed on `path`, if any template matches it.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let wanted: Vec<&str> = path.split('/').collect();
        let mut found: Vec<String> = Vec::new();
        let same = |(template, actual): (&String, &&str)| {
            (template.starts_with('{') && !actual.is_empty()) || template == actual
        };
        for (segments, methods) in &self.0 {
            let matches = match segments.split_last() {
                Some((last, prefix)) if last == REST => {
                    wanted.len() > prefix.len() && prefix.iter().zip(&wanted).all(same)
                }
                _ => segments.len() == wanted.len() && segments.iter().zip(&wanted).all(same),
            };
            if matches {
                found.extend(methods.iter().cloned());
            }
        }
        (!found.is_empty()).then_some(found)
    }
}

pub async fn not_matched(
    req: HttpRequest,
    routes: web::Data<KnownRoutes>,
) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    let error = match routes.allowed(req.path()) {
        Some(methods) => ApiError {
            allow: Some(methods.join(", ")),
            ..ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!(
                    "{} is not allowed on {}; allowed: {}",
                    req.method(),
                    req.path(),
                    methods.join(", ")
                ),
            )
        },
        None => ApiError::new(ErrorCode::NotFound, format!("no route for {}", req.path())),
    };
    error.error_response()
}
