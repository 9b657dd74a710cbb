//! The committed OpenAPI document matches the code.

#[test]
fn committed_openapi_matches_the_code() {
    let generated = api::openapi::document_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is out of date with the code; regenerate it with `just openapi` \
         (or `cargo run -q -p api -- openapi > openapi/openapi.json`)"
    );
}

#[test]
fn every_operation_is_documented_with_a_success_response() {
    let doc: serde_json::Value = serde_json::from_str(&api::openapi::document_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 25, "only {} paths", paths.len());
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{method} {path} documents no success response"
            );
        }
    }
}
