//! A host's HTTP error (`wasi:http`'s `error-code`) in words, for logs and a webhook's
//! history: the variant's name, as its `Debug` would start, and the host's own text when it
//! gives one. Written out because the generated `Debug`, with its payloads, weighed 5 KB in
//! every component.

use spin_sdk::wit::wasi::http0_2_0::types::ErrorCode;

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
    }
}
