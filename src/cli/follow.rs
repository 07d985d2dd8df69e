//! Following one job on the runtime from the command line: Ctrl-C cancels it, progress goes to a
//! bar on a terminal or to JSON lines with `--json`, and the job's end is returned.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sluice::engine::{DuckdbDefaults, Engine, EngineConfig, EngineEvent, JobProgress, JobSpec, JobSummary};
use sluice::store::Store;

use crate::format::{mebibytes, thousands};

/// How a followed job ended.
pub enum Ended {
    Finished(JobSummary),
    Cancelled,
    Failed(String),
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
    defaults(engine.store()).apply(engine.store(), db.memory_limit.is_some(), db.duckdb_threads.is_some())?;
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
