//! `Range: bytes=...` (RFC 9110, section 14), for media served in parts: one range is served,
//! several (or one the server cannot read) get the whole representation.

/// What a `Range` header asks of a representation of `length` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Ranged {
    /// No range, several ranges, or a header that does not parse: the whole, 200.
    Whole,
    /// Bytes `first` to `last`, both included, 206.
    Part { first: u64, last: u64 },
    /// A range no byte of the representation falls in, 416.
    Unsatisfiable,
}

/// `Range` of a representation of `length` bytes: `bytes=a-b`, `bytes=a-` or `bytes=-n`. A
/// `b` past the end is the end; a suffix longer than the representation is all of it.
pub fn parse(header: Option<&str>, length: u64) -> Ranged {
    let Some(spec) = header.and_then(|h| {
        let (unit, set) = h.trim().split_once('=')?;
        unit.trim()
            .eq_ignore_ascii_case("bytes")
            .then_some(set.trim())
    }) else {
        return Ranged::Whole;
    };
    if spec.contains(',') {
        return Ranged::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ranged::Whole;
    };
    let number = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // `-n`: the last n bytes.
        (true, _, Some(n)) => {
            if n == 0 || length == 0 {
                Ranged::Unsatisfiable
            } else {
                Ranged::Part {
                    first: length - n.min(length),
                    last: length - 1,
                }
            }
        }
        (false, Some(first), last) if last.is_some() || last_is_empty(spec) => match last {
            Some(last) if last < first => Ranged::Whole,
            _ if first >= length => Ranged::Unsatisfiable,
            last => Ranged::Part {
                first,
                last: last.map_or(length - 1, |l| l.min(length - 1)),
            },
        },
        _ => Ranged::Whole,
    }
}

/// Whether `a-` leaves its end out (rather than giving one that does not parse).
fn last_is_empty(spec: &str) -> bool {
    spec.split_once('-')
        .is_some_and(|(_, l)| l.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(first: u64, last: u64) -> Ranged {
        Ranged::Part { first, last }
    }

    #[test]
    fn one_range() {
        assert_eq!(parse(Some("bytes=0-99"), 1000), part(0, 99));
        assert_eq!(parse(Some("bytes=500-"), 1000), part(500, 999));
        assert_eq!(parse(Some("bytes=-100"), 1000), part(900, 999));
        assert_eq!(parse(Some("bytes=990-2000"), 1000), part(990, 999));
        assert_eq!(parse(Some("bytes=-5000"), 1000), part(0, 999));
        assert_eq!(parse(Some(" Bytes = 1-1 "), 1000), part(1, 1));
    }

    #[test]
    fn the_whole_when_there_is_no_single_readable_range() {
        for h in [
            None,
            Some(""),
            Some("bytes=0-1,5-6"),
            Some("items=0-1"),
            Some("bytes=5-1"),
            Some("bytes=a-b"),
            Some("bytes=-"),
            Some("bytes=1-x"),
            Some("bytes"),
            Some("bytes=+1-2"),
        ] {
            assert_eq!(parse(h, 1000), Ranged::Whole, "{h:?}");
        }
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(parse(Some("bytes=1000-"), 1000), Ranged::Unsatisfiable);
        assert_eq!(parse(Some("bytes=1000-1001"), 1000), Ranged::Unsatisfiable);
        assert_eq!(parse(Some("bytes=-0"), 1000), Ranged::Unsatisfiable);
        assert_eq!(parse(Some("bytes=0-"), 0), Ranged::Unsatisfiable);
        assert_eq!(parse(Some("bytes=-3"), 0), Ranged::Unsatisfiable);
    }
}
