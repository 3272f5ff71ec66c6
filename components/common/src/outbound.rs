//! Which URLs the components may call, in the words of Spin 4.0.2's `allowed_outbound_hosts`
//! (`crates/outbound-networking-config`): the webhooks component refuses a subscription whose
//! URL Spin would not let the components reach.
//!
//! An entry is `scheme://host[:port]`: the scheme `http`, `https` or `*`; the host a name or
//! an IP address, `*` for any, `*.example.com` for the subdomains of `example.com` (not
//! `example.com` itself), or an IP network (`10.0.0.0/8`, for IP addresses only); the port a
//! number, `*` for any, a range `8000..8100` (the end excluded), or left out for the scheme's
//! own (80, 443). A template over a variable in `spin.toml` gives exactly one entry.

use std::net::IpAddr;

/// Whether `url` (http or https) is one that the entry `allowed` lets out. An entry that does
/// not parse lets nothing out (Spin then refuses every request).
pub fn allows(allowed: &str, url: &str) -> bool {
    match (Target::of(url), Entry::parse(allowed.trim())) {
        (Some(target), Some(entry)) => entry.matches(&target),
        _ => false,
    }
}

struct Target {
    scheme: String,
    host: String,
    port: u16,
}

impl Target {
    fn of(url: &str) -> Option<Self> {
        let uri: http::Uri = url.parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let authority = uri.authority()?;
        if authority.as_str().contains('@') || authority.host().is_empty() {
            return None;
        }
        Some(Self {
            port: authority.port_u16().or(default_port(&scheme))?,
            host: authority
                .host()
                .trim_matches(['[', ']'])
                .to_ascii_lowercase(),
            scheme,
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

enum Host {
    Any,
    Subdomains(String),
    Network(IpAddr, u8),
    Name(String),
}

enum Port {
    Any,
    Range(u16, u16),
}

struct Entry {
    scheme: Option<String>,
    host: Host,
    port: Port,
}

impl Entry {
    fn parse(entry: &str) -> Option<Self> {
        let (scheme, rest) = entry.split_once("://")?;
        let scheme = match scheme {
            "*" => None,
            s if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(s.to_ascii_lowercase())
            }
            _ => return None,
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        // The port follows the last `:` unless that `:` is inside an IPv6 address.
        let (host, port) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains(']') && !rest[..i].contains(':') => {
                (&rest[..i], Some(&rest[i + 1..]))
            }
            _ => (rest, None),
        };
        let host = match host.to_ascii_lowercase().as_str() {
            "" => return None,
            "*" => Host::Any,
            h if h.starts_with("*.") && !h[2..].contains('*') => Host::Subdomains(h[1..].into()),
            h if h.contains('*') => return None,
            h => match h.split_once('/') {
                Some((ip, bits)) => {
                    let ip: IpAddr = ip.trim_matches(['[', ']']).parse().ok()?;
                    let bits: u8 = bits.parse().ok()?;
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    (bits <= max).then_some(Host::Network(ip, bits))?
                }
                None => Host::Name(h.trim_matches(['[', ']']).into()),
            },
        };
        let port = match port {
            None | Some("") => {
                let port = default_port(scheme.as_deref()?)?;
                Port::Range(port, port)
            }
            Some("*") => Port::Any,
            Some(p) => match p.split_once("..") {
                Some((low, high)) => {
                    Port::Range(low.parse().ok()?, high.parse::<u16>().ok()?.checked_sub(1)?)
                }
                None => {
                    let port = p.parse().ok()?;
                    Port::Range(port, port)
                }
            },
        };
        Some(Self { scheme, host, port })
    }

    fn matches(&self, target: &Target) -> bool {
        let scheme = self.scheme.as_ref().is_none_or(|s| *s == target.scheme);
        let host = match &self.host {
            Host::Any => true,
            Host::Subdomains(suffix) => {
                target.host.ends_with(suffix.as_str()) && target.host.parse::<IpAddr>().is_err()
            }
            Host::Network(network, bits) => target
                .host
                .parse::<IpAddr>()
                .is_ok_and(|ip| in_network(ip, *network, *bits)),
            Host::Name(name) => *name == target.host,
        };
        let port = match self.port {
            Port::Any => true,
            Port::Range(low, high) => (low..=high).contains(&target.port),
        };
        scheme && host && port
    }
}

fn in_network(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    let (ip, network, width) = match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    shift >= 128 || (ip >> shift) == (network >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry() {
        for (entry, url) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/hook"),
            ("https://*.example.com", "https://a.example.com/x?y=1"),
            ("https://*.example.com", "https://b.c.example.com:443/"),
            ("*://hooks.local:*", "http://hooks.local:1/"),
            ("*://hooks.local:*", "https://HOOKS.local/"),
            ("http://10.0.0.1:9000..9010", "http://10.0.0.1:9009/"),
            ("http://10.0.0.0/8:*", "http://10.2.3.4:1234/"),
            ("http://127.0.0.1:*", "http://127.0.0.1:55555/"),
            ("*://*:*", "http://anything:1/"),
            ("https://example.com/", "https://example.com/hook"),
        ] {
            assert!(allows(entry, url), "{entry} {url}");
        }
        for (entry, url) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8081/hook"),
            ("http://127.0.0.1:8080", "https://127.0.0.1:8080/hook"),
            ("https://*.example.com", "https://example.com/"),
            ("https://*.example.com", "http://a.example.com/"),
            ("https://*.example.com", "https://a.example.com:8443/"),
            ("http://10.0.0.1:9000..9010", "http://10.0.0.1:9010/"),
            ("http://10.0.0.0/8:*", "http://11.0.0.1:80/"),
            ("http://10.0.0.0/8:*", "http://ten.example:80/"),
            ("*://hooks.local:*", "ftp://hooks.local/"),
            ("http://127.0.0.1:8080", "http://user@127.0.0.1:8080/"),
            ("", "http://127.0.0.1:8080/"),
            ("http://a,http://b", "http://a/"),
            ("*://hooks.local", "http://hooks.local/"),
            ("http://127.0.0.1:8080", "hooks.local"),
        ] {
            assert!(!allows(entry, url), "{entry} {url}");
        }
    }
}
