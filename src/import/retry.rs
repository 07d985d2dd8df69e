//! Retrying failed rows after a person fixed them: the edited fields go through the import's own
//! plan and validation again, and the rows that pass move from the failed set into the job's table
//! in one transaction, with the import job's counts updated so imported + failed = read still holds.

use std::collections::BTreeMap;

use super::batch::BatchBuilder;
use super::load;
use super::plan::{ImportPlan, plan_import};
use super::records::OwnedRecord;
use super::sniff::Sniffed;
use super::types::ColumnType;
use super::unique;
use super::validate::{Cell, RowValidator};
use super::{ImportRequest, PlanError};
use crate::job::{Job, JobContext, JobError, JobLabels};
use crate::progress::{Progress, ProgressSink};
use crate::records::{ExistingTable, FailedRow, Problem};
use crate::store::{JobOutcome, JobStatus, RetryRow, Store, StoreError, append_failed_rows, existing_table};

/// One failed row to try again, with the fields a person fixed (or as stored when `None`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowEdit {
    pub record_no: i64,
    pub fields: Option<Vec<String>>,
}

/// Failed rows of import job `import_job_id` to validate again and import if they now pass.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetryRequest {
    #[serde(rename = "retry_of")]
    pub import_job_id: i64,
    pub rows: Vec<RowEdit>,
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

impl JobError for RetryError {
    fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled)
    }
}

/// Either every passing row moves into the table and every still-failing row gets its new fields
/// and problems, or nothing changes.
impl Job for RetryRequest {
    const KIND: &'static str = "retry";
    const CANCELLED: &'static str = "cancelled by the user; nothing was changed";
    type Summary = RetrySummary;
    type Error = RetryError;

    fn labels(&self, store: &Store) -> JobLabels {
        JobLabels {
            source: format!("failed rows of job {}", self.import_job_id),
            target: store.job(self.import_job_id).ok().flatten().and_then(|job| job.target),
            bytes_total: None,
        }
    }

    fn run(&self, context: &mut JobContext<'_>) -> Result<RetrySummary, RetryError> {
        // Said first, so a retry that fails early still records how many rows it was asked for.
        context.progress(&Progress {
            rows_read: self.rows.len() as u64,
            ..Progress::default()
        });
        retry_rows(context, self, std::time::Instant::now())
    }

    fn outcome(summary: &RetrySummary) -> JobOutcome {
        JobOutcome {
            rows_read: summary.rows_retried,
            rows_imported: summary.rows_imported,
            rows_failed: summary.rows_still_failing,
            ..JobOutcome::default()
        }
    }
}

fn retry_rows(
    context: &mut JobContext<'_>,
    request: &RetryRequest,
    started: std::time::Instant,
) -> Result<RetrySummary, RetryError> {
    let (store, conn, job_id, cancel) = (context.store, context.conn(), context.job_id, context.cancel);
    let import_job_id = request.import_job_id;
    let import = store.job(import_job_id)?.ok_or(RetryError::NoSuchJob(import_job_id))?;
    if import.kind != <ImportRequest as Job>::KIND {
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
    let import_request: ImportRequest = serde_json::from_str(import.spec.as_deref().unwrap_or_default())
        .map_err(|error| RetryError::Spec(error.to_string()))?;
    let plan = rebuild_plan(&import_request, &import.source_columns, &table)?;

    // Everything from here is read and written in one transaction: a second retry of the same
    // rows running at the same time either sees them gone or conflicts, and never imports them
    // twice.
    load::begin_transaction(conn)?;
    let stored = stored_rows(store, request)?;
    let column_names: Vec<&str> = plan.columns.iter().map(|column| column.name.as_str()).collect();
    // The unique rule is checked as an import checks it: the passing rows' keys go to a table of
    // their own and DuckDB compares them with each other and with the rows already there.
    let unique = unique::check_for_plan(&plan, job_id);
    let key_columns: Vec<usize> = unique.as_ref().map(|check| check.unique_columns()).unwrap_or_default();
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
    let moved: Vec<i64> = passed.iter().chain(&rewritten).copied().collect();
    if let Some(record_no) = store.remove_failed_rows(import_job_id, &moved)? {
        return Err(RetryError::AlreadyRetried(record_no));
    }
    append_failed_rows(conn, import_job_id, &still_failing)?;
    let mut imported = passed.len() as u64;
    let mut failed = still_failing.len() as u64;
    if !passed.is_empty() {
        let (batch, keys) = builder.finish().map_err(|error| RetryError::Batch(error.to_string()))?;
        let committed_rowid = match &unique {
            Some(check) => {
                check.create(conn)?;
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
            let duplicates = check.resolve(conn, &table.name, committed_rowid, true, &mut |page| {
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
    store.add_retried_rows(import_job_id, imported)?;
    let outcome = JobOutcome {
        rows_read: stored.len() as u64,
        rows_imported: imported,
        rows_failed: failed,
        ..JobOutcome::default()
    };
    context.record_completed(&outcome)?;
    if cancel.is_cancelled() {
        return Err(RetryError::Cancelled);
    }
    load::commit(conn)?;
    context.progress(&Progress {
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
    import: &ImportRequest,
    source_columns: &[String],
    table: &ExistingTable,
) -> Result<ImportPlan, RetryError> {
    // How the file's values were written (local dates, decimal commas, null markers) was found
    // by sniffing it: sniffed again with the import's own hints when it is still there, so a
    // fixed `1,5` or `15.03.2024` reads as the import read it.
    let column_guesses =
        file_formats(import, source_columns).unwrap_or_else(|| vec![Default::default(); source_columns.len()]);
    // The file's own spelling of its headers was not stored; the cleaned names stand in. A
    // failed row's stored fields never keep a trailing delimiter's empty field.
    let mut sniffed = Sniffed::of_columns(source_columns, vec![ColumnType::Varchar; source_columns.len()]);
    sniffed.has_header = import.hints.has_header.unwrap_or(true);
    sniffed.column_guesses = column_guesses;
    let mut plan = plan_import(&sniffed, import.schema.as_ref(), Some(table))?;
    plan.pad_missing = import.pad_missing;
    Ok(plan)
}

/// The column guesses of the import's file, sniffed again with the hints stored with the job;
/// `None` when the file is gone or no longer has the same columns.
fn file_formats(import: &ImportRequest, source_columns: &[String]) -> Option<Vec<super::ColumnGuess>> {
    let sniffed = super::sniff(&import.path, &import.hints).ok()?;
    (sniffed.columns == source_columns).then_some(sniffed.column_guesses)
}

/// The requested rows still in the failed set, with the edits applied, in file order. A row
/// already retried (by another window or an earlier click) is simply not there.
fn stored_rows(store: &Store, request: &RetryRequest) -> Result<BTreeMap<i64, RetryRow>, StoreError> {
    let record_nos: Vec<i64> = request.rows.iter().map(|edit| edit.record_no).collect();
    let mut rows = store.failed_rows_to_retry(request.import_job_id, &record_nos)?;
    for edit in &request.rows {
        if let (Some(row), Some(fields)) = (rows.get_mut(&edit.record_no), &edit.fields) {
            row.fields = fields.clone();
        }
    }
    Ok(rows)
}
