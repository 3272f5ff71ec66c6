//! Content negotiation, as the 2013 API did it: 415 first, then 406.

use crate::error::ApiError;

/// `Content-Type` of a request that carries a body (POST, PUT): its media type must be
/// `application/json`; parameters such as `charset` do not matter; a missing header is wrong.
pub fn check_content_type(content_type: Option<&str>) -> Result<(), ApiError> {
    match content_type.map(media_type) {
        Some(t) if t == "application/json" => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

/// What the API's resources answer in: JSON, asked for by name or by `application/*`.
pub const JSON: &[&str] = &["application/json", "application/*"];

/// What the OpenAPI document is served as: YAML under its registered name (RFC 9512) or the
/// older names clients still send, or any type of those families.
pub const YAML: &[&str] = &[
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
    "application/*",
    "text/*",
];

/// `Accept`: absent is fine; otherwise, once `*/*` is set aside, what remains must be empty
/// or name one of the `offered` types (for the API: `application/json` or `application/*`).
/// Quality values are not weighed.
pub fn check_accept(accept: Option<&str>, offered: &[&str]) -> Result<(), ApiError> {
    let Some(accept) = accept else { return Ok(()) };
    let mut named = accept
        .split(',')
        .map(media_type)
        .filter(|t| !t.is_empty() && t != "*/*")
        .peekable();
    if named.peek().is_none() {
        return Ok(());
    }
    if named.any(|t| offered.contains(&t.as_str())) {
        Ok(())
    } else {
        Err(ApiError::NotAcceptable)
    }
}

/// Whether `Accept` lets a response be `media_type` (such as a recording's `audio/wav`): no
/// header, or a range that matches it (`*/*`, `audio/*`, `audio/wav`) without `q=0`.
pub fn accepts(accept: Option<&str>, media_type: &str) -> bool {
    let Some(accept) = accept else { return true };
    let (kind, _) = media_type.split_once('/').unwrap_or((media_type, ""));
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("q")
                    && v.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
            })
        });
        let matches = name == "*/*" || name == format!("{kind}/*") || name == media_type;
        matches && !refused
    })
}

/// The media type of a `Content-Type` or of an `Accept` entry, lower case, without
/// parameters: `"Application/JSON; charset=UTF-8"` → `"application/json"`.
pub fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_accepted() {
        for ok in [
            None,
            Some("*/*"),
            Some("audio/*"),
            Some("audio/wav"),
            Some("Audio/WAV; q=0.5"),
            Some("application/json, audio/*;q=0.9"),
            Some("text/html, */*;q=0.1"),
        ] {
            assert!(accepts(ok, "audio/wav"), "{ok:?}");
        }
        for refused in [
            Some("application/json"),
            Some("audio/mpeg"),
            Some("audio/*;q=0"),
            Some("text/*"),
            Some(""),
        ] {
            assert!(!accepts(refused, "audio/wav"), "{refused:?}");
        }
    }

    #[test]
    fn content_type_must_be_json() {
        assert!(check_content_type(Some("application/json")).is_ok());
        assert!(check_content_type(Some("application/json;charset=UTF-8")).is_ok());
        assert!(check_content_type(Some(" Application/JSON ; charset=utf-8")).is_ok());
        for bad in [
            None,
            Some(""),
            Some("text/plain"),
            Some("application/jsonx"),
        ] {
            assert!(matches!(
                check_content_type(bad),
                Err(ApiError::UnsupportedMediaType)
            ));
        }
    }

    #[test]
    fn accept_rules() {
        for ok in [
            None,
            Some(""),
            Some("*/*"),
            Some("application/json"),
            Some("application/*"),
            Some("text/html, application/json;q=0.9"),
            Some("application/json;charset=UTF-8"),
            Some("*/*;q=0.8"),
        ] {
            assert!(check_accept(ok, JSON).is_ok(), "{ok:?}");
        }
        for bad in [
            Some("text/html"),
            Some("text/html, */*"),
            Some("application/xml"),
            Some("text/*"),
        ] {
            assert!(
                matches!(check_accept(bad, JSON), Err(ApiError::NotAcceptable)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn accept_rules_for_yaml() {
        for ok in [
            None,
            Some("*/*"),
            Some("application/yaml"),
            Some("text/yaml;q=0.5"),
            Some("text/*"),
        ] {
            assert!(check_accept(ok, YAML).is_ok(), "{ok:?}");
        }
        for bad in [
            Some("application/json"),
            Some("text/html"),
            Some("image/*, */*"),
        ] {
            assert!(
                matches!(check_accept(bad, YAML), Err(ApiError::NotAcceptable)),
                "{bad:?}"
            );
        }
    }
}
