//! The refusals every operation of a kind can answer, added to the document where a route's own
//! annotation does not list them.
//!
//! Some answers do not come from a handler but from what every handler of a kind shares: the
//! bearer check (401), the JSON body reader (400 malformed, 408 too slow, 413 too large, 415 not
//! JSON, 422 a field refused), the path's id (404, also for another tenant's id), query
//! parameters (422), the `Idempotency-Key` (409 while a request with it is in progress, 422 when
//! it comes with another request) and the store or the lock being away (503 with `Retry-After`).
//! Listing them by hand on 60-odd operations is how they went missing; deriving them from the
//! operation's own shape keeps the document complete as routes are added. A status a route
//! documents itself is never replaced: its own description is the more precise one.

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

use crate::http::problem::names;

/// The header that makes a write safe to retry.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The operations of one path, whatever their methods.
pub(crate) fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// Adds the shared refusals to every operation of `doc` that can answer them.
pub fn complete(mut doc: OpenApi) -> OpenApi {
    for (path, item) in doc.paths.paths.iter_mut() {
        let versioned = path.starts_with("/v1/");
        for op in operations_mut(item) {
            for (status, description, schema) in shared_refusals(op, versioned) {
                add_if_missing(op, status, description, schema);
            }
        }
    }
    doc
}

/// The (status, description, problem schema) an operation of this shape can answer.
fn shared_refusals(
    op: &Operation,
    versioned: bool,
) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut refusals = Vec::new();
    let authenticated = op.security.as_ref().is_some_and(|s| !s.is_empty());
    if authenticated {
        refusals.push((
            "401",
            "No token, or one that is invalid, expired or revoked",
            names::PROBLEM,
        ));
    }
    let parameters = op.parameters.as_deref().unwrap_or_default();
    if parameters
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path))
    {
        refusals.push((
            "404",
            "No such resource in the caller's tenant (another tenant's id answers the same)",
            names::PROBLEM,
        ));
    }
    let query = parameters
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let idempotent = takes_idempotency_key(op);
    if idempotent {
        refusals.push((
            "409",
            "A request with this `Idempotency-Key` is still in progress; retry it later",
            names::PROBLEM,
        ));
    }
    if op.request_body.is_some() {
        refusals.extend([
            ("400", "The body is not well-formed JSON", names::PROBLEM),
            (
                "408",
                "The body did not arrive within the body-read deadline",
                names::PROBLEM,
            ),
            (
                "413",
                "The body is larger than the api accepts",
                names::PROBLEM,
            ),
            ("415", "The body is not `application/json`", names::PROBLEM),
        ]);
    }
    if idempotent {
        refusals.push((
            "422",
            "A field is refused (`errors` names each; the `Idempotency-Key` itself among them), or the `Idempotency-Key` came with another request",
            names::VALIDATION_REFUSAL,
        ));
    } else if op.request_body.is_some() {
        refusals.push((
            "422",
            "A field is missing, of the wrong type or refused by validation; `errors` names each",
            names::VALIDATION,
        ));
    } else if query {
        refusals.push((
            "422",
            "A query parameter is refused; `errors` names it",
            names::VALIDATION,
        ));
    }
    if versioned {
        refusals.push((
            "503",
            "The store or the lock did not answer in time; retry after `Retry-After` seconds",
            names::PROBLEM,
        ));
    }
    refusals
}

/// Whether the operation takes an `Idempotency-Key` header.
pub fn takes_idempotency_key(op: &Operation) -> bool {
    op.parameters
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|p| {
            matches!(p.parameter_in, ParameterIn::Header)
                && p.name.eq_ignore_ascii_case(IDEMPOTENCY_KEY)
        })
}

fn add_if_missing(op: &mut Operation, status: &str, description: &str, schema: &str) {
    if op.responses.responses.contains_key(status) {
        return;
    }
    let response: Response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            Content::new(Some(Ref::from_schema_name(schema))),
        )
        .build();
    op.responses
        .responses
        .insert(status.to_owned(), RefOr::T(response));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openapi::document;

    fn statuses(doc: &OpenApi, path: &str, method: &str) -> Vec<String> {
        let item = &doc.paths.paths[path];
        let op = match method {
            "get" => item.get.as_ref(),
            "post" => item.post.as_ref(),
            "patch" => item.patch.as_ref(),
            _ => None,
        }
        .unwrap_or_else(|| panic!("{method} {path}"));
        op.responses.responses.keys().cloned().collect()
    }

    #[test]
    fn every_authenticated_operation_lists_401_and_every_body_its_reader_refusals() {
        for (path, _, op) in operations(&document()) {
            let keys: Vec<&String> = op.responses.responses.keys().collect();
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                assert!(keys.iter().any(|k| *k == "401"), "{path}: {keys:?}");
            }
            if op.request_body.is_some() {
                for s in ["400", "408", "413", "415", "422"] {
                    assert!(keys.iter().any(|k| *k == s), "{path} lacks {s}: {keys:?}");
                }
            }
        }
    }

    /// The schema name every media type of `op`'s answer `status` refers to.
    fn schema_of(op: &Operation, status: &str) -> Option<String> {
        let RefOr::T(response) = op.responses.responses.get(status)? else {
            panic!("{status} is inline");
        };
        let names: Vec<String> = response
            .content
            .values()
            .map(|c| match &c.schema {
                Some(RefOr::Ref(r)) => r.ref_location.rsplit('/').next().unwrap().to_owned(),
                _ => panic!("{status} refers to a component"),
            })
            .collect();
        assert_eq!(names.len(), 1, "{status}: one media type");
        names.into_iter().next()
    }

    fn operations(doc: &OpenApi) -> Vec<(String, &'static str, &Operation)> {
        let mut all = Vec::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("get", &item.get),
                ("post", &item.post),
                ("patch", &item.patch),
                ("put", &item.put),
                ("delete", &item.delete),
            ] {
                if let Some(op) = op {
                    all.push((path.clone(), method, op));
                }
            }
        }
        all
    }

    #[test]
    fn every_refusal_is_a_problem_document_and_every_422_names_its_fields() {
        let problems = [
            names::PROBLEM,
            names::VALIDATION,
            names::VALIDATION_REFUSAL,
            names::STOCK_CONFLICT,
        ];
        for (path, method, op) in operations(&document()) {
            for status in op
                .responses
                .responses
                .keys()
                .filter(|s| s.as_str() >= "400")
            {
                let schema = schema_of(op, status).unwrap();
                assert!(
                    problems.contains(&schema.as_str()),
                    "{method} {path} {status}: {schema}"
                );
            }
            if let Some(schema) = schema_of(op, "422") {
                let expected = if takes_idempotency_key(op) {
                    names::VALIDATION_REFUSAL
                } else {
                    names::VALIDATION
                };
                assert_eq!(schema, expected, "{method} {path}");
            }
        }
    }

    #[test]
    fn every_write_that_takes_stock_types_its_shortage_409() {
        let doc = document();
        let takes_stock = [
            ("/v1/orders", "post"),
            ("/v1/reservations", "post"),
            ("/v1/reservations/{id}/confirm", "post"),
            ("/v1/transfers/{id}/ship", "post"),
            ("/v1/variants/{id}/moves", "post"),
        ];
        for (path, method, op) in operations(&doc) {
            let conflict = schema_of(op, "409");
            if takes_stock.contains(&(path.as_str(), method)) {
                assert_eq!(conflict.as_deref(), Some(names::STOCK_CONFLICT), "{path}");
            } else {
                assert_ne!(conflict.as_deref(), Some(names::STOCK_CONFLICT), "{path}");
            }
        }
    }

    #[test]
    fn a_status_the_route_documents_itself_keeps_its_own_description() {
        let doc = document();
        let login = &doc.paths.paths["/v1/auth/login"].post.as_ref().unwrap();
        let RefOr::T(unauthorized) = &login.responses.responses["401"] else {
            panic!("401 is inline");
        };
        assert!(
            !unauthorized.description.contains("revoked"),
            "log-in's own 401 is kept: {}",
            unauthorized.description
        );
        assert!(statuses(&doc, "/v1/orders/{id}", "get").contains(&"404".to_owned()));
        assert!(statuses(&doc, "/v1/orders", "get").contains(&"422".to_owned()));
    }
}
