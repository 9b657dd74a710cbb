//! The refusals every operation of a kind can answer, added to the document where a route's own
//! annotation does not list them.
//!
//! Some answers do not come from a handler but from what every handler of a kind shares: the
//! bearer check (401), the JSON body reader (400 malformed, 408 too slow, 413 too large, 415 not
//! JSON, 422 a field refused), the path's id (404, also for another tenant's id), query
//! parameters (422) and the store or the lock being away (503 with `Retry-After`). Listing them by
//! hand on 60-odd operations is how they went missing; deriving them from the operation's own
//! shape keeps the document complete as routes are added. A status a route documents itself is
//! never replaced: its own description is the more precise one.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// Adds the shared refusals to every operation of `doc` that can answer them.
pub fn complete(mut doc: OpenApi) -> OpenApi {
    for (path, item) in doc.paths.paths.iter_mut() {
        let versioned = path.starts_with("/v1/");
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
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
            "Problem",
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
            "Problem",
        ));
    }
    let query = parameters
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    if op.request_body.is_some() {
        refusals.extend([
            ("400", "The body is not well-formed JSON", "Problem"),
            ("408", "The body did not arrive within the body-read deadline", "Problem"),
            ("413", "The body is larger than the api accepts", "Problem"),
            ("415", "The body is not `application/json`", "Problem"),
            (
                "422",
                "A field is missing, of the wrong type or refused by validation; `errors` names each",
                "FieldProblem",
            ),
        ]);
    } else if query {
        refusals.push((
            "422",
            "A query parameter is refused; `errors` names it",
            "FieldProblem",
        ));
    }
    if versioned {
        refusals.push((
            "503",
            "The store or the lock did not answer in time; retry after `Retry-After` seconds",
            "Problem",
        ));
    }
    refusals
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
        let doc = document();
        for (path, item) in &doc.paths.paths {
            for op in [&item.get, &item.post, &item.patch, &item.put, &item.delete]
                .into_iter()
                .flatten()
            {
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
