//! What an API token may do: scopes, each a family and a right (`users:read`,
//! `recordings:write`, `campaigns:*`, `*:read`, `*:*`), and the scope a request needs.
//!
//! A request needs its family's `read` when it only reads (GET, HEAD, OPTIONS), else its
//! `write`. `write` does not include `read`: a hook that only posts recordings never reads
//! them. A path of no family (a 404, the console's pages) needs a scope of every family
//! (`*:read`, `*:write`): what the path does not say is refused, not let through.

/// The families a scope can name, each a part of the API.
pub const FAMILIES: &[&str] = &[
    "users",
    "voicemails",
    "agents",
    "queues",
    "campaigns",
    "recordings",
    "webhooks",
    "tokens",
];

/// The rights a scope can name.
pub const RIGHTS: &[&str] = &["read", "write"];

/// A scope: a family or `*`, and a right or `*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope<'a> {
    pub family: &'a str,
    pub right: &'a str,
}

impl<'a> Scope<'a> {
    /// `family:right`, each known or `*`; anything else is `None`.
    pub fn parse(text: &'a str) -> Option<Self> {
        let (family, right) = text.split_once(':')?;
        let known = |names: &[&str], name: &str| name == "*" || names.contains(&name);
        (known(FAMILIES, family) && known(RIGHTS, right)).then_some(Self { family, right })
    }

    /// Does this scope allow all that `other` allows? `users:*` covers `users:read`; `*:read`
    /// covers `users:read` and `*:read`, not `*:write`.
    pub fn covers(&self, other: &Scope) -> bool {
        let part = |mine: &str, theirs: &str| mine == "*" || mine == theirs;
        part(self.family, other.family) && part(self.right, other.right)
    }
}

/// Parse a stored or sent list of scopes; one that does not parse makes the list `None`.
pub fn parse_all<'a>(texts: impl IntoIterator<Item = &'a str>) -> Option<Vec<Scope<'a>>> {
    texts.into_iter().map(Scope::parse).collect()
}

/// Do `granted` allow all that `wanted` allow (each wanted scope covered by one granted)?
pub fn cover_all(granted: &[Scope], wanted: &[Scope]) -> bool {
    wanted.iter().all(|w| granted.iter().any(|g| g.covers(w)))
}

/// The scope a request needs: its method's right on its path's family.
pub fn needed(method: &str, path: &str) -> Scope<'static> {
    let right = match method {
        "GET" | "HEAD" | "OPTIONS" => "read",
        _ => "write",
    };
    Scope {
        family: family(path).unwrap_or("*"),
        right,
    }
}

/// The family of an API path (`/1.0/users/5?x=1` → `users`): a campaign is
/// `/1.0/recording_campaigns/<id>`, its recordings everything below it.
pub fn family(path: &str) -> Option<&'static str> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let rest = path.strip_prefix("/1.0/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    Some(match segments.as_slice() {
        ["users", ..] => "users",
        ["voicemails", ..] => "voicemails",
        ["CallCenter", "agents", ..] => "agents",
        ["CallCenter", "queues", ..] => "queues",
        ["recording_campaigns"] | ["recording_campaigns", _] => "campaigns",
        ["recording_campaigns", _, _, ..] => "recordings",
        ["webhooks", ..] => "webhooks",
        ["tokens", ..] => "tokens",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(text: &str) -> Scope<'_> {
        Scope::parse(text).unwrap()
    }

    #[test]
    fn scopes_parse() {
        for good in [
            "users:read",
            "recordings:write",
            "campaigns:*",
            "*:read",
            "*:*",
        ] {
            assert!(Scope::parse(good).is_some(), "{good}");
        }
        for bad in [
            "users",
            "users:",
            ":read",
            "user:read",
            "users:delete",
            "users:read:x",
            "",
        ] {
            assert!(Scope::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn what_covers_what() {
        assert!(scope("users:*").covers(&scope("users:read")));
        assert!(scope("*:read").covers(&scope("users:read")));
        assert!(scope("*:read").covers(&scope("*:read")));
        assert!(scope("*:*").covers(&scope("*:write")));
        assert!(!scope("*:read").covers(&scope("*:write")));
        assert!(!scope("users:read").covers(&scope("users:write")));
        assert!(!scope("users:read").covers(&scope("*:read")));
        assert!(!scope("users:*").covers(&scope("voicemails:read")));
        let granted = [scope("users:read"), scope("campaigns:*")];
        assert!(cover_all(
            &granted,
            &[scope("campaigns:write"), scope("users:read")]
        ));
        assert!(!cover_all(&granted, &[scope("users:*")]));
    }

    #[test]
    fn what_a_request_needs() {
        let cases = [
            ("GET", "/1.0/users/", "users:read"),
            ("HEAD", "/1.0/users/5?x=1", "users:read"),
            ("DELETE", "/1.0/voicemails/5", "voicemails:write"),
            ("POST", "/1.0/CallCenter/agents/", "agents:write"),
            ("GET", "/1.0/CallCenter/queues/1", "queues:read"),
            ("POST", "/1.0/recording_campaigns/", "campaigns:write"),
            ("GET", "/1.0/recording_campaigns", "campaigns:read"),
            ("PUT", "/1.0/recording_campaigns/3", "campaigns:write"),
            ("POST", "/1.0/recording_campaigns/3/", "recordings:write"),
            (
                "GET",
                "/1.0/recording_campaigns/3/search?x=1",
                "recordings:read",
            ),
            (
                "PUT",
                "/1.0/recording_campaigns/3/c1/audio",
                "recordings:write",
            ),
            (
                "POST",
                "/1.0/webhooks/1/deliveries/x/redeliver",
                "webhooks:write",
            ),
            ("DELETE", "/1.0/tokens/1", "tokens:write"),
            ("GET", "/1.0/console/", "*:read"),
            ("GET", "/1.0/callcenter/agents/", "*:read"),
            ("POST", "/1.0/%75sers/", "*:write"),
        ];
        for (method, path, wanted) in cases {
            assert_eq!(needed(method, path), scope(wanted), "{method} {path}");
        }
    }
}
