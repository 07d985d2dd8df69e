//! DuckDB's text of whole numbers, decimals, booleans, dates and timestamps, written by the CSV
//! writer from typed values, byte for byte what `CAST(x AS VARCHAR)` gives.
//!
//! A CSV export's rows stream from DuckDB on one thread, the export's critical path. Casting
//! every number and date to text there took about a sixth of a 5M-row export, and copying the
//! strings it made into Arrow about as much again, while the writer's thread sat two thirds
//! idle. So the columns of these types are selected typed and written here, on the writer's
//! thread. Tests hold the text equal to DuckDB's own over each type's edges and random values.
//! Floating point (whose shortest text DuckDB and Rust spell differently), times, intervals,
//! time zones and the other types stay DuckDB's to write.

use std::sync::Arc;

use duckdb::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Decimal128Array, PrimitiveArray, StringBuilder,
    TimestampMicrosecondArray,
};
use duckdb::arrow::datatypes::{
    DataType, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use duckdb::arrow::error::ArrowError;

use super::date_text::{CivilDays, DATE_INFINITY, MICROS_PER_DAY, TIMESTAMP_INFINITY, civil_from_days};
use crate::sql_type::SqlType;

/// A column type whose text the writer writes as DuckDB's cast to VARCHAR does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CastText {
    /// TINYINT to BIGINT and their unsigned kin.
    Integer,
    Boolean,
    Decimal {
        precision: u8,
        scale: u8,
    },
    Date,
    /// A TIMESTAMP of microseconds, without time zone.
    Timestamp,
}

impl CastText {
    /// The writer's text for `sql_type`, or `None` when DuckDB is to cast it.
    pub fn for_type(sql_type: SqlType) -> Option<Self> {
        match sql_type {
            SqlType::TinyInt
            | SqlType::SmallInt
            | SqlType::Integer
            | SqlType::BigInt
            | SqlType::UTinyInt
            | SqlType::USmallInt
            | SqlType::UInteger
            | SqlType::UBigInt => Some(Self::Integer),
            SqlType::Boolean => Some(Self::Boolean),
            SqlType::Decimal { precision, scale } => Some(Self::Decimal { precision, scale }),
            SqlType::Date => Some(Self::Date),
            SqlType::Timestamp => Some(Self::Timestamp),
            _ => None,
        }
    }

    /// Whether `byte` can be part of this type's text, with `point` as the decimal point: the
    /// writer puts a field in quotes without looking at it when none of the bytes that call
    /// for quotes can be.
    pub fn may_write(&self, byte: u8, point: u8) -> bool {
        let allowed: &[u8] = match self {
            Self::Integer => b"-",
            Self::Boolean => b"truefals",
            Self::Decimal { .. } => return byte.is_ascii_digit() || byte == b'-' || byte == point,
            Self::Date | Self::Timestamp => b"-:. ()BCinfty",
        };
        byte.is_ascii_digit() || allowed.contains(&byte)
    }

    /// `array` read as this type, or an error when it is not the type DuckDB streams for it:
    /// never a guess at its text.
    pub fn column<'a>(&self, array: &'a ArrayRef, point: u8) -> Result<CastColumn<'a>, ArrowError> {
        let values = match (self, array.data_type()) {
            (Self::Integer, DataType::Int8) => Values::Int8(array.as_primitive()),
            (Self::Integer, DataType::Int16) => Values::Int16(array.as_primitive()),
            (Self::Integer, DataType::Int32) => Values::Int32(array.as_primitive()),
            (Self::Integer, DataType::Int64) => Values::Int64(array.as_primitive()),
            (Self::Integer, DataType::UInt8) => Values::UInt8(array.as_primitive()),
            (Self::Integer, DataType::UInt16) => Values::UInt16(array.as_primitive()),
            (Self::Integer, DataType::UInt32) => Values::UInt32(array.as_primitive()),
            (Self::Integer, DataType::UInt64) => Values::UInt64(array.as_primitive()),
            (Self::Boolean, DataType::Boolean) => Values::Boolean(array.as_boolean()),
            (&Self::Decimal { precision, scale }, DataType::Decimal128(_, arrow_scale))
                if i16::from(scale) == i16::from(*arrow_scale) =>
            {
                Values::Decimal {
                    values: array.as_primitive(),
                    precision,
                    scale,
                    point,
                }
            }
            (Self::Date, DataType::Date32) => Values::Date(array.as_primitive()),
            (Self::Timestamp, DataType::Timestamp(TimeUnit::Microsecond, None)) => Values::Timestamp {
                values: array.as_primitive(),
                days: CivilDays::default(),
            },
            (_, other) => {
                return Err(ArrowError::InvalidArgumentError(format!(
                    "the export expected {self:?} values, and DuckDB gave {other}"
                )));
            }
        };
        Ok(CastColumn {
            array,
            values,
            digits: itoa::Buffer::new(),
        })
    }

    /// `array` as a column of DuckDB's text of its values; NULL stays NULL.
    pub fn format_array(&self, array: &ArrayRef) -> Result<ArrayRef, ArrowError> {
        let mut column = self.column(array, b'.')?;
        let mut builder = StringBuilder::with_capacity(array.len(), array.len() * 12);
        let mut text = Vec::with_capacity(48);
        for row in 0..array.len() {
            if array.is_null(row) {
                builder.append_null();
                continue;
            }
            text.clear();
            column.write(row, &mut text);
            let text = std::str::from_utf8(&text).map_err(|error| ArrowError::ExternalError(Box::new(error)))?;
            builder.append_value(text);
        }
        Ok(Arc::new(builder.finish()))
    }
}

/// One batch's column of a [`CastText`] type, written a value at a time straight into the
/// CSV text.
pub struct CastColumn<'a> {
    /// The column as it came, for its NULLs.
    array: &'a ArrayRef,
    values: Values<'a>,
    digits: itoa::Buffer,
}

enum Values<'a> {
    Int8(&'a PrimitiveArray<Int8Type>),
    Int16(&'a PrimitiveArray<Int16Type>),
    Int32(&'a PrimitiveArray<Int32Type>),
    Int64(&'a PrimitiveArray<Int64Type>),
    UInt8(&'a PrimitiveArray<UInt8Type>),
    UInt16(&'a PrimitiveArray<UInt16Type>),
    UInt32(&'a PrimitiveArray<UInt32Type>),
    UInt64(&'a PrimitiveArray<UInt64Type>),
    Boolean(&'a BooleanArray),
    Decimal {
        values: &'a Decimal128Array,
        precision: u8,
        scale: u8,
        point: u8,
    },
    Date(&'a Date32Array),
    Timestamp {
        values: &'a TimestampMicrosecondArray,
        days: CivilDays,
    },
}

impl CastColumn<'_> {
    pub fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row)
    }

    /// Appends the text of the value at `row`, which is not NULL.
    pub fn write(&mut self, row: usize, out: &mut Vec<u8>) {
        let digits = &mut self.digits;
        match &mut self.values {
            Values::Int8(values) => out.extend_from_slice(digits.format(values.value(row)).as_bytes()),
            Values::Int16(values) => out.extend_from_slice(digits.format(values.value(row)).as_bytes()),
            Values::Int32(values) => out.extend_from_slice(digits.format(values.value(row)).as_bytes()),
            Values::Int64(values) => out.extend_from_slice(digits.format(values.value(row)).as_bytes()),
            Values::UInt8(values) => out.extend_from_slice(digits.format(values.value(row)).as_bytes()),
            Values::UInt16(values) => out.extend_from_slice(digits.format(values.value(row)).as_bytes()),
            Values::UInt32(values) => out.extend_from_slice(digits.format(values.value(row)).as_bytes()),
            Values::UInt64(values) => out.extend_from_slice(digits.format(values.value(row)).as_bytes()),
            Values::Boolean(values) => out.extend_from_slice(if values.value(row) { b"true" } else { b"false" }),
            Values::Decimal {
                values,
                precision,
                scale,
                point,
            } => write_decimal(out, digits, values.value(row), *precision, *scale, *point),
            Values::Date(values) => match values.value(row) {
                DATE_INFINITY => out.extend_from_slice(b"infinity"),
                days if days == -DATE_INFINITY => out.extend_from_slice(b"-infinity"),
                days => write_date(out, civil_from_days(i64::from(days))),
            },
            Values::Timestamp { values, days } => match values.value(row) {
                TIMESTAMP_INFINITY => out.extend_from_slice(b"infinity"),
                micros if micros == -TIMESTAMP_INFINITY => out.extend_from_slice(b"-infinity"),
                micros => {
                    let civil = days.date(micros.div_euclid(MICROS_PER_DAY));
                    write_date(out, civil);
                    out.push(b' ');
                    write_time(out, micros.rem_euclid(MICROS_PER_DAY));
                }
            },
        }
    }
}

/// DuckDB's text of a DECIMAL(precision, scale) stored as `value`: the sign, the whole part
/// (left out altogether when the type has no digits before the point, so `.50` and `-.05`),
/// the point and exactly `scale` digits.
fn write_decimal(out: &mut Vec<u8>, digits: &mut itoa::Buffer, value: i128, precision: u8, scale: u8, point: u8) {
    if scale == 0 {
        out.extend_from_slice(digits.format(value).as_bytes());
        return;
    }
    if value < 0 {
        out.push(b'-');
    }
    let magnitude = value.unsigned_abs();
    let parts = DecimalParts {
        with_whole: precision > scale,
        point,
        scale,
    };
    // Most decimals fit 64 bits, whose division and digits are many times cheaper than 128 bits'.
    match (u64::try_from(magnitude), 10u64.checked_pow(u32::from(scale))) {
        (Ok(magnitude), Some(divisor)) => parts.write(out, digits, magnitude / divisor, magnitude % divisor),
        _ => {
            let divisor = 10u128.pow(u32::from(scale));
            parts.write(out, digits, magnitude / divisor, magnitude % divisor);
        }
    }
}

/// How a decimal's digits are laid out after its sign.
struct DecimalParts {
    /// Whether the type has digits before the point.
    with_whole: bool,
    point: u8,
    scale: u8,
}

impl DecimalParts {
    /// The whole part (when the type has one), the point and the fraction in `scale` digits.
    fn write<T: itoa::Integer>(&self, out: &mut Vec<u8>, digits: &mut itoa::Buffer, whole: T, fraction: T) {
        if self.with_whole {
            out.extend_from_slice(digits.format(whole).as_bytes());
        }
        out.push(self.point);
        let fraction = digits.format(fraction);
        out.resize(out.len() + usize::from(self.scale).saturating_sub(fraction.len()), b'0');
        out.extend_from_slice(fraction.as_bytes());
    }
}

/// `2024-01-02`; a year before 1 as DuckDB writes it, counted back from 1 with ` (BC)` after
/// the day: year 0 is `0001-01-01 (BC)`.
fn write_date(out: &mut Vec<u8>, (year, month, day): (i64, i64, i64)) {
    let before_christ = year <= 0;
    let year = if before_christ { 1 - year } else { year };
    if (0..10_000).contains(&year) {
        two_digits(out, year / 100);
        two_digits(out, year % 100);
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(year).as_bytes());
    }
    out.push(b'-');
    two_digits(out, month);
    out.push(b'-');
    two_digits(out, day);
    if before_christ {
        out.extend_from_slice(b" (BC)");
    }
}

/// `03:04:05`, and the fraction of the second with its trailing zeros dropped: `.12`, `.000001`.
fn write_time(out: &mut Vec<u8>, micros_of_day: i64) {
    let seconds_of_day = micros_of_day / 1_000_000;
    two_digits(out, seconds_of_day / 3600);
    out.push(b':');
    two_digits(out, seconds_of_day / 60 % 60);
    out.push(b':');
    two_digits(out, seconds_of_day % 60);
    let mut fraction = micros_of_day % 1_000_000;
    if fraction == 0 {
        return;
    }
    let mut width = 6;
    while fraction % 10 == 0 {
        fraction /= 10;
        width -= 1;
    }
    out.push(b'.');
    let mut digits = itoa::Buffer::new();
    let fraction = digits.format(fraction);
    out.resize(out.len() + width - fraction.len(), b'0');
    out.extend_from_slice(fraction.as_bytes());
}

/// `value`, below 100, in two digits.
fn two_digits(out: &mut Vec<u8>, value: i64) {
    let value = value.clamp(0, 99) as u8;
    out.push(b'0' + value / 10);
    out.push(b'0' + value % 10);
}

#[cfg(test)]
mod tests {
    use duckdb::Connection;
    use proptest::prelude::*;

    use super::*;

    /// Runs `SELECT value, CAST(value AS VARCHAR)` for each SQL expression in `values`, read
    /// through DuckDB's Arrow stream as an export reads it, and checks the writer's text of the
    /// first column against DuckDB's in the second.
    fn assert_written_as_duckdb_casts(conn: &Connection, type_name: &str, values: &[String]) {
        let rows: Vec<String> = values.iter().map(|value| format!("({value})")).collect();
        let sql = format!(
            "SELECT CAST(v AS {type_name}) AS v, CAST(CAST(v AS {type_name}) AS VARCHAR) AS text \
             FROM (VALUES {}) t(v)",
            rows.join(", ")
        );
        let sql_type = SqlType::from_catalog(type_name);
        let cast_text = CastText::for_type(sql_type).unwrap();
        let mut statement = conn.prepare(&sql).unwrap();
        let mut seen = 0;
        for batch in statement.stream_arrow([]).unwrap() {
            let batch = batch.unwrap();
            let written = cast_text.format_array(batch.column(0)).unwrap();
            let written = written.as_string::<i32>();
            let expected = batch.column(1).as_string::<i32>();
            for row in 0..batch.num_rows() {
                assert_eq!(written.is_null(row), expected.is_null(row), "{type_name} row {row}");
                if !expected.is_null(row) {
                    assert_eq!(
                        written.value(row),
                        expected.value(row),
                        "{type_name}: {}",
                        values[seen + row]
                    );
                }
            }
            seen += batch.num_rows();
        }
        assert_eq!(seen, values.len());
    }

    fn texts(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    #[test]
    fn whole_numbers_at_their_limits_and_nulls() {
        let conn = Connection::open_in_memory().unwrap();
        for (type_name, min, max) in [
            ("TINYINT", "-128", "127"),
            ("SMALLINT", "-32768", "32767"),
            ("INTEGER", "-2147483648", "2147483647"),
            ("BIGINT", "-9223372036854775808", "9223372036854775807"),
            ("UTINYINT", "0", "255"),
            ("USMALLINT", "0", "65535"),
            ("UINTEGER", "0", "4294967295"),
            ("UBIGINT", "0", "18446744073709551615"),
        ] {
            let values = texts(&[min, max, "0", "1", "10", "NULL", "9", "100"]);
            assert_written_as_duckdb_casts(&conn, type_name, &values);
        }
    }

    #[test]
    fn booleans() {
        let conn = Connection::open_in_memory().unwrap();
        assert_written_as_duckdb_casts(&conn, "BOOLEAN", &texts(&["true", "false", "NULL"]));
    }

    #[test]
    fn decimals_of_every_width_with_and_without_a_whole_part() {
        let conn = Connection::open_in_memory().unwrap();
        for (precision, scale) in [
            (4, 4),
            (5, 4),
            (12, 2),
            (18, 0),
            (18, 3),
            (18, 18),
            (19, 2),
            (38, 10),
            (38, 38),
        ] {
            let type_name = format!("DECIMAL({precision},{scale})");
            let whole_digits = precision - scale;
            let largest = format!(
                "{}{}{}",
                if whole_digits > 0 {
                    "9".repeat(whole_digits)
                } else {
                    "0".into()
                },
                if scale > 0 { "." } else { "" },
                "9".repeat(scale)
            );
            // All as text, so that VALUES does not unify them into a number type of its own.
            let mut values = texts(&["'0'", "NULL", "'-0'"]);
            values.push(format!("'{largest}'"));
            values.push(format!("'-{largest}'"));
            if scale > 0 {
                values.push(format!("'0.{}1'", "0".repeat(scale - 1)));
                values.push(format!("'-0.{}1'", "0".repeat(scale - 1)));
            }
            if whole_digits > 0 {
                values.extend(texts(&["'1'", "'-1'", "'-0.5'"]));
            }
            assert_written_as_duckdb_casts(&conn, &type_name, &values);
        }
    }

    #[test]
    fn dates_and_timestamps_at_the_edges_of_the_calendar() {
        let conn = Connection::open_in_memory().unwrap();
        let dates = texts(&[
            "DATE '1970-01-01'",
            "DATE '1969-12-31'",
            "DATE '2000-02-29'",
            "DATE '0001-01-01'",
            "DATE '0001-12-31 (BC)'",
            "DATE '0044-03-15 (BC)'",
            "DATE '9999-12-31'",
            "DATE '12345-06-07'",
            "DATE '5881580-07-10'",
            "DATE '5877642-06-25 (BC)'",
            "'infinity'",
            "'-infinity'",
            "NULL",
        ]);
        assert_written_as_duckdb_casts(&conn, "DATE", &dates);
        let timestamps = texts(&[
            "TIMESTAMP '2024-01-02 03:04:05.120'",
            "TIMESTAMP '2024-01-02 03:04:05.000001'",
            "TIMESTAMP '2024-01-02 23:59:59.999999'",
            "TIMESTAMP '2024-01-02 00:00:00'",
            "TIMESTAMP '1969-12-31 23:59:59.5'",
            "TIMESTAMP '0044-03-15 (BC) 10:00:00.5'",
            "TIMESTAMP '294247-01-10 04:00:54.775806'",
            "TIMESTAMP '290309-12-22 (BC) 00:00:00'",
            "'infinity'",
            "'-infinity'",
            "NULL",
        ]);
        assert_written_as_duckdb_casts(&conn, "TIMESTAMP", &timestamps);
    }

    #[test]
    fn a_type_duckdb_does_not_stream_for_the_column_is_refused() {
        let array: ArrayRef = Arc::new(duckdb::arrow::array::Float64Array::from(vec![1.5]));
        assert!(CastText::Integer.format_array(&array).is_err());
        assert_eq!(CastText::for_type(SqlType::Double), None);
        assert_eq!(CastText::for_type(SqlType::TimestampTz), None);
        assert_eq!(CastText::for_type(SqlType::HugeInt), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn random_values_are_written_as_duckdb_casts_them(
            integers in proptest::collection::vec(any::<i64>(), 1..40),
            decimal_units in proptest::collection::vec(-999_999_999_999_999_999i64..=999_999_999_999_999_999, 1..40),
            scale in 0u8..=18,
            days in proptest::collection::vec(-3_000_000i32..3_000_000, 1..40),
            micros in proptest::collection::vec(-9_000_000_000_000_000i64..9_000_000_000_000_000, 1..40),
        ) {
            let conn = Connection::open_in_memory().unwrap();
            let values: Vec<String> = integers.iter().map(|value| format!("{value}::BIGINT")).collect();
            assert_written_as_duckdb_casts(&conn, "BIGINT", &values);
            // Each value as a literal with every digit, so DuckDB stores it exactly.
            let values: Vec<String> = decimal_units
                .iter()
                .map(|units| format!("'{}'", decimal_literal(*units, scale)))
                .collect();
            assert_written_as_duckdb_casts(&conn, &format!("DECIMAL(18,{scale})"), &values);
            let values: Vec<String> = days.iter().map(|day| format!("DATE '1970-01-01' + {day}")).collect();
            assert_written_as_duckdb_casts(&conn, "DATE", &values);
            let values: Vec<String> = micros.iter().map(|micros| format!("make_timestamp({micros}::BIGINT)")).collect();
            assert_written_as_duckdb_casts(&conn, "TIMESTAMP", &values);
        }
    }

    /// `units` divided by 10^scale, as a literal with every digit.
    fn decimal_literal(units: i64, scale: u8) -> String {
        let digits = units.unsigned_abs().to_string();
        let scale = usize::from(scale);
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        let sign = if units < 0 { "-" } else { "" };
        if scale == 0 {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}.{fraction}")
        }
    }
}
