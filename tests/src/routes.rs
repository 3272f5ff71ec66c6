//! Spin's HTTP routing: which component a path reaches, and what follows the route.
//!
//! As Spin does (its `routes` crate over `routefinder`): one trailing `/` of a route is
//! dropped; a route ending in `/...` is a wildcard that also matches its bare prefix; the
//! leading and trailing slashes of a request path are ignored; an exact route beats a
//! wildcard, the longest wildcard prefix wins, and among equals the first declared. Paths
//! are matched as sent, without percent-decoding.

use anyhow::{bail, Result};

#[derive(Debug, Clone)]
pub struct Route {
    /// As written in `spin.toml` (`spin-raw-component-route`).
    pub raw: String,
    /// With a leading `/` and one trailing `/` dropped (`spin-matched-route`).
    pub based: String,
    /// Segments of the exact route, or of the wildcard's prefix.
    segments: Vec<String>,
    wildcard: bool,
    pub component: usize,
}

/// The outcome of routing a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub component: usize,
    pub raw_route: String,
    pub based_route: String,
    /// `spin-component-route`: the raw route without its `/...`.
    pub component_route: String,
    /// `spin-path-info`: what follows a wildcard's prefix (`""` for an exact route).
    pub path_info: String,
}

#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    pub fn add(&mut self, raw: &str, component: usize) -> Result<()> {
        let absolute = if raw.starts_with('/') {
            raw.to_string()
        } else {
            format!("/{raw}")
        };
        let based = absolute.strip_suffix('/').unwrap_or(&absolute).to_string();
        let (prefix, wildcard) = match based.strip_suffix("/...") {
            Some(prefix) => (prefix.to_string(), true),
            None => (based.clone(), false),
        };
        if prefix.contains([':', '*']) {
            bail!("route {raw}: parameters and `*` are not supported by the test host");
        }
        // Spin: a later route with the same raw text replaces the earlier one.
        self.routes.retain(|r| r.raw != raw);
        self.routes.push(Route {
            raw: raw.to_string(),
            based,
            segments: split(&prefix),
            wildcard,
            component,
        });
        Ok(())
    }

    pub fn route(&self, path: &str) -> Option<Match> {
        let trimmed = path.trim_matches('/');
        let wanted = split(trimmed);
        let best = self
            .routes
            .iter()
            .filter(|r| {
                if r.wildcard {
                    wanted.len() >= r.segments.len() && wanted[..r.segments.len()] == r.segments[..]
                } else {
                    wanted == r.segments
                }
            })
            // Exact first, then the longest prefix; `min_by_key` keeps the first of equals.
            .min_by_key(|r| (r.wildcard, usize::MAX - r.segments.len()))?;
        let path_info = if best.wildcard {
            let rest = wanted[best.segments.len()..].join("/");
            match (rest.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_string(),
                (false, false) => format!("/{rest}"),
                (false, true) => format!("/{rest}/"),
            }
        } else {
            String::new()
        };
        Some(Match {
            component: best.component,
            raw_route: best.raw.clone(),
            based_route: best.based.clone(),
            component_route: best
                .raw
                .strip_suffix("/...")
                .unwrap_or(&best.raw)
                .to_string(),
            path_info,
        })
    }
}

/// `"1.0/users"` → `["1.0", "users"]`; `""` → `[]`. Inner empty segments are kept, so
/// `/a//b` does not match `/a/b`, as in Spin.
fn split(path: &str) -> Vec<String> {
    let path = path.trim_matches('/');
    if path.is_empty() {
        Vec::new()
    } else {
        path.split('/').map(str::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let mut r = Router::default();
        r.add("/1.0/users", 0).unwrap();
        r.add("/1.0/users/...", 0).unwrap();
        r.add("/1.0/CallCenter/agents/...", 1).unwrap();
        r.add("/1.0/users/me", 2).unwrap();
        r.add("/1.0/users/me/deep/...", 3).unwrap();
        r
    }

    fn info(path: &str) -> Option<(usize, String)> {
        router().route(path).map(|m| (m.component, m.path_info))
    }

    #[test]
    fn spin_path_info() {
        // The exact route `/1.0/users` takes both `/1.0/users` and `/1.0/users/`.
        assert_eq!(info("/1.0/users"), Some((0, "".into())));
        assert_eq!(info("/1.0/users/"), Some((0, "".into())));
        let mut wildcard_only = Router::default();
        wildcard_only.add("/1.0/users/...", 0).unwrap();
        let m = |p: &str| wildcard_only.route(p).unwrap().path_info;
        assert_eq!(m("/1.0/users"), "");
        assert_eq!(m("/1.0/users/"), "/");
        assert_eq!(info("/1.0/users/42"), Some((0, "/42".into())));
        assert_eq!(info("/1.0/users/42/"), Some((0, "/42/".into())));
        assert_eq!(info("/1.0/users//x"), Some((0, "//x".into())));
        assert_eq!(info("/1.0/CallCenter/agents"), Some((1, "".into())));
    }

    #[test]
    fn exact_beats_wildcard_and_longest_prefix_wins() {
        assert_eq!(info("/1.0/users/me"), Some((2, "".into())));
        assert_eq!(info("/1.0/users/me/"), Some((2, "".into())));
        assert_eq!(info("/1.0/users/me/x"), Some((0, "/me/x".into())));
        assert_eq!(info("/1.0/users/me/deep/er"), Some((3, "/er".into())));
    }

    #[test]
    fn no_match() {
        assert_eq!(info("/1.0/usersX"), None);
        assert_eq!(info("/1.0/usersX/1"), None);
        assert_eq!(info("/"), None);
        assert_eq!(info("/2.0/users"), None);
        assert_eq!(info("/1.0/callcenter/agents"), None);
        assert_eq!(info("/1.0/users%2F1"), None);
    }

    #[test]
    fn headers_values() {
        let m = router().route("/1.0/users/7").unwrap();
        assert_eq!(m.raw_route, "/1.0/users/...");
        assert_eq!(m.based_route, "/1.0/users/...");
        assert_eq!(m.component_route, "/1.0/users");
        let m = router().route("/1.0/users").unwrap();
        assert_eq!(m.raw_route, "/1.0/users");
        assert_eq!(m.component_route, "/1.0/users");
    }
}
