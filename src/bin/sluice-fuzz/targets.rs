//! What the fuzzer feeds its inputs to. Each target returns `Err` with a description when the
//! input broke a promise without panicking (an accounting that does not add up, a reader that
//! never ends); a panic is caught by the caller.

use std::path::{Path, PathBuf};

use sluice::engine::run_import;
use sluice::import::{
    ColumnFormat, Dialect, ImportRequest, RecordReader, SniffHints, ValueFormat, infer_column_type, sniff,
};
use sluice::progress::{CancelToken, NoProgress};
use sluice::store::{FailedRowFilter, Store, StoreOptions, count_failed_rows};

/// Tables an import target creates before it starts a fresh database, so the file stays small.
const IMPORTS_PER_DATABASE: u64 = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// The record reader, with a dialect chosen by the first byte.
    Records,
    /// The sniffer and the decoder behind it, on the input as a file.
    Sniff,
    /// The value parsers and type inference: the first line is a date format, the rest values.
    Values,
    /// A whole import (decoding, sniffing, inference, parsing, validation, the append), checking
    /// the accounting: imported + failed = read, and the table and failed rows hold exactly those.
    Import,
}

impl Target {
    pub const ALL: [Target; 4] = [Self::Records, Self::Sniff, Self::Values, Self::Import];

    pub fn name(self) -> &'static str {
        match self {
            Self::Records => "records",
            Self::Sniff => "sniff",
            Self::Values => "values",
            Self::Import => "import",
        }
    }
}

/// What a target keeps between inputs: a folder for input files and a database.
pub struct Workspace {
    dir: tempfile::TempDir,
    store: Option<Store>,
    imports: u64,
}

impl Workspace {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            dir: tempfile::tempdir()?,
            store: None,
            imports: 0,
        })
    }

    fn input_file(&self, input: &[u8]) -> anyhow::Result<PathBuf> {
        let path = self.dir.path().join("input.csv");
        std::fs::write(&path, input)?;
        Ok(path)
    }

    fn store(&mut self) -> anyhow::Result<&Store> {
        if self.imports.is_multiple_of(IMPORTS_PER_DATABASE) || self.store.is_none() {
            self.store = None;
            let path = self.dir.path().join("fuzz.duckdb");
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_file(path.with_extension("duckdb.wal"));
            let options = StoreOptions {
                memory_limit: Some("256MB".into()),
                threads: Some(1),
            };
            self.store = Some(Store::open(&path, &options)?);
        }
        self.imports += 1;
        self.store.as_ref().ok_or_else(|| anyhow::anyhow!("no database"))
    }
}

/// Runs `input` through `target`.
pub fn run(target: Target, input: &[u8], workspace: &mut Workspace) -> Result<(), String> {
    match target {
        Target::Records => records(input),
        Target::Sniff => {
            let path = workspace.input_file(input).map_err(|error| error.to_string())?;
            // A file Sluice cannot read is an error to report, not a finding.
            let _ = sniff(&path, &SniffHints::default());
            Ok(())
        }
        Target::Values => {
            values(input);
            Ok(())
        }
        Target::Import => import(input, workspace),
    }
}

fn records(input: &[u8]) -> Result<(), String> {
    let Some((&choice, text)) = input.split_first() else {
        return Ok(());
    };
    let dialect = Dialect {
        delimiter: [b',', b';', b'\t', b'|'][usize::from(choice & 3)],
        quote: if choice & 4 == 0 { b'"' } else { b'\'' },
        escape: (choice & 8 != 0).then_some(b'\\'),
        spaces_before_quotes: choice & 16 != 0,
        spaced_separator: choice & 80 == 80,
        rows_are_lines: choice & 32 != 0,
    };
    let mut reader = RecordReader::new(text, dialect);
    let mut records = 0usize;
    let mut last_line = 0;
    loop {
        match reader.next_record() {
            Ok(Some(record)) => {
                records += 1;
                if record.line < last_line {
                    return Err(format!(
                        "record {records} starts at line {} after line {last_line}",
                        record.line
                    ));
                }
                last_line = record.line;
                // Every record holds at least one byte or one line end: more records than that
                // means the reader stopped moving.
                if records > text.len() + 1 {
                    return Err(format!("{records} records from {} bytes", text.len()));
                }
            }
            Ok(None) | Err(_) => return Ok(()),
        }
    }
}

fn values(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let values: Vec<&str> = lines.collect();
    let separators = [None, Some('.'), Some(','), Some(' '), Some('\'')];
    let pick = first.len();
    let format = ValueFormat {
        format: (!pick.is_multiple_of(3)).then(|| first.to_string()),
        decimal_separator: separators[pick % 3].filter(|c| *c != ' '),
        thousands: separators[pick % 5],
        null_markers: Some(values.iter().take(2).map(|value| value.to_string()).collect()),
        checkmark: pick.is_multiple_of(2).then(|| "x".to_string()),
        currency: pick.is_multiple_of(7).then_some('$'),
    };
    let column = ColumnFormat::new(&format);
    let mut number = String::new();
    for value in &values {
        let _ = column.parse_date(value);
        let _ = column.parse_timestamp(value);
        let _ = column.parse_bool(value);
        let _ = column.is_null_marker(value);
        let _ = column.normalize_number(value, &mut number);
    }
    let _ = infer_column_type(values.iter().copied());
    let _ = column.describe();
}

fn import(input: &[u8], workspace: &mut Workspace) -> Result<(), String> {
    let path = workspace.input_file(input).map_err(|error| error.to_string())?;
    let table = format!("fuzz_{}", workspace.imports);
    let store = workspace.store().map_err(|error| error.to_string())?;
    let request = ImportRequest::new(&path, &table);
    // An input Sluice refuses as a whole (empty, not text) is a clear error, not a finding; but
    // DuckDB's internal errors, and a database it gave up on, are.
    let summary = match run_import(store, &request, &mut NoProgress, &CancelToken::new()) {
        Ok(summary) => summary,
        Err(failure) => {
            let message = failure.error.to_string();
            if message.contains("INTERNAL") || message.contains("invalidated") {
                return Err(format!("{}: {message}", path.display()));
            }
            return Ok(());
        }
    };
    check_accounting(store, &table, &path, &summary)
}

fn check_accounting(
    store: &Store,
    table: &str,
    path: &Path,
    summary: &sluice::import::ImportSummary,
) -> Result<(), String> {
    let fail = |what: String| Err(format!("{}: {what}", path.display()));
    if summary.rows_imported + summary.rows_failed != summary.rows_read {
        return fail(format!(
            "imported {} + failed {} != read {}",
            summary.rows_imported, summary.rows_failed, summary.rows_read
        ));
    }
    let in_table: i64 = store
        .conn()
        .query_row(
            &format!("SELECT count(*) FROM {}", sluice::sql::quote_ident(table)),
            [],
            |row| row.get(0),
        )
        .map_err(|error| error.to_string())?;
    if in_table as u64 != summary.rows_imported {
        return fail(format!("table holds {in_table}, imported {}", summary.rows_imported));
    }
    let failed = count_failed_rows(store.conn(), summary.job_id, &FailedRowFilter::default())
        .map_err(|error| error.to_string())?;
    if failed != summary.rows_failed {
        return fail(format!("{failed} failed rows kept, {} counted", summary.rows_failed));
    }
    store
        .conn()
        .execute_batch(&format!("DROP TABLE {}", sluice::sql::quote_ident(table)))
        .map_err(|error| error.to_string())
}
