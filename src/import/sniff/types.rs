//! The column types Sluice imports into, and the text forms it accepts for each.
//!
//! Parsing is hand-written for the few fixed forms the import promises (ISO dates, timestamps,
//! plain decimals) because it runs once per cell on millions of rows, and a general date parser
//! would accept forms the user did not ask for.

use std::fmt;
use std::str::FromStr;

use crate::sql_type::SqlType;

/// A column type of the target table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ColumnType {
    /// True or false (`BOOLEAN`).
    Boolean,
    /// A 32-bit whole number (`INTEGER`).
    Integer,
    /// A 64-bit whole number (`BIGINT`).
    BigInt,
    /// A 64-bit floating-point number (`DOUBLE`).
    Double,
    /// DECIMAL(precision, scale) with precision 1..=38 and scale <= precision.
    Decimal {
        /// Digits in all.
        precision: u8,
        /// Digits after the decimal point.
        scale: u8,
    },
    /// Text (`VARCHAR`), which every value fits.
    Varchar,
    /// A calendar date (`DATE`).
    Date,
    /// A date and time of day without a time zone (`TIMESTAMP`).
    Timestamp,
    /// A moment with a time zone (`2024-03-15T10:30:00+02:00`), stored in UTC as DuckDB's
    /// `TIMESTAMP WITH TIME ZONE`.
    TimestampTz,
    /// A time of day (`10:30`, `10:30:15.5`).
    Time,
}

/// Text is what a column is when nothing more specific is known.
impl Default for ColumnType {
    fn default() -> Self {
        Self::Varchar
    }
}

impl ColumnType {
    /// The DuckDB type name, as used in `CREATE TABLE`.
    pub fn sql_name(&self) -> String {
        self.to_string()
    }

    /// Whether the type holds numbers, as a `min` or `max` rule needs.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Self::Integer | Self::BigInt | Self::Double | Self::Decimal { .. })
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Boolean => f.write_str("BOOLEAN"),
            Self::Integer => f.write_str("INTEGER"),
            Self::BigInt => f.write_str("BIGINT"),
            Self::Double => f.write_str("DOUBLE"),
            Self::Decimal { precision, scale } => write!(f, "DECIMAL({precision},{scale})"),
            Self::Varchar => f.write_str("VARCHAR"),
            Self::Date => f.write_str("DATE"),
            Self::Timestamp => f.write_str("TIMESTAMP"),
            Self::TimestampTz => f.write_str("TIMESTAMPTZ"),
            Self::Time => f.write_str("TIME"),
        }
    }
}

impl From<ColumnType> for String {
    fn from(value: ColumnType) -> Self {
        value.to_string()
    }
}

impl TryFrom<String> for ColumnType {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl FromStr for ColumnType {
    type Err = String;

    /// Accepts the names of the import's types and DuckDB's aliases of them, in any case: the
    /// importable ones of the names [`SqlType`] reads.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let importable = match SqlType::from_catalog(text) {
            SqlType::Boolean => Some(Self::Boolean),
            SqlType::Integer => Some(Self::Integer),
            SqlType::BigInt => Some(Self::BigInt),
            SqlType::Double => Some(Self::Double),
            SqlType::Decimal { precision, scale } => Some(Self::Decimal { precision, scale }),
            SqlType::Varchar => Some(Self::Varchar),
            SqlType::Date => Some(Self::Date),
            SqlType::Timestamp => Some(Self::Timestamp),
            SqlType::TimestampTz => Some(Self::TimestampTz),
            SqlType::Time => Some(Self::Time),
            _ => None,
        };
        importable.ok_or_else(|| {
            format!(
                "unknown column type '{text}'; expected BOOLEAN, INTEGER, BIGINT, DOUBLE, \
                 DECIMAL(p,s), VARCHAR, DATE, TIMESTAMP, TIMESTAMPTZ or TIME"
            )
        })
    }
}

/// `text` without the whitespace around it. Most values have none, which a look at their first
/// and last bytes tells without `str::trim`'s walk through Unicode's whitespace.
pub fn trimmed(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// Parses the boolean forms true/false, t/f, yes/no, y/n, 1/0 in any case.
pub fn parse_bool(text: &str) -> Option<bool> {
    let text = trimmed(text);
    const TRUE: [&str; 5] = ["true", "t", "yes", "y", "1"];
    const FALSE: [&str; 5] = ["false", "f", "no", "n", "0"];
    if TRUE.iter().any(|form| form.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|form| form.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

pub fn parse_i64(text: &str) -> Option<i64> {
    trimmed(text).parse().ok()
}

pub fn parse_i32(text: &str) -> Option<i32> {
    trimmed(text).parse().ok()
}

/// Parses a decimal number; `inf` and `nan` are accepted as DuckDB accepts them.
pub fn parse_f64(text: &str) -> Option<f64> {
    trimmed(text).parse().ok()
}

/// Whether a DOUBLE keeps every significant digit of the plain number `text` (`-12.50`,
/// `1.5e+20`): up to 15 always do; more only when the double's shortest text has those digits
/// (`1.7976931348623157e308`). A column with one that it would not keep
/// (`999999999999999.999`, which would read back as 1e15) is not inferred as DOUBLE.
pub fn double_keeps_digits(text: &str) -> bool {
    let text = trimmed(text);
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mantissa = unsigned.split(['e', 'E']).next().unwrap_or(unsigned);
    let significant = |digits: &str| -> String {
        let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
        digits.trim_start_matches('0').trim_end_matches('0').to_string()
    };
    let written = significant(mantissa);
    if written.len() <= 15 {
        return true;
    }
    let Ok(value) = unsigned.parse::<f64>() else {
        return false;
    };
    let shortest = format!("{value:e}");
    let shortest_mantissa = shortest.split('e').next().unwrap_or(&shortest);
    significant(shortest_mantissa) == written
}

/// Parses a plain decimal (`-123.45`, `+7`, `.5`) into an integer scaled by `10^scale`, rounding
/// half away from zero when the text has more fractional digits than `scale`.
pub fn parse_decimal(text: &str, precision: u8, scale: u8) -> Option<i128> {
    let text = trimmed(text);
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > usize::from(precision - scale) {
        return None;
    }
    let mut value: i128 = 0;
    for digit in whole.bytes() {
        value = value * 10 + i128::from(digit - b'0');
    }
    let mut fraction_digits = fraction.bytes();
    for _ in 0..scale {
        let digit = fraction_digits.next().map_or(0, |d| d - b'0');
        value = value * 10 + i128::from(digit);
    }
    if fraction_digits.next().is_some_and(|d| d >= b'5') {
        value += 1;
    }
    if value >= 10i128.pow(u32::from(precision)) {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01.
pub fn parse_date(text: &str) -> Option<i32> {
    let text = trimmed(text);
    let date = parse_ymd(text.as_bytes())?;
    days_since_epoch(date)
}

/// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]`, the same with `T`, or a bare date, into microseconds
/// since 1970-01-01 00:00:00.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let bytes = trimmed(text).as_bytes();
    let date = parse_ymd(bytes.get(..10)?)?;
    let days = i64::from(days_since_epoch(date)?);
    let rest = &bytes[10..];
    if rest.is_empty() {
        return Some(days * 86_400_000_000);
    }
    if !matches!(rest[0], b' ' | b'T') {
        return None;
    }
    // The hour may be written with one digit (`2017-02-11 9:00:00`), as spreadsheets write it.
    let (hour, time) = match &rest[1..] {
        [h, b':', time @ ..] => (two_digits(&[b'0', *h])?, time),
        [h1, h2, b':', time @ ..] => (two_digits(&[*h1, *h2])?, time),
        _ => return None,
    };
    if time.len() < 5 || time[2] != b':' {
        return None;
    }
    let minute = two_digits(&time[0..2])?;
    let second = two_digits(&time[3..5])?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut micros = 0i64;
    let fraction = &time[5..];
    if !fraction.is_empty() {
        let digits = fraction.strip_prefix(b".")?;
        if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for position in 0..6 {
            let digit = digits.get(position).map_or(0, |d| i64::from(d - b'0'));
            micros = micros * 10 + digit;
        }
    }
    let seconds = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    Some(seconds * 1_000_000 + micros)
}

/// Parses an ISO timestamp with a zone, `Z` or an offset (`+02:00`, `+0200`, `+02`), into
/// microseconds since 1970-01-01 00:00:00 UTC.
pub fn parse_timestamp_tz(text: &str) -> Option<i64> {
    let text = trimmed(text);
    let (local, offset_seconds) = if let Some(local) = text.strip_suffix(['Z', 'z']) {
        (local, 0i64)
    } else {
        // The offset's sign comes after the date (whose own dashes are in its first 10 bytes).
        let at = text.get(11..)?.rfind(['+', '-'])? + 11;
        let (local, offset) = text.split_at(at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (hours, minutes) = match digits.len() {
            2 => (digits.parse::<i64>().ok()?, 0),
            4 => (digits[..2].parse::<i64>().ok()?, digits[2..].parse::<i64>().ok()?),
            _ => return None,
        };
        if hours > 18 || minutes > 59 {
            return None;
        }
        (local, sign * (hours * 3600 + minutes * 60))
    };
    let local = local.trim_end();
    // Without seconds: `2017-02-11 10:00` (or `9:00`).
    let micros = if matches!(local.len(), 15 | 16) && local.as_bytes()[local.len() - 3] == b':' {
        parse_timestamp(&format!("{local}:00"))?
    } else {
        parse_timestamp(local)?
    };
    Some(micros - offset_seconds * 1_000_000)
}

/// Parses `HH:MM`, `HH:MM:SS` or `HH:MM:SS.ffffff` into microseconds since midnight.
pub fn parse_time(text: &str) -> Option<i64> {
    let bytes = trimmed(text).as_bytes();
    // The hour may be written with one digit (`9:50:00`), as spreadsheets and R write it.
    let (hour, bytes) = match bytes {
        [h, b':', rest @ ..] => (two_digits(&[b'0', *h])?, rest),
        [h1, h2, b':', rest @ ..] => (two_digits(&[*h1, *h2])?, rest),
        _ => return None,
    };
    if bytes.len() < 2 {
        return None;
    }
    let minute = two_digits(&bytes[0..2])?;
    let rest = &bytes[2..];
    let (second, fraction) = match rest {
        [] => (0, &[][..]),
        [b':', a, b, fraction @ ..] => (two_digits(&[*a, *b])?, fraction),
        _ => return None,
    };
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut micros = 0i64;
    if !fraction.is_empty() {
        let digits = fraction.strip_prefix(b".")?;
        if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for position in 0..6 {
            micros = micros * 10 + digits.get(position).map_or(0, |d| i64::from(d - b'0'));
        }
    }
    Some((i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)) * 1_000_000 + micros)
}

fn parse_ymd(bytes: &[u8]) -> Option<(i32, u32, u32)> {
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = four_digits(&bytes[0..4])?;
    let month = two_digits(&bytes[5..7])?;
    let day = two_digits(&bytes[8..10])?;
    Some((year, month, day))
}

/// Days since 1970-01-01 of a valid calendar date (proleptic Gregorian), by Howard Hinnant's
/// `days_from_civil`: this runs once per date cell, and a general date library costs more.
fn days_since_epoch((year, month, day): (i32, u32, u32)) -> Option<i32> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400) as u32;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era as i32 - 719_468)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn two_digits(bytes: &[u8]) -> Option<u32> {
    match bytes {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some(u32::from(a - b'0') * 10 + u32::from(b - b'0')),
        _ => None,
    }
}

fn four_digits(bytes: &[u8]) -> Option<i32> {
    if bytes.len() != 4 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |acc, d| acc * 10 + i32::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_double_keeps_up_to_fifteen_digits_and_more_only_when_they_are_its_own() {
        assert!(double_keeps_digits("-12.50"));
        assert!(double_keeps_digits("123456789012345"));
        assert!(double_keeps_digits("1.7976931348623157e308"));
        assert!(double_keeps_digits("5e-324"));
        assert!(double_keeps_digits("0.1000000000000000000"));
        assert!(!double_keeps_digits("999999999999999.999"));
        assert!(!double_keeps_digits("-1234567890123456789012345678.0123456789"));
        assert!(!double_keeps_digits("0.1000000000000000000001"));
    }
    use chrono::Datelike;

    #[test]
    fn trimmed_takes_ascii_and_unicode_whitespace_off_both_ends_only() {
        for (text, expected) in [
            ("42", "42"),
            ("", ""),
            (" ", ""),
            (" -1 ", "-1"),
            ("\t7\r", "7"),
            ("\u{a0}3\u{2003}", "3"),
            ("a b", "a b"),
            ("é", "é"),
            (" é ", "é"),
        ] {
            assert_eq!(trimmed(text), expected, "{text:?}");
        }
    }

    #[test]
    fn parses_type_names_and_aliases() {
        assert_eq!("bigint".parse(), Ok(ColumnType::BigInt));
        assert_eq!("Text".parse(), Ok(ColumnType::Varchar));
        assert_eq!(
            "DECIMAL(10, 2)".parse(),
            Ok(ColumnType::Decimal {
                precision: 10,
                scale: 2
            })
        );
        assert!("DECIMAL(2,3)".parse::<ColumnType>().is_err());
        assert!("BLOB".parse::<ColumnType>().is_err());
        let round_trip: ColumnType = ColumnType::Decimal {
            precision: 12,
            scale: 4,
        }
        .to_string()
        .parse()
        .unwrap();
        assert_eq!(round_trip.to_string(), "DECIMAL(12,4)");
    }

    #[test]
    fn parses_booleans_in_every_promised_form() {
        for text in ["true", "TRUE", "t", "Yes", "1", " y "] {
            assert_eq!(parse_bool(text), Some(true), "{text}");
        }
        for text in ["false", "F", "no", "0", "N"] {
            assert_eq!(parse_bool(text), Some(false), "{text}");
        }
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn parses_decimals_with_rounding_and_precision() {
        assert_eq!(parse_decimal("123.45", 10, 2), Some(12345));
        assert_eq!(parse_decimal("-0.5", 10, 2), Some(-50));
        assert_eq!(parse_decimal("1.005", 10, 2), Some(101));
        assert_eq!(parse_decimal(".5", 10, 1), Some(5));
        assert_eq!(parse_decimal("12345", 6, 2), None);
        assert_eq!(parse_decimal("1e5", 10, 2), None);
        assert_eq!(parse_decimal("-", 10, 2), None);
    }

    #[test]
    fn day_numbers_agree_with_chrono_across_four_centuries() {
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let mut date = chrono::NaiveDate::from_ymd_opt(1800, 1, 1).unwrap();
        while date.year() < 2200 {
            let expected = (date - epoch).num_days() as i32;
            let text = date.format("%Y-%m-%d").to_string();
            assert_eq!(parse_date(&text), Some(expected), "{text}");
            date = date.succ_opt().unwrap();
        }
        assert_eq!(parse_date("2024-02-29"), Some(19782));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("1900-02-29"), None);
        assert_eq!(parse_date("2000-02-29"), Some(11016));
    }

    #[test]
    fn parses_dates_and_timestamps() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_date("2024/02/03"), None);
        assert_eq!(parse_timestamp("1970-01-01 00:00:01"), Some(1_000_000));
        assert_eq!(parse_timestamp("1970-01-01T00:01:00.5"), Some(60_500_000));
        assert_eq!(parse_timestamp("1970-01-02"), Some(86_400_000_000));
        assert_eq!(parse_timestamp("1970-01-01 24:00:00"), None);
        assert_eq!(parse_timestamp("1970-01-01 00:00:00+02"), None);
        assert_eq!(parse_timestamp_tz("1970-01-01 02:00:00+02"), Some(0));
        assert_eq!(parse_timestamp_tz("1970-01-01T00:00:01Z"), Some(1_000_000));
        assert_eq!(parse_timestamp_tz("1970-01-01T01:30+01:30"), Some(0));
        assert_eq!(parse_timestamp_tz("1969-12-31 19:00:00-0500"), Some(0));
        assert_eq!(parse_timestamp_tz("1970-01-01 00:00:00"), None, "no zone");
        assert_eq!(parse_time("10:30"), Some(37_800_000_000));
        assert_eq!(parse_time("00:00:01.5"), Some(1_500_000));
        assert_eq!(parse_time("24:00"), None);
        assert_eq!(parse_time("10.30"), None);
        assert_eq!(parse_time("9:50:00"), Some(35_400_000_000));
        assert_eq!(parse_time("0:10"), Some(600_000_000));
        assert_eq!(parse_time("9:5"), None);
        assert_eq!(parse_time("123:00"), None);
        // One-digit hours in timestamps, with and without seconds or a zone.
        assert_eq!(parse_timestamp("1970-01-01 9:00:00"), Some(32_400_000_000));
        assert_eq!(parse_timestamp("1970-01-01T0:00:01.5"), Some(1_500_000));
        assert_eq!(parse_timestamp("1970-01-01 9:0:00"), None);
        assert_eq!(parse_timestamp("1970-01-01 123:00:00"), None);
        assert_eq!(parse_timestamp_tz("1970-01-01 2:00+02"), Some(0));
        assert_eq!(parse_timestamp_tz("1970-01-01 2:00:00Z"), Some(7_200_000_000));
    }
}
