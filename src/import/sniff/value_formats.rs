//! Values as people write them: dates in local orders (`15.03.2024`, `02/01/2019`, `3-Mar-24`),
//! numbers with a decimal comma, thousands separators, a currency sign or a trailing `%`, and
//! null markers such as `NA` or `n/a`.
//!
//! A column's [`ValueFormat`] is detected from the sample (see `infer`) or stated in the schema,
//! then compiled once into a [`ColumnFormat`] that the validator uses per cell. A column written
//! the ISO way has the default format and keeps the hand-written fast parsers; only columns that
//! need it pay for normalising or for chrono's strftime parser.

use serde::{Deserialize, Serialize};

use chrono::Datelike;

use crate::import::sniff::types::{parse_date, parse_timestamp};
use crate::sql_type::{DATE_INFINITY, TIMESTAMP_INFINITY};

/// How one column's values are written. Every part is optional; the default is the ISO forms
/// (`2024-03-15`, `1234.5`) with only the empty field as NULL. A schema's column states the
/// parts it wants and the rest are detected ([`ValueFormat::or`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueFormat {
    /// A strftime-style date or timestamp format, such as `%d/%m/%Y` or `%d.%m.%Y %H:%M`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The decimal separator of numbers, `.` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimal_separator: Option<char>,
    /// A thousands separator numbers may use (`,` `.` space or apostrophe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thousands: Option<char>,
    /// Values that mean NULL besides the empty field, such as `NA` or `n/a`; an empty list
    /// states that there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null_markers: Option<Vec<String>>,
    /// For a BOOLEAN column of ticks: the mark that means true (`x`, `✓`); an empty field is
    /// then false, as in a spreadsheet's checkbox column, not NULL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkmark: Option<String>,
    /// A currency sign written before or after the amounts (`$74.69`, `12,50 €`): it says what
    /// the numbers are, not how much, so it is dropped, and the format says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<char>,
}

impl ValueFormat {
    /// Values that mean NULL besides the empty field.
    pub fn null_markers(&self) -> &[String] {
        self.null_markers.as_deref().unwrap_or_default()
    }

    /// This format, each part it leaves open taken from `base` (what was detected).
    pub fn or(&self, base: ValueFormat) -> ValueFormat {
        ValueFormat {
            format: self.format.clone().or(base.format),
            decimal_separator: self.decimal_separator.or(base.decimal_separator),
            thousands: self.thousands.or(base.thousands),
            null_markers: self.null_markers.clone().or(base.null_markers),
            checkmark: self.checkmark.clone().or(base.checkmark),
            currency: self.currency.or(base.currency),
        }
    }

    /// Whether every part is left open: the ISO forms, with only the empty field as NULL.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The ISO format with `markers` found as null markers: none found leaves them unset, so
    /// that a stated format still overrides them.
    pub fn with_null_markers(markers: Vec<String>) -> Self {
        Self {
            null_markers: (!markers.is_empty()).then_some(markers),
            ..Self::default()
        }
    }

    /// A short description for people: "%d.%m.%Y", "decimal comma, thousands '.'", "nulls: NA".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(format) = &self.format {
            parts.push(format.clone());
        }
        match self.decimal_separator {
            Some(',') => parts.push("decimal comma".to_string()),
            Some(other) if other != '.' => parts.push(format!("decimal '{other}'")),
            _ => {}
        }
        if let Some(thousands) = self.thousands {
            parts.push(format!("thousands '{thousands}'"));
        }
        if !self.null_markers().is_empty() {
            parts.push(format!("nulls: {}", self.null_markers().join(", ")));
        }
        if let Some(mark) = &self.checkmark {
            parts.push(format!("'{mark}' or empty"));
        }
        if let Some(sign) = self.currency {
            parts.push(format!("currency sign '{sign}' dropped"));
        }
        parts.join("; ")
    }
}

/// Signs around an amount that say what it is, not how much: dropped before parsing.
pub const CURRENCY: [char; 6] = ['$', '€', '£', '¥', '₹', '₣'];

/// A [`ValueFormat`] ready for use on millions of cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ColumnFormat {
    /// The format as stated or detected, for messages.
    source: ValueFormat,
    format: Option<String>,
    /// Whether the date format is the ISO one the fast parsers read.
    iso_date: bool,
    decimal: u8,
    thousands: Option<u8>,
    null_markers: Vec<String>,
    checkmark: Option<String>,
    /// Amounts carry a currency sign, which the plain parsers would not read.
    currency: bool,
}

/// Marks a checkbox column is written with.
pub const CHECKMARKS: [&str; 4] = ["x", "X", "✓", "✔"];

impl ColumnFormat {
    /// Compiles `format` for use on cells.
    pub fn new(format: &ValueFormat) -> Self {
        let date_format = format.format.clone().filter(|f| !f.trim().is_empty());
        Self {
            source: format.clone(),
            iso_date: date_format
                .as_deref()
                .is_none_or(|f| f == "%Y-%m-%d" || f == "%Y-%m-%d %H:%M:%S%.f" || f == "%Y-%m-%d %H:%M:%S"),
            format: date_format,
            decimal: format
                .decimal_separator
                .filter(char::is_ascii)
                .map_or(b'.', |c| c as u8),
            thousands: format.thousands.filter(char::is_ascii).map(|c| c as u8),
            null_markers: format.null_markers().to_vec(),
            checkmark: format.checkmark.clone().filter(|mark| !mark.trim().is_empty()),
            currency: format.currency.is_some(),
        }
    }

    /// The mark of a checkbox column, when it is one: an empty field reads false.
    pub fn checkmark(&self) -> Option<&str> {
        self.checkmark.as_deref()
    }

    /// A boolean: the checkmark (in any case) when the column has one, else the usual forms.
    pub fn parse_bool(&self, text: &str) -> Option<bool> {
        match &self.checkmark {
            Some(mark) => text.trim().eq_ignore_ascii_case(mark).then_some(true),
            None => crate::import::sniff::types::parse_bool(text),
        }
    }

    /// The format for people (see [`ValueFormat::describe`]).
    pub fn describe(&self) -> String {
        self.source.describe()
    }

    /// The format as stated or detected.
    pub fn value_format(&self) -> &ValueFormat {
        &self.source
    }

    /// Whether the column has null markers at all (most have none, and a cell need not be
    /// looked at for them).
    pub fn has_null_markers(&self) -> bool {
        !self.null_markers.is_empty()
    }

    /// Whether `text` (already trimmed as the column trims) is one of the column's null markers.
    pub fn is_null_marker(&self, text: &str) -> bool {
        !self.null_markers.is_empty() && self.null_markers.iter().any(|marker| marker == text)
    }

    /// Whether numbers need normalising before the plain parsers see them.
    fn plain_numbers(&self) -> bool {
        self.decimal == b'.' && self.thousands.is_none() && !self.currency
    }

    /// The number in `text` written the plain way (`-1234.5`) into `out`, or `None` when it is
    /// not a number in this format. A currency sign before or after and a trailing `%` are
    /// dropped; a thousands separator must group the digits in threes.
    pub fn normalize_number<'o>(&self, text: &str, out: &'o mut String) -> Option<&'o str> {
        out.clear();
        let mut text = text.trim();
        text = text.strip_suffix('%').map_or(text, str::trim_end);
        let (sign, rest) = match text.as_bytes().first() {
            Some(b'-') => ("-", &text[1..]),
            Some(b'+') => ("", &text[1..]),
            _ => ("", text),
        };
        let rest = rest.trim_start_matches(CURRENCY).trim_end_matches(CURRENCY).trim();
        // A sign may also follow the currency sign: "$-5", "€ -5".
        let (sign, rest) = match (sign, rest.as_bytes().first()) {
            ("", Some(b'-')) => ("-", &rest[1..]),
            _ => (sign, rest),
        };
        if rest.is_empty() {
            return None;
        }
        // `NaN` and the infinities are floating-point values (DuckDB's DOUBLE holds them), in
        // whatever format the column's other numbers are written.
        if is_float_word(rest) {
            out.push_str(sign);
            out.push_str(rest);
            return Some(out.as_str());
        }
        // An exponent (`1,5e+20`, as a decimal-comma export writes large and small numbers)
        // follows the digits whatever the separators.
        let (rest, exponent) = split_exponent(rest);
        let (whole, fraction) = match rest.bytes().position(|b| b == self.decimal) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        out.push_str(sign);
        match self.thousands {
            Some(separator) if whole.as_bytes().contains(&separator) => {
                let mut groups = whole.split(separator as char);
                let first = groups.next()?;
                if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                out.push_str(first);
                for group in groups {
                    if group.len() != 3 || !group.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    out.push_str(group);
                }
            }
            _ => {
                if !whole.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                out.push_str(whole);
            }
        }
        if let Some(fraction) = fraction {
            if !fraction.bytes().all(|b| b.is_ascii_digit()) || (whole.is_empty() && fraction.is_empty()) {
                return None;
            }
            out.push('.');
            out.push_str(fraction);
        }
        if !out.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
        if let Some(exponent) = exponent {
            out.push('e');
            out.push_str(exponent);
        }
        Some(out.as_str())
    }

    /// Days since 1970-01-01 of a date written in this format.
    pub fn parse_date(&self, text: &str) -> Option<i32> {
        if let Some(positive) = infinity_sign(text) {
            return Some(if positive { DATE_INFINITY } else { -DATE_INFINITY });
        }
        match (&self.format, self.iso_date) {
            (Some(format), false) => {
                let date = chrono::NaiveDate::parse_from_str(text.trim(), format).ok()?;
                self.plausible_year(date.year(), text)?;
                days_from_epoch(date)
            }
            _ => parse_date(text),
        }
    }

    /// Microseconds since 1970-01-01 00:00:00 of a timestamp written in this format (a date
    /// format alone reads midnight).
    pub fn parse_timestamp(&self, text: &str) -> Option<i64> {
        if let Some(positive) = infinity_sign(text) {
            return Some(if positive {
                TIMESTAMP_INFINITY
            } else {
                -TIMESTAMP_INFINITY
            });
        }
        match (&self.format, self.iso_date) {
            (Some(format), false) => {
                let text = text.trim();
                let moment = chrono::NaiveDateTime::parse_from_str(text, format).ok().or_else(|| {
                    chrono::NaiveDate::parse_from_str(text, format)
                        .ok()
                        .and_then(|date| date.and_hms_opt(0, 0, 0))
                })?;
                self.plausible_year(moment.year(), text)?;
                Some(moment.and_utc().timestamp_micros())
            }
            _ => parse_timestamp(text).or_else(|| parse_iso_without_seconds(text)),
        }
    }

    /// Whether numbers are read as written, without normalising.
    pub fn reads_plain_numbers(&self) -> bool {
        self.plain_numbers()
    }
}

impl ColumnFormat {
    /// chrono reads `%Y` from one to four digits, so `15.03.24` would be the year 24 and `1.2.3`
    /// a date: a four-digit year is what `%Y` means to people, and `%y` is there for two. A year
    /// before 1000 counts when it is written with its four digits (`0652`).
    fn plausible_year(&self, year: i32, text: &str) -> Option<()> {
        let four_digits = self.format.as_deref().is_some_and(|format| format.contains("%Y"));
        let written_in_four = || (0..1000).contains(&year) && text.contains(&format!("{year:04}"));
        (!four_digits || (1000..=9999).contains(&year) || written_in_four()).then_some(())
    }
}

/// `Some(true)` for `infinity`, `Some(false)` for `-infinity` (any case), else `None`.
pub fn infinity_sign(text: &str) -> Option<bool> {
    let text = text.trim();
    let (positive, word) = match text.strip_prefix('-') {
        Some(word) => (false, word),
        None => (true, text.strip_prefix('+').unwrap_or(text)),
    };
    word.eq_ignore_ascii_case("infinity").then_some(positive)
}

/// `text` without its exponent (`e-7`, `E+20`), and the exponent's signed digits.
fn split_exponent(text: &str) -> (&str, Option<&str>) {
    let Some(at) = text.rfind(['e', 'E']) else {
        return (text, None);
    };
    let exponent = &text[at + 1..];
    let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let mantissa = &text[..at];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || !mantissa.bytes().any(|b| b.is_ascii_digit())
    {
        return (text, None);
    }
    (mantissa, Some(exponent))
}

/// `NaN`, `inf` or `infinity` in any case: values of a floating-point column, not text.
pub fn is_float_word(text: &str) -> bool {
    ["nan", "inf", "infinity"]
        .iter()
        .any(|word| word.eq_ignore_ascii_case(text))
}

fn days_from_epoch(date: chrono::NaiveDate) -> Option<i32> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((date - epoch).num_days()).ok()
}

/// `YYYY-MM-DD HH:MM` (or with `T`): the ISO form without seconds that many exports write.
fn parse_iso_without_seconds(text: &str) -> Option<i64> {
    let text = text.trim();
    // The hour may have one digit: 15 bytes then.
    let length = text.len();
    if !matches!(length, 15 | 16) || text.as_bytes()[length - 3] != b':' {
        return None;
    }
    // Runs per cell on such columns: the seconds are added on the stack, not in a new String.
    let mut with_seconds = [0u8; 19];
    with_seconds[..length].copy_from_slice(text.as_bytes());
    with_seconds[length..length + 3].copy_from_slice(b":00");
    parse_timestamp(std::str::from_utf8(&with_seconds[..length + 3]).ok()?)
}

/// Date formats tried when inferring, most common first. Orders that read the same text
/// differently (day-first and month-first) are both tried; the caller settles between them.
/// `%b` reads a month's three letters and `%B` its whole English name (or the three letters).
pub const DATE_FORMATS: [&str; 18] = [
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d %Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d.%m.%y",
    "%d-%b-%y",
    "%Y.%m.%d",
    "%d %B %Y",
    "%B %d %Y",
    "%B %d, %Y",
];

/// Time parts tried after a date when inferring timestamps.
pub const TIME_FORMATS: [&str; 6] = [
    " %H:%M:%S%.f",
    " %H:%M",
    "T%H:%M:%S%.f",
    "T%H:%M",
    " %I:%M:%S %p",
    " %I:%M %p",
];

/// Whether a date format reads the day before the month (`%d` before `%m`).
pub fn day_first(format: &str) -> Option<bool> {
    let day = format.find("%d")?;
    let month = format.find("%m")?;
    Some(day < month)
}

/// Number formats tried when inferring: (decimal separator, thousands separator).
pub const NUMBER_FORMATS: [(char, Option<char>); 8] = [
    ('.', None),
    ('.', Some(',')),
    (',', None),
    (',', Some('.')),
    (',', Some(' ')),
    (',', Some('\'')),
    ('.', Some('\'')),
    ('.', Some(' ')),
];

/// Spellings of "no value" detected when a column holds them among typed values: the
/// abbreviations, the words people and programs write for a missing value (`missing`, Python's
/// `None`), and the dots and asterisks statistics offices print in an empty or withheld cell
/// (NASA's temperature tables write `****` for a month not yet measured).
pub const NULL_MARKERS: [&str; 27] = [
    "NA", "N/A", "n/a", "na", "NULL", "null", "\\N", "-", "--", "#N/A", "missing", "Missing", "MISSING", "None",
    "none", "NONE", "nil", "n.a.", "N.A.", ".", "..", "...", "*", "**", "***", "****", "*****",
];

/// Whether a text reads as a missing value to an importer that detects [`NULL_MARKERS`]: an
/// export quotes such a text, and a quoted one in a text column is read back as the text.
pub fn reads_as_missing(text: &[u8]) -> bool {
    text.len() <= MAX_MARKER_BYTES_PADDED
        && std::str::from_utf8(text).is_ok_and(|text| NULL_MARKERS.contains(&text.trim()))
}

/// Longest field [`reads_as_missing`] looks at: the longest marker with spaces around it.
const MAX_MARKER_BYTES_PADDED: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    fn number(format: ValueFormat, text: &str) -> Option<String> {
        let compiled = ColumnFormat::new(&format);
        let mut out = String::new();
        compiled.normalize_number(text, &mut out).map(str::to_string)
    }

    fn separators(decimal: char, thousands: Option<char>) -> ValueFormat {
        ValueFormat {
            decimal_separator: Some(decimal),
            thousands,
            ..ValueFormat::default()
        }
    }

    #[test]
    fn numbers_with_local_separators_currency_and_percent() {
        let us = separators('.', Some(','));
        assert_eq!(number(us.clone(), "68,527.00").as_deref(), Some("68527.00"));
        assert_eq!(number(us.clone(), "$1,234"), Some("1234".into()));
        assert_eq!(number(us.clone(), "-$5.25"), Some("-5.25".into()));
        assert_eq!(number(us.clone(), "1,23"), None, "groups are threes");
        assert_eq!(number(us, "12,345,678"), Some("12345678".into()));
        let de = separators(',', Some('.'));
        assert_eq!(number(de.clone(), "1.234,56"), Some("1234.56".into()));
        assert_eq!(number(de.clone(), "-0,5 €"), Some("-0.5".into()));
        assert_eq!(number(de.clone(), "12,5 %"), Some("12.5".into()));
        assert_eq!(number(de, "1,2,3"), None);
        let swiss = separators('.', Some('\''));
        assert_eq!(number(swiss, "1'234'567.5"), Some("1234567.5".into()));
        assert_eq!(number(separators(',', Some(' ')), "1 234,5"), Some("1234.5".into()));
        assert_eq!(number(ValueFormat::default(), "abc"), None);
        assert_eq!(number(ValueFormat::default(), "-"), None);
    }

    /// Found by the fuzzer's value round trip: a decimal-comma export writes `1,5e+20`, which
    /// must read back as the number it was.
    #[test]
    fn exponents_follow_the_digits_whatever_the_separators() {
        let de = separators(',', Some('.'));
        assert_eq!(number(de.clone(), "1,5e+20").as_deref(), Some("1.5e+20"));
        assert_eq!(
            number(de.clone(), "-2,0049418136182192e-76").as_deref(),
            Some("-2.0049418136182192e-76")
        );
        assert_eq!(number(de.clone(), "1.234,5E3").as_deref(), Some("1234.5e3"));
        assert_eq!(number(de.clone(), "e5"), None);
        assert_eq!(number(de.clone(), "1,5e"), None);
        assert_eq!(number(de, "1,5e+"), None);
        let us = separators('.', Some(','));
        assert_eq!(
            number(us.clone(), "2.0049418136182192e-76").as_deref(),
            Some("2.0049418136182192e-76")
        );
        assert_eq!(number(us, "1e5x"), None);
    }

    #[test]
    fn dates_and_timestamps_in_local_forms() {
        let format = |text: &str| {
            ColumnFormat::new(&ValueFormat {
                format: Some(text.into()),
                ..ValueFormat::default()
            })
        };
        assert_eq!(format("%d.%m.%Y").parse_date("15.03.2024"), parse_date("2024-03-15"));
        assert_eq!(format("%m/%d/%Y").parse_date("02/01/2019"), parse_date("2019-02-01"));
        assert_eq!(format("%d-%b-%Y").parse_date("3-Mar-2024"), parse_date("2024-03-03"));
        assert_eq!(
            format("%d %B %Y").parse_date("24 October 2011"),
            parse_date("2011-10-24")
        );
        assert_eq!(
            format("%B %d, %Y").parse_date("October 24, 2011"),
            parse_date("2011-10-24")
        );
        assert_eq!(format("%d %B %Y").parse_date("24 Octobre 2011"), None);
        assert_eq!(format("%d/%m/%y").parse_date("31/12/99"), parse_date("1999-12-31"));
        assert_eq!(format("%d/%m/%Y").parse_date("31/02/2024"), None);
        // %Y is four digits: a two-digit year is %y's, and a version number is no date.
        assert_eq!(format("%d.%m.%Y").parse_date("15.03.24"), None);
        assert_eq!(format("%d.%m.%y").parse_date("15.03.24"), parse_date("2024-03-15"));
        assert_eq!(format("%Y.%m.%d").parse_date("1.2.3"), None);
        // Found by the fuzzer's round trip: a year before 1000, written with four digits.
        assert_eq!(format("%d/%m/%Y").parse_date("04/10/0652"), parse_date("0652-10-04"));
        assert_eq!(format("%d/%m/%Y").parse_date("04/10/652"), None);
        // DuckDB writes its infinite dates as words in any format.
        assert_eq!(format("%d/%m/%Y").parse_date("infinity"), Some(DATE_INFINITY));
        assert_eq!(ColumnFormat::default().parse_date("-infinity"), Some(-DATE_INFINITY));
        assert_eq!(
            format("%d/%m/%Y %H:%M").parse_timestamp("-Infinity"),
            Some(-TIMESTAMP_INFINITY)
        );
        assert_eq!(
            format("%d/%m/%Y %H:%M").parse_timestamp("15/03/2024 10:30"),
            parse_timestamp("2024-03-15 10:30:00")
        );
        assert_eq!(
            format("%d.%m.%Y").parse_timestamp("15.03.2024"),
            parse_timestamp("2024-03-15 00:00:00")
        );
        let iso = ColumnFormat::default();
        assert_eq!(
            iso.parse_timestamp("2024-03-15 10:30"),
            parse_timestamp("2024-03-15 10:30:00")
        );
        assert_eq!(day_first("%d/%m/%Y"), Some(true));
        assert_eq!(day_first("%m/%d/%Y"), Some(false));
    }

    #[test]
    fn null_markers_are_exact() {
        let format = ColumnFormat::new(&ValueFormat {
            null_markers: Some(vec!["NA".into(), "-".into()]),
            ..ValueFormat::default()
        });
        assert!(format.is_null_marker("NA"));
        assert!(!format.is_null_marker("na"));
        assert!(!format.is_null_marker("NAN"));
    }
}
