//! The parsing side of an import: records in, batches of good rows and lists of failed rows out.
//!
//! It runs on its own thread and knows nothing of the database; it hands each batch to a callback
//! (in practice a bounded channel to the writer), which is what lets parsing and writing overlap
//! and lets a slow database slow the reader down instead of filling memory.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use duckdb::arrow::error::ArrowError;
use duckdb::arrow::record_batch::RecordBatch;

use crate::import::open::source::Rejected;
use crate::import::open::source::{FileToRead, SourceError, TextSource};
use crate::import::plan::import_plan::ImportPlan;
use crate::import::read::record_reader::{OwnedRecord, Record, RecordReader};
use crate::import::write::batch::BatchBuilder;
use crate::import::write::cell::Cell;
use crate::import::write::recipe::RecipeRun;
use crate::import::write::validate::RowValidator;
use crate::progress::CancelToken;
use crate::records::{FailedRow, MAX_LISTED_SKIPPED_LINES, Problem, SkipReason, SkippedLine};
use crate::throttle::TokenBucket;

/// Longest raw text kept for one failed row; the rest is cut and marked.
const RAW_LIMIT_BYTES: usize = 1024 * 1024;
/// A throttled parse asks the token bucket for rows this many at a time, so the rate is smooth.
const THROTTLE_STEP_ROWS: u64 = 1024;
/// Rows the batch builders have room for before they first grow.
const INITIAL_BATCH_CAPACITY_ROWS: usize = 4096;
/// A partial batch is sent after this long, so progress keeps moving on slow input.
const MAX_BATCH_AGE: Duration = Duration::from_millis(200);

const SKIPPED_RAW_CHARS: usize = 1000;

/// Counts skipped lines and lists the first of them.
struct SkipLog {
    file: Arc<str>,
    /// Lines skipped in earlier files of the job, which count towards the listing limit.
    before: u64,
    count: u64,
    listed: Vec<SkippedLine>,
}

impl SkipLog {
    fn new(file: Arc<str>, before: u64) -> Self {
        Self {
            file,
            before,
            count: 0,
            listed: Vec::new(),
        }
    }

    fn room(&self) -> u64 {
        MAX_LISTED_SKIPPED_LINES.saturating_sub(self.before + self.count)
    }

    fn blank(&mut self, first_line: u64, count: u64) {
        let listed = count.min(self.room());
        self.listed
            .extend((first_line..first_line + listed).map(|line| SkippedLine {
                file: Some(self.file.clone()),
                line,
                reason: SkipReason::Blank,
                raw: String::new(),
            }));
        self.count += count;
    }

    fn record(&mut self, line: u64, reason: SkipReason, raw: &[u8]) {
        if self.room() > 0 {
            let text = String::from_utf8_lossy(raw);
            self.listed.push(SkippedLine {
                file: Some(self.file.clone()),
                line,
                reason,
                raw: text.chars().take(SKIPPED_RAW_CHARS).collect(),
            });
        }
        self.count += 1;
    }
}

/// What the parser hands to the writer.
pub struct ParsedBatch {
    /// The file (among the job's) the rows came from.
    pub file_index: usize,
    pub rows: Option<RecordBatch>,
    /// The unique check's keys of `rows`, when the plan has a unique column.
    pub keys: Option<RecordBatch>,
    pub failed: Vec<FailedRow>,
    /// Skipped lines to list (only the first of the job's are).
    pub skipped: Vec<SkippedLine>,
    /// Running totals up to and including this batch, over all the job's files so far.
    pub rows_read: u64,
    pub bytes_read: u64,
}

/// Final counts of a parse that reached the end of the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseTotals {
    /// Data records read: each is valid or failed.
    pub rows_read: u64,
    /// Lines skipped and counted apart from the rows read: above the header, comments, blank.
    pub rows_skipped: u64,
    /// Rows that passed validation and went into batches.
    pub rows_valid: u64,
    /// Rows that failed, with their problems.
    pub rows_failed: u64,
    /// Bytes of the file consumed, as it is stored (packed, for a compressed file).
    pub bytes_read: u64,
}

/// Why parsing stopped before the end of the file.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The file could not be read further.
    #[error("reading stopped after line {line} (byte {byte} of the decoded text): {source}")]
    Read {
        /// The line of the last record read.
        line: u64,
        /// That record's offset in the decoded text.
        byte: u64,
        /// The error that stopped it.
        source: std::io::Error,
    },
    /// A batch of valid rows could not be built.
    #[error("could not build a batch of rows: {0}")]
    Arrow(#[from] ArrowError),
    /// The person cancelled the import.
    #[error("the import was cancelled")]
    Cancelled,
    /// The writer stopped taking batches before the parse ended.
    #[error("the writer stopped taking rows")]
    WriterGone,
    /// A file could not be opened.
    #[error(transparent)]
    Open(#[from] SourceError),
}

/// One file of a job, as the parser reads it.
pub struct ParsePart {
    pub file: FileToRead,
    pub validator: RowValidator,
    /// The recipe whose rules fix each record before it is validated, when the import has one.
    pub recipe: Option<RecipeRun>,
}

/// Where a file starts among the job's: what the files before it read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartStart {
    pub file_index: usize,
    /// Data records in the files before (a record's number in the job is this plus its number
    /// in its file).
    pub records_before: u64,
    pub bytes_before: u64,
    pub skipped_before: u64,
    /// Good rows of the files before: the next good row's place among the job's good rows,
    /// which the unique check finds it by in the table.
    pub valid_before: u64,
}

/// Parses every file of `parts` in order, as one stream of records numbered across the files.
/// Returns each file's totals, in order.
pub fn parse_parts(
    parts: Vec<ParsePart>,
    batch_rows: usize,
    key_columns: &[usize],
    mut throttle: Option<TokenBucket>,
    cancel: &CancelToken,
    mut deliver: impl FnMut(ParsedBatch) -> bool,
) -> Result<Vec<ParseTotals>, ParseError> {
    let mut start = PartStart::default();
    let mut all = Vec::with_capacity(parts.len());
    for (file_index, part) in parts.into_iter().enumerate() {
        if cancel.is_cancelled() {
            return Err(ParseError::Cancelled);
        }
        start.file_index = file_index;
        let source = part.file.open()?;
        let totals = parse_rows(
            source,
            (part.validator, part.recipe.as_ref()),
            &part.file.label,
            start,
            batch_rows,
            key_columns,
            throttle.as_mut(),
            cancel,
            &mut deliver,
        )?;
        start.records_before += totals.rows_read;
        start.bytes_before += totals.bytes_read;
        start.skipped_before += totals.rows_skipped;
        start.valid_before += totals.rows_valid;
        all.push(totals);
    }
    Ok(all)
}

impl ParseTotals {
    /// The totals of a whole job from those of its files.
    pub fn sum(parts: &[ParseTotals]) -> Self {
        parts.iter().fold(Self::default(), |sum, part| Self {
            rows_read: sum.rows_read + part.rows_read,
            rows_skipped: sum.rows_skipped + part.rows_skipped,
            rows_valid: sum.rows_valid + part.rows_valid,
            rows_failed: sum.rows_failed + part.rows_failed,
            bytes_read: sum.bytes_read + part.bytes_read,
        })
    }
}

/// Parses every record of `source`, sending batches to `deliver` (which returns false when the
/// receiver has gone away). `key_columns` (indexes into the plan's columns) are also gathered
/// into keys batches for the unique check (see `unique`). The totals returned are the file's own;
/// the batches count from `start`, the job's files before this one.
#[allow(clippy::too_many_arguments)]
pub fn parse_rows(
    source: TextSource,
    (validator, recipe): (RowValidator, Option<&RecipeRun>),
    file: &Arc<str>,
    start: PartStart,
    batch_rows: usize,
    key_columns: &[usize],
    mut throttle: Option<&mut TokenBucket>,
    cancel: &CancelToken,
    deliver: &mut impl FnMut(ParsedBatch) -> bool,
) -> Result<ParseTotals, ParseError> {
    let batch_rows = batch_rows.max(1);
    let mut batch = BatchInProgress::new(validator.plan(), batch_rows, key_columns, start.valid_before)?;
    let mut reader =
        RecordReader::new(source.reader, validator.plan().layout.dialect).numbering_from(source.first_line);
    let bytes_read = source.bytes_read;
    let malformed = source.malformed;
    let rejects = source.rejects;
    let mut totals = ParseTotals::default();
    let mut skipped = SkipLog::new(file.clone(), start.skipped_before);
    let mut outside = OutsideTable {
        skip_pending: validator.plan().layout.skip_records,
        header_pending: validator.plan().layout.header_records(),
    };
    let mut last = (0, 0);
    while let Some(record) = next_record(&mut reader, &mut last)? {
        let span_end = record.byte_offset + record.raw.len() as u64 + 1;
        let damaged = malformed
            .as_ref()
            .is_some_and(|log| log.take_within(record.byte_offset, span_end));
        if outside.skips(&record, validator.plan(), totals.rows_read, &mut skipped) {
            continue;
        }
        totals.rows_read += 1;
        let record_no = start.records_before + totals.rows_read;
        // Counted over the job, so a job of many small files is held to its rate too.
        if record_no.is_multiple_of(THROTTLE_STEP_ROWS)
            && let Some(bucket) = throttle.as_mut()
            && !bucket.take(THROTTLE_STEP_ROWS, &|| cancel.is_cancelled())
        {
            return Err(ParseError::Cancelled);
        }
        let rejected = rejects.as_ref().and_then(|log| log.take_at(record.byte_offset));
        batch.take(
            &record,
            (record_no, damaged, rejected),
            (&validator, recipe),
            file,
            &mut totals,
        );
        if batch.is_due(batch_rows, totals.rows_read) {
            if cancel.is_cancelled() {
                return Err(ParseError::Cancelled);
            }
            let read = (record_no, start.bytes_before + bytes_read.load(Ordering::Relaxed));
            let parsed = batch.finish(&start, std::mem::take(&mut skipped.listed), read)?;
            if !deliver(parsed) {
                return Err(ParseError::WriterGone);
            }
            // After the send, which waits while the writer is busy: the wait is not the batch's age.
            batch.started = Instant::now();
        }
    }

    let (first_blank, trailing_blanks) = reader.trailing_blank_lines();
    skipped.blank(first_blank, trailing_blanks);
    totals.rows_skipped = skipped.count;
    totals.bytes_read = bytes_read.load(Ordering::Relaxed);
    let read = (
        start.records_before + totals.rows_read,
        start.bytes_before + totals.bytes_read,
    );
    let parsed = batch.finish(&start, skipped.listed, read)?;
    if !deliver(parsed) {
        return Err(ParseError::WriterGone);
    }
    Ok(totals)
}

/// The reader's next record; `last` keeps the line and byte offset of the one before, which a
/// read error names.
fn next_record<'r, R: std::io::Read>(
    reader: &'r mut RecordReader<R>,
    last: &mut (u64, u64),
) -> Result<Option<Record<'r>>, ParseError> {
    match reader.next_record() {
        Ok(Some(record)) => {
            *last = (record.line, record.byte_offset);
            Ok(Some(record))
        }
        Ok(None) => Ok(None),
        Err(source) => Err(ParseError::Read {
            line: last.0,
            byte: last.1,
            source,
        }),
    }
}

/// The batch a file's records are being sorted into: the rows that pass, the failed rows, and
/// the buffers each record is checked with.
struct BatchInProgress {
    builder: BatchBuilder,
    failed: Vec<FailedRow>,
    cells: Vec<Cell>,
    problems: Vec<Problem>,
    /// When the batch was started: a slow file still sends what it has every `MAX_BATCH_AGE`.
    started: Instant,
}

impl BatchInProgress {
    /// An empty batch of `plan`'s columns, its rows numbered from `first_row`.
    fn new(plan: &ImportPlan, batch_rows: usize, key_columns: &[usize], first_row: u64) -> Result<Self, ArrowError> {
        // The builders grow as rows come; sized for a whole batch up front, a file of forty rows
        // took megabytes per job, which glibc then kept in its arenas (the window grew over 500
        // jobs).
        let mut builder = BatchBuilder::new(&plan.columns, batch_rows.min(INITIAL_BATCH_CAPACITY_ROWS), key_columns)?;
        builder.number_from(first_row);
        Ok(Self {
            builder,
            failed: Vec::new(),
            cells: Vec::new(),
            problems: Vec::new(),
            started: Instant::now(),
        })
    }

    /// Whether the batch is to be sent: it is full, or it has waited `MAX_BATCH_AGE` (looked at
    /// every 1,024 records read, as the clock costs more than a record).
    fn is_due(&self, batch_rows: usize, rows_read: u64) -> bool {
        self.builder.len() >= batch_rows
            || self.failed.len() >= batch_rows
            || (rows_read.is_multiple_of(1024) && self.started.elapsed() >= MAX_BATCH_AGE)
    }

    /// Puts record `record_no` in the batch: a row when it passes `validator`, a failed row with
    /// its reasons when it does not, or when the decoder rejected its bytes. `damaged` says
    /// some of its bytes were replaced in decoding.
    #[inline]
    fn take(
        &mut self,
        record: &Record<'_>,
        (record_no, damaged, rejected): (u64, bool, Option<Rejected>),
        (validator, recipe): (&RowValidator, Option<&RecipeRun>),
        file: &Arc<str>,
        totals: &mut ParseTotals,
    ) {
        if let Some(rejected) = rejected {
            totals.rows_failed += 1;
            self.failed.push(unreadable_row(record_no, record, rejected, file));
        } else if let Some((fields, quoted)) = recipe.and_then(|recipe| recipe.fix(record)) {
            self.take_fixed(record, (record_no, damaged), (&fields, quoted), validator, file, totals);
        } else if validator.check(record, damaged, &mut self.cells, &mut self.problems) {
            self.builder.push(record, &self.cells, record_no);
            totals.rows_valid += 1;
        } else {
            totals.rows_failed += 1;
            let mut row = failed_row(record_no, record, std::mem::take(&mut self.problems));
            row.file = Some(file.clone());
            let plan = validator.plan();
            drop_trailing_field(&mut row, plan.layout.trailing_fields(), plan.field_count());
            self.failed.push(row);
        }
    }

    /// Puts record `record_no` in the batch as a recipe fixed it: validated with its fixed
    /// `fields` (`quoted` says which were quoted), and when it still fails, kept with its raw
    /// text as the file wrote it and the fields as fixed.
    #[cold]
    fn take_fixed(
        &mut self,
        record: &Record<'_>,
        (record_no, damaged): (u64, bool),
        (fields, quoted): (&[String], Vec<bool>),
        validator: &RowValidator,
        file: &Arc<str>,
        totals: &mut ParseTotals,
    ) {
        let fixed = OwnedRecord::new(record.line, record.byte_offset, fields).with_quoted(quoted);
        let fixed = fixed.as_record();
        if validator.check(&fixed, damaged, &mut self.cells, &mut self.problems) {
            self.builder.push(&fixed, &self.cells, record_no);
            totals.rows_valid += 1;
        } else {
            totals.rows_failed += 1;
            let mut row = failed_row(record_no, record, std::mem::take(&mut self.problems));
            row.file = Some(file.clone());
            row.fields = fields.to_vec();
            let plan = validator.plan();
            drop_trailing_field(&mut row, plan.layout.trailing_fields(), plan.field_count());
            self.failed.push(row);
        }
    }

    /// The batch so far, with the lines `skipped` since the last, as sent to the writer; the
    /// next batch starts empty. `(rows_read, bytes_read)` are the job's so far.
    fn finish(
        &mut self,
        start: &PartStart,
        skipped: Vec<SkippedLine>,
        (rows_read, bytes_read): (u64, u64),
    ) -> Result<ParsedBatch, ArrowError> {
        let failed = std::mem::take(&mut self.failed);
        parsed_batch(start, &mut self.builder, (failed, skipped), rows_read, bytes_read)
    }
}

/// What stands around a file's table: the records above its header (skipped and counted), its
/// header's lines, and what follows its last row when another table follows.
struct OutsideTable {
    skip_pending: usize,
    header_pending: usize,
}

impl OutsideTable {
    /// Whether `record` is no row of the table: blank lines, comment lines anywhere, the
    /// records above the header and below the table's last row are skipped, counted and (the
    /// first of them) listed; the header's lines are passed over. `rows_read` are the table's
    /// rows so far.
    #[inline]
    fn skips(&mut self, record: &Record<'_>, plan: &ImportPlan, rows_read: u64, skipped: &mut SkipLog) -> bool {
        if record.blank_lines_before > 0 {
            skipped.blank(record.line - record.blank_lines_before, record.blank_lines_before);
        }
        if plan.is_blank(record) {
            skipped.record(record.line, SkipReason::Blank, record.raw);
            return true;
        }
        let is_comment = plan.is_comment(record);
        if is_comment || self.skip_pending > 0 {
            let reason = if is_comment {
                SkipReason::Comment
            } else {
                self.skip_pending -= 1;
                SkipReason::AboveHeader
            };
            skipped.record(record.line, reason, record.raw);
            return true;
        }
        if self.header_pending > 0 {
            self.header_pending -= 1;
            return true;
        }
        if plan.layout.table_rows.is_some_and(|rows| rows_read >= rows) {
            skipped.record(record.line, SkipReason::BelowTable, record.raw);
            return true;
        }
        false
    }
}

/// A batch of what a file's parse gathered since the last: its good rows and their keys, and
/// its `failed` rows and `skipped` lines; the job's rows and bytes read so far.
fn parsed_batch(
    start: &PartStart,
    builder: &mut BatchBuilder,
    (failed, skipped): (Vec<FailedRow>, Vec<SkippedLine>),
    rows_read: u64,
    bytes_read: u64,
) -> Result<ParsedBatch, ArrowError> {
    let (rows, keys) = finish_rows(builder)?;
    Ok(ParsedBatch {
        file_index: start.file_index,
        rows,
        keys,
        failed,
        skipped,
        rows_read,
        bytes_read,
    })
}

/// The good rows gathered so far and their keys; none when there are none.
fn finish_rows(builder: &mut BatchBuilder) -> Result<(Option<RecordBatch>, Option<RecordBatch>), ArrowError> {
    if builder.is_empty() {
        return Ok((None, None));
    }
    let (rows, keys) = builder.finish()?;
    Ok((Some(rows), keys))
}

/// The failed row of an input line that could not be read (JSON that does not parse): its own
/// text, not the empty record that stood for it.
fn unreadable_row(
    record_no: u64,
    record: &crate::import::read::record_reader::Record<'_>,
    rejected: Rejected,
    file: &Arc<str>,
) -> FailedRow {
    FailedRow {
        record_no,
        file: Some(file.clone()),
        line: record.line,
        byte_offset: record.byte_offset,
        fields: vec![rejected.raw.clone()],
        raw: rejected.raw,
        raw_bytes: None,
        problems: vec![Problem {
            field_index: None,
            column: None,
            kind: crate::records::ProblemKind::Unreadable,
            message: rejected.reason,
        }],
    }
}

/// Drops the empty fields a trailing delimiter (and unnamed empty columns) leave, so a stored row
/// has the table's width (and a retry, which knows nothing of the delimiter, reads it as a row of
/// the right width).
pub fn drop_trailing_field(row: &mut FailedRow, trailing_fields: usize, field_count: usize) {
    let extra = row.fields.len().saturating_sub(field_count);
    if extra > 0 && extra <= trailing_fields && row.fields[field_count..].iter().all(|f| f.trim().is_empty()) {
        row.fields.truncate(field_count);
    }
}

/// A rejected record as it is stored: raw text (cut at 1 MiB), fields and problems.
pub fn failed_row(
    record_no: u64,
    record: &crate::import::read::record_reader::Record<'_>,
    problems: Vec<Problem>,
) -> FailedRow {
    let (raw_slice, cut) = if record.raw.len() > RAW_LIMIT_BYTES {
        (&record.raw[..RAW_LIMIT_BYTES], true)
    } else {
        (record.raw, false)
    };
    let mut raw = String::from_utf8_lossy(raw_slice).into_owned();
    let raw_bytes = std::str::from_utf8(raw_slice).is_err().then(|| raw_slice.to_vec());
    if cut {
        raw.push_str(" [cut: the record is longer than 1 MiB]");
    }
    FailedRow {
        record_no,
        file: None,
        line: record.line,
        byte_offset: record.byte_offset,
        raw,
        raw_bytes,
        fields: record
            .fields()
            .map(|field| String::from_utf8_lossy(field).into_owned())
            .collect(),
        problems,
    }
}
