//! Dates and timestamps written in the export's strftime format by the CSV writer itself, from
//! DuckDB's typed values.
//!
//! DuckDB's `strftime` in the export's SELECT runs on the one DuckDB thread that streams the
//! rows, which is the export's critical path: with a date and a timestamp format it cost a 5M-row
//! export 10-15% over plain CSV. The writer's own thread has room, so the formats DuckDB's
//! `strftime` takes most often are written here, to the same text (a property test holds the
//! two equal). A format using anything else is left to DuckDB.

use std::sync::Arc;

use duckdb::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use duckdb::arrow::datatypes::{DataType, Date32Type, TimeUnit, TimestampMicrosecondType};
use duckdb::arrow::error::ArrowError;

/// A strftime format made of the parts this module writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateText {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `%Y`: at least four digits; a year before 1 as DuckDB writes it, `-44`.
    Year,
    /// `%y`, `%-y`: the year within its century.
    ShortYear {
        padded: bool,
    },
    Month {
        padded: bool,
    },
    Day {
        padded: bool,
    },
    DayOfYear {
        padded: bool,
    },
    Hour {
        padded: bool,
    },
    Hour12 {
        padded: bool,
    },
    Minute {
        padded: bool,
    },
    Second {
        padded: bool,
    },
    /// `%g`, `%f`: the fraction of the second in 3 or 6 digits. (`%n`, nanoseconds, is left to
    /// DuckDB, which writes it of a DATE as six digits and three NUL bytes.)
    Fraction {
        digits: u32,
    },
    AmPm,
    MonthName {
        full: bool,
    },
    WeekdayName {
        full: bool,
    },
    /// `%w` (Sunday is 0) and `%u` (Sunday is 7).
    Weekday {
        sunday: u32,
    },
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// DuckDB's infinite DATE and TIMESTAMP values, which its `strftime` writes as words.
pub(super) use crate::sql_type::{DATE_INFINITY, TIMESTAMP_INFINITY};

pub(super) const MICROS_PER_DAY: i64 = 86_400_000_000;

impl DateText {
    /// The format's parts, or `None` when it uses a specifier this module does not write (or
    /// is not a format at all): DuckDB's `strftime` then writes, or refuses, it.
    pub fn parse(format: &str) -> Option<Self> {
        // DuckDB refuses an empty format; it is left to say so.
        if format.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                literal.push(c);
                continue;
            }
            let mut specifier = chars.next()?;
            let padded = specifier != '-';
            if !padded {
                specifier = chars.next()?;
            }
            let part = match (specifier, padded) {
                ('%', true) => {
                    literal.push('%');
                    continue;
                }
                ('Y', true) => Part::Year,
                ('y', _) => Part::ShortYear { padded },
                ('m', _) => Part::Month { padded },
                ('d', _) => Part::Day { padded },
                ('j', _) => Part::DayOfYear { padded },
                ('H', _) => Part::Hour { padded },
                ('I', _) => Part::Hour12 { padded },
                ('M', _) => Part::Minute { padded },
                ('S', _) => Part::Second { padded },
                ('g', true) => Part::Fraction { digits: 3 },
                ('f', true) => Part::Fraction { digits: 6 },
                ('p', true) => Part::AmPm,
                ('b' | 'h', true) => Part::MonthName { full: false },
                ('B', true) => Part::MonthName { full: true },
                ('a', true) => Part::WeekdayName { full: false },
                ('A', true) => Part::WeekdayName { full: true },
                ('w', true) => Part::Weekday { sunday: 0 },
                ('u', true) => Part::Weekday { sunday: 7 },
                _ => return None,
            };
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(part);
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Some(Self { parts })
    }

    /// Writes a DATE (days since 1970-01-01) as DuckDB's `strftime` does: at midnight.
    pub fn write_date(&self, days: i32, out: &mut String) {
        match days {
            DATE_INFINITY => out.push_str("infinity"),
            days if days == -DATE_INFINITY => out.push_str("-infinity"),
            days => self.write(i64::from(days), 0, out),
        }
    }

    /// Writes a TIMESTAMP (microseconds since 1970-01-01 00:00).
    pub fn write_timestamp(&self, micros: i64, out: &mut String) {
        match micros {
            TIMESTAMP_INFINITY => out.push_str("infinity"),
            micros if micros == -TIMESTAMP_INFINITY => out.push_str("-infinity"),
            micros => self.write(
                micros.div_euclid(MICROS_PER_DAY),
                micros.rem_euclid(MICROS_PER_DAY),
                out,
            ),
        }
    }

    fn write(&self, days: i64, micros_of_day: i64, out: &mut String) {
        self.write_civil(days, civil_from_days(days), micros_of_day, out);
    }

    fn write_civil(&self, days: i64, (year, month, day): (i64, i64, i64), micros_of_day: i64, out: &mut String) {
        let seconds_of_day = micros_of_day / 1_000_000;
        let hour = seconds_of_day / 3600;
        for part in &self.parts {
            match *part {
                Part::Literal(ref text) => out.push_str(text),
                Part::Year if year < 0 => number(out, year, 0),
                Part::Year => number(out, year, 4),
                Part::ShortYear { padded } => number(out, year.abs() % 100, width(padded, 2)),
                Part::Month { padded } => number(out, month, width(padded, 2)),
                Part::Day { padded } => number(out, day, width(padded, 2)),
                Part::DayOfYear { padded } => number(out, day_of_year(year, month, day), width(padded, 3)),
                Part::Hour { padded } => number(out, hour, width(padded, 2)),
                Part::Hour12 { padded } => number(out, (hour + 11) % 12 + 1, width(padded, 2)),
                Part::Minute { padded } => number(out, seconds_of_day / 60 % 60, width(padded, 2)),
                Part::Second { padded } => number(out, seconds_of_day % 60, width(padded, 2)),
                Part::Fraction { digits } => {
                    let micros = micros_of_day % 1_000_000;
                    let fraction = if digits == 3 { micros / 1000 } else { micros };
                    number(out, fraction, digits as usize);
                }
                Part::AmPm => out.push_str(if hour < 12 { "AM" } else { "PM" }),
                Part::MonthName { full } => {
                    let name = MONTHS[(month - 1) as usize];
                    out.push_str(if full { name } else { &name[..3] });
                }
                Part::WeekdayName { full } => {
                    let name = WEEKDAYS[weekday(days)];
                    out.push_str(if full { name } else { &name[..3] });
                }
                Part::Weekday { sunday } => {
                    let weekday = weekday(days) as i64;
                    number(out, if weekday == 0 { i64::from(sunday) } else { weekday }, 1);
                }
            }
        }
    }

    /// `array` (DATE or microsecond TIMESTAMP values) as text in this format; NULL stays NULL.
    pub fn format_array(&self, array: &ArrayRef) -> Result<ArrayRef, ArrowError> {
        let mut text = String::with_capacity(32);
        let mut builder = StringBuilder::with_capacity(array.len(), array.len() * 20);
        match array.data_type() {
            DataType::Date32 => {
                for days in array.as_primitive::<Date32Type>() {
                    let Some(days) = days else {
                        builder.append_null();
                        continue;
                    };
                    text.clear();
                    self.write_date(days, &mut text);
                    builder.append_value(&text);
                }
            }
            DataType::Timestamp(TimeUnit::Microsecond, None) => {
                let mut calendar = CivilDays::default();
                for micros in array.as_primitive::<TimestampMicrosecondType>() {
                    let Some(micros) = micros else {
                        builder.append_null();
                        continue;
                    };
                    text.clear();
                    if micros == TIMESTAMP_INFINITY || micros == -TIMESTAMP_INFINITY {
                        self.write_timestamp(micros, &mut text);
                    } else {
                        let days = micros.div_euclid(MICROS_PER_DAY);
                        let civil = calendar.date(days);
                        self.write_civil(days, civil, micros.rem_euclid(MICROS_PER_DAY), &mut text);
                    }
                    builder.append_value(&text);
                }
            }
            other => {
                return Err(ArrowError::InvalidArgumentError(format!(
                    "a date format was given for a column of type {other}"
                )));
            }
        }
        Ok(Arc::new(builder.finish()))
    }
}

fn width(padded: bool, digits: usize) -> usize {
    if padded { digits } else { 1 }
}

/// Appends `value` in decimal, zero-padded to `digits` (its sign before the zeros). Most values
/// are below 10,000 and are written digit by digit, without the formatting machinery.
fn number(out: &mut String, value: i64, digits: usize) {
    if digits == 2 && (0..100).contains(&value) {
        let value = value as u8;
        out.push(char::from(b'0' + value / 10));
        out.push(char::from(b'0' + value % 10));
        return;
    }
    if (0..10_000).contains(&value) && digits <= 4 {
        let mut buffer = [b'0'; 4];
        let mut rest = value;
        for slot in buffer.iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let significant = match value {
            0..=9 => 1,
            10..=99 => 2,
            100..=999 => 3,
            _ => 4,
        };
        let shown = significant.max(digits);
        for &digit in &buffer[4 - shown..] {
            out.push(char::from(digit));
        }
        return;
    }
    use std::fmt::Write;
    let _ = write!(out, "{value:0digits$}");
}

/// Calendar dates of a run of timestamps. Neighbouring rows mostly fall on the same day, so the
/// last day's date is kept rather than worked out again.
#[derive(Default)]
pub(super) struct CivilDays {
    last: Option<(i64, (i64, i64, i64))>,
}

impl CivilDays {
    /// Year, month and day of `days` since 1970-01-01.
    pub(super) fn date(&mut self, days: i64) -> (i64, i64, i64) {
        match self.last {
            Some((known, civil)) if known == days => civil,
            _ => {
                let civil = civil_from_days(days);
                self.last = Some((days, civil));
                civil
            }
        }
    }
}

/// Year, month and day of the proleptic Gregorian calendar for days since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
pub(super) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn day_of_year(year: i64, month: i64, day: i64) -> i64 {
    const BEFORE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    BEFORE[(month - 1) as usize] + day + i64::from(month > 2 && is_leap(year))
}

/// 0 for Sunday; 1970-01-01 was a Thursday.
fn weekday(days: i64) -> usize {
    (days + 4).rem_euclid(7) as usize
}

#[cfg(test)]
mod tests {
    use duckdb::Connection;
    use proptest::prelude::*;

    use super::*;

    /// Every specifier this module writes, and literal text with a quote and a percent sign.
    const PIECES: [&str; 29] = [
        "%Y", "%y", "%-y", "%m", "%-m", "%d", "%-d", "%j", "%-j", "%H", "%-H", "%I", "%-I", "%M", "%-M", "%S", "%-S",
        "%g", "%f", "%p", "%b", "%h", "%B", "%a", "%A", "%w", "%u", "%%", "' x/-:",
    ];

    fn duckdb_date(conn: &Connection, days: i32, format: &str) -> String {
        conn.query_row(
            "SELECT strftime(DATE '1970-01-01' + CAST(? AS INTEGER), ?)",
            duckdb::params![days, format],
            |row| row.get(0),
        )
        .unwrap()
    }

    fn duckdb_timestamp(conn: &Connection, micros: i64, format: &str) -> String {
        conn.query_row(
            "SELECT strftime(make_timestamp(CAST(? AS BIGINT)), ?)",
            duckdb::params![micros, format],
            |row| row.get(0),
        )
        .unwrap()
    }

    fn written_date(format: &str, days: i32) -> String {
        let mut out = String::new();
        DateText::parse(format).unwrap().write_date(days, &mut out);
        out
    }

    fn written_timestamp(format: &str, micros: i64) -> String {
        let mut out = String::new();
        DateText::parse(format).unwrap().write_timestamp(micros, &mut out);
        out
    }

    #[test]
    fn writes_what_duckdb_strftime_writes_at_the_edges_of_the_calendar() {
        let conn = Connection::open_in_memory().unwrap();
        let format = PIECES.join(" ");
        // Leap days, the turn of centuries, years before 1000 and after 9999, year 0 and BC.
        for date in [
            "1970-01-01",
            "1969-12-31",
            "2000-02-29",
            "1900-03-01",
            "2024-12-31",
            "0999-01-02",
            "0001-01-01",
            "0000-03-01",
            "-0044-03-15",
            "12345-06-07",
        ] {
            let days: i32 = conn
                .query_row(&format!("SELECT DATE '{date}' - DATE '1970-01-01'"), [], |row| {
                    row.get(0)
                })
                .unwrap();
            assert_eq!(written_date(&format, days), duckdb_date(&conn, days, &format), "{date}");
            for micros_of_day in [0, 1, 43_199_999_999, 43_200_000_000, 86_399_999_999] {
                let micros = i64::from(days) * MICROS_PER_DAY + micros_of_day;
                assert_eq!(
                    written_timestamp(&format, micros),
                    duckdb_timestamp(&conn, micros, &format),
                    "{date} + {micros_of_day} us"
                );
            }
        }
        assert_eq!(written_date("%d/%m/%Y", i32::MAX), "infinity");
        assert_eq!(written_timestamp("%d/%m/%Y", -i64::MAX), "-infinity");
    }

    #[test]
    fn formats_with_other_specifiers_are_left_to_duckdb() {
        for format in ["", "%U", "%c", "%x", "%e", "%", "%-", "%z", "%-Y", "%n"] {
            assert_eq!(DateText::parse(format), None, "{format}");
        }
        assert!(DateText::parse("%Y' OR '1'='1").is_some());
    }

    proptest! {
        #[test]
        fn any_date_and_format_are_written_as_duckdb_writes_them(
            days in -1_000_000i32..3_000_000,
            micros_of_day in 0i64..MICROS_PER_DAY,
            pieces in proptest::collection::vec(0..PIECES.len(), 1..6),
        ) {
            let conn = Connection::open_in_memory().unwrap();
            let format: String = pieces.iter().map(|&piece| PIECES[piece]).collect();
            prop_assert_eq!(written_date(&format, days), duckdb_date(&conn, days, &format));
            let micros = i64::from(days) * MICROS_PER_DAY + micros_of_day;
            prop_assert_eq!(written_timestamp(&format, micros), duckdb_timestamp(&conn, micros, &format));
        }
    }
}
