//! Outbound HTTP (`wasi:http/outgoing-handler`) as Spin 4.0.2 gives it to a component: only to
//! the destinations its `allowed_outbound_hosts` lists (Spin's
//! `crates/outbound-networking-config`, `allowed_hosts.rs`), the guest's timeouts honoured.
//!
//! What Spin does, and this matches:
//! - each entry is `scheme://host[:port]`, a template in it resolved against the application
//!   variables, giving exactly one entry (no splitting on commas);
//! - the scheme is `*` or a name compared as is; the host `*`, `*.domain` (its subdomains,
//!   names only), an IP network `a.b.c.d/n` (IP addresses only) or a literal name or address;
//!   the port a number, `*`, a range `a..b` (end excluded), or absent for the scheme's own
//!   (http 80, https 443; a scheme without one needs a port);
//! - an entry that does not parse makes the whole list refuse everything;
//! - a refused request still gets its future from `handle`; awaiting it gives
//!   `HttpRequestDenied`, and the host says so on its own stderr.
//!
//! The component keeps running after its response (the handler task is not cancelled when the
//! response is sent; see `server.rs`), so it can deliver webhooks then, as under Spin.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use anyhow::{bail, Result};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::variables::Variables;

/// The destinations one component may reach, for one request. Its templates are resolved at
/// the first request it sends, as Spin resolves them (lazily, once per instance).
pub struct OutboundHttp {
    templates: Arc<[String]>,
    variables: Variables,
    /// Once resolved: `None` when an entry did not resolve or parse, and nothing is allowed.
    allowed: Option<Option<Vec<Allowed>>>,
}

impl OutboundHttp {
    /// The component's `allowed_outbound_hosts`, resolved against these variables.
    pub fn new(templates: Arc<[String]>, variables: Variables) -> Self {
        Self {
            templates,
            variables,
            allowed: None,
        }
    }

    fn allows(&mut self, uri: &http::Uri) -> bool {
        let (templates, variables) = (&self.templates, &self.variables);
        let allowed = self.allowed.get_or_insert_with(|| {
            templates
                .iter()
                .map(|t| Allowed::parse(&variables.expand(t).ok()?))
                .collect()
        });
        let Some(allowed) = allowed else {
            eprintln!("Error parsing allowed outbound hosts: every request is refused");
            return false;
        };
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return false;
        };
        let Some(port) = authority.port_u16().or_else(|| default_port(scheme)) else {
            return false;
        };
        let host = authority
            .host()
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        allowed.iter().any(|a| a.matches(scheme, &host, port))
    }
}

/// Spin's check when it loads the app: every entry, resolved with the variables' defaults,
/// must be a valid entry (an entry over a variable without a default is checked later).
pub fn check_entries(component: &str, templates: &[String], defaults: &Variables) -> Result<()> {
    for template in templates {
        let Ok(entry) = defaults.expand(template) else {
            continue;
        };
        if Allowed::parse(&entry).is_none() {
            bail!(
                "Failed to load component `{component}`: `allowed_outbound_hosts` is malformed: \
                 using default variable value(s) with template {template:?} results in invalid \
                 config {entry:?}"
            );
        }
    }
    Ok(())
}

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = std::result::Result<(), Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = std::result::Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = std::result::Result<(), Error>> + Send>,
                    ),
                    Error,
                >,
            > + Send,
    > {
        let allowed = self.allows(request.uri());
        Box::new(async move {
            if !allowed {
                eprintln!(
                    "Outbound network destination not allowed: {}",
                    request.uri()
                );
                return Err(Error::HttpRequestDenied);
            }
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// One parsed entry of `allowed_outbound_hosts`.
#[derive(Debug, PartialEq)]
struct Allowed {
    /// `None`: any scheme.
    scheme: Option<String>,
    host: HostPattern,
    /// Inclusive bounds.
    ports: (u16, u16),
}

#[derive(Debug, PartialEq)]
enum HostPattern {
    Any,
    /// `.example.com` for `*.example.com`.
    Suffix(String),
    Network(IpAddr, u32),
    Exact(String),
}

impl Allowed {
    fn parse(entry: &str) -> Option<Self> {
        let (scheme, authority) = entry.split_once("://")?;
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        let scheme = (scheme != "*").then(|| scheme.to_string());
        if scheme
            .as_ref()
            .is_some_and(|s| s.is_empty() || !s.chars().all(|c| c.is_ascii_alphabetic()))
        {
            return None;
        }
        // host[:port], where an IPv6 host is bracketed.
        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let (host, after) = rest.split_once(']')?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let host = host.to_ascii_lowercase();
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(domain) = host.strip_prefix("*.") {
            HostPattern::Suffix(format!(".{domain}"))
        } else if host.is_empty() || host.contains('*') {
            return None;
        } else if let Some((address, bits)) = host.split_once('/') {
            let address: IpAddr = address.parse().ok()?;
            let bits: u32 = bits.parse().ok()?;
            if bits > if address.is_ipv4() { 32 } else { 128 } {
                return None;
            }
            HostPattern::Network(address, bits)
        } else {
            HostPattern::Exact(host)
        };
        let ports = match port {
            None | Some("") => {
                let port = default_port(scheme.as_deref()?)?;
                (port, port)
            }
            Some("*") => (0, u16::MAX),
            Some(range) => match range.split_once("..") {
                Some((from, to)) => (from.parse().ok()?, to.parse::<u16>().ok()?.checked_sub(1)?),
                None => {
                    let port = range.parse().ok()?;
                    (port, port)
                }
            },
        };
        Some(Self {
            scheme,
            host,
            ports,
        })
    }

    fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme_matches = self.scheme.as_deref().is_none_or(|s| s == scheme);
        let host_matches = match &self.host {
            HostPattern::Any => true,
            HostPattern::Suffix(suffix) => {
                host.ends_with(suffix) && host.parse::<IpAddr>().is_err()
            }
            HostPattern::Network(network, bits) => host
                .parse::<IpAddr>()
                .is_ok_and(|address| within(address, *network, *bits)),
            HostPattern::Exact(exact) => exact == host,
        };
        scheme_matches && host_matches && (self.ports.0..=self.ports.1).contains(&port)
    }
}

/// Whether `address` is in the network `network/bits`.
fn within(address: IpAddr, network: IpAddr, bits: u32) -> bool {
    match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entries: &[&str], url: &str) -> bool {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        OutboundHttp::new(entries.into(), Variables::default()).allows(&url.parse().unwrap())
    }

    #[test]
    fn entries_as_spin_reads_them() {
        assert!(allows(
            &["http://127.0.0.1:8080"],
            "http://127.0.0.1:8080/x"
        ));
        assert!(!allows(
            &["http://127.0.0.1:8080"],
            "http://127.0.0.1:8081/x"
        ));
        assert!(allows(
            &["https://*.example.com"],
            "https://a.b.example.com/"
        ));
        assert!(!allows(&["https://*.example.com"], "https://example.com/"));
        assert!(!allows(
            &["https://*.example.com"],
            "https://a.example.com:8443/"
        ));
        assert!(allows(
            &["*://localhost:18081..18083"],
            "http://localhost:18082/"
        ));
        assert!(!allows(
            &["*://localhost:18081..18083"],
            "http://localhost:18083/"
        ));
        assert!(allows(&["http://127.0.0.0/24:*"], "http://127.0.0.9:1/"));
        assert!(!allows(&["http://127.0.0.0/24:*"], "http://localhost:1/"));
        assert!(allows(&["http://[::1]:8080"], "http://[::1]:8080/"));
        assert!(allows(&["*://*:*"], "https://anything:9/"));
        assert!(!allows(&[], "http://127.0.0.1/"));
    }

    #[test]
    fn one_bad_entry_refuses_everything() {
        for bad in [
            "",
            "*",
            "127.0.0.1:80",
            "http://a,http://b",
            "*://127.0.0.1",
            "http://a/path",
        ] {
            assert!(
                !allows(&["http://127.0.0.1:8080", bad], "http://127.0.0.1:8080/"),
                "{bad:?}"
            );
        }
        let unknown: Arc<[String]> = vec!["{{ nope }}".to_string()].into();
        let mut outbound = OutboundHttp::new(unknown, Variables::default());
        assert!(!outbound.allows(&"http://127.0.0.1/".parse().unwrap()));
    }
}
