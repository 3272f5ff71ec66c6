//! Dates: every input form API.md lists (`read.rs`), one output form, all in UTC, to the
//! second. Written by hand rather than with chrono, whose format interpreter weighed 37 KiB in
//! the component that reads dates; `read.rs` accepts exactly what the chrono calls it replaced
//! accepted, and its test holds the two side by side.

mod read;

pub use read::parse;

/// A moment to the second, in UTC: seconds since 1970-01-01 00:00:00. Ordered as time is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment(i64);

const DAY: i64 = 86_400;

impl Moment {
    fn at(days: i64, second_of_day: i64) -> Moment {
        Moment(days * DAY + second_of_day)
    }

    /// Days since 1970-01-01, and the second of that day.
    fn days(self) -> (i64, i64) {
        (self.0.div_euclid(DAY), self.0.rem_euclid(DAY))
    }

    /// The moment `seconds` after 1970-01-01 00:00:00 UTC.
    pub fn from_unix(seconds: i64) -> Moment {
        Moment(seconds)
    }

    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub fn unix(self) -> i64 {
        self.0
    }

    pub fn year(self) -> i64 {
        civil(self.days().0).0
    }

    fn now() -> (Moment, u32) {
        let since = crate::clock::since_epoch();
        let seconds = i64::try_from(since.as_secs()).unwrap_or(i64::MAX / 2);
        (Moment(seconds), since.subsec_millis())
    }
}

/// Days since 1970-01-01 of a date of the proleptic Gregorian calendar (a year before 1 is
/// astronomical: 0 is 1 BC). Howard Hinnant's `days_from_civil`.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day counted from 1970-01-01: (year, month, day). Hinnant's `civil_from_days`.
fn civil(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // In range by construction: a month of 1 to 12, a day of 1 to 31.
    (year, month as u32, day as u32)
}

/// `YYYY-MM-DD HH:MM:SS`, the output form, and the form dates are stored in (so text order is
/// time order), for years 0000 to 9999 (all that [`parse`] gives).
pub fn format(moment: Moment) -> String {
    let (days, second) = moment.days();
    let (year, month, day) = civil(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        second / 3600,
        second / 60 % 60,
        second % 60
    )
}

/// Now, as a log line says it: RFC 3339, UTC, milliseconds (`2013-05-28T16:05:59.000Z`).
pub fn now_rfc3339_millis() -> String {
    let (now, millis) = Moment::now();
    let mut text = format(now);
    text.replace_range(10..11, "T");
    format!("{text}.{millis:03}Z")
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
    format(Moment::now().0)
}

/// `days` days before now, in the stored form; `None` when that is before year 0 (nothing
/// is that old).
pub fn days_ago(days: i64) -> Option<String> {
    let (now, _) = Moment::now();
    let then = Moment(now.0.checked_sub(days.checked_mul(DAY)?)?);
    (then.year() >= 0).then(|| format(then))
}

/// Today at 00:00:00, in the stored form.
pub fn today_midnight() -> String {
    let (now, _) = Moment::now();
    format(Moment::at(now.days().0, 0))
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

    /// The calendar both ways, against chrono's, over the years the API stores and beyond.
    #[test]
    fn days_as_chrono_counts_them() {
        use chrono::{Datelike, NaiveDate};
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let mut date = NaiveDate::from_ymd_opt(-1, 1, 1).unwrap();
        while date.year() <= 10_001 {
            let days = (date - epoch).num_days();
            assert_eq!(
                days_from_civil(i64::from(date.year()), date.month(), date.day()),
                days
            );
            assert_eq!(
                civil(days),
                (i64::from(date.year()), date.month(), date.day())
            );
            date = date + chrono::Days::new(13);
        }
    }

    #[test]
    fn written_as_chrono_writes_them() {
        use chrono::{DateTime, NaiveDateTime};
        for input in [
            "0000-01-01 00:00:00",
            "0001-02-03 04:05:06",
            "1969-12-31 23:59:59",
            "2013-05-28 16:05:59",
            "2024-02-29 12:00:00",
            "9999-12-31 23:59:59",
        ] {
            let t = NaiveDateTime::parse_from_str(input, "%Y-%m-%d %H:%M:%S").unwrap();
            let moment = Moment(t.and_utc().timestamp());
            assert_eq!(format(moment), t.format("%Y-%m-%d %H:%M:%S").to_string());
            assert_eq!(moment.year(), i64::from(chrono::Datelike::year(&t)));
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
        assert!(today_midnight().ends_with(" 00:00:00"));
    }
}
