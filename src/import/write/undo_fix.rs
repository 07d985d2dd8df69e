//! Undoing a fix: the rows it moved into the table leave it, the rows it replaced by key come
//! back, and the failed rows it took return with their original text and problems, all in one
//! transaction, with the import's counts back where they were. Refused, changing nothing, when
//! the table or those rows changed since, or a later fix took up the same failed rows.

use crate::job::{Job, JobContext, JobError, JobLabels};
use crate::progress::{Progress, ProgressSink};
use crate::store::{
    FixUndoRecord, JobOutcome, JobStatus, Store, StoreError, TableSince, Transaction, UndoneRows, existing_table,
};

/// A fix (a retry job) to undo.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UndoFixRequest {
    /// The fix's job.
    pub fix_job_id: i64,
}

/// What an undo did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct UndoFixSummary {
    /// The undo's own job.
    pub job_id: i64,
    /// The fix it undid.
    pub fix_job_id: i64,
    /// The import whose failed rows the fix had taken.
    pub import_job_id: i64,
    /// The table the fix had written to.
    pub table: String,
    /// The fix's rows taken back out of the table.
    pub rows_removed: u64,
    /// Stored rows the fix had replaced by key, put back as they were.
    pub rows_put_back: u64,
    /// Failed rows returned to the failed set with their original text and problems.
    pub rows_returned: u64,
    /// Wall-clock time the undo took, in milliseconds.
    pub elapsed_ms: u64,
}

/// Why a fix could not be undone; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum UndoFixError {
    /// The job asked for does not exist.
    #[error("job {0} does not exist")]
    NoSuchJob(i64),
    /// The job asked for is not a fix.
    #[error("job {0} is not a fix of failed rows, so there is nothing to undo")]
    NotAFix(i64),
    /// The fix failed, was cancelled or is still running: it changed nothing.
    #[error("job {job_id} did not complete ({status}), so it changed nothing to undo")]
    NotCompleted {
        /// The fix's job.
        job_id: i64,
        /// Its status, as stored.
        status: &'static str,
    },
    /// The fix was undone already.
    #[error("job {fix_job_id} was already undone by job {undone_by}")]
    AlreadyUndone {
        /// The fix's job.
        fix_job_id: i64,
        /// The undo that undid it.
        undone_by: i64,
    },
    /// The fix kept no record of what it changed.
    #[error("job {0} kept no record of what it changed (it ran before Sluice kept one, or changed nothing)")]
    NotKept(i64),
    /// A later fix took up some of the same failed rows again.
    #[error("job {later} fixed some of the same failed rows after job {fix_job_id}; undo job {later} first")]
    LaterFix {
        /// The fix asked for.
        fix_job_id: i64,
        /// The later fix of the same rows.
        later: i64,
    },
    /// The fix's table was dropped since.
    #[error("table '{0}' no longer exists, so the fixed rows cannot be taken out of it")]
    TableGone(String),
    /// The table's columns changed since the fix.
    #[error("table '{0}' has other columns than when the fix wrote to it, so its rows cannot be told apart")]
    ColumnsChanged(String),
    /// Some of the fix's rows were changed or deleted since.
    #[error(
        "{changed} of the rows job {fix_job_id} wrote to table '{table}' were changed or deleted since \
         (by a later upsert, fix or edit); undoing it would lose those changes"
    )]
    RowsChanged {
        /// The fix's job.
        fix_job_id: i64,
        /// The table.
        table: String,
        /// How many of its rows are no longer there as it wrote them.
        changed: u64,
    },
    /// The fix's stored settings cannot be read back.
    #[error("the fix's settings could not be read back: {0}")]
    Spec(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The person cancelled the undo.
    #[error("cancelled by the user; nothing was changed")]
    Cancelled,
}

impl JobError for UndoFixError {
    fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled)
    }
}

impl Job for UndoFixRequest {
    const KIND: &'static str = "undo_fix";
    const CANCELLED: &'static str = "cancelled by the user; nothing was changed";
    type Summary = UndoFixSummary;
    type Error = UndoFixError;

    fn labels(&self, store: &Store) -> JobLabels {
        JobLabels {
            source: format!("fix job {}", self.fix_job_id),
            target: store.job(self.fix_job_id).ok().flatten().and_then(|job| job.target),
            ..JobLabels::default()
        }
    }

    fn run(&self, context: &mut JobContext<'_>) -> Result<UndoFixSummary, UndoFixError> {
        undo_fix(context, self.fix_job_id, std::time::Instant::now())
    }

    fn outcome(summary: &UndoFixSummary) -> JobOutcome {
        JobOutcome {
            rows_read: summary.rows_removed,
            rows_updated: summary.rows_put_back,
            rows_failed: summary.rows_returned,
            ..JobOutcome::default()
        }
    }
}

/// The fix as an undo needs it: its import, its table, and its counts (imported, updated).
struct FixToUndo {
    import_job_id: i64,
    table: String,
    counts: (i64, i64),
}

/// The fix `fix_job_id` if it can be undone at all, whatever the table holds now.
fn fix_to_undo(store: &Store, fix_job_id: i64) -> Result<FixToUndo, UndoFixError> {
    let fix = store.job(fix_job_id)?.ok_or(UndoFixError::NoSuchJob(fix_job_id))?;
    let fix_kinds = [
        <crate::import::RetryRequest as Job>::KIND,
        <crate::import::FixRequest as Job>::KIND,
    ];
    if !fix_kinds.contains(&fix.kind.as_str()) {
        return Err(UndoFixError::NotAFix(fix_job_id));
    }
    if fix.status != JobStatus::Completed {
        return Err(UndoFixError::NotCompleted {
            job_id: fix_job_id,
            status: fix.status.as_str(),
        });
    }
    if let Some(undone_by) = fix.undone_by {
        return Err(UndoFixError::AlreadyUndone { fix_job_id, undone_by });
    }
    #[derive(serde::Deserialize)]
    struct RetryOf {
        retry_of: i64,
    }
    let spec: RetryOf = serde_json::from_str(fix.spec.as_deref().unwrap_or_default())
        .map_err(|error| UndoFixError::Spec(error.to_string()))?;
    Ok(FixToUndo {
        import_job_id: spec.retry_of,
        table: fix.target.unwrap_or_default(),
        counts: (fix.rows_imported, fix.rows_updated),
    })
}

fn undo_fix(
    context: &mut JobContext<'_>,
    fix_job_id: i64,
    started: std::time::Instant,
) -> Result<UndoFixSummary, UndoFixError> {
    let (store, conn) = (context.store, context.conn());
    let fix = fix_to_undo(store, fix_job_id)?;
    let transaction = Transaction::begin(store, "starting the undo's transaction")?;
    let record = FixUndoRecord::of(fix_job_id);
    if !record.exists(conn)? {
        return Err(UndoFixError::NotKept(fix_job_id));
    }
    if let Some(later) = record.later_fix_of_same_rows(conn)? {
        return Err(UndoFixError::LaterFix { fix_job_id, later });
    }
    let table = existing_table(conn, &fix.table)?
        .ok_or_else(|| UndoFixError::TableGone(fix.table.clone()))?
        .name;
    match record.check_table(conn, &table)? {
        Ok(()) => {}
        Err(TableSince::ColumnsChanged) => return Err(UndoFixError::ColumnsChanged(table)),
        Err(TableSince::RowsChanged(changed)) => {
            return Err(UndoFixError::RowsChanged {
                fix_job_id,
                table,
                changed,
            });
        }
    }
    let undone: UndoneRows = record.undo(conn, (fix.import_job_id, context.job_id), &table, fix.counts)?;
    let summary = UndoFixSummary {
        job_id: context.job_id,
        fix_job_id,
        import_job_id: fix.import_job_id,
        table,
        rows_removed: undone.removed,
        rows_put_back: undone.put_back,
        rows_returned: undone.returned,
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    context.record_completed(&UndoFixRequest::outcome(&summary))?;
    if context.cancel.is_cancelled() {
        return Err(UndoFixError::Cancelled);
    }
    transaction.commit(0, "committing the undo")?;
    context.progress(&Progress {
        rows_read: undone.removed,
        rows_failed: undone.returned,
        ..Progress::default()
    });
    Ok(summary)
}
