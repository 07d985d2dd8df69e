//! Converting one field to a typed cell by its column's plan: read as the column's type in its
//! written format (a decimal comma, a date order, null markers), then judged by the column's
//! rules (pattern, range, length, allowed values). The import, the retry and the window's
//! preview all convert fields here, so a value passes or fails for the same reason in each.

use crate::import::plan::import_plan::{ColumnPlan, FieldSource};
use crate::import::sniff::types::{
    ColumnType, parse_decimal, parse_f64, parse_i32, parse_i64, parse_time, parse_timestamp_tz, trimmed,
};
use crate::records::{Problem, ProblemKind};

/// A converted value. Text is not copied here: it is read from the record when appended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Decimal(i128),
    Text,
    Date(i32),
    Timestamp(i64),
    /// Microseconds since midnight.
    Time(i64),
}

/// Converts one unquoted field to its column's type and applies the column's rules; an empty
/// field is NULL.
pub fn convert(column: &ColumnPlan, raw: &str) -> Result<Cell, Problem> {
    convert_field(column, raw, false)
}

/// Converts one field. `quoted_text` says a text column's field was written in quotes: `""` is
/// then an empty string, which the rules judge like any other value (except `required`, for
/// which an empty string is as missing as no value), and `"NA"` the text NA, not a missing value.
pub(in crate::import) fn convert_field(column: &ColumnPlan, raw: &str, quoted_text: bool) -> Result<Cell, Problem> {
    let rules = &column.rules;
    let problem = |kind, message: String| Problem {
        field_index: column.field_index(),
        column: Some(column.name.clone()),
        kind,
        message,
    };
    let text = if column.column_type == ColumnType::Varchar {
        raw
    } else {
        trimmed(raw)
    };
    // A null marker (`NA`, `n/a`...) of the column is as empty as an empty field.
    let text = if !quoted_text && column.format.has_null_markers() && column.format.is_null_marker(trimmed(text)) {
        ""
    } else {
        text
    };
    // In a checkbox column an empty field is an unticked box.
    if text.is_empty() && column.column_type == ColumnType::Boolean && column.format.checkmark().is_some() {
        return Ok(Cell::Bool(false));
    }
    if text.is_empty() && (rules.required || rules.key || !quoted_text) {
        return if rules.key {
            Err(problem(
                ProblemKind::Required,
                "the key is empty, so the row cannot be matched with a stored one".into(),
            ))
        } else if rules.required {
            Err(problem(
                ProblemKind::Required,
                "a value is required but the field is empty".into(),
            ))
        } else {
            Ok(Cell::Null)
        };
    }
    let cell = parse_cell(column, text).ok_or_else(|| {
        problem(
            ProblemKind::InvalidValue,
            format!(
                "{} is not a valid {} ({})",
                quoted(text),
                column.column_type,
                expected_form(column)
            ),
        )
    })?;
    check_rules(column, text, cell).map_err(|(kind, message)| problem(kind, message))?;
    Ok(cell)
}

/// Checks a value that parsed as `cell` against the column's rules: its pattern, range, length
/// and allowed values. Returns the first rule it breaks, as a problem's kind and message.
pub(in crate::import) fn check_rules(column: &ColumnPlan, text: &str, cell: Cell) -> Result<(), (ProblemKind, String)> {
    let rules = &column.rules;
    if let Some(pattern) = &rules.pattern
        && !pattern.is_match(text)
    {
        let shown = pattern.as_str();
        let shown = shown
            .strip_prefix("^(?:")
            .and_then(|p| p.strip_suffix(")$"))
            .unwrap_or(shown);
        return Err((
            ProblemKind::Pattern,
            format!("{} does not match the pattern {shown}", quoted(text)),
        ));
    }
    if let Some(number) = numeric_value(cell, column.column_type) {
        if let Some(min) = rules.min
            && number < min
        {
            return Err((ProblemKind::OutOfRange, format!("{text} is below the minimum {min}")));
        }
        if let Some(max) = rules.max
            && number > max
        {
            return Err((ProblemKind::OutOfRange, format!("{text} is above the maximum {max}")));
        }
    }
    let length = if rules.min_length.is_some() || rules.max_length.is_some() {
        text.chars().count()
    } else {
        0
    };
    if let Some(min_length) = rules.min_length
        && length < min_length
    {
        return Err((
            ProblemKind::Length,
            format!(
                "{} is {length} character{} long; at least {min_length} are required",
                quoted(text),
                plural(length)
            ),
        ));
    }
    if let Some(max_length) = rules.max_length
        && length > max_length
    {
        return Err((
            ProblemKind::Length,
            format!(
                "{} is {length} characters long; at most {max_length} are allowed",
                quoted(text)
            ),
        ));
    }
    if let Some(allowed) = &rules.one_of
        && !allowed.iter().any(|value| value == text)
    {
        let mut listed: Vec<&str> = allowed.iter().take(10).map(String::as_str).collect();
        if allowed.len() > 10 {
            listed.push("...");
        }
        return Err((
            ProblemKind::NotAllowed,
            format!(
                "{} is not one of the allowed values: {}",
                quoted(text),
                listed.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Reads `text` as the column's type in the column's format. Numbers in a local format are
/// rewritten the plain way first; a plain column reads them as they are.
pub(in crate::import) fn parse_cell(column: &ColumnPlan, text: &str) -> Option<Cell> {
    let format = &column.format;
    Some(match column.column_type {
        ColumnType::Boolean => Cell::Bool(format.parse_bool(text)?),
        ColumnType::Integer | ColumnType::BigInt | ColumnType::Double | ColumnType::Decimal { .. }
            if !format.reads_plain_numbers() =>
        {
            // Runs per cell of a column in a local number format: one buffer per thread, not
            // one String per cell.
            thread_local! {
                static NORMALIZED: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
            }
            return NORMALIZED.with_borrow_mut(|normalized| {
                let plain = format.normalize_number(text, normalized)?;
                parse_plain_number(column.column_type, plain)
            });
        }
        ColumnType::Integer | ColumnType::BigInt | ColumnType::Double | ColumnType::Decimal { .. } => {
            return parse_plain_number(column.column_type, text);
        }
        ColumnType::Varchar => Cell::Text,
        ColumnType::Date => Cell::Date(format.parse_date(text)?),
        ColumnType::Timestamp => Cell::Timestamp(format.parse_timestamp(text)?),
        ColumnType::TimestampTz => Cell::Timestamp(parse_timestamp_tz(text)?),
        ColumnType::Time => Cell::Time(parse_time(text)?),
    })
}

pub(in crate::import) fn parse_plain_number(column_type: ColumnType, text: &str) -> Option<Cell> {
    Some(match column_type {
        ColumnType::Integer => Cell::Int(i64::from(parse_i32(text)?)),
        ColumnType::Decimal { precision, scale } => Cell::Decimal(parse_decimal(text, precision, scale)?),
        ColumnType::Double => Cell::Float(parse_f64(text)?),
        _ => Cell::Int(parse_i64(text)?),
    })
}

pub(in crate::import) fn numeric_value(cell: Cell, column_type: ColumnType) -> Option<f64> {
    match (cell, column_type) {
        (Cell::Int(value), _) => Some(value as f64),
        (Cell::Float(value), _) => Some(value),
        (Cell::Decimal(value), ColumnType::Decimal { scale, .. }) => Some(value as f64 / 10f64.powi(i32::from(scale))),
        _ => None,
    }
}

pub(in crate::import) fn expected_form(column: &ColumnPlan) -> String {
    let written = column.format.value_format();
    if let Some(format) = &written.format
        && matches!(column.column_type, ColumnType::Date | ColumnType::Timestamp)
    {
        return format!("expected the form {format}");
    }
    if column.column_type.is_numeric() && (written.decimal_separator.is_some() || written.thousands.is_some()) {
        let decimal = written.decimal_separator.unwrap_or('.');
        return match written.thousands {
            Some(thousands) => format!("expected a number such as 1{thousands}234{decimal}5"),
            None => format!("expected a number such as 1234{decimal}5"),
        };
    }
    if let Some(mark) = written
        .checkmark
        .as_deref()
        .filter(|_| column.column_type == ColumnType::Boolean)
    {
        return format!("expected '{mark}' for true or an empty field for false");
    }
    match column.column_type {
        ColumnType::Boolean => "expected true/false, yes/no, y/n, t/f or 1/0".into(),
        ColumnType::Integer => "expected a whole number between -2147483648 and 2147483647".into(),
        ColumnType::BigInt => "expected a whole number".into(),
        ColumnType::Double => "expected a number such as 3.14 or -2e5".into(),
        ColumnType::Decimal { precision, scale } => format!(
            "expected a plain number with at most {} digits before the point",
            precision - scale
        ),
        ColumnType::Varchar => "any text".into(),
        ColumnType::Date => "expected YYYY-MM-DD".into(),
        ColumnType::Timestamp => "expected YYYY-MM-DD HH:MM:SS[.ffffff]".into(),
        ColumnType::TimestampTz => "expected YYYY-MM-DD HH:MM:SS with Z or an offset such as +02:00".into(),
        ColumnType::Time => "expected HH:MM or HH:MM:SS[.ffffff]".into(),
    }
}

/// A column described by a spec, ready to check preview cells: its rules and format compiled
/// once, so a preview of many rows and columns does not compile them per cell.
#[derive(Debug)]
pub struct PreviewColumn {
    column: Option<ColumnPlan>,
}

impl PreviewColumn {
    /// Compiles `spec`'s rules and format. A pattern still being typed may not compile yet: the
    /// preview then checks everything else.
    pub fn new(spec: &crate::import::plan::schema::ColumnSpec) -> Self {
        let mut without_pattern = spec.clone();
        let rules = crate::import::plan::import_plan::Rules::from_spec(spec)
            .or_else(|_| {
                without_pattern.pattern = None;
                crate::import::plan::import_plan::Rules::from_spec(&without_pattern)
            })
            .ok();
        let column = rules.map(|rules| ColumnPlan {
            name: spec.name.clone(),
            column_type: spec.column_type,
            source: FieldSource::Field(0),
            rules,
            format: crate::import::sniff::value_formats::ColumnFormat::new(&spec.value_format(None)),
        });
        Self { column }
    }

    /// The problem `text` would have in this column. Rules that need the whole file (`unique`)
    /// are not checked here.
    pub fn problem(&self, text: &str) -> Option<Problem> {
        convert(self.column.as_ref()?, text).err()
    }
}

/// Shows a value in a message, cut to a readable length.
pub(crate) fn quoted(text: &str) -> String {
    const LIMIT: usize = 60;
    if text.chars().count() > LIMIT {
        let cut: String = text.chars().take(LIMIT).collect();
        format!("'{cut}...'")
    } else {
        format!("'{text}'")
    }
}

pub(in crate::import) fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
