//! The JSON body extractor.
//!
//! It keeps the raw bytes (an idempotency key's fingerprint is computed over them) and reports
//! bad input precisely: unparsable JSON is 400, a well-formed body with a wrong, missing or unknown
//! field is 422 naming that field (`lines[1].quantity`), and a body over 1 MiB is 413.
//!
//! The whole body must arrive within [`BodyReadTimeout`] (actix bounds the request head, not the
//! body): a client trickling bytes to hold a connection and a worker's attention is cut with 408
//! and `Connection: close`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, FromRequest, HttpRequest};
use futures::StreamExt;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ErrorCode};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Longest the body of one request may take to arrive, from the moment the handler asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyReadTimeout(pub Duration);

impl Default for BodyReadTimeout {
    fn default() -> Self {
        Self(Duration::from_secs(30))
    }
}

/// A deserialized JSON body and the bytes it came from.
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let ct = ct.to_ascii_lowercase();
                ct.starts_with("application/json") || ct.contains("+json")
            })
            .unwrap_or(true);
        let declared_too_large = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|n| n > MAX_BODY_BYTES);
        let deadline = req
            .app_data::<web::Data<BodyReadTimeout>>()
            .map_or_else(BodyReadTimeout::default, |d| *d.get_ref());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "send the body as application/json",
                ));
            }
            if declared_too_large {
                return Err(too_large());
            }
            let read = async {
                let mut buf = actix_web::web::BytesMut::new();
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk.map_err(|e| match e {
                        PayloadError::Overflow => too_large(),
                        other => ApiError::new(
                            ErrorCode::MalformedJson,
                            format!("could not read the body: {other}"),
                        ),
                    })?;
                    if buf.len() + chunk.len() > MAX_BODY_BYTES {
                        return Err(too_large());
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(buf)
            };
            let buf = tokio::time::timeout(deadline.0, read).await.map_err(|_| {
                ApiError::new(
                    ErrorCode::RequestTimeout,
                    format!(
                        "the body did not arrive within {} s",
                        deadline.0.as_secs_f64()
                    ),
                )
            })??;
            let raw = buf.freeze();
            let value = parse(&raw)?;
            Ok(JsonBody { value, raw })
        })
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("the body exceeds {MAX_BODY_BYTES} bytes"),
    )
}

/// Parses `raw`, telling malformed JSON (400) from a body of the wrong shape (422, field named).
pub fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorCode::MalformedJson,
            "the body is empty; send a JSON object",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(raw);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::new(
                ErrorCode::MalformedJson,
                format!("the body is not valid JSON: {inner}"),
            );
        }
        let message = strip_position(&inner.to_string());
        let (field, message) = name_field(&path, &message);
        ApiError::field(field, message)
    })
}

/// serde's messages end with " at line 1 column 23"; the field name says more to a client.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Turns serde's "missing field `sku`" / "unknown field `skew`, expected …" at `path` into a
/// field name and a message.
fn name_field(path: &str, message: &str) -> (String, String) {
    let prefix = if path == "." {
        String::new()
    } else {
        format!("{path}.")
    };
    for (marker, text) in [
        ("missing field `", "is required"),
        ("unknown field `", "is not a known field"),
    ] {
        if let Some(rest) = message.strip_prefix(marker) {
            if let Some(end) = rest.find('`') {
                let name = &rest[..end];
                // serde_path_to_error already ends the path of an unknown field with its name.
                let field = if path == name || path.ends_with(&format!(".{name}")) {
                    path.to_owned()
                } else {
                    format!("{prefix}{name}")
                };
                return (field, text.to_owned());
            }
        }
    }
    let field = if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    (field, message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Line {
        variant_id: String,
        quantity: i64,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Order {
        lines: Vec<Line>,
    }

    fn field_of(raw: &str) -> (u16, Option<String>) {
        let e = parse::<Order>(raw.as_bytes()).unwrap_err();
        let p = e.problem();
        (p.status(), p.errors().map(|e| e[0].field.clone()))
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_name_the_field() {
        assert_eq!(field_of("{\"lines\": ["), (400, None));
        assert_eq!(field_of("not json"), (400, None));
        assert_eq!(
            field_of(r#"{"lines":[{"variantId":"a","quantity":"x"}]}"#),
            (422, Some("lines[0].quantity".into()))
        );
        assert_eq!(
            field_of(r#"{"lines":[{"variantId":"a"}]}"#),
            (422, Some("lines[0].quantity".into()))
        );
        assert_eq!(field_of(r#"{}"#), (422, Some("lines".into())));
        assert_eq!(
            field_of(r#"{"lines":[],"extra":1}"#),
            (422, Some("extra".into()))
        );
    }
}
