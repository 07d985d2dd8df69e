//! Column types of the user's tables, as Sluice needs them to build SQL.
//!
//! A filter value or a page start has to be cast to its column's type, and a type name cannot be
//! bound as a parameter. The catalog's own spelling of a type is not safe to splice: an ENUM is
//! written `ENUM('a', 'b')`, a user-defined type can be named anything, quotes included. So the
//! catalog's text is only ever *parsed* into [`SqlType`], and the SQL is rendered from the enum.
//! A type Sluice does not know (ENUM, LIST, STRUCT, MAP, a user type) becomes [`SqlType::Other`],
//! whose values are compared as text, which needs no type name at all.

use std::fmt;

/// DuckDB's infinite DATE (days since 1970-01-01) and TIMESTAMP (microseconds), which it
/// writes as `infinity`; their negatives are `-infinity`.
pub const DATE_INFINITY: i32 = i32::MAX;
/// DuckDB's infinite TIMESTAMP (microseconds since 1970-01-01 00:00:00).
pub const TIMESTAMP_INFINITY: i64 = i64::MAX;

/// A DuckDB column type, parsed from the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// `BOOLEAN`: true or false.
    Boolean,
    /// `TINYINT`: a signed 8-bit integer.
    TinyInt,
    /// `SMALLINT`: a signed 16-bit integer.
    SmallInt,
    /// `INTEGER`: a signed 32-bit integer.
    Integer,
    /// `BIGINT`: a signed 64-bit integer.
    BigInt,
    /// `HUGEINT`: a signed 128-bit integer.
    HugeInt,
    /// `UTINYINT`: an unsigned 8-bit integer.
    UTinyInt,
    /// `USMALLINT`: an unsigned 16-bit integer.
    USmallInt,
    /// `UINTEGER`: an unsigned 32-bit integer.
    UInteger,
    /// `UBIGINT`: an unsigned 64-bit integer.
    UBigInt,
    /// `UHUGEINT`: an unsigned 128-bit integer.
    UHugeInt,
    /// `FLOAT`: a single-precision floating-point number.
    Float,
    /// `DOUBLE`: a double-precision floating-point number.
    Double,
    /// `DECIMAL(precision, scale)`: a fixed-point number.
    Decimal {
        /// Digits in all.
        precision: u8,
        /// Digits after the decimal point.
        scale: u8,
    },
    /// `VARCHAR`: text.
    Varchar,
    /// `DATE`: a calendar day.
    Date,
    /// `TIME`: a time of day.
    Time,
    /// `TIMESTAMP`: a date and time, to the microsecond.
    Timestamp,
    /// `TIMESTAMP WITH TIME ZONE`: an instant, shown in the session's time zone.
    TimestampTz,
    /// `TIMESTAMP_S`: a date and time, to the second.
    TimestampSeconds,
    /// `TIMESTAMP_MS`: a date and time, to the millisecond.
    TimestampMillis,
    /// `TIMESTAMP_NS`: a date and time, to the nanosecond.
    TimestampNanos,
    /// `INTERVAL`: a span of months, days and microseconds.
    Interval,
    /// `UUID`: a universally unique identifier.
    Uuid,
    /// `BLOB`: bytes.
    Blob,
    /// Any other type (ENUM, LIST, STRUCT, MAP, UNION, a user-defined type): its values are
    /// filtered and sorted by their text.
    Other,
}

impl SqlType {
    /// Parses a type as `duckdb_columns()` or `information_schema` spell it.
    pub fn from_catalog(name: &str) -> Self {
        let upper = name.trim().to_ascii_uppercase();
        match upper.as_str() {
            "BOOLEAN" | "BOOL" | "LOGICAL" => Self::Boolean,
            "TINYINT" | "INT1" => Self::TinyInt,
            "SMALLINT" | "INT2" => Self::SmallInt,
            "INTEGER" | "INT" | "INT4" | "SIGNED" => Self::Integer,
            "BIGINT" | "INT8" | "LONG" => Self::BigInt,
            "HUGEINT" | "INT128" => Self::HugeInt,
            "UTINYINT" => Self::UTinyInt,
            "USMALLINT" => Self::USmallInt,
            "UINTEGER" => Self::UInteger,
            "UBIGINT" => Self::UBigInt,
            "UHUGEINT" => Self::UHugeInt,
            "FLOAT" | "REAL" | "FLOAT4" => Self::Float,
            "DOUBLE" | "FLOAT8" | "DOUBLE PRECISION" => Self::Double,
            "VARCHAR" | "TEXT" | "STRING" | "CHAR" | "BPCHAR" => Self::Varchar,
            "DATE" => Self::Date,
            "TIME" | "TIME WITHOUT TIME ZONE" => Self::Time,
            "TIMESTAMP" | "DATETIME" | "TIMESTAMP_US" | "TIMESTAMP WITHOUT TIME ZONE" => Self::Timestamp,
            "TIMESTAMP WITH TIME ZONE" | "TIMESTAMPTZ" => Self::TimestampTz,
            "TIMESTAMP_S" => Self::TimestampSeconds,
            "TIMESTAMP_MS" => Self::TimestampMillis,
            "TIMESTAMP_NS" => Self::TimestampNanos,
            "INTERVAL" => Self::Interval,
            "UUID" => Self::Uuid,
            // DuckDB's width for a DECIMAL given none.
            "DECIMAL" | "NUMERIC" => Self::Decimal {
                precision: 18,
                scale: 3,
            },
            "BLOB" | "BYTEA" => Self::Blob,
            _ => parse_decimal(&upper).unwrap_or(Self::Other),
        }
    }

    /// Bytes a value takes in DuckDB's vectors, before compression: a string's or a blob's
    /// 16-byte header (longer text lives in blocks of its own), and as much for a nested or
    /// user-defined type, whose size Sluice does not know.
    pub fn stored_width(&self) -> u64 {
        match self {
            Self::Boolean | Self::TinyInt | Self::UTinyInt => 1,
            Self::SmallInt | Self::USmallInt => 2,
            Self::Integer | Self::UInteger | Self::Float | Self::Date => 4,
            Self::BigInt
            | Self::UBigInt
            | Self::Double
            | Self::Time
            | Self::Timestamp
            | Self::TimestampTz
            | Self::TimestampSeconds
            | Self::TimestampMillis
            | Self::TimestampNanos => 8,
            Self::Decimal { precision, .. } => match precision {
                0..=4 => 2,
                5..=9 => 4,
                10..=18 => 8,
                _ => 16,
            },
            Self::HugeInt | Self::UHugeInt | Self::Interval | Self::Uuid | Self::Varchar | Self::Blob | Self::Other => {
                16
            }
        }
    }

    /// The type's name for a CAST, rendered from the enum; `None` for [`SqlType::Other`].
    pub fn sql_name(&self) -> Option<String> {
        let name = match self {
            Self::Boolean => "BOOLEAN",
            Self::TinyInt => "TINYINT",
            Self::SmallInt => "SMALLINT",
            Self::Integer => "INTEGER",
            Self::BigInt => "BIGINT",
            Self::HugeInt => "HUGEINT",
            Self::UTinyInt => "UTINYINT",
            Self::USmallInt => "USMALLINT",
            Self::UInteger => "UINTEGER",
            Self::UBigInt => "UBIGINT",
            Self::UHugeInt => "UHUGEINT",
            Self::Float => "FLOAT",
            Self::Double => "DOUBLE",
            Self::Decimal { precision, scale } => return Some(format!("DECIMAL({precision},{scale})")),
            Self::Varchar => "VARCHAR",
            Self::Date => "DATE",
            Self::Time => "TIME",
            Self::Timestamp => "TIMESTAMP",
            Self::TimestampTz => "TIMESTAMP WITH TIME ZONE",
            Self::TimestampSeconds => "TIMESTAMP_S",
            Self::TimestampMillis => "TIMESTAMP_MS",
            Self::TimestampNanos => "TIMESTAMP_NS",
            Self::Interval => "INTERVAL",
            Self::Uuid => "UUID",
            Self::Blob => "BLOB",
            Self::Other => return None,
        };
        Some(name.to_string())
    }

    /// Whether this type's text can have a decimal point: the types a decimal comma changes.
    pub fn has_decimal_point(&self) -> bool {
        matches!(self, Self::Float | Self::Double | Self::Decimal { .. })
    }

    /// Whether values of this type are numbers, compared and filtered as numbers.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Self::TinyInt
                | Self::SmallInt
                | Self::Integer
                | Self::BigInt
                | Self::HugeInt
                | Self::UTinyInt
                | Self::USmallInt
                | Self::UInteger
                | Self::UBigInt
                | Self::UHugeInt
                | Self::Float
                | Self::Double
                | Self::Decimal { .. }
        )
    }

    /// Whether values of this type are compared and filtered as text.
    pub fn is_text(&self) -> bool {
        matches!(self, Self::Varchar | Self::Other)
    }

    /// Whether a column of this catalog type holds text a spreadsheet could run as a formula:
    /// VARCHAR and ENUMs. Other types Sluice cannot name (a BIGNUM, a list) may well start with
    /// `-` without being text, so the formula guard leaves them alone.
    pub fn holds_free_text(catalog_name: &str) -> bool {
        Self::from_catalog(catalog_name) == Self::Varchar
            || catalog_name.trim_start().to_ascii_uppercase().starts_with("ENUM")
    }

    /// SQL for a column of this type as the value filters and sorts compare: the column itself,
    /// or its text for a type without a name Sluice can write.
    pub fn comparable(&self, quoted_column: &str) -> String {
        match self {
            Self::Other => format!("CAST({quoted_column} AS VARCHAR)"),
            _ => quoted_column.to_string(),
        }
    }

    /// SQL for a bound text parameter converted to this type (`?` alone for text comparisons).
    pub fn parameter(&self) -> String {
        match self {
            Self::Varchar | Self::Other => "?".to_string(),
            known => format!("CAST(? AS {})", known.sql_name().unwrap_or_else(|| "VARCHAR".into())),
        }
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sql_name() {
            Some(name) => f.write_str(&name),
            None => f.write_str("text-compared type"),
        }
    }
}

/// `DECIMAL(p,s)`, `NUMERIC(p,s)` or `DECIMAL(p)` (scale 0) with numbers DuckDB accepts.
fn parse_decimal(upper: &str) -> Option<SqlType> {
    let inner = upper
        .strip_prefix("DECIMAL")
        .or_else(|| upper.strip_prefix("NUMERIC"))?
        .trim()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let (precision, scale) = match inner.split_once(',') {
        Some((precision, scale)) => (precision.trim().parse().ok()?, scale.trim().parse().ok()?),
        None => (inner.trim().parse().ok()?, 0),
    };
    ((1..=38).contains(&precision) && scale <= precision).then_some(SqlType::Decimal { precision, scale })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types_render_from_the_enum() {
        assert_eq!(SqlType::from_catalog("BIGINT"), SqlType::BigInt);
        assert_eq!(
            SqlType::from_catalog("decimal(18, 3)").sql_name().as_deref(),
            Some("DECIMAL(18,3)")
        );
        assert_eq!(
            SqlType::from_catalog("TIMESTAMP WITH TIME ZONE").parameter(),
            "CAST(? AS TIMESTAMP WITH TIME ZONE)"
        );
        assert_eq!(SqlType::from_catalog("VARCHAR").parameter(), "?");
    }

    #[test]
    fn the_formula_guard_is_for_text_and_enums_only() {
        assert!(SqlType::holds_free_text("VARCHAR"));
        assert!(SqlType::holds_free_text("ENUM('a', 'b')"));
        assert!(!SqlType::holds_free_text("BIGINT"));
        assert!(!SqlType::holds_free_text("BIGNUM"));
        assert!(!SqlType::holds_free_text("INTEGER[]"));
    }

    #[test]
    fn enums_user_types_and_hostile_names_never_reach_sql() {
        for name in [
            "ENUM('a', 'b')",
            "mood",
            "x) AS VARCHAR); DROP TABLE t; --",
            "\"quoted\"\"type\"",
            "DECIMAL(99,1)",
            "DECIMAL(5,1); DROP TABLE t",
            "INTEGER[]",
            "STRUCT(a INTEGER)",
        ] {
            let parsed = SqlType::from_catalog(name);
            assert_eq!(parsed, SqlType::Other, "{name}");
            assert_eq!(parsed.parameter(), "?");
            assert_eq!(parsed.comparable("\"c\""), "CAST(\"c\" AS VARCHAR)");
        }
    }
}
