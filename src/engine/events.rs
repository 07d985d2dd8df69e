//! What crosses threads between the runtime and its front ends: typed commands in, typed events
//! out. Nothing else is shared.

use std::time::Duration;

use super::JobKind;
use super::spec::{JobSpec, JobSummary};
use crate::memory::MemorySample;
use crate::progress::Progress;
use crate::store::JobOutcome;

/// Live numbers of a running job.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct JobProgress {
    /// The job's own counters.
    pub counts: Progress,
    /// Rows read per second since the job started.
    pub rows_per_sec: f64,
    /// Bytes read per second since the job started.
    pub bytes_per_sec: f64,
    /// Seconds left at the current rate, when the total size is known.
    pub eta_secs: Option<f64>,
    /// Seconds since the job started.
    pub elapsed_secs: f64,
}

impl JobProgress {
    /// How far the job is, from 0 to 1: by bytes read for imports (true for gzip too), by rows
    /// written against the total for exports.
    pub fn fraction(&self) -> Option<f32> {
        let counts = &self.counts;
        let (done, total) = match (counts.bytes_total, counts.rows_total) {
            (Some(total), _) => (counts.bytes_read, total),
            (None, Some(total)) => (counts.rows_written, total),
            (None, None) => return None,
        };
        if total == 0 {
            return Some(1.0);
        }
        Some((done as f64 / total as f64).clamp(0.0, 1.0) as f32)
    }

    pub(crate) fn from_counts(counts: &Progress, elapsed: Duration) -> Self {
        let seconds = elapsed.as_secs_f64();
        let per_sec = |amount: u64| if seconds > 0.0 { amount as f64 / seconds } else { 0.0 };
        let rows = counts.rows_read.max(counts.rows_written);
        let bytes_per_sec = per_sec(counts.bytes_read.max(counts.bytes_written));
        let rows_per_sec = per_sec(rows);
        let eta_secs = match (counts.bytes_total, counts.rows_total) {
            (Some(total), _) if bytes_per_sec > 0.0 => {
                Some(total.saturating_sub(counts.bytes_read) as f64 / per_sec(counts.bytes_read).max(1e-9))
            }
            (None, Some(total)) if rows_per_sec > 0.0 => Some(total.saturating_sub(rows) as f64 / rows_per_sec),
            _ => None,
        };
        Self {
            counts: *counts,
            rows_per_sec,
            bytes_per_sec,
            eta_secs,
            elapsed_secs: seconds,
        }
    }
}

/// Everything the runtime tells its front end. Each job gets `Queued`, then `Started`, then any
/// number of `Progress`, then exactly one of `Finished`, `Failed` or `Cancelled` (a job cancelled
/// while queued skips `Started`).
#[derive(Clone, Debug)]
pub enum EngineEvent {
    /// The job is recorded and waits for a worker.
    Queued {
        /// The id the job is recorded under, the one `Engine::submit` returned.
        job_id: i64,
        /// What kind of job it is: an import, an export, a retry.
        kind: JobKind,
        /// What the job reads, as the job list shows it: an import's files, an export's table.
        source: String,
        /// What the job writes, as the job list shows it: an import's table, an export's file;
        /// empty when it names none.
        target: String,
        /// The files of a job that reads several (see `Progress::file_index`).
        files: Vec<String>,
    },
    /// A worker has begun running the job.
    Started {
        /// The job that started.
        job_id: i64,
    },
    /// The job's latest numbers. One may be dropped when the front end lags, since the next
    /// replaces it.
    Progress {
        /// The job the numbers are about.
        job_id: i64,
        /// Its counters and rates at the time.
        progress: JobProgress,
    },
    /// The job ran to its end.
    Finished {
        /// The job that finished.
        job_id: i64,
        /// What the job's kind reports of a completed run.
        summary: JobSummary,
        /// The numbers its record keeps, the same for every kind.
        outcome: JobOutcome,
    },
    /// The job stopped on an error.
    Failed {
        /// The job that failed.
        job_id: i64,
        /// The error, worded for people.
        error: String,
    },
    /// The job stopped because it was asked to, while queued or while running.
    Cancelled {
        /// The job that was cancelled.
        job_id: i64,
    },
    /// A reading of the process's and DuckDB's memory, about no job in particular.
    Memory(MemorySample),
}

impl EngineEvent {
    /// The job this event is about, if any.
    pub fn job_id(&self) -> Option<i64> {
        match self {
            Self::Queued { job_id, .. }
            | Self::Started { job_id }
            | Self::Progress { job_id, .. }
            | Self::Finished { job_id, .. }
            | Self::Failed { job_id, .. }
            | Self::Cancelled { job_id } => Some(*job_id),
            Self::Memory(_) => None,
        }
    }

    /// Whether this is a job's last event: `Finished`, `Failed` or `Cancelled`.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Finished { .. } | Self::Failed { .. } | Self::Cancelled { .. }
        )
    }
}

/// What the front end asks of the runtime.
#[derive(Debug)]
pub(crate) enum Command {
    Submit {
        job_id: i64,
        /// Boxed: an import's request is much larger than every other command.
        spec: Box<JobSpec>,
    },
    Cancel {
        job_id: i64,
    },
    /// Sent by a worker when a job has ended, so its cancel flag can be forgotten.
    Ended {
        job_id: i64,
    },
    /// Stop taking jobs; cancel those queued and running.
    Shutdown,
}

/// The sending side of the event channel: sends, then wakes the front end.
#[derive(Clone)]
pub(crate) struct EventSender {
    sender: crossbeam_channel::Sender<EngineEvent>,
    waker: Option<super::Waker>,
}

impl EventSender {
    pub fn new(sender: crossbeam_channel::Sender<EngineEvent>, waker: Option<super::Waker>) -> Self {
        Self { sender, waker }
    }

    /// Sends, waiting for room: for events that must not be lost.
    pub fn send(&self, event: EngineEvent) -> Result<(), ()> {
        self.sender.send(event).map_err(|_| ())?;
        self.wake();
        Ok(())
    }

    /// Sends if there is room: for events a newer one will replace.
    pub fn try_send(&self, event: EngineEvent) -> Result<(), ()> {
        self.sender.try_send(event).map_err(|_| ())?;
        self.wake();
        Ok(())
    }

    /// Sends if there is room, without waking the front end: for samples it can pick up at its
    /// next frame (an idle window should not redraw four times a second for a memory reading).
    pub fn try_send_quiet(&self, event: EngineEvent) -> Result<(), ()> {
        self.sender.try_send(event).map_err(|_| ())
    }

    fn wake(&self) {
        if let Some(waker) = &self.waker {
            waker();
        }
    }
}
