//! Every bound a request declares in the OpenAPI document is the bound validation enforces.
//!
//! The cases come from the generated document, not from this file: for each operation with a
//! body or query parameters, every declared bound (`minLength`/`maxLength`, `pattern`,
//! `minimum`/`maximum`, `minItems`/`maxItems`, `enum`, `format: uuid`/`date-time`,
//! `maxProperties`, `propertyNames`, `additionalProperties: false`, integer ranges of a `oneOf`)
//! yields a value at the bound, which must not be refused for that field, and one just past it,
//! which must be refused with a 422 problem naming the field, each in an otherwise valid request.
//! The fixtures ([`fixtures`]) only give each operation one valid request (checked to succeed first); a
//! bounded property the fixture leaves out, or an operation without a fixture, fails the test, so
//! a bound declared tomorrow is tested the day it is declared.

mod cases;
mod fixtures;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};
use cases::{body_cases, query_cases, set, Edit};
use fixtures::{fixtures, make, world, Fixture, World};

/// Sends `fixture` changed by `edit`: the status, whether the answer is problem+json, the body.
async fn send(
    app: &TestApp,
    w: &World,
    fixture: &Fixture,
    edit: Option<&Edit>,
) -> (StatusCode, bool, Value) {
    let (id, token) = make(app, w, fixture.target).await;
    let path = match &id {
        Some(id) => fixture.path.replace("{id}", id),
        None => fixture.path.to_owned(),
    };
    let mut url = reqwest::Url::parse(&format!("{}{}", app.address, path)).unwrap();
    let mut query = fixture.query.clone();
    let mut body = fixture.body.clone();
    match edit {
        Some(Edit::Query(k, v)) => {
            let k = query
                .keys()
                .find(|q| **q == k.as_str())
                .copied()
                .expect("a fixture key");
            query.insert(k, v.clone());
        }
        Some(Edit::Body(path, value)) => set(body.as_mut().unwrap(), path, value.clone()),
        None => {}
    }
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in &query {
            pairs.append_pair(k, v);
        }
    }
    let mut req = app
        .client
        .request(fixture.method.clone(), url)
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let problem = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, problem, body)
}

fn names(body: &Value, field: &str) -> bool {
    body["errors"]
        .as_array()
        .is_some_and(|es| es.iter().any(|e| e["field"] == field))
}

#[tokio::test]
async fn every_declared_request_bound_is_the_one_validation_enforces() {
    let Some(app) = spawn_app().await else { return };
    let doc: Value = serde_json::from_str(&api::openapi::document_json()).unwrap();
    let w = world(&app).await;
    let fixtures = fixtures(&w);
    let mut failures = Vec::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let body_schema = &op["requestBody"]["content"]["application/json"]["schema"];
            let has_query = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            if body_schema.is_null() && !has_query {
                continue;
            }
            let label = format!("{} {path}", method.to_uppercase());
            let Some(fixture) = fixtures
                .iter()
                .find(|f| f.path == path && f.method.as_str().eq_ignore_ascii_case(method))
            else {
                failures.push(format!("{label}: no fixture"));
                continue;
            };
            let mut cases = Vec::new();
            let mut missing = Vec::new();
            if let Some(body) = &fixture.body {
                body_cases(
                    &doc,
                    body_schema,
                    body,
                    "",
                    Vec::new(),
                    &mut cases,
                    &mut missing,
                );
            }
            query_cases(&doc, op, fixture, &mut cases, &mut missing);
            if !missing.is_empty() {
                failures.push(format!(
                    "{label}: the fixture leaves out bounded {missing:?}"
                ));
            }
            let (status, _, body) = send(&app, &w, fixture, None).await;
            if !status.is_success() {
                failures.push(format!(
                    "{label}: the fixture itself answers {status} {body}"
                ));
                continue;
            }
            for case in cases {
                checked += 1;
                let (status, problem, body) = send(&app, &w, fixture, Some(&case.edit)).await;
                let named = names(&body, &case.field);
                let crossed = matches!(&case.edit, Edit::Body(_, Value::String(v))
                    if fixture.cross_field.contains(&(case.field.as_str(), v.as_str())));
                let refused_here = status == StatusCode::UNPROCESSABLE_ENTITY && named;
                let ok = if case.refused {
                    refused_here && problem
                } else if crossed {
                    refused_here
                } else {
                    !status.is_server_error() && !refused_here
                };
                if !ok {
                    let side = if case.refused { "past" } else { "at" };
                    failures.push(format!(
                        "{label} {} ({side}: {}): {status} {body}",
                        case.field, case.what
                    ));
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} cases");
    assert!(
        failures.is_empty(),
        "{} of {checked} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
