//! What a column's numbers prove about how they are written: a decimal comma or a point that
//! groups thousands (`1.234.567`), digit groups of three, a currency sign, and the DECIMAL that
//! holds every digit a DOUBLE would round. Each is proved by the values themselves, never assumed
//! from one: `1.234` alone could be either.

use crate::import::sniff::types::ColumnType;
use crate::import::sniff::value_formats::{CURRENCY, ColumnFormat};

/// The most digits a DECIMAL holds.
pub(in crate::import) const MAX_DECIMAL_DIGITS: u8 = 38;

/// The whole and fraction digits of a plain decimal (`-0012.340` has 2 and 3 after trimming the
/// zeros that hold no value), or `None` for anything else (an exponent, a float word).
pub(in crate::import) fn decimal_digits(number: &str) -> Option<(usize, usize)> {
    let unsigned = number.strip_prefix(['-', '+']).unwrap_or(number);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !(digits(whole) || digits(fraction))
        || !(whole.is_empty() || digits(whole))
        || !(fraction.is_empty() || digits(fraction))
    {
        return None;
    }
    Some((whole.trim_start_matches('0').len(), fraction.len()))
}

/// The narrowest DECIMAL that holds every value exactly; `None` past 38 digits.
pub(in crate::import) fn decimal_holding(values: &[&str], format: &ColumnFormat) -> Option<ColumnType> {
    let (mut whole, mut scale) = (0usize, 0usize);
    let mut buffer = String::new();
    for value in values {
        let number = if format.reads_plain_numbers() {
            *value
        } else {
            match format.normalize_number(value, &mut buffer) {
                Some(number) => number,
                None => continue,
            }
        };
        if let Some((value_whole, value_scale)) = decimal_digits(number) {
            whole = whole.max(value_whole);
            scale = scale.max(value_scale);
        }
    }
    // Whole numbers are BIGINT's, or text beyond it: a DECIMAL is for fractions a DOUBLE rounds.
    let precision = u8::try_from((whole + scale).max(1)).ok()?;
    (scale > 0 && precision <= MAX_DECIMAL_DIGITS).then_some(ColumnType::Decimal {
        precision,
        scale: scale as u8,
    })
}

/// Whether some value shows that a point groups thousands: two points in one number
/// (`1.234.567`), a point before a decimal comma (`1.234,5`), or a decimal comma elsewhere in
/// the column (`5,5`: a comma not followed by three digits, in a number without a point). One
/// point with three digits after it proves nothing.
pub(in crate::import) fn proves_point_grouping(values: &[&str]) -> bool {
    values.iter().any(|value| {
        let number = value.trim_matches(|c: char| !c.is_ascii_digit());
        if !number.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',') {
            return false;
        }
        let points = number.matches('.').count();
        let comma_after_point = number.find('.').is_some_and(|at| number[at..].contains(','));
        let decimal_comma = points == 0
            && number.matches(',').count() == 1
            && number.rsplit(',').next().is_some_and(|fraction| fraction.len() != 3);
        points >= 2 || comma_after_point || decimal_comma
    })
}

/// Whether some value shows that a comma is a decimal one: a single comma with other than three
/// digits after it (`5,5`, `0,1234`), after a point (`1.234,567`), or after what no grouping
/// starts with (`0,125`, `1234,567`). `566,216` proves nothing.
pub(in crate::import) fn proves_decimal_comma(values: &[&str]) -> bool {
    values.iter().any(|value| {
        let number = value.trim_matches(|c: char| !c.is_ascii_digit());
        if !number.bytes().all(|b| b.is_ascii_digit() || b"., '".contains(&b)) {
            return false;
        }
        let Some((whole, fraction)) = number.split_once(',') else {
            return false;
        };
        let lead_group = whole.rsplit([' ', '.', '\'']).next().unwrap_or_default();
        !fraction.contains(',')
            && (fraction.len() != 3
                || whole.contains('.')
                || lead_group.len() > 3
                || (whole.len() == lead_group.len() && whole.starts_with('0')))
    })
}

/// Plain whole numbers written alongside grouped-looking ones.
const MIN_PLAIN_BESIDE_GROUPED: usize = 3;

/// Whether the column's magnitudes show that a point groups thousands: whole numbers under
/// 1,000 written plainly (`379`, `65`) and every other number a run of three-digit groups
/// (`1.613`). Read as decimals, such a column would mix counts with numbers that all had
/// exactly three decimals, and a writer of decimals writes `379.000` or trims `12.500` to `12.5`.
pub(in crate::import) fn groups_by_magnitude(values: &[&str]) -> bool {
    let mut plain = 0;
    let mut grouped = 0;
    for value in values {
        let value = value.trim();
        let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
        if !digits.bytes().any(|b| b.is_ascii_digit()) {
            continue;
        }
        if digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit()) {
            plain += 1;
            continue;
        }
        let mut groups = digits.split('.');
        let lead = groups.next().unwrap_or_default();
        let lead_fits =
            (1..=3).contains(&lead.len()) && !lead.starts_with('0') && lead.bytes().all(|b| b.is_ascii_digit());
        let mut rest = groups.peekable();
        let rest_fits =
            rest.peek().is_some() && rest.all(|group| group.len() == 3 && group.bytes().all(|b| b.is_ascii_digit()));
        if !(lead_fits && rest_fits) {
            return false;
        }
        grouped += 1;
    }
    grouped > 0 && plain >= MIN_PLAIN_BESIDE_GROUPED
}

/// The currency sign the amounts are written with, when most carry one: the format then says
/// that it is dropped.
pub(in crate::import) fn currency_sign(values: &[&str]) -> Option<char> {
    let mut counts = [0usize; CURRENCY.len()];
    for value in values {
        if let Some(index) = CURRENCY.iter().position(|sign| value.contains(*sign)) {
            counts[index] += 1;
        }
    }
    let (index, count) = counts.iter().enumerate().max_by_key(|(_, count)| **count)?;
    (*count > 0).then_some(CURRENCY[index])
}
