//! Retrying failed rows after a person fixed them: the edited fields go through the import's own
//! plan and validation again, and the rows that pass move from the failed set into the job's table
//! in one transaction, with the import job's counts updated so imported + failed = read still holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::import::plan::import_plan::ImportPlan;
use crate::import::plan::many_files::{FilesError, plan_files};
use crate::import::read::record::{quoted_after_edit, quoted_in};
use crate::import::read::record_reader::OwnedRecord;
use crate::import::sniff::file_layout::{FileLayout, StoredLayouts};
use crate::import::sniff::types::ColumnType;
use crate::import::write::batch::BatchBuilder;
use crate::import::write::cell::Cell;
use crate::import::write::keyed_writer::{self, KeyedWriter};
use crate::import::write::load;
use crate::import::write::upsert::{self, Key};
use crate::import::write::validate::RowValidator;
use crate::import::{ImportMode, ImportRequest, PlanError, expand_inputs};
use crate::job::{Job, JobContext, JobError, JobLabels};
use crate::progress::{Progress, ProgressSink};
use crate::records::{ExistingTable, FailedRow, Problem};
use crate::store::Transaction;
use crate::store::{
    FixUndoRecord, JobOutcome, JobRecord, JobStatus, RetryRow, Store, StoreError, append_failed_rows_of_fix,
    existing_table,
};

/// One failed row to try again, with the fields a person fixed (or as stored when `None`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowEdit {
    /// The failed row's record number in the import job.
    pub record_no: i64,
    /// The fields as fixed; `None` retries the stored ones as they are.
    pub fields: Option<Vec<String>>,
}

/// Failed rows of import job `import_job_id` to validate again and import if they now pass.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetryRequest {
    /// The import job the failed rows belong to (`retry_of` in the stored job).
    #[serde(rename = "retry_of")]
    pub import_job_id: i64,
    /// The rows to retry, with their fixes.
    pub rows: Vec<RowEdit>,
}

/// What a retry did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RetrySummary {
    /// The retry's own job.
    pub job_id: i64,
    /// The import job whose failed rows were retried.
    pub import_job_id: i64,
    /// Whether the retry completed or was cancelled.
    pub status: JobStatus,
    /// The table the rows that pass go into.
    pub table: String,
    /// Rows asked for that were still in the failed set.
    pub rows_retried: u64,
    /// Rows that now pass, moved into the table.
    pub rows_imported: u64,
    /// Rows that still fail, kept with their new fields and problems.
    pub rows_still_failing: u64,
    /// Wall-clock time the retry took, in milliseconds.
    pub elapsed_ms: u64,
}

/// Why a retry failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    /// The job asked for does not exist.
    #[error("job {0} does not exist")]
    NoSuchJob(i64),
    /// The job asked for is not an import.
    #[error("job {0} is not an import, so it has no failed rows to retry")]
    NotAnImport(i64),
    /// The import failed, was cancelled or is still running.
    #[error("job {job_id} has not completed ({status}); only a completed import's failed rows can be retried")]
    NotCompleted {
        /// The import job.
        job_id: i64,
        /// Its status, as stored.
        status: &'static str,
    },
    /// The import's table was dropped since.
    #[error("table '{0}' no longer exists, so the fixed rows have nowhere to go")]
    TableGone(String),
    /// The import's stored settings cannot be read back, or no longer plan against the table.
    #[error("the import's settings could not be read back: {0}")]
    Spec(String),
    /// A file the rows are from is gone, and its columns cannot be told from the other files'.
    #[error(
        "{0} is no longer there, and its columns differ from the import's other files; put it back to retry its rows"
    )]
    FileGone(PathBuf),
    /// The table changed since the import, and a file's fields no longer plan into its columns.
    #[error("the table no longer fits the import's columns: {0}")]
    Plan(#[from] PlanError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The batch of rows that pass could not be built.
    #[error("building the batch of fixed rows: {0}")]
    Batch(String),
    /// The person cancelled the retry.
    #[error("cancelled by the user; nothing was changed")]
    Cancelled,
    /// Another retry took one of the rows while this one ran; holds its record number.
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
            ..JobLabels::default()
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

/// Import job `import_job_id` as a fix of its failed rows needs it: its record, its stored
/// request and its table as it is now; refused when it is no completed import or its table is
/// gone.
pub(in crate::import) fn import_to_fix(
    store: &Store,
    import_job_id: i64,
) -> Result<(JobRecord, ImportRequest, ExistingTable), RetryError> {
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
    let table = existing_table(store.conn(), &target)?.ok_or_else(|| RetryError::TableGone(target.clone()))?;
    let import_request: ImportRequest = serde_json::from_str(import.spec.as_deref().unwrap_or_default())
        .map_err(|error| RetryError::Spec(error.to_string()))?;
    Ok((import, import_request, table))
}

/// Retries `request`'s rows as job `context.job_id`, in one transaction.
fn retry_rows(
    context: &mut JobContext<'_>,
    request: &RetryRequest,
    started: std::time::Instant,
) -> Result<RetrySummary, RetryError> {
    let (store, conn, job_id, cancel) = (context.store, context.conn(), context.job_id, context.cancel);
    let import_job_id = request.import_job_id;
    let (import, import_request, table) = import_to_fix(store, import_job_id)?;

    // Everything from here is read and written in one transaction: a second retry of the same
    // rows running at the same time either sees them gone or conflicts, and never imports them
    // twice.
    let transaction = load::begin_transaction(store)?;
    let stored = stored_rows(store, request)?;
    // Rows of several files are validated by their own file's plan (its column order, formats
    // and file name); every plan has the same columns in the same order.
    let layouts = store.file_layouts(import_job_id)?;
    let files = stored.values().map(|row| row.file.clone()).collect();
    let (plans, key) = rebuild_plans(&import_request, (layouts, &import.source_columns), &table, &files)?;
    let Some(first_plan) = plans.values().next() else {
        // None of the rows asked for is still failing: nothing to do but say so.
        return finish(context, transaction, import_job_id, &table, started, 0, (0, 0), 0);
    };
    let key_columns = keyed_writer::key_columns(first_plan, key.as_ref(), job_id);
    let checked = check_rows(&plans, &stored, &key_columns, 0)?;
    if cancel.is_cancelled() {
        return Err(RetryError::Cancelled);
    }
    let rewritten: Vec<i64> = checked.still_failing.iter().map(|row| row.record_no as i64).collect();
    let moved: Vec<i64> = checked.passed.iter().chain(&rewritten).copied().collect();
    // What the fix changes is kept beside it, so it can be undone.
    let undo = FixUndoRecord::begin(conn, job_id, &table.name)?;
    if let Some(record_no) = store.take_failed_rows(import_job_id, &moved, job_id)? {
        return Err(RetryError::AlreadyRetried(record_no));
    }
    append_failed_rows_of_fix(conn, import_job_id, job_id, &checked.still_failing)?;
    let mut imported = checked.passed.len() as u64;
    let mut updated = 0;
    let mut failed = checked.still_failing.len() as u64;
    if !checked.passed.is_empty() {
        let fixed = Fixed {
            import_job_id,
            table: &table.name,
            plans: &plans,
            stored: &stored,
            undo,
        };
        let duplicates;
        (duplicates, updated) = fixed.write(context, checked.builders, key, imported)?;
        imported -= duplicates;
        failed += duplicates;
    }
    let rows_read = stored.len() as u64;
    finish(
        context,
        transaction,
        import_job_id,
        &table,
        started,
        rows_read,
        (imported, updated),
        failed,
    )
}

/// Where a retry's passing rows go, and what it knows of them.
struct Fixed<'a> {
    import_job_id: i64,
    table: &'a str,
    plans: &'a FilePlans,
    stored: &'a BTreeMap<i64, RetryRow>,
    undo: FixUndoRecord,
}

impl Fixed<'_> {
    /// Writes the passing rows of `builders` into the table through the keyed writer, as an
    /// import writes its rows: the unique rule judged, an upsert merged by its key (`kept`
    /// rows staged). Returns the rows that broke the rule (failed again) and those that
    /// replaced a stored row.
    fn write(
        &self,
        context: &JobContext<'_>,
        builders: Vec<BatchBuilder>,
        key: Option<Key>,
        kept: u64,
    ) -> Result<(u64, u64), RetryError> {
        let (conn, job_id) = (context.conn(), context.job_id);
        let Some(first_plan) = self.plans.values().next() else {
            return Ok((0, 0));
        };
        let mut writer = KeyedWriter::open(conn, job_id, self.table, first_plan, key, "appending the fixed rows")?;
        writer.keep_for_undo(self.undo)?;
        for mut builder in builders {
            if builder.is_empty() {
                continue;
            }
            let (batch, keys) = builder.finish().map_err(|error| RetryError::Batch(error.to_string()))?;
            writer.insert(Some(batch), keys)?;
        }
        writer.finish_writing()?;
        let file_of = |record_no: u64| {
            self.stored
                .get(&(record_no as i64))
                .and_then(|row| row.file.as_deref())
                .map(Arc::from)
        };
        let duplicates = writer.judge(&mut |page| {
            let rows: Vec<FailedRow> = page
                .into_iter()
                .filter_map(|duplicate| {
                    let row = self.stored.get(&(duplicate.record_no as i64))?;
                    let plan = self.plans.get(&row.file)?;
                    let problems = writer.problems(&duplicate, plan, &row.fields, &file_of);
                    Some(failed_again(duplicate.record_no as i64, row, problems))
                })
                .collect();
            append_failed_rows_of_fix(conn, self.import_job_id, job_id, &rows)
        })?;
        let updated = writer.merge(kept - duplicates)?;
        Ok((duplicates, updated))
    }
}

/// The stored rows validated again by their own file's plan: those that pass, built into one
/// batch per file, and those that still fail, with their new problems.
pub(in crate::import) struct Checked {
    pub passed: Vec<i64>,
    pub still_failing: Vec<FailedRow>,
    pub builders: Vec<BatchBuilder>,
}

/// Validates `stored` by their files' `plans`; the rows that pass are numbered from
/// `passed_before` (those of earlier pages), as the unique check finds a row by its place among
/// the rows appended.
pub(in crate::import) fn check_rows(
    plans: &FilePlans,
    stored: &BTreeMap<i64, RetryRow>,
    key_columns: &[usize],
    passed_before: u64,
) -> Result<Checked, RetryError> {
    let (mut cells, mut problems): (Vec<Cell>, Vec<Problem>) = (Vec::new(), Vec::new());
    let mut passed = Vec::new();
    let mut still_failing = Vec::new();
    // One batch per file, appended in this order: the unique check finds a row in the table by
    // its place among the rows appended, so each batch numbers its keys on from the last.
    let mut builders = Vec::with_capacity(plans.len());
    for (file, plan) in plans {
        let mut builder = BatchBuilder::new(&plan.columns, stored.len().max(1), key_columns)
            .map_err(|error| RetryError::Batch(error.to_string()))?;
        builder.number_from(passed_before + passed.len() as u64);
        let validator = RowValidator::new(plan.clone());
        for (record_no, row) in stored.iter().filter(|(_, row)| &row.file == file) {
            let record = edited_record(row, &plan.layout);
            // Bytes the file's encoding could not read were stored as U+FFFD; a row still holding
            // one has not been fixed, whatever else was edited.
            let encoding_damaged = row.fields.iter().any(|field| field.contains('\u{FFFD}'));
            if validator.check(&record.as_record(), encoding_damaged, &mut cells, &mut problems) {
                builder.push(&record.as_record(), &cells, *record_no as u64);
                passed.push(*record_no);
            } else {
                still_failing.push(failed_again(*record_no, row, std::mem::take(&mut problems)));
            }
        }
        builders.push(builder);
    }
    Ok(Checked {
        passed,
        still_failing,
        builders,
    })
}

/// A failed row, as fixed, as a record the import's checks take: each field the fix left as it
/// was keeps the quotes it had in the file, so a `""` stays an empty string and never becomes NULL.
pub(in crate::import) fn edited_record(row: &RetryRow, layout: &FileLayout) -> OwnedRecord {
    let mut quoted_as_read = Vec::new();
    quoted_in(row.raw.as_bytes(), layout.dialect, &mut quoted_as_read);
    let quoted = quoted_after_edit(&row.fields_as_read, &quoted_as_read, &row.fields);
    OwnedRecord::new(row.line as u64, row.byte_offset as u64, &row.fields).with_quoted(quoted)
}

/// A retried row that failed again, with its new problems (and its fields as edited).
pub(in crate::import) fn failed_again(record_no: i64, row: &RetryRow, problems: Vec<Problem>) -> FailedRow {
    FailedRow {
        record_no: record_no as u64,
        file: row.file.as_deref().map(Arc::from),
        line: row.line as u64,
        byte_offset: row.byte_offset as u64,
        raw: row.raw.clone(),
        raw_bytes: row.raw_bytes.clone(),
        fields: row.fields.clone(),
        problems,
    }
}

/// Records a retry's counts with the import's and its own (rows imported, of which updated by
/// key), and commits.
#[allow(clippy::too_many_arguments)]
pub(in crate::import) fn finish(
    context: &mut JobContext<'_>,
    transaction: Transaction<'_>,
    import_job_id: i64,
    table: &ExistingTable,
    started: std::time::Instant,
    rows_read: u64,
    (imported, updated): (u64, u64),
    failed: u64,
) -> Result<RetrySummary, RetryError> {
    let (store, cancel) = (context.store, context.cancel);
    store.add_retried_rows(import_job_id, imported, updated)?;
    let outcome = JobOutcome {
        rows_read,
        rows_imported: imported,
        rows_updated: updated,
        rows_failed: failed,
        ..JobOutcome::default()
    };
    context.record_completed(&outcome)?;
    if cancel.is_cancelled() {
        return Err(RetryError::Cancelled);
    }
    let written = load::Written {
        rows_imported: imported,
        ..load::Written::default()
    };
    let table_types: Vec<_> = table.columns.iter().map(|column| column.sql_type).collect();
    load::commit(transaction, &written, &table_types)?;
    context.progress(&Progress {
        rows_read: outcome.rows_read,
        rows_imported: outcome.rows_imported,
        rows_failed: outcome.rows_failed,
        ..Progress::default()
    });
    Ok(RetrySummary {
        job_id: context.job_id,
        import_job_id,
        status: JobStatus::Completed,
        table: table.name.clone(),
        rows_retried: outcome.rows_read,
        rows_imported: outcome.rows_imported,
        rows_still_failing: outcome.rows_failed,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// Plans by the file their rows came from (`None` for rows stored before files were).
pub(in crate::import) type FilePlans = BTreeMap<Option<String>, ImportPlan>;

/// The import's plans again, one per file the rows to retry came from, from the layouts it
/// stored and the table as it is now: the rows are read as the import read them, whether or
/// not their files are still there.
pub(in crate::import) fn rebuild_plans(
    import: &ImportRequest,
    (layouts, source_columns): (Option<StoredLayouts>, &[String]),
    table: &ExistingTable,
    files: &BTreeSet<Option<String>>,
) -> Result<(FilePlans, Option<Key>), RetryError> {
    let files = files.clone();
    let layouts = match layouts {
        Some(layouts) => layouts,
        None => layouts_again(import, source_columns)?,
    };
    let several = layouts.files.len() > 1;
    let mut chosen = Vec::with_capacity(files.len() + 1);
    // The import's first file set the columns a schema's new ones are judged against (see
    // `many_files`): planned first, as the import planned it, when none of the rows are from it.
    let reference = layouts
        .files
        .first()
        .filter(|(first, _)| several && !files.contains(&Some(first.display().to_string())))
        .cloned();
    let has_reference = reference.is_some();
    chosen.extend(reference);
    for file in &files {
        // Rows stored before files were recorded came from the import's one file.
        let layout = match file {
            Some(file) => layouts
                .of_file(file)
                .map(|layout| (PathBuf::from(file), layout.clone())),
            None => layouts.files.first().cloned(),
        };
        let missing = || RetryError::FileGone(file.as_deref().map(PathBuf::from).unwrap_or_default());
        chosen.push(layout.ok_or_else(missing)?);
    }
    let mut planned = plan_files(chosen, import, Some(table), several).map_err(|error| match error {
        FilesError::Plan { source, .. } => RetryError::Plan(source),
        other => RetryError::Spec(other.to_string()),
    })?;
    if !planned.added_columns.is_empty() {
        let names: Vec<&str> = planned.added_columns.iter().map(|(name, _)| name.as_str()).collect();
        return Err(RetryError::Spec(format!(
            "table '{}' no longer has the columns {}",
            table.name,
            names.join(", ")
        )));
    }
    if has_reference {
        planned.files.remove(0);
    }
    let key = match import.mode {
        ImportMode::Upsert if !planned.files.is_empty() => Some(
            upsert::plan_key(&import.key, &mut planned.files, Some(table))
                .map_err(|error| RetryError::Spec(error.to_string()))?,
        ),
        _ => None,
    };
    let plans = files
        .into_iter()
        .zip(planned.files)
        .map(|(file, planned)| (file, planned.plan))
        .collect();
    Ok((plans, key))
}

/// The layouts of an import that stored none (it ran before imports stored them): each file
/// sniffed again with the import's own hints, so a fixed `1,5` or `15.03.2024` reads as the
/// import read it; a file no longer there is known by the header the job stored.
fn layouts_again(import: &ImportRequest, source_columns: &[String]) -> Result<StoredLayouts, RetryError> {
    let paths = expand_inputs(&import.paths)
        .map(|inputs| inputs.files)
        .unwrap_or_else(|_| import.paths.clone());
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let fresh = crate::import::sniff(&path, &import.hints)
            .ok()
            .map(|sniffed| sniffed.layout)
            .filter(|layout| source_columns.is_empty() || layout.columns == source_columns);
        let layout = match fresh {
            Some(layout) => layout,
            None if !source_columns.is_empty() => {
                let mut layout =
                    FileLayout::of_columns(source_columns, vec![ColumnType::Varchar; source_columns.len()]);
                layout.has_header = import.hints.has_header.unwrap_or(true);
                layout
            }
            None => return Err(RetryError::FileGone(path)),
        };
        files.push((path, layout));
    }
    Ok(StoredLayouts { files })
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
