//! Applying fix rules as a job of its own kind. Its spec is the rules and the rows they target (a
//! filter), not the fixed rows, so a fix of a million rows is stored in a few hundred bytes. The
//! job reads the targeted rows a page at a time inside its one transaction: each page's rows the
//! rules change are validated by the import's plans, those that pass go to the keyed writer, the
//! rest keep their new fields and problems, and what the page took is kept for an undo. Memory
//! holds one page, whatever the number of rows.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::import::write::fix_preview::{FixSetup, PreviewError, Problems};
use crate::import::write::fix_rules::FixRule;
use crate::import::write::keyed_writer::{self, KeyedWriter};
use crate::import::write::load;
use crate::import::write::retry::{RetryError, RetryRequest, RetrySummary, check_rows, failed_again, finish};
use crate::job::{Job, JobContext, JobLabels};
use crate::progress::{Progress, ProgressSink};
use crate::records::FailedRow;
use crate::store::{
    FailedRowFilter, FixUndoRecord, JobOutcome, RetryRow, Store, StoredFailedRow, append_failed_rows_of_fix,
};

/// Rules to apply to the failed rows of an import that a filter targets.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FixRequest {
    /// The import whose failed rows are fixed (`retry_of`, as a retry names it).
    #[serde(rename = "retry_of")]
    pub import_job_id: i64,
    /// The failed rows the rules target: a group, a kind, a column or all.
    #[serde(default)]
    pub filter: FailedRowFilter,
    /// The rules, applied in order.
    pub rules: Vec<FixRule>,
}

impl Job for FixRequest {
    const KIND: &'static str = "fix";
    const CANCELLED: &'static str = "cancelled by the user; nothing was changed";
    type Summary = RetrySummary;
    type Error = RetryError;

    fn labels(&self, store: &Store) -> JobLabels {
        let rules: Vec<String> = self.rules.iter().map(FixRule::describe).collect();
        JobLabels {
            source: format!("failed rows of job {} ({})", self.import_job_id, rules.join("; ")),
            target: store.job(self.import_job_id).ok().flatten().and_then(|job| job.target),
            ..JobLabels::default()
        }
    }

    fn run(&self, context: &mut JobContext<'_>) -> Result<RetrySummary, RetryError> {
        let started = std::time::Instant::now();
        let transaction = load::begin_transaction(context.store)?;
        let setup = FixSetup::new(context.store, self.import_job_id, &self.rules).map_err(retry_error)?;
        let (store, conn, job_id) = (context.store, context.conn(), context.job_id);
        // Kept even for a fix that finds nothing to change, so any fix can be undone.
        let undo = FixUndoRecord::begin(conn, job_id, &setup.table.name)?;
        let Some(first_plan) = setup.plans.values().next() else {
            return finish(
                context,
                transaction,
                self.import_job_id,
                &setup.table,
                started,
                0,
                (0, 0),
                0,
            );
        };
        let key_columns = keyed_writer::key_columns(first_plan, setup.key.as_ref(), job_id);
        let mut writer = KeyedWriter::open(
            conn,
            job_id,
            &setup.table.name,
            first_plan,
            setup.key.clone(),
            "appending the fixed rows",
        )?;
        writer.keep_for_undo(undo)?;
        let mut counts = Counts::default();
        let cancel = context.cancel;
        setup
            .each_page(store, (&self.filter, Problems::Skipped), cancel, |rows, fixed| {
                let page = Page {
                    import_job_id: self.import_job_id,
                    setup: &setup,
                    key_columns: &key_columns,
                    undo: &undo,
                };
                page.apply(store, &mut writer, (rows, fixed), &mut counts)?;
                context.progress(&Progress {
                    rows_read: counts.read,
                    rows_imported: counts.passed,
                    rows_failed: counts.failed,
                    ..Progress::default()
                });
                Ok(())
            })
            .map_err(retry_error)?;
        writer.finish_writing()?;
        let duplicates = fail_duplicates(conn, self.import_job_id, (&setup, &undo), &writer)?;
        let updated = writer.merge(counts.passed - duplicates)?;
        finish(
            context,
            transaction,
            self.import_job_id,
            &setup.table,
            started,
            counts.read,
            (counts.passed - duplicates, updated),
            counts.failed + duplicates,
        )
    }

    fn outcome(summary: &RetrySummary) -> JobOutcome {
        <RetryRequest as Job>::outcome(summary)
    }
}

/// Judges the `unique` rule or the key over every row `writer` took: the duplicates leave the
/// table and become failed rows of import `import_job_id` again, with the fields the rules gave
/// them (the rows as they were are read back from the `undo` record) and the problem of the rule
/// they broke. Returns how many there were.
fn fail_duplicates(
    conn: &duckdb::Connection,
    import_job_id: i64,
    (setup, undo): (&FixSetup, &FixUndoRecord),
    writer: &KeyedWriter<'_>,
) -> Result<u64, crate::store::StoreError> {
    writer.judge(&mut |page| {
        let record_nos: Vec<i64> = page.iter().map(|duplicate| duplicate.record_no as i64).collect();
        let rows: BTreeMap<i64, RetryRow> = undo
            .original_rows(conn, &record_nos)?
            .into_iter()
            .map(|(record_no, mut row)| {
                row.fields = setup.rules.apply(&row.fields);
                (record_no, row)
            })
            .collect();
        let file_of = |record_no: u64| {
            rows.get(&(record_no as i64))
                .and_then(|row| row.file.as_deref())
                .map(Arc::from)
        };
        let failed: Vec<FailedRow> = page
            .into_iter()
            .filter_map(|duplicate| {
                let row = rows.get(&(duplicate.record_no as i64))?;
                let plan = setup.plans.get(&row.file)?;
                let problems = writer.problems(&duplicate, plan, &row.fields, &file_of);
                Some(failed_again(duplicate.record_no as i64, row, problems))
            })
            .collect();
        append_failed_rows_of_fix(conn, import_job_id, undo.fix_job_id(), &failed)
    })
}

/// Rows a fix has taken so far: changed by its rules, passed, and still failing.
#[derive(Default)]
struct Counts {
    read: u64,
    passed: u64,
    failed: u64,
}

/// What a page of a fix is applied with.
struct Page<'a> {
    import_job_id: i64,
    setup: &'a FixSetup,
    key_columns: &'a [usize],
    undo: &'a FixUndoRecord,
}

impl Page<'_> {
    /// Applies one page: its rows the rules changed (`fixed` holds every row's fields as fixed)
    /// leave the failed set, marked as this fix's for the undo; those that pass go to `writer`,
    /// the rest come back with their new fields and problems.
    fn apply(
        &self,
        store: &Store,
        writer: &mut KeyedWriter<'_>,
        (rows, fixed): (Vec<StoredFailedRow>, Vec<Vec<String>>),
        counts: &mut Counts,
    ) -> Result<(), PreviewError> {
        let changed: BTreeMap<i64, RetryRow> = rows
            .into_iter()
            .zip(fixed)
            .filter(|(row, fields)| row.fields != *fields)
            .map(|(row, fields)| (row.record_no, RetryRow::fixed(row, fields)))
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let checked = check_rows(&self.setup.plans, &changed, self.key_columns, counts.passed)?;
        let moved: Vec<i64> = changed.keys().copied().collect();
        let fix_job_id = self.undo.fix_job_id();
        if let Some(record_no) = store.take_failed_rows(self.import_job_id, &moved, fix_job_id)? {
            return Err(RetryError::AlreadyRetried(record_no).into());
        }
        append_failed_rows_of_fix(store.conn(), self.import_job_id, fix_job_id, &checked.still_failing)?;
        for mut builder in checked.builders {
            if builder.is_empty() {
                continue;
            }
            let (batch, keys) = builder.finish().map_err(|error| RetryError::Batch(error.to_string()))?;
            writer.insert(Some(batch), keys)?;
        }
        counts.read += changed.len() as u64;
        counts.passed += checked.passed.len() as u64;
        counts.failed += checked.still_failing.len() as u64;
        Ok(())
    }
}

/// A preview's error as the fix job's.
fn retry_error(error: PreviewError) -> RetryError {
    match error {
        PreviewError::Import(error) => error,
        PreviewError::Rule(error) => RetryError::Spec(error.to_string()),
        PreviewError::Store(error) => RetryError::Store(error),
        PreviewError::Cancelled => RetryError::Cancelled,
    }
}
