//! Tests of the runtime with the real engine on small files.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::*;
use crate::import::ImportRequest;

fn engine(dir: &Path, workers: usize) -> Engine {
    let mut config = EngineConfig::new(dir.join("engine.duckdb"));
    config.workers = workers;
    Engine::start(config).unwrap()
}

fn csv(dir: &Path, name: &str, rows: usize) -> PathBuf {
    let mut text = String::from("id,name\n");
    for i in 0..rows {
        text.push_str(&format!("{i},name {i}\n"));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Collects events until every job in `jobs` has ended, returning them in order.
fn until_ended(engine: &Engine, jobs: &[i64]) -> Vec<EngineEvent> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let mut open: Vec<i64> = jobs.to_vec();
    while !open.is_empty() {
        let event = engine
            .events()
            .recv_deadline(deadline)
            .expect("jobs did not end within a minute");
        if event.is_terminal() {
            open.retain(|job| Some(*job) != event.job_id());
        }
        if !matches!(event, EngineEvent::Memory(_)) {
            seen.push(event);
        }
    }
    seen
}

fn terminal_of(events: &[EngineEvent], job_id: i64) -> &EngineEvent {
    events
        .iter()
        .find(|event| event.is_terminal() && event.job_id() == Some(job_id))
        .unwrap()
}

#[test]
fn three_imports_and_an_export_run_at_once_and_each_ends_correctly() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 4);
    engine
        .store()
        .conn()
        .execute_batch(&crate::bench::people_table_sql(50_000))
        .unwrap();
    let out = dir.path().join("people.csv");
    let export = engine
        .submit(JobSpec::Export(crate::export::ExportRequest::new("people", &out)))
        .unwrap();
    let jobs: Vec<i64> = (0..3)
        .map(|n| {
            let path = csv(dir.path(), &format!("f{n}.csv"), 10_000 * (n + 1));
            engine
                .submit(JobSpec::Import(ImportRequest::new(path, format!("t{n}"))))
                .unwrap()
        })
        .collect();
    let mut all = jobs.clone();
    all.push(export);
    let events = until_ended(&engine, &all);
    let EngineEvent::Finished {
        summary: JobSummary::Export(exported),
        ..
    } = terminal_of(&events, export)
    else {
        panic!("the export did not finish: {events:?}");
    };
    assert_eq!(exported.rows_written, 50_000);
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 50_001);
    let started: Vec<i64> = events
        .iter()
        .filter_map(|event| match event {
            EngineEvent::Started { job_id } => Some(*job_id),
            _ => None,
        })
        .collect();
    assert_eq!(started.len(), 4);
    for (n, job_id) in jobs.iter().enumerate() {
        let EngineEvent::Finished {
            summary: JobSummary::Import(summary),
            ..
        } = terminal_of(&events, *job_id)
        else {
            panic!("job {job_id} did not finish: {events:?}");
        };
        assert_eq!(summary.rows_imported, 10_000 * (n as u64 + 1));
        let count: i64 = engine
            .store()
            .conn()
            .query_row(&format!("SELECT count(*) FROM t{n}"), [], |row| row.get(0))
            .unwrap();
        assert_eq!(count as u64, summary.rows_imported);
    }
}

#[test]
fn each_job_gets_queued_started_progress_and_one_terminal_event_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 1);
    let path = csv(dir.path(), "a.csv", 50_000);
    let mut request = ImportRequest::new(path, "t");
    request.batch_rows = 5_000;
    let job_id = engine.submit(JobSpec::Import(request)).unwrap();
    let events = until_ended(&engine, &[job_id]);
    let names: Vec<&str> = events
        .iter()
        .map(|event| match event {
            EngineEvent::Queued { .. } => "queued",
            EngineEvent::Started { .. } => "started",
            EngineEvent::Progress { .. } => "progress",
            EngineEvent::Finished { .. } => "finished",
            EngineEvent::Failed { .. } => "failed",
            EngineEvent::Cancelled { .. } => "cancelled",
            EngineEvent::Memory(_) => "memory",
        })
        .collect();
    assert_eq!(names[..2], ["queued", "started"]);
    assert_eq!(names.last(), Some(&"finished"));
    assert_eq!(names.iter().filter(|name| **name == "finished").count(), 1);
    assert!(names[2..names.len() - 1].iter().all(|name| *name == "progress"));
    let EngineEvent::Progress { progress, .. } = &events[events.len() - 2] else {
        panic!("no progress before the end: {names:?}");
    };
    assert_eq!(progress.counts.rows_read, 50_000);
    assert_eq!(progress.fraction(), Some(1.0));
}

#[test]
fn queued_and_running_jobs_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 1);
    let mut slow = ImportRequest::new(csv(dir.path(), "slow.csv", 100_000), "slow");
    slow.max_rows_per_sec = Some(20_000);
    slow.batch_rows = 2_000;
    let running = engine.submit(JobSpec::Import(slow)).unwrap();
    let queued = engine
        .submit(JobSpec::Import(ImportRequest::new(
            csv(dir.path(), "q.csv", 10),
            "queued",
        )))
        .unwrap();
    // Cancel the running one once it has made progress.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let EngineEvent::Progress { job_id, .. } = engine.events().recv_deadline(deadline).unwrap()
            && job_id == running
        {
            break;
        }
    }
    engine.cancel(queued).unwrap();
    engine.cancel(running).unwrap();
    let events = until_ended(&engine, &[running, queued]);
    assert!(matches!(terminal_of(&events, running), EngineEvent::Cancelled { .. }));
    assert!(matches!(terminal_of(&events, queued), EngineEvent::Cancelled { .. }));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, EngineEvent::Started { job_id } if *job_id == queued))
    );
    assert_eq!(engine.job(running).unwrap().unwrap().status, JobStatus::Cancelled);
    assert_eq!(engine.job(queued).unwrap().unwrap().status, JobStatus::Cancelled);
    assert!(crate::store::list_tables(engine.store().conn()).unwrap().is_empty());
}

#[test]
fn a_panicking_job_is_recorded_as_failed_and_the_pool_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 1);
    let panicking = engine.submit(JobSpec::Panic).unwrap();
    let after = engine
        .submit(JobSpec::Import(ImportRequest::new(csv(dir.path(), "a.csv", 10), "t")))
        .unwrap();
    let events = until_ended(&engine, &[panicking, after]);
    let EngineEvent::Failed { error, .. } = terminal_of(&events, panicking) else {
        panic!("the panicking job did not fail: {events:?}");
    };
    assert!(error.contains("panicked on purpose"), "{error}");
    assert!(matches!(terminal_of(&events, after), EngineEvent::Finished { .. }));
    let record = engine.job(panicking).unwrap().unwrap();
    assert_eq!(record.status, JobStatus::Failed);
}

#[test]
fn memory_is_sampled() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let EngineEvent::Memory(sample) = engine.events().recv_deadline(deadline).unwrap() {
            assert!(sample.rss_bytes.unwrap_or(0) > 0);
            break;
        }
    }
    assert!(!engine.memory_history().is_empty());
}

#[test]
fn many_small_jobs_leave_memory_where_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 2);
    let path = csv(dir.path(), "small.csv", 200);
    let run_batch = |first: usize| {
        let jobs: Vec<i64> = (first..first + 100)
            .map(|n| {
                let mut request = ImportRequest::new(&path, format!("t{n}"));
                request.mode = crate::import::ImportMode::Replace;
                loop {
                    match engine.submit(JobSpec::Import(request.clone())) {
                        Ok(job_id) => return job_id,
                        Err(EngineError::Busy) => std::thread::sleep(Duration::from_millis(10)),
                        Err(error) => panic!("{error}"),
                    }
                }
            })
            .collect();
        until_ended(&engine, &jobs);
    };
    // Warm up caches and allocator pools, then measure across the next 200 jobs.
    run_batch(0);
    let before = crate::memory::current_rss_bytes().unwrap();
    run_batch(0);
    run_batch(0);
    let after = crate::memory::current_rss_bytes().unwrap();
    let growth = after.saturating_sub(before);
    eprintln!("RSS before {before}, after 200 more jobs {after}");
    assert!(growth < 32 * 1024 * 1024, "memory grew by {growth} bytes over 200 jobs");
}

#[test]
fn leftovers_of_an_interrupted_export_are_removed_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let job_id = {
        let store = Store::open(&dir.path().join("engine.duckdb"), &StoreOptions::default()).unwrap();
        let job_id = store.allocate_job_id();
        let request = crate::export::ExportRequest::new("t", &out);
        crate::export::record_job(store.conn(), job_id, &request, JobStatus::Running).unwrap();
        std::fs::write(crate::export::part_path(&out, job_id), b"half a file").unwrap();
        job_id
    };
    let engine = engine(dir.path(), 1);
    assert!(!crate::export::part_path(&out, job_id).exists());
    assert_eq!(engine.job(job_id).unwrap().unwrap().status, JobStatus::Interrupted);
}

#[test]
fn an_export_runs_as_a_job_with_a_row_total() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 1);
    let import = engine
        .submit(JobSpec::Import(ImportRequest::new(
            csv(dir.path(), "a.csv", 30_000),
            "t",
        )))
        .unwrap();
    until_ended(&engine, &[import]);
    let mut request = crate::export::ExportRequest::new("t", dir.path().join("t.csv.gz"));
    request.gzip_level = Some(1);
    let export = engine.submit(JobSpec::Export(request)).unwrap();
    let events = until_ended(&engine, &[export]);
    let EngineEvent::Finished {
        summary: JobSummary::Export(summary),
        ..
    } = terminal_of(&events, export)
    else {
        panic!("the export did not finish: {events:?}");
    };
    assert_eq!(summary.rows_written, 30_000);
    let last_progress = events
        .iter()
        .rev()
        .find_map(|event| match event {
            EngineEvent::Progress { progress, .. } => Some(*progress),
            _ => None,
        })
        .unwrap();
    assert_eq!(last_progress.counts.rows_total, Some(30_000));
    assert_eq!(last_progress.fraction(), Some(1.0));
}
