//! The export's SELECT: the table and columns resolved by [`crate::query`], the filters, and the
//! order.

use std::sync::Arc;

use duckdb::Connection;
use duckdb::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use duckdb::arrow::compute::cast;
use duckdb::arrow::datatypes::DataType;
use duckdb::arrow::error::ArrowError;

use super::cast_text::CastText;
use super::date_text::DateText;
use super::shape::{CsvShape, ShapeError};
use super::{ExportError, ExportFormat, ExportRequest};
use crate::query::{BoundFilters, Column, bind_filters, resolve_table};
use crate::sql::quote_ident;
use crate::sql_type::SqlType;

/// The name the exported table goes by in the export's SELECT.
const SOURCE_ALIAS: &str = "sluice_source";

/// The statement an export runs, its row count, and what its columns are.
#[derive(Clone, Debug)]
pub struct ExportQuery {
    /// The table as the catalog spells it.
    pub table: String,
    /// Selected columns, in output order.
    pub columns: Vec<Column>,
    /// `SELECT` of the selected columns for the CSV file's text: cast to text by DuckDB, or
    /// typed for the writer to write ([`ExportQuery::written_text`]); with filters and order.
    /// Either way the values read as DuckDB writes them. Its parameters are
    /// [`ExportQuery::text_params`].
    pub select_text_sql: String,
    /// The same rows with their own types, for DuckDB's Parquet writer.
    pub select_typed_sql: String,
    /// `SELECT count(*)` of the rows the export writes; its parameters are [`ExportQuery::params`].
    pub count_sql: String,
    /// `FROM ... WHERE ...` (with the filters' parameters, [`ExportQuery::params`]) and
    /// ` ORDER BY ...`, for writers that choose their own projection.
    pub from_sql: String,
    /// The request's ` ORDER BY ...`, or empty when the rows are not sorted.
    pub order_sql: String,
    /// The filters' parameters: those of every statement but the text one.
    pub params: Vec<String>,
    /// The date formats bound in the text projection, before the filters' parameters.
    select_params: Vec<String>,
    /// Per selected column, how the writer writes it when the SELECT gives it typed.
    pub written_text: Vec<Option<WrittenText>>,
    /// Per selected column, whether its text is written with a decimal comma: DuckDB's text of
    /// the number has its `.` turned into `,` (see [`ExportQuery::text_columns`]).
    pub decimal_comma: Vec<bool>,
}

impl ExportQuery {
    /// The parameters of [`ExportQuery::select_text_sql`], in order.
    pub fn text_params(&self) -> Vec<String> {
        self.select_params.iter().chain(&self.params).cloned().collect()
    }

    /// A batch of [`ExportQuery::select_text_sql`] as the text the file holds: DuckDB's text, or
    /// the writer's for the columns it writes, with the decimal comma.
    pub fn text_columns(&self, batch: &RecordBatch) -> Result<Vec<ArrayRef>, ArrowError> {
        (0..batch.num_columns())
            .map(|index| self.column_text(index, batch.column(index)))
            .collect()
    }

    /// Column `index` of a batch of [`ExportQuery::select_text_sql`] as the file's text.
    pub fn column_text(&self, index: usize, column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
        let text = match self.written_text.get(index) {
            Some(Some(WrittenText::Strftime(date_text))) => date_text.format_array(column)?,
            Some(Some(WrittenText::Cast(cast_text))) => cast_text.format_array(column)?,
            _ => cast(column, &DataType::Utf8)?,
        };
        if self.decimal_comma.get(index).copied().unwrap_or(false) {
            with_decimal_comma(&text)
        } else {
            Ok(text)
        }
    }

    /// `table_alias.column` for the writers that build their own projection.
    pub fn source(name: &str) -> String {
        format!("{SOURCE_ALIAS}.{}", quote_ident(name))
    }
}

/// Checks the request against the catalog and builds its queries.
pub fn build_query(conn: &Connection, request: &ExportRequest) -> Result<ExportQuery, ExportError> {
    let table = resolve_table(conn, &request.table)?;
    let columns: Vec<Column> = if request.columns.is_empty() {
        table.columns.clone()
    } else {
        request
            .columns
            .iter()
            .map(|wanted| table.column(wanted).cloned())
            .collect::<Result<_, _>>()?
    };
    let BoundFilters { where_sql, params } = bind_filters(conn, &table.columns, &request.filters)?;
    // Every column is named through the table's alias: the text projection below is aliased with
    // the column's own name, and an unqualified ORDER BY binds to the select list first, which
    // would sort numbers and dates as text (100009 before 10001).
    let source = ExportQuery::source;
    let order_sql = match &request.order_by {
        Some(order) => {
            let column = table.column(&order.column)?;
            format!(
                " ORDER BY {}{}",
                column.sql_type.comparable(&source(&column.name)),
                if order.descending { " DESC" } else { "" }
            )
        }
        None => String::new(),
    };
    let from = format!(" FROM {} AS {SOURCE_ALIAS}{where_sql}", quote_ident(&table.name));
    let shape = (request.format == ExportFormat::Csv).then_some(&request.shape);
    let decimal_comma = columns
        .iter()
        .map(|column| shape.is_some_and(|shape| shape.decimal_comma) && column.sql_type.has_decimal_point())
        .collect();
    let mut select_params = Vec::new();
    let mut written_text = Vec::with_capacity(columns.len());
    let text_columns: Vec<String> = columns
        .iter()
        .map(|column| {
            let (text, written_by_sluice) = text_of(&source(&column.name), column.sql_type, shape, &mut select_params);
            written_text.push(written_by_sluice);
            format!("{text} AS {}", quote_ident(&column.name))
        })
        .collect();
    let typed_columns: Vec<String> = columns
        .iter()
        .map(|column| format!("{} AS {}", source(&column.name), quote_ident(&column.name)))
        .collect();
    Ok(ExportQuery {
        table: table.name.clone(),
        select_text_sql: format!("SELECT {}{from}{order_sql}", text_columns.join(", ")),
        select_typed_sql: format!("SELECT {}{from}{order_sql}", typed_columns.join(", ")),
        count_sql: format!("SELECT count(*){from}"),
        from_sql: from,
        order_sql,
        columns,
        params,
        select_params,
        written_text,
        decimal_comma,
    })
}

/// A column of DuckDB's text of numbers with each decimal point a comma. Done here rather than
/// by `replace()` in the export's SELECT, which on DuckDB's one streaming thread cost 8% of a
/// 5M-row export. A number's text has no `.` but its decimal point, so every `.` of the column's
/// bytes is turned at once, offsets and NULLs kept.
fn with_decimal_comma(text: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let numbers = text.as_string::<i32>();
    let mut bytes = numbers.value_data().to_vec();
    for byte in &mut bytes {
        if *byte == b'.' {
            *byte = b',';
        }
    }
    let turned = StringArray::try_new(numbers.offsets().clone(), bytes.into(), numbers.nulls().cloned())?;
    Ok(Arc::new(turned))
}

/// How the CSV writer turns a column the export's SELECT gives typed into its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WrittenText {
    /// In the export's date or timestamp format.
    Strftime(DateText),
    /// As DuckDB's cast to VARCHAR would.
    Cast(CastText),
}

/// SQL for a column's text in the CSV file, and how the writer writes it when it does. A date
/// format the writer cannot write goes to DuckDB's `strftime` as a bound parameter, so it is
/// never part of the statement's text.
fn text_of(
    source: &str,
    sql_type: SqlType,
    shape: Option<&CsvShape>,
    params: &mut Vec<String>,
) -> (String, Option<WrittenText>) {
    let date_format = shape.and_then(|shape| shape.date_format.as_ref());
    let timestamp_format = shape.and_then(|shape| shape.timestamp_format.as_ref());
    let (typed, format) = match sql_type {
        SqlType::Date => (source.to_string(), date_format),
        SqlType::Timestamp | SqlType::TimestampSeconds | SqlType::TimestampMillis | SqlType::TimestampNanos => {
            (format!("CAST({source} AS TIMESTAMP)"), timestamp_format)
        }
        _ => (source.to_string(), None),
    };
    let Some(format) = format else {
        return match CastText::for_type(sql_type) {
            Some(cast_text) => (source.to_string(), Some(WrittenText::Cast(cast_text))),
            None => (format!("CAST({source} AS VARCHAR)"), None),
        };
    };
    match DateText::parse(format) {
        Some(written) => (typed, Some(WrittenText::Strftime(written))),
        None => {
            params.push(format.clone());
            (format!("strftime({typed}, ?)"), None)
        }
    }
}

/// Checks the shape's date formats with DuckDB's own `strftime`, so a bad one is refused before
/// any file is started.
pub fn check_formats(conn: &Connection, shape: &CsvShape) -> Result<(), ExportError> {
    let checks = [
        ("date", &shape.date_format, "SELECT strftime(DATE '2001-02-03', ?)"),
        (
            "timestamp",
            &shape.timestamp_format,
            "SELECT strftime(TIMESTAMP '2001-02-03 04:05:06.789', ?)",
        ),
    ];
    for (what, format, sql) in checks {
        let Some(format) = format else { continue };
        conn.query_row(sql, [format], |row| row.get::<_, Option<String>>(0))
            .map_err(|error| {
                ExportError::Shape(ShapeError::BadFormat {
                    what,
                    format: format.clone(),
                    reason: error.to_string(),
                })
            })?;
    }
    Ok(())
}
