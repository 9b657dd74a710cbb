//! Schemas of the request fields whose bounds a field attribute cannot state.
//!
//! Most bounds are written on the fields themselves (`#[schema(max_length = 200)]`), and utoipa
//! takes only literals there; these few need a keyword utoipa's attributes lack (`maxProperties`,
//! `propertyNames`, a non-zero integer, a boolean that may only be `true`), so they are built here,
//! from the domain's own constants. The request-bounds API test walks the generated document and
//! proves every declared bound, literal or built, is the one validation enforces.

use serde_json::{json, Value};
use utoipa::openapi::schema::{
    AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{extensions::Extensions, RefOr};
use utoipa::ToSchema;

use domain::values::{
    ATTRIBUTES_MAX_ENTRIES, ATTRIBUTE_KEY_MAX_CHARS, ATTRIBUTE_VALUE_MAX_CHARS, MAX_QUANTITY,
};

/// A unit state a request may name (`state`, `from`, `to`), as `UnitState::parse` reads it.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // only its schema is used: the field stays a string, parsed by the domain
pub enum UnitStateName {
    Available,
    Damaged,
    QualityControl,
    SafetyStock,
}

/// A state returned units may come back into: never `safetyStock`, set aside only by a move.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // only its schema is used
pub enum ReturnStateName {
    Available,
    Damaged,
    QualityControl,
}

/// A bucket of the movement series, as `Bucket::parse` reads it.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // only its schema is used
pub enum BucketName {
    Hour,
    Day,
    Week,
}

fn attributes_object(nullable: bool) -> ObjectBuilder {
    let kind = if nullable {
        SchemaType::from_iter([Type::Object, Type::Null])
    } else {
        SchemaType::Type(Type::Object)
    };
    let value = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(ATTRIBUTE_VALUE_MAX_CHARS));
    let key = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(ATTRIBUTE_KEY_MAX_CHARS))
        .pattern(Some(r"\S"));
    // utoipa's builder has no `maxProperties`; it is one more member of the schema object.
    let max_entries = Extensions::from_iter([("maxProperties", json!(ATTRIBUTES_MAX_ENTRIES))]);
    ObjectBuilder::new()
        .schema_type(kind)
        .description(Some(format!(
            "{}Up to {ATTRIBUTES_MAX_ENTRIES} entries; keys of 1–{ATTRIBUTE_KEY_MAX_CHARS} \
             characters (not blank), values of at most {ATTRIBUTE_VALUE_MAX_CHARS}.",
            if nullable { "Replaces them all. " } else { "" }
        )))
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(Schema::Object(
            value.build(),
        )))))
        .property_names(Some(Schema::Object(key.build())))
        .extensions(Some(max_entries))
        .examples([json!({"size": "M", "color": "red"})])
}

/// A variant's attributes (default none).
pub fn attributes() -> Schema {
    Schema::Object(attributes_object(false).build())
}

/// A variant's attributes in a patch: absent or `null` leaves them as they are.
pub fn attributes_or_null() -> Schema {
    Schema::Object(attributes_object(true).build())
}

/// A signed, non-zero stock change of at most [`MAX_QUANTITY`] either way.
pub fn stock_delta() -> Schema {
    let side = |min: i64, max: i64| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .minimum(Some(min as f64))
            .maximum(Some(max as f64))
            .build()
    };
    Schema::OneOf(
        OneOfBuilder::new()
            .item(side(-MAX_QUANTITY, -1))
            .item(side(1, MAX_QUANTITY))
            .description(Some(
                "Signed, non-zero: +10 adds ten units, −3 removes three.",
            ))
            .examples([json!(10)])
            .build(),
    )
}

/// `isDefault` of a location patch: only `true` (or `null`, which changes nothing).
pub fn only_true() -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Boolean, Type::Null]))
            .enum_values(Some([Value::Bool(true), Value::Null]))
            .description(Some(
                "Only `true`: makes this location the default (the previous one stops being it).",
            ))
            .examples([json!(true)])
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use domain::reports::buckets::Bucket;
    use domain::stock::state::UnitState;
    use utoipa::PartialSchema;

    use super::*;

    fn names(schema: RefOr<Schema>) -> Vec<String> {
        let RefOr::T(Schema::Object(o)) = schema else {
            panic!("an inline enum");
        };
        o.enum_values
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_named_states_and_buckets_are_the_ones_the_domain_parses() {
        let states = names(UnitStateName::schema());
        let parsed: Vec<&str> = UnitState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(states, parsed);
        let returns = names(ReturnStateName::schema());
        assert!(returns.iter().all(|s| UnitState::parse(s).is_some()));
        assert!(!returns.contains(&UnitState::SafetyStock.as_str().to_owned()));
        for b in names(BucketName::schema()) {
            assert!(Bucket::parse(&b).is_some(), "{b}");
        }
    }
}
