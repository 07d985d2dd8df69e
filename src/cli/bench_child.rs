//! What every `sluice bench` command shares: the folder it writes in, and the measured child
//! processes (each side of a comparison runs in one of its own, so its peak memory is its own),
//! best of a few runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// One side's figures, as its child process reported them.
pub(super) struct Measured {
    pub elapsed_ms: u64,
    pub peak_rss_bytes: u64,
    pub rows: u64,
    /// What the side ran with (DuckDB threads and memory limit, gzip threads and level).
    pub settings: String,
}

/// Imports `source` into table `table` of a fresh database `db` with this executable in a child
/// process (best of `RUNS_PER_SIDE`), with `args` added; the rows imported are its row count.
pub(super) fn import_in_child(
    what: &str,
    source: &Path,
    db: &Path,
    args: &[&std::ffi::OsStr],
) -> anyhow::Result<Measured> {
    let exe = std::env::current_exe()?;
    best_of(RUNS_PER_SIDE, what, || {
        remove_database(db);
        run_child(
            Command::new(&exe)
                .arg("import")
                .arg(source)
                .args(["--table", "bench", "--json", "--db"])
                .arg(db)
                .args(args),
            "rows_imported",
        )
    })
}

/// Where a benchmark writes its files: the folder asked for, or a temporary one. The temporary
/// folder is removed when the returned guard is dropped, so keep it for the whole benchmark.
pub(super) fn bench_dir(dir: Option<PathBuf>) -> anyhow::Result<(tempfile::TempDir, PathBuf)> {
    let temp = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    Ok((temp, dir))
}

/// Runs of each side of a speed comparison. The fastest counts, so a burst of disk writeback
/// (the input was usually just written) or other noise does not decide the ratio.
pub(super) const RUNS_PER_SIDE: usize = 3;

/// The fastest of `runs` runs.
pub(super) fn best_of(
    runs: usize,
    what: &str,
    mut run: impl FnMut() -> anyhow::Result<Measured>,
) -> anyhow::Result<Measured> {
    eprintln!("{what}...");
    let mut best = run()?;
    for _ in 1..runs {
        let next = run()?;
        if next.elapsed_ms < best.elapsed_ms {
            best = next;
        }
    }
    Ok(best)
}

pub(super) fn remove_database(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("duckdb.wal"));
}

/// Runs a child whose last stdout line is JSON with `elapsed_ms`, `peak_rss_bytes`, a row count
/// and the `settings` it ran with. A missing figure is an error: a benchmark that reads 0 for
/// a number it did not get would report a result nobody measured.
pub(super) fn run_child(command: &mut Command, rows_key: &str) -> anyhow::Result<Measured> {
    let output = command.output().context("cannot start the benchmark child process")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "benchmark child failed ({}): {}{}",
            output.status,
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let last = stdout.lines().last().unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(last).with_context(|| format!("unexpected output: {last}"))?;
    let number = |key: &str| {
        value[key]
            .as_u64()
            .with_context(|| format!("the benchmark child did not report {key}: {last}"))
    };
    let settings = value["settings"]
        .as_object()
        .with_context(|| format!("the benchmark child did not report its settings: {last}"))?;
    let settings: Vec<String> = settings
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| match value.as_str() {
            Some(text) => format!("{key} {text}"),
            None => format!("{key} {value}"),
        })
        .collect();
    Ok(Measured {
        elapsed_ms: number("elapsed_ms")?,
        peak_rss_bytes: number("peak_rss_bytes")?,
        rows: number(rows_key)?,
        settings: settings.join(", "),
    })
}
