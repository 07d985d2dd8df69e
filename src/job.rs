//! One shape for every job. An import, an export and a retry differ in what they do, not in how
//! they are recorded: each implements [`Job`], and [`run_recorded`] takes every one of them
//! through the same life (running, then completed, failed or cancelled) with the same rules for
//! what its record keeps.
//!
//! The rule for counts: every job is all-or-nothing, so a job that failed or was cancelled keeps
//! what it had read (rows and bytes, for the record's "how far did it get") and nothing it would
//! have written. A completed job keeps the numbers its summary gives.
//!
//! A job that writes in a transaction records its completion inside that transaction (through
//! [`JobContext::record_completed`]), so the rows and the "completed" in `sluice.jobs` commit
//! together or not at all; the runner records the completion of the others.

use std::time::Instant;

use duckdb::Connection;

use crate::progress::{CancelToken, Progress, ProgressSink};
use crate::store::{JobOutcome, JobStatus, Store, StoreError};

/// A kind of work the engine runs as a job.
pub trait Job {
    /// The name the job record keeps for this kind (`"import"`); the engine's registry reads it
    /// back as its `JobKind`.
    const KIND: &'static str;
    /// What the record says of the job when it was cancelled: what was left behind.
    const CANCELLED: &'static str;
    /// What a completed run returns to its caller.
    type Summary;
    /// What the job fails with; a store error converts into it.
    type Error: JobError + From<StoreError>;

    /// Where the rows come from and go, for people, and how much there is to read.
    fn labels(&self, store: &Store) -> JobLabels;

    /// Does the work. Progress and cancellation go through `context`.
    fn run(&self, context: &mut JobContext<'_>) -> Result<Self::Summary, Self::Error>;

    /// The numbers a completed job's record keeps.
    fn outcome(summary: &Self::Summary) -> JobOutcome;
}

/// An error a job ends with: the runner needs to tell a cancel from a failure.
pub trait JobError: std::error::Error {
    /// Whether the job stopped because it was asked to, not because it failed.
    fn is_cancelled(&self) -> bool;
}

/// What the job list shows of a job before it runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobLabels {
    /// Where the rows come from, as people read it: a file, a table, a job's failed rows.
    pub source: String,
    /// Where the rows go (a table, an export's output), when it is known before the job runs.
    pub target: Option<String>,
    /// Bytes to read, when known (an import's file size, or its files' sizes added up).
    pub bytes_total: Option<u64>,
    /// The files of a job that reads several, in order (progress names the one being read by
    /// its index here); empty for a job of one file.
    pub files: Vec<String>,
}

/// What a running job gets: the database, its id, where to report progress and the flag that
/// asks it to stop. It is itself the job's progress sink, so the runner sees how far the job
/// got, whatever way it ends.
pub struct JobContext<'a> {
    /// The database the job works in.
    pub store: &'a Store,
    /// The job's id.
    pub job_id: i64,
    /// The flag that asks the job to stop.
    pub cancel: &'a CancelToken,
    sink: &'a mut dyn ProgressSink,
    last: Progress,
    completion_recorded: bool,
}

impl<'a> JobContext<'a> {
    fn new(store: &'a Store, job_id: i64, sink: &'a mut dyn ProgressSink, cancel: &'a CancelToken) -> Self {
        Self {
            store,
            job_id,
            cancel,
            sink,
            last: Progress::default(),
            completion_recorded: false,
        }
    }

    /// The store's connection, for the job's statements.
    pub fn conn(&self) -> &'a Connection {
        self.store.conn()
    }

    /// Records the job as completed with `outcome`. Called inside the job's own transaction,
    /// before it commits, so the record and the rows land together.
    pub fn record_completed(&mut self, outcome: &JobOutcome) -> Result<(), StoreError> {
        self.store.finish_job(self.job_id, JobStatus::Completed, outcome)?;
        self.completion_recorded = true;
        Ok(())
    }
}

impl ProgressSink for JobContext<'_> {
    fn progress(&mut self, progress: &Progress) {
        self.last = *progress;
        self.sink.progress(progress);
    }

    fn peak_rss_bytes(&self) -> Option<u64> {
        self.sink.peak_rss_bytes()
    }
}

/// How a job that did not fail ended.
#[derive(Clone, Debug)]
pub enum Ran<S> {
    /// The job completed; what it returned.
    Completed(S),
    /// The job stopped when asked to; what is known of it.
    Cancelled(Stopped),
}

/// What is known of a cancelled job.
#[derive(Clone, Debug, PartialEq)]
pub struct Stopped {
    /// The job's id.
    pub job_id: i64,
    /// The last progress it reported.
    pub counts: Progress,
    /// How long the job ran before it stopped, in milliseconds.
    pub elapsed_ms: u64,
    /// The peak memory recorded for the job, when it was measured.
    pub peak_rss_bytes: Option<u64>,
}

/// A job that failed, with the job it was recorded under when it got that far.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct JobFailure<E: std::error::Error> {
    /// The job's id, or `None` when it failed before it was recorded.
    pub job_id: Option<i64>,
    /// Why the job failed.
    pub error: E,
}

/// Runs `job`, already recorded as job `job_id` (queued or running), to its end, and records how
/// it ended. The one place a job's state changes after it was queued.
pub fn run_recorded<J: Job>(
    store: &Store,
    job_id: i64,
    job: &J,
    sink: &mut dyn ProgressSink,
    cancel: &CancelToken,
) -> Result<Ran<J::Summary>, JobFailure<J::Error>> {
    let failure = |error: J::Error| JobFailure {
        job_id: Some(job_id),
        error,
    };
    let started = Instant::now();
    let mut context = JobContext::new(store, job_id, sink, cancel);
    let ran = store
        .mark_job_running(job_id)
        .map_err(J::Error::from)
        .and_then(|()| job.run(&mut context));
    let peak_rss_bytes = context.peak_rss_bytes();
    match ran {
        Ok(summary) => {
            if !context.completion_recorded {
                let mut outcome = J::outcome(&summary);
                outcome.peak_rss_bytes = outcome.peak_rss_bytes.or(peak_rss_bytes);
                store
                    .finish_job(job_id, JobStatus::Completed, &outcome)
                    .map_err(|error| failure(error.into()))?;
            }
            Ok(Ran::Completed(summary))
        }
        Err(error) => {
            let cancelled = error.is_cancelled();
            let (status, said) = if cancelled {
                (JobStatus::Cancelled, J::CANCELLED.to_string())
            } else {
                (JobStatus::Failed, error.to_string())
            };
            let recorded = record_stopped(store, job_id, status, &context.last, peak_rss_bytes, said);
            if !cancelled {
                // The job's failure is the error that matters; a second one while recording it
                // would only hide it, and reopening the database marks the job interrupted.
                return Err(failure(error));
            }
            recorded.map_err(|error| failure(error.into()))?;
            Ok(Ran::Cancelled(Stopped {
                job_id,
                counts: context.last,
                elapsed_ms: started.elapsed().as_millis() as u64,
                peak_rss_bytes,
            }))
        }
    }
}

/// Records a job that stopped before it completed (its transaction, dropped, undid all it
/// wrote): the record keeps what it had read (`counts`).
fn record_stopped(
    store: &Store,
    job_id: i64,
    status: JobStatus,
    counts: &Progress,
    peak_rss_bytes: Option<u64>,
    error: String,
) -> Result<(), StoreError> {
    let outcome = JobOutcome {
        rows_read: counts.rows_read,
        bytes_read: counts.bytes_read,
        peak_rss_bytes,
        error: Some(error),
        ..JobOutcome::default()
    };
    store.finish_job(job_id, status, &outcome)
}

/// Records a job cancelled while it waited in the queue: it never ran, so nothing was read.
pub fn record_cancelled_before_start(store: &Store, job_id: i64) -> Result<(), StoreError> {
    let said = "cancelled before it started".to_string();
    record_stopped(store, job_id, JobStatus::Cancelled, &Progress::default(), None, said)
}

/// Records a job whose run panicked as failed with `error`, after undoing what it had open.
pub fn record_panicked(store: &Store, job_id: i64, error: &str) -> Result<(), StoreError> {
    record_stopped(
        store,
        job_id,
        JobStatus::Failed,
        &Progress::default(),
        None,
        error.to_string(),
    )
}
