//! How a running job talks to whoever started it: a cancel flag it polls and a sink it reports
//! progress to. The engine drives the loop; the caller decides what progress means to it (a
//! terminal bar, a JSON line, an event to the window).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A shared flag that asks a job to stop. Cloning shares the flag.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that has not been cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the job to stop at its next check (between batches).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the job has been asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A snapshot of a job's counters, reported once per batch. Imports fill the read, imported and
/// failed counts; exports the written counts and the total from their COUNT query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// Data records read so far (the header is not counted).
    pub rows_read: u64,
    /// Records skipped above the header (a title, notes), counted apart from those read.
    pub rows_skipped: u64,
    /// Rows written to the target so far (visible only once the job commits).
    pub rows_imported: u64,
    /// Rows rejected so far.
    pub rows_failed: u64,
    /// Rows an export has written so far.
    pub rows_written: u64,
    /// Rows an export will write in all, when known.
    pub rows_total: Option<u64>,
    /// Bytes of the source file consumed, compressed bytes for gzip input.
    pub bytes_read: u64,
    /// Size of the source file in bytes, when known.
    pub bytes_total: Option<u64>,
    /// Bytes an export has written to its files.
    pub bytes_written: u64,
    /// Which of an import's files is being read, when it reads several (an index into the
    /// files its job was queued with).
    pub file_index: Option<u32>,
}

/// Receives progress from a running job. Called at most once per batch, never per row.
pub trait ProgressSink {
    /// Takes the job's latest counts.
    fn progress(&mut self, progress: &Progress);

    /// The peak memory to record for the job. A sink that is the only job of its process can
    /// use the process's high-water mark; one of several jobs in a process (the window's
    /// workers) must measure its own job, or every job would carry the largest peak so far.
    fn peak_rss_bytes(&self) -> Option<u64> {
        crate::memory::peak_rss_bytes()
    }
}

/// A sink for callers that do not care about progress.
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn progress(&mut self, _progress: &Progress) {}
}

impl<F: FnMut(&Progress)> ProgressSink for F {
    fn progress(&mut self, progress: &Progress) {
        self(progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_is_shared_between_clones() {
        let token = CancelToken::new();
        let clone = token.clone();
        assert!(!clone.is_cancelled());
        token.cancel();
        assert!(clone.is_cancelled());
    }
}
