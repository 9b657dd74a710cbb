//! Every bound a request declares in the OpenAPI document is the bound validation enforces.
//!
//! The cases come from the generated document, not from this file: for each operation with a
//! body or query parameters, every declared bound (`minLength`/`maxLength`, `pattern`,
//! `minimum`/`maximum`, `minItems`/`maxItems`, `enum`, `format: uuid`/`date-time`,
//! `maxProperties`, `propertyNames`, `additionalProperties: false`, integer ranges of a `oneOf`)
//! yields a value at the bound, which must not be refused for that field, and one just past it,
//! which must be refused with a 422 problem naming the field, each in an otherwise valid request.
//! The fixtures below only give each operation one valid request (checked to succeed first); a
//! bounded property the fixture leaves out, or an operation without a fixture, fails the test, so
//! a bound declared tomorrow is tested the day it is declared.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{slug, spawn_app, Tenant, TestApp};

/// What an operation's `{id}` names: a resource made afresh for every case, so no case sees
/// another's writes.
#[derive(Debug, Clone, Copy)]
enum Target {
    None,
    Product,
    Variant,
    StockedVariant,
    Location,
    Supplier,
    DraftPurchaseOrder,
    OrderedPurchaseOrder,
    DraftTransfer,
    ShippedTransfer,
    Reservation,
    FulfilledOrder,
    User,
    /// No id: the request is sent with the token of a user made for the case.
    OwnSession,
}

/// One valid request of an operation.
struct Fixture {
    method: Method,
    path: &'static str,
    target: Target,
    body: Option<Value>,
    query: BTreeMap<&'static str, String>,
    /// `(field, value)` a listed enum value that a rule across fields refuses in this fixture
    /// (a move's `to` equal to its `from`): refused, but never for want of being listed.
    cross_field: &'static [(&'static str, &'static str)],
}

impl Fixture {
    fn body(method: Method, path: &'static str, target: Target, body: Value) -> Self {
        Self {
            method,
            path,
            target,
            body: Some(body),
            query: BTreeMap::new(),
            cross_field: &[],
        }
    }

    fn query(path: &'static str, target: Target, query: &[(&'static str, &str)]) -> Self {
        Self {
            method: Method::GET,
            path,
            target,
            body: None,
            query: query.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            cross_field: &[],
        }
    }
}

/// The tenant and the resources every fixture may name.
struct World {
    tenant: Tenant,
    product: String,
    /// Has plenty of stock at `default_location`.
    variant: String,
    /// Has no stock, below its reorder level.
    low_variant: String,
    default_location: String,
    other_location: String,
    supplier: String,
}

fn fixtures(w: &World) -> Vec<Fixture> {
    use Method as M;
    use Target as T;
    let (v, d, l2, s, p) = (
        &w.variant,
        &w.default_location,
        &w.other_location,
        &w.supplier,
        &w.product,
    );
    let line = json!([{"variantId": v, "quantity": 1}]);
    let customer = json!({"name": "Grace", "email": "grace@example.com"});
    let purchase = json!({
        "supplierId": s,
        "lines": [{"variantId": v, "quantity": 1, "unitCost": 650}],
        "expectedAt": "2030-01-01T00:00:00Z",
        "locationId": d,
    });
    let transfer = json!({"fromLocationId": d, "toLocationId": l2, "lines": line});
    let supplier = json!({
        "name": "Mills", "email": "orders@mills.example", "phone": "+44 20", "leadTimeDays": 14,
    });
    let page = [
        ("limit", "10"),
        ("cursor", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
    ];
    let with_page = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        extra.iter().chain(page.iter()).copied().collect()
    };
    let from_to = [
        ("from", "2020-01-01T00:00:00Z"),
        ("to", "2030-01-01T00:00:00Z"),
    ];
    let at = |extra: &[(&'static str, &str)], q: &[(&'static str, &'static str)]| {
        let mut all: Vec<(&'static str, String)> =
            q.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        all.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        all
    };
    let query = |path, target, q: Vec<(&'static str, String)>| Fixture {
        method: M::GET,
        path,
        target,
        body: None,
        query: q.into_iter().collect(),
        cross_field: &[],
    };
    vec![
        Fixture::body(
            M::POST,
            "/v1/auth/register",
            T::None,
            json!({
                "tenantName": "Bounds Ltd", "tenantSlug": slug("bounds"),
                "email": "owner@bounds.example", "password": "correct horse battery", "name": "Owner",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/auth/login",
            T::None,
            json!({
                "tenant": w.tenant.slug, "email": format!("owner@{}.example", w.tenant.slug),
                "password": "correct horse battery",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/me/password",
            T::OwnSession,
            json!({
                "currentPassword": "a long enough password", "newPassword": "a much better passphrase",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/users",
            T::None,
            json!({
                "email": "sam@bounds.example", "name": "Sam", "password": "a long enough password",
                "role": "STAFF",
            }),
        ),
        Fixture::body(
            M::PATCH,
            "/v1/users/{id}",
            T::User,
            json!({
                "name": "Sam", "role": "MANAGER", "active": true,
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/products",
            T::None,
            json!({"name": "Tee", "description": "Soft"}),
        ),
        Fixture::body(
            M::PATCH,
            "/v1/products/{id}",
            T::Product,
            json!({"name": "Tee", "description": "Soft"}),
        ),
        Fixture::body(
            M::POST,
            "/v1/variants",
            T::None,
            json!({
                "productId": p, "sku": "BND-1", "attributes": {"size": "M"}, "price": 1000,
                "reorderLevel": 2,
            }),
        ),
        Fixture::body(
            M::PATCH,
            "/v1/variants/{id}",
            T::Variant,
            json!({
                "productId": p, "sku": "BND-2", "attributes": {"size": "L"}, "price": 1200,
                "reorderLevel": 3,
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/variants/{id}/adjustments",
            T::Variant,
            json!({
                "quantity": 5, "reason": "count", "expectedStock": 0, "locationId": d,
                "state": "available",
            }),
        ),
        Fixture {
            cross_field: &[("to", "available")],
            ..Fixture::body(
                M::POST,
                "/v1/variants/{id}/moves",
                T::StockedVariant,
                json!({
                    "locationId": d, "from": "available", "to": "damaged", "quantity": 1,
                    "reason": "dropped",
                }),
            )
        },
        Fixture::body(
            M::POST,
            "/v1/locations",
            T::None,
            json!({"name": "Shop", "code": "BND-1", "priority": 10}),
        ),
        Fixture::body(
            M::PATCH,
            "/v1/locations/{id}",
            T::Location,
            json!({
                "name": "Shop", "active": true, "isDefault": true, "priority": 5,
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/orders",
            T::None,
            json!({
                "lines": line, "customer": customer, "note": "gift", "locationId": d,
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/orders/{id}/returns",
            T::FulfilledOrder,
            json!({
                "lines": line, "reason": "wrong size", "locationId": d, "state": "available",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/reservations",
            T::None,
            json!({
                "lines": [{"variantId": v, "quantity": 1, "locationId": d}], "ttlSeconds": 900,
                "reference": "cart-1",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/reservations/{id}/confirm",
            T::Reservation,
            json!({
                "customer": customer, "note": "gift",
            }),
        ),
        Fixture::body(
            M::POST,
            "/v1/reservations/{id}/extend",
            T::Reservation,
            json!({"ttlSeconds": 600}),
        ),
        Fixture::body(M::POST, "/v1/suppliers", T::None, supplier.clone()),
        Fixture::body(M::PATCH, "/v1/suppliers/{id}", T::Supplier, supplier),
        Fixture::body(M::POST, "/v1/purchase-orders", T::None, purchase.clone()),
        Fixture::body(
            M::PATCH,
            "/v1/purchase-orders/{id}",
            T::DraftPurchaseOrder,
            purchase,
        ),
        Fixture::body(
            M::POST,
            "/v1/purchase-orders/{id}/receipts",
            T::OrderedPurchaseOrder,
            json!({"lines": line}),
        ),
        Fixture::body(
            M::POST,
            "/v1/reports/low-stock/purchase-orders",
            T::None,
            json!({
                "supplierId": s, "variantIds": [w.low_variant],
            }),
        ),
        Fixture::body(M::POST, "/v1/transfers", T::None, transfer.clone()),
        Fixture::body(M::PATCH, "/v1/transfers/{id}", T::DraftTransfer, transfer),
        Fixture::body(
            M::POST,
            "/v1/transfers/{id}/receipts",
            T::ShippedTransfer,
            json!({"lines": line}),
        ),
        Fixture::query("/v1/locations", T::None, &page),
        Fixture::query("/v1/products", T::None, &page),
        Fixture::query("/v1/users", T::None, &page),
        Fixture::query("/v1/suppliers", T::None, &page),
        Fixture::query(
            "/v1/locations/{id}/levels",
            T::Location,
            &with_page(&[("lowStock", "true")]),
        ),
        query(
            "/v1/movements",
            T::None,
            at(
                &[("variantId", v), ("locationId", d), ("type", "SALE")],
                &[&from_to[..], &page[..]].concat(),
            ),
        ),
        Fixture::query(
            "/v1/orders",
            T::None,
            &[&[("status", "PLACED")], &from_to[..], &page[..]].concat(),
        ),
        query(
            "/v1/purchase-orders",
            T::None,
            at(&[("supplierId", s)], &with_page(&[("status", "DRAFT")])),
        ),
        query(
            "/v1/reports/low-stock",
            T::None,
            at(&[("locationId", d)], &[]),
        ),
        query(
            "/v1/reports/valuation",
            T::None,
            at(&[("locationId", d)], &[]),
        ),
        query(
            "/v1/reports/movements",
            T::None,
            at(
                &[("variantId", v), ("productId", p), ("locationId", d)],
                // Within the 1000 buckets a series may have.
                &[
                    ("from", "2029-01-01T00:00:00Z"),
                    ("to", "2029-06-01T00:00:00Z"),
                    ("bucket", "day"),
                    ("tz", "UTC"),
                ],
            ),
        ),
        Fixture::query(
            "/v1/reports/top-movers",
            T::None,
            &[&from_to[..], &[("type", "SALE"), ("limit", "10")]].concat(),
        ),
        Fixture::query(
            "/v1/reservations",
            T::None,
            &with_page(&[("status", "ACTIVE")]),
        ),
        query(
            "/v1/transfers",
            T::None,
            at(
                &[("fromLocationId", d), ("toLocationId", l2)],
                &with_page(&[("status", "DRAFT")]),
            ),
        ),
        query(
            "/v1/variants",
            T::None,
            at(
                &[("productId", p)],
                &with_page(&[("sku", "BND-1"), ("lowStock", "false")]),
            ),
        ),
        query(
            "/v1/variants/{id}/stock",
            T::Variant,
            at(&[("locationId", d)], &[("at", "2030-01-01T00:00:00Z")]),
        ),
    ]
}

/// A step into a JSON body.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// What a case changes in the fixture's request.
#[derive(Debug, Clone)]
enum Edit {
    Body(Vec<Step>, Value),
    Query(String, String),
}

#[derive(Debug)]
struct Case {
    /// The bound and the side of it, for the failure message.
    what: String,
    /// The field a refusal must name.
    field: String,
    edit: Edit,
    refused: bool,
}

/// `schema` with `$ref` followed and a nullable `oneOf` (`null` or X) reduced to X.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return resolve(doc, &doc["components"]["schemas"][name]);
    }
    if let Some(branches) = schema["oneOf"].as_array() {
        let real: Vec<&Value> = branches.iter().filter(|b| b["type"] != "null").collect();
        if real.len() == 1 && branches.len() == 2 {
            return resolve(doc, real[0]);
        }
    }
    schema
}

fn has_type(schema: &Value, t: &str) -> bool {
    schema["type"] == t
        || schema["type"]
            .as_array()
            .is_some_and(|ts| ts.iter().any(|x| x == t))
}

/// Integer ranges of a `oneOf` whose branches are all integers (a non-zero change).
fn integer_ranges(schema: &Value) -> Option<Vec<(i64, i64)>> {
    let branches = schema["oneOf"].as_array()?;
    branches
        .iter()
        .map(|b| {
            has_type(b, "integer")
                .then(|| Some((b["minimum"].as_i64()?, b["maximum"].as_i64()?)))
                .flatten()
        })
        .collect()
}

const FORMATS: [&str; 2] = ["uuid", "date-time"];

/// Whether `schema` (or anything inside it) declares a bound this test checks.
fn bounded(doc: &Value, schema: &Value) -> bool {
    let s = resolve(doc, schema);
    let keywords = [
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "enum",
        "minItems",
        "maxItems",
        "maxProperties",
        "propertyNames",
    ];
    keywords.iter().any(|k| !s[*k].is_null())
        || s["format"].as_str().is_some_and(|f| FORMATS.contains(&f))
        || s["additionalProperties"] == false
        || s["additionalProperties"].is_object()
        || integer_ranges(s).is_some()
        || s["items"].is_object() && bounded(doc, &s["items"])
        || s["properties"]
            .as_object()
            .is_some_and(|ps| ps.values().any(|p| bounded(doc, p)))
}

/// `base` lengthened (its first character repeated in front) or shortened to `n` characters.
fn sized(base: &str, n: usize) -> String {
    let len = base.chars().count();
    if n <= len {
        return base.chars().take(n).collect();
    }
    let first = base.chars().next().expect("a non-empty base to lengthen");
    std::iter::repeat_n(first, n - len)
        .chain(base.chars())
        .collect()
}

/// Strings tried, in order, for one a `pattern` refuses.
const OFF_PATTERN: [&str; 6] = ["   ", "has space", "-dash-", "a@b", "UPPER_x!", "@"];

/// The values at and past each bound of a scalar `s`, given a valid `base`:
/// `(what, value, refused)`.
fn scalar_cases(s: &Value, base: &Value) -> Vec<(String, Value, bool)> {
    let mut out = Vec::new();
    if let Some(ranges) = integer_ranges(s) {
        let mut sorted = ranges.clone();
        sorted.sort();
        out.push(("below every range".into(), json!(sorted[0].0 - 1), true));
        out.push((
            "above every range".into(),
            json!(sorted.last().unwrap().1 + 1),
            true,
        ));
        for w in sorted.windows(2) {
            if w[0].1 + 1 < w[1].0 {
                out.push(("between two ranges".into(), json!(w[0].1 + 1), true));
            }
        }
        for (lo, hi) in ranges {
            out.push((format!("range end {lo}"), json!(lo), false));
            out.push((format!("range end {hi}"), json!(hi), false));
        }
    }
    if let Some(min) = s["minimum"].as_i64() {
        out.push((format!("minimum {min}"), json!(min), false));
        out.push((format!("minimum {min} - 1"), json!(min - 1), true));
    }
    if let Some(max) = s["maximum"].as_i64() {
        out.push((format!("maximum {max}"), json!(max), false));
        out.push((format!("maximum {max} + 1"), json!(max + 1), true));
    }
    let text = base.as_str();
    let min_len = s["minLength"].as_u64().map(|n| n as usize);
    let max_len = s["maxLength"].as_u64().map(|n| n as usize);
    if let Some(max) = max_len {
        let text = text.expect("a string base for maxLength");
        out.push((format!("maxLength {max}"), json!(sized(text, max)), false));
        out.push((
            format!("maxLength {max} + 1"),
            json!(sized(text, max + 1)),
            true,
        ));
    }
    if let Some(min) = min_len {
        let text = text.expect("a string base for minLength");
        out.push((format!("minLength {min}"), json!(sized(text, min)), false));
        if min > 0 {
            out.push((
                format!("minLength {min} - 1"),
                json!(sized(text, min - 1)),
                true,
            ));
        }
    }
    if let Some(pattern) = s["pattern"].as_str() {
        let re = regex::Regex::new(pattern).expect("a pattern the document can state");
        let text = text.expect("a string base for a pattern");
        assert!(
            re.is_match(text),
            "the fixture's {text:?} does not match {pattern}"
        );
        let within = |c: &str| {
            let n = c.chars().count();
            min_len.is_none_or(|m| n >= m) && max_len.is_none_or(|m| n <= m)
        };
        let off = OFF_PATTERN
            .into_iter()
            .find(|c| within(c) && !re.is_match(c))
            .unwrap_or_else(|| panic!("no candidate refused by {pattern}"));
        out.push((format!("off pattern {pattern}"), json!(off), true));
    }
    match s["format"].as_str() {
        Some("uuid") => out.push(("not a uuid".into(), json!("not-a-uuid"), true)),
        Some("date-time") => out.push(("not a date-time".into(), json!("not-a-time"), true)),
        _ => {}
    }
    if let Some(listed) = s["enum"].as_array() {
        for v in listed.iter().filter(|v| !v.is_null()) {
            out.push((format!("listed {v}"), v.clone(), false));
        }
        let unlisted = if has_type(s, "boolean") {
            [json!(true), json!(false)]
                .into_iter()
                .find(|b| !listed.contains(b))
        } else {
            Some(json!("NOT_LISTED"))
        };
        if let Some(u) = unlisted {
            out.push((format!("unlisted {u}"), u, true));
        }
    }
    out
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Appends the cases of `schema` at `path` (valued `base` in the fixture) to `out`, and the
/// bounded properties the fixture leaves out to `missing`.
fn body_cases(
    doc: &Value,
    schema: &Value,
    base: &Value,
    field: &str,
    path: Vec<Step>,
    out: &mut Vec<Case>,
    missing: &mut Vec<String>,
) {
    let s = resolve(doc, schema);
    let mut push = |what: String, field: String, at: Vec<Step>, value: Value, refused: bool| {
        out.push(Case {
            what,
            field,
            edit: Edit::Body(at, value),
            refused,
        })
    };
    if let Some(props) = s["properties"].as_object() {
        if s["additionalProperties"] == false {
            let mut at = path.clone();
            at.push(Step::Key("unexpectedField".into()));
            push(
                "an unknown field".into(),
                join(field, "unexpectedField"),
                at,
                json!(true),
                true,
            );
        }
        for (name, prop) in props {
            let child = join(field, name);
            match base.get(name) {
                Some(value) => {
                    let mut at = path.clone();
                    at.push(Step::Key(name.clone()));
                    body_cases(doc, prop, value, &child, at, out, missing);
                }
                None if bounded(doc, prop) => missing.push(child),
                None => {}
            }
        }
        return;
    }
    if has_type(s, "array") {
        let items = base.as_array().expect("an array base");
        assert!(!items.is_empty(), "{field}: the fixture's array is empty");
        let copies = |n: usize| json!(vec![items[0].clone(); n]);
        if let Some(min) = s["minItems"].as_u64() {
            let min = min as usize;
            push(
                format!("minItems {min}"),
                field.into(),
                path.clone(),
                copies(min),
                false,
            );
            if min > 0 {
                push(
                    format!("minItems {min} - 1"),
                    field.into(),
                    path.clone(),
                    copies(min - 1),
                    true,
                );
            }
        }
        if let Some(max) = s["maxItems"].as_u64() {
            let max = max as usize;
            push(
                format!("maxItems {max}"),
                field.into(),
                path.clone(),
                copies(max),
                false,
            );
            push(
                format!("maxItems {max} + 1"),
                field.into(),
                path.clone(),
                copies(max + 1),
                true,
            );
        }
        let mut at = path;
        at.push(Step::Index(0));
        body_cases(
            doc,
            &s["items"],
            &items[0],
            &format!("{field}[0]"),
            at,
            out,
            missing,
        );
        return;
    }
    if has_type(s, "object") {
        // A map: its bounds are named by the map's own field.
        if let Some(max) = s["maxProperties"].as_u64() {
            let map =
                |n: u64| Value::Object((0..n).map(|i| (format!("k{i}"), json!("v"))).collect());
            push(
                format!("maxProperties {max}"),
                field.into(),
                path.clone(),
                map(max),
                false,
            );
            push(
                format!("maxProperties {max} + 1"),
                field.into(),
                path.clone(),
                map(max + 1),
                true,
            );
        }
        for (what, key, refused) in scalar_cases(resolve(doc, &s["propertyNames"]), &json!("k")) {
            let key = key.as_str().expect("a key").to_owned();
            push(
                format!("key {what}"),
                field.into(),
                path.clone(),
                json!({key: "v"}),
                refused,
            );
        }
        if s["additionalProperties"].is_object() {
            for (what, value, refused) in
                scalar_cases(resolve(doc, &s["additionalProperties"]), &json!("v"))
            {
                push(
                    format!("value {what}"),
                    field.into(),
                    path.clone(),
                    json!({"k": value}),
                    refused,
                );
            }
        }
        return;
    }
    for (what, value, refused) in scalar_cases(s, base) {
        push(what, field.into(), path.clone(), value, refused);
    }
}

/// The cases of an operation's query parameters, as strings.
fn query_cases(
    doc: &Value,
    op: &Value,
    fixture: &Fixture,
    out: &mut Vec<Case>,
    missing: &mut Vec<String>,
) {
    for p in op["parameters"].as_array().into_iter().flatten() {
        if p["in"] != "query" {
            continue;
        }
        let name = p["name"].as_str().unwrap();
        let s = resolve(doc, &p["schema"]);
        let Some(base) = fixture.query.get(name) else {
            if bounded(doc, s) || !has_type(s, "string") {
                missing.push(name.to_owned());
            }
            continue;
        };
        let mut cases = scalar_cases(s, &json!(base));
        if has_type(s, "integer") {
            cases.push(("not an integer".into(), json!("ten"), true));
        }
        if has_type(s, "boolean") {
            cases.push(("not a boolean".into(), json!("maybe"), true));
        }
        for (what, value, refused) in cases {
            let value = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            out.push(Case {
                what,
                field: name.to_owned(),
                edit: Edit::Query(name.to_owned(), value),
                refused,
            });
        }
    }
}

fn set(body: &mut Value, path: &[Step], value: Value) {
    match path {
        [] => *body = value,
        [Step::Key(k), rest @ ..] => {
            let obj = body.as_object_mut().expect("an object on the path");
            set(obj.entry(k.clone()).or_insert(Value::Null), rest, value)
        }
        [Step::Index(i), rest @ ..] => set(&mut body[*i], rest, value),
    }
}

/// The id and token a case of `target` runs with.
async fn make(app: &TestApp, w: &World, target: Target) -> (Option<String>, String) {
    let token = w.tenant.token.as_str();
    let created = |(status, body): (StatusCode, Value)| {
        assert!(status.is_success(), "{target:?}: {status} {body}");
        body["id"].as_str().unwrap().to_owned()
    };
    let post = |path: String, body: Value| async move { app.post(path, token, body).await };
    let purchase = json!({
        "supplierId": w.supplier,
        "lines": [{"variantId": w.variant, "quantity": 10, "unitCost": 650}],
        "locationId": w.default_location,
    });
    let id = match target {
        Target::None => None,
        Target::OwnSession => return (None, app.user_token(&w.tenant, "STAFF").await),
        Target::Product => Some(app.product(token, "Bounded").await),
        Target::Variant | Target::StockedVariant => {
            let v = created(
                post(
                    "/v1/variants".into(),
                    json!({"productId": w.product, "sku": slug("V"), "price": 1000}),
                )
                .await,
            );
            if matches!(target, Target::StockedVariant) {
                app.adjust(token, &v, Some(&w.default_location), 10).await;
            }
            Some(v)
        }
        Target::Location => Some(app.location(token, &slug("L"), 50).await),
        Target::Supplier => Some(created(
            post("/v1/suppliers".into(), json!({"name": "S"})).await,
        )),
        Target::DraftPurchaseOrder | Target::OrderedPurchaseOrder => {
            let po = created(post("/v1/purchase-orders".into(), purchase).await);
            if matches!(target, Target::OrderedPurchaseOrder) {
                created(post(format!("/v1/purchase-orders/{po}/submit"), json!({})).await);
            }
            Some(po)
        }
        Target::DraftTransfer | Target::ShippedTransfer => {
            let t = app
                .transfer(
                    token,
                    &w.default_location,
                    &w.other_location,
                    &[(&w.variant, 1)],
                )
                .await;
            if matches!(target, Target::ShippedTransfer) {
                created(post(format!("/v1/transfers/{t}/ship"), json!({})).await);
            }
            Some(t)
        }
        Target::Reservation => Some(created(
            post(
                "/v1/reservations".into(),
                json!({"lines": [{"variantId": w.variant, "quantity": 1}], "ttlSeconds": 900}),
            )
            .await,
        )),
        Target::FulfilledOrder => {
            let o = created(
                post(
                    "/v1/orders".into(),
                    json!({"lines": [{"variantId": w.variant, "quantity": 2}], "locationId": w.default_location}),
                )
                .await,
            );
            app.fulfil_all(token, std::slice::from_ref(&o)).await;
            Some(o)
        }
        Target::User => Some(created(
            post(
                "/v1/users".into(),
                json!({"email": format!("{}@bounds.example", slug("u")), "name": "U",
                       "password": "a long enough password", "role": "STAFF"}),
            )
            .await,
        )),
    };
    (id, w.tenant.token.clone())
}

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

async fn world(app: &TestApp) -> World {
    let tenant = app.register(&slug("bnd")).await;
    let token = tenant.token.as_str();
    let default_location = app.default_location(token).await;
    let variant = app.variant_with_stock(token, "BND-STOCK", 100_000).await;
    let low_variant = app.variant_with_stock(token, "BND-LOW", 0).await;
    let product = app.product(token, "Bounds").await;
    let other_location = app.location(token, "BND-2ND", 20).await;
    let (status, s) = app
        .post("/v1/suppliers", token, json!({"name": "Mills"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    World {
        supplier: s["id"].as_str().unwrap().to_owned(),
        tenant,
        product,
        variant,
        low_variant,
        default_location,
        other_location,
    }
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
                let ok = if case.refused {
                    status == StatusCode::UNPROCESSABLE_ENTITY && problem && named
                } else if crossed {
                    status == StatusCode::UNPROCESSABLE_ENTITY && named
                } else {
                    !status.is_server_error()
                        && !(status == StatusCode::UNPROCESSABLE_ENTITY && named)
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
