//! A worker thread: takes queued jobs in order and runs them to one terminal event each.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::QueuedJob;
use super::events::{Command, EngineEvent, EventSender, JobProgress};
use super::spec::WorkerEnd;
use crate::import::panic_message;
use crate::memory::current_rss_bytes;
use crate::progress::{Progress, ProgressSink};
use crate::store::Store;

/// Progress events per job are at most this frequent.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

pub(crate) struct Worker {
    pub store: Store,
    pub queue: Receiver<QueuedJob>,
    pub events: EventSender,
    pub commands: Sender<Command>,
    /// Report the process's high-water mark as each job's peak (see `EngineConfig`).
    pub process_peak: bool,
}

impl Worker {
    pub fn run(self) {
        for job in self.queue.iter() {
            let job_id = job.job_id;
            let terminal = self.run_job(job);
            // Terminal events are never dropped: the front end must learn how every job ended.
            let _ = self.events.send(terminal);
            // Before this worker takes another job, so that the checkpoint does not meet its
            // writes. What the job freed (its batches, buffers and DuckDB's blocks for them) goes
            // back to the system now, not at the sampler's next turn: 500 small jobs back to back
            // in the window otherwise left resident memory over a quarter above where it was
            // after 50.
            self.store.checkpoint_if_idle();
            crate::memory::return_freed_memory();
            let _ = self.commands.send(Command::Ended { job_id });
        }
    }

    fn run_job(&self, job: QueuedJob) -> EngineEvent {
        let job_id = job.job_id;
        if job.cancel.is_cancelled() {
            let _ = crate::job::record_cancelled_before_start(&self.store, job_id);
            return EngineEvent::Cancelled { job_id };
        }
        let _ = self.events.send(EngineEvent::Started { job_id });
        let mut sink = CoalescingSink::new(job_id, &self.events, self.process_peak);
        let ran = catch_unwind(AssertUnwindSafe(|| {
            job.spec.run(&self.store, job_id, &mut sink, &job.cancel)
        }));
        sink.flush();
        match ran {
            Ok(WorkerEnd::Completed(summary, outcome)) => EngineEvent::Finished {
                job_id,
                summary,
                outcome,
            },
            Ok(WorkerEnd::Cancelled) => EngineEvent::Cancelled { job_id },
            Ok(WorkerEnd::Failed(error)) => EngineEvent::Failed { job_id, error },
            Err(panic) => {
                let error = format!("the job stopped unexpectedly: {}", panic_message(&panic));
                let _ = crate::job::record_panicked(&self.store, job_id, &error);
                EngineEvent::Failed { job_id, error }
            }
        }
    }
}

/// Turns per-batch progress into at most ten events a second, plus the first and the last.
struct CoalescingSink<'a> {
    job_id: i64,
    events: &'a EventSender,
    started: Instant,
    last_sent: Option<Instant>,
    pending: Option<Progress>,
    /// The highest process RSS seen at this job's progress reports.
    peak_rss_bytes: Option<u64>,
    process_peak: bool,
}

impl<'a> CoalescingSink<'a> {
    fn new(job_id: i64, events: &'a EventSender, process_peak: bool) -> Self {
        Self {
            job_id,
            events,
            started: Instant::now(),
            last_sent: None,
            pending: None,
            peak_rss_bytes: current_rss_bytes(),
            process_peak,
        }
    }

    fn event(&self, counts: &Progress) -> EngineEvent {
        EngineEvent::Progress {
            job_id: self.job_id,
            progress: JobProgress::from_counts(counts, self.started.elapsed()),
        }
    }

    /// Sends the last progress held back, so the front end sees the final numbers.
    fn flush(&mut self) {
        self.peak_rss_bytes = self.peak_rss_bytes.max(current_rss_bytes());
        if let Some(counts) = self.pending.take() {
            let _ = self.events.send(self.event(&counts));
        }
    }
}

impl ProgressSink for CoalescingSink<'_> {
    fn progress(&mut self, counts: &Progress) {
        self.peak_rss_bytes = self.peak_rss_bytes.max(current_rss_bytes());
        let due = self.last_sent.is_none_or(|last| last.elapsed() >= PROGRESS_INTERVAL);
        if !due {
            self.pending = Some(*counts);
            return;
        }
        // A front end that lags loses intermediate progress, never a job's outcome.
        if self.events.try_send(self.event(counts)).is_ok() {
            self.last_sent = Some(Instant::now());
            self.pending = None;
        } else {
            self.pending = Some(*counts);
        }
    }

    /// This job's own peak, which is what the window shows for it and what its record keeps.
    fn peak_rss_bytes(&self) -> Option<u64> {
        if self.process_peak {
            return crate::memory::peak_rss_bytes();
        }
        self.peak_rss_bytes.max(current_rss_bytes())
    }
}
