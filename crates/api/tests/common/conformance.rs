//! Checks an answer of the api against the OpenAPI document it publishes.
//!
//! The document is what clients are generated from, so an answer it does not describe is a bug
//! in one of the two. Every test binary that drives the api over HTTP sends its requests through
//! [`crate::recording_proxy`], which hands each answer to [`Document::check`]; a violation fails
//! the test that received it (see [`Conformance`]).
//!
//! An answer conforms when:
//! - its status is listed for the operation (method + path template), or the operation has a
//!   `default` answer (`4XX`-style ranges count too);
//! - its `Content-Type` (without parameters) is one the answer documents, and it has a body
//!   exactly when the answer documents content (a `HEAD` answer carries none);
//! - a JSON body is valid against the documented schema, `$ref`s resolved into `components`,
//!   as JSON Schema 2020-12 (what OpenAPI 3.1 schemas are), formats (`uuid`, `date-time`, ...)
//!   included.
//!
//! Object schemas are read as closed: a property the api sends that the schema does not name is
//! a violation (the document must name every field a client can see). Schemas composed with
//! `allOf` stay open, as closing each part would refuse the properties of the others.
//!
//! Not checked: requests whose method and path match no operation of the document. Those are
//! answers the document cannot describe — unknown paths (404) and methods (405), `/openapi.json`
//! and `/docs/` themselves, the Socket.IO listener and the metrics listener, which are served on
//! ports of their own and never pass through the proxy.
//!
//! The validator is the `jsonschema` crate: a maintained, complete JSON Schema implementation
//! with draft 2020-12 and format support, so the checker does not carry a schema engine of its
//! own. Remote references are not needed (the document is self-contained), so it is built
//! without its HTTP and file resolvers.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value};

/// One answer as the client received it.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    pub method: &'a str,
    /// The request target: path, possibly with a query.
    pub target: &'a str,
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The operation documents this answer.
    Conforms,
    /// The method and path are not an operation of the document.
    Unchecked,
    /// The answer is not what the document says; the text names method, path, status and why.
    Violation(String),
}

/// A parsed OpenAPI document, ready to check answers against.
pub struct Document {
    doc: Value,
    templates: Vec<Template>,
    /// The `components` with every object schema closed (see the module docs), the root that
    /// each compiled validator resolves its `$ref`s into.
    components: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

struct Template {
    path: String,
    segments: Vec<Option<String>>,
}

impl Template {
    fn new(path: &str) -> Self {
        let segments = path
            .split('/')
            .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
            .collect();
        Self {
            path: path.to_owned(),
            segments,
        }
    }

    /// How many literal segments matched, when `segments` fits the template.
    fn matches(&self, segments: &[&str]) -> Option<usize> {
        if segments.len() != self.segments.len() {
            return None;
        }
        let mut literal = 0;
        for (want, got) in self.segments.iter().zip(segments) {
            match want {
                Some(s) if s == got => literal += 1,
                Some(_) => return None,
                None if got.is_empty() => return None,
                None => {}
            }
        }
        Some(literal)
    }
}

impl Document {
    /// The project's checked-in `openapi/openapi.json`, loaded once per test binary.
    pub fn project() -> &'static Document {
        static DOCUMENT: OnceLock<Document> = OnceLock::new();
        DOCUMENT.get_or_init(|| {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");
            let text =
                std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path} is readable: {e}"));
            Document::from_json(&text)
        })
    }

    pub fn from_json(text: &str) -> Self {
        let doc: Value = serde_json::from_str(text).expect("the OpenAPI document is JSON");
        let templates = doc["paths"]
            .as_object()
            .expect("the document has paths")
            .keys()
            .map(|p| Template::new(p))
            .collect();
        let mut components = doc.get("components").cloned().unwrap_or(Value::Null);
        close_objects(&mut components);
        Self {
            doc,
            templates,
            components,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// Checks one answer against the document.
    pub fn check(&self, exchange: &Exchange<'_>) -> Verdict {
        let path = exchange.target.split(['?', '#']).next().unwrap_or("");
        let method = exchange.method.to_ascii_uppercase();
        let head = method == "HEAD";
        let key = if head {
            "get".to_owned()
        } else {
            method.to_ascii_lowercase()
        };
        let Some(template) = self.template_of(path) else {
            return Verdict::Unchecked;
        };
        let Some(operation) = self.doc["paths"][template.path.as_str()].get(&key) else {
            return Verdict::Unchecked;
        };
        let at = format!(
            "{method} {path} (operation {} {}) answered {}",
            key.to_ascii_uppercase(),
            template.path,
            exchange.status
        );
        let responses = &operation["responses"];
        let Some((status_key, response)) = response_for(responses, exchange.status) else {
            let listed: Vec<&str> = responses
                .as_object()
                .map(|r| r.keys().map(String::as_str).collect())
                .unwrap_or_default();
            return Verdict::Violation(format!(
                "{at}: status {} is not documented (documented: {})",
                exchange.status,
                listed.join(", ")
            ));
        };
        let response = self.resolve(response);
        let content = response.get("content").and_then(Value::as_object);
        let documented_media: Vec<&str> = content
            .map(|c| c.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if head {
            return Verdict::Conforms;
        }
        let media = exchange.content_type.map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
        if documented_media.is_empty() {
            if exchange.body.is_empty() {
                return Verdict::Conforms;
            }
            return Verdict::Violation(format!(
                "{at}: the documented answer {status_key} has no content, but a body of {} bytes ({}) was sent",
                exchange.body.len(),
                media.as_deref().unwrap_or("no content type"),
            ));
        }
        let Some(media) = media else {
            return Verdict::Violation(format!(
                "{at}: no Content-Type; documented: {}",
                documented_media.join(", ")
            ));
        };
        let Some(media_object) = content.and_then(|c| c.get(&media)) else {
            return Verdict::Violation(format!(
                "{at}: content type `{media}` is not documented (documented: {})",
                documented_media.join(", ")
            ));
        };
        let Some(schema) = media_object.get("schema") else {
            return Verdict::Conforms;
        };
        if !(media == "application/json" || media.ends_with("+json")) {
            return Verdict::Conforms;
        }
        let body: Value = match serde_json::from_slice(exchange.body) {
            Ok(body) => body,
            Err(e) => {
                return Verdict::Violation(format!(
                    "{at}: the `{media}` body is not JSON ({e}): {}",
                    String::from_utf8_lossy(exchange.body)
                ))
            }
        };
        let validator = self.validator(
            &format!("{key} {} {status_key} {media}", template.path),
            schema,
        );
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!("at `{}`: {e}", if at.is_empty() { "/" } else { &at })
            })
            .collect();
        if errors.is_empty() {
            Verdict::Conforms
        } else {
            Verdict::Violation(format!(
                "{at}: the body does not match the schema of {status_key} {media}: {}; body: {body}",
                errors.join("; ")
            ))
        }
    }

    /// The template `path` is an instance of; the one with the most literal segments wins, as
    /// a router prefers `/v1/reports/low-stock` over `/v1/reports/{x}`.
    fn template_of(&self, path: &str) -> Option<&Template> {
        let segments: Vec<&str> = path.split('/').collect();
        self.templates
            .iter()
            .filter_map(|t| t.matches(&segments).map(|literal| (literal, t)))
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, t)| t)
    }

    /// `value`, or what its `$ref` (into this document) points at.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference
                .strip_prefix('#')
                .and_then(|pointer| self.doc.pointer(pointer))
                .map(|target| self.resolve(target))
                .unwrap_or_else(|| panic!("the document resolves {reference}")),
            None => value,
        }
    }

    fn validator(&self, key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
        let mut cache = self.validators.lock().unwrap();
        if let Some(v) = cache.get(key) {
            return v.clone();
        }
        let mut schema = schema.clone();
        close_objects(&mut schema);
        let mut root = Map::new();
        root.insert(
            "$schema".into(),
            Value::from("https://json-schema.org/draft/2020-12/schema"),
        );
        root.insert("components".into(), self.components.clone());
        root.insert("allOf".into(), Value::Array(vec![schema]));
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&Value::Object(root))
            .unwrap_or_else(|e| panic!("the schema of {key} compiles: {e}"));
        let validator = Arc::new(validator);
        cache.insert(key.to_owned(), validator.clone());
        validator
    }
}

/// The documented answer for `status`: its own entry, else a range (`4XX`), else `default`.
fn response_for(responses: &Value, status: u16) -> Option<(String, &Value)> {
    let responses = responses.as_object()?;
    let exact = status.to_string();
    let range = format!("{}XX", status / 100);
    [exact, range, "default".to_owned()]
        .into_iter()
        .find_map(|key| responses.get(&key).map(|r| (key, r)))
}

/// Gives every object schema with `properties` and no `additionalProperties` an
/// `additionalProperties: false`, except the parts of an `allOf`.
fn close_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (key, child) in map.iter_mut() {
                if key == "allOf" {
                    continue;
                }
                close_objects(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// What the proxy of one app saw: every violation, and how many answers were checked.
#[derive(Clone)]
pub struct Recorder {
    document: &'static Document,
    record: Arc<Mutex<Record>>,
}

impl Default for Recorder {
    /// A recorder checking against the project's document.
    fn default() -> Self {
        Self::against(Document::project())
    }
}

#[derive(Default)]
struct Record {
    checked: usize,
    unchecked: usize,
    violations: Vec<String>,
    reported: usize,
}

impl Recorder {
    pub fn against(document: &'static Document) -> Self {
        Self {
            document,
            record: Arc::default(),
        }
    }

    /// Checks `exchange` against the document and keeps the verdict.
    pub fn record(&self, exchange: &Exchange<'_>) -> Verdict {
        let verdict = self.document.check(exchange);
        let mut record = self.record.lock().unwrap();
        match &verdict {
            Verdict::Conforms => record.checked += 1,
            Verdict::Unchecked => record.unchecked += 1,
            Verdict::Violation(v) => {
                record.checked += 1;
                record.violations.push(v.clone());
            }
        }
        verdict
    }

    /// How many answers were checked against the document, and how many were outside it.
    pub fn counts(&self) -> (usize, usize) {
        let record = self.record.lock().unwrap();
        (record.checked, record.unchecked)
    }

    /// Panics naming every violation not reported yet.
    pub fn assert_conforming(&self) {
        let fresh: Vec<String> = {
            let mut record = self.record.lock().unwrap();
            let fresh = record.violations[record.reported..].to_vec();
            record.reported = record.violations.len();
            fresh
        };
        if !fresh.is_empty() {
            panic!(
                "{} answer(s) the OpenAPI document does not describe:\n- {}",
                fresh.len(),
                fresh.join("\n- ")
            );
        }
    }
}

/// Held by a test's app handle: when the last handle goes, every answer the app gave must have
/// conformed, or the test fails (unless it is failing already).
pub struct Conformance {
    pub recorder: Recorder,
    /// Dropped with this, which stops the proxy accepting connections.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Conformance {
    pub fn new(recorder: Recorder, stop: tokio::sync::oneshot::Sender<()>) -> Self {
        Self {
            recorder,
            _stop: stop,
        }
    }
}

impl Drop for Conformance {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.recorder.assert_conforming();
        }
    }
}

#[cfg(test)]
#[allow(dead_code)]
pub mod tests {
    //! The checker against a small document of its own, so each kind of violation is seen.

    use super::*;

    const FIXTURE: &str = r##"{
      "openapi": "3.1.0",
      "info": {"title": "fixture", "version": "1"},
      "paths": {
        "/v1/things/{id}": {
          "get": {
            "responses": {
              "200": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
              "404": {"description": "", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            }
          },
          "delete": {"responses": {"204": {"description": "gone"}, "default": {"description": "", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}}
        },
        "/v1/things/special": {
          "get": {"responses": {"200": {"description": "", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "integer"}}}}}}}
        }
      },
      "components": {
        "schemas": {
          "Thing": {"type": "object", "required": ["id", "count"], "properties": {"id": {"type": "string", "format": "uuid"}, "count": {"type": "integer", "minimum": 0}, "note": {"type": ["string", "null"]}}},
          "Problem": {"type": "object", "required": ["type", "status"], "properties": {"type": {"type": "string"}, "status": {"type": "integer"}}}
        }
      }
    }"##;

    fn fixture() -> Document {
        Document::from_json(FIXTURE)
    }

    fn check(method: &str, target: &str, status: u16, media: Option<&str>, body: &str) -> Verdict {
        fixture().check(&Exchange {
            method,
            target,
            status,
            content_type: media,
            body: body.as_bytes(),
        })
    }

    const THING: &str = r#"{"id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "count": 2}"#;

    fn violation(verdict: Verdict) -> String {
        match verdict {
            Verdict::Violation(v) => v,
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn a_documented_answer_conforms() {
        let id = "/v1/things/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b?x=1";
        assert_eq!(
            check("GET", id, 200, Some("application/json"), THING),
            Verdict::Conforms
        );
        let problem = r#"{"type": "/problems/not-found", "status": 404}"#;
        let media = Some("application/problem+json");
        assert_eq!(check("GET", id, 404, media, problem), Verdict::Conforms);
        assert_eq!(check("DELETE", id, 204, None, ""), Verdict::Conforms);
        assert_eq!(
            check("DELETE", id, 409, media, problem),
            Verdict::Conforms,
            "default"
        );
        assert_eq!(
            check("HEAD", id, 200, Some("application/json"), ""),
            Verdict::Conforms
        );
    }

    #[test]
    fn an_undocumented_status_is_reported_with_method_path_and_status() {
        let v = violation(check(
            "GET",
            "/v1/things/abc",
            500,
            Some("application/json"),
            "{}",
        ));
        assert!(v.contains("GET /v1/things/abc"), "{v}");
        assert!(v.contains("500 is not documented"), "{v}");
        assert!(v.contains("200, 404"), "{v}");
    }

    #[test]
    fn a_body_against_its_schema_is_reported_with_the_field() {
        let media = Some("application/json");
        let v = violation(check(
            "GET",
            "/v1/things/abc",
            200,
            media,
            r#"{"id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "count": -1}"#,
        ));
        assert!(v.contains("/count"), "{v}");
        let v = violation(check(
            "GET",
            "/v1/things/abc",
            200,
            media,
            r#"{"count": 1}"#,
        ));
        assert!(v.contains("\"id\" is a required property"), "{v}");
        let v = violation(check(
            "GET",
            "/v1/things/abc",
            200,
            media,
            r#"{"id": "not-a-uuid", "count": 1}"#,
        ));
        assert!(v.contains("/id") && v.contains("uuid"), "{v}");
        let v = violation(check("GET", "/v1/things/abc", 200, media, "not json"));
        assert!(v.contains("not JSON"), "{v}");
    }

    #[test]
    fn a_property_the_schema_does_not_name_is_reported() {
        let body = r#"{"id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "count": 1, "secret": true}"#;
        let v = violation(check(
            "GET",
            "/v1/things/abc",
            200,
            Some("application/json"),
            body,
        ));
        assert!(v.contains("secret"), "{v}");
    }

    #[test]
    fn a_wrong_content_type_is_reported() {
        let v = violation(check(
            "GET",
            "/v1/things/abc",
            200,
            Some("text/plain; charset=utf-8"),
            THING,
        ));
        assert!(v.contains("`text/plain` is not documented"), "{v}");
        let v = violation(check("GET", "/v1/things/abc", 200, None, THING));
        assert!(v.contains("no Content-Type"), "{v}");
        let v = violation(check(
            "DELETE",
            "/v1/things/abc",
            204,
            Some("application/json"),
            "{}",
        ));
        assert!(v.contains("has no content"), "{v}");
    }

    #[test]
    fn a_literal_segment_wins_over_a_template_and_unknown_paths_are_not_checked() {
        let media = Some("application/json");
        assert_eq!(
            check("GET", "/v1/things/special", 200, media, "[1, 2]"),
            Verdict::Conforms
        );
        assert!(matches!(
            check("GET", "/v1/things/special", 200, media, THING),
            Verdict::Violation(_)
        ));
        assert_eq!(
            check("GET", "/v1/nothing", 404, media, "{}"),
            Verdict::Unchecked
        );
        assert_eq!(
            check("PUT", "/v1/things/abc", 405, media, "{}"),
            Verdict::Unchecked
        );
        assert_eq!(
            check("GET", "/v1/things/", 404, media, "{}"),
            Verdict::Unchecked
        );
    }

    #[test]
    fn a_recorder_fails_on_the_violations_it_saw_once() {
        static FIXTURE_DOCUMENT: OnceLock<Document> = OnceLock::new();
        let recorder = Recorder::against(FIXTURE_DOCUMENT.get_or_init(fixture));
        let ok = Exchange {
            method: "GET",
            target: "/v1/things/special",
            status: 200,
            content_type: Some("application/json"),
            body: b"[1]",
        };
        recorder.record(&ok);
        recorder.assert_conforming();
        let bad = Exchange {
            method: "GET",
            status: 418,
            ..ok
        };
        assert!(matches!(recorder.record(&bad), Verdict::Violation(_)));
        let caught = std::panic::catch_unwind(|| recorder.assert_conforming());
        let message = *caught
            .expect_err("a violation fails")
            .downcast::<String>()
            .unwrap();
        assert!(
            message.contains("GET /v1/things/special") && message.contains("418"),
            "{message}"
        );
        recorder.assert_conforming();
    }
}
