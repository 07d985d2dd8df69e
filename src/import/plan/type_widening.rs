//! The one type a column gets when several files of an import hold it with different types:
//! the narrowest that holds every file's values, exact numbers kept exact while they fit.

use crate::import::plan::import_plan::position_ignoring_case;
use crate::import::sniff::types::ColumnType;

/// One type per name (first spelling kept), wide enough for every file's values of it; `None`
/// when no file had a value.
pub(super) fn unify(columns: impl Iterator<Item = (String, Option<ColumnType>)>) -> Vec<(String, Option<ColumnType>)> {
    let mut unified: Vec<(String, Option<ColumnType>)> = Vec::new();
    for (name, column_type) in columns {
        match position_ignoring_case(unified.iter().map(|(name, _)| name), &name) {
            Some(index) => {
                unified[index].1 = match (unified[index].1, column_type) {
                    (Some(a), Some(b)) => Some(widen(a, b)),
                    (a, b) => a.or(b),
                }
            }
            None => unified.push((name, column_type)),
        }
    }
    unified
}

/// Most digits a DECIMAL holds.
const MAX_DECIMAL_DIGITS: u8 = 38;
/// Digits a BIGINT's values can have.
const BIGINT_DIGITS: u8 = 19;
/// Significant digits a DOUBLE always keeps.
const DOUBLE_DIGITS: u8 = 15;

/// The narrowest type that holds values of both `a` and `b`: exact decimals stay exact while
/// they fit in a DECIMAL, text when nothing else holds both.
pub fn widen(a: ColumnType, b: ColumnType) -> ColumnType {
    use ColumnType::*;
    // Whole digits and scale of an exact number type.
    let exact = |column_type: ColumnType| match column_type {
        Integer | BigInt => Some((BIGINT_DIGITS, 0)),
        Decimal { precision, scale } => Some((precision - scale, scale)),
        _ => None,
    };
    match (a, b) {
        _ if a == b => a,
        (Integer | BigInt, Integer | BigInt) => BigInt,
        (Integer | BigInt | Decimal { .. }, Integer | BigInt | Decimal { .. }) => {
            let ((whole_a, scale_a), (whole_b, scale_b)) = (exact(a).unwrap_or_default(), exact(b).unwrap_or_default());
            let scale = scale_a.max(scale_b);
            let precision = whole_a.max(whole_b) + scale;
            if precision <= MAX_DECIMAL_DIGITS {
                Decimal { precision, scale }
            } else {
                Varchar
            }
        }
        // A DOUBLE keeps 15 digits: a DECIMAL with more (chosen because a DOUBLE would round
        // them) stays exact as text.
        (Decimal { precision, .. }, Double) | (Double, Decimal { precision, .. }) if precision > DOUBLE_DIGITS => {
            Varchar
        }
        (Integer | BigInt | Double | Decimal { .. }, Integer | BigInt | Double | Decimal { .. }) => Double,
        (Date | Timestamp, Date | Timestamp) => Timestamp,
        _ => Varchar,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType::*;

    #[test]
    fn widening_keeps_numbers_numeric_and_falls_back_to_text() {
        assert_eq!(widen(Integer, BigInt), BigInt);
        let decimal = |precision, scale| Decimal { precision, scale };
        assert_eq!(widen(BigInt, decimal(10, 2)), decimal(21, 2), "money stays exact");
        assert_eq!(widen(decimal(12, 2), decimal(8, 4)), decimal(14, 4));
        assert_eq!(widen(decimal(38, 10), BigInt), decimal(38, 10));
        assert_eq!(widen(decimal(38, 20), BigInt), Varchar, "past 38 digits, exact as text");
        assert_eq!(widen(Double, decimal(10, 2)), Double);
        assert_eq!(widen(Double, decimal(18, 3)), Varchar, "a DOUBLE would round 18 digits");
        assert_eq!(widen(Date, Timestamp), Timestamp);
        assert_eq!(widen(Date, BigInt), Varchar);
        assert_eq!(widen(Boolean, Boolean), Boolean);
    }
}
