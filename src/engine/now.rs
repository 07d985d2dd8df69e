//! Jobs run on the caller's thread, through the same runner as the pool's: for the benches and
//! the tests, which want one job and its typed result without a runtime around it.

use super::spec::JobSpec;
use crate::export::{ExportFailure, ExportRequest, ExportSummary};
use crate::import::{
    FixRequest, ImportFailure, ImportRequest, ImportSummary, RetryError, RetryRequest, RetrySummary, UndoFixError,
    UndoFixRequest, UndoFixSummary,
};
use crate::job::{self, Job, JobFailure, Ran};
use crate::progress::{CancelToken, ProgressSink};
use crate::store::{JobStatus, Store};

/// Records `job` as running under a new id and runs it to its end.
pub fn run_now<J>(
    store: &Store,
    job: &J,
    progress: &mut dyn ProgressSink,
    cancel: &CancelToken,
) -> Result<Ran<J::Summary>, JobFailure<J::Error>>
where
    J: Job + Clone + Into<JobSpec>,
{
    let job_id = store.allocate_job_id();
    let spec: JobSpec = job.clone().into();
    spec.record(store, job_id, JobStatus::Running)
        .map_err(|error| JobFailure {
            job_id: None,
            error: error.into(),
        })?;
    job::run_recorded(store, job_id, job, progress, cancel)
}

/// Runs an import; a cancelled one returns its summary with status cancelled.
pub fn run_import(
    store: &Store,
    request: &ImportRequest,
    progress: &mut dyn ProgressSink,
    cancel: &CancelToken,
) -> Result<ImportSummary, ImportFailure> {
    Ok(match run_now(store, request, progress, cancel)? {
        Ran::Completed(summary) => summary,
        Ran::Cancelled(stopped) => ImportSummary::cancelled(request, &stopped),
    })
}

/// Runs an export; a cancelled one returns its summary with status cancelled.
pub fn run_export(
    store: &Store,
    request: &ExportRequest,
    progress: &mut dyn ProgressSink,
    cancel: &CancelToken,
) -> Result<ExportSummary, ExportFailure> {
    Ok(match run_now(store, request, progress, cancel)? {
        Ran::Completed(summary) => summary,
        Ran::Cancelled(stopped) => ExportSummary::cancelled(request, &stopped),
    })
}

/// Runs `job`; a cancelled one fails with `cancelled`, having changed nothing.
fn run_or_fail_cancelled<J>(
    store: &Store,
    job: &J,
    (progress, cancel): (&mut dyn ProgressSink, &CancelToken),
    cancelled: J::Error,
) -> Result<J::Summary, JobFailure<J::Error>>
where
    J: Job + Clone + Into<JobSpec>,
{
    match run_now(store, job, progress, cancel)? {
        Ran::Completed(summary) => Ok(summary),
        Ran::Cancelled(stopped) => Err(JobFailure {
            job_id: Some(stopped.job_id),
            error: cancelled,
        }),
    }
}

/// Runs a retry; a cancelled one fails with [`RetryError::Cancelled`], having changed nothing.
pub fn run_retry(
    store: &Store,
    request: &RetryRequest,
    progress: &mut dyn ProgressSink,
    cancel: &CancelToken,
) -> Result<RetrySummary, JobFailure<RetryError>> {
    run_or_fail_cancelled(store, request, (progress, cancel), RetryError::Cancelled)
}

/// Applies fix rules as a job; a cancelled fix fails with [`RetryError::Cancelled`], having
/// changed nothing.
pub fn run_fix(
    store: &Store,
    request: &FixRequest,
    progress: &mut dyn ProgressSink,
    cancel: &CancelToken,
) -> Result<RetrySummary, JobFailure<RetryError>> {
    run_or_fail_cancelled(store, request, (progress, cancel), RetryError::Cancelled)
}

/// Undoes a fix; a cancelled undo fails with [`UndoFixError::Cancelled`], having changed nothing.
pub fn run_undo_fix(
    store: &Store,
    request: &UndoFixRequest,
    progress: &mut dyn ProgressSink,
    cancel: &CancelToken,
) -> Result<UndoFixSummary, JobFailure<UndoFixError>> {
    run_or_fail_cancelled(store, request, (progress, cancel), UndoFixError::Cancelled)
}
