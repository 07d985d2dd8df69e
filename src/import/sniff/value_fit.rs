//! Whether a value reads as a column's type in the column's format: what the type guess counts
//! misfits with, and what the header and table-end guesses ask of a record's values.

use crate::import::sniff::number_evidence::{MAX_DECIMAL_DIGITS, decimal_digits};
use crate::import::sniff::types::{
    ColumnType, double_keeps_digits, parse_f64, parse_i64, parse_time, parse_timestamp_tz,
};
use crate::import::sniff::value_formats::{ColumnFormat, is_float_word};

/// A DECIMAL candidate: the numbers a DOUBLE would round (`999999999999999.999`) fit one exactly,
/// with the precision and scale the values need (see `number_evidence::decimal_holding`).
pub(super) const ANY_DECIMAL: ColumnType = ColumnType::Decimal {
    precision: MAX_DECIMAL_DIGITS,
    scale: 0,
};

/// Misfits of `values` as `column_type`, counting no further than one past `allowed`.
pub(super) fn count_misfits(values: &[&str], column_type: ColumnType, format: &ColumnFormat, allowed: usize) -> usize {
    let mut misfits = 0;
    for value in values {
        if !fits(value, column_type, format) {
            misfits += 1;
            if misfits > allowed {
                break;
            }
        }
    }
    misfits
}

/// Whether `value` reads as `column_type` in `format`, by the same rules inference has always
/// kept: a number with a leading zero (`007`) or too many digits for BIGINT is an identifier.
pub(super) fn fits(value: &str, column_type: ColumnType, format: &ColumnFormat) -> bool {
    match column_type {
        ColumnType::BigInt | ColumnType::Integer | ColumnType::Double | ColumnType::Decimal { .. } => {
            let mut buffer = String::new();
            let number = if format.reads_plain_numbers() {
                value
            } else {
                match format.normalize_number(value, &mut buffer) {
                    Some(number) => number,
                    None => return false,
                }
            };
            let digits = number.strip_prefix(['-', '+']).unwrap_or(number);
            let leading_zero = digits.len() > 1 && digits.starts_with('0') && digits.as_bytes()[1].is_ascii_digit();
            if leading_zero {
                return false;
            }
            if let ColumnType::Decimal { precision, scale } = column_type {
                // An identifier of digits too long for BIGINT stays text here too.
                let all_digits = digits.bytes().all(|b| b.is_ascii_digit());
                return !(all_digits && parse_i64(number).is_none())
                    && decimal_digits(number).is_some_and(|(whole, fraction)| {
                        whole + fraction <= usize::from(MAX_DECIMAL_DIGITS)
                            && (column_type == ANY_DECIMAL
                                || (whole <= usize::from(precision - scale.min(precision))
                                    && fraction <= usize::from(scale)))
                    });
            }
            if column_type == ColumnType::Double {
                if is_float_word(digits) {
                    return true;
                }
                let all_digits = digits.bytes().all(|b| b.is_ascii_digit());
                number.bytes().any(|b| b.is_ascii_digit())
                    && !(all_digits && parse_i64(number).is_none())
                    && parse_f64(number).is_some()
                    && double_keeps_digits(number)
            } else {
                parse_i64(number).is_some()
            }
        }
        ColumnType::Date => format.parse_date(value).is_some(),
        ColumnType::Timestamp => format.parse_timestamp(value).is_some(),
        ColumnType::TimestampTz => parse_timestamp_tz(value).is_some(),
        ColumnType::Time => parse_time(value).is_some(),
        ColumnType::Boolean => match format.checkmark() {
            Some(mark) => value.eq_ignore_ascii_case(mark),
            None => ["true", "false", "t", "f", "yes", "no", "y", "n"]
                .iter()
                .any(|form| form.eq_ignore_ascii_case(value)),
        },
        ColumnType::Varchar => true,
    }
}
