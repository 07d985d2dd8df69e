//! Writing an export as an Excel workbook with `rust_xlsxwriter` in its constant-memory mode:
//! each row goes to a temporary file as soon as the next one starts, so memory stays flat at any
//! size. Cells are typed (numbers as numbers, dates and timestamps as Excel dates, booleans as
//! booleans, the rest as text), the header is bold and frozen, and columns are sized to their
//! contents. A sheet holds at most 1,048,575 rows under its header; past that the export goes on
//! in a further sheet or a further file, as the request says.
//!
//! A text cell of an `.xlsx` is never run as a formula, so the formula guard has nothing to do
//! here: text is written as it is.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::Receiver;
use duckdb::arrow::array::{Array, ArrayRef, AsArray};
use duckdb::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType, UInt64Type,
};
use duckdb::arrow::record_batch::RecordBatch;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde::{Deserialize, Serialize};

use super::batches::Pump;
use super::files::{OutputNames, PartFiles, part_path};
use super::query::ExportQuery;
use super::{ExportError, ExportRequest};
use crate::sql::quote_ident;
use crate::sql_type::SqlType;
use crate::sql_type::{DATE_INFINITY, TIMESTAMP_INFINITY};

/// Rows a sheet holds under its header: Excel's 1,048,576 less one.
pub const EXCEL_MAX_DATA_ROWS: u64 = 1_048_575;
/// The longest text a cell holds.
const EXCEL_MAX_CELL_CHARS: usize = 32_767;
/// Excel's serial numbers of 1900-03-01 (before it, Excel's calendar has its 1900 leap-year bug)
/// and of 10000-01-01, the first day it cannot show.
const FIRST_SERIAL: f64 = 61.0;
const END_SERIAL: f64 = 2_958_466.0;
/// The serial number of 1970-01-01.
const UNIX_EPOCH_SERIAL: f64 = 25_569.0;
/// Integers beyond this lose digits as Excel's numbers (doubles); they are written as text.
const EXACT_INTEGER_LIMIT: u64 = 1 << 53;
/// Decimals with more significant digits than Excel shows (15) are written as text.
const EXACT_DECIMAL_LIMIT: i128 = 1_000_000_000_000_000;
/// Column widths, in characters.
const MIN_WIDTH: usize = 6;
const MAX_WIDTH: usize = 60;

/// Where rows go past a sheet's limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum XlsxSplit {
    /// Further sheets of the same workbook.
    #[default]
    Sheets,
    /// Further workbooks: `name-00001.xlsx`, `name-00002.xlsx`, ...
    Files,
}

/// Excel's own settings of an export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct XlsxOptions {
    /// Where rows go once a sheet is full: further sheets, or further workbooks.
    pub split: XlsxSplit,
    /// Rows per sheet, at most (and by default) [`EXCEL_MAX_DATA_ROWS`]; smaller for tests.
    pub rows_per_sheet: Option<u64>,
}

impl XlsxOptions {
    fn rows_per_sheet(&self) -> u64 {
        self.rows_per_sheet
            .unwrap_or(EXCEL_MAX_DATA_ROWS)
            .clamp(1, EXCEL_MAX_DATA_ROWS)
    }
}

/// The export's SELECT with each column as the type its cells take.
fn sheet_sql(query: &ExportQuery) -> String {
    let columns: Vec<String> = query
        .columns
        .iter()
        .map(|column| {
            let source = ExportQuery::source(&column.name);
            let value = match column.sql_type {
                SqlType::Boolean | SqlType::Date | SqlType::Float | SqlType::Double | SqlType::Decimal { .. } => source,
                sql_type if sql_type.is_numeric() && !matches!(sql_type, SqlType::HugeInt | SqlType::UHugeInt) => {
                    source
                }
                SqlType::Timestamp | SqlType::TimestampSeconds | SqlType::TimestampMillis | SqlType::TimestampNanos => {
                    format!("CAST({source} AS TIMESTAMP)")
                }
                _ => format!("CAST({source} AS VARCHAR)"),
            };
            format!("{value} AS {}", quote_ident(&column.name))
        })
        .collect();
    format!("SELECT {}{}{}", columns.join(", "), query.from_sql, query.order_sql)
}

pub fn write_xlsx(pump: Pump<'_>, request: &ExportRequest, query: &ExportQuery) -> Result<PartFiles, ExportError> {
    if request.gzip_level.is_some() {
        return Err(ExportError::Unsupported {
            format: "Excel",
            what: "gzip-compressed (an .xlsx is compressed already)",
        });
    }
    if request.chunk_rows.is_some() {
        return Err(ExportError::Unsupported {
            format: "Excel",
            what: "split into chunks of rows (it splits at the sheet's row limit, into sheets or files)",
        });
    }
    let names: Vec<String> = query.columns.iter().map(|column| column.name.clone()).collect();
    let sheet_name = sheet_base_name(&query.table);
    let mut book = Book {
        names: OutputNames::with_extension(&request.out, request.xlsx.split == XlsxSplit::Files, ".xlsx"),
        parts: PartFiles::new(pump.job_id),
        job_id: pump.job_id,
        out: request.out.clone(),
        headers: names,
        header_format: Format::new().set_bold(),
        date_format: Format::new().set_num_format("yyyy-mm-dd"),
        timestamp_format: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        sheet_name,
        split: request.xlsx.split,
        rows_per_sheet: request.xlsx.rows_per_sheet(),
        workbook: None,
        file_index: 0,
        sheet_index: 0,
        sheet_rows: 0,
        widths: Vec::new(),
        finished_bytes: 0,
    };
    pump.run(
        &sheet_sql(query),
        &query.params,
        "sluice-xlsx",
        |batches, bytes_written| book.write_batches(batches, bytes_written),
    )?;
    Ok(book.parts)
}

/// A sheet's name from the table's: Excel allows 31 characters and none of `[]:*?/\`.
fn sheet_base_name(table: &str) -> String {
    let cleaned: String = table
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(24)
        .collect();
    let cleaned = cleaned.trim_matches('\'').trim().to_string();
    if cleaned.is_empty() { "Sheet".into() } else { cleaned }
}

/// The workbook (or workbooks) being written.
struct Book {
    names: OutputNames,
    parts: PartFiles,
    job_id: i64,
    out: PathBuf,
    headers: Vec<String>,
    header_format: Format,
    date_format: Format,
    timestamp_format: Format,
    sheet_name: String,
    split: XlsxSplit,
    rows_per_sheet: u64,
    workbook: Option<Workbook>,
    file_index: usize,
    /// Sheets started in the current workbook.
    sheet_index: usize,
    /// Data rows in the current sheet.
    sheet_rows: u64,
    /// Widest value seen in each column of the current sheet, in characters.
    widths: Vec<usize>,
    finished_bytes: u64,
}

impl Book {
    fn write_batches(&mut self, batches: Receiver<RecordBatch>, bytes_written: &AtomicU64) -> Result<(), ExportError> {
        let mut row_number: u64 = 0;
        self.start_sheet()?;
        for batch in batches {
            let cells: Vec<Cells> = batch.columns().iter().map(Cells::new).collect::<Result<_, _>>()?;
            for row in 0..batch.num_rows() {
                row_number += 1;
                if self.sheet_rows >= self.rows_per_sheet {
                    self.next_sheet()?;
                }
                self.sheet_rows += 1;
                let sheet_row = self.sheet_rows as u32;
                let (workbook, widths) = (self.workbook.as_mut(), &mut self.widths);
                let Some(sheet) = workbook.and_then(|workbook| workbook.worksheets_mut().last_mut()) else {
                    return Err(xlsx_error(&self.out)(XlsxError::UnknownWorksheetNameOrIndex(
                        String::new(),
                    )));
                };
                for (column, cells) in cells.iter().enumerate() {
                    let width = cells
                        .write(
                            sheet,
                            sheet_row,
                            column as u16,
                            row,
                            &self.date_format,
                            &self.timestamp_format,
                        )
                        .map_err(|error| match error {
                            CellError::TooLong => ExportError::CellTooLong {
                                row: row_number,
                                column: self.headers[column].clone(),
                            },
                            CellError::Xlsx(error) => xlsx_error(&self.out)(error),
                        })?;
                    widths[column] = widths[column].max(width);
                }
            }
            bytes_written.store(self.finished_bytes, Ordering::Relaxed);
        }
        self.finish_file()?;
        bytes_written.store(self.finished_bytes, Ordering::Relaxed);
        Ok(())
    }

    /// Starts a sheet (and a workbook, when none is open) with its bold, frozen header.
    fn start_sheet(&mut self) -> Result<(), ExportError> {
        let to_error = xlsx_error(&self.out);
        if self.workbook.is_none() {
            let mut workbook = Workbook::new();
            if let Some(folder) = self.out.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                // Constant-memory sheets stream to temporary files; beside the output they sit
                // on the disk that has to hold the result anyway.
                workbook.set_tempdir(folder).map_err(&to_error)?;
            }
            self.workbook = Some(workbook);
            self.sheet_index = 0;
        }
        let Some(workbook) = self.workbook.as_mut() else {
            return Ok(());
        };
        let name = match self.sheet_index {
            0 => self.sheet_name.clone(),
            index => format!("{} ({})", self.sheet_name, index + 1),
        };
        self.sheet_index += 1;
        let sheet = workbook.add_worksheet_with_constant_memory().map_err(&to_error)?;
        sheet.set_name(name).map_err(&to_error)?;
        for (column, header) in self.headers.iter().enumerate() {
            sheet
                .write_string_with_format(0, column as u16, header, &self.header_format)
                .map_err(&to_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(&to_error)?;
        self.widths = self.headers.iter().map(|header| header.chars().count()).collect();
        self.sheet_rows = 0;
        Ok(())
    }

    fn size_columns(&mut self) -> Result<(), ExportError> {
        let to_error = xlsx_error(&self.out);
        if let Some(sheet) = self
            .workbook
            .as_mut()
            .and_then(|workbook| workbook.worksheets_mut().last_mut())
        {
            for (column, width) in self.widths.iter().enumerate() {
                let width = (*width + 2).clamp(MIN_WIDTH, MAX_WIDTH);
                sheet.set_column_width(column as u16, width as f64).map_err(&to_error)?;
            }
        }
        Ok(())
    }

    fn next_sheet(&mut self) -> Result<(), ExportError> {
        match self.split {
            XlsxSplit::Sheets => self.size_columns()?,
            XlsxSplit::Files => self.finish_file()?,
        }
        self.start_sheet()
    }

    /// Saves the open workbook under its temporary name.
    fn finish_file(&mut self) -> Result<(), ExportError> {
        self.size_columns()?;
        let Some(mut workbook) = self.workbook.take() else {
            return Ok(());
        };
        let final_path = self.names.path(self.file_index);
        self.file_index += 1;
        let io_error = |source| ExportError::Io {
            path: final_path.clone(),
            source,
        };
        drop(self.parts.create(final_path.clone()).map_err(io_error)?);
        let part = part_path(&final_path, self.job_id);
        workbook.save(&part).map_err(xlsx_error(&final_path))?;
        self.finished_bytes += std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        Ok(())
    }
}

fn xlsx_error(path: &Path) -> impl Fn(XlsxError) -> ExportError + '_ {
    move |error| ExportError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(error),
    }
}

enum CellError {
    TooLong,
    Xlsx(XlsxError),
}

impl From<XlsxError> for CellError {
    fn from(error: XlsxError) -> Self {
        Self::Xlsx(error)
    }
}

/// What the cells of a column are written as.
enum CellKind {
    Boolean,
    Integer,
    Unsigned,
    Float,
    Decimal,
    Date,
    Timestamp,
    Text,
}

/// One column of a batch, read as the cells it becomes.
struct Cells {
    kind: CellKind,
    array: ArrayRef,
}

impl Cells {
    fn new(array: &ArrayRef) -> Result<Self, ExportError> {
        let cast = |to: &DataType| {
            duckdb::arrow::compute::cast(array, to).map_err(|error| ExportError::Io {
                path: PathBuf::from("(xlsx cells)"),
                source: std::io::Error::other(error),
            })
        };
        let (kind, array) = match array.data_type() {
            DataType::Boolean => (CellKind::Boolean, array.clone()),
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                (CellKind::Integer, cast(&DataType::Int64)?)
            }
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
                (CellKind::Unsigned, cast(&DataType::UInt64)?)
            }
            DataType::Float16 | DataType::Float32 | DataType::Float64 => (CellKind::Float, cast(&DataType::Float64)?),
            DataType::Decimal128(..) => (CellKind::Decimal, array.clone()),
            DataType::Date32 => (CellKind::Date, array.clone()),
            DataType::Timestamp(..) => (
                CellKind::Timestamp,
                cast(&DataType::Timestamp(TimeUnit::Microsecond, None))?,
            ),
            _ => (CellKind::Text, cast(&DataType::Utf8)?),
        };
        Ok(Self { kind, array })
    }

    /// Writes the cell of `row` (nothing for NULL); returns its width in characters.
    fn write(
        &self,
        sheet: &mut Worksheet,
        sheet_row: u32,
        column: u16,
        row: usize,
        date_format: &Format,
        timestamp_format: &Format,
    ) -> Result<usize, CellError> {
        let array = &self.array;
        if array.is_null(row) {
            return Ok(0);
        }
        match self.kind {
            CellKind::Boolean => {
                sheet.write_boolean(sheet_row, column, array.as_boolean().value(row))?;
                Ok(5)
            }
            CellKind::Integer => {
                let value = array.as_primitive::<Int64Type>().value(row);
                write_integer(sheet, sheet_row, column, value.unsigned_abs(), value < 0)
            }
            CellKind::Unsigned => {
                let value = array.as_primitive::<UInt64Type>().value(row);
                write_integer(sheet, sheet_row, column, value, false)
            }
            CellKind::Float => {
                let value = array.as_primitive::<Float64Type>().value(row);
                if value.is_finite() {
                    sheet.write_number(sheet_row, column, value)?;
                    Ok(12)
                } else {
                    // Excel has no NaN or infinity: the text keeps the value readable.
                    let text = value.to_string();
                    sheet.write_string(sheet_row, column, &text)?;
                    Ok(text.len())
                }
            }
            CellKind::Decimal => {
                let decimals = array.as_primitive::<Decimal128Type>();
                let value = decimals.value(row);
                let text = decimals.value_as_string(row);
                if value.abs() < EXACT_DECIMAL_LIMIT {
                    let scale = i32::from(decimals.scale());
                    sheet.write_number(sheet_row, column, value as f64 / 10f64.powi(scale))?;
                } else {
                    sheet.write_string(sheet_row, column, &text)?;
                }
                Ok(text.len())
            }
            CellKind::Date => {
                let dates = array.as_primitive::<Date32Type>();
                let days = dates.value(row);
                let serial = f64::from(days) + UNIX_EPOCH_SERIAL;
                // DuckDB's infinite dates have no calendar date: written as the words it uses.
                let text = || match days {
                    DATE_INFINITY => Some("infinity".to_string()),
                    days if days == -DATE_INFINITY => Some("-infinity".to_string()),
                    _ => dates.value_as_date(row).map(|date| date.to_string()),
                };
                write_serial(sheet, sheet_row, column, serial, date_format, 10, text)
            }
            CellKind::Timestamp => {
                let stamps = array.as_primitive::<TimestampMicrosecondType>();
                let micros = stamps.value(row);
                let serial = micros as f64 / 86_400_000_000.0 + UNIX_EPOCH_SERIAL;
                let text = || match micros {
                    TIMESTAMP_INFINITY => Some("infinity".to_string()),
                    micros if micros == -TIMESTAMP_INFINITY => Some("-infinity".to_string()),
                    _ => stamps.value_as_datetime(row).map(|stamp| stamp.to_string()),
                };
                write_serial(sheet, sheet_row, column, serial, timestamp_format, 19, text)
            }
            CellKind::Text => {
                let text = array.as_string::<i32>().value(row);
                let chars = text.chars().count();
                if chars > EXCEL_MAX_CELL_CHARS {
                    return Err(CellError::TooLong);
                }
                sheet.write_string(sheet_row, column, text)?;
                Ok(chars)
            }
        }
    }
}

/// An integer as a number while a double holds it exactly, else as its text.
fn write_integer(
    sheet: &mut Worksheet,
    sheet_row: u32,
    column: u16,
    magnitude: u64,
    negative: bool,
) -> Result<usize, CellError> {
    let sign = if negative { "-" } else { "" };
    if magnitude <= EXACT_INTEGER_LIMIT {
        let value = magnitude as f64;
        sheet.write_number(sheet_row, column, if negative { -value } else { value })?;
    } else {
        sheet.write_string(sheet_row, column, format!("{sign}{magnitude}"))?;
    }
    Ok(digits(magnitude) + usize::from(negative))
}

/// A date or timestamp as an Excel date within Excel's calendar, else as ISO text.
fn write_serial(
    sheet: &mut Worksheet,
    sheet_row: u32,
    column: u16,
    serial: f64,
    format: &Format,
    width: usize,
    text: impl FnOnce() -> Option<String>,
) -> Result<usize, CellError> {
    if (FIRST_SERIAL..END_SERIAL).contains(&serial) {
        sheet.write_number_with_format(sheet_row, column, serial, format)?;
        return Ok(width);
    }
    let text = text().unwrap_or_default();
    sheet.write_string(sheet_row, column, &text)?;
    Ok(text.len())
}

fn digits(value: u64) -> usize {
    value.checked_ilog10().map_or(1, |log| log as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_keep_to_what_excel_allows() {
        assert_eq!(sheet_base_name("sales"), "sales");
        assert_eq!(sheet_base_name("a/b:c*d?[e]"), "a_b_c_d__e_");
        assert_eq!(sheet_base_name("''"), "Sheet");
        assert!(sheet_base_name(&"x".repeat(80)).chars().count() <= 24);
    }

    #[test]
    fn digits_counts_the_figures_of_a_number() {
        assert_eq!(digits(0), 1);
        assert_eq!(digits(9), 1);
        assert_eq!(digits(10), 2);
        assert_eq!(digits(u64::MAX), 20);
    }

    #[test]
    fn rows_per_sheet_never_exceed_excels_limit() {
        let options = XlsxOptions {
            rows_per_sheet: Some(5_000_000),
            ..XlsxOptions::default()
        };
        assert_eq!(options.rows_per_sheet(), EXCEL_MAX_DATA_ROWS);
        assert_eq!(XlsxOptions::default().rows_per_sheet(), EXCEL_MAX_DATA_ROWS);
        let small = XlsxOptions {
            rows_per_sheet: Some(3),
            ..XlsxOptions::default()
        };
        assert_eq!(small.rows_per_sheet(), 3);
    }
}
