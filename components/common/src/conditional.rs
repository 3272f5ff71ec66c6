//! Conditional requests (RFC 9110, section 13): a resource's `ETag` is its row's version, so a
//! client can ask "only if nobody changed it since I read it" (`If-Match` on PUT and DELETE:
//! 412 otherwise) and "only if it changed" (`If-None-Match` on GET: 304 otherwise). A client
//! that sends neither header sees no difference. The write itself checks the version again
//! (`resource.rs`: `... WHERE id = ? AND version = ?`, in the one statement that writes), so
//! two clients holding the same tag cannot both win.

use crate::{
    error::ApiError,
    http::{Reply, Request},
};

/// The message of a failed `If-Match`.
pub const CHANGED: &str = "Precondition failed: the resource has changed";

/// The strong entity tag of a resource at `version`: `"7"`. Ids are never reused, so the
/// version alone tells one state of one URL's resource from another.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// `If-Match` on a write: passes without the header; with it, the current resource must exist
/// and its tag be listed (strong comparison), or the header be `*`. Else 412, before
/// anything is written.
pub fn check_if_match(req: &Request, current: Option<i64>) -> Result<(), ApiError> {
    let Some(header) = req.header("if-match") else {
        return Ok(());
    };
    let matched = current.is_some_and(|version| listed(header, &etag(version), Comparison::Strong));
    if matched {
        Ok(())
    } else {
        Err(ApiError::precondition_failed(CHANGED))
    }
}

/// The version a write must still find its row at: the one `If-Match` named (it matched
/// `version`, the version read), so that a change in between answers 412 when all is read
/// again; none without `If-Match`, or with `*` (any version will do while the row is there).
pub fn write_guard(req: &Request, version: i64) -> Option<i64> {
    req.header("if-match")
        .filter(|h| h.trim() != "*")
        .map(|_| version)
}

/// The resource a write is about, found or not: `If-Match` first (412), then 404.
pub fn existing<T>(req: &Request, found: Option<T>, version: fn(&T) -> i64) -> Result<T, ApiError> {
    check_if_match(req, found.as_ref().map(version))?;
    found.ok_or(ApiError::NotFound)
}

/// A read of a resource at `version`: 304 with its tag when `If-None-Match` names the current
/// tag, else `reply` with its `ETag`.
pub fn read(req: &Request, version: i64, reply: impl FnOnce() -> Reply) -> Reply {
    let tag = etag(version);
    let reply = if none_match_fails(req, &tag) {
        Reply::empty(304)
    } else {
        reply()
    };
    reply.with_header("etag", tag)
}

/// Whether `If-None-Match` names `tag` (weak comparison): the client has it already, 304.
pub fn none_match_fails(req: &Request, tag: &str) -> bool {
    req.header("if-none-match")
        .is_some_and(|header| listed(header, tag, Comparison::Weak))
}

#[derive(Clone, Copy, PartialEq)]
enum Comparison {
    /// `If-Match`: a weak tag (`W/"7"`) never matches.
    Strong,
    /// `If-None-Match`: `W/"7"` matches `"7"`.
    Weak,
}

/// Whether `header` (`*`, or a comma-separated list of entity tags) lists `tag`.
fn listed(header: &str, tag: &str, comparison: Comparison) -> bool {
    let header = header.trim();
    if header == "*" {
        return true;
    }
    header
        .split(',')
        .map(str::trim)
        .any(|candidate| match candidate.strip_prefix("W/") {
            Some(weak) => comparison == Comparison::Weak && weak == tag,
            None => candidate == tag,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tag_lists() {
        let tag = etag(7);
        assert_eq!(tag, "\"7\"");
        assert!(listed("\"7\"", &tag, Comparison::Strong));
        assert!(listed(" \"3\", \"7\" ", &tag, Comparison::Strong));
        assert!(listed("*", &tag, Comparison::Strong));
        assert!(!listed("\"8\"", &tag, Comparison::Strong));
        assert!(!listed("7", &tag, Comparison::Strong));
        assert!(!listed("W/\"7\"", &tag, Comparison::Strong));
        assert!(listed("W/\"7\"", &tag, Comparison::Weak));
        assert!(!listed("", &tag, Comparison::Weak));
    }
}
