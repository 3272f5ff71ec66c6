//! Spin's HTTP routing: which component a path reaches, what follows the route, and what
//! its `:name` segments captured.
//!
//! As Spin 4.0.2 does (its `routes` crate over `routefinder` 0.5.4): one trailing `/` of a
//! route is dropped and a route ending in `/...` (or `/*`) is a wildcard that also matches
//! its bare prefix. A request path loses all its leading and trailing slashes and is split
//! at each inner `/`, empty segments kept; a literal equals one segment, `:name` takes one
//! (empty only between two slashes), the wildcard the rest. Of the routes that match, the
//! best is found comparing their segments in turn (literal > `:name` > wildcard), a route
//! that runs out first winning; among equals the first declared. Paths are matched as sent,
//! without percent-decoding.

use std::cmp::Ordering;

use anyhow::{bail, Result};

#[derive(Debug, Clone)]
pub struct Route {
    /// As written in `spin.toml` (`spin-raw-component-route`).
    pub raw: String,
    /// With a leading `/` and one trailing `/` dropped (`spin-matched-route`).
    pub based: String,
    /// Segments of the route, or of the wildcard's prefix.
    segments: Vec<Segment>,
    wildcard: bool,
    pub component: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `:name`, by its name.
    Param(String),
}

/// The outcome of routing a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub component: usize,
    pub raw_route: String,
    pub based_route: String,
    /// `spin-component-route`: the raw route without its `/...`.
    pub component_route: String,
    /// `spin-path-info`: what follows a wildcard's prefix (`""` for a route without one).
    pub path_info: String,
    /// `(name, segment)` for each `:name` of the route, in its order, the segment as sent
    /// (`spin-path-match-<name>`).
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    pub fn add(&mut self, raw: &str, component: usize) -> Result<()> {
        // Spin: a later route with the same raw text takes the earlier one's place (its
        // order among equals) with the later component.
        if let Some(known) = self.routes.iter_mut().find(|r| r.raw == raw) {
            known.component = component;
            return Ok(());
        }
        let absolute = if raw.starts_with('/') {
            raw.to_string()
        } else {
            format!("/{raw}")
        };
        let based = absolute.strip_suffix('/').unwrap_or(&absolute).to_string();
        let (segments, wildcard) = match parse(&based) {
            Ok(parsed) => parsed,
            Err(why) => bail!("route {raw}: {why}"),
        };
        self.routes.push(Route {
            raw: raw.to_string(),
            based,
            segments,
            wildcard,
            component,
        });
        Ok(())
    }

    pub fn route(&self, path: &str) -> Option<Match> {
        let wanted = split(path);
        let mut best: Option<(&Route, Vec<(String, String)>)> = None;
        for route in &self.routes {
            let Some(params) = route.capture(&wanted) else {
                continue;
            };
            // Only a strictly better route replaces the best so far: first declared wins.
            if best
                .as_ref()
                .is_none_or(|(b, _)| route.rank(b) == Ordering::Greater)
            {
                best = Some((route, params));
            }
        }
        let (best, params) = best?;
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
            params,
        })
    }
}

impl Route {
    /// The `:name` captures if the route matches the path's segments.
    fn capture(&self, wanted: &[&str]) -> Option<Vec<(String, String)>> {
        let n = self.segments.len();
        if wanted.len() < n || (!self.wildcard && wanted.len() != n) {
            return None;
        }
        let mut params = Vec::new();
        for (segment, got) in self.segments.iter().zip(wanted) {
            match segment {
                Segment::Literal(text) if text == got => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => params.push((name.clone(), got.to_string())),
            }
        }
        Some(params)
    }

    /// How this route ranks against `other` (`Greater`: this one is better), as
    /// routefinder orders its routes: the first segment whose kind differs decides
    /// (literal > `:name` > wildcard), else the route with fewer segments is better.
    fn rank(&self, other: &Route) -> Ordering {
        let kinds = |r: &Route| {
            let named = r.segments.iter().map(|s| match s {
                Segment::Literal(_) => 2,
                Segment::Param(_) => 1,
            });
            named.chain(r.wildcard.then_some(0)).collect::<Vec<u8>>()
        };
        let (mine, theirs) = (kinds(self), kinds(other));
        mine.iter()
            .zip(&theirs)
            .map(|(m, t)| m.cmp(t))
            .find(|c| c.is_ne())
            .unwrap_or_else(|| theirs.len().cmp(&mine.len()))
    }
}

/// A based route's segments and whether it ends in a wildcard, as routefinder reads it:
/// `/...` is `/*`, the route's empty segments are dropped (`/a//b` is `/a/b`). What the
/// test host would not route as Spin does is refused: a `*` that is not the whole last
/// segment, a param next to a `.`, a segment after the first that starts with `.`.
fn parse(based: &str) -> Result<(Vec<Segment>, bool), String> {
    let spec = match based.strip_suffix("/...") {
        Some(prefix) => format!("{prefix}/*"),
        None => based.to_string(),
    };
    let mut parts: Vec<&str> = spec.split('/').filter(|s| !s.is_empty()).collect();
    let wildcard = parts.last() == Some(&"*");
    if wildcard {
        parts.pop();
    }
    let mut segments = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        // routefinder cuts a route at `.` as well as `/`; a `:` or `*` counts only at the
        // start of such a section.
        for section in part.split('.') {
            match section.chars().next() {
                Some('*') if section.len() == 1 => {
                    return Err("`*` may only be the whole last segment".into())
                }
                Some('*') => return Err(format!("`{section}`: a wildcard has no name")),
                Some(':') if section.len() == 1 => return Err("params must be named".into()),
                Some(':') if section != *part => {
                    return Err(format!("`{part}`: a param next to a `.` is not supported"))
                }
                _ => {}
            }
        }
        if i > 0 && part.starts_with('.') {
            // routefinder would glue it to the segment before, dropping the `/`.
            return Err(format!("`/{part}`: a segment may not start with `.`"));
        }
        segments.push(match part.strip_prefix(':') {
            Some(name) => Segment::Param(name.to_string()),
            None => Segment::Literal(part.to_string()),
        });
    }
    Ok((segments, wildcard))
}

/// A request path's segments: `"/1.0/users/"` → `["1.0", "users"]`; `"/"` → `[]`. Inner
/// empty segments are kept, so `/a//b` does not match `/a/b`, as in Spin.
fn split(path: &str) -> Vec<&str> {
    let path = path.trim_matches('/');
    if path.is_empty() {
        Vec::new()
    } else {
        path.split('/').collect()
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

    fn campaigns() -> Router {
        let mut r = Router::default();
        r.add("/1.0/recording_campaigns", 0).unwrap();
        r.add("/1.0/recording_campaigns/...", 1).unwrap();
        r.add("/1.0/recording_campaigns/:campaign/:cid/audio", 2)
            .unwrap();
        r
    }

    /// `(component, params as "name=value", path_info)`.
    fn routed(r: &Router, path: &str) -> Option<(usize, Vec<String>, String)> {
        r.route(path).map(|m| {
            let params = m.params.iter().map(|(n, v)| format!("{n}={v}")).collect();
            (m.component, params, m.path_info)
        })
    }

    fn with(routes: &[&str]) -> Router {
        let mut r = Router::default();
        for (i, route) in routes.iter().enumerate() {
            r.add(route, i).unwrap();
        }
        r
    }

    #[test]
    fn params_against_the_campaign_routes() {
        let r = campaigns();
        let audio = |cid: &str| {
            Some((
                2,
                vec!["campaign=5".into(), format!("cid={cid}")],
                "".into(),
            ))
        };
        let wild = |info: &str| Some((1, vec![], info.to_string()));
        let p = "/1.0/recording_campaigns";
        assert_eq!(routed(&r, &format!("{p}/5/abc/audio")), audio("abc"));
        assert_eq!(routed(&r, &format!("{p}/5/abc/audio/")), audio("abc"));
        assert_eq!(
            routed(&r, &format!("{p}/5/abc/audio/x")),
            wild("/5/abc/audio/x")
        );
        assert_eq!(routed(&r, &format!("{p}/5//audio")), audio(""));
        assert_eq!(routed(&r, &format!("{p}/5/abc")), wild("/5/abc"));
        assert_eq!(routed(&r, &format!("{p}/5/")), wild("/5/"));
        // Not decoded: `%2F` is part of one segment.
        assert_eq!(routed(&r, &format!("{p}/5/a%2Fb/audio")), audio("a%2Fb"));
        assert_eq!(
            routed(&r, &format!("{p}/5/abc/audiox")),
            wild("/5/abc/audiox")
        );
        assert_eq!(routed(&r, &format!("{p}%2F5")), None);
        assert_eq!(routed(&r, p), Some((0, vec![], "".into())));
        assert_eq!(routed(&r, &format!("{p}/")), Some((0, vec![], "".into())));
        let both_empty = Some((2, vec!["campaign=".into(), "cid=".into()], "".into()));
        assert_eq!(routed(&r, &format!("{p}///audio")), both_empty);
        let m = r.route(&format!("{p}/5/abc/audio")).unwrap();
        assert_eq!(m.raw_route, "/1.0/recording_campaigns/:campaign/:cid/audio");
        assert_eq!(m.based_route, m.raw_route);
        assert_eq!(m.component_route, m.raw_route);
    }

    #[test]
    fn params_around_a_wildcard() {
        // Spin's own test: `/foo/:userid/...`, `/foo/42/bar`.
        let r = with(&["/foo/:userid/..."]);
        let m = r.route("/foo/42/bar").unwrap();
        assert_eq!(
            (m.params, m.path_info),
            (vec![("userid".into(), "42".into())], "/bar".into())
        );
        assert_eq!(m.component_route, "/foo/:userid");
        assert_eq!(
            routed(&r, "/foo//bar"),
            Some((0, vec!["userid=".into()], "/bar".into()))
        );
        assert_eq!(
            routed(&r, "/foo/42"),
            Some((0, vec!["userid=42".into()], "".into()))
        );
        assert_eq!(routed(&r, "/foo/"), None);
        // A first or last param is never empty: the path's outer slashes are dropped.
        let r = with(&["/:a/x/:b"]);
        assert_eq!(
            routed(&r, "/1/x/2"),
            Some((0, vec!["a=1".into(), "b=2".into()], "".into()))
        );
        assert_eq!(routed(&r, "//x/2"), None);
        assert_eq!(routed(&r, "/1/x/"), None);
        // `:` or `*` inside a segment is literal; `/*` is a wildcard as `/...` is.
        let r = with(&["/a:b/c*", "/s/*"]);
        assert_eq!(routed(&r, "/a:b/c*"), Some((0, vec![], "".into())));
        assert_eq!(routed(&r, "/s/t/u"), Some((1, vec![], "/t/u".into())));
        assert_eq!(r.route("/s/t").unwrap().component_route, "/s/*");
    }

    #[test]
    fn ranking_by_the_first_different_segment() {
        // Listed worst first, so that the first declared never decides.
        assert_eq!(
            routed(&with(&["/a/:x/b", "/a/b/..."]), "/a/b/b"),
            Some((1, vec![], "/b".into()))
        );
        assert_eq!(
            routed(&with(&["/:p", "/a/..."]), "/a"),
            Some((1, vec![], "".into()))
        );
        assert_eq!(
            routed(&with(&["/:p", "/a/..."]), "/b"),
            Some((0, vec!["p=b".into()], "".into()))
        );
        let r = with(&["/a/:x/...", "/a/:x"]);
        assert_eq!(routed(&r, "/a/5"), Some((1, vec!["x=5".into()], "".into())));
        assert_eq!(
            routed(&r, "/a/5/6"),
            Some((0, vec!["x=5".into()], "/6".into()))
        );
        // routefinder's own example, added in its order.
        let r = with(&[
            "/...",
            "/hello",
            "/:greeting",
            "/hey/:world",
            "/hey/earth",
            "/:greeting/:world/...",
        ]);
        assert_eq!(routed(&r, "/hello").unwrap().0, 1);
        assert_eq!(routed(&r, "/hey").unwrap().0, 2);
        assert_eq!(routed(&r, "/hey/earth").unwrap().0, 4);
        assert_eq!(routed(&r, "/hey/mars").unwrap().0, 3);
        assert_eq!(routed(&r, "/hi/mars").unwrap().0, 5);
        assert_eq!(routed(&r, "/hi/mars/x").unwrap().0, 5);
        assert_eq!(routed(&r, "/").unwrap().0, 0);
    }

    #[test]
    fn ties_go_to_the_first_declared() {
        let r = with(&["/a/:x", "/a/:y"]);
        assert_eq!(routed(&r, "/a/1"), Some((0, vec!["x=1".into()], "".into())));
        let r = with(&["/a/:y", "/a/:x"]);
        assert_eq!(routed(&r, "/a/1"), Some((0, vec!["y=1".into()], "".into())));
        let r = with(&["/:x/...", "/:y/..."]);
        assert_eq!(
            routed(&r, "/1/2"),
            Some((0, vec!["x=1".into()], "/2".into()))
        );
    }

    #[test]
    fn a_duplicate_keeps_the_first_place_and_the_last_component() {
        let mut r = Router::default();
        r.add("/a/:x", 0).unwrap();
        r.add("/a/:y", 1).unwrap();
        r.add("/a/:x", 2).unwrap();
        // Still before `/a/:y`, now with component 2.
        assert_eq!(routed(&r, "/a/1"), Some((2, vec!["x=1".into()], "".into())));
        assert_eq!(r.routes.len(), 2);
        // Only the raw text counts: `/a/:x/` is another route (after `/a/:y`).
        r.add("/a/:x/", 3).unwrap();
        assert_eq!(routed(&r, "/a/1").unwrap().0, 2);
    }

    #[test]
    fn refusals() {
        let refused = |route: &str| {
            let e = Router::default().add(route, 0).unwrap_err().to_string();
            assert!(e.starts_with(&format!("route {route}: ")), "{e}");
            e
        };
        assert!(refused("/a/:").contains("params must be named"));
        assert!(refused("/a/:/b").contains("params must be named"));
        assert!(refused("/a/*/b").contains("`*` may only be the whole last segment"));
        assert!(refused("/a/.../b").contains("may not start with `.`"));
        assert!(refused("/a/*.json").contains("`*` may only be"));
        assert!(refused("/a/*rest").contains("a wildcard has no name"));
        assert!(refused("/a/:name.json").contains("a param next to a `.`"));
        assert!(refused("/a/:a.:b").contains("a param next to a `.`"));
        assert!(refused("/a/v1.:x").contains("a param next to a `.`"));
        assert!(refused("/a/.b").contains("`/.b`: a segment may not start with `.`"));
        // Accepted: a `.` in a literal, a first segment starting with `.`, `//` in a route.
        let r = with(&["/1.0/x", "/.well/x", "/a//b/..."]);
        assert_eq!(routed(&r, "/.well/x").unwrap().0, 1);
        assert_eq!(routed(&r, "/a/b/c"), Some((2, vec![], "/c".into())));
    }
}
