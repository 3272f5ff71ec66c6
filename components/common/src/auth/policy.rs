//! Who passes without credentials, and who has an account: the configuration, from Spin
//! variables (`auth_trust_loopback`, `auth_allowed_hosts`, `auth_accounts`).

use std::net::IpAddr;

/// The configuration, from Spin variables.
pub struct Policy {
    pub trust_loopback: bool,
    pub allowed_hosts: Vec<Cidr>,
    pub accounts: Vec<(String, String)>,
}

impl Policy {
    /// Does this client pass without credentials?
    pub fn trusts(&self, client: Option<IpAddr>) -> bool {
        let Some(ip) = client else { return false };
        (self.trust_loopback && ip.is_loopback())
            || self.allowed_hosts.iter().any(|c| c.contains(ip))
    }

    pub(super) fn password(&self, login: &str) -> Option<&str> {
        self.accounts
            .iter()
            .find(|(l, _)| l == login)
            .map(|(_, p)| p.as_str())
    }
}

/// A Spin variable; one that is not set counts as absent.
pub(super) fn variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name).ok()
}

/// `true`, `1`, `yes`, `on` (any case) and nothing else: a setting that is mistyped leaves
/// loopback clients to authenticate, rather than letting everyone on the machine in.
pub fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

/// `127.0.0.1:5000` or `[::1]:5000` → the IP (an IPv4-mapped IPv6 address as IPv4).
pub fn parse_client_addr(addr: &str) -> Option<IpAddr> {
    // `a.b.c.d:port` or `[v6]:port` (`SocketAddr`'s `Display`, as Spin writes it), or a
    // bare address.
    let host = match addr.strip_prefix('[') {
        Some(rest) => {
            let (host, port) = rest.split_once("]:")?;
            port.parse::<u16>().ok()?;
            // A scope (`fe80::1%2`) names the interface, not the address.
            host.split_once('%').map_or(host, |(address, _)| address)
        }
        None => match addr.split_once(':') {
            Some((host, port)) if !port.contains(':') => {
                port.parse::<u16>().ok()?;
                host
            }
            _ => addr,
        },
    };
    let ip = parse_ip(host)?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// An IPv4 or IPv6 address in the forms `IpAddr`'s `FromStr` takes (no leading zeros in
/// IPv4's parts; IPv6's groups of 1 to 4 hex digits, one `::` standing for one group or more,
/// an IPv4 tail), without its generic parser.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    if !text.contains(':') {
        return parse_v4(text).map(IpAddr::from);
    }
    let mut groups = [0u16; 8];
    let (head, tail) = match text.split_once("::") {
        Some((h, t)) => (h, Some(t)),
        None => (text, None),
    };
    // An IPv4 tail only ends the address: never before a `::`.
    let read = |part: &str, out: &mut [u16], last: bool| -> Option<usize> {
        if part.is_empty() {
            return Some(0);
        }
        let mut n = 0;
        let mut pieces = part.split(':').peekable();
        while let Some(piece) = pieces.next() {
            if last && pieces.peek().is_none() && piece.contains('.') {
                let [a, b, c, d] = parse_v4(piece)?;
                *out.get_mut(n)? = u16::from_be_bytes([a, b]);
                *out.get_mut(n + 1)? = u16::from_be_bytes([c, d]);
                return Some(n + 2);
            }
            if piece.is_empty() || piece.len() > 4 || !piece.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return None;
            }
            *out.get_mut(n)? = u16::from_str_radix(piece, 16).ok()?;
            n += 1;
        }
        Some(n)
    };
    let head_len = read(head, &mut groups, tail.is_none())?;
    match tail {
        None if head_len == 8 => {}
        Some(tail) if head_len < 8 => {
            let mut rest = [0u16; 8];
            let tail_len = read(tail, &mut rest[..7 - head_len], true)?;
            groups[8 - tail_len..].copy_from_slice(&rest[..tail_len]);
        }
        _ => return None,
    }
    Some(IpAddr::from(groups))
}

fn parse_v4(text: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty()
            || part.len() > 3
            || (part.len() > 1 && part.starts_with('0'))
            || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then_some(octets)
}

/// An IP or a CIDR range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Self> {
        let (ip, prefix) = match text.trim().split_once('/') {
            Some((ip, p)) => (parse_ip(ip.trim())?, Some(p.trim().parse::<u8>().ok()?)),
            None => (parse_ip(text.trim())?, None),
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self {
            network: ip,
            prefix,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => same_prefix(&n.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => same_prefix(&n.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// `"10.0.0.0/8, 192.168.1.7"`; entries that do not parse are ignored.
pub fn parse_hosts(text: &str) -> Vec<Cidr> {
    text.split(',').filter_map(Cidr::parse).collect()
}

/// `"login:password,other:secret"`: split at the first `:` of each pair.
pub fn parse_accounts(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| pair.trim().split_once(':'))
        .filter(|(login, _)| !login.is_empty())
        .map(|(l, p)| (l.to_string(), p.to_string()))
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::auth) fn policy() -> Policy {
        Policy {
            trust_loopback: true,
            allowed_hosts: parse_hosts("10.1.0.0/16, 192.0.2.7, 2001:db8::/32, bogus"),
            accounts: parse_accounts("admin:s3cr:t, other:pw"),
        }
    }

    #[test]
    fn who_is_trusted() {
        let p = policy();
        let ip = |s: &str| parse_client_addr(s);
        assert!(p.trusts(ip("127.0.0.1:1")));
        assert!(p.trusts(ip("127.8.9.10:1")));
        assert!(p.trusts(ip("[::1]:1")));
        assert!(p.trusts(ip("[::1%3]:1")));
        assert!(p.trusts(ip("[::ffff:127.0.0.1]:1")));
        assert!(p.trusts(ip("10.1.200.3:1")));
        assert!(p.trusts(ip("192.0.2.7:1")));
        assert!(p.trusts(ip("[2001:db8::5]:1")));
        assert!(!p.trusts(ip("10.2.0.1:1")));
        assert!(!p.trusts(ip("192.0.2.8:1")));
        assert!(!p.trusts(ip("[2001:db9::5]:1")));
        assert!(!p.trusts(None));
        let behind_proxy = Policy {
            trust_loopback: false,
            ..policy()
        };
        assert!(!behind_proxy.trusts(ip("127.0.0.1:1")));
    }

    #[test]
    fn trust_settings_fail_closed() {
        for yes in ["true", "TRUE", " True ", "1", "yes", "on"] {
            assert!(truthy(yes), "{yes}");
        }
        for no in ["false", "False", "FALSE", "0", "no", "off", "", "ture"] {
            assert!(!truthy(no), "{no}");
        }
    }

    /// The hand parser takes exactly what std's `IpAddr` parser takes, on valid addresses, their
    /// mutations and random text.
    #[test]
    fn ips_parse_as_std_parses_them() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % n as u64).unwrap()
        };
        let valid = [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::",
            "::1",
            "2001:db8::5",
            "::ffff:127.0.0.1",
            "1:2:3:4:5:6:7:8",
            "1::8",
            "fe80::1:2",
            "1:2:3:4:5:6:1.2.3.4",
            "::1.2.3.4",
            "abcd:ef01::",
            "1.2.3.4::",
            "1.2.3.4::5",
            "::1.2.3.4:5",
            "1::2.3.4.5",
        ];
        let alphabet = b"0123456789abcdefABCDEFg:.:.";
        let mut accepted = 0;
        for _ in 0..300_000 {
            let mut text: Vec<u8> = if next(2) == 0 {
                valid[next(valid.len())].bytes().collect()
            } else {
                (0..next(24))
                    .map(|_| alphabet[next(alphabet.len())])
                    .collect()
            };
            for _ in 0..next(3) {
                let at = next(text.len() + 1);
                match next(3) {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 if at < text.len() => text[at] = alphabet[next(alphabet.len())],
                    _ => text.insert(at, alphabet[next(alphabet.len())]),
                }
            }
            let text = String::from_utf8(text).unwrap();
            let std = text.parse::<IpAddr>().ok();
            assert_eq!(parse_ip(&text), std, "{text}");
            accepted += usize::from(std.is_some());
        }
        assert!(accepted > 10_000, "{accepted}");
    }

    #[test]
    fn cidr_edges() {
        let c = Cidr::parse("192.168.1.128/25").unwrap();
        assert!(c.contains("192.168.1.128".parse().unwrap()));
        assert!(c.contains("192.168.1.255".parse().unwrap()));
        assert!(!c.contains("192.168.1.127".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("1.2.3.4/33").is_none());
        assert!(Cidr::parse("nonsense").is_none());
    }

    #[test]
    fn accounts() {
        assert_eq!(
            parse_accounts(" admin:s3cr:t ,x:,:nologin, bad"),
            vec![
                ("admin".to_string(), "s3cr:t".to_string()),
                ("x".to_string(), String::new())
            ]
        );
    }
}
