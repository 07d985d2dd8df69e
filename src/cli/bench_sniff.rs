//! `sluice bench sniff FILE|FOLDER...`: what Sluice makes of real files with everything sniffed,
//! against DuckDB's own sniffer on the same files: how many columns each types (anything but
//! VARCHAR), how many rows each reads, and whether both find a header.
//!
//! DuckDB reads with `ignore_errors = true`, so its row count is the rows it kept; Sluice's
//! imported rows are set beside its failed ones, which DuckDB drops silently.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sluice::engine::run_import;
use sluice::import::{ImportRequest, SniffHints, sniff};
use sluice::progress::{CancelToken, NoProgress};
use sluice::store::{Store, StoreOptions};

use crate::format::thousands;

#[derive(Default)]
struct Tally {
    files: u64,
    sluice_typed: u64,
    sluice_columns: u64,
    duckdb_typed: u64,
    duckdb_columns: u64,
    sluice_imported: u64,
    sluice_failed: u64,
    sluice_skipped: u64,
    duckdb_rows: u64,
    header_disagrees: u64,
    duckdb_errors: u64,
}

pub fn bench_sniff(paths: &[PathBuf], python: &str) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, &mut files)?;
    }
    files.sort();
    let temp = tempfile::tempdir()?;
    let store = Store::open(&temp.path().join("sniff.duckdb"), &StoreOptions::default())?;
    let (version, duckdb_reads) = sluice::bench::official_duckdb_sniffs(python, temp.path(), &files)
        .context("the official DuckDB is the anchor of this comparison")?;
    println!("DuckDB: the official build {version} (Python package, {python}), read_csv with ignore_errors");
    let mut tally = Tally::default();
    println!(
        "{:<48} {:>13} {:>13} {:>22} {:>10} {:>7}",
        "file", "Sluice typed", "DuckDB typed", "Sluice imp/failed/skip", "DuckDB", "header"
    );
    for ((index, path), duckdb_side) in files.iter().enumerate().zip(duckdb_reads) {
        let Ok(sniffed) = sniff(path, &SniffHints::default()) else {
            continue;
        };
        let table = format!("sniffed_{index}");
        let Ok(summary) = run_import(
            &store,
            &ImportRequest::new(path, &table),
            &mut NoProgress,
            &CancelToken::new(),
        ) else {
            continue;
        };
        let typed = |types: &[String]| types.iter().filter(|name| name.as_str() != "VARCHAR").count() as u64;
        let sluice_types: Vec<String> = sniffed.layout.column_types.iter().map(ToString::to_string).collect();
        let shown = path.display().to_string();
        let shown = if shown.len() > 48 {
            format!("…{}", &shown[shown.len() - 47..])
        } else {
            shown
        };
        tally.files += 1;
        tally.sluice_typed += typed(&sluice_types);
        tally.sluice_columns += sluice_types.len() as u64;
        tally.sluice_imported += summary.rows_imported;
        tally.sluice_failed += summary.rows_failed;
        tally.sluice_skipped += summary.rows_skipped;
        match duckdb_side {
            Ok(sluice::bench::DuckdbRead {
                column_types: types,
                rows,
                has_header,
            }) => {
                tally.duckdb_typed += typed(&types);
                tally.duckdb_columns += types.len() as u64;
                tally.duckdb_rows += rows;
                let same_header = has_header == sniffed.layout.has_header;
                tally.header_disagrees += u64::from(!same_header);
                println!(
                    "{shown:<48} {:>13} {:>13} {:>22} {:>10} {:>7}",
                    format!("{}/{}", typed(&sluice_types), sluice_types.len()),
                    format!("{}/{}", typed(&types), types.len()),
                    format!(
                        "{}/{}/{}",
                        summary.rows_imported, summary.rows_failed, summary.rows_skipped
                    ),
                    rows,
                    if same_header { "same" } else { "DIFFERS" }
                );
            }
            Err(error) => {
                tally.duckdb_errors += 1;
                println!(
                    "{shown:<48} {:>13} {:>13} {:>22} DuckDB could not read it: {}",
                    format!("{}/{}", typed(&sluice_types), sluice_types.len()),
                    "-",
                    format!(
                        "{}/{}/{}",
                        summary.rows_imported, summary.rows_failed, summary.rows_skipped
                    ),
                    one_line(&error)
                );
            }
        }
    }
    let share = |part: u64, whole: u64| 100.0 * part as f64 / whole.max(1) as f64;
    println!();
    println!("Files: {} ({} DuckDB could not read)", tally.files, tally.duckdb_errors);
    println!(
        "Typed columns: Sluice {}/{} ({:.1}%), DuckDB {}/{} ({:.1}%)",
        tally.sluice_typed,
        tally.sluice_columns,
        share(tally.sluice_typed, tally.sluice_columns),
        tally.duckdb_typed,
        tally.duckdb_columns,
        share(tally.duckdb_typed, tally.duckdb_columns)
    );
    println!(
        "Rows: Sluice imported {} and kept {} as failed rows ({:.2}% of its rows imported), skipped {} lines; DuckDB read {}",
        thousands(tally.sluice_imported),
        thousands(tally.sluice_failed),
        share(tally.sluice_imported, tally.sluice_imported + tally.sluice_failed),
        thousands(tally.sluice_skipped),
        thousands(tally.duckdb_rows)
    );
    println!("Header found differently from DuckDB: {} files", tally.header_disagrees);
    Ok(())
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).with_context(|| format!("cannot list {}", path.display()))? {
            collect_files(&entry?.path(), files)?;
        }
    } else if path.is_file() {
        files.push(path.to_path_buf());
    }
    Ok(())
}

fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(80).collect()
}
