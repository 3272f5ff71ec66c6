//! What an API token may do: scopes, each a family and a right (`users:read`,
//! `recordings:write`, `campaigns:*`, `*:read`, `*:*`), and the scope a request needs.
//!
//! A request needs its family's `read` when it only reads (GET, HEAD, OPTIONS), else its
//! `write`; its family is decided from the route Spin matched, as the component's router
//! decides what to do. `write` does not include `read`: a hook that only posts recordings never reads
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

/// The scopes of `wanted` that none of `granted` covers: what a token asks beyond its own,
/// for a request or for a token it makes.
pub fn uncovered<'w, 'a>(granted: &[Scope], wanted: &'w [Scope<'a>]) -> Vec<&'w Scope<'a>> {
    wanted
        .iter()
        .filter(|w| !granted.iter().any(|g| g.covers(w)))
        .collect()
}

impl std::fmt::Display for Scope<'_> {
    /// `family:right`, as written.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.family, self.right)
    }
}

/// The scopes a request needs: its method's right on its family, from the route Spin matched
/// (`spin-component-route`, the route in `spin.toml` without its `/...`) and the path below it
/// (`spin-path-info`, split as the components' routers split it), so that it is decided from
/// what the component will do, not from a spelling of the path. Then what else it reaches:
/// writing webhooks needs `*:read` too (a subscription receives every family's changes, and a
/// redelivery sends stored ones again); the users' CSV (`import`, `export`) carries their
/// voicemails too (`voicemails:<right>`).
pub fn needed(method: &str, route: &str, segments: &[&str]) -> Vec<Scope<'static>> {
    let right = match method {
        "GET" | "HEAD" | "OPTIONS" => "read",
        _ => "write",
    };
    let family = family(route, segments, method).unwrap_or("*");
    let mut needed = vec![Scope { family, right }];
    match (family, right, segments) {
        ("webhooks", "write", _) => needed.push(Scope {
            family: "*",
            right: "read",
        }),
        ("users", _, ["import" | "export"] | ["import" | "export", ""]) => needed.push(Scope {
            family: "voicemails",
            right,
        }),
        _ => {}
    }
    needed
}

/// The family of a request to `route`: one per route, but for the campaigns' route, where the
/// campaigns router gives some paths to a campaign and others to its recordings
/// (`components/campaigns/src/lib.rs`, `route`).
pub fn family(route: &str, segments: &[&str], method: &str) -> Option<&'static str> {
    Some(match route {
        "/1.0/users" => "users",
        "/1.0/voicemails" => "voicemails",
        "/1.0/CallCenter/agents" => "agents",
        "/1.0/CallCenter/queues" => "queues",
        "/1.0/webhooks" => "webhooks",
        "/1.0/tokens" => "tokens",
        "/1.0/recording_campaigns/:campaign/:cid/audio" => "recordings",
        "/1.0/recording_campaigns" => match (segments, method) {
            ([] | [""], _) => "campaigns",
            ([_], "POST") => "recordings",
            ([_], _) | ([_, ""], "PUT" | "DELETE") => "campaigns",
            _ => "recordings",
        },
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
        assert!(uncovered(&granted, &[scope("campaigns:write"), scope("users:read")]).is_empty());
        let wanted = [scope("users:*"), scope("users:read")];
        assert_eq!(uncovered(&granted, &wanted), [&scope("users:*")]);
        assert_eq!(scope("users:*").to_string(), "users:*");
    }

    #[test]
    fn what_a_request_needs() {
        let campaigns = "/1.0/recording_campaigns";
        let cases: &[(&str, &str, &[&str], &str)] = &[
            ("GET", "/1.0/users", &[""], "users:read"),
            ("HEAD", "/1.0/users", &["5"], "users:read"),
            ("DELETE", "/1.0/voicemails", &["5"], "voicemails:write"),
            ("POST", "/1.0/CallCenter/agents", &[], "agents:write"),
            ("GET", "/1.0/CallCenter/queues", &["1"], "queues:read"),
            ("POST", campaigns, &[""], "campaigns:write"),
            // `//`: Spin matches the bare route, and the router lists campaigns.
            ("GET", campaigns, &[], "campaigns:read"),
            ("GET", campaigns, &["3"], "campaigns:read"),
            ("PUT", campaigns, &["3"], "campaigns:write"),
            ("PUT", campaigns, &["3", ""], "campaigns:write"),
            ("DELETE", campaigns, &["3", ""], "campaigns:write"),
            ("POST", campaigns, &["3"], "recordings:write"),
            ("POST", campaigns, &["3", ""], "recordings:write"),
            ("GET", campaigns, &["3", ""], "recordings:read"),
            ("GET", campaigns, &["3", "search"], "recordings:read"),
            ("POST", campaigns, &["3", "purge"], "recordings:write"),
            ("DELETE", campaigns, &["3", "c1"], "recordings:write"),
            (
                "PUT",
                "/1.0/recording_campaigns/:campaign/:cid/audio",
                &[],
                "recordings:write",
            ),
            (
                "POST",
                "/1.0/webhooks",
                &["1", "deliveries", "x", "redeliver"],
                "webhooks:write",
            ),
            ("DELETE", "/1.0/tokens", &["1"], "tokens:write"),
            ("GET", "/console", &[""], "*:read"),
            ("GET", "", &[], "*:read"),
            ("POST", "/1.0/users/...", &[], "*:write"),
        ];
        for (method, route, segments, wanted) in cases {
            assert_eq!(
                needed(method, route, segments)[0],
                scope(wanted),
                "{method} {route} {segments:?}"
            );
        }
        let all = |method, route, segments: &[&str]| {
            let scopes = needed(method, route, segments);
            scopes.iter().map(Scope::to_string).collect::<Vec<_>>()
        };
        assert_eq!(all("GET", "/1.0/users", &["5"]), ["users:read"]);
        assert_eq!(
            all("POST", "/1.0/webhooks", &[]),
            ["webhooks:write", "*:read"]
        );
        assert_eq!(all("GET", "/1.0/webhooks", &[]), ["webhooks:read"]);
        assert_eq!(
            all("POST", "/1.0/users", &["import"]),
            ["users:write", "voicemails:write"]
        );
        assert_eq!(
            all("GET", "/1.0/users", &["export", ""]),
            ["users:read", "voicemails:read"]
        );
    }
}
