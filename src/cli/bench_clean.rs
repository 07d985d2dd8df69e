//! `sluice bench sniff --compare-clean DIR`: each file of DIR read with everything sniffed, by
//! Sluice, by the official DuckDB (its Python package) and by the DuckDB compiled into Sluice,
//! and scored against its hand-cleaned twin in `DIR/clean` (see
//! `sluice::bench::score_against_twin`): the rows each holds right, the values each misread
//! without a word, the rows each added, whether each named the columns right, and how many
//! columns each typed.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sluice::bench::{TableText, TwinScore, read_table, read_twin, run_official_duckdb, score_against_twin};
use sluice::engine::run_import;
use sluice::import::ImportRequest;
use sluice::progress::{CancelToken, NoProgress};
use sluice::sql::{quote_ident, quote_literal};
use sluice::store::{Store, StoreOptions};

use crate::format::thousands;

/// One side's totals over the files.
#[derive(Default)]
struct Side {
    score: TwinScore,
    headers_right: u64,
    refused: u64,
}

impl Side {
    fn add(&mut self, reading: &Option<TableText>, twin: &TableText) -> String {
        let Some(reading) = reading else {
            self.refused += 1;
            self.score.twin_rows += twin.rows.len() as u64;
            return "refused".to_string();
        };
        let score = score_against_twin(reading, twin);
        self.headers_right += u64::from(score.header_right);
        self.score += score;
        format!(
            "{} {}/{} {}! {}t {}+ {}/{}",
            if score.header_right { "H" } else { "h" },
            score.rows_right,
            score.twin_rows,
            score.cells_misread,
            score.cells_as_text,
            score.rows_extra,
            score.typed,
            score.columns
        )
    }

    fn summary(&self, name: &str, files: u64) {
        let share = |part: u64, whole: u64| 100.0 * part as f64 / whole.max(1) as f64;
        println!(
            "{name}: good rows right {}/{} ({:.2}%), values misread {}, values kept as text {}, extra rows {}, \
             header right {}/{files}, typed columns {}/{} ({:.1}%), files refused {}",
            thousands(self.score.rows_right),
            thousands(self.score.twin_rows),
            share(self.score.rows_right, self.score.twin_rows),
            thousands(self.score.cells_misread),
            thousands(self.score.cells_as_text),
            thousands(self.score.rows_extra),
            self.headers_right,
            self.score.typed,
            self.score.columns,
            share(self.score.typed, self.score.columns),
            self.refused
        );
    }
}

/// DuckDB's reading of `path` with everything sniffed, into `table`.
fn duckdb_read_statement(table: &str, path: &Path) -> String {
    format!(
        "CREATE TABLE {} AS SELECT * FROM read_csv({}, ignore_errors = true)",
        quote_ident(table),
        quote_literal(&path.to_string_lossy())
    )
}

pub fn bench_compare_clean(dir: &Path, python: &str) -> anyhow::Result<()> {
    let clean = dir.join("clean");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file() && path.file_name().is_some_and(|name| clean.join(name).is_file()))
        .collect();
    files.sort();
    anyhow::ensure!(
        !files.is_empty(),
        "{} has no files with a twin of the same name in {}",
        dir.display(),
        clean.display()
    );
    let temp = tempfile::tempdir()?;
    let tables: Vec<String> = (0..files.len()).map(|index| format!("clean_{index}")).collect();
    let statements: Vec<String> = files
        .iter()
        .zip(&tables)
        .map(|(path, table)| duckdb_read_statement(table, path))
        .collect();
    let official_path = temp.path().join("official.duckdb");
    let official = run_official_duckdb(python, &official_path, &statements)
        .context("the official DuckDB is the anchor of this comparison")?;
    let official_db = duckdb::Connection::open_with_flags(
        &official_path,
        duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly)?,
    )?;
    let store = Store::open(&temp.path().join("clean.duckdb"), &StoreOptions::default())?;
    let compiled_in = duckdb::Connection::open_in_memory()?;
    let compiled_in_version: String = compiled_in.query_row("SELECT version()", [], |row| row.get(0))?;
    let (mut sluice_side, mut official_side, mut compiled_side) = (Side::default(), Side::default(), Side::default());
    println!(
        "DuckDB: the official build {} (Python package, {python}) per file; the one compiled into Sluice ({}) in the totals",
        official.version, compiled_in_version
    );
    println!(
        "Each side: H (header right) or h, rows right/twin rows, values misread!, values kept as text t, \
         extra rows+, typed/columns"
    );
    println!("{:<40} {:<28} {:<28}", "file", "Sluice", "DuckDB (official)");
    for ((path, table), ran) in files.iter().zip(&tables).zip(&official.results) {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let twin = read_twin(&clean.join(&name)).with_context(|| format!("cannot read the twin of {name}"))?;
        let by_sluice = run_import(
            &store,
            &ImportRequest::new(path, table),
            &mut NoProgress,
            &CancelToken::new(),
        )
        .ok()
        .and_then(|_| read_table(store.conn(), table).ok());
        let by_official = ran.ok.then(|| read_table(&official_db, table).ok()).flatten();
        let by_compiled_in = compiled_in
            .execute_batch(&duckdb_read_statement(table, path))
            .ok()
            .and_then(|()| read_table(&compiled_in, table).ok());
        compiled_side.add(&by_compiled_in, &twin);
        let shown: String = name.chars().take(40).collect();
        println!(
            "{shown:<40} {:<28} {:<28}",
            sluice_side.add(&by_sluice, &twin),
            official_side.add(&by_official, &twin)
        );
    }
    println!();
    let files = files.len() as u64;
    println!("Files: {files}");
    sluice_side.summary("Sluice", files);
    official_side.summary("DuckDB", files);
    compiled_side.summary("DuckDB (compiled into Sluice)", files);
    Ok(())
}
