//! The lines an import skipped: written with its rows, in the same transaction, and read back
//! for `sluice jobs --skipped` and the window.

use duckdb::{Connection, params};

use super::StoreError;
use crate::records::SkippedLine;

/// A skipped line as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StoredSkippedLine {
    /// The file it is in; `None` for lines stored before files were recorded.
    pub file: Option<String>,
    /// Physical line (1-based) of the line in its file.
    pub line: i64,
    /// Why it was skipped (`SkipReason::as_str`).
    pub reason: String,
    /// The line's text.
    pub raw: String,
}

/// Stores skipped lines of job `job_id`.
pub fn append_skipped_lines(conn: &Connection, job_id: i64, lines: &[SkippedLine]) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let context = "storing skipped lines";
    let mut appender = conn
        .appender_to_db("skipped_lines", "sluice")
        .map_err(StoreError::query(context))?;
    for skipped in lines {
        appender
            .append_row(params![
                job_id,
                skipped.line as i64,
                skipped.reason.as_str(),
                skipped.raw,
                skipped.file.as_deref()
            ])
            .map_err(StoreError::query(context))?;
    }
    appender.flush().map_err(StoreError::query(context))
}

/// The listed skipped lines of a job, in the order they were read (file by file), at most `limit`.
pub fn read_skipped_lines(conn: &Connection, job_id: i64, limit: u64) -> Result<Vec<StoredSkippedLine>, StoreError> {
    let context = "reading skipped lines";
    let mut statement = conn
        .prepare("SELECT file, line, reason, raw FROM sluice.skipped_lines WHERE job_id = ? ORDER BY rowid LIMIT ?")
        .map_err(StoreError::query(context))?;
    let rows = statement
        .query_map(params![job_id, limit.min(i64::MAX as u64) as i64], |row| {
            Ok(StoredSkippedLine {
                file: row.get(0)?,
                line: row.get(1)?,
                reason: row.get(2)?,
                raw: row.get(3)?,
            })
        })
        .map_err(StoreError::query(context))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(StoreError::query(context))
}
