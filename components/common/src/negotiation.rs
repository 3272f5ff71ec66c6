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

/// `Accept`: absent is fine; otherwise, once `*/*` is set aside, what remains must be empty
/// or name `application/json` or `application/*`. Quality values are not weighed.
pub fn check_accept(accept: Option<&str>) -> Result<(), ApiError> {
    let Some(accept) = accept else { return Ok(()) };
    let mut named = accept
        .split(',')
        .map(media_type)
        .filter(|t| !t.is_empty() && t != "*/*")
        .peekable();
    if named.peek().is_none() {
        return Ok(());
    }
    if named.any(|t| t == "application/json" || t == "application/*") {
        Ok(())
    } else {
        Err(ApiError::NotAcceptable)
    }
}

/// `"Application/JSON; charset=UTF-8"` → `"application/json"`.
fn media_type(value: &str) -> String {
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
            assert!(check_accept(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            Some("text/html"),
            Some("text/html, */*"),
            Some("application/xml"),
            Some("text/*"),
        ] {
            assert!(
                matches!(check_accept(bad), Err(ApiError::NotAcceptable)),
                "{bad:?}"
            );
        }
    }
}
