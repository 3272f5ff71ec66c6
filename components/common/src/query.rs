//! The query string of a request: decoded pairs, and the check that a list knows them all.

use crate::error::ApiError;

#[derive(Clone, Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parse `a=1&b=x%20y&flag` (form encoding: `+` is a space).
    pub fn parse(query: &str) -> Self {
        let pairs = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Self { pairs }
    }

    /// The first value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `name`, in the order sent.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    /// 400 `Incorrect parameters sent: ...` naming, once each and in the order sent, every
    /// parameter that `rules` does not know and every value its rule refuses.
    pub fn check(&self, rules: &[(&str, Rule)]) -> Result<(), ApiError> {
        self.check_each(|key, value| rules.iter().any(|(name, rule)| *name == key && rule(value)))
    }

    /// As [`Query::check`], with `fits` telling which (parameter, value) pairs are right.
    pub fn check_each(&self, fits: impl Fn(&str, &str) -> bool) -> Result<(), ApiError> {
        let mut incorrect: Vec<&str> = Vec::new();
        for (k, v) in &self.pairs {
            if !fits(k, v) && !incorrect.contains(&k.as_str()) {
                incorrect.push(k);
            }
        }
        if incorrect.is_empty() {
            Ok(())
        } else {
            Err(ApiError::incorrect_parameters(&incorrect))
        }
    }
}

/// What a query parameter's value must be.
pub type Rule = fn(&str) -> bool;

/// Any value.
pub fn any(_: &str) -> bool {
    true
}

/// A whole number (`12`, `-3`).
pub fn whole(value: &str) -> bool {
    crate::body::parse_whole(value).is_some()
}

/// A boolean, spelled as bodies may spell it (`true`, `False`, `1`...).
pub fn flag(value: &str) -> bool {
    parse_flag(value).is_some()
}

/// A date in one of API.md's forms (`2013-05-28`, `2013-05-28 16:05:59`, ISO 8601, RFC 2822).
pub fn date(value: &str) -> bool {
    crate::dates::parse(value).is_some()
}

pub fn parse_flag(value: &str) -> Option<bool> {
    crate::body::boolean(&serde_json::Value::String(value.to_string()))
}

/// Percent-decoding with `+` as a space; a malformed escape is kept as written.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-decoding of a path segment (`+` stays a plus).
pub fn decode_path(s: &str) -> String {
    decode(&s.replace('+', "%2B"))
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_decodes() {
        let q = Query::parse("campaign_name=accents_%C3%A9%C3%A8%C3%A0%26&x=a+b&flag&=&bad=%zz%4");
        assert_eq!(q.get("campaign_name"), Some("accents_éèà&"));
        assert_eq!(q.get("x"), Some("a b"));
        assert!(q.has("flag"));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("bad"), Some("%zz%4"));
        assert_eq!(decode_path("a+b%2Fc"), "a+b/c");
    }

    #[test]
    fn every_bad_parameter_once_in_the_order_sent() {
        let rules: &[(&str, Rule)] = &[("_page", whole), ("name", any), ("on", flag)];
        let q = Query::parse("on=maybe&_page=1&x=1&name=a&x=2&_page=z&on=true");
        let e = q.check(rules).unwrap_err();
        assert_eq!(
            e.messages().unwrap(),
            vec!["Incorrect parameters sent: on, x, _page"]
        );
        assert!(Query::parse("_page=2&name=&on=False").check(rules).is_ok());
        assert!(Query::parse("").check(&[]).is_ok());
    }
}
