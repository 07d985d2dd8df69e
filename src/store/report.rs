//! The error report of an import: one line per failed row with its line number, every problem as
//! "column: message", the raw text and the parsed fields. Written a page at a time (pages read by
//! key, so the time is linear in the rows), so a report of millions of rows streams. The command
//! line and the window both write it through here.
//!
//! The CSV report is rectangular, as spreadsheet programs need: `file,line,errors,raw`, then one column
//! per column of the file's header, then `extra_1`, `extra_2`... as many as the widest failed row
//! has fields beyond the header (at most 256, then `fields_not_shown` counts the rest). A row with
//! fewer fields leaves the rest empty.

use std::io::Write;

use duckdb::Connection;

use super::{
    FailedRowFilter, StoreError, StoredFailedRow, failed_page_starts, jobs::get_job, read_failed_rows,
    widest_failed_row,
};

/// Columns before a row's fields: file, line, errors, raw.
const REPORT_LEADING_COLUMNS: usize = 4;
/// Rows read from the database at a time.
const PAGE_ROWS: u64 = 10_000;
/// At most this many `extra_N` columns: one line of commas must not make every row of the report
/// millions of cells wide. Fields beyond them are counted in `fields_not_shown`; `raw` has them.
pub const MAX_EXTRA_COLUMNS: usize = 256;

/// The report's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// `file,line,errors,raw`, then one column per CSV column of the import, then `extra_N`
    /// columns for fields beyond the header.
    Csv,
    /// A JSON array of objects with `file`, `line`, `record_no`, `errors`, `problems`, `raw`,
    /// `fields`.
    Json,
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// There is no job with the id asked for.
    #[error("there is no job {0}")]
    NoSuchJob(i64),
    /// The job or its failed rows could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing to the output failed.
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
    /// The CSV writer failed.
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
    let mut pages = Pages::new(conn, job_id)?;
    let mut written = 0;
    match format {
        ReportFormat::Csv => {
            let named = job.source_columns.len();
            let widest = named.max(widest_failed_row(conn, job_id)? as usize);
            let width = widest.min(named + MAX_EXTRA_COLUMNS);
            let cut = widest > width;
            let mut writer = csv::Writer::from_writer(out);
            let mut header: Vec<String> = ["file", "line", "errors", "raw"].map(String::from).into();
            header.extend(job.source_columns.iter().cloned());
            header.extend((1..=width - named).map(|extra| format!("extra_{extra}")));
            if cut {
                header.push("fields_not_shown".to_string());
            }
            writer.write_record(&header)?;
            while let Some(page) = pages.next_page()? {
                for row in &page {
                    writer.write_record(report_record(row, width, cut))?;
                }
                written += page.len() as u64;
            }
            writer.flush()?;
        }
        ReportFormat::Json => {
            write!(out, "[")?;
            while let Some(page) = pages.next_page()? {
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

/// A job's failed rows page after page. Each page is the range between two page starts found in
/// one pass beforehand, so no read scans past its own page: the report's time is linear in its
/// rows, where "the next N from here" would scan the rest of the job for every page.
struct Pages<'c> {
    conn: &'c Connection,
    job_id: i64,
    filter: FailedRowFilter,
    starts: Vec<i64>,
    next: usize,
}

impl<'c> Pages<'c> {
    fn new(conn: &'c Connection, job_id: i64) -> Result<Self, StoreError> {
        let filter = FailedRowFilter::default();
        let starts = failed_page_starts(conn, job_id, &filter, PAGE_ROWS)?;
        Ok(Self {
            conn,
            job_id,
            filter,
            starts,
            next: 0,
        })
    }

    fn next_page(&mut self) -> Result<Option<Vec<StoredFailedRow>>, StoreError> {
        let Some(&from) = self.starts.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        let before = self.starts.get(self.next).copied();
        read_failed_rows(self.conn, self.job_id, &self.filter, from, before, PAGE_ROWS).map(Some)
    }
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

/// file, line, errors, raw, then `width` field cells: the row's fields, empty where it has fewer; with
/// `cut`, a last cell counts the fields beyond `width`.
fn report_record(row: &StoredFailedRow, width: usize, cut: bool) -> Vec<String> {
    let mut record = vec![
        row.file.clone().unwrap_or_default(),
        row.line.to_string(),
        errors_text(row),
        row.raw.clone(),
    ];
    record.extend(row.fields.iter().take(width).cloned());
    record.resize(REPORT_LEADING_COLUMNS + width, String::new());
    if cut {
        let beyond = row.fields.len().saturating_sub(width);
        record.push(if beyond > 0 { beyond.to_string() } else { String::new() });
    }
    record
}

fn report_json(row: &StoredFailedRow) -> serde_json::Value {
    serde_json::json!({
        "file": row.file,
        "line": row.line,
        "record_no": row.record_no,
        "errors": errors_text(row),
        "problems": row.problems,
        "raw": row.raw,
        "fields": row.fields,
    })
}
