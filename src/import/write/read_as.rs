//! The "read as" fix rule's conversion: a value written in another format than its column's (a
//! date as `31.12.2024` where the column reads `2024-12-31`, `1.234,5` where it reads `1234.5`,
//! a null marker) is read in the format the person stated and written again in the one the
//! column reads, so the import's own checks then take it. A value the stated format does not
//! read is left as it was, and fails as before.

use chrono::{DateTime, NaiveDate};

use crate::import::sniff::types::ColumnType;
use crate::import::sniff::value_formats::{ColumnFormat, ValueFormat};

/// Where a read value goes: the column's type and the format it reads.
#[derive(Clone, Debug)]
pub struct ReadInto {
    pub column_type: ColumnType,
    pub format: ValueFormat,
}

/// `value` read in `stated` and written as `into` reads it; `Some("")` (NULL) for one of the
/// stated null markers; `None` when `stated` does not read it.
pub fn read_as(value: &str, stated: &ColumnFormat, into: &ReadInto) -> Option<String> {
    let trimmed = value.trim();
    if stated.is_null_marker(trimmed) {
        return Some(String::new());
    }
    match into.column_type {
        ColumnType::Date => {
            let days = stated.parse_date(trimmed)?;
            let date = NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(days.into()))?;
            let format = into.format.format.as_deref().unwrap_or("%Y-%m-%d");
            Some(date.format(format).to_string())
        }
        ColumnType::Timestamp => {
            let micros = stated.parse_timestamp(trimmed)?;
            let moment = DateTime::from_timestamp_micros(micros)?.naive_utc();
            let format = into.format.format.as_deref().unwrap_or("%Y-%m-%d %H:%M:%S%.f");
            Some(moment.format(format).to_string())
        }
        ColumnType::Integer | ColumnType::BigInt | ColumnType::Double | ColumnType::Decimal { .. } => {
            let mut plain = String::new();
            let number = stated.normalize_number(trimmed, &mut plain)?;
            Some(match into.format.decimal_separator {
                Some(separator) if separator != '.' => number.replace('.', &separator.to_string()),
                _ => number.to_string(),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stated(format: ValueFormat) -> ColumnFormat {
        ColumnFormat::new(&format)
    }

    fn into(column_type: ColumnType, format: ValueFormat) -> ReadInto {
        ReadInto { column_type, format }
    }

    #[test]
    fn a_dotted_date_is_written_as_the_column_reads_dates() {
        let dotted = stated(ValueFormat {
            format: Some("%d.%m.%Y".into()),
            ..ValueFormat::default()
        });
        assert_eq!(
            read_as("31.12.2024", &dotted, &into(ColumnType::Date, ValueFormat::default())).as_deref(),
            Some("2024-12-31")
        );
        let slashed = ValueFormat {
            format: Some("%m/%d/%Y".into()),
            ..ValueFormat::default()
        };
        assert_eq!(
            read_as(" 01.02.2024 ", &dotted, &into(ColumnType::Date, slashed)).as_deref(),
            Some("02/01/2024")
        );
        assert_eq!(
            read_as("2024-12-31", &dotted, &into(ColumnType::Date, ValueFormat::default())),
            None
        );
    }

    #[test]
    fn numbers_of_every_sign_and_length_lose_their_separators_and_keep_their_digits() {
        let european = stated(ValueFormat {
            decimal_separator: Some(','),
            thousands: Some('.'),
            ..ValueFormat::default()
        });
        let plain = into(ColumnType::Double, ValueFormat::default());
        for (written, read) in [
            ("1.234,5", "1234.5"),
            ("-75,775", "-75.775"),
            ("75.775", "75775"),
            ("0,001", "0.001"),
            ("12.345.678,90", "12345678.90"),
            ("+3", "3"),
        ] {
            assert_eq!(read_as(written, &european, &plain).as_deref(), Some(read), "{written}");
        }
        // Thousands in groups of three only: `1.23` is no number in this format.
        assert_eq!(read_as("1.23", &european, &plain), None);
        let comma_column = into(
            ColumnType::Decimal {
                precision: 10,
                scale: 3,
            },
            ValueFormat {
                decimal_separator: Some(','),
                ..ValueFormat::default()
            },
        );
        let dotted = stated(ValueFormat::default());
        assert_eq!(read_as("-75.775", &dotted, &comma_column).as_deref(), Some("-75,775"));
    }

    #[test]
    fn a_stated_null_marker_becomes_an_empty_field() {
        let marked = stated(ValueFormat::with_null_markers(vec!["n/a".into()]));
        let column = into(ColumnType::Integer, ValueFormat::default());
        assert_eq!(read_as(" n/a ", &marked, &column).as_deref(), Some(""));
        assert_eq!(read_as("N/A", &marked, &column), None);
    }
}
