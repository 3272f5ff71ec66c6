//! Reading a date in any form API.md lists: `YYYY-MM-DD` (midnight), `YYYY-MM-DD HH:MM:SS`,
//! ISO 8601 with `T` and an optional offset, or RFC 2822 with or without a zone. Fractions of
//! a second are dropped; a time with an offset is brought to UTC; years 0000 to 9999 only,
//! once in UTC (the output form has four digits for the year).
//!
//! Exactly as the chrono calls it replaced read them (until stop 34): `NaiveDate` and
//! `NaiveDateTime::parse_from_str` with the [`DATE`] and [`NAIVE`] forms, then
//! `DateTime::parse_from_rfc3339`, then `DateTime::parse_from_str` with the [`ZONED`] forms,
//! then `parse_from_rfc2822`, the first that reads the whole input winning. Their leniencies
//! stay, since a client may rely on them: a space in a form matches any run of white space or
//! none, white space may precede a number, a number has 1 or 2 digits (a year 1 to 4, or any
//! number after a sign), `:60` is the second before it (a leap second; chrono wrote one read
//! from RFC 2822 as `:60`, the only difference). The test below holds this reader and chrono
//! side by side on many inputs.

use super::{days_from_civil, Moment, DAY};

/// What a form is made of, as chrono's format strings name it.
#[derive(Clone, Copy)]
enum Piece {
    /// `%Y`: 1 to 4 digits, or a sign and any number of them.
    Year,
    /// `%m`, `%d`, `%H`, `%M`, `%S`: 1 or 2 digits.
    Month,
    Day,
    Hour,
    Minute,
    Second,
    /// `%.f`: nothing, or `.` and at least one digit.
    Fraction,
    /// `%a`, `%b`: three letters, in any case.
    Weekday,
    MonthName,
    /// `%z`: `+hh:mm`, `+hhmm` (any run of `:` and white space between).
    Offset,
    /// Any run of white space, or none.
    Space,
    Text(&'static str),
}

use Piece::*;

/// `%Y-%m-%d`.
const DATE: &[Piece] = &[Year, Text("-"), Month, Text("-"), Day];

#[rustfmt::skip]
const NAIVE: &[&[Piece]] = &[
    // %Y-%m-%d %H:%M:%S%.f
    &[Year, Text("-"), Month, Text("-"), Day, Space, Hour, Text(":"), Minute, Text(":"), Second, Fraction],
    // %Y-%m-%dT%H:%M:%S%.f
    &[Year, Text("-"), Month, Text("-"), Day, Text("T"), Hour, Text(":"), Minute, Text(":"), Second, Fraction],
    // %Y-%m-%d %H:%M
    &[Year, Text("-"), Month, Text("-"), Day, Space, Hour, Text(":"), Minute],
    // %Y-%m-%dT%H:%M
    &[Year, Text("-"), Month, Text("-"), Day, Text("T"), Hour, Text(":"), Minute],
    // %a, %d %b %Y %H:%M:%S
    &[Weekday, Text(","), Space, Day, Space, MonthName, Space, Year, Space, Hour, Text(":"), Minute, Text(":"), Second],
    // %d %b %Y %H:%M:%S
    &[Day, Space, MonthName, Space, Year, Space, Hour, Text(":"), Minute, Text(":"), Second],
];

#[rustfmt::skip]
const ZONED: &[&[Piece]] = &[
    // %Y-%m-%dT%H:%M:%S%.f%z
    &[Year, Text("-"), Month, Text("-"), Day, Text("T"), Hour, Text(":"), Minute, Text(":"), Second, Fraction, Offset],
    // %Y-%m-%d %H:%M:%S%.f%z
    &[Year, Text("-"), Month, Text("-"), Day, Space, Hour, Text(":"), Minute, Text(":"), Second, Fraction, Offset],
    // %Y-%m-%dT%H:%M%z
    &[Year, Text("-"), Month, Text("-"), Day, Text("T"), Hour, Text(":"), Minute, Offset],
];

/// A date and time as read, before it is checked.
#[derive(Default)]
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    /// Days from Sunday, when the input names one.
    weekday: Option<i64>,
    hour: i64,
    minute: i64,
    second: i64,
    /// Seconds east of UTC.
    offset: i64,
}

impl Fields {
    /// The moment, if the date exists, the weekday is its own, each number is in its range
    /// and the offset under a day; years far outside 0 to 9999 are refused here already.
    fn moment(&self) -> Option<Moment> {
        let days_in_month = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if self.year % 4 == 0 && (self.year % 100 != 0 || self.year % 400 == 0) => 29,
            2 => 28,
            _ => return None,
        };
        let in_range = self.year.abs() <= 1_000_000
            && (1..=days_in_month).contains(&self.day)
            && (0..=23).contains(&self.hour)
            && (0..=59).contains(&self.minute)
            && (0..=60).contains(&self.second)
            && self.offset.abs() < DAY;
        if !in_range {
            return None;
        }
        // In range: the casts are exact.
        let days = days_from_civil(self.year, self.month as u32, self.day as u32);
        if self.weekday.is_some_and(|w| w != (days + 4).rem_euclid(7)) {
            return None;
        }
        let second = self.second.min(59);
        let of_day = self.hour * 3600 + self.minute * 60 + second;
        Some(Moment::at(days, of_day - self.offset))
    }
}

/// The moment `input` names, in any accepted form; `None` when none reads it whole, or it
/// falls outside years 0000 to 9999 once in UTC.
pub fn parse(input: &str) -> Option<Moment> {
    let s = input.trim();
    let moment = read(DATE, s)
        .or_else(|| NAIVE.iter().find_map(|form| read(form, s)))
        .or_else(|| rfc3339(s))
        .or_else(|| ZONED.iter().find_map(|form| read(form, s)))
        .or_else(|| rfc2822(s))?;
    (0..=9999).contains(&moment.year()).then_some(moment)
}

/// Read `s` whole as `form`, as chrono's format-string parser does.
fn read(form: &[Piece], mut s: &str) -> Option<Moment> {
    let mut f = Fields::default();
    for piece in form {
        let (rest, value) = match piece {
            Text(text) => (s.strip_prefix(text)?, 0),
            Space => (s.trim_start(), 0),
            Year => {
                let s = s.trim_start();
                if let Some(unsigned) = s.strip_prefix('-') {
                    let (rest, n) = number(unsigned, 1, usize::MAX)?;
                    (rest, -n)
                } else if let Some(unsigned) = s.strip_prefix('+') {
                    number(unsigned, 1, usize::MAX)?
                } else {
                    number(s, 1, 4)?
                }
            }
            Month | Day | Hour | Minute | Second => number(s.trim_start(), 1, 2)?,
            Fraction => match s.strip_prefix('.') {
                Some(digits) => (fraction(digits)?, 0),
                None => (s, 0),
            },
            Weekday => weekday(s)?,
            MonthName => month_name(s)?,
            Offset => offset(s.trim_start(), Colon::AnyRun, true)?,
        };
        match piece {
            Year => f.year = value,
            Month | MonthName => f.month = value,
            Day => f.day = value,
            Weekday => f.weekday = Some(value),
            Hour => f.hour = value,
            Minute => f.minute = value,
            Second => f.second = value,
            Offset => f.offset = value,
            Fraction | Space | Text(_) => {}
        }
        s = rest;
    }
    if s.is_empty() {
        f.moment()
    } else {
        None
    }
}

/// RFC 3339, as chrono reads it: `YYYY-MM-DD`, `T`, `t` or a space, `HH:MM:SS`, an optional
/// fraction, then `Z`, `z` or `±hh:mm`.
fn rfc3339(s: &str) -> Option<Moment> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let digits = |at: usize, n: usize| -> Option<i64> {
        let part = &b[at..at + n];
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |v, d| v * 10 + i64::from(d - b'0')))
    };
    let separators = b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    if !separators {
        return None;
    }
    let mut f = Fields {
        year: digits(0, 4)?,
        month: digits(5, 2)?,
        day: digits(8, 2)?,
        hour: digits(11, 2)?,
        minute: digits(14, 2)?,
        second: digits(17, 2)?,
        ..Fields::default()
    };
    // All 19 bytes are ASCII, so 19 and 20 are char boundaries.
    let rest = match s[19..].strip_prefix('.') {
        Some(digits) => fraction(digits)?,
        None => &s[19..],
    };
    let (rest, offset) = match rest.as_bytes().first() {
        Some(b'Z' | b'z') => (&rest[1..], 0),
        _ => offset(rest, Colon::One, true)?,
    };
    f.offset = offset;
    rest.is_empty().then(|| f.moment())?
}

/// RFC 2822, as chrono reads it: `[Tue,] 28 May 2013 16:05[:59]`, then a zone (`+0200`, `GMT`,
/// `UT`, `EST`... or a military letter, taken as UTC) and comments in parentheses.
fn rfc2822(s: &str) -> Option<Moment> {
    let mut f = Fields::default();
    let mut s = s.trim_start();
    if let Some((rest, day)) = weekday(s) {
        s = rest.strip_prefix(',')?;
        f.weekday = Some(day);
    }
    (s, f.day) = number(s.trim_start(), 1, 2)?;
    (s, f.month) = month_name(space(s)?)?;
    let year_text = space(s)?;
    (s, f.year) = number(year_text, 2, usize::MAX)?;
    f.year += match (year_text.len() - s.len(), f.year) {
        (2, 0..=49) => 2000,
        (2, 50..=99) | (3, _) => 1900,
        _ => 0,
    };
    (s, f.hour) = number(space(s)?, 2, 2)?;
    let minute_text = s.trim_start().strip_prefix(':')?.trim_start();
    (s, f.minute) = number(minute_text, 2, 2)?;
    if let Some(second_text) = s.trim_start().strip_prefix(':') {
        (s, f.second) = number(second_text, 2, 2)?;
    }
    (s, f.offset) = zone(space(s)?)?;
    while let Some(rest) = comment(s) {
        s = rest;
    }
    s.is_empty().then(|| f.moment())?
}

/// A number of `min` to `max` ASCII digits at the start of `s` (more digits are left), and
/// what follows it.
fn number(s: &str, min: usize, max: usize) -> Option<(&str, i64)> {
    let bytes = s.as_bytes();
    if bytes.len() < min {
        return None;
    }
    let mut n: i64 = 0;
    for (i, &c) in bytes.iter().take(max).enumerate() {
        if !c.is_ascii_digit() {
            // The bytes before are digits, so `i` is a char boundary.
            return (i >= min).then(|| (&s[i..], n));
        }
        n = n.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
    }
    Some((&s[max.min(bytes.len())..], n))
}

/// After a `.`: at least one digit, then any more; what follows them.
fn fraction(s: &str) -> Option<&str> {
    number(s, 1, 9)?;
    Some(s.trim_start_matches(|c: char| c.is_ascii_digit()))
}

/// At least one white-space character, then what follows the run.
fn space(s: &str) -> Option<&str> {
    let rest = s.trim_start();
    (rest.len() < s.len()).then_some(rest)
}

/// Three ASCII letters, in any case, among `names`: their index, and what follows.
fn name<'a>(s: &'a str, names: &[&[u8; 3]]) -> Option<(&'a str, i64)> {
    let three = s.as_bytes().get(..3)?;
    let at = names.iter().position(|n| n.eq_ignore_ascii_case(three))?;
    // Three ASCII letters: 3 is a char boundary.
    Some((&s[3..], at as i64))
}

/// `Sun`...`Sat`: days from Sunday.
fn weekday(s: &str) -> Option<(&str, i64)> {
    name(s, &[b"sun", b"mon", b"tue", b"wed", b"thu", b"fri", b"sat"])
}

/// `Jan`...`Dec`: the month, 1 to 12.
fn month_name(s: &str) -> Option<(&str, i64)> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    name(s, &MONTHS).map(|(rest, at)| (rest, at + 1))
}

/// What may stand between an offset's hours and minutes.
enum Colon {
    /// Any run of `:` and white space (chrono's `%z`).
    AnyRun,
    /// Exactly one `:` (RFC 3339).
    One,
    /// Nothing (RFC 2822).
    None,
}

/// `+hh` then `mm`, with what `colon` allows between; `-`, and `−` (U+2212) when `minus_sign`,
/// for a zone west of UTC. Seconds east, and what follows.
fn offset(s: &str, colon: Colon, minus_sign: bool) -> Option<(&str, i64)> {
    let (west, s) = if let Some(rest) = s.strip_prefix('+') {
        (false, rest)
    } else if let Some(rest) = s.strip_prefix('-') {
        (true, rest)
    } else {
        (true, s.strip_prefix('\u{2212}').filter(|_| minus_sign)?)
    };
    let (rest, hours) = two_digits(s, b'9')?;
    let rest = match colon {
        Colon::AnyRun => rest.trim_start_matches(|c: char| c == ':' || c.is_whitespace()),
        Colon::One => rest.strip_prefix(':')?,
        Colon::None => rest,
    };
    let (rest, minutes) = two_digits(rest, b'5')?;
    let seconds = hours * 3600 + minutes * 60;
    Some((rest, if west { -seconds } else { seconds }))
}

/// Two ASCII digits, the first at most `first`.
fn two_digits(s: &str, first: u8) -> Option<(&str, i64)> {
    match s.as_bytes() {
        [a @ b'0'..=b'9', b @ b'0'..=b'9', ..] if *a <= first => {
            Some((&s[2..], i64::from(a - b'0') * 10 + i64::from(b - b'0')))
        }
        _ => None,
    }
}

/// An RFC 2822 zone: a name (`GMT`, `UT`, `Z`, `EST`..., a military letter but `J`, which
/// RFC 2822 says to take as UTC) or `±hhmm`.
fn zone(s: &str) -> Option<(&str, i64)> {
    let letters = s
        .bytes()
        .position(|c| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    if letters == 0 {
        return offset(s, Colon::None, false);
    }
    let (name, rest) = s.split_at(letters);
    let hours = match name.to_ascii_lowercase().as_str() {
        "gmt" | "ut" | "z" => 0,
        "edt" => -4,
        "est" | "cdt" => -5,
        "cst" | "mdt" => -6,
        "mst" | "pdt" => -7,
        "pst" => -8,
        military if military.len() == 1 && military != "j" => 0,
        _ => return None,
    };
    Some((rest, hours * 3600))
}

/// A comment in parentheses (nested, with `\` escapes) after white space: what follows it.
fn comment(s: &str) -> Option<&str> {
    let s = s.trim_start();
    let body = s.strip_prefix('(')?;
    let (mut depth, mut escaped) = (1usize, false);
    for (i, c) in body.bytes().enumerate() {
        match c {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'(' => depth += 1,
            b')' if depth == 1 => return Some(&body[i + 1..]),
            b')' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::format;

    /// The chrono calls this reader replaced, as they were.
    fn chrono_parse(input: &str) -> Option<String> {
        use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
        fn whole_seconds(t: NaiveDateTime) -> NaiveDateTime {
            t.with_nanosecond(0).unwrap_or(t)
        }
        fn any_year(s: &str) -> Option<NaiveDateTime> {
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return d.and_hms_opt(0, 0, 0);
            }
            for naive in [
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M",
                "%a, %d %b %Y %H:%M:%S",
                "%d %b %Y %H:%M:%S",
            ] {
                if let Ok(t) = NaiveDateTime::parse_from_str(s, naive) {
                    return Some(whole_seconds(t));
                }
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Some(whole_seconds(t.with_timezone(&Utc).naive_utc()));
            }
            for zoned in [
                "%Y-%m-%dT%H:%M:%S%.f%z",
                "%Y-%m-%d %H:%M:%S%.f%z",
                "%Y-%m-%dT%H:%M%z",
            ] {
                if let Ok(t) = DateTime::parse_from_str(s, zoned) {
                    return Some(whole_seconds(t.with_timezone(&Utc).naive_utc()));
                }
            }
            if let Ok(t) = DateTime::parse_from_rfc2822(s) {
                return Some(t.with_timezone(&Utc).naive_utc());
            }
            None
        }
        let t = any_year(input.trim()).filter(|t| (0..=9999).contains(&t.year()))?;
        Some(t.format("%Y-%m-%d %H:%M:%S").to_string())
    }

    /// The one difference, chosen: chrono wrote an RFC 2822 leap second as `:60`, and every
    /// other form's as `:59`; here every form gives `:59`.
    fn same(input: &str) {
        let chrono = chrono_parse(input).map(|t| match t.strip_suffix(":60") {
            Some(minute) => format!("{minute}:59"),
            None => t,
        });
        assert_eq!(parse(input).map(format), chrono, "{input:?}");
    }

    /// Inputs on the edges of every rule.
    #[test]
    fn reads_as_chrono_read() {
        for input in [
            "2013-05-28",
            "2013-5-8",
            "13-05-28",
            "0-1-1",
            "+2013-05-28",
            "-2013-05-28",
            "+10000-01-01",
            "+09999-12-31",
            "2013-05-28 ",
            "2013- 05- 28",
            "2013-05-28\t16:05",
            "2013-05-2816:05",
            "2013-05-28  16:05:59.",
            "2013-05-28 16:05:59.1234567891234",
            "2013-05-28 16:05:60",
            "2013-05-28 23:59:60",
            "2013-05-28 24:00",
            "2013-05-28 16:60",
            "2013-02-29",
            "2012-02-29",
            "1900-02-29",
            "2000-02-29",
            "2013-05-28t16:05:59Z",
            "2013-05-28 16:05:59Z",
            "2013-05-28T16:05:59z",
            "2013-05-28T16:05:59+02:00",
            "2013-05-28T16:05:59+0200",
            "2013-05-28T16:05:59+02",
            "2013-05-28T16:05:59+02: 00",
            "2013-05-28T16:05:59 +02:00",
            "2013-05-28T16:05:59\u{2212}02:00",
            "2013-05-28T16:05:59+23:59",
            "2013-05-28T16:05:59+24:00",
            "2013-05-28T16:05:59+02:60",
            "2013-05-28T16:05:59.5-99:00",
            "2013-05-28T16:05+0130",
            "2013-05-28T16:05 + 01 30",
            "0000-01-01T00:30:00+01:00",
            "9999-12-31T23:30:00-01:00",
            "+10000-01-01T00:30:00+01:00",
            "Tue, 28 May 2013 16:05:59",
            "tue, 28 may 2013 16:05:59",
            "Wed, 28 May 2013 16:05:59",
            "Tue,28 May 2013 16:05:59",
            "Tue , 28 May 2013 16:05:59",
            "Tue 28 May 2013 16:05:59",
            "28 May 2013 16:05:59",
            "28May 2013 16:05:59",
            "28 May 13 16:05:59 GMT",
            "28 May 99 16:05:59 GMT",
            "28 May 113 16:05:59 GMT",
            "28 May 2013 16:05 GMT",
            "28 May 2013 16 : 05 : 59 GMT",
            "28 May 2013 6:05:59 GMT",
            "Tue, 28 May 2013 16:05:59 UT",
            "Tue, 28 May 2013 16:05:59 z",
            "Tue, 28 May 2013 16:05:59 EST",
            "Tue, 28 May 2013 16:05:59 pdt",
            "Tue, 28 May 2013 16:05:59 A",
            "Tue, 28 May 2013 16:05:59 J",
            "Tue, 28 May 2013 16:05:59 CEST",
            "Tue, 28 May 2013 16:05:59 +0200 (CEST)",
            "Tue, 28 May 2013 16:05:59 +0200 (a (b) \\) c)",
            "Tue, 28 May 2013 16:05:59 +0200 (",
            "Tue, 28 May 2013 16:05:59 +0200 x",
            "Tue, 28 May 2013 16:05:59 +02:00",
            "Tue, 28 May 2013 16:05:59 \u{2212}0200",
            "Tue, 28 May 2013 16:05:59 -2400",
            "Tue, 28 May 2013 16:05:60 +0000",
            "Tue, 28 May 2013 16:05:59GMT",
            "Tue, 28 May 2013 16:05:59 GMT(x)",
            "\u{a0}2013-05-28\u{a0}",
            "2013-05-28\u{3000}16:05",
            "２０１３-05-28",
            "2013-05-28T16:05:59.",
            "2013-05-28T16:05:59.x",
            "99999999999999999999-01-01",
            "+99999999999999999999-01-01",
            "+2147483648-01-01",
            "Tue, 28 May 99999999999 16:05:59 GMT",
            "",
            " ",
            "T",
            "Tue,",
            "Mayday",
        ] {
            same(input);
        }
    }

    /// Pieces of dates, put together at random and mutated: a fixed seed, so that a failure
    /// repeats.
    #[test]
    fn reads_as_chrono_read_at_random() {
        const PIECES: &[&str] = &[
            "2013", "13", "5", "05", "28", "16", "59", "60", "00", "0", "24", "99", "+2013",
            "-2013", "+10000", "9999", "12", "31", "29", "02", "-", "-", ":", ":", " ", " ", "  ",
            "\t", "T", "t", ",", ".", ".5", "Z", "z", "+", "+02:00", "-0130", "+0200", "\u{2212}",
            "GMT", "UT", "EST", "A", "J", "(c)", "(", ")", "Tue", "tue", "Wed", "May", "may",
            "Feb", "Jun", "x", "\u{a0}",
        ];
        const SEEDS: &[&str] = &[
            "2013-05-28",
            "2013-05-28 16:05:59",
            "2013-05-28 16:05:59.123",
            "2013-05-28T16:05:59",
            "2013-05-28T16:05",
            "2013-05-28 16:05",
            "2013-05-28T16:05:59Z",
            "2013-05-28T16:05:59.5+02:00",
            "2013-05-28T16:05:59-0130",
            "2013-05-28 16:05:59+02:00",
            "2013-05-28T16:05+0200",
            "Tue, 28 May 2013 16:05:59",
            "Tue, 28 May 2013 16:05:59 GMT",
            "Tue, 28 May 2013 16:05:59 +0200 (CEST)",
            "28 May 2013 16:05:59",
            "28 May 13 16:05 EST",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..100_000 {
            let input: String = (0..1 + next(10))
                .map(|_| PIECES[next(PIECES.len())])
                .collect();
            same(&input);
        }
        for _ in 0..200_000 {
            let mut input: Vec<char> = SEEDS[next(SEEDS.len())].chars().collect();
            for _ in 0..1 + next(3) {
                let at = next(input.len() + 1);
                let piece: Vec<char> = PIECES[next(PIECES.len())].chars().collect();
                match next(3) {
                    0 if at < input.len() => {
                        input.remove(at);
                    }
                    1 if at < input.len() => {
                        input.splice(at..at + 1, piece);
                    }
                    _ => {
                        input.splice(at..at, piece);
                    }
                }
            }
            same(&input.into_iter().collect::<String>());
        }
    }
}
