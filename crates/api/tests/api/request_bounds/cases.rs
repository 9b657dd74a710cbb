//! The cases of an operation, derived from its request schemas: a value at each declared bound
//! and one just past it.

use serde_json::{json, Value};

use super::fixtures::Fixture;

/// A step into a JSON body.
#[derive(Debug, Clone)]
pub(super) enum Step {
    Key(String),
    Index(usize),
}

/// What a case changes in the fixture's request.
#[derive(Debug, Clone)]
pub(super) enum Edit {
    Body(Vec<Step>, Value),
    Query(String, String),
}

#[derive(Debug)]
pub(super) struct Case {
    /// The bound and the side of it, for the failure message.
    pub(super) what: String,
    /// The field a refusal must name.
    pub(super) field: String,
    pub(super) edit: Edit,
    pub(super) refused: bool,
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
pub(super) fn body_cases(
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
pub(super) fn query_cases(
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

pub(super) fn set(body: &mut Value, path: &[Step], value: Value) {
    match path {
        [] => *body = value,
        [Step::Key(k), rest @ ..] => {
            let obj = body.as_object_mut().expect("an object on the path");
            set(obj.entry(k.clone()).or_insert(Value::Null), rest, value)
        }
        [Step::Index(i), rest @ ..] => set(&mut body[*i], rest, value),
    }
}
