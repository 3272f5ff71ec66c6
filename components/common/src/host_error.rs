//! The host's errors in words, for logs, 500 details and a webhook's history: HTTP error codes,
//! streams, headers, SQLite and the key-value store. The variant's name, as its `Debug` starts,
//! and the host's own text when it gives one. Written out because the generated `Debug`s, with
//! their payloads and the quoting of strings (Unicode tables and all), weighed 10 KB in every
//! component.

use spin_sdk::wit::wasi::http0_2_0::types::{ErrorCode, HeaderError};

/// An outbound request's failure (`wasi:http`'s `error-code`).
pub fn describe(code: &ErrorCode) -> String {
    use ErrorCode::*;
    let name = match code {
        DnsTimeout => "DnsTimeout",
        DnsError(_) => "DnsError",
        DestinationNotFound => "DestinationNotFound",
        DestinationUnavailable => "DestinationUnavailable",
        DestinationIpProhibited => "DestinationIpProhibited",
        DestinationIpUnroutable => "DestinationIpUnroutable",
        ConnectionRefused => "ConnectionRefused",
        ConnectionTerminated => "ConnectionTerminated",
        ConnectionTimeout => "ConnectionTimeout",
        ConnectionReadTimeout => "ConnectionReadTimeout",
        ConnectionWriteTimeout => "ConnectionWriteTimeout",
        ConnectionLimitReached => "ConnectionLimitReached",
        TlsProtocolError => "TlsProtocolError",
        TlsCertificateError => "TlsCertificateError",
        TlsAlertReceived(_) => "TlsAlertReceived",
        HttpRequestDenied => "HttpRequestDenied",
        HttpRequestLengthRequired => "HttpRequestLengthRequired",
        HttpRequestBodySize(_) => "HttpRequestBodySize",
        HttpRequestMethodInvalid => "HttpRequestMethodInvalid",
        HttpRequestUriInvalid => "HttpRequestUriInvalid",
        HttpRequestUriTooLong => "HttpRequestUriTooLong",
        HttpRequestHeaderSectionSize(_) => "HttpRequestHeaderSectionSize",
        HttpRequestHeaderSize(_) => "HttpRequestHeaderSize",
        HttpRequestTrailerSectionSize(_) => "HttpRequestTrailerSectionSize",
        HttpRequestTrailerSize(_) => "HttpRequestTrailerSize",
        HttpResponseIncomplete => "HttpResponseIncomplete",
        HttpResponseHeaderSectionSize(_) => "HttpResponseHeaderSectionSize",
        HttpResponseHeaderSize(_) => "HttpResponseHeaderSize",
        HttpResponseBodySize(_) => "HttpResponseBodySize",
        HttpResponseTrailerSectionSize(_) => "HttpResponseTrailerSectionSize",
        HttpResponseTrailerSize(_) => "HttpResponseTrailerSize",
        HttpResponseTransferCoding(_) => "HttpResponseTransferCoding",
        HttpResponseContentCoding(_) => "HttpResponseContentCoding",
        HttpResponseTimeout => "HttpResponseTimeout",
        HttpUpgradeFailed => "HttpUpgradeFailed",
        HttpProtocolError => "HttpProtocolError",
        LoopDetected => "LoopDetected",
        ConfigurationError => "ConfigurationError",
        InternalError(None) => "InternalError",
        InternalError(Some(text)) => return format!("InternalError: {text}"),
    };
    name.to_string()
}

/// A stream's failure: closed, or the host's own description of the last operation's error.
pub fn stream(e: &wasi::io::streams::StreamError) -> String {
    match e {
        wasi::io::streams::StreamError::Closed => "stream closed".into(),
        wasi::io::streams::StreamError::LastOperationFailed(e) => {
            format!("stream failed: {}", e.to_debug_string())
        }
    }
}

/// Headers refused.
pub fn header(e: &HeaderError) -> &'static str {
    match e {
        HeaderError::InvalidSyntax => "InvalidSyntax",
        HeaderError::Forbidden => "Forbidden",
        HeaderError::Immutable => "Immutable",
    }
}

/// A statement's failure, as Spin's SQLite interface gives it.
pub fn sqlite(e: &spin_sdk::sqlite::Error) -> String {
    use spin_sdk::sqlite::Error::*;
    match e {
        NoSuchDatabase => "NoSuchDatabase".into(),
        AccessDenied => "AccessDenied".into(),
        InvalidConnection => "InvalidConnection".into(),
        DatabaseFull => "DatabaseFull".into(),
        Io(message) => format!("Io: {message}"),
    }
}

/// The key-value store's failure.
pub fn key_value(e: &spin_sdk::key_value::Error) -> String {
    use spin_sdk::key_value::Error::*;
    match e {
        StoreTableFull => "StoreTableFull".into(),
        NoSuchStore => "NoSuchStore".into(),
        AccessDenied => "AccessDenied".into(),
        Other(message) => format!("Other: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name is the one `Debug` gives.
    #[test]
    fn named_as_debug_names_them() {
        for code in [
            ErrorCode::HttpRequestDenied,
            ErrorCode::ConnectionRefused,
            ErrorCode::HttpResponseBodySize(Some(3)),
            ErrorCode::InternalError(None),
        ] {
            let debug = format!("{code:?}");
            assert!(debug.contains(&describe(&code)), "{debug}");
        }
        let text = ErrorCode::InternalError(Some("boom".into()));
        assert_eq!(describe(&text), "InternalError: boom");
        let locked = spin_sdk::sqlite::Error::Io("database is locked".into());
        assert_eq!(sqlite(&locked), "Io: database is locked");
        assert_eq!(
            sqlite(&spin_sdk::sqlite::Error::AccessDenied),
            "AccessDenied"
        );
        let other = spin_sdk::key_value::Error::Other("gone".into());
        assert_eq!(key_value(&other), "Other: gone");
        assert_eq!(header(&HeaderError::Forbidden), "Forbidden");
    }
}
