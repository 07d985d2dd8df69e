//! Retrying failed rows after a person fixed them: the edited fields go through the import's own
//! plan and validation again, and the rows that pass move from the failed set into the job's table
//! in one transaction, with the import job's counts updated so imported + failed = read still holds.

use std::collections::BTreeMap;

use duckdb::{Connection, params};

use super::batch::BatchBuilder;
use super::load;
use super::plan::{ImportPlan, plan_import};
use super::records::OwnedRecord;
use super::schema::SchemaFile;
use super::sniff::Sniffed;
use super::types::ColumnType;
use super::unique::{self, UniqueCheck};
use super::validate::{Cell, RowValidator};
use super::PlanError;
use crate::records::{ExistingTable, FailedRow, Problem};
use crate::progress::{CancelToken, Progress, ProgressSink};
use crate::store::{
    JobKind, JobOutcome, JobStatus, Store, StoreError, append_failed_rows, existing_table, finish_job, get_job,
    insert_job, mark_running,
};

/// One failed row to try again, with the fields a person fixed (or as stored when `None`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowEdit {
    pub record_no: i64,
    pub fields: Option<Vec<String>>,
}

/// Failed rows of import job `import_job_id` to validate again and import if they now pass.
#[derive(Clone, Debug)]
pub struct RetryRequest {
    pub import_job_id: i64,
    pub rows: Vec<RowEdit>,
}

impl RetryRequest {
    /// The request as JSON, stored with its job.
    pub fn spec_json(&self) -> String {
        serde_json::json!({ "retry_of": self.import_job_id, "rows": self.rows }).to_string()
    }
}

/// What a retry did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RetrySummary {
    pub job_id: i64,
    pub import_job_id: i64,
    pub status: JobStatus,
    pub table: String,
    /// Rows asked for that were still in the failed set.
    pub rows_retried: u64,
    pub rows_imported: u64,
    pub rows_still_failing: u64,
    pub elapsed_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("job {0} does not exist")]
    NoSuchJob(i64),
    #[error("job {0} is not an import, so it has no failed rows to retry")]
    NotAnImport(i64),
    #[error("job {job_id} has not completed ({status}); only a completed import's failed rows can be retried")]
    NotCompleted { job_id: i64, status: &'static str },
    #[error("table '{0}' no longer exists, so the fixed rows have nowhere to go")]
    TableGone(String),
    #[error("the import's settings could not be read back: {0}")]
    Spec(String),
    #[error("the table no longer fits the import's columns: {0}")]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("building the batch of fixed rows: {0}")]
    Batch(String),
    #[error("cancelled by the user; nothing was changed")]
    Cancelled,
    #[error("failed row {0} was retried by another retry at the same time; nothing was changed, try again")]
    AlreadyRetried(i64),
}

/// Records a retry job under `job_id` with `status`.
pub fn record_job(conn: &Connection, job_id: i64, request: &RetryRequest, status: JobStatus) -> Result<(), StoreError> {
    let target = get_job(conn, request.import_job_id)?.and_then(|job| job.target);
    insert_job(
        conn,
        job_id,
        JobKind::Retry,
        status,
        Some(&format!("failed rows of job {}", request.import_job_id)),
        target.as_deref(),
        Some(&request.spec_json()),
        None,
    )
}

/// Runs the retry recorded as job `job_id`. Either every passing row moves into the table and
/// every still-failing row gets its new fields and problems, or nothing changes.
pub fn run_retry_job(
    store: &Store,
    job_id: i64,
    request: &RetryRequest,
    progress: &mut dyn ProgressSink,
    cancel: &CancelToken,
) -> Result<RetrySummary, RetryError> {
    let conn = store.conn();
    let started = std::time::Instant::now();
    let result = mark_running(conn, job_id)
        .map_err(RetryError::from)
        .and_then(|()| retry_rows(conn, job_id, request, progress, cancel, started));
    if let Err(error) = &result {
        load::rollback(conn);
        let status = if matches!(error, RetryError::Cancelled) {
            JobStatus::Cancelled
        } else {
            JobStatus::Failed
        };
        let outcome = JobOutcome {
            rows_read: request.rows.len() as u64,
            error: Some(error.to_string()),
            ..JobOutcome::default()
        };
        let _ = finish_job(conn, job_id, status, &outcome);
    }
    result
}

/// A stored failed row as the retry needs it.
struct Stored {
    line: i64,
    byte_offset: i64,
    raw: String,
    raw_bytes: Option<Vec<u8>>,
    fields: Vec<String>,
}

fn retry_rows(
    conn: &Connection,
    job_id: i64,
    request: &RetryRequest,
    progress: &mut dyn ProgressSink,
    cancel: &CancelToken,
    started: std::time::Instant,
) -> Result<RetrySummary, RetryError> {
    let import_job_id = request.import_job_id;
    let import = get_job(conn, import_job_id)?.ok_or(RetryError::NoSuchJob(import_job_id))?;
    if import.kind != JobKind::Import {
        return Err(RetryError::NotAnImport(import_job_id));
    }
    if import.status != JobStatus::Completed {
        return Err(RetryError::NotCompleted {
            job_id: import_job_id,
            status: import.status.as_str(),
        });
    }
    let target = import.target.clone().unwrap_or_default();
    let table = existing_table(conn, &target)?.ok_or_else(|| RetryError::TableGone(target.clone()))?;
    let plan = rebuild_plan(import.spec.as_deref(), &import.source_columns, &table)?;

    // Everything from here is read and written in one transaction: a second retry of the same
    // rows running at the same time either sees them gone or conflicts, and never imports them
    // twice.
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(StoreError::query("starting the retry's transaction"))?;
    let stored = stored_rows(conn, import_job_id, request)?;
    let column_names: Vec<&str> = plan.columns.iter().map(|column| column.name.as_str()).collect();
    // The unique rule is checked as an import checks it: the passing rows' keys go to a table of
    // their own and DuckDB compares them with each other and with the rows already there.
    let unique = UniqueCheck::for_plan(&plan, job_id);
    let key_columns: Vec<usize> = unique
        .as_ref()
        .map(|check| check.unique_columns().to_vec())
        .unwrap_or_default();
    let mut builder = BatchBuilder::new(&plan.columns, stored.len().max(1), &key_columns)
        .map_err(|error| RetryError::Batch(error.to_string()))?;
    let validator = RowValidator::new(plan.clone());
    let (mut cells, mut problems): (Vec<Cell>, Vec<Problem>) = (Vec::new(), Vec::new());
    let mut passed = Vec::new();
    let mut still_failing = Vec::new();
    for (record_no, row) in &stored {
        let record = OwnedRecord::new(row.line as u64, row.byte_offset as u64, &row.fields);
        // Bytes the file's encoding could not read were stored as U+FFFD; a row still holding one
        // has not been fixed, whatever else was edited.
        let encoding_damaged = row.fields.iter().any(|field| field.contains('\u{FFFD}'));
        if validator.check(&record.as_record(), encoding_damaged, &mut cells, &mut problems) {
            builder.push(&record.as_record(), &cells, *record_no as u64);
            passed.push(*record_no);
        } else {
            still_failing.push(FailedRow {
                record_no: *record_no as u64,
                line: row.line as u64,
                byte_offset: row.byte_offset as u64,
                raw: row.raw.clone(),
                raw_bytes: row.raw_bytes.clone(),
                fields: row.fields.clone(),
                problems: std::mem::take(&mut problems),
            });
        }
    }
    if cancel.is_cancelled() {
        return Err(RetryError::Cancelled);
    }
    let rewritten: Vec<i64> = still_failing.iter().map(|row| row.record_no as i64).collect();
    forget_failed_rows(conn, import_job_id, passed.iter().chain(&rewritten))?;
    append_failed_rows(conn, import_job_id, &still_failing)?;
    let mut imported = passed.len() as u64;
    let mut failed = still_failing.len() as u64;
    if !passed.is_empty() {
        let (batch, keys) = builder.finish().map_err(|error| RetryError::Batch(error.to_string()))?;
        let committed_rowid = match &unique {
            Some(check) => {
                check.create(conn, &plan)?;
                unique::committed_rowid(conn, &table.name)?
            }
            None => -1,
        };
        let mut appender = load::appender(conn, &table.name, &column_names)?;
        appender
            .append_record_batch(batch)
            .map_err(StoreError::query("appending the fixed rows"))?;
        appender
            .flush()
            .map_err(StoreError::query("appending the fixed rows"))?;
        drop(appender);
        if let (Some(check), Some(keys)) = (&unique, keys) {
            let mut key_appender = check.appender(conn)?;
            key_appender
                .append_record_batch(keys)
                .map_err(StoreError::query("appending the fixed rows' keys"))?;
            key_appender
                .flush()
                .map_err(StoreError::query("appending the fixed rows' keys"))?;
            drop(key_appender);
            let duplicates = check.resolve(conn, &plan, &table.name, committed_rowid, true, &mut |page| {
                let rows: Vec<FailedRow> = page
                    .into_iter()
                    .filter_map(|duplicate| {
                        let row = stored.get(&(duplicate.record_no as i64))?;
                        Some(FailedRow {
                            record_no: duplicate.record_no,
                            line: row.line as u64,
                            byte_offset: row.byte_offset as u64,
                            raw: row.raw.clone(),
                            raw_bytes: row.raw_bytes.clone(),
                            fields: row.fields.clone(),
                            problems: unique::unique_problems(&duplicate, &plan, &row.fields, &table.name),
                        })
                    })
                    .collect();
                append_failed_rows(conn, import_job_id, &rows)
            })?;
            imported -= duplicates;
            failed += duplicates;
        }
    }
    conn.execute(
        "UPDATE sluice.jobs SET rows_imported = rows_imported + ?, rows_failed = rows_failed - ? WHERE job_id = ?",
        params![imported as i64, imported as i64, import_job_id],
    )
    .map_err(StoreError::query("updating the import's counts"))?;
    let outcome = JobOutcome {
        rows_read: stored.len() as u64,
        rows_imported: imported,
        rows_failed: failed,
        ..JobOutcome::default()
    };
    finish_job(conn, job_id, JobStatus::Completed, &outcome)?;
    if cancel.is_cancelled() {
        return Err(RetryError::Cancelled);
    }
    conn.execute_batch("COMMIT")
        .map_err(StoreError::query("committing the retry"))?;
    progress.progress(&Progress {
        rows_read: outcome.rows_read,
        rows_imported: outcome.rows_imported,
        rows_failed: outcome.rows_failed,
        ..Progress::default()
    });
    Ok(RetrySummary {
        job_id,
        import_job_id,
        status: JobStatus::Completed,
        table: table.name,
        rows_retried: outcome.rows_read,
        rows_imported: outcome.rows_imported,
        rows_still_failing: outcome.rows_failed,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// The import's plan again, from its stored settings and the table as it is now. The file is not
/// needed: the header names were stored with the job and the table gives the types.
fn rebuild_plan(
    spec: Option<&str>,
    source_columns: &[String],
    table: &ExistingTable,
) -> Result<ImportPlan, RetryError> {
    let spec: serde_json::Value =
        serde_json::from_str(spec.unwrap_or("{}")).map_err(|error| RetryError::Spec(error.to_string()))?;
    let schema: Option<SchemaFile> = match spec.get("schema") {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => {
            Some(serde_json::from_value(value.clone()).map_err(|error| RetryError::Spec(error.to_string()))?)
        }
    };
    let has_header = spec
        .get("has_header")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(true);
    // How the file's values were written (local dates, decimal commas, null markers) was found
    // by sniffing it: sniffed again with the import's own hints when it is still there, so a
    // fixed `1,5` or `15.03.2024` reads as the import read it.
    let column_guesses =
        file_formats(&spec, source_columns).unwrap_or_else(|| vec![Default::default(); source_columns.len()]);
    // The file's own spelling of its headers was not stored; the cleaned names stand in. A
    // failed row's stored fields never keep a trailing delimiter's empty field.
    let mut sniffed = Sniffed::of_columns(source_columns, vec![ColumnType::Varchar; source_columns.len()]);
    sniffed.has_header = has_header;
    sniffed.column_guesses = column_guesses;
    let mut plan = plan_import(&sniffed, schema.as_ref(), Some(table))?;
    plan.pad_missing = spec
        .get("pad_missing")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    Ok(plan)
}

/// The column guesses of the import's file, sniffed again with the hints stored with the job;
/// `None` when the file is gone or no longer has the same columns.
fn file_formats(spec: &serde_json::Value, source_columns: &[String]) -> Option<Vec<super::ColumnGuess>> {
    let path = spec.get("path")?.as_str()?;
    let byte = |key: &str| {
        spec.get(key)
            .and_then(serde_json::Value::as_str)
            .and_then(|text| text.bytes().next())
    };
    let flag = |key: &str| spec.get(key).and_then(serde_json::Value::as_bool);
    let hints = super::SniffHints {
        delimiter: byte("delimiter"),
        quote: byte("quote"),
        has_header: flag("has_header"),
        encoding: spec
            .get("encoding")
            .and_then(serde_json::Value::as_str)
            .and_then(super::encoding_for_label),
        day_first: flag("day_first"),
        decimal_comma: flag("decimal_comma"),
        null_markers: spec
            .get("null_markers")
            .and_then(|markers| serde_json::from_value(markers.clone()).ok())
            .unwrap_or_default(),
        all_text: flag("all_text").unwrap_or(false),
        skip: spec
            .get("skip")
            .and_then(serde_json::Value::as_u64)
            .map(|skip| skip as usize),
        comment: byte("comment"),
        escape: byte("escape"),
        header_lines: spec
            .get("header_lines")
            .and_then(serde_json::Value::as_u64)
            .map(|lines| lines as usize),
    };
    let sniffed = super::sniff(std::path::Path::new(path), &hints).ok()?;
    (sniffed.columns == source_columns).then_some(sniffed.column_guesses)
}

/// The requested rows still in the failed set, with the edits applied, in file order.
fn stored_rows(
    conn: &Connection,
    import_job_id: i64,
    request: &RetryRequest,
) -> Result<BTreeMap<i64, Stored>, StoreError> {
    let context = "reading the failed rows to retry";
    let mut statement = conn
        .prepare(
            "SELECT line, byte_offset, raw, fields, raw_bytes FROM sluice.failed_rows WHERE job_id = ? AND record_no = ?",
        )
        .map_err(StoreError::query(context))?;
    let mut rows = BTreeMap::new();
    for edit in &request.rows {
        let found = statement
            .query_row(params![import_job_id, edit.record_no], |row| {
                Ok(Stored {
                    line: row.get(0)?,
                    byte_offset: row.get(1)?,
                    raw: row.get(2)?,
                    fields: serde_json::from_str(&row.get::<_, String>(3)?).unwrap_or_default(),
                    raw_bytes: row.get(4)?,
                })
            })
            .map(Some)
            .or_else(|error| match error {
                duckdb::Error::QueryReturnedNoRows => Ok(None),
                error => Err(error),
            })
            .map_err(StoreError::query(context))?;
        // A row already retried (by another window or an earlier click) is simply not there.
        let Some(mut stored) = found else {
            continue;
        };
        if let Some(fields) = &edit.fields {
            stored.fields = fields.clone();
        }
        rows.insert(edit.record_no, stored);
    }
    Ok(rows)
}

fn forget_failed_rows<'a>(
    conn: &Connection,
    import_job_id: i64,
    record_nos: impl Iterator<Item = &'a i64>,
) -> Result<(), RetryError> {
    let context = "removing retried rows from the failed set";
    let mut rows = conn
        .prepare("DELETE FROM sluice.failed_rows WHERE job_id = ? AND record_no = ?")
        .map_err(StoreError::query(context))?;
    let mut problems = conn
        .prepare("DELETE FROM sluice.failed_row_problems WHERE job_id = ? AND record_no = ?")
        .map_err(StoreError::query(context))?;
    for record_no in record_nos {
        let removed = rows
            .execute(params![import_job_id, record_no])
            .map_err(StoreError::query(context))?;
        if removed != 1 {
            return Err(RetryError::AlreadyRetried(*record_no));
        }
        problems
            .execute(params![import_job_id, record_no])
            .map_err(StoreError::query(context))?;
    }
    Ok(())
}
