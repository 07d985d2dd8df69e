//! The job runtime: a pool of named worker threads that run jobs of every kind (import, export,
//! retry) through the one runner in [`crate::job`], fed over bounded channels, reporting typed
//! events back. The command line and the window both run
//! their jobs here, so there is one engine with two front ends.
//!
//! Threads:
//! - `sluice-dispatch` records submitted jobs as queued, keeps their cancel flags and queues them;
//! - `sluice-worker-N` (N workers) take jobs in FIFO order and run them, each on its own
//!   connection, catching panics so one bad job cannot take the pool down;
//! - `sluice-memory` samples process and DuckDB memory every 250 ms.
//!
//! Progress events are coalesced to about 10 per second per job and dropped rather than queued
//! when the front end lags; lifecycle events (queued, started, finished, failed, cancelled) are
//! never dropped.

mod duckdb_defaults;
mod events;
mod now;
mod sampler;
mod spec;
mod totals;
mod worker;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};

pub use duckdb_defaults::DuckdbDefaults;
pub use events::{EngineEvent, JobProgress};
pub use now::{run_export, run_fix, run_import, run_now, run_retry, run_undo_fix};
pub use spec::{JobKind, JobRecord, JobSpec, JobSummary, job, jobs};
pub use totals::JobTotals;

use crate::memory::MemoryHistory;
use crate::progress::CancelToken;
use crate::store::{JobStatus, Store, StoreError, StoreOptions};
use events::{Command, EventSender};

/// Events the front end has not drained yet, at most.
const EVENT_CAPACITY: usize = 4096;
/// Commands not yet taken by the dispatcher, at most.
const COMMAND_CAPACITY: usize = 1024;
/// Jobs queued for the workers, at most; the dispatcher waits when more are submitted.
const QUEUE_CAPACITY: usize = 1024;
/// How often memory is sampled, and how much history is kept (10 minutes).
const MEMORY_INTERVAL: Duration = Duration::from_millis(250);
const MEMORY_HISTORY: usize = 2400;

/// How to start the runtime.
#[derive(Clone)]
pub struct EngineConfig {
    /// The DuckDB database file that holds the jobs' records and the imported tables.
    pub db_path: PathBuf,
    /// Jobs that run at once.
    pub workers: usize,
    /// DuckDB's memory limit, such as "2GB".
    pub memory_limit: Option<String>,
    /// DuckDB's worker threads; DuckDB's default (one per core) when `None`.
    pub duckdb_threads: Option<usize>,
    /// A rows-per-second cap for jobs that do not set their own.
    pub max_rows_per_sec: Option<u64>,
    /// Called after each event is sent, so a front end that sleeps between frames can wake up
    /// (the window passes `request_repaint`).
    pub waker: Option<Waker>,
    /// The process runs one job and exits (the command line): a job's peak memory is then the
    /// process's own high-water mark, which misses nothing between progress reports. In a window
    /// that runs many jobs, each job's peak is measured at its own progress reports instead.
    pub one_job_per_process: bool,
}

/// A callback that wakes the front end.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("db_path", &self.db_path)
            .field("workers", &self.workers)
            .field("memory_limit", &self.memory_limit)
            .field("duckdb_threads", &self.duckdb_threads)
            .field("max_rows_per_sec", &self.max_rows_per_sec)
            .field("waker", &self.waker.is_some())
            .field("one_job_per_process", &self.one_job_per_process)
            .finish()
    }
}

impl EngineConfig {
    /// Defaults: one worker per core, DuckDB's own memory limit, no throttle.
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        Self {
            db_path: db_path.into(),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            memory_limit: None,
            duckdb_threads: None,
            max_rows_per_sec: None,
            waker: None,
            one_job_per_process: false,
        }
    }
}

/// Removes the temporary files of the exports an earlier process left unfinished (killed, or
/// the machine stopped), which [`Store::open`] has just marked interrupted: whichever front end
/// opens the database next cleans up, not only one that starts the runtime.
pub fn remove_leftovers_of_interrupted_jobs(store: &Store) {
    for job in store.recovered_jobs() {
        let spec = job.spec.as_deref().map(|json| JobSpec::from_record(&job.kind, json));
        if let Some(Ok(JobSpec::Export(request))) = spec {
            crate::export::remove_leftovers(job.job_id, &request);
        }
    }
}

/// Why the runtime refused a request.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The database could not be opened, read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A thread of the runtime could not be started.
    #[error("could not start thread {name}: {source}")]
    Spawn {
        /// The thread's name, such as `sluice-worker-1`.
        name: String,
        /// Why the system refused it.
        source: std::io::Error,
    },
    /// The runtime has been shut down, or its dispatcher is gone.
    #[error("the job runtime has stopped")]
    Stopped,
    /// More requests wait for the dispatcher than it holds; the caller may try again.
    #[error("too many requests are waiting; try again in a moment")]
    Busy,
}

/// A running engine. Dropping it (or calling [`Engine::shutdown`]) cancels running jobs and joins
/// every thread.
pub struct Engine {
    store: Store,
    commands: Option<Sender<Command>>,
    events: Receiver<EngineEvent>,
    memory: Arc<Mutex<MemoryHistory>>,
    stop_sampler: Option<Sender<()>>,
    threads: Vec<JoinHandle<()>>,
    cancel_all: CancelToken,
    max_rows_per_sec: Option<u64>,
}

impl Engine {
    /// Opens the database (marking jobs an earlier process left unfinished as interrupted) and
    /// starts the threads.
    pub fn start(config: EngineConfig) -> Result<Self, EngineError> {
        let options = StoreOptions {
            memory_limit: config.memory_limit.clone(),
            threads: config.duckdb_threads,
        };
        let store = Store::open(&config.db_path, &options)?;
        remove_leftovers_of_interrupted_jobs(&store);
        let (command_sender, command_receiver) = bounded(COMMAND_CAPACITY);
        let (event_sender, events) = bounded(EVENT_CAPACITY);
        let event_sender = EventSender::new(event_sender, config.waker.clone());
        let (queue_sender, queue_receiver) = bounded(QUEUE_CAPACITY);
        let (stop_sampler, sampler_stop) = bounded(1);
        let memory = Arc::new(Mutex::new(MemoryHistory::new(MEMORY_HISTORY)));
        let cancel_all = CancelToken::new();
        let mut threads = Vec::new();

        let dispatcher = Dispatcher {
            store: store.try_clone()?,
            commands: command_receiver,
            queue: queue_sender,
            events: event_sender.clone(),
            cancel_flags: HashMap::new(),
            cancel_all: cancel_all.clone(),
        };
        threads.push(spawn("sluice-dispatch".into(), move || dispatcher.run())?);
        for index in 0..config.workers.max(1) {
            let worker = worker::Worker {
                store: store.try_clone()?,
                queue: queue_receiver.clone(),
                events: event_sender.clone(),
                commands: command_sender.clone(),
                process_peak: config.one_job_per_process,
            };
            threads.push(spawn(format!("sluice-worker-{}", index + 1), move || worker.run())?);
        }
        let sampler = sampler::Sampler {
            store: store.try_clone()?,
            events: event_sender,
            history: memory.clone(),
            stop: sampler_stop,
            interval: MEMORY_INTERVAL,
        };
        threads.push(spawn("sluice-memory".into(), move || sampler.run())?);

        Ok(Self {
            store,
            commands: Some(command_sender),
            events,
            memory,
            stop_sampler: Some(stop_sampler),
            threads,
            cancel_all,
            max_rows_per_sec: config.max_rows_per_sec,
        })
    }

    /// Queues a job and returns its id at once; the `Queued` event follows.
    pub fn submit(&self, mut spec: JobSpec) -> Result<i64, EngineError> {
        if let JobSpec::Import(request) = &mut spec
            && request.max_rows_per_sec.is_none()
        {
            request.max_rows_per_sec = self.max_rows_per_sec;
        }
        let job_id = self.store.allocate_job_id();
        self.send(Command::Submit {
            job_id,
            spec: Box::new(spec),
        })?;
        Ok(job_id)
    }

    /// Asks a queued or running job to stop; the `Cancelled` event follows when it has.
    pub fn cancel(&self, job_id: i64) -> Result<(), EngineError> {
        self.send(Command::Cancel { job_id })
    }

    fn send(&self, command: Command) -> Result<(), EngineError> {
        let sender = self.commands.as_ref().ok_or(EngineError::Stopped)?;
        sender.try_send(command).map_err(|error| match error {
            crossbeam_channel::TrySendError::Full(_) => EngineError::Busy,
            crossbeam_channel::TrySendError::Disconnected(_) => EngineError::Stopped,
        })
    }

    /// The events, to drain in one place.
    pub fn events(&self) -> &Receiver<EngineEvent> {
        &self.events
    }

    /// Recent memory samples, oldest first.
    pub fn memory_history(&self) -> MemoryHistory {
        self.memory
            .lock()
            .map(|history| history.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// The store, for reads on the caller's thread (job lists, failed rows).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// All jobs, newest first, read on the caller's thread.
    pub fn jobs(&self) -> Result<Vec<JobRecord>, EngineError> {
        Ok(jobs(&self.store)?)
    }

    /// Job `job_id`, or `None` when no job has that id.
    pub fn job(&self, job_id: i64) -> Result<Option<JobRecord>, EngineError> {
        Ok(job(&self.store, job_id)?)
    }

    /// Cancels what runs, stops every thread and waits for them.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.cancel_all.cancel();
        if let Some(commands) = self.commands.take() {
            // Blocking is fine here: the dispatcher is always draining its commands.
            let _ = commands.send(Command::Shutdown);
        }
        self.stop_sampler = None;
        // Workers may be blocked sending a final event; keep draining while they finish.
        for thread in self.threads.drain(..) {
            while !thread.is_finished() {
                while self.events.try_recv().is_ok() {}
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = thread.join();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(name: String, body: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, EngineError> {
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(body)
        .map_err(|source| EngineError::Spawn { name, source })
}

/// A job on its way to a worker.
pub(crate) struct QueuedJob {
    pub job_id: i64,
    pub spec: JobSpec,
    pub cancel: CancelToken,
}

/// Records submitted jobs, keeps their cancel flags and feeds the workers' queue in order.
struct Dispatcher {
    store: Store,
    commands: Receiver<Command>,
    queue: Sender<QueuedJob>,
    events: EventSender,
    cancel_flags: HashMap<i64, CancelToken>,
    cancel_all: CancelToken,
}

impl Dispatcher {
    fn run(mut self) {
        while let Ok(command) = self.commands.recv() {
            match command {
                Command::Submit { job_id, spec } => self.submit(job_id, *spec),
                Command::Cancel { job_id } => {
                    if let Some(flag) = self.cancel_flags.get(&job_id) {
                        flag.cancel();
                    }
                }
                Command::Ended { job_id } => {
                    self.cancel_flags.remove(&job_id);
                }
                Command::Shutdown => break,
            }
        }
        // The engine is shutting down: stop queued and running jobs.
        for flag in self.cancel_flags.values() {
            flag.cancel();
        }
    }

    fn submit(&mut self, job_id: i64, spec: JobSpec) {
        let labels = match spec.record(&self.store, job_id, JobStatus::Queued) {
            Ok(labels) => labels,
            Err(error) => {
                let _ = self.events.send(EngineEvent::Failed {
                    job_id,
                    error: error.to_string(),
                });
                return;
            }
        };
        let _ = self.events.send(EngineEvent::Queued {
            job_id,
            kind: spec.kind(),
            source: labels.source,
            target: labels.target.unwrap_or_default(),
            files: labels.files,
        });
        let cancel = CancelToken::new();
        if self.cancel_all.is_cancelled() {
            cancel.cancel();
        }
        self.cancel_flags.insert(job_id, cancel.clone());
        let _ = self.queue.send(QueuedJob { job_id, spec, cancel });
    }
}

#[cfg(test)]
mod tests;
