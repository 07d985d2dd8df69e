//! `sluice bench failed`: how reading failed rows scales. A file whose every row fails is
//! imported, then pages of its failed rows are read at the start, the middle and the end (as the
//! window reads them), and the error report is written for a quarter of the rows and for all of
//! them: the time per row should not grow with the rows.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use sluice::engine::run_import;
use sluice::import::{ColumnSpec, ColumnType, ImportRequest, SchemaFile};
use sluice::progress::{CancelToken, NoProgress};
use sluice::store::{
    FailedRowFilter, ReportFormat, Store, StoreOptions, failed_page_starts, read_failed_rows, write_failed_report,
};

use crate::format::{megabytes, thousands};

/// Rows per page, as the window's Failed rows view reads them.
const PAGE_ROWS: u64 = 200;
/// What a page read must stay under, at the end as at the start.
const PAGE_BUDGET_MS: f64 = 50.0;

pub fn bench_failed(rows: u64, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (_temp, dir) = super::bench_child::bench_dir(dir)?;
    let db_path = dir.join("bench-failed.duckdb");
    let _ = std::fs::remove_file(&db_path);
    let _ = std::fs::remove_file(db_path.with_extension("duckdb.wal"));
    let store = Store::open(&db_path, &StoreOptions::default())?;
    let quarter = (rows / 4).max(1);
    let mut jobs = Vec::new();
    for (table, count) in [("failed_quarter", quarter), ("failed_all", rows)] {
        let csv = dir.join(format!("bench-{table}.csv"));
        eprintln!("Generating and importing {} failing rows...", thousands(count));
        let bytes = write_failing_csv(&csv, count)?;
        let mut request = ImportRequest::new(&csv, table);
        request.schema = Some(SchemaFile {
            columns: vec![
                ColumnSpec::new("id", ColumnType::BigInt),
                ColumnSpec::new("amount", ColumnType::BigInt),
            ],
        });
        let started = Instant::now();
        let summary = run_import(&store, &request, &mut NoProgress, &CancelToken::new())?;
        if summary.rows_failed != count || summary.rows_imported != 0 {
            bail!(
                "expected {} failed rows and none imported, got {} failed and {} imported",
                count,
                summary.rows_failed,
                summary.rows_imported
            );
        }
        println!(
            "Imported {} ({}) with {} failed rows in {:.1} s",
            table,
            megabytes(bytes),
            thousands(count),
            started.elapsed().as_secs_f64()
        );
        jobs.push((count, summary.job_id));
        let _ = std::fs::remove_file(&csv);
    }
    let (_, full_job) = jobs[1];
    let conn = store.conn();
    let filter = FailedRowFilter::default();
    let started = Instant::now();
    let starts = failed_page_starts(conn, full_job, &filter, PAGE_ROWS)?;
    println!(
        "Page index of {} failed rows: {} pages in {:.0} ms",
        thousands(rows),
        thousands(starts.len() as u64),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let mut slowest = 0.0f64;
    for (name, page) in [
        ("start", 0),
        ("middle", starts.len() / 2),
        ("end", starts.len().saturating_sub(1)),
    ] {
        let from = *starts.get(page).context("no failed rows were stored")?;
        let before = starts.get(page + 1).copied();
        let mut best = f64::MAX;
        let mut read = 0;
        for _ in 0..3 {
            let started = Instant::now();
            read = read_failed_rows(conn, full_job, &filter, from, before, PAGE_ROWS)?.len();
            best = best.min(started.elapsed().as_secs_f64() * 1000.0);
        }
        slowest = slowest.max(best);
        println!("Page {page:>6} ({name:<6}): {read} rows in {best:.1} ms (best of 3)");
    }
    println!(
        "Slowest page: {slowest:.1} ms, {} the {PAGE_BUDGET_MS:.0} ms budget",
        if slowest < PAGE_BUDGET_MS { "within" } else { "OVER" }
    );
    let mut per_row = Vec::new();
    for (count, job_id) in jobs {
        let path = dir.join(format!("bench-report-{job_id}.csv"));
        let started = Instant::now();
        let file = std::fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = BufWriter::new(file);
        let written = write_failed_report(conn, job_id, ReportFormat::Csv, &mut out)?;
        out.flush()?;
        let seconds = started.elapsed().as_secs_f64();
        if written != count {
            bail!("the report of job {job_id} has {written} rows, not {count}");
        }
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let _ = std::fs::remove_file(&path);
        println!(
            "Report of {} rows: {:.2} s, {} rows/s, {}",
            thousands(count),
            seconds,
            thousands((count as f64 / seconds.max(1e-9)) as u64),
            megabytes(size)
        );
        per_row.push(seconds / count as f64);
    }
    println!(
        "Time per report row, all rows against a quarter: {:.2}x (1.0 is linear)",
        per_row[1] / per_row[0].max(1e-12)
    );
    Ok(())
}

/// A file of `rows` rows that all fail: `amount` is never a number, and every tenth row also
/// has a field too many, so the report needs an extra column. Returns its size.
fn write_failing_csv(path: &Path, rows: u64) -> anyhow::Result<u64> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    writeln!(out, "id,amount")?;
    for id in 1..=rows {
        if id % 10 == 0 {
            writeln!(out, "{id},n/a-{id},\"extra, quoted\"")?;
        } else {
            writeln!(out, "{id},n/a-{id}")?;
        }
    }
    out.flush()?;
    Ok(out.get_ref().metadata()?.len())
}
