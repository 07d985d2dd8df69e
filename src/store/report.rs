//! The error report of an import: one line per failed row with its line number, every problem as
//! "column: message", the raw text and the parsed fields. Written a page at a time, so a report of
//! millions of rows streams. The command line and the window both write it through here.

use std::io::Write;

use duckdb::Connection;

use super::{FailedRowFilter, StoreError, StoredFailedRow, get_job, read_failed_rows};

/// Rows read from the database at a time.
const PAGE_ROWS: u64 = 10_000;

/// The report's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// `line,errors,raw`, then one column per CSV column of the import.
    Csv,
    /// A JSON array of objects with `line`, `record_no`, `errors`, `problems`, `raw`, `fields`.
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("there is no job {0}")]
    NoSuchJob(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
    #[error("cannot write the report: {0}")]
    Csv(#[from] csv::Error),
}

/// Writes the report of job `job_id` to `out`; returns the number of failed rows written.
pub fn write_failed_report(
    conn: &Connection,
    job_id: i64,
    format: ReportFormat,
    out: &mut dyn Write,
) -> Result<u64, ReportError> {
    let job = get_job(conn, job_id)?.ok_or(ReportError::NoSuchJob(job_id))?;
    let width = job.source_columns.len();
    let filter = FailedRowFilter::default();
    let mut written = 0;
    match format {
        ReportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            let mut header = vec!["line".to_string(), "errors".to_string(), "raw".to_string()];
            header.extend(job.source_columns.iter().cloned());
            writer.write_record(&header)?;
            loop {
                let page = read_failed_rows(conn, job_id, &filter, written, PAGE_ROWS)?;
                if page.is_empty() {
                    break;
                }
                for row in &page {
                    writer.write_record(report_record(row, width))?;
                }
                written += page.len() as u64;
            }
            writer.flush()?;
        }
        ReportFormat::Json => {
            write!(out, "[")?;
            loop {
                let page = read_failed_rows(conn, job_id, &filter, written, PAGE_ROWS)?;
                if page.is_empty() {
                    break;
                }
                for row in &page {
                    if written > 0 {
                        write!(out, ",")?;
                    }
                    serde_json::to_writer(&mut *out, &report_json(row)).map_err(std::io::Error::other)?;
                    written += 1;
                }
            }
            writeln!(out, "]")?;
        }
    }
    Ok(written)
}

/// Every problem of a row as "column: message", joined by "; ".
pub fn errors_text(row: &StoredFailedRow) -> String {
    row.problems
        .iter()
        .map(|problem| match &problem.column {
            Some(column) => format!("{column}: {}", problem.message),
            None => problem.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// line, errors, raw, then one cell per CSV column (extra fields beyond the header included).
fn report_record(row: &StoredFailedRow, width: usize) -> Vec<String> {
    let mut record = vec![row.line.to_string(), errors_text(row), row.raw.clone()];
    record.extend(row.fields.iter().cloned());
    record.resize(3 + width.max(row.fields.len()), String::new());
    record
}

fn report_json(row: &StoredFailedRow) -> serde_json::Value {
    serde_json::json!({
        "line": row.line,
        "record_no": row.record_no,
        "errors": errors_text(row),
        "problems": row.problems,
        "raw": row.raw,
        "fields": row.fields,
    })
}
