//! Exporting a table (or a filtered, ordered slice of it) to CSV, gzip CSV, chunks of N rows, or
//! Parquet, streamed in flat memory, with files that appear only when complete.
//!
//! The rows come from DuckDB as a stream of Arrow batches with every value already cast to text
//! by DuckDB itself, so values read exactly as `COPY ... TO` writes them and re-import losslessly.
//! [`encode`] turns them into CSV text, [`gzip`] compresses blocks on every core, [`files`] keeps
//! the output invisible until the export has succeeded. Parquet is DuckDB's own writer.

mod encode;
mod files;
mod gzip;
mod preview;
mod query;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, bounded};

use duckdb::Connection;
use duckdb::arrow::array::{Array, AsArray};
use duckdb::arrow::datatypes::DataType;
use duckdb::arrow::record_batch::RecordBatch;

pub use crate::query::{Filter, FilterOp};
pub use encode::CsvStyle;
pub use files::{part_path, remove_parts_of_job};
pub use preview::{ExportPreview, preview_export};
pub use query::{ExportQuery, build_query};

use crate::job::{Job, JobContext, JobError, JobFailure, JobLabels, Stopped};
use crate::progress::{CancelToken, Progress, ProgressSink};
use crate::query::QueryError;
use crate::store::{JobOutcome, JobStatus, Store, StoreError};
use files::{OutputNames, PartFiles};
use gzip::{GzipFileWriter, GzipPool};

/// Text is handed to the file (or the compressor) in blocks of about this size.
const BLOCK_BYTES: usize = 1024 * 1024;
/// Progress is reported after this many DuckDB chunks (2,048 rows each).
const CHUNKS_PER_REPORT: usize = 16;

/// The output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    #[default]
    Csv,
    Parquet,
}

/// Sort order of an export.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderBy {
    pub column: String,
    pub descending: bool,
}

/// Everything an export needs to know; stored with its job as JSON.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExportRequest {
    pub table: String,
    pub out: PathBuf,
    pub filters: Vec<Filter>,
    /// Columns in output order; empty means all, in table order.
    pub columns: Vec<String>,
    pub order_by: Option<OrderBy>,
    pub format: ExportFormat,
    /// Compress with gzip at this level (1 to 9).
    pub gzip_level: Option<u32>,
    /// Start a new file after this many rows.
    pub chunk_rows: Option<u64>,
    pub delimiter: u8,
    pub header: bool,
    pub formula_guard: bool,
}

impl ExportRequest {
    pub fn new(table: impl Into<String>, out: impl Into<PathBuf>) -> Self {
        Self {
            table: table.into(),
            out: out.into(),
            filters: Vec::new(),
            columns: Vec::new(),
            order_by: None,
            format: ExportFormat::Csv,
            gzip_level: None,
            chunk_rows: None,
            delimiter: b',',
            header: true,
            formula_guard: false,
        }
    }
}

/// The result of an export that ran to an end.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ExportSummary {
    pub job_id: i64,
    pub status: JobStatus,
    pub table: String,
    pub rows_written: u64,
    pub files: Vec<PathBuf>,
    pub bytes_written: u64,
    pub elapsed_ms: u64,
    pub peak_rss_bytes: Option<u64>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The table, a column or a filter was refused, or the database failed (boxed: it is
    /// large, and rare).
    #[error(transparent)]
    Query(Box<QueryError>),
    #[error("{format} output cannot be {what}")]
    Unsupported { format: &'static str, what: &'static str },
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the export was cancelled")]
    Cancelled,
}

impl From<QueryError> for ExportError {
    fn from(error: QueryError) -> Self {
        Self::Query(Box::new(error))
    }
}

impl From<StoreError> for ExportError {
    fn from(error: StoreError) -> Self {
        QueryError::Store(error).into()
    }
}

fn database(context: &'static str) -> impl FnOnce(duckdb::Error) -> ExportError {
    move |source| crate::query::database(context)(source).into()
}

/// An export failure, with the job it was recorded under when it got that far.
pub type ExportFailure = JobFailure<ExportError>;

impl JobError for ExportError {
    fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled)
    }
}

impl ExportSummary {
    /// What is said of an export that was cancelled: nothing written, no file left.
    pub fn cancelled(request: &ExportRequest, stopped: &Stopped) -> Self {
        Self {
            job_id: stopped.job_id,
            status: JobStatus::Cancelled,
            table: request.table.clone(),
            rows_written: 0,
            files: Vec::new(),
            bytes_written: 0,
            elapsed_ms: stopped.elapsed_ms,
            peak_rss_bytes: stopped.peak_rss_bytes,
        }
    }
}

impl Job for ExportRequest {
    const KIND: &'static str = "export";
    const CANCELLED: &'static str = "cancelled by the user; no file was left";
    type Summary = ExportSummary;
    type Error = ExportError;

    fn labels(&self, _store: &Store) -> JobLabels {
        JobLabels {
            source: self.table.clone(),
            target: Some(self.out.display().to_string()),
            ..JobLabels::default()
        }
    }

    fn run(&self, context: &mut JobContext<'_>) -> Result<ExportSummary, ExportError> {
        let started = Instant::now();
        let mut written = Written::default();
        let files = export(context, self, &mut written)?;
        Ok(ExportSummary {
            job_id: context.job_id,
            status: JobStatus::Completed,
            table: self.table.clone(),
            rows_written: written.rows,
            files,
            bytes_written: written.bytes,
            elapsed_ms: started.elapsed().as_millis() as u64,
            peak_rss_bytes: context.peak_rss_bytes(),
        })
    }

    fn outcome(summary: &ExportSummary) -> JobOutcome {
        JobOutcome {
            rows_written: summary.rows_written,
            peak_rss_bytes: summary.peak_rss_bytes,
            outputs: summary.files.iter().map(|path| path.display().to_string()).collect(),
            ..JobOutcome::default()
        }
    }
}

#[derive(Default)]
struct Written {
    rows: u64,
    bytes: u64,
}

fn export(
    context: &mut JobContext<'_>,
    request: &ExportRequest,
    written: &mut Written,
) -> Result<Vec<PathBuf>, ExportError> {
    let (conn, job_id, cancel) = (context.conn(), context.job_id, context.cancel);
    let progress: &mut dyn ProgressSink = context;
    let query = build_query(conn, request)?;
    let params: Vec<&dyn duckdb::ToSql> = query.params.iter().map(|p| p as &dyn duckdb::ToSql).collect();
    let rows_total: i64 = conn
        .query_row(&query.count_sql, params.as_slice(), |row| row.get(0))
        .map_err(database("counting the rows to export"))?;
    let rows_total = rows_total.max(0) as u64;
    let report = |written: &Written| Progress {
        rows_written: written.rows,
        rows_total: Some(rows_total),
        bytes_written: written.bytes,
        ..Progress::default()
    };
    progress.progress(&report(written));
    let parts = match request.format {
        ExportFormat::Csv => write_csv(
            conn, job_id, request, &query, &params, progress, cancel, written, &report,
        )?,
        ExportFormat::Parquet => write_parquet(conn, job_id, request, &query, progress, cancel, written, &report)?,
    };
    if cancel.is_cancelled() {
        return Err(ExportError::Cancelled);
    }
    let files = parts.commit().map_err(|source| ExportError::Io {
        path: request.out.clone(),
        source,
    })?;
    progress.progress(&report(written));
    Ok(files)
}

/// Where CSV text goes: a file, or a file through the gzip pool.
enum FileSink<'p> {
    Plain { out: BufWriter<File>, bytes: u64 },
    Gzip(GzipFileWriter<'p, BufWriter<File>>),
}

impl FileSink<'_> {
    fn write_block(&mut self, block: Vec<u8>) -> std::io::Result<()> {
        match self {
            Self::Plain { out, bytes } => {
                out.write_all(&block)?;
                *bytes += block.len() as u64;
                Ok(())
            }
            Self::Gzip(writer) => writer.write_block(block),
        }
    }

    fn bytes_written(&self) -> u64 {
        match self {
            Self::Plain { bytes, .. } => *bytes,
            Self::Gzip(writer) => writer.bytes_written(),
        }
    }

    /// Flushes everything to disk; returns the file's size.
    fn finish(self) -> std::io::Result<u64> {
        match self {
            Self::Plain { mut out, bytes } => {
                out.flush()?;
                out.get_ref().sync_all()?;
                Ok(bytes)
            }
            Self::Gzip(writer) => {
                let out = writer.finish()?;
                let file = out.into_inner().map_err(|error| error.into_error())?;
                file.sync_all()?;
                Ok(file.metadata()?.len())
            }
        }
    }
}

/// One output file being written: its sink, its text block and its row count.
struct OpenFile<'p> {
    sink: FileSink<'p>,
    block: Vec<u8>,
    rows: u64,
}

#[allow(clippy::too_many_arguments)]
fn write_csv(
    conn: &Connection,
    job_id: i64,
    request: &ExportRequest,
    query: &ExportQuery,
    params: &[&dyn duckdb::ToSql],
    progress: &mut dyn ProgressSink,
    cancel: &CancelToken,
    written: &mut Written,
    report: &dyn Fn(&Written) -> Progress,
) -> Result<PartFiles, ExportError> {
    let style = CsvStyle {
        delimiter: request.delimiter,
        quote: b'"',
        formula_guard: request.formula_guard,
    };
    let text_columns: Vec<bool> = query
        .columns
        .iter()
        .map(|column| crate::sql_type::SqlType::holds_free_text(&column.type_name))
        .collect();
    let names = OutputNames::new(&request.out, request.chunk_rows.is_some(), request.gzip_level.is_some());
    let io_error = |source| ExportError::Io {
        path: request.out.clone(),
        source,
    };
    let pool = match request.gzip_level {
        Some(level) => Some(GzipPool::new(gzip_threads(), level.clamp(1, 9)).map_err(io_error)?),
        None => None,
    };
    let mut header = Vec::new();
    if request.header {
        style.push_record(
            &mut header,
            query.columns.iter().map(|column| (Some(column.name.as_str()), false)),
        );
    }
    let mut files = CsvFiles {
        names,
        pool: pool.as_ref(),
        header,
        parts: PartFiles::new(job_id),
    };
    let mut statement = conn
        .prepare(&query.select_text_sql)
        .map_err(database("preparing the export query"))?;
    let stream = statement
        .stream_arrow(params)
        .map_err(database("running the export query"))?;
    // DuckDB makes the batches on this thread while an encoder thread turns them into CSV and
    // writes them: the two overlap instead of taking turns.
    let (batches, encoder_batches) = bounded::<RecordBatch>(ENCODER_QUEUE_BATCHES);
    let bytes_written = AtomicU64::new(0);
    std::thread::scope(|scope| {
        let encoder = std::thread::Builder::new()
            .name(format!("sluice-encode-{job_id}"))
            .spawn_scoped(scope, || {
                encode_batches(
                    encoder_batches,
                    &mut files,
                    &style,
                    &text_columns,
                    request,
                    &bytes_written,
                )
            })
            .map_err(io_error)?;
        let mut pulled = Ok(());
        for (chunk_number, batch) in stream.enumerate() {
            if cancel.is_cancelled() {
                pulled = Err(ExportError::Cancelled);
                break;
            }
            let batch = match batch {
                Ok(batch) => batch,
                Err(error) => {
                    pulled = Err(database("reading rows to export")(error));
                    break;
                }
            };
            let rows = batch.num_rows() as u64;
            // The encoder stopped: its error is the one to report.
            if batches.send(batch).is_err() {
                break;
            }
            written.rows += rows;
            if chunk_number % CHUNKS_PER_REPORT == 0 {
                written.bytes = bytes_written.load(Ordering::Relaxed);
                progress.progress(&report(written));
            }
        }
        drop(batches);
        let encoded = encoder.join().map_err(|panic| ExportError::Io {
            path: request.out.clone(),
            source: std::io::Error::other(crate::import::panic_message(&panic)),
        })?;
        pulled?;
        written.bytes = encoded?;
        Ok::<(), ExportError>(())
    })?;
    Ok(files.parts)
}

/// Batches the pulling thread may run ahead of the encoder.
const ENCODER_QUEUE_BATCHES: usize = 4;

/// Writes every batch it receives as CSV records into the export's files, starting a new file
/// at each chunk boundary; returns the bytes written. `bytes_written` follows along for progress.
fn encode_batches(
    batches: Receiver<RecordBatch>,
    files: &mut CsvFiles<'_>,
    style: &CsvStyle,
    text_columns: &[bool],
    request: &ExportRequest,
    bytes_written: &AtomicU64,
) -> Result<u64, ExportError> {
    let io_error = |source| ExportError::Io {
        path: request.out.clone(),
        source,
    };
    let mut finished_bytes = 0;
    let mut file_index = 0;
    let mut current = files.open(file_index).map_err(io_error)?;
    for batch in batches {
        let columns: Vec<_> = batch
            .columns()
            .iter()
            .map(|column| duckdb::arrow::compute::cast(column, &DataType::Utf8))
            .collect::<Result<_, _>>()
            .map_err(|error| io_error(std::io::Error::other(error)))?;
        let strings: Vec<_> = columns.iter().map(|column| column.as_string::<i32>()).collect();
        for row in 0..batch.num_rows() {
            if request.chunk_rows.is_some_and(|limit| current.rows >= limit) {
                finished_bytes += close(current).map_err(io_error)?;
                file_index += 1;
                current = files.open(file_index).map_err(io_error)?;
            }
            let values = strings
                .iter()
                .zip(text_columns)
                .map(|(array, is_text)| ((!array.is_null(row)).then(|| array.value(row)), *is_text));
            style.push_record(&mut current.block, values);
            current.rows += 1;
            if current.block.len() >= BLOCK_BYTES {
                let block = std::mem::replace(&mut current.block, Vec::with_capacity(BLOCK_BYTES + 64 * 1024));
                current.sink.write_block(block).map_err(io_error)?;
            }
        }
        bytes_written.store(finished_bytes + current.sink.bytes_written(), Ordering::Relaxed);
    }
    finished_bytes += close(current).map_err(io_error)?;
    Ok(finished_bytes)
}

/// Opens the numbered output files of a CSV export, each starting with the header.
struct CsvFiles<'p> {
    names: OutputNames,
    pool: Option<&'p GzipPool>,
    header: Vec<u8>,
    parts: PartFiles,
}

impl<'p> CsvFiles<'p> {
    fn open(&mut self, index: usize) -> std::io::Result<OpenFile<'p>> {
        let file = self.parts.create(self.names.path(index))?;
        let out = BufWriter::with_capacity(BLOCK_BYTES, file);
        let sink = match self.pool {
            Some(pool) => FileSink::Gzip(GzipFileWriter::new(pool, out)),
            None => FileSink::Plain { out, bytes: 0 },
        };
        let mut block = Vec::with_capacity(BLOCK_BYTES + 64 * 1024);
        block.extend_from_slice(&self.header);
        Ok(OpenFile { sink, block, rows: 0 })
    }
}

/// Writes a file's last block and closes it; returns its size.
fn close(mut file: OpenFile<'_>) -> std::io::Result<u64> {
    if !file.block.is_empty() {
        let block = std::mem::take(&mut file.block);
        file.sink.write_block(block)?;
    }
    file.sink.finish()
}

/// Threads a gzip export compresses on: every core.
pub fn gzip_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

#[allow(clippy::too_many_arguments)]
fn write_parquet(
    conn: &Connection,
    job_id: i64,
    request: &ExportRequest,
    query: &ExportQuery,
    progress: &mut dyn ProgressSink,
    cancel: &CancelToken,
    written: &mut Written,
    report: &dyn Fn(&Written) -> Progress,
) -> Result<PartFiles, ExportError> {
    let rows_total = report(written).rows_total.unwrap_or(0);
    if request.gzip_level.is_some() {
        return Err(ExportError::Unsupported {
            format: "Parquet",
            what: "gzip-compressed (Parquet compresses its own columns)",
        });
    }
    if request.chunk_rows.is_some() {
        return Err(ExportError::Unsupported {
            format: "Parquet",
            what: "split into chunks",
        });
    }
    let mut parts = PartFiles::new(job_id);
    let final_path = request.out.clone();
    drop(parts.create(final_path.clone()).map_err(|source| ExportError::Io {
        path: final_path.clone(),
        source,
    })?);
    let part = part_path(&final_path, job_id);
    let sql = format!(
        "COPY ({}) TO {} (FORMAT parquet)",
        query.select_typed_sql,
        crate::sql::quote_literal(&part.display().to_string())
    );
    // The COPY runs on a connection of its own on a helper thread, so this thread can report
    // DuckDB's own progress estimate and interrupt the statement on cancel.
    let copy_conn = conn.try_clone().map_err(database("opening a connection for Parquet"))?;
    copy_conn
        .set_query_progress_tracking(true)
        .map_err(database("turning on query progress"))?;
    let progress_handle = copy_conn.progress_handle();
    let interrupt = copy_conn.interrupt_handle();
    let params = query.params.clone();
    let copier = std::thread::Builder::new()
        .name(format!("sluice-parquet-{job_id}"))
        .spawn(move || {
            let params: Vec<&dyn duckdb::ToSql> = params.iter().map(|p| p as &dyn duckdb::ToSql).collect();
            copy_conn.execute(&sql, params.as_slice()).map(|_| ())
        })
        .map_err(|source| ExportError::Io {
            path: final_path.clone(),
            source,
        })?;
    while !copier.is_finished() {
        if cancel.is_cancelled() {
            interrupt.interrupt();
        }
        if let Some(percentage) = progress_handle.query_progress().percentage() {
            written.rows = ((percentage / 100.0) * rows_total as f64) as u64;
            progress.progress(&report(written));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let copied = copier.join().map_err(|panic| ExportError::Io {
        path: final_path.clone(),
        source: std::io::Error::other(crate::import::panic_message(&panic)),
    })?;
    if cancel.is_cancelled() {
        return Err(ExportError::Cancelled);
    }
    copied.map_err(database("writing Parquet"))?;
    written.rows = rows_total;
    written.bytes = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    Ok(parts)
}

/// Removes what an export that died with its process left behind.
pub fn remove_leftovers(job_id: i64, request: &ExportRequest) -> usize {
    let dir = request
        .out
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    remove_parts_of_job(dir, job_id)
}
