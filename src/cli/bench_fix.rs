//! `sluice bench fix`: fixing failed rows by the million. A file whose every row fails, in five
//! ways, is imported; then its groups are counted, one rule is previewed over every failed row,
//! five rules that fix all of them are applied as one fix job, and the fix is undone. The same
//! rows written clean are imported too, as the yardstick the fix and the undo are held to. Each
//! size runs in a child process of its own, so its peak memory is its own.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use sluice::engine::{DuckdbDefaults, run_fix, run_import, run_undo_fix};
use sluice::import::{
    ColumnSpec, ColumnType, FixRequest, FixRule, ImportRequest, SchemaFile, UndoFixRequest, preview_fix,
};
use sluice::progress::{CancelToken, NoProgress};
use sluice::store::{FailedRowFilter, Store, StoreOptions, failed_groups};

use crate::format::{megabytes, thousands};

/// What one size measured, in milliseconds and bytes.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct FixFigures {
    rows: u64,
    clean_import_ms: u64,
    faulty_import_ms: u64,
    groups_ms: u64,
    groups: usize,
    preview_ms: u64,
    preview_rows: u64,
    apply_ms: u64,
    rows_fixed: u64,
    undo_ms: u64,
    rows_returned: u64,
    /// The peak of the import of the faulty file.
    import_peak_rss_bytes: u64,
    /// The peak while the groups were counted and the preview ran (the high-water mark started
    /// again after the imports).
    preview_peak_rss_bytes: u64,
    /// The peak while the fix was applied, with `sluice fix`'s DuckDB settings.
    apply_peak_rss_bytes: u64,
    /// Those settings.
    apply_settings: String,
}

/// Runs each size (a tenth of `rows`, then `rows`) in a child process and prints the figures
/// against the targets.
pub fn bench_fix(rows: u64, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (_temp, dir) = super::bench_child::bench_dir(dir)?;
    let exe = std::env::current_exe()?;
    let mut measured = Vec::new();
    for size in [(rows / 10).max(10), rows] {
        eprintln!("Fixing {} failed rows in a child process...", thousands(size));
        let output = Command::new(&exe)
            .args(["bench", "fix", "--one-size", "--rows", &size.to_string(), "--dir"])
            .arg(&dir)
            .output()
            .context("cannot start the benchmark child process")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "the child for {size} rows failed ({}): {}{}",
                output.status,
                stdout.trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let last = stdout.lines().last().unwrap_or_default();
        let figures: FixFigures = serde_json::from_str(last).with_context(|| format!("unexpected output: {last}"))?;
        measured.push(figures);
    }
    println!(
        "{:>10}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>12}  {:>13}  {:>11}",
        "rows", "clean", "import", "groups", "preview", "apply", "undo", "import peak", "preview peak", "apply peak"
    );
    for figures in &measured {
        let seconds = |ms: u64| format!("{:.2} s", ms as f64 / 1000.0);
        println!(
            "{:>10}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>12}  {:>13}  {:>11}",
            thousands(figures.rows),
            seconds(figures.clean_import_ms),
            seconds(figures.faulty_import_ms),
            seconds(figures.groups_ms),
            seconds(figures.preview_ms),
            seconds(figures.apply_ms),
            seconds(figures.undo_ms),
            megabytes(figures.import_peak_rss_bytes),
            megabytes(figures.preview_peak_rss_bytes),
            megabytes(figures.apply_peak_rss_bytes)
        );
    }
    if let [small, large] = measured.as_slice() {
        let ratio = |part: u64, whole: u64| part as f64 / whole.max(1) as f64;
        let verdict = |holds: bool| if holds { "holds" } else { "NOT MET" };
        let groups = large.groups_ms as f64 / 1000.0;
        let preview = large.preview_ms as f64 / 1000.0;
        let apply = ratio(large.apply_ms, large.clean_import_ms);
        let undo = ratio(large.undo_ms, large.clean_import_ms);
        let memory = ratio(large.apply_peak_rss_bytes, small.apply_peak_rss_bytes);
        println!("At {} rows ({} groups):", thousands(large.rows), large.groups);
        println!("  groups {groups:.2} s (target under 2 s): {}", verdict(groups < 2.0));
        println!(
            "  preview of one rule over {} rows {preview:.2} s (target under 5 s): {}",
            thousands(large.preview_rows),
            verdict(preview < 5.0)
        );
        println!(
            "  apply of {} fixes {apply:.2}x the clean import (target at most 1.5x): {}",
            thousands(large.rows_fixed),
            verdict(apply <= 1.5)
        );
        println!(
            "  undo of {} rows {undo:.2}x the clean import (target at most 1.5x): {}",
            thousands(large.rows_returned),
            verdict(undo <= 1.5)
        );
        println!(
            "  peak RSS of the fix {memory:.2}x that at {} rows (target at most 1.25x): {}; the fix ran with {}",
            thousands(small.rows),
            verdict(memory <= 1.25),
            large.apply_settings
        );
        println!("  (the clean import, the groups, the preview and the undo ran with DuckDB's defaults)");
    }
    Ok(())
}

fn schema() -> SchemaFile {
    let mut name = ColumnSpec::new("name", ColumnType::Varchar);
    name.required = true;
    let mut signup = ColumnSpec::new("signup", ColumnType::Date);
    signup.written.format = Some("%Y-%m-%d".into());
    SchemaFile {
        columns: vec![
            ColumnSpec::new("id", ColumnType::BigInt),
            name,
            ColumnSpec::new("age", ColumnType::Integer),
            signup,
            ColumnSpec::new(
                "amount",
                ColumnType::Decimal {
                    precision: 10,
                    scale: 2,
                },
            ),
        ],
    }
}

/// The five rules that fix every row of [`write_rows`]'s faulty file.
fn fixing_rules() -> Vec<FixRule> {
    vec![
        FixRule::SetValue {
            column: "age".into(),
            from: Some("forty".into()),
            to: "40".into(),
        },
        FixRule::Replace {
            column: "signup".into(),
            pattern: r"^(\d\d)\.(\d\d)\.(\d{4})$".into(),
            with: "$3-$2-$1".into(),
        },
        FixRule::JoinFields {
            first: 1,
            delimiter: None,
        },
        FixRule::PadFields,
        FixRule::DefaultIfEmpty {
            column: "name".into(),
            value: "unknown".into(),
        },
    ]
}

/// Measures one size in this process and prints its figures as JSON, last.
pub fn one_size(rows: u64, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (_temp, dir) = super::bench_child::bench_dir(dir)?;
    let db_path = dir.join(format!("bench-fix-{rows}.duckdb"));
    super::bench_child::remove_database(&db_path);
    let store = Store::open(&db_path, &StoreOptions::default())?;
    let timed = |started: Instant| started.elapsed().as_millis() as u64;

    let clean = dir.join(format!("bench-fix-clean-{rows}.csv"));
    write_rows(&clean, rows, false)?;
    let faulty = dir.join(format!("bench-fix-faulty-{rows}.csv"));
    write_rows(&faulty, rows, true)?;
    let cancel = CancelToken::new();
    let import = |path: &Path, table: &str| {
        let mut request = ImportRequest::new(path, table);
        request.schema = Some(schema());
        run_import(&store, &request, &mut NoProgress, &cancel)
    };
    let started = Instant::now();
    let clean_summary = import(&clean, "clean")?;
    let clean_import_ms = timed(started);
    if clean_summary.rows_imported != rows {
        bail!(
            "the clean file imported {} rows, not {rows}",
            clean_summary.rows_imported
        );
    }
    let started = Instant::now();
    let summary = import(&faulty, "people")?;
    let faulty_import_ms = timed(started);
    if summary.rows_failed != rows {
        bail!("the faulty file failed {} rows, not {rows}", summary.rows_failed);
    }
    let job_id = summary.job_id;

    let import_peak_rss_bytes = sluice::memory::peak_rss_bytes().unwrap_or(0);
    // What the imports freed goes back to the system first, so the steps' peak is their own.
    sluice::memory::return_freed_memory();
    sluice::memory::reset_peak_rss();
    let started = Instant::now();
    let groups = failed_groups(store.conn(), job_id)?.len();
    let groups_ms = timed(started);

    let every_row = FailedRowFilter::default();
    let started = Instant::now();
    let preview = preview_fix(&store, job_id, &every_row, &fixing_rules()[..1], &cancel)?;
    let preview_ms = timed(started);

    let request = FixRequest {
        import_job_id: job_id,
        filter: every_row,
        rules: fixing_rules(),
    };
    // The fix runs as `sluice fix` runs it, with its DuckDB settings; the rest with DuckDB's own.
    let (default_threads, default_limit) = store.duckdb_settings()?;
    let groups_and_preview_peak = sluice::memory::peak_rss_bytes().unwrap_or(0);
    DuckdbDefaults::fix(5, false).apply(&store, false, false)?;
    let (threads, memory_limit) = store.duckdb_settings()?;
    let apply_settings = format!("DuckDB {threads} threads, memory limit {memory_limit}");
    sluice::memory::return_freed_memory();
    sluice::memory::reset_peak_rss();
    let started = Instant::now();
    let fixed = run_fix(&store, &request, &mut NoProgress, &cancel).map_err(|failure| failure.error)?;
    let apply_ms = timed(started);
    let apply_peak_rss_bytes = sluice::memory::peak_rss_bytes().unwrap_or(0);
    store.set_memory_limit(&default_limit)?;
    store.set_threads(default_threads.parse().unwrap_or(1))?;
    if fixed.rows_imported != rows {
        bail!("the fix imported {} of the {rows} rows", fixed.rows_imported);
    }

    let started = Instant::now();
    let undone = run_undo_fix(
        &store,
        &UndoFixRequest {
            fix_job_id: fixed.job_id,
        },
        &mut NoProgress,
        &cancel,
    )
    .map_err(|failure| failure.error)?;
    let undo_ms = timed(started);

    let figures = FixFigures {
        rows,
        clean_import_ms,
        faulty_import_ms,
        groups_ms,
        groups,
        preview_ms,
        preview_rows: preview.rows,
        apply_ms,
        rows_fixed: fixed.rows_imported,
        undo_ms,
        rows_returned: undone.rows_returned,
        import_peak_rss_bytes,
        preview_peak_rss_bytes: groups_and_preview_peak,
        apply_peak_rss_bytes,
        apply_settings,
    };
    drop(store);
    super::bench_child::remove_database(&db_path);
    let _ = std::fs::remove_file(&clean);
    let _ = std::fs::remove_file(&faulty);
    println!("{}", serde_json::to_string(&figures)?);
    Ok(())
}

/// `rows` rows of people; with `faulty`, every row fails in one of five ways, a fifth each: an
/// age of `forty`, a date written `31.12.2024`, a name with an unquoted comma (a field too many),
/// a row cut short (too few fields), an empty required name.
fn write_rows(path: &Path, rows: u64, faulty: bool) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    writeln!(out, "id,name,age,signup,amount")?;
    for id in 1..=rows {
        let (month, day) = (1 + id % 12, 1 + id % 28);
        let age = (18 + id % 70).to_string();
        let signup = format!("2024-{month:02}-{day:02}");
        let amount = format!("{}.{:02}", id % 9999, id % 100);
        let name = format!("N{id}");
        if !faulty {
            writeln!(out, "{id},{name},{age},{signup},{amount}")?;
            continue;
        }
        match id % 5 {
            0 => writeln!(out, "{id},{name},forty,{signup},{amount}")?,
            1 => writeln!(out, "{id},{name},{age},{day:02}.{month:02}.2024,{amount}")?,
            2 => writeln!(out, "{id},Smith, {name},{age},{signup},{amount}")?,
            3 => writeln!(out, "{id},{name}")?,
            _ => writeln!(out, "{id},,{age},{signup},{amount}")?,
        }
    }
    out.flush()?;
    Ok(())
}
