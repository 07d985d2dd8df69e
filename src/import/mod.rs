//! Importing files into a DuckDB table with every row accounted for.
//!
//! An import passes through five stages, each a folder that uses only the ones before it:
//! [`open`] finds the files and turns each into text (unpacked, decoded, or rendered from a
//! workbook, NDJSON or Parquet); [`read`] cuts the text into records that keep their raw text,
//! line and byte offset; [`sniff`] decides from a sample how the file is laid out and what type
//! each column is; [`plan`] decides which field feeds which column, with which rules; and
//! [`write`] streams. A parse thread validates records and builds Arrow batches; the calling
//! thread appends them inside one transaction. The two are joined by a bounded channel, so
//! parsing overlaps with writing and memory stays flat. Every data row ends up either in the
//! table or in `sluice.failed_rows` with its file, line, raw text and problems: imported +
//! failed = read.

mod open;
mod plan;
mod read;
mod sniff;
mod write;

pub use open::input_formats;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

pub use crate::records::{
    ExistingTable, FailedRow, MAX_LISTED_SKIPPED_LINES, Problem, ProblemKind, SkipReason, SkippedLine,
};
pub use open::column_span::{ColumnSpan, column_letters};
pub use open::encoding::{Confidence, EncodingEvidence, SOURCE_ENCODINGS, SourceEncoding, encoding_for_label};
pub use open::inputs::{InputError, Inputs, expand_inputs, is_table_file};
pub use open::source::{SheetInfo, SourceError, WorkbookError};
pub use open::workbook::is_workbook;
pub use plan::import_plan::{ImportPlan, PlanError, plan_import};
pub use plan::many_files::FilesError;
pub use plan::schema::{ColumnSpec, SchemaError, SchemaFile};
pub use plan::target::{TableSetup, Target, target};
pub use plan::type_widening::widen;
pub use read::record_reader::{Defect, Dialect, OwnedRecord, Record, RecordReader};
pub use sniff::column_names::clean_headers;
pub use sniff::file_layout::{FileLayout, StoredLayouts};
pub use sniff::header_guess::strict_column_type;
pub use sniff::layout::{LayoutChoice, LayoutScore, OtherTable};
pub use sniff::sniffer::{MAX_COLUMNS, SampleSize, SniffError, SniffHints, Sniffed, sniff, sniff_with};
pub use sniff::table_end::{BreakKind, TableBreak};
pub use sniff::type_guess::{ColumnGuess, InferenceContext, guess_column};
pub use sniff::types::ColumnType;
pub use sniff::value_formats::{ColumnFormat, NULL_MARKERS, ValueFormat, reads_as_missing};
pub use write::cell::PreviewColumn;
pub use write::fix_job::FixRequest;
pub use write::fix_preview::{FixExample, FixPreview, PREVIEW_EXAMPLES, PreviewError, preview_fix};
pub use write::fix_rules::{Case, CompiledRules, FixRule, RuleError};
pub use write::pipeline::{ParseError, ParseTotals};
pub use write::recipe::{Recipe, RecipeError};
pub use write::retry::{RetryError, RetryRequest, RetrySummary, RowEdit};
pub use write::undo_fix::{UndoFixError, UndoFixRequest, UndoFixSummary};
pub use write::upsert::{KeyError, check_key};

use crate::job::{Job, JobContext, JobError, JobFailure, JobLabels, Stopped};
use crate::sql::TableNameError;
use crate::store::{JobOutcome, JobStatus, Store, StoreError};
use write::load::Written;

/// Rows per batch when the caller does not say: one DuckDB row group, which measured fastest.
pub const DEFAULT_BATCH_ROWS: usize = crate::store::ROW_GROUP_ROWS as usize;
/// Batches the parser may run ahead of the writer: as many as make up one DuckDB row group
/// with the batch being built, so none at the default size. The parser is the faster of the
/// two (DuckDB's writing is the import's critical path), so a queue of full batches only fills
/// and holds them: a 5M-row import peaked at 137-152 MiB with one or two queued, 123-124 MiB
/// with none, in the same 2.5-2.6 s. Smaller batches need the queue: DuckDB compresses a row
/// group when it fills, so the writer's work comes in lumps, one per row group, and without a
/// queue the parser waited through each (61,440-row batches: 3.2 s with none, 2.54-2.58 s with one).
fn channel_batches(batch_rows: usize) -> usize {
    const MOST_QUEUED: usize = 16;
    (DEFAULT_BATCH_ROWS / batch_rows.max(1))
        .saturating_sub(1)
        .min(MOST_QUEUED)
}

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
    /// Rows whose key (`ImportRequest::key`) the table has replace the stored row; the others
    /// are added (the table is created when there is none).
    Upsert,
}

/// Everything an import needs to know. Stored with its job as JSON (the hints flattened, bytes
/// as characters), which a retry reads back to validate fixed rows as the import did.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImportRequest {
    /// The files, read in this order into one table: one file, or several (a folder or a
    /// pattern is expanded to its files; see [`expand_inputs`]). Stored before there could be
    /// several as `path`, which still reads.
    #[serde(alias = "path", deserialize_with = "one_or_many_paths")]
    pub paths: Vec<PathBuf>,
    /// The table the rows go into, as the person named it.
    pub table: String,
    /// What is done with the table: created, added to, replaced, or updated by key.
    #[serde(default)]
    pub mode: ImportMode,
    /// The target columns with their types and rules (`--schema`); without one, the columns and
    /// their types are the sniff's.
    #[serde(default)]
    pub schema: Option<SchemaFile>,
    /// What is already known about the files (delimiter, encoding, header...): the sniff guesses
    /// only the rest.
    #[serde(flatten)]
    pub hints: SniffHints,
    /// Rows per batch the parser hands to the writer.
    #[serde(default = "default_batch_rows")]
    pub batch_rows: usize,
    /// Caps the rows read per second (a token bucket); `None` runs at full speed.
    #[serde(default)]
    pub max_rows_per_sec: Option<u64>,
    /// Rows with fewer fields than the header get NULL for the rest instead of failing.
    #[serde(default)]
    pub pad_missing: bool,
    /// Columns a file has and the table lacks are added to it, instead of refusing the file.
    #[serde(default)]
    pub add_columns: bool,
    /// A text column, added when the table lacks it, that gets each row's file.
    #[serde(default)]
    pub source_column: Option<String>,
    /// The columns that match a row with a stored one, for `ImportMode::Upsert`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key: Vec<String>,
    /// Fix rules run on each record's fields before it is validated (`--recipe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<Recipe>,
}

fn default_batch_rows() -> usize {
    DEFAULT_BATCH_ROWS
}

fn one_or_many_paths<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    Ok(match serde::Deserialize::deserialize(deserializer)? {
        OneOrMany::One(path) => vec![path],
        OneOrMany::Many(paths) => paths,
    })
}

impl ImportRequest {
    /// An import of one file (or folder, or pattern) into `table`, with everything else as the
    /// command line's defaults.
    pub fn new(path: impl Into<PathBuf>, table: impl Into<String>) -> Self {
        Self::of_files(vec![path.into()], table)
    }

    /// An import of several files into one table.
    pub fn of_files(paths: Vec<PathBuf>, table: impl Into<String>) -> Self {
        Self {
            paths,
            table: table.into(),
            mode: ImportMode::Create,
            schema: None,
            hints: SniffHints::default(),
            batch_rows: DEFAULT_BATCH_ROWS,
            max_rows_per_sec: None,
            pad_missing: false,
            add_columns: false,
            source_column: None,
            key: Vec::new(),
            recipe: None,
        }
    }

    /// The files as people read them: the path of one, or how many and the first.
    pub fn describe_files(&self) -> String {
        match self.paths.as_slice() {
            [one] => one.display().to_string(),
            [first, rest @ ..] => format!("{} files ({} ...)", rest.len() + 1, first.display()),
            [] => String::new(),
        }
    }
}

/// The result of an import that ran to an end (completed or cancelled).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportSummary {
    /// The job the import ran as.
    pub job_id: i64,
    /// Whether it completed or was cancelled.
    pub status: JobStatus,
    /// The table the rows went into.
    pub table: String,
    /// Files read into the table.
    pub files: u64,
    /// Data records read from the files, each of them either imported or failed.
    pub rows_read: u64,
    /// Rows now in the table: `rows_inserted` + `rows_updated`.
    pub rows_imported: u64,
    /// Rows added to the table.
    pub rows_inserted: u64,
    /// Rows that replaced a stored row with the same key (an upsert; 0 otherwise).
    pub rows_updated: u64,
    /// Rows set aside in `sluice.failed_rows`, each with its problems.
    pub rows_failed: u64,
    /// Records above the header that are not part of the table (a title, notes): skipped and
    /// counted, so imported + failed + skipped is every record but the header.
    pub rows_skipped: u64,
    /// Bytes of the files consumed, as they are stored (packed, for a compressed file).
    pub bytes_read: u64,
    /// Wall-clock time the import took, in milliseconds.
    pub elapsed_ms: u64,
    /// The encoding the first file was read in, as `SourceEncoding::describe` names it
    /// (`UTF-8-BOM`).
    pub encoding: String,
    /// The first file's field delimiter.
    pub delimiter: String,
    /// Whether the first file was read with a header.
    pub has_header: bool,
    /// The process's peak resident memory, when the platform tells it.
    pub peak_rss_bytes: Option<u64>,
    /// With a recipe: the rows each of its rules changed, by the rule's label
    /// (`age: forty -> 40`); a rule that changed nothing has 0.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fixed_by: BTreeMap<String, u64>,
}

/// Why an import failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The table name is not one Sluice accepts.
    #[error("invalid table name: {0}")]
    TableName(#[from] TableNameError),
    /// The recipe asked for cannot run.
    #[error(transparent)]
    Recipe(Box<RecipeError>),
    /// The paths given do not make a list of files to read.
    #[error(transparent)]
    Inputs(#[from] InputError),
    /// The files cannot go into one table as asked.
    #[error(transparent)]
    Files(Box<FilesError>),
    /// The upsert's key cannot be used with this table or these files.
    #[error(transparent)]
    Key(Box<KeyError>),
    /// A new table was asked for, and there is one of that name.
    #[error("table '{table}' already exists; append to it or replace it")]
    TableExists {
        /// The existing table's name, as stored.
        table: String,
    },
    /// Rows were to be appended to a table that does not exist.
    #[error("there is no table '{table}' to append to; import it as a new table")]
    TableMissing {
        /// The table's name as given.
        table: String,
    },
    /// A file could not be sampled to decide how to read it.
    #[error(transparent)]
    Sniff(#[from] SniffError),
    /// A file could not be opened or read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A file's columns do not fit the schema or the table.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Reading the rows stopped before the end: a read error, or the import was cancelled.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A worker thread panicked or could not be started; holds what it said.
    #[error("the import stopped unexpectedly: {0}")]
    Panicked(String),
    /// A file read again for the rows that broke the unique rule no longer has such a row where it
    /// was.
    #[error("{path} changed while it was imported: line {line} is no longer where it was; nothing was imported")]
    FileChanged {
        /// The file that changed.
        path: PathBuf,
        /// The line the row was on when the file was first read.
        line: u64,
    },
    /// Reading a file again for the rows that broke the unique rule failed.
    #[error("reading the file again for the rows that broke the unique rule: {0}")]
    Reread(String),
    /// A file was deleted, moved, cut short, added to or rewritten while the import read it.
    #[error("{path} changed while it was imported ({how}); nothing was imported: import it again once it is complete")]
    ChangedWhileRead {
        /// The file that changed.
        path: PathBuf,
        /// What changed, in words.
        how: String,
    },
}

impl From<KeyError> for ImportError {
    fn from(error: KeyError) -> Self {
        Self::Key(Box::new(error))
    }
}

impl From<RecipeError> for ImportError {
    fn from(error: RecipeError) -> Self {
        Self::Recipe(Box::new(error))
    }
}

impl From<FilesError> for ImportError {
    fn from(error: FilesError) -> Self {
        Self::Files(Box::new(error))
    }
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
            files: 0,
            rows_read: stopped.counts.rows_read,
            rows_imported: 0,
            rows_inserted: 0,
            rows_updated: 0,
            rows_failed: 0,
            rows_skipped: 0,
            bytes_read: stopped.counts.bytes_read,
            elapsed_ms: stopped.elapsed_ms,
            encoding: String::new(),
            delimiter: String::new(),
            has_header: false,
            peak_rss_bytes: stopped.peak_rss_bytes,
            fixed_by: BTreeMap::new(),
        }
    }
}

impl Job for ImportRequest {
    const KIND: &'static str = "import";
    const CANCELLED: &'static str = "cancelled by the user; the target was left unchanged";
    type Summary = ImportSummary;
    type Error = ImportError;

    fn labels(&self, _store: &Store) -> JobLabels {
        let files = expand_inputs(&self.paths)
            .map(|inputs| inputs.files)
            .unwrap_or_default();
        let bytes_total = files
            .iter()
            .map(|path| open::packing::packed_len(path))
            .sum::<Option<u64>>();
        JobLabels {
            source: self.describe_files(),
            target: Some(self.table.clone()),
            bytes_total,
            files: if files.len() > 1 {
                files.iter().map(|path| path.display().to_string()).collect()
            } else {
                Vec::new()
            },
        }
    }

    fn run(&self, context: &mut JobContext<'_>) -> Result<ImportSummary, ImportError> {
        let started = Instant::now();
        let mut written = Written::default();
        let mut parse_totals = ParseTotals::default();
        let write::run::Finished {
            sniffed,
            files,
            peak_rss_bytes,
            fixed_by,
        } = write::run::import_rows(context, self, &mut written, &mut parse_totals)?;
        Ok(ImportSummary {
            job_id: context.job_id,
            status: JobStatus::Completed,
            table: self.table.clone(),
            files,
            rows_read: parse_totals.rows_read,
            rows_imported: written.rows_imported,
            rows_inserted: written.rows_imported - written.rows_updated,
            rows_updated: written.rows_updated,
            rows_failed: written.rows_failed,
            rows_skipped: parse_totals.rows_skipped,
            bytes_read: parse_totals.bytes_read,
            elapsed_ms: started.elapsed().as_millis() as u64,
            encoding: sniffed.layout.encoding.describe(),
            delimiter: char::from(sniffed.layout.dialect.delimiter).to_string(),
            has_header: sniffed.layout.has_header,
            peak_rss_bytes,
            fixed_by,
        })
    }

    fn outcome(summary: &ImportSummary) -> JobOutcome {
        JobOutcome {
            rows_read: summary.rows_read,
            rows_skipped: summary.rows_skipped,
            rows_imported: summary.rows_imported,
            rows_updated: summary.rows_updated,
            rows_failed: summary.rows_failed,
            bytes_read: summary.bytes_read,
            peak_rss_bytes: summary.peak_rss_bytes,
            ..JobOutcome::default()
        }
    }
}

/// Records written one per line, fields split at `delimiter`: the sampled records the layout
/// rules' unit tests judge.
#[cfg(test)]
pub(crate) fn split_lines(lines: &[&str], delimiter: char) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|line| line.split(delimiter).map(str::to_string).collect())
        .collect()
}

/// The text of a panic payload, for the job's error message.
pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a worker thread panicked".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parser_runs_ahead_by_at_most_one_row_group_of_batches() {
        assert_eq!(channel_batches(DEFAULT_BATCH_ROWS), 0);
        assert_eq!(channel_batches(DEFAULT_BATCH_ROWS * 4), 0);
        assert_eq!(channel_batches(DEFAULT_BATCH_ROWS / 2), 1);
        assert_eq!(channel_batches(DEFAULT_BATCH_ROWS / 4), 3);
        // Tiny batches are held to a short queue, whatever their count per row group.
        assert_eq!(channel_batches(1), 16);
        assert_eq!(channel_batches(0), 16);
    }
}
