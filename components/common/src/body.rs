//! Request bodies: parse a JSON object, check its keys against a resource's fields, and
//! apply what was sent onto a resource.
//!
//! The seed's own examples send ids as strings (`"queue_id": "2"`) and booleans as `"True"`
//! or `1`; those are accepted and normalised, so old clients keep working. Anything else of
//! the wrong type is an incorrect parameter.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The largest body a request may carry; a larger one is refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What a key of a body may hold.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A string.
    Text,
    /// A string or null.
    OptText,
    /// A boolean (also `0`/`1`, `"true"`/`"True"`/`"false"`/`"False"`).
    Bool,
    /// An integer (also a string of one).
    Int,
    /// An integer or null.
    OptInt,
    /// A number.
    Real,
    /// A key the API returns and the client may send back: accepted and ignored.
    ReadOnly,
    /// Checked by the resource: returns the normalised value, or `None` when it is wrong.
    Custom(fn(&Value) -> Option<Value>),
}

/// One key a resource accepts in a body.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
}

/// Shorthand for a resource's field table.
pub const fn field(name: &'static str, kind: Kind) -> Field {
    Field { name, kind }
}

/// Parse a body that must be a JSON object (empty, invalid JSON or UTF-8, or not an object:
/// `No parsable data in the request`).
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::no_parsable_data()),
    }
}

/// Check every key of `body` against `fields`: unknown keys and wrong types are listed
/// together, once each, in the order sent. Returns the writable keys with normalised
/// values (read-only keys dropped), in the order sent.
pub fn check(body: &Map<String, Value>, fields: &[Field]) -> Result<Map<String, Value>, ApiError> {
    let mut accepted = Map::new();
    let mut incorrect: Vec<&str> = Vec::new();
    for (key, value) in body {
        let Some(field) = fields.iter().find(|f| f.name == key) else {
            incorrect.push(key);
            continue;
        };
        if let Kind::ReadOnly = field.kind {
            continue;
        }
        match normalise(field.kind, value) {
            Some(v) => {
                accepted.insert(key.clone(), v);
            }
            None => incorrect.push(key),
        }
    }
    if incorrect.is_empty() {
        Ok(accepted)
    } else {
        Err(ApiError::incorrect_parameters(&incorrect))
    }
}

/// `Missing parameters: ...` for the required keys `body` lacks (in the order given).
pub fn require(body: &Map<String, Value>, required: &[&str]) -> Result<(), ApiError> {
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|k| !body.contains_key(*k))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::missing_parameters(&missing))
    }
}

/// `resource` with the checked keys of a body written over it: only the keys sent change,
/// those a resource shows only when set (a campaign's `retention_days`) included.
pub fn apply<T: Assign + Clone>(resource: &T, changes: &Map<String, Value>) -> Result<T, ApiError> {
    let mut applied = resource.clone();
    for (key, value) in changes {
        // `check` has made every value fit its field, so this cannot fail on a client's input.
        if !applied.assign(key, value) {
            return Err(ApiError::internal(format!(
                "`{key}` does not take what `check` let through"
            )));
        }
    }
    Ok(applied)
}

/// A resource a checked body can be written over, key by key ([`apply`]); written by
/// [`assign!`](crate::assign!) (and by [`table!`](crate::table!)), rather than by serde's
/// `Deserialize`, whose generic visitor for each struct weighed 10 to 30 KB in each component.
pub trait Assign {
    /// Write `value` into the field named `key`; false when there is none, or the value does
    /// not fit it.
    fn assign(&mut self, key: &str, value: &Value) -> bool;
}

/// A field's type as a checked body holds it (the value [`check`] normalised).
pub trait FromBody: Sized {
    fn from_body(value: &Value) -> Option<Self>;
}

impl FromBody for String {
    fn from_body(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_string)
    }
}

impl FromBody for i64 {
    fn from_body(value: &Value) -> Option<Self> {
        value.as_i64()
    }
}

impl FromBody for bool {
    fn from_body(value: &Value) -> Option<Self> {
        value.as_bool()
    }
}

impl FromBody for f64 {
    fn from_body(value: &Value) -> Option<Self> {
        value.as_f64()
    }
}

impl FromBody for Vec<String> {
    fn from_body(value: &Value) -> Option<Self> {
        value.as_array()?.iter().map(String::from_body).collect()
    }
}

/// Null is `None`.
impl<T: FromBody> FromBody for Option<T> {
    fn from_body(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_body(other).map(Some),
        }
    }
}

/// For [`assign!`](crate::assign!): write `value` into `field` when it fits.
pub fn set<T: FromBody>(field: &mut T, value: &Value) -> bool {
    T::from_body(value).map(|v| *field = v).is_some()
}

/// `impl Assign for Campaign`, over the named fields: `common::assign!(Campaign { campaign_name,
/// activated, queue_id })`.
#[macro_export]
macro_rules! assign {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl $crate::body::Assign for $name {
            fn assign(&mut self, key: &str, value: &::serde_json::Value) -> bool {
                match key {
                    $( stringify!($field) => $crate::body::set(&mut self.$field, value), )*
                    _ => false,
                }
            }
        }
    };
}

fn normalise(kind: Kind, value: &Value) -> Option<Value> {
    match (kind, value) {
        (Kind::Text | Kind::OptText, Value::String(_)) => Some(value.clone()),
        (Kind::OptText | Kind::OptInt, Value::Null) => Some(Value::Null),
        (Kind::Bool, _) => boolean(value).map(Value::Bool),
        (Kind::Int | Kind::OptInt, _) => integer(value).map(Value::from),
        (Kind::Real, Value::Number(n)) => n.as_f64().map(Value::from),
        (Kind::Custom(check), _) => check(value),
        _ => None,
    }
}

/// An integer, or a string holding one (as the seed's examples send ids).
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => whole(n),
        Value::String(s) => parse_whole(s),
        _ => None,
    }
}

/// A JSON number that is a whole number in `i64`'s range: `5`, and `5.0` too, which JSON (and
/// JSON Schema's `integer`) counts as the same number. A number that came as a float is
/// taken only where a float is exact (below 2^53): past it, `-9223372036854775809` would
/// round into range.
pub fn whole(n: &serde_json::Number) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    n.as_i64().or_else(|| {
        let f = n.as_f64()?;
        (f.fract() == 0.0 && f.abs() < EXACT).then_some(f as i64)
    })
}

/// A boolean, or one of the spellings 2013 clients used: `1`/`0`, `"True"`/`"False"`.
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match whole(n) {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.as_str() {
            "true" | "True" | "1" => Some(true),
            "false" | "False" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// For `Kind::Custom`: a string that is not empty (a key that names the resource).
pub fn non_empty_text(value: &Value) -> Option<Value> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(value.clone()),
        _ => None,
    }
}

/// A signed decimal integer written plainly: `-12`, `42`; not `+4`, ` 4`, `4.0`.
pub fn parse_whole(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[Field] = &[
        field("id", Kind::ReadOnly),
        field("name", Kind::Text),
        field("email", Kind::OptText),
        field("on", Kind::Bool),
        field("count", Kind::Int),
        field("owner", Kind::OptInt),
        field("ratio", Kind::Real),
    ];

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn unparsable_bodies() {
        for body in [
            &b""[..],
            b"   ",
            b"{",
            b"[1,2]",
            b"\"text\"",
            b"42",
            b"null",
            b"{\"a\": \"\xff\"}",
        ] {
            let e = parse_object(body).unwrap_err();
            assert_eq!(
                e.messages().unwrap(),
                vec!["No parsable data in the request"]
            );
        }
        assert!(parse_object(b" {\"a\": 1} ").is_ok());
    }

    #[test]
    fn unknown_and_wrong_keys_listed_once_in_order_sent() {
        let body = obj(json!({"zeta": 1, "name": 5, "id": 9, "on": "maybe", "count": 2}));
        let e = check(&body, FIELDS).unwrap_err();
        assert_eq!(
            e.messages().unwrap(),
            vec!["Incorrect parameters sent: zeta, name, on"]
        );
    }

    /// JSON does not tell `5.0` from `5`, and neither does JSON Schema's `integer`.
    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        assert_eq!(integer(&json!(763.0)), Some(763));
        assert_eq!(integer(&json!(-2.0)), Some(-2));
        assert_eq!(boolean(&json!(1.0)), Some(true));
        let below_i64 = serde_json::from_str::<Value>("-9223372036854775809").unwrap();
        for bad in [
            json!(763.5),
            json!(1e19),
            json!(-1e19),
            json!("763.0"),
            below_i64,
        ] {
            assert_eq!(integer(&bad), None, "{bad}");
        }
    }

    #[test]
    fn seed_spellings_are_normalised_and_read_only_dropped() {
        let body = obj(json!({
            "id": "7", "on": "True", "count": "12", "owner": null, "ratio": 2, "email": null
        }));
        let got = check(&body, FIELDS).unwrap();
        assert_eq!(
            Value::Object(got),
            json!({"on": true, "count": 12, "owner": null, "ratio": 2.0, "email": null})
        );
        let got = check(&obj(json!({"on": 0, "count": -3})), FIELDS).unwrap();
        assert_eq!(Value::Object(got), json!({"on": false, "count": -3}));
    }

    #[test]
    fn wrong_types() {
        for (k, v) in [
            ("name", json!(null)),
            ("name", json!(3)),
            ("on", json!(2)),
            ("on", json!("yes")),
            ("count", json!(1.5)),
            ("count", json!("1.5")),
            ("count", json!(" 1")),
            ("count", json!(null)),
            ("count", json!(99999999999999999999u128.to_string())),
            ("owner", json!(true)),
            ("ratio", json!("1.0")),
        ] {
            let mut body = Map::new();
            body.insert(k.to_string(), v.clone());
            assert!(check(&body, FIELDS).is_err(), "{k}: {v}");
        }
    }

    #[test]
    fn missing() {
        let e = require(&obj(json!({"b": 1})), &["a", "b", "c"]).unwrap_err();
        assert_eq!(e.messages().unwrap(), vec!["Missing parameters: a, c"]);
    }

    #[derive(Clone, Debug, PartialEq)]
    struct Thing {
        id: i64,
        name: String,
        on: bool,
    }
    crate::assign!(Thing { name, on });

    #[derive(Clone, Debug, PartialEq, Default)]
    struct Every {
        text: String,
        number: i64,
        real: f64,
        list: Vec<String>,
        maybe: Option<i64>,
    }
    crate::assign!(Every {
        text,
        number,
        real,
        list,
        maybe
    });

    #[test]
    fn every_stored_type_is_assigned() {
        let changes = obj(json!({
            "text": "a", "number": -3, "real": 2.5, "list": ["x", "y"], "maybe": 4
        }));
        let every = apply(&Every::default(), &changes).unwrap();
        let want = Every {
            text: "a".into(),
            number: -3,
            real: 2.5,
            list: vec!["x".into(), "y".into()],
            maybe: Some(4),
        };
        assert_eq!(every, want);
        let cleared = apply(&every, &obj(json!({"maybe": null}))).unwrap();
        assert_eq!(cleared.maybe, None);
        assert_eq!(cleared.list, want.list, "what was not sent stays");
    }

    /// A key `check` would not have let through is our fault (500), never a silent change.
    #[test]
    fn unassignable_keys_are_internal_errors() {
        for bad in [
            json!({"nothing": 1}),
            json!({"number": "7"}),
            json!({"list": [1]}),
            json!({"text": null}),
        ] {
            let e = apply(&Every::default(), &obj(bad.clone())).unwrap_err();
            assert!(matches!(e, ApiError::Internal(_)), "{bad}");
        }
    }

    #[test]
    fn apply_changes_only_what_was_sent() {
        let t = Thing {
            id: 1,
            name: "a".into(),
            on: false,
        };
        let changes = check(&obj(json!({"on": "True", "id": 5})), FIELDS).unwrap();
        let t2 = apply(&t, &changes).unwrap();
        assert_eq!(
            t2,
            Thing {
                id: 1,
                name: "a".into(),
                on: true
            }
        );
    }
}
