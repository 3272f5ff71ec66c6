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

/// Bytes of no stated type: what generated clients send as a file's body, and accept for one
/// they cannot type (a recording's audio).
pub const OCTET_STREAM: &str = "application/octet-stream";

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
                k.trim().eq_ignore_ascii_case("q") && is_zero_or_less(v.trim())
            })
        });
        let matches = name == "*/*" || name == format!("{kind}/*") || name == media_type;
        matches && !refused
    })
}

/// The first of `offered`, in the server's order of preference, that `Accept` allows (see
/// [`accepts`]): how a resource with more than one representation picks the one it sends.
pub fn first_accepted<'a>(accept: Option<&str>, offered: &[&'a str]) -> Option<&'a str> {
    offered.iter().copied().find(|t| accepts(accept, t))
}

/// Whether a weight (`q=0`, `q=0.000`, `q=-1`) says "not this one": a decimal number, with an
/// optional sign, fraction and exponent, that is zero or negative. Read by hand rather than
/// as an `f32`, whose parser and tables weighed 15 KB in the component that serves audio.
/// A weight that does not parse refuses nothing, as before.
fn is_zero_or_less(weight: &str) -> bool {
    let (negative, unsigned) = match weight.as_bytes().first() {
        Some(b'-') => (true, &weight[1..]),
        Some(b'+') => (false, &weight[1..]),
        _ => (false, weight),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    let number = !(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction);
    if !number || !exponent_ok {
        // `inf` and `infinity` are numbers too: only their negative refuses.
        let word = unsigned.to_ascii_lowercase();
        return negative && (word == "inf" || word == "infinity");
    }
    negative || mantissa.bytes().all(|b| b == b'0' || b == b'.')
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
            Some("audio/*;q=0.001"),
            Some("audio/*;q=1e-3"),
            Some("audio/*;q=x"),
            Some("audio/*;q="),
            Some("audio/*;q=0.0.0"),
            Some("audio/*;q=inf"),
            Some("audio/*;q=nan"),
        ] {
            assert!(accepts(ok, "audio/wav"), "{ok:?}");
        }
        for refused in [
            Some("application/json"),
            Some("audio/mpeg"),
            Some("audio/*;q=0"),
            Some("audio/*; Q=0.000"),
            Some("audio/*;q=-0.5"),
            Some("audio/*;q=0e3"),
            Some("audio/*;q=.0"),
            Some("audio/*;q=-inf"),
            Some("text/*"),
            Some(""),
        ] {
            assert!(!accepts(refused, "audio/wav"), "{refused:?}");
        }
    }

    /// The same answer as reading the weight as an `f32` would give (but for weights below
    /// f32's smallest, such as `1e-50`, which f32 rounds to zero: nobody writes those).
    #[test]
    fn weights_read_as_numbers() {
        for w in [
            "0",
            "1",
            "0.5",
            "0.000",
            "000",
            "-0",
            "+0",
            "-1",
            "+1",
            ".5",
            "5.",
            ".",
            "",
            "-",
            "+",
            "e",
            "1e",
            "1e+",
            "1e-3",
            "0e9",
            "0E-2",
            "-0.0e0",
            "1.5.2",
            "0x1",
            " 0",
            "0 ",
            "inf",
            "-inf",
            "+inf",
            "INF",
            "-Infinity",
            "infinity",
            "nan",
            "-nan",
            "NaN",
            "q",
            "--1",
            "+-0",
            "0.0001",
            "-.0",
            "1_0",
        ] {
            let want = w.parse::<f32>().is_ok_and(|q| q <= 0.0);
            assert_eq!(is_zero_or_less(w), want, "{w:?}");
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

    #[test]
    fn the_first_offered_type_accepted_is_chosen() {
        let offered = ["audio/wav", OCTET_STREAM];
        assert_eq!(first_accepted(None, &offered), Some("audio/wav"));
        assert_eq!(first_accepted(Some("*/*"), &offered), Some("audio/wav"));
        assert_eq!(
            first_accepted(Some("application/octet-stream"), &offered),
            Some(OCTET_STREAM)
        );
        assert_eq!(
            first_accepted(Some("application/octet-stream, audio/*"), &offered),
            Some("audio/wav")
        );
        assert_eq!(
            first_accepted(Some("audio/wav;q=0, application/*"), &offered),
            Some(OCTET_STREAM)
        );
        assert_eq!(first_accepted(Some("application/json"), &offered), None);
    }
}
