//! Following one job on the runtime from the command line: Ctrl-C cancels it, progress goes to a
//! bar on a terminal or to JSON lines with `--json`, and the job's end is returned.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sluice::engine::{Engine, EngineConfig, EngineEvent, JobProgress, JobSpec, JobSummary};
use sluice::store::{Store, YieldingLimit};

use crate::format::{mebibytes, thousands};

/// How a followed job ended.
pub enum Ended {
    Finished(JobSummary),
    Cancelled,
    Failed(String),
}

/// DuckDB settings for a command-line job when the user gives none.
///
/// A command-line job runs alone in a process that exits when it ends, so DuckDB's block cache
/// (which keeps every block written or read, up to the memory limit) serves nothing: for a job
/// that only streams, a small limit keeps memory flat however big the file or table is. Jobs
/// that sort, aggregate or write Parquet need DuckDB's working memory and keep its defaults.
#[derive(Clone, Debug, Default)]
pub struct DuckdbDefaults {
    /// DuckDB's memory limit, in megabytes (10^6 bytes, as DuckDB counts them).
    pub memory_limit_mb: Option<u64>,
    /// How far an import may lower that limit as its transaction grows
    /// ([`sluice::store::YieldingLimit`]); `None` keeps it fixed.
    pub memory_floor_mb: Option<u64>,
    pub threads: Option<usize>,
}

impl DuckdbDefaults {
    /// An import writes one batch at a time from one thread: DuckDB's worker threads would only
    /// compete with the parse thread for cores. Its memory holds the row group being written,
    /// a 256 KiB block or so per column, plus room for the rest. (Measured on 5M rows of 8
    /// columns: 3.1-3.3 s and 147 MiB, against 3.3 s and 265 MiB with DuckDB's defaults; a
    /// 300-column file needs about 100 MB.)
    ///
    /// The rest gives way to the transaction's own bookkeeping as it grows, by up to 8 MB. Below
    /// that DuckDB starts moving the transaction's unwritten blocks to its temporary folder and
    /// back, and memory falls no further: 50M rows of 8 columns peaked at 136.9-137.8 MiB with
    /// a fixed 34 MB (22.1-22.3 s), 130.4-130.7 MiB going down to 26 MB (21.6-21.8 s) and
    /// 131.2 MiB going down to 18 MB (23.4-24.1 s).
    ///
    /// The `unique` rule's check (a grouping and a join over the job's keys and the table) spills
    /// to disk but needs room to do so: 32 MB failed appending a million duplicates of rows
    /// already in the table, 42 MB worked. DuckDB fills what it is given as the keys grow (peak
    /// RSS at 5M unique keys: 201 MiB with 48 MB, 257 MiB with 100 MB), so the extra room is
    /// kept small: 16 MB more, and the limit stays where it is.
    pub fn import(columns: usize, checks_unique: bool) -> Self {
        let per_columns = columns.div_ceil(4) as u64;
        Self {
            memory_limit_mb: Some(32 + per_columns + if checks_unique { 16 } else { 0 }),
            memory_floor_mb: (!checks_unique).then_some(24 + per_columns),
            threads: Some(1),
        }
    }

    /// An unsorted CSV or Excel export streams row groups from disk once each. Each scanning thread pins
    /// a block or so per column, so it runs on one (Sluice's own encoder and gzip threads use the
    /// cores; measured on 5M rows: 2.1 s either way).
    pub fn streaming_export(columns: usize) -> Self {
        Self {
            memory_limit_mb: Some(16 + columns.div_ceil(2) as u64),
            memory_floor_mb: None,
            threads: Some(1),
        }
    }
}

/// The DuckDB settings a job ran with, as DuckDB reports them, for its summary.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RanWith {
    pub duckdb_threads: String,
    pub duckdb_memory_limit: String,
    /// How low the import took the memory limit as its transaction grew
    /// ([`sluice::store::YieldingLimit`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duckdb_memory_limit_lowest: Option<String>,
}

/// Runs one job on a one-worker runtime over the database `db` names, and follows it to its end.
/// `defaults` picks DuckDB's settings, from the open database, where the user gave none.
pub fn run_job(
    db: &super::DbArgs,
    defaults: impl FnOnce(&Store) -> DuckdbDefaults,
    spec: JobSpec,
    json: bool,
) -> anyhow::Result<(i64, Ended, RanWith)> {
    let mut config = EngineConfig::new(db.path()?);
    config.workers = 1;
    config.one_job_per_process = true;
    config.memory_limit = db.memory_limit.clone();
    config.duckdb_threads = db.duckdb_threads;
    let engine = Engine::start(config)?;
    // Settings the user did not give are chosen with the database open (an export needs its
    // table's width) and applied before the job starts.
    let chosen = defaults(engine.store());
    if let (None, Some(limit_mb)) = (&db.memory_limit, chosen.memory_limit_mb) {
        match chosen.memory_floor_mb {
            Some(floor_mb) => engine.store().set_yielding_memory_limit(YieldingLimit {
                bytes: limit_mb * 1_000_000,
                floor_bytes: floor_mb * 1_000_000,
            })?,
            None => engine.store().set_memory_limit(&format!("{limit_mb}MB"))?,
        }
    }
    if let (None, Some(threads)) = (db.duckdb_threads, chosen.threads) {
        engine.store().set_threads(threads)?;
    }
    let (duckdb_threads, duckdb_memory_limit) = engine.store().duckdb_settings()?;
    let job_id = engine.submit(spec)?;
    let ended = follow(&engine, job_id, json)?;
    let ran_with = RanWith {
        duckdb_threads,
        duckdb_memory_limit,
        duckdb_memory_limit_lowest: engine.store().lowest_yielded_limit().map(mebibytes),
    };
    Ok((job_id, ended, ran_with))
}

/// Prints a finished job's summary as the last JSON line, with the settings it ran with
/// (`settings`, an object) so a benchmark can say what it measured.
pub fn print_finished_json(summary: &impl serde::Serialize, settings: serde_json::Value) -> anyhow::Result<()> {
    let mut value = serde_json::to_value(summary)?;
    value["event"] = serde_json::json!("finished");
    value["settings"] = settings;
    println!("{value}");
    Ok(())
}

/// Waits for job `job_id` to end, showing its progress.
fn follow(engine: &Engine, job_id: i64, json: bool) -> anyhow::Result<Ended> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let on_interrupt = interrupted.clone();
    ctrlc::set_handler(move || on_interrupt.store(true, Ordering::Relaxed))
        .context("cannot install the Ctrl-C handler")?;
    let bar = (!json && std::io::stderr().is_terminal()).then(progress_bar);
    let mut cancel_sent = false;
    let ended = loop {
        if interrupted.load(Ordering::Relaxed) && !cancel_sent {
            engine.cancel(job_id)?;
            cancel_sent = true;
        }
        let event = match engine.events().recv_timeout(Duration::from_millis(100)) {
            Ok(event) => event,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => anyhow::bail!("the job runtime stopped"),
        };
        if event.job_id() != Some(job_id) {
            continue;
        }
        match event {
            EngineEvent::Progress { progress, .. } => {
                if json {
                    println!("{}", progress_json(job_id, &progress));
                }
                if let Some(bar) = &bar {
                    update_bar(bar, &progress);
                }
            }
            EngineEvent::Finished { summary, .. } => break Ended::Finished(summary),
            EngineEvent::Cancelled { .. } => break Ended::Cancelled,
            EngineEvent::Failed { error, .. } => break Ended::Failed(error),
            EngineEvent::Queued { .. } | EngineEvent::Started { .. } | EngineEvent::Memory(_) => {}
        }
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    Ok(ended)
}

fn progress_json(job_id: i64, progress: &JobProgress) -> serde_json::Value {
    serde_json::json!({
        "event": "progress",
        "job_id": job_id,
        "bytes_read": progress.counts.bytes_read,
        "bytes_total": progress.counts.bytes_total,
        "rows_read": progress.counts.rows_read,
        "rows_imported": progress.counts.rows_imported,
        "rows_failed": progress.counts.rows_failed,
        "rows_written": progress.counts.rows_written,
        "rows_total": progress.counts.rows_total,
        "bytes_written": progress.counts.bytes_written,
        "rows_per_sec": progress.rows_per_sec.round(),
        "eta_secs": progress.eta_secs.map(|eta| (eta * 10.0).round() / 10.0),
    })
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{bar:40} {percent:>3}% {msg} ETA {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_length(1000);
    bar
}

fn update_bar(bar: &ProgressBar, progress: &JobProgress) {
    if let Some(fraction) = progress.fraction() {
        bar.set_position((fraction * 1000.0) as u64);
    }
    let rows = progress.counts.rows_read.max(progress.counts.rows_written);
    let failed = if progress.counts.rows_failed > 0 {
        format!(" ({} failed)", thousands(progress.counts.rows_failed))
    } else {
        String::new()
    };
    bar.set_message(format!(
        "{} rows{failed}, {} rows/s",
        thousands(rows),
        thousands(progress.rows_per_sec as u64)
    ));
}

/// The JSON line for a job that did not finish.
pub fn unfinished_json(job_id: i64, status: &str, error: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "event": status,
        "job_id": job_id,
        "status": status,
        "error": error,
        "peak_rss_bytes": sluice::memory::peak_rss_bytes(),
    })
}
