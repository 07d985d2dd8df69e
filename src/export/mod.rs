//! Exporting a table (or a filtered, ordered slice of it) to CSV (plain, gzip, chunks of N rows,
//! shaped for its reader), an Excel workbook or Parquet (one file or a Hive-partitioned folder),
//! streamed in flat memory, with files that appear only when complete.
//!
//! For CSV the rows come from DuckDB as a stream of Arrow batches, each value either cast to
//! text by DuckDB itself or typed and written by [`cast_text`] to the same bytes, so values read
//! exactly as `COPY ... TO` writes them and re-import losslessly. [`encode`] turns them into CSV
//! text, [`transcode`] into the chosen encoding,
//! [`gzip`] compresses blocks on every core, [`files`] keeps the output invisible until the
//! export has succeeded. [`xlsx`] writes typed cells. Parquet is DuckDB's own writer for one file, and
//! Sluice's ([`parquet_stream`]) for chunks of rows and Hive partitions.

mod batches;
mod cast_text;
mod csv_out;
mod date_text;
mod encode;
mod files;
mod gzip;
mod parquet;
mod parquet_options;
mod parquet_stream;
mod preset;
mod preview;
mod query;
pub mod shape;
mod transcode;
mod xlsx;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use crate::query::{Filter, FilterOp};
pub use date_text::DateText;
pub use encode::{CsvStyle, FieldKind};
pub use files::{part_path, remove_parts_of_job};
pub use parquet_options::{ParquetCompression, ParquetOptions};
pub use preset::{Preset, PresetChoice};
pub use preview::{ExportPreview, preview_export};
pub use query::{ExportQuery, build_query};
pub use shape::{CsvShape, LineEnding, QuoteStyle, ShapeError, TextEncoding};
pub use xlsx::{EXCEL_MAX_DATA_ROWS, XlsxOptions, XlsxSplit};

use crate::job::{Job, JobContext, JobError, JobFailure, JobLabels, Stopped};
use crate::progress::{Progress, ProgressSink};
use crate::query::QueryError;
use crate::store::{JobOutcome, JobStatus, Store, StoreError};
use batches::Pump;

/// The output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// Delimited text, shaped by [`CsvShape`].
    #[default]
    Csv,
    /// An Excel workbook with typed cells.
    Xlsx,
    /// Parquet: one file, or a folder of Hive partitions.
    Parquet,
}

/// Sort order of an export.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderBy {
    /// The column to sort by.
    pub column: String,
    /// Descending (largest first) when true; ascending otherwise.
    pub descending: bool,
}

/// Everything an export needs to know; stored with its job as JSON.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExportRequest {
    /// The table to export, as the user named it.
    pub table: String,
    /// The file to write; with several files, the name they are numbered after (`name-00001.csv`);
    /// for a partitioned Parquet export, the folder to create.
    pub out: PathBuf,
    /// Conditions an exported row meets, every one of them.
    pub filters: Vec<Filter>,
    /// Columns in output order; empty means all, in table order.
    pub columns: Vec<String>,
    /// The column the rows are sorted by; `None` leaves them unsorted.
    pub order_by: Option<OrderBy>,
    /// Which kind of file to write: CSV, Excel or Parquet.
    pub format: ExportFormat,
    /// Compress with gzip at this level (1 to 9).
    pub gzip_level: Option<u32>,
    /// Start a new file after this many rows.
    pub chunk_rows: Option<u64>,
    /// The byte between CSV fields.
    pub delimiter: u8,
    /// Start each CSV file with a line of the column names.
    pub header: bool,
    /// Prefix CSV text cells that a spreadsheet would run as a formula with `'`.
    pub formula_guard: bool,
    /// Encoding, line endings, quoting, NULL string, date and number conventions of CSV.
    #[serde(default)]
    pub shape: CsvShape,
    /// Settings used when the format is Excel.
    #[serde(default)]
    pub xlsx: XlsxOptions,
    /// Settings used when the format is Parquet.
    #[serde(default)]
    pub parquet: ParquetOptions,
}

impl ExportRequest {
    /// A CSV export of every row and column of `table` to `out`, comma-delimited with a header
    /// line.
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
            shape: CsvShape::default(),
            xlsx: XlsxOptions::default(),
            parquet: ParquetOptions::default(),
        }
    }

    /// Whether the export only streams the table's rows to a writer of Sluice's: DuckDB then
    /// needs no working memory of its own, only room to read. Sorting needs DuckDB's memory, and
    /// so does one Parquet file, which DuckDB's COPY writes.
    pub fn only_streams(&self) -> bool {
        self.order_by.is_none()
            && match self.format {
                ExportFormat::Csv | ExportFormat::Xlsx => true,
                ExportFormat::Parquet => self.chunk_rows.is_some() || !self.parquet.partition_by.is_empty(),
            }
    }
}

/// The result of an export that ran to an end.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ExportSummary {
    /// The job the export ran as.
    pub job_id: i64,
    /// How it ended: completed, or cancelled.
    pub status: JobStatus,
    /// The table exported, as the request named it.
    pub table: String,
    /// Rows written, over all files.
    pub rows_written: u64,
    /// The files (or the folder) written, at their final paths.
    pub files: Vec<PathBuf>,
    /// Bytes written, over all files, as they are on disk.
    pub bytes_written: u64,
    /// Characters the encoding could not hold, written as `?` (with `replace_unencodable`).
    pub replaced_characters: u64,
    /// How long the export ran, in milliseconds.
    pub elapsed_ms: u64,
    /// The process's peak resident memory while the export ran, when known.
    pub peak_rss_bytes: Option<u64>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The table, a column or a filter was refused, or the database failed (boxed: it is
    /// large, and rare).
    #[error(transparent)]
    Query(Box<QueryError>),
    /// The format cannot do what the request asks, such as gzip for Excel or Parquet.
    #[error("{format} output cannot be {what}")]
    Unsupported {
        /// The format's name for people (`Excel`).
        format: &'static str,
        /// What the format cannot be, such as "gzip-compressed".
        what: &'static str,
    },
    /// A file or folder of the export could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder being written.
        path: PathBuf,
        /// Why it could not be.
        source: std::io::Error,
    },
    /// The request's CSV shape cannot be written.
    #[error(transparent)]
    Shape(#[from] ShapeError),
    /// A character the chosen encoding cannot hold, with `replace_unencodable` off.
    #[error(
        "{place}, column '{column}', holds '{character}' (U+{code:04X}), which {encoding} cannot hold; \
         export as UTF-8, or have such characters written as '?'",
        place = match row { Some(row) => format!("row {row} of the export"), None => "the header".into() },
        code = u32::from(*character)
    )]
    Unencodable {
        /// The data row, counted from 1; `None` for the header.
        row: Option<u64>,
        /// The column holding it.
        column: String,
        /// The character itself.
        character: char,
        /// The encoding's name for people (`Windows-1252`).
        encoding: &'static str,
    },
    /// A text longer than an Excel cell holds.
    #[error("row {row} of the export, column '{column}', holds more than the 32,767 characters an Excel cell can")]
    CellTooLong {
        /// The data row, counted from 1.
        row: u64,
        /// The column holding the text.
        column: String,
    },
    /// A partition column that is not one of the exported columns.
    #[error("cannot partition by '{0}': it is not one of the exported columns")]
    PartitionColumn(String),
    /// The folder a partitioned export would create exists and holds something.
    #[error("{0} exists and is not an empty folder; a partitioned export writes a folder of its own")]
    FolderInUse(PathBuf),
    /// Arrow could not turn the exported values into text.
    #[error("the exported values could not be turned into text: {0}")]
    Text(#[source] duckdb::arrow::error::ArrowError),
    /// The export was asked to stop.
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
            replaced_characters: 0,
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
        let replaced_characters = written.replaced_characters;
        Ok(ExportSummary {
            job_id: context.job_id,
            status: JobStatus::Completed,
            table: self.table.clone(),
            rows_written: written.rows,
            files,
            bytes_written: written.bytes,
            replaced_characters,
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

/// What an export has written so far.
#[derive(Default)]
pub struct Written {
    rows: u64,
    bytes: u64,
    replaced_characters: u64,
}

fn export(
    context: &mut JobContext<'_>,
    request: &ExportRequest,
    written: &mut Written,
) -> Result<Vec<PathBuf>, ExportError> {
    let (conn, job_id, cancel) = (context.conn(), context.job_id, context.cancel);
    let progress: &mut dyn ProgressSink = context;
    if request.format == ExportFormat::Csv {
        request.shape.check(request.delimiter)?;
        query::check_formats(conn, &request.shape)?;
    }
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
    let pump = Pump {
        conn,
        job_id,
        progress,
        cancel,
        written: &mut *written,
        report: &report,
    };
    let parts = match request.format {
        ExportFormat::Csv => {
            let csv = csv_out::write_csv(pump, request, &query)?;
            written.replaced_characters = csv.replaced_characters;
            csv.parts
        }
        ExportFormat::Xlsx => xlsx::write_xlsx(pump, request, &query)?,
        ExportFormat::Parquet => parquet::write_parquet(pump, request, &query)?,
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

/// Threads a gzip export compresses on: every core.
pub fn gzip_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
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
