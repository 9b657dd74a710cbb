//! `ETag` and `If-Match`: how a client makes an edit conditional on the version it read.
//!
//! A resource's entity tag is its domain version in quotes (`"1733100000123"`): strong, and
//! opaque to clients. `If-Match` is optional — a PATCH or DELETE without it is applied to
//! whatever is current, as before — but with it the write lands only if the resource is still at
//! one of the named versions, else `412 Precondition Failed` with nothing written. `*` matches any
//! existing resource. Comparison is strong (RFC 9110 §13.1.1): a weak tag never matches.

use actix_web::http::header::{self, HeaderValue};
use actix_web::HttpRequest;

use domain::precondition::{Precondition, Version};

use super::error::ApiError;

/// The `ETag` of a resource at `version`.
pub fn etag(version: Version) -> (header::HeaderName, HeaderValue) {
    let value = HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    (header::ETAG, value)
}

/// The request's `If-Match`, if it has one. A header that is neither `*` nor a list of quoted
/// entity tags is refused naming `If-Match`.
pub fn precondition(req: &HttpRequest) -> Result<Option<Precondition>, ApiError> {
    let mut values = req.headers().get_all(header::IF_MATCH).peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let mut versions = Vec::new();
    for value in values {
        let value = value
            .to_str()
            .map_err(|_| ApiError::field("If-Match", "must be visible ASCII"))?;
        for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if tag == "*" {
                return Ok(Some(Precondition::Any));
            }
            let (weak, quoted) = match tag.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, tag),
            };
            let opaque = quoted
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .filter(|t| !t.contains('"'))
                .ok_or_else(|| {
                    ApiError::field(
                        "If-Match",
                        "must be * or a list of quoted entity tags, as sent in ETag",
                    )
                })?;
            // A weak tag or one this server never sent is valid but matches no version.
            if let (false, Ok(version)) = (weak, opaque.parse::<Version>()) {
                versions.push(version);
            }
        }
    }
    Ok(Some(Precondition::OneOf(versions)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn parse(values: &[&str]) -> Result<Option<Precondition>, ApiError> {
        let mut req = TestRequest::default();
        for v in values {
            req = req.append_header((header::IF_MATCH, *v));
        }
        precondition(&req.to_http_request())
    }

    #[test]
    fn if_match_is_read_as_the_versions_it_names() {
        assert_eq!(parse(&[]).unwrap(), None);
        assert_eq!(parse(&["*"]).unwrap(), Some(Precondition::Any));
        assert_eq!(
            parse(&["\"12\", \"13\"", "\"14\""]).unwrap(),
            Some(Precondition::OneOf(vec![12, 13, 14]))
        );
        assert_eq!(
            parse(&["W/\"12\", \"other\""]).unwrap(),
            Some(Precondition::OneOf(vec![]))
        );
        let refused = parse(&["12"]).unwrap_err();
        assert_eq!(refused.errors.unwrap()[0].field, "If-Match");
    }

    #[test]
    fn an_etag_is_the_version_quoted() {
        assert_eq!(etag(42).1, "\"42\"");
    }
}
