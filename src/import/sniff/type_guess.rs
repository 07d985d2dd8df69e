//! Typing a column by what nearly all of its values are, in the form they are written.
//!
//! One stray value (`n/a`, `unknown`, a typo) in a numeric column must not turn the whole column
//! into text: the bad values would then land silently, and Sluice exists to show them. So a
//! column gets the most specific type that all but a thousandth of its sampled non-null values fit
//! (with fewer than a thousand values, all of them must fit). The values that do not fit become
//! failed rows with their reason when the file is imported, and the sniff result says how many
//! there were, with examples. A thousandth keeps to the promise that at most one row in five
//! hundred is set aside on files that are fine: it is half of that.
//!
//! Null markers (`NA`, `n/a`, `-`...) are recognised first, when a column holds them among typed
//! values; dates and numbers are tried in the local forms of `formats`.

use crate::import::sniff::number_evidence::{
    currency_sign, decimal_holding, groups_by_magnitude, proves_decimal_comma, proves_point_grouping,
};
use crate::import::sniff::types::ColumnType;
use crate::import::sniff::value_fit::{ANY_DECIMAL, count_misfits, fits};
use crate::import::sniff::value_formats::{
    CHECKMARKS, ColumnFormat, DATE_FORMATS, NULL_MARKERS, NUMBER_FORMATS, TIME_FORMATS, ValueFormat, day_first,
    infinity_sign,
};

/// What the caller knows that settles what the values alone cannot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InferenceContext {
    /// Read ambiguous dates (`02/01/2019`) day first; month first when false.
    pub day_first: bool,
    /// Try a decimal comma before a thousands comma (`1,234` is then 1.234).
    pub decimal_comma_first: bool,
    /// The person said the file writes a decimal comma: a point in its numbers then groups
    /// thousands, which the values alone prove only with two points or a comma in one of them.
    pub decimal_comma_stated: bool,
    /// Null markers stated for the whole file.
    pub null_markers: Vec<String>,
}

/// The type and format chosen for a column, and what did not fit them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ColumnGuess {
    /// The type chosen.
    pub column_type: ColumnType,
    /// How the values are written: date order, separators, null markers.
    pub format: ValueFormat,
    /// Sampled non-null values, and how many of them do not fit the type.
    pub sampled: u64,
    /// Of those, the values that do not fit.
    pub misfits: u64,
    /// Up to three values that do not fit.
    pub examples: Vec<String>,
    /// Day-first and month-first both read every date; `format` follows the context's choice.
    pub ambiguous_date_order: bool,
}

impl ColumnGuess {
    /// What does not fit, for people: "3 of 2,000 sampled values are not BIGINT and will fail,
    /// such as 'n.a.', 'x'"; empty when everything fits.
    pub fn misfits_text(&self) -> String {
        if self.misfits == 0 {
            return String::new();
        }
        let examples: Vec<String> = self.examples.iter().map(|example| format!("'{example}'")).collect();
        format!(
            "{} of {} sampled values are not {} and will fail, such as {}",
            self.misfits,
            self.sampled,
            self.column_type,
            examples.join(", ")
        )
    }
}

/// Most values a type may leave unfit among `sampled` values.
fn allowed_misfits(sampled: usize) -> usize {
    sampled / 1000
}

/// Marks a column must hold, with nothing else, before they are read as missing values.
const MIN_MARKS_ALONE: usize = 3;

/// Guesses the type and format of a column from its sampled values.
pub fn guess_column<'a>(values: impl IntoIterator<Item = &'a str>, context: &InferenceContext) -> ColumnGuess {
    let mut empty = 0u64;
    let all: Vec<&str> = values
        .into_iter()
        .map(str::trim)
        .filter(|value| {
            empty += u64::from(value.is_empty());
            !value.is_empty()
        })
        .collect();
    let mut markers: Vec<String> = context.null_markers.clone();
    for marker in NULL_MARKERS {
        if !markers.iter().any(|m| m == marker) && all.contains(&marker) {
            markers.push(marker.to_string());
        }
    }
    let typed: Vec<&str> = all
        .iter()
        .copied()
        .filter(|value| !markers.iter().any(|marker| marker == value))
        .collect();
    let text = ColumnGuess {
        sampled: all.len() as u64,
        format: ValueFormat::with_null_markers(context.null_markers.clone()),
        ..ColumnGuess::default()
    };
    if typed.is_empty() {
        // A column of nothing but missing-value marks (`.` under a year no data was kept for)
        // holds no values: its marks are NULL. One or two (`None` under `Coupon applied` in a
        // file of one row) say too little, and stay the text they are.
        if all.len() < MIN_MARKS_ALONE {
            return text;
        }
        return ColumnGuess {
            format: ValueFormat::with_null_markers(markers),
            ..text
        };
    }
    if empty > 0
        && let Some(guess) = guess_checkbox(&typed)
    {
        return guess;
    }
    // A type and format that every value fits wins over one that leaves a few out; only when
    // none does may a thousandth be left to fail.
    let guess_with = |allowed: usize| {
        guess_boolean(&typed, allowed)
            .or_else(|| guess_number(&typed, allowed, context))
            .or_else(|| guess_date(&typed, allowed, context, ColumnType::Date))
            .or_else(|| guess_date(&typed, allowed, context, ColumnType::Timestamp))
            .or_else(|| guess_plain(&typed, allowed, ColumnType::TimestampTz))
            .or_else(|| guess_plain(&typed, allowed, ColumnType::Time))
    };
    let guess = guess_with(0).or_else(|| {
        let allowed = allowed_misfits(typed.len());
        (allowed > 0).then(|| guess_with(allowed)).flatten()
    });
    let Some((column_type, mut format, ambiguous_date_order)) = guess else {
        return text;
    };
    // Markers the typed values live among are the column's; in a text column they are text.
    format.null_markers = ValueFormat::with_null_markers(markers).null_markers;
    let compiled = ColumnFormat::new(&format);
    let misfit_values: Vec<&str> = typed
        .iter()
        .copied()
        .filter(|value| !fits(value, column_type, &compiled))
        .collect();
    ColumnGuess {
        column_type,
        format,
        sampled: typed.len() as u64,
        misfits: misfit_values.len() as u64,
        examples: misfit_values.iter().take(3).map(|value| value.to_string()).collect(),
        ambiguous_date_order,
    }
}

type Guess = Option<(ColumnType, ValueFormat, bool)>;

/// A type read in its one ISO form: timestamps with a zone, times of day.
fn guess_plain(values: &[&str], allowed: usize, column_type: ColumnType) -> Guess {
    let format = ColumnFormat::default();
    (count_misfits(values, column_type, &format, allowed) <= allowed)
        .then(|| (column_type, ValueFormat::default(), false))
}

/// A column that holds one mark (`x`, `✓`) and empty fields is a column of ticked and unticked
/// boxes: BOOLEAN, with the empty field false.
fn guess_checkbox(values: &[&str]) -> Option<ColumnGuess> {
    let first = values.first()?;
    let mark = CHECKMARKS.iter().find(|mark| mark.eq_ignore_ascii_case(first))?;
    values
        .iter()
        .all(|value| value.eq_ignore_ascii_case(mark))
        .then(|| ColumnGuess {
            column_type: ColumnType::Boolean,
            format: ValueFormat {
                checkmark: Some(mark.to_lowercase()),
                ..ValueFormat::default()
            },
            sampled: values.len() as u64,
            ..ColumnGuess::default()
        })
}

fn guess_boolean(values: &[&str], allowed: usize) -> Guess {
    let forms = ["true", "false", "t", "f", "yes", "no", "y", "n"];
    let misfits = values
        .iter()
        .filter(|value| !forms.iter().any(|form| form.eq_ignore_ascii_case(value)))
        .count();
    (misfits <= allowed).then(|| (ColumnType::Boolean, ValueFormat::default(), false))
}

/// Whole numbers, then decimals, in the number formats in the order the context prefers. Plain
/// whole numbers always come first, so a column written plainly stays on the fast path. With a
/// decimal comma expected (a `;` file), `1,5` is tried as a decimal comma before a plain decimal.
///
/// A point followed by three digits (`75.775`) reads as a decimal point or as a thousands
/// separator, and taking the wrong one stores a value a thousand times off without a word: the
/// point groups thousands only when the column proves it ([`proves_point_grouping`]).
fn guess_number(values: &[&str], allowed: usize, context: &InferenceContext) -> Guess {
    if !values.iter().any(|value| value.bytes().any(|b| b.is_ascii_digit())) {
        return None;
    }
    let currency = currency_sign(values);
    let format_of = |(decimal, thousands): (char, Option<char>)| ValueFormat {
        decimal_separator: (decimal != '.').then_some(decimal),
        thousands,
        currency,
        ..ValueFormat::default()
    };
    let point_grouping = context.decimal_comma_stated
        || proves_point_grouping(values)
        // Magnitudes are weaker proof than a value's own form: they count only where the file's
        // convention (a `;` file) already reads a point as a grouping, never in a `,` file,
        // whose `75.775` beside counts is a decimal.
        || (context.decimal_comma_first && groups_by_magnitude(values));
    // The same holds for a comma with three digits after it (`566,216`): outside a `;` file it
    // is a decimal comma only where the column proves one (or proves that a point groups
    // thousands), never because a reading with a decimal comma is the only one that fits.
    let decimal_comma = point_grouping || context.decimal_comma_first || proves_decimal_comma(values);
    let (comma, dot): (Vec<_>, Vec<_>) = NUMBER_FORMATS
        .iter()
        .copied()
        .filter(|format| *format != ('.', None))
        .filter(|(_, thousands)| point_grouping || *thousands != Some('.'))
        .filter(|(decimal, _)| decimal_comma || *decimal != ',')
        .partition(|(decimal, _)| *decimal == ',');
    let both = |formats: &[(char, Option<char>)]| {
        formats
            .iter()
            .flat_map(|format| {
                [
                    (ColumnType::BigInt, *format),
                    (ColumnType::Double, *format),
                    (ANY_DECIMAL, *format),
                ]
            })
            .collect::<Vec<_>>()
    };
    let mut candidates: Vec<(ColumnType, (char, Option<char>))> = vec![(ColumnType::BigInt, ('.', None))];
    let plain_fraction = [(ColumnType::Double, ('.', None)), (ANY_DECIMAL, ('.', None))];
    if context.decimal_comma_first {
        candidates.extend(both(&comma));
        candidates.extend(plain_fraction);
        candidates.extend(both(&dot));
    } else {
        candidates.extend(plain_fraction);
        candidates.extend(both(&dot));
        candidates.extend(both(&comma));
    }
    candidates.into_iter().find_map(|(column_type, separators)| {
        let format = format_of(separators);
        let compiled = ColumnFormat::new(&format);
        if count_misfits(values, column_type, &compiled, allowed) > allowed {
            return None;
        }
        let column_type = match column_type {
            ANY_DECIMAL => decimal_holding(values, &compiled)?,
            other => other,
        };
        Some((column_type, format, false))
    })
}

fn guess_date(values: &[&str], allowed: usize, context: &InferenceContext, column_type: ColumnType) -> Guess {
    // The infinities are dates only beside dates: a column of the word alone is text.
    if values.iter().all(|value| infinity_sign(value).is_some()) {
        return None;
    }
    let mut formats: Vec<String> = Vec::new();
    for date in DATE_FORMATS {
        if column_type == ColumnType::Timestamp {
            formats.extend(TIME_FORMATS.iter().map(|time| format!("{date}{time}")));
        } else {
            formats.push(date.to_string());
        }
    }
    if column_type == ColumnType::Timestamp {
        // The ISO parser also reads bare dates among timestamps.
        formats.insert(0, "%Y-%m-%d %H:%M:%S".to_string());
    }
    let fitting: Vec<String> = formats
        .into_iter()
        .filter(|format| {
            let compiled = ColumnFormat::new(&ValueFormat {
                format: Some(format.clone()),
                ..ValueFormat::default()
            });
            count_misfits(values, column_type, &compiled, allowed) <= allowed
        })
        .collect();
    let first = fitting.first()?;
    let orders: Vec<Option<bool>> = fitting.iter().map(|format| day_first(format)).collect();
    let ambiguous = orders.contains(&Some(true)) && orders.contains(&Some(false));
    let chosen = if ambiguous {
        fitting
            .iter()
            .find(|format| day_first(format) == Some(context.day_first))
            .unwrap_or(first)
    } else {
        first
    };
    let format = ValueFormat {
        format: (chosen != "%Y-%m-%d" && chosen != "%Y-%m-%d %H:%M:%S").then(|| chosen.clone()),
        ..ValueFormat::default()
    };
    Some((column_type, format, ambiguous))
}

/// Whether `value` reads as the guessed type in the guessed format.
pub fn fits_guess(value: &str, guess: &ColumnGuess) -> bool {
    fits(value.trim(), guess.column_type, &ColumnFormat::new(&guess.format))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guess(values: &[&str]) -> ColumnGuess {
        guess_column(
            values.iter().copied(),
            &InferenceContext {
                day_first: true,
                ..InferenceContext::default()
            },
        )
    }

    /// Found by the export round trips: `999999999999999.999` as a DOUBLE reads back as 1e15.
    #[test]
    fn fractions_a_double_would_round_are_a_decimal_that_holds_them() {
        let money = guess(&["0.15", "-999999999999999.999", "12.5"]);
        assert_eq!(
            money.column_type,
            ColumnType::Decimal {
                precision: 18,
                scale: 3
            }
        );
        let semicolon = InferenceContext {
            decimal_comma_first: true,
            ..InferenceContext::default()
        };
        let euros = guess_column(["1.234.567.890.123.456,78", "0,5"], &semicolon);
        assert_eq!(
            (euros.column_type, euros.format.decimal_separator),
            (
                ColumnType::Decimal {
                    precision: 18,
                    scale: 2
                },
                Some(',')
            )
        );
        // What a DOUBLE keeps stays DOUBLE; long whole numbers stay identifiers (text), and a
        // fraction past 38 digits is text.
        assert_eq!(
            guess(&["0.1", "1.7976931348623157e308"]).column_type,
            ColumnType::Double
        );
        assert_eq!(
            guess(&["12345678901234567890123", "1"]).column_type,
            ColumnType::Varchar
        );
        let too_long = format!("0.{}", "1".repeat(40));
        assert_eq!(guess(&[too_long.as_str(), "1.5"]).column_type, ColumnType::Varchar);
    }

    #[test]
    fn a_column_of_ticks_and_empty_fields_is_boolean_and_a_column_of_only_ticks_is_not() {
        let ticks = guess(&["x", "", "X", "", "x"]);
        assert_eq!(ticks.column_type, ColumnType::Boolean);
        assert_eq!(ticks.format.checkmark.as_deref(), Some("x"));
        let format = ColumnFormat::new(&ticks.format);
        assert_eq!(format.parse_bool("X"), Some(true));
        assert_eq!(format.parse_bool("yes"), None);
        // Without an empty field nothing says the mark is a tick rather than a letter.
        assert_eq!(guess(&["x", "x", "x"]).column_type, ColumnType::Varchar);
        assert_eq!(guess(&["x", "", "y"]).column_type, ColumnType::Varchar);
        let yes_no = guess(&["Y", "N", "y", ""]);
        assert_eq!(
            (yes_no.column_type, yes_no.format.checkmark),
            (ColumnType::Boolean, None)
        );
    }

    #[test]
    fn local_dates_and_numbers_are_typed() {
        let dates = guess(&["15.03.2024", "01.12.2023", "31.01.2020"]);
        assert_eq!(dates.column_type, ColumnType::Date);
        assert_eq!(dates.format.format.as_deref(), Some("%d.%m.%Y"));
        assert!(!dates.ambiguous_date_order);
        let amounts = guess(&["68,527.00", "1,234.50", "12.00"]);
        assert_eq!(amounts.column_type, ColumnType::Double);
        assert_eq!(amounts.format.thousands, Some(','));
        let euros = guess_column(
            ["1.234,56", "0,5", "12"],
            &InferenceContext {
                decimal_comma_first: true,
                ..InferenceContext::default()
            },
        );
        assert_eq!(euros.column_type, ColumnType::Double);
        assert_eq!(euros.format.decimal_separator, Some(','));
        let stamps = guess(&["2024-03-15 10:30", "2024-03-16T11:00"]);
        assert_eq!(stamps.column_type, ColumnType::Timestamp);
    }

    #[test]
    fn day_and_month_order_is_settled_by_days_above_twelve_or_by_the_setting() {
        let settled = guess(&["02/01/2019", "12/25/2019"]);
        assert_eq!(settled.format.format.as_deref(), Some("%m/%d/%Y"));
        assert!(!settled.ambiguous_date_order);
        let open = guess(&["02/01/2019", "03/04/2019"]);
        assert_eq!(open.format.format.as_deref(), Some("%d/%m/%Y"));
        assert!(open.ambiguous_date_order);
        let month_first = guess_column(["02/01/2019", "03/04/2019"], &InferenceContext::default());
        assert_eq!(month_first.format.format.as_deref(), Some("%m/%d/%Y"));
    }

    #[test]
    fn null_markers_do_not_turn_a_numeric_column_into_text() {
        let guessed = guess(&["1", "NA", "3", "n/a", "-"]);
        assert_eq!(guessed.column_type, ColumnType::BigInt);
        assert_eq!(guessed.format.null_markers(), ["NA", "n/a", "-"]);
        assert_eq!(guessed.misfits, 0);
        let text = guess(&["NA", "x"]);
        assert_eq!(text.column_type, ColumnType::Varchar);
    }

    #[test]
    fn one_bad_value_in_thousands_is_a_misfit_not_a_text_column() {
        let mut values: Vec<String> = (0..2000).map(|n| n.to_string()).collect();
        values[700] = "unknown".into();
        let guessed = guess(&values.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(guessed.column_type, ColumnType::BigInt);
        assert_eq!(
            (guessed.misfits, guessed.examples.clone()),
            (1, vec!["unknown".to_string()])
        );
        // Few values: all must fit.
        assert_eq!(guess(&["1", "2", "x"]).column_type, ColumnType::Varchar);
    }

    #[test]
    fn zoned_timestamps_and_times_of_day_get_their_own_types() {
        assert_eq!(
            guess(&["2024-03-15T10:30:00Z", "2024-03-15 12:00:00+02:00"]).column_type,
            ColumnType::TimestampTz
        );
        assert_eq!(guess(&["10:30", "23:59:59.5", "00:00"]).column_type, ColumnType::Time);
    }

    #[test]
    fn timestamps_with_one_digit_hours_or_a_12_hour_clock_are_timestamps() {
        let one_digit = guess(&["2017-02-11 9:00:00", "2017-02-12 11:30:00", "2017-02-13 0:00:00"]);
        assert_eq!((one_digit.column_type, one_digit.misfits), (ColumnType::Timestamp, 0));
        let without_seconds = guess(&["2017-02-11 9:00", "2017-02-12 11:30"]);
        assert_eq!(without_seconds.column_type, ColumnType::Timestamp);
        let twelve_hour = guess(&["2/11/2017 10:00 AM", "12/25/2017 11:30 PM", "1/1/2018 12:15 AM"]);
        assert_eq!(
            (twelve_hour.column_type, twelve_hour.misfits),
            (ColumnType::Timestamp, 0)
        );
        assert_eq!(
            super::ColumnFormat::new(&twelve_hour.format).parse_timestamp("12/25/2017 11:30 PM"),
            crate::import::sniff::types::parse_timestamp("2017-12-25 23:30:00")
        );
    }

    #[test]
    fn a_perfect_fit_wins_over_a_tolerated_one() {
        let mut values: Vec<String> = (0..2000).map(|n| n.to_string()).collect();
        values[5] = "2.5".into();
        let guessed = guess(&values.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!((guessed.column_type, guessed.misfits), (ColumnType::Double, 0));
    }

    #[test]
    fn a_point_groups_thousands_only_when_the_column_proves_it() {
        let semicolon_file = InferenceContext {
            decimal_comma_first: true,
            ..InferenceContext::default()
        };
        // One point and three digits: a decimal point, even in a `;` file.
        let decimals = guess_column(["75.775", "-293.393", "12.500", "800"], &semicolon_file);
        assert_eq!(decimals.column_type, ColumnType::Double);
        assert_eq!(
            (decimals.format.thousands, decimals.format.decimal_separator),
            (None, None)
        );
        let format = ColumnFormat::new(&decimals.format);
        let mut out = String::new();
        assert_eq!(format.normalize_number("75.775", &mut out), Some("75.775"));
        // Two points in one value, a decimal comma after one, or a decimal comma in another
        // value prove the grouping.
        for proof in ["1.234.567", "1.234,5", "5,5"] {
            let grouped = guess_column(["1.234", "12.500", "800", proof], &semicolon_file);
            assert_eq!(grouped.format.thousands, Some('.'), "{proof}");
            assert_eq!(grouped.format.decimal_separator, Some(','), "{proof}");
        }
        // So do counts under a thousand written plainly beside grouped ones (a statistics
        // release's `379;1.613;65`), though not one plain count beside them.
        let counts = guess_column(["379", "1.613", "65", "2.590", "4", ""], &semicolon_file);
        assert_eq!(
            (counts.column_type, counts.format.thousands),
            (ColumnType::BigInt, Some('.'))
        );
        let mixed = guess_column(["379", "1.613", "65", "4", "12.5"], &semicolon_file);
        assert_eq!(mixed.column_type, ColumnType::Double);
        // In a `,` file the same magnitudes prove nothing: `75.775` beside counts is a decimal.
        let comma_file = guess_column(["379", "75.775", "65", "4", "12"], &InferenceContext::default());
        assert_eq!(
            (comma_file.column_type, comma_file.format.thousands),
            (ColumnType::Double, None)
        );
        // So does a decimal comma the person states.
        let stated = guess_column(
            ["1.234", "12.500", "800"],
            &InferenceContext {
                decimal_comma_first: true,
                decimal_comma_stated: true,
                ..InferenceContext::default()
            },
        );
        assert_eq!(
            (stated.column_type, stated.format.thousands),
            (ColumnType::BigInt, Some('.'))
        );
    }

    #[test]
    fn a_comma_before_three_digits_is_a_decimal_comma_only_when_the_column_proves_it() {
        // Counts grouped by spaces and, in one row, by a comma: no reading fits every value, and
        // a decimal comma would make 566,216 inhabitants 566.216.
        let guess = guess(&["208", "-48", "-1 414", "566,216", "12", "7", "23"]);
        assert!(
            guess.column_type == ColumnType::Varchar || guess.format.decimal_separator.is_none(),
            "{guess:?}"
        );
        let guess = super::guess_column(["5,5", "1 234,125", "566,216"], &InferenceContext::default());
        assert_eq!(
            (guess.column_type, guess.format.decimal_separator),
            (ColumnType::Double, Some(','))
        );
        // Two points prove a point grouping, and so a decimal comma (csvkit's test_locale.csv).
        let guess = super::guess_column(["200.000.000"], &InferenceContext::default());
        assert_eq!(
            (guess.column_type, guess.format.thousands),
            (ColumnType::BigInt, Some('.'))
        );
        for proof in ["0,125", "1234,567", "1.234,567", "2,25"] {
            assert!(super::proves_decimal_comma(&[proof]), "{proof}");
        }
        for no_proof in ["566,216", "1,130,345", "-1 414", "12"] {
            assert!(!super::proves_decimal_comma(&[no_proof]), "{no_proof}");
        }
    }

    #[test]
    fn nan_is_a_floating_point_value_and_missing_words_are_null_markers() {
        let with_nan = guess(&["1.5", "NaN", "2", "nan"]);
        assert_eq!((with_nan.column_type, with_nan.misfits), (ColumnType::Double, 0));
        assert_eq!(guess(&["NaN", "nan"]).column_type, ColumnType::Varchar);
        let missing = guess(&["3", "missing", "5", "None", "."]);
        assert_eq!((missing.column_type, missing.misfits), (ColumnType::BigInt, 0));
        assert_eq!(missing.format.null_markers(), ["missing", "None", "."]);
        // A column of marks alone: missing values when there are a few, text when one or two.
        assert_eq!(guess(&[".", ".", "."]).format.null_markers(), ["."]);
        assert!(guess(&["None"]).format.null_markers().is_empty());
    }

    #[test]
    fn asterisks_in_a_number_column_are_missing_values() {
        // NASA's temperature table: `****` for a month not yet measured, `*****` for a season.
        let anomalies = guess(&["-43", "****", "12", "*****", "-1"]);
        assert_eq!((anomalies.column_type, anomalies.misfits), (ColumnType::BigInt, 0));
        assert_eq!(anomalies.format.null_markers(), ["****", "*****"]);
        // Among words, an asterisk is text like the rest.
        assert_eq!(guess(&["a", "*", "b"]).column_type, ColumnType::Varchar);
    }

    #[test]
    fn a_currency_sign_is_dropped_and_said() {
        let prices = guess(&["$74.69", "$5", "$1,200.00"]);
        assert_eq!(prices.column_type, ColumnType::Double);
        assert_eq!(prices.format.currency, Some('$'));
        assert!(
            prices.format.describe().contains("currency sign '$' dropped"),
            "{}",
            prices.format.describe()
        );
        let euros = guess(&["74.69 €", "5 €"]);
        assert_eq!(
            (euros.column_type, euros.format.currency),
            (ColumnType::Double, Some('€'))
        );
        assert_eq!(guess(&["74.69", "5"]).format.currency, None);
    }

    #[test]
    fn two_digit_years_are_read_as_such() {
        let guessed = guess(&["15.03.24", "01.12.23"]);
        assert_eq!(guessed.column_type, ColumnType::Date);
        assert_eq!(guessed.format.format.as_deref(), Some("%d.%m.%y"));
    }

    #[test]
    fn identifiers_that_look_numeric_stay_text() {
        assert_eq!(guess(&["007", "123"]).column_type, ColumnType::Varchar);
        assert_eq!(guess(&["12345678901234567890123"]).column_type, ColumnType::Varchar);
        assert_eq!(guess(&["1", "2"]).format, ValueFormat::default());
    }
}
