//! Whether a file's first record is a header: each column votes by whether its first value fits
//! the type the values under it have.
//!
//! A column votes by a strict type first (`strict_column_type`: every value fits, with no local
//! formats), then by `type_guess`'s guess when that has no misfits. The columns an import
//! writes are typed by `type_guess` alone; the strict type is only this vote's.

use crate::import::sniff::type_guess::{InferenceContext, fits_guess, guess_column};
use crate::import::sniff::types::{ColumnType, double_keeps_digits, parse_date, parse_f64, parse_i64, parse_timestamp};

/// The narrowest type that every non-empty value fits, strictly (a value like `007` or a
/// 25-digit account number stays text); VARCHAR when there are none.
pub fn strict_column_type<'a>(values: impl IntoIterator<Item = &'a str>) -> ColumnType {
    let mut fits = Fits::all();
    let mut any = false;
    for value in values {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        any = true;
        fits.narrow(value);
        if fits.is_text_only() {
            break;
        }
    }
    if any { fits.best() } else { ColumnType::Varchar }
}

/// Whether `value` would be inferred as at least as specific as `column_type` on its own.
fn fits_type(value: &str, column_type: ColumnType) -> bool {
    let mut fits = Fits::all();
    fits.narrow(value.trim());
    match column_type {
        ColumnType::Boolean => fits.boolean,
        ColumnType::Integer | ColumnType::BigInt => fits.integer,
        ColumnType::Double | ColumnType::Decimal { .. } => fits.double,
        ColumnType::Date => fits.date,
        ColumnType::Timestamp => fits.timestamp,
        // Strict inference never chooses these (the majority guess does).
        ColumnType::TimestampTz | ColumnType::Time => false,
        ColumnType::Varchar => true,
    }
}

struct Fits {
    boolean: bool,
    integer: bool,
    double: bool,
    date: bool,
    timestamp: bool,
}

impl Fits {
    fn all() -> Self {
        Self {
            boolean: true,
            integer: true,
            double: true,
            date: true,
            timestamp: true,
        }
    }

    fn narrow(&mut self, value: &str) {
        let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
        let leading_zero = digits.len() > 1 && digits.starts_with('0') && digits.as_bytes()[1].is_ascii_digit();
        let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        self.boolean &= ["true", "false", "t", "f", "yes", "no"]
            .iter()
            .any(|form| form.eq_ignore_ascii_case(value));
        self.integer &= !leading_zero && parse_i64(value).is_some();
        self.double &= !leading_zero
            && !all_digits_beyond_i64(all_digits, value)
            && value.bytes().any(|b| b.is_ascii_digit())
            && parse_f64(value).is_some()
            && double_keeps_digits(value);
        self.date &= parse_date(value).is_some();
        self.timestamp &= parse_timestamp(value).is_some();
    }

    fn is_text_only(&self) -> bool {
        !(self.boolean || self.integer || self.double || self.date || self.timestamp)
    }

    fn best(&self) -> ColumnType {
        if self.boolean {
            ColumnType::Boolean
        } else if self.integer {
            ColumnType::BigInt
        } else if self.double {
            ColumnType::Double
        } else if self.date {
            ColumnType::Date
        } else if self.timestamp {
            ColumnType::Timestamp
        } else {
            ColumnType::Varchar
        }
    }
}

/// An all-digit value too large for BIGINT is an identifier, not a floating-point number.
fn all_digits_beyond_i64(all_digits: bool, value: &str) -> bool {
    all_digits && parse_i64(value).is_none()
}

/// Decides whether `first` is a header, given the records after it.
///
/// Each column whose other values have a definite type votes: a first value that does not fit that
/// type is a header name, one that fits is data. When only text columns exist, the first record is
/// a header if its values are non-empty, distinct and do not occur again in their columns.
pub fn looks_like_header(first: &[String], rest: &[Vec<String>]) -> bool {
    // Statistics offices head a table with its periods: `;1985;1993;2000`. Typed columns take
    // those for a row of counts; the rows under them are not a run of years.
    if names_periods(first) && rest.iter().filter(|record| names_periods(record)).count() * 2 < rest.len() {
        return true;
    }
    let votes = header_votes(first, rest);
    if votes != 0 {
        return votes > 0;
    }
    // The header repeated where exports were joined is rare; a line that many lines below
    // repeat (a column of `foo`s) is a value the data has, not a header.
    let repeats = rest.iter().filter(|record| record.as_slice() == first).count();
    if repeats * 20 > rest.len().max(20) {
        return false;
    }
    // An empty field after two names or more is a trailing delimiter's or an unnamed column's,
    // and one before them the corner over row labels or a sheet's empty first column: they say
    // nothing about the names. (A title's one phrase and empty cells is no header.)
    let blank = |value: &String| value.trim().is_empty();
    let start = usize::from(first.first().is_some_and(blank));
    let end = first.len() - usize::from(first.len() > start && first.last().is_some_and(blank));
    let inner = &first[start..end];
    let (offset, named) = if inner.iter().filter(|value| !blank(value)).count() >= 2 {
        (start, inner)
    } else {
        (0, first)
    };
    let all_named = !named.is_empty() && named.iter().all(|value| !value.trim().is_empty());
    let distinct = {
        let mut seen = std::collections::HashSet::new();
        named.iter().all(|value| seen.insert(value.trim()))
    };
    // A name met again in its column says the first line is data, unless the whole line is met
    // again: that is the header repeated where two exports were joined.
    let repeated_below = named.iter().enumerate().any(|(column, value)| {
        rest.iter()
            .filter(|record| record.as_slice() != first)
            .any(|record| record.get(offset + column).is_some_and(|other| other == value))
    });
    let numeric = named.iter().any(|value| parse_f64(value).is_some());
    all_named && distinct && !repeated_below && !numeric
}

/// Years a table's columns are the periods of: at least three, rising, after any row-label
/// fields and before trailing empty ones.
const MIN_PERIODS: usize = 3;

/// Whether a record names periods: its values, after the leading labels (or the empty corner
/// over them), are years in rising order, and then only empty fields.
fn names_periods(record: &[String]) -> bool {
    let year = |value: &str| {
        let value = value.trim();
        value.len() == 4
            && value.bytes().all(|b| b.is_ascii_digit())
            && value.parse::<u16>().is_ok_and(|year| (1800..=2199).contains(&year))
    };
    let Some(first_year) = record.iter().position(|value| year(value)) else {
        return false;
    };
    let years: Vec<u16> = record[first_year..]
        .iter()
        .take_while(|value| year(value))
        .filter_map(|value| value.trim().parse().ok())
        .collect();
    let after = &record[first_year + years.len()..];
    years.len() >= MIN_PERIODS
        && years.windows(2).all(|pair| pair[0] < pair[1])
        && after.iter().all(|value| value.trim().is_empty())
        && first_year <= 2
}

/// Whether the typed columns below `first` say it is a header: more of its values do not fit
/// them than do. Text columns say nothing, so a row of an all-text table is never one.
pub fn typed_columns_call_it_a_header(first: &[String], rest: &[Vec<String>]) -> bool {
    header_votes(first, rest) > 0
}

/// The typed columns' votes on `first` being a header. A header over several lines (names,
/// then units) hides the types under its later lines: the records below them vote then.
fn header_votes(first: &[String], rest: &[Vec<String>]) -> i32 {
    (0..3)
        .filter(|&lines| lines < rest.len())
        .map(|lines| type_votes(first, &rest[lines..]))
        .find(|&votes| votes != 0)
        .unwrap_or(0)
}

/// Positive when more of `first`'s values do not fit their typed columns below than do.
fn type_votes(first: &[String], rest: &[Vec<String>]) -> i32 {
    let mut votes = 0i32;
    for (column, value) in first.iter().enumerate() {
        if value.trim().is_empty() {
            continue;
        }
        let values = || rest.iter().filter_map(|record| record.get(column).map(String::as_str));
        let column_type = strict_column_type(values());
        if column_type != ColumnType::Varchar {
            votes += if fits_type(value, column_type) { -1 } else { 1 };
            continue;
        }
        // A column of local dates or decimal commas votes too: without it the first row of a
        // headerless `Anna;15.03.2024;1,50` file would be taken for its header.
        let context = InferenceContext {
            day_first: true,
            ..InferenceContext::default()
        };
        let guess = guess_column(values(), &context);
        if guess.column_type != ColumnType::Varchar && guess.misfits == 0 {
            votes += if fits_guess(value, &guess) { -1 } else { 1 };
        }
    }
    votes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn infers_the_narrowest_type() {
        assert_eq!(strict_column_type(["1", "-2", ""]), ColumnType::BigInt);
        assert_eq!(strict_column_type(["1", "2.5"]), ColumnType::Double);
        assert_eq!(strict_column_type(["true", "No"]), ColumnType::Boolean);
        assert_eq!(strict_column_type(["2024-01-01", "1999-12-31"]), ColumnType::Date);
        assert_eq!(
            strict_column_type(["2024-01-01", "2024-01-01 10:00:00"]),
            ColumnType::Timestamp
        );
        assert_eq!(strict_column_type(["1", "x"]), ColumnType::Varchar);
        assert_eq!(strict_column_type(["", " "]), ColumnType::Varchar);
    }

    #[test]
    fn keeps_identifiers_that_look_numeric_as_text() {
        assert_eq!(strict_column_type(["007", "123"]), ColumnType::Varchar);
        assert_eq!(strict_column_type(["12345678901234567890123"]), ColumnType::Varchar);
        assert_eq!(strict_column_type(["0", "0.5"]), ColumnType::Double);
        assert_eq!(strict_column_type(["nan", "inf"]), ColumnType::Varchar);
    }

    #[test]
    fn detects_headers_over_typed_columns() {
        let rest = vec![strings(&["1", "Ann"]), strings(&["2", "Bob"])];
        assert!(looks_like_header(&strings(&["id", "name"]), &rest));
        assert!(!looks_like_header(&strings(&["0", "Zed"]), &rest));
    }

    #[test]
    fn local_dates_and_decimal_commas_vote_against_a_first_data_row_as_header() {
        let rest = vec![
            strings(&["Bob", "01.12.2023", "0,99"]),
            strings(&["Cy", "31.01.2020", "12,5"]),
        ];
        assert!(!looks_like_header(&strings(&["Anna", "15.03.2024", "1,50"]), &rest));
        assert!(looks_like_header(&strings(&["Name", "Datum", "Betrag"]), &rest));
    }

    #[test]
    fn detects_headers_over_text_columns() {
        let rest = vec![strings(&["x", "y"]), strings(&["z", "w"])];
        assert!(looks_like_header(&strings(&["first", "second"]), &rest));
        assert!(!looks_like_header(&strings(&["x", "q"]), &rest));
        assert!(!looks_like_header(&strings(&["a", ""]), &rest));
    }

    #[test]
    fn a_line_that_many_lines_below_repeat_is_data_and_a_rare_repeat_is_the_header_again() {
        let same: Vec<Vec<String>> = (0..30).map(|_| strings(&["foo"])).collect();
        assert!(!looks_like_header(&strings(&["foo"]), &same));
        // Two exports of 20 rows joined: the header comes again once.
        let mut joined: Vec<Vec<String>> = (0..40).map(|row| strings(&[&format!("name {row}")])).collect();
        joined.insert(20, strings(&["customer"]));
        assert!(looks_like_header(&strings(&["customer"]), &joined));
    }
}
