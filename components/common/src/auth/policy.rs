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
    let ip: IpAddr = match addr.parse::<std::net::SocketAddr>() {
        Ok(sa) => sa.ip(),
        Err(_) => addr.parse().ok()?,
    };
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
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
            Some((ip, p)) => (
                ip.trim().parse::<IpAddr>().ok()?,
                Some(p.trim().parse::<u8>().ok()?),
            ),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
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
