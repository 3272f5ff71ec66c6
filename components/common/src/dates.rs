//! Dates: every input form API.md lists, one output form, all in UTC.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

/// The output form, and the form dates are stored in (so text order is time order).
pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Parse `YYYY-MM-DD` (midnight), `YYYY-MM-DD HH:MM:SS`, ISO 8601 with `T` and an optional
/// offset, or RFC 2822 with or without a zone. Fractions of a second are dropped; a time
/// with an offset is brought to UTC. Years 0000 to 9999 only, once in UTC: the output form
/// has four digits for the year (schemathesis found `9999-12-31T23:00:00-02:00` coming back
/// as `+10000-01-01 01:00:00`, which also sorted wrong as text).
pub fn parse(input: &str) -> Option<NaiveDateTime> {
    parse_any_year(input).filter(|t| (0..=9999).contains(&t.year()))
}

fn parse_any_year(input: &str) -> Option<NaiveDateTime> {
    let s = input.trim();
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

/// `YYYY-MM-DD HH:MM:SS` ([`FORMAT`]), for years 0000 to 9999 (all that [`parse`] gives).
/// Written out rather than by chrono's `format`, whose interpreter of format strings would
/// weigh on every component that writes a date and parses none.
pub fn format(t: NaiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Now, as a log line says it: RFC 3339, UTC, milliseconds (`2013-05-28T16:05:59.000Z`).
pub fn now_rfc3339_millis() -> String {
    let t = Utc::now().naive_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.and_utc().timestamp_subsec_millis()
    )
}

/// Any accepted input, rewritten in the stored form.
pub fn normalise(input: &str) -> Option<String> {
    parse(input).map(format)
}

/// For a body's date key (`body::Kind::Custom`): null, or a date in any accepted form,
/// rewritten in the stored form.
pub fn field(value: &serde_json::Value) -> Option<serde_json::Value> {
    match value {
        serde_json::Value::Null => Some(serde_json::Value::Null),
        serde_json::Value::String(s) => normalise(s).map(serde_json::Value::String),
        _ => None,
    }
}

/// Now, in the stored form.
pub fn now() -> String {
    format(Utc::now().naive_utc())
}

/// `days` days before now, in the stored form; `None` when that is before year 0 (nothing
/// is that old).
pub fn days_ago(days: i64) -> Option<String> {
    let then = Utc::now()
        .naive_utc()
        .checked_sub_signed(chrono::Duration::try_days(days)?)?;
    (then.year() >= 0).then(|| format(then))
}

/// Today at 00:00:00, in the stored form.
pub fn today_midnight() -> String {
    format(
        Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists"),
    )
}

fn whole_seconds(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_input_form() {
        for (input, want) in [
            ("2013-05-28", "2013-05-28 00:00:00"),
            ("2013-05-28 16:05:59", "2013-05-28 16:05:59"),
            ("2013-05-28 16:05:59.123456", "2013-05-28 16:05:59"),
            ("2013-05-28T16:05:59", "2013-05-28 16:05:59"),
            ("2013-05-28T16:05", "2013-05-28 16:05:00"),
            ("2013-05-28T16:05:59Z", "2013-05-28 16:05:59"),
            ("2013-05-28T16:05:59.5+02:00", "2013-05-28 14:05:59"),
            ("2013-05-28T16:05:59-0130", "2013-05-28 17:35:59"),
            ("Tue, 28 May 2013 16:05:59", "2013-05-28 16:05:59"),
            ("Tue, 28 May 2013 16:05:59 GMT", "2013-05-28 16:05:59"),
            ("Tue, 28 May 2013 16:05:59 +0200", "2013-05-28 14:05:59"),
            ("28 May 2013 16:05:59", "2013-05-28 16:05:59"),
            (" 2013-05-28 ", "2013-05-28 00:00:00"),
        ] {
            assert_eq!(normalise(input).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn rejects() {
        for input in [
            "",
            "tomorrow",
            "2013-13-01",
            "2013-02-30",
            "2013-05-28 25:00:00",
            "28/05/2013",
            "1369757159",
            "9999-12-31T23:00:00-02:00",
            "+10000-01-01",
            "-0001-01-01",
        ] {
            assert_eq!(normalise(input), None, "{input}");
        }
    }

    #[test]
    fn days_ago_stays_in_range() {
        assert!(days_ago(1).unwrap() < now());
        assert_eq!(days_ago(i64::MAX), None);
        assert_eq!(days_ago(10_000_000), None);
    }

    #[test]
    fn formats_match_chrono() {
        for input in [
            "0001-02-03 04:05:06",
            "2013-05-28 16:05:59",
            "9999-12-31 23:59:59",
        ] {
            let t = NaiveDateTime::parse_from_str(input, FORMAT).unwrap();
            assert_eq!(format(t), t.format(FORMAT).to_string());
        }
        let now = now_rfc3339_millis();
        let parsed = DateTime::parse_from_rfc3339(&now).unwrap();
        assert_eq!(
            now,
            parsed.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        );
    }

    #[test]
    fn stored_form_sorts_as_time() {
        assert!(normalise("2013-05-28 09:00:00") < normalise("2013-05-28 10:00:00"));
        assert_eq!(today_midnight().len(), 19);
        assert!(today_midnight() <= now());
    }
}
