//! Importing a CSV file into a DuckDB table with every row accounted for.
//!
//! The flow: [`sniff`] the file, [`plan`] which field feeds which column, then stream. A parse
//! thread reads records, validates them and builds Arrow batches ([`pipeline`]); the calling thread
//! appends them inside one transaction ([`load`]). The two are joined by a bounded channel, so
//! parsing overlaps with writing and memory stays flat. Every data row ends up either in the table
//! or in `sluice.failed_rows` with its line, raw text and problems: imported + failed = read.

mod batch;
mod decode;
mod formats;
mod infer;
mod load;
mod majority;
mod names;
mod packing;
mod pipeline;
mod plan;
mod quote_spacing;
mod records;
mod retry;
mod schema;
mod sniff;
mod source;
mod spec_fields;
mod table_end;
mod types;
mod unique;
mod validate;

use std::path::PathBuf;
use std::time::Instant;

use crossbeam_channel::bounded;

pub use crate::records::{
    ExistingTable, FailedRow, MAX_LISTED_SKIPPED_LINES, Problem, ProblemKind, SkipReason, SkippedLine,
};
pub use formats::{ColumnFormat, ValueFormat};
pub use infer::infer_column_type;
pub use majority::{ColumnGuess, InferenceContext, guess_column};
pub use names::clean_headers;
pub use pipeline::{ParseError, ParseTotals};
pub use plan::{ImportPlan, PlanError, plan_import};
pub use records::{Defect, Dialect, OwnedRecord, Record, RecordReader};
pub use retry::{RetryError, RetryRequest, RetrySummary, RowEdit};
pub use schema::{ColumnSpec, SchemaError, SchemaFile};
pub use sniff::{SampleSize, SniffError, SniffHints, Sniffed, sniff, sniff_with};
pub use source::{Packing, SourceEncoding, SourceError, encoding_for_label};
pub use table_end::{BreakKind, TableBreak};
pub use types::ColumnType;
pub use validate::preview_problem;

use crate::job::{Job, JobContext, JobError, JobFailure, JobLabels, Stopped};
use crate::progress::{CancelToken, Progress, ProgressSink};
use crate::sql::{TableNameError, validate_table_name};
use crate::store::{JobOutcome, JobStatus, Store, StoreError, existing_table};
use crate::throttle::TokenBucket;
use load::{TableSetup, Written};
use unique::UniqueKeys;
use validate::RowValidator;

/// Rows per batch when the caller does not say: one DuckDB row group, which measured fastest.
pub const DEFAULT_BATCH_ROWS: usize = 122_880;
/// Batches the parser may run ahead of the writer.
const CHANNEL_BATCHES: usize = 2;

/// What to do with the target table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Create a new table; refuse if it exists.
    #[default]
    Create,
    /// Add rows to an existing table.
    Append,
    /// Replace the table (or create it) with the file's rows.
    Replace,
}

/// Everything an import needs to know. Stored with its job as JSON (the hints flattened, bytes
/// as characters), which a retry reads back to validate fixed rows as the import did.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImportRequest {
    pub path: PathBuf,
    pub table: String,
    #[serde(default)]
    pub mode: ImportMode,
    #[serde(default)]
    pub schema: Option<SchemaFile>,
    #[serde(flatten)]
    pub hints: SniffHints,
    #[serde(default = "default_batch_rows")]
    pub batch_rows: usize,
    /// Caps the rows read per second (a token bucket); `None` runs at full speed.
    #[serde(default)]
    pub max_rows_per_sec: Option<u64>,
    /// Rows with fewer fields than the header get NULL for the rest instead of failing.
    #[serde(default)]
    pub pad_missing: bool,
}

fn default_batch_rows() -> usize {
    DEFAULT_BATCH_ROWS
}

impl ImportRequest {
    pub fn new(path: impl Into<PathBuf>, table: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            table: table.into(),
            mode: ImportMode::Create,
            schema: None,
            hints: SniffHints::default(),
            batch_rows: DEFAULT_BATCH_ROWS,
            max_rows_per_sec: None,
            pad_missing: false,
        }
    }
}

/// The result of an import that ran to an end (completed or cancelled).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportSummary {
    pub job_id: i64,
    pub status: JobStatus,
    pub table: String,
    pub rows_read: u64,
    pub rows_imported: u64,
    pub rows_failed: u64,
    /// Records above the header that are not part of the table (a title, notes): skipped and
    /// counted, so imported + failed + skipped is every record but the header.
    pub rows_skipped: u64,
    pub bytes_read: u64,
    pub elapsed_ms: u64,
    pub encoding: String,
    pub delimiter: String,
    pub has_header: bool,
    pub peak_rss_bytes: Option<u64>,
}

/// Why an import failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("invalid table name: {0}")]
    TableName(#[from] TableNameError),
    #[error("table '{table}' already exists; use --mode append to add rows to it or --mode replace to overwrite it")]
    TableExists { table: String },
    #[error("table '{table}' does not exist; use --mode create to create it")]
    TableMissing { table: String },
    #[error(transparent)]
    Sniff(#[from] SniffError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the import stopped unexpectedly: {0}")]
    Panicked(String),
    #[error("{path} changed while it was imported: line {line} is no longer where it was; nothing was imported")]
    FileChanged { path: PathBuf, line: u64 },
    #[error("reading the file again for the rows that broke the unique rule: {0}")]
    Reread(String),
}

/// An import failure, with the job it was recorded under when it got that far.
pub type ImportFailure = JobFailure<ImportError>;

impl JobError for ImportError {
    fn is_cancelled(&self) -> bool {
        matches!(self, Self::Parse(ParseError::Cancelled))
    }
}

impl ImportSummary {
    /// What is said of an import that was cancelled: what it had read, and that none of it
    /// stayed.
    pub fn cancelled(request: &ImportRequest, stopped: &Stopped) -> Self {
        Self {
            job_id: stopped.job_id,
            status: JobStatus::Cancelled,
            table: request.table.clone(),
            rows_read: stopped.counts.rows_read,
            rows_imported: 0,
            rows_failed: 0,
            rows_skipped: 0,
            bytes_read: stopped.counts.bytes_read,
            elapsed_ms: stopped.elapsed_ms,
            encoding: String::new(),
            delimiter: String::new(),
            has_header: false,
            peak_rss_bytes: stopped.peak_rss_bytes,
        }
    }
}

impl Job for ImportRequest {
    const KIND: &'static str = "import";
    const CANCELLED: &'static str = "cancelled by the user; the target was left unchanged";
    type Summary = ImportSummary;
    type Error = ImportError;

    fn labels(&self, _store: &Store) -> JobLabels {
        JobLabels {
            source: self.path.display().to_string(),
            target: Some(self.table.clone()),
            bytes_total: packing::packed_len(&self.path),
        }
    }

    fn run(&self, context: &mut JobContext<'_>) -> Result<ImportSummary, ImportError> {
        let started = Instant::now();
        let mut written = Written::default();
        let mut parse_totals = ParseTotals::default();
        let Finished {
            sniffed,
            peak_rss_bytes,
        } = import_rows(context, self, &mut written, &mut parse_totals)?;
        Ok(ImportSummary {
            job_id: context.job_id,
            status: JobStatus::Completed,
            table: self.table.clone(),
            rows_read: parse_totals.rows_read,
            rows_imported: written.rows_imported,
            rows_failed: written.rows_failed,
            rows_skipped: parse_totals.rows_skipped,
            bytes_read: parse_totals.bytes_read,
            elapsed_ms: started.elapsed().as_millis() as u64,
            encoding: sniffed.encoding.describe(),
            delimiter: char::from(sniffed.dialect.delimiter).to_string(),
            has_header: sniffed.has_header,
            peak_rss_bytes,
        })
    }

    fn outcome(summary: &ImportSummary) -> JobOutcome {
        JobOutcome {
            rows_read: summary.rows_read,
            rows_skipped: summary.rows_skipped,
            rows_imported: summary.rows_imported,
            rows_failed: summary.rows_failed,
            bytes_read: summary.bytes_read,
            peak_rss_bytes: summary.peak_rss_bytes,
            ..JobOutcome::default()
        }
    }
}

struct Finished {
    sniffed: Sniffed,
    /// The peak stored with the job, so the summary and the record say the same.
    peak_rss_bytes: Option<u64>,
}

fn import_rows(
    context: &mut JobContext<'_>,
    request: &ImportRequest,
    written: &mut Written,
    parse_totals: &mut ParseTotals,
) -> Result<Finished, ImportError> {
    let (conn, job_id, cancel) = (context.conn(), context.job_id, context.cancel);
    validate_table_name(&request.table)?;
    let sniffed = sniff(&request.path, &request.hints)?;
    context.store.set_source_columns(job_id, &sniffed.columns)?;
    let existing = existing_table(conn, &request.table)?;
    let (setup, table_name, existing) = match (request.mode, existing) {
        (ImportMode::Create, Some(table)) => return Err(ImportError::TableExists { table: table.name }),
        (ImportMode::Create, None) => (TableSetup::Create, request.table.clone(), None),
        (ImportMode::Append, None) => {
            return Err(ImportError::TableMissing {
                table: request.table.clone(),
            });
        }
        (ImportMode::Append, Some(table)) => (TableSetup::Existing, table.name.clone(), Some(table)),
        (ImportMode::Replace, Some(table)) => (TableSetup::Replace, table.name, None),
        (ImportMode::Replace, None) => (TableSetup::Replace, request.table.clone(), None),
    };
    let mut plan = plan_import(&sniffed, request.schema.as_ref(), existing.as_ref())?;
    plan.pad_missing = request.pad_missing;
    let source = source::open_text(&request.path, Some(sniffed.encoding.encoding))?;
    let bytes_total = Some(source.bytes_total);
    let column_names: Vec<String> = plan.columns.iter().map(|column| column.name.clone()).collect();
    let column_refs: Vec<&str> = column_names.iter().map(String::as_str).collect();
    let validator = RowValidator::new(plan.clone());
    // With a unique column, the rows' keys go to a table of their own and the rule is checked in
    // DuckDB once the file has been read.
    let unique = unique::check_for_plan(&plan, job_id);
    let key_columns: Vec<usize> = unique.as_ref().map(|check| check.unique_columns()).unwrap_or_default();

    load::begin(conn, &table_name, &plan, setup)?;
    let committed_rowid = match &unique {
        Some(check) => match check
            .create(conn)
            .and_then(|()| unique::committed_rowid(conn, &table_name))
        {
            Ok(rowid) => rowid,
            Err(error) => {
                load::rollback(conn);
                return Err(error.into());
            }
        },
        None => -1,
    };
    let (sender, receiver) = bounded(CHANNEL_BATCHES);
    let parser_cancel = cancel.clone();
    let batch_rows = request.batch_rows;
    let throttle = request
        .max_rows_per_sec
        .map(|rate| TokenBucket::new(rate, batch_rows as u64));
    let parser = std::thread::Builder::new()
        .name(format!("sluice-parse-{job_id}"))
        .spawn(move || {
            pipeline::parse_rows(
                source,
                validator,
                batch_rows,
                &key_columns,
                throttle,
                &parser_cancel,
                |batch| sender.send(batch).is_ok(),
            )
        })
        .map_err(|error| {
            load::rollback(conn);
            ImportError::Panicked(format!("could not start the parser thread: {error}"))
        })?;

    let mut write_error = None;
    let opened = load::appender(conn, &table_name, &column_refs).and_then(|appender| {
        let keys = unique.as_ref().map(|check| check.appender(conn)).transpose()?;
        Ok((appender, keys))
    });
    let (mut appender, mut key_appender) = match opened {
        Ok((appender, keys)) => (Some(appender), keys),
        Err(error) => {
            write_error = Some(error.into());
            (None, None)
        }
    };
    for batch in receiver.iter() {
        let Some(appender) = appender.as_mut() else {
            break;
        };
        if cancel.is_cancelled() {
            write_error = Some(ImportError::Parse(ParseError::Cancelled));
            break;
        }
        let report = Progress {
            rows_read: batch.rows_read,
            bytes_read: batch.bytes_read,
            bytes_total,
            ..Progress::default()
        };
        if let Err(error) = load::append_batch(conn, appender, key_appender.as_mut(), job_id, batch, written) {
            write_error = Some(error.into());
            break;
        }
        context.progress(&Progress {
            rows_imported: written.rows_imported,
            rows_failed: written.rows_failed,
            ..report
        });
    }
    drop(receiver);
    let flushed = match (appender.take(), key_appender.take()) {
        (Some(mut appender), keys) if write_error.is_none() => appender
            .flush()
            .map_err(StoreError::query("appending rows"))
            .and_then(|()| match keys {
                Some(mut keys) => keys
                    .flush()
                    .map_err(StoreError::query("appending the unique check's keys")),
                None => Ok(()),
            }),
        _ => Ok(()),
    };
    if let Err(error) = flushed {
        write_error = Some(error.into());
    }
    let parsed = parser
        .join()
        .map_err(|panic| ImportError::Panicked(panic_message(&panic)));
    let outcome = match (write_error, parsed) {
        (Some(error), _) => Err(error),
        (None, Err(error)) => Err(error),
        (None, Ok(Err(error))) => Err(ImportError::Parse(error)),
        (None, Ok(Ok(totals))) => Ok(totals),
    };
    let totals = match outcome {
        Ok(totals) => totals,
        Err(error) => {
            load::rollback(conn);
            return Err(error);
        }
    };
    *parse_totals = totals;
    if let Some(check) = &unique {
        let source = UniqueSource {
            request,
            encoding: sniffed.encoding.encoding,
        };
        let resolved = if cancel.is_cancelled() {
            Err(ImportError::Parse(ParseError::Cancelled))
        } else {
            resolve_unique(
                conn,
                job_id,
                check,
                &plan,
                &table_name,
                committed_rowid,
                &source,
                cancel,
                written,
            )
        };
        if let Err(error) = resolved {
            load::rollback(conn);
            return Err(error);
        }
    }
    let result = JobOutcome {
        rows_read: totals.rows_read,
        rows_imported: written.rows_imported,
        rows_failed: written.rows_failed,
        rows_skipped: totals.rows_skipped,
        bytes_read: totals.bytes_read,
        peak_rss_bytes: context.peak_rss_bytes(),
        ..JobOutcome::default()
    };
    if cancel.is_cancelled() {
        load::rollback(conn);
        return Err(ImportError::Parse(ParseError::Cancelled));
    }
    let committed = context.record_completed(&result).and_then(|()| load::commit(conn));
    if let Err(error) = committed {
        load::rollback(conn);
        return Err(error.into());
    }
    context.progress(&Progress {
        rows_read: totals.rows_read,
        rows_skipped: totals.rows_skipped,
        rows_imported: written.rows_imported,
        rows_failed: written.rows_failed,
        bytes_read: totals.bytes_read,
        bytes_total,
        ..Progress::default()
    });
    Ok(Finished {
        sniffed,
        peak_rss_bytes: result.peak_rss_bytes,
    })
}

/// Where the duplicates' raw text is read again from.
struct UniqueSource<'r> {
    request: &'r ImportRequest,
    encoding: &'static encoding_rs::Encoding,
}

/// Runs the unique check: its duplicates leave the table and become failed rows, with their raw
/// text and fields read again from the file (only theirs are kept; the good rows never pay for
/// it). Corrects the counts: every duplicate was counted imported when it was appended.
#[allow(clippy::too_many_arguments)]
fn resolve_unique(
    conn: &duckdb::Connection,
    job_id: i64,
    check: &UniqueKeys,
    plan: &ImportPlan,
    table_name: &str,
    committed_rowid: i64,
    source: &UniqueSource<'_>,
    cancel: &CancelToken,
    written: &mut Written,
) -> Result<(), ImportError> {
    let mut reread: Option<Reread> = None;
    let mut read_error: Option<ImportError> = None;
    let failed = check.resolve(conn, table_name, committed_rowid, committed_rowid >= 0, &mut |page| {
        let mut rows = Vec::with_capacity(page.len());
        for duplicate in page {
            let reader = match reread.as_mut() {
                Some(reader) => reader,
                None => match Reread::open(source, plan) {
                    Ok(reader) => reread.insert(reader),
                    Err(error) => {
                        read_error = Some(error);
                        return Err(StoreError::Inconsistent("the file could not be read again".into()));
                    }
                },
            };
            match reader.failed_row(&duplicate, plan, table_name, cancel) {
                Ok(row) => rows.push(row),
                Err(error) => {
                    read_error = Some(error);
                    return Err(StoreError::Inconsistent("the file could not be read again".into()));
                }
            }
        }
        crate::store::append_failed_rows(conn, job_id, &rows)
    });
    let failed = match (failed, read_error) {
        (_, Some(error)) => return Err(error),
        (result, None) => result?,
    };
    written.rows_failed += failed;
    written.rows_imported -= failed;
    Ok(())
}

/// The import's file read a second time, from the start, to the records of the duplicates.
struct Reread {
    reader: RecordReader<Box<dyn std::io::Read + Send>>,
    path: PathBuf,
    /// Data records read so far.
    record_no: u64,
    /// Records above the header still to pass over.
    skip_pending: usize,
    header_pending: usize,
}

impl Reread {
    fn open(source: &UniqueSource<'_>, plan: &ImportPlan) -> Result<Self, ImportError> {
        let text = source::open_text(&source.request.path, Some(source.encoding))?;
        Ok(Self {
            reader: RecordReader::new(text.reader, plan.dialect),
            path: source.request.path.clone(),
            record_no: 0,
            skip_pending: plan.skip_records,
            header_pending: plan.header_lines,
        })
    }

    /// The failed row of `duplicate`, which must come after every record asked for so far.
    fn failed_row(
        &mut self,
        duplicate: &unique::Duplicate,
        plan: &ImportPlan,
        table: &str,
        cancel: &CancelToken,
    ) -> Result<FailedRow, ImportError> {
        let changed = |path: &PathBuf, line: u64| ImportError::FileChanged {
            path: path.clone(),
            line,
        };
        loop {
            let record = self
                .reader
                .next_record()
                .map_err(|error| ImportError::Reread(error.to_string()))?
                .ok_or_else(|| changed(&self.path, duplicate.line))?;
            if plan.is_comment(&record) {
                continue;
            }
            if self.skip_pending > 0 {
                self.skip_pending -= 1;
                continue;
            }
            if self.header_pending > 0 {
                self.header_pending -= 1;
                continue;
            }
            self.record_no += 1;
            if self.record_no < duplicate.record_no {
                if self.record_no.is_multiple_of(4096) && cancel.is_cancelled() {
                    return Err(ImportError::Parse(ParseError::Cancelled));
                }
                continue;
            }
            if self.record_no > duplicate.record_no || record.line != duplicate.line {
                return Err(changed(&self.path, duplicate.line));
            }
            let mut row = pipeline::failed_row(duplicate.record_no, &record, Vec::new());
            pipeline::drop_trailing_field(&mut row, plan.trailing_delimiter, plan.field_count);
            row.problems = unique::unique_problems(duplicate, plan, &row.fields, table);
            return Ok(row);
        }
    }
}

/// The text of a panic payload, for the job's error message.
pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a worker thread panicked".to_string())
}
