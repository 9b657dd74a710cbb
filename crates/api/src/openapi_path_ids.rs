//! Every path parameter of the api is a resource's id, and every id is a UUID.
//!
//! Routes declare `("id" = String, Path)`: the handler takes the raw text and answers a malformed
//! id with 404, as it does an unknown one. The document still says what an id looks like:
//! `format: uuid` on each path parameter, set here once rather than on 30-odd annotations.

use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, OpenApi, RefOr, SchemaFormat};

use crate::openapi_problems::operations_mut;

/// Gives every path parameter of `doc` the schema of a UUID.
pub fn complete(mut doc: OpenApi) -> OpenApi {
    for item in doc.paths.paths.values_mut() {
        for op in operations_mut(item) {
            for p in op.parameters.iter_mut().flatten() {
                if matches!(p.parameter_in, ParameterIn::Path) {
                    p.schema = Some(RefOr::T(uuid_schema()));
                }
            }
        }
    }
    doc
}

fn uuid_schema() -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use crate::openapi::document;

    #[test]
    fn every_path_parameter_is_a_uuid() {
        let doc: serde_json::Value = serde_json::to_value(document()).unwrap();
        let mut seen = 0;
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    if p["in"] == "path" {
                        assert_eq!(p["schema"]["format"], "uuid", "{p}");
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen > 20, "only {seen} path parameters");
    }
}
