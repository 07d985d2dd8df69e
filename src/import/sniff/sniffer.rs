//! Looking at the start of a file to decide how to read it: encoding, delimiter, quote, header,
//! column names and types, and a preview of the first rows.
//!
//! Whatever the caller already knows (a flag, a choice in the window) is taken as given; only the
//! rest is guessed, from the first megabyte of text.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use encoding_rs::Encoding;

use crate::import::open::column_span::ColumnSpan;
use crate::import::open::opener::open_text;
use crate::import::open::source::{EncodingEvidence, Packing, SheetInfo, SourceEncoding, SourceError};
use crate::import::read::dialect::DELIMITERS;
use crate::import::read::record_reader::{DEFAULT_MAX_RECORD_BYTES, Dialect, RecordReader, is_delimiters_only};
use crate::import::sniff::column_names::{clean_headers, default_column_name};
pub use crate::import::sniff::hints::SniffHints;
use crate::import::sniff::layout::{LayoutChoice, LayoutInput, choose_layout, modal_width};
use crate::import::sniff::null_convention::markers_written_as_null;
use crate::import::sniff::table_end::{
    SampledRows, TableBreak, find_breaks, footer_start, maybe_not_data, second_header_start,
};
use crate::import::sniff::type_guess::{ColumnGuess, InferenceContext, guess_column};
use crate::import::sniff::types::ColumnType;
use crate::import::sniff::value_formats::ValueFormat;

/// Everything learned about a file before importing it.
#[derive(Clone, Debug)]
pub struct Sniffed {
    pub path: PathBuf,
    pub bytes_total: u64,
    /// How the file is packed (gzip, zstd, a one-file zip), told by its first bytes.
    pub packing: Packing,
    pub encoding: SourceEncoding,
    /// Why that encoding, and how sure it is.
    pub encoding_evidence: EncodingEvidence,
    pub dialect: Dialect,
    pub has_header: bool,
    /// Header fields as written in the file (empty without a header).
    pub raw_headers: Vec<String>,
    /// Clean, unique column names, one per field of a well-formed record.
    pub columns: Vec<String>,
    /// Inferred types, one per column.
    pub column_types: Vec<ColumnType>,
    /// What was inferred of each column: type, format, and the sampled values that do not fit.
    pub column_guesses: Vec<ColumnGuess>,
    /// The first data records, as text, for previews.
    pub preview: Vec<Vec<String>>,
    /// Records above the header (or above the data, without one) that are not part of the
    /// table: skipped and counted by the import.
    pub skip_records: usize,
    /// The first records skipped, as text, for showing what was skipped.
    pub skipped_preview: Vec<Vec<String>>,
    /// Rows of the table read, when it ends where another table starts (given, or seen in the
    /// sample); the records after them are skipped as below the table.
    pub table_rows: Option<u64>,
    /// Every row ends with a delimiter (an always-empty last field), which is not a column.
    pub trailing_delimiter: bool,
    /// Fields before that one with no name in the header and no value in any sampled row
    /// (a header ending `,,,,` over rows ending the same way): left out, as it is.
    pub unnamed_empty_columns: usize,
    /// The header names columns no row fills (the export left them empty): rows shorter than
    /// the header are read with NULL in the fields they lack.
    pub pad_short_rows: bool,
    /// The layout read (lines skipped, header lines, width) with its score, and the runner-up.
    pub layout: LayoutChoice,
    /// What was done to a header whose field count did not match the rows', in words.
    pub header_repair: Option<String>,
    /// Null markers the file's writer evidently writes bare for NULL and quotes as text (see
    /// `null_convention`): read as if they were stated.
    pub null_convention: Vec<String>,
    /// The comment prefix in force (given or detected).
    pub comment: Option<u8>,
    /// The prefix was detected, not given: a line starting with it is then a comment only when
    /// it does not have the table's width (a `#N/A` or `#REF!` in a full row is data).
    pub comment_detected: bool,
    /// Records the header takes: 1, or 2 when a line of units or years under it was joined in.
    pub header_lines: usize,
    /// The header's first line as written (before lines were joined or names cleaned): a data
    /// line equal to it is the header repeated.
    pub header_line: Vec<String>,
    /// Lines in the sample that are not data: totals, the header again, a second table's header.
    pub breaks: Vec<TableBreak>,
    /// The file has total lines under its data; the validator fails lines labelled as one.
    pub summary_rows: bool,
    /// A workbook's sheets, and the one read; empty and `None` for a text file.
    pub sheets: Vec<SheetInfo>,
    pub sheet: Option<String>,
    /// The sheet's columns read, when only some are (a table beside another).
    pub sheet_columns: Option<crate::import::ColumnSpan>,
}

impl Sniffed {
    /// Fields at the end of a row that are no column: the trailing delimiter's and the unnamed
    /// empty ones before it.
    pub fn trailing_fields(&self) -> usize {
        usize::from(self.trailing_delimiter) + self.unnamed_empty_columns
    }

    /// What is known of a file by its column names alone (a retry rebuilding an import's plan
    /// from what the job stored, a test): UTF-8, the default dialect, a header, no rows seen.
    pub fn of_columns(columns: &[String], column_types: Vec<ColumnType>) -> Self {
        Self {
            path: PathBuf::new(),
            bytes_total: 0,
            packing: Packing::Plain,
            encoding: SourceEncoding {
                encoding: encoding_rs::UTF_8,
                bom_len: 0,
            },
            encoding_evidence: EncodingEvidence::Chosen,
            dialect: Dialect::default(),
            has_header: true,
            raw_headers: columns.to_vec(),
            columns: columns.to_vec(),
            column_guesses: vec![ColumnGuess::default(); column_types.len()],
            column_types,
            preview: Vec::new(),
            skip_records: 0,
            skipped_preview: Vec::new(),
            table_rows: None,
            trailing_delimiter: false,
            unnamed_empty_columns: 0,
            pad_short_rows: false,
            layout: LayoutChoice::default(),
            header_repair: None,
            null_convention: Vec::new(),
            comment: None,
            comment_detected: false,
            header_lines: 1,
            header_line: columns.to_vec(),
            breaks: Vec::new(),
            summary_rows: false,
            sheets: Vec::new(),
            sheet: None,
            sheet_columns: None,
        }
    }
}

/// Why a file cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum SniffError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{path} is empty: it has no header and no rows")]
    Empty { path: PathBuf },
    #[error("cannot read {path}: its reader stopped unexpectedly ({message})")]
    ReaderStopped { path: PathBuf, message: String },
    #[error(
        "cannot read {path}: its line {line} runs past {} without ending, longer than any record \
         Sluice reads (is it a table?)", crate::format::mebibytes(*limit as u64)
    )]
    NoLineEnd { path: PathBuf, line: usize, limit: usize },
    #[error(
        "cannot import {path}: it has {} columns, more than the {} a table here may have \
         (a wide matrix imports best transposed, one row per cell)",
        crate::format::thousands(*columns as u64), crate::format::thousands(MAX_COLUMNS as u64)
    )]
    TooManyColumns { path: PathBuf, columns: usize },
}

/// The most columns a table gets: each column costs the import buffers of its own, so memory
/// grows with the width, and past this a wide file is refused rather than filling memory
/// (docs/troubleshooting.md, "Bombs and limits").
pub const MAX_COLUMNS: usize = 50_000;
/// Lines the sample must hold (a header and a row) before the dialect and layout are chosen; a
/// sample that holds fewer grows, up to the record size limit.
const LINES_WANTED: usize = 2;

/// How much of the file is sampled, and how much of it is kept for the preview.
#[derive(Clone, Copy, Debug)]
pub struct SampleSize {
    /// Bytes read from the start.
    pub bytes: usize,
    pub preview_rows: usize,
    /// Blocks of [`SPREAD_BLOCK_BYTES`] read further in, for typing; the last one is the file's
    /// end.
    pub spread_blocks: u64,
}

impl Default for SampleSize {
    fn default() -> Self {
        Self {
            bytes: 1024 * 1024,
            preview_rows: 100,
            spread_blocks: 16,
        }
    }
}

/// Sniffs `path` with the default sample size.
pub fn sniff(path: &Path, hints: &SniffHints) -> Result<Sniffed, SniffError> {
    sniff_with(path, hints, SampleSize::default())
}

/// Sniffs `path` with `size` of sample. A reader Sluice does not own (zip, zstd, calamine...)
/// may panic on a damaged file: that is this file's error, not the end of the process.
pub fn sniff_with(path: &Path, hints: &SniffHints, size: SampleSize) -> Result<Sniffed, SniffError> {
    contain_panic(path, || sniff_unguarded(path, hints, size))
}

/// `read`'s result, or a panic inside it as `path`'s error.
fn contain_panic<T>(path: &Path, read: impl FnOnce() -> Result<T, SniffError>) -> Result<T, SniffError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|panic| {
        Err(SniffError::ReaderStopped {
            path: path.to_path_buf(),
            message: crate::import::panic_message(&panic),
        })
    })
}

fn sniff_unguarded(path: &Path, hints: &SniffHints, size: SampleSize) -> Result<Sniffed, SniffError> {
    let asked = hints;
    let mut source = open_text(path, hints.encoding, hints.sheet.as_deref(), hints.sheet_columns)?;
    // A sheet is rendered as plain CSV by Sluice itself: its dialect is known, not guessed, and
    // a cell starting with `#` is a value, not a comment.
    let workbook_hints;
    let hints = if source.packing.is_rendered() {
        let written_header = source.packing.has_written_header();
        workbook_hints = SniffHints {
            delimiter: Some(b','),
            quote: Some(b'"'),
            escape: None,
            comment: None,
            // JSON keys and Parquet column names are a header of one line, with nothing above.
            has_header: if written_header { Some(true) } else { hints.has_header },
            skip: if written_header { Some(0) } else { hints.skip },
            header_lines: if written_header { Some(1) } else { hints.header_lines },
            ..hints.clone()
        };
        &workbook_hints
    } else {
        hints
    };
    let mut sample = Vec::with_capacity(size.bytes);
    (&mut source.reader)
        .take(size.bytes as u64)
        .read_to_end(&mut sample)
        .map_err(|error| SourceError::Read {
            path: path.to_path_buf(),
            source: error,
        })?;
    let mut complete = sample.len() < size.bytes;
    // A first line longer than the sample (a header of a hundred thousand columns) would leave
    // nothing to read: the sample grows until it holds a header and a row, or the lines are
    // longer than any record Sluice reads.
    let mut reader = source.reader;
    while !complete && line_ends(&sample) < LINES_WANTED {
        let limit = DEFAULT_MAX_RECORD_BYTES * LINES_WANTED;
        if sample.len() >= limit {
            return Err(SniffError::NoLineEnd {
                path: path.to_path_buf(),
                line: line_ends(&sample) + 1,
                limit: DEFAULT_MAX_RECORD_BYTES,
            });
        }
        let more = sample.len().min(limit - sample.len());
        let before = sample.len();
        (&mut reader)
            .take(more as u64)
            .read_to_end(&mut sample)
            .map_err(|error| SourceError::Read {
                path: path.to_path_buf(),
                source: error,
            })?;
        complete = sample.len() - before < more;
    }

    let dialect = Dialect {
        delimiter: hints.delimiter.unwrap_or(b','),
        quote: hints.quote.unwrap_or(b'"'),
        escape: hints.escape,
        ..Dialect::default()
    };
    let dialect = match (hints.delimiter, hints.quote) {
        (Some(_), Some(_)) => dialect,
        _ => choose_dialect(&sample, complete, hints),
    };
    let dialect = match hints.escape {
        Some(_) => dialect,
        None => choose_escape(&sample, complete, dialect),
    };
    let dialect = if source.packing.is_rendered() {
        Dialect {
            rows_are_lines: true,
            ..dialect
        }
    } else {
        choose_quote_spacing(&sample, complete, dialect)
    };
    let mut records = read_sample(&sample, complete, dialect);
    let comment = if source.packing.is_rendered() {
        None
    } else {
        hints.comment.or_else(|| detect_comment(&records))
    };
    if let Some(prefix) = comment {
        records.retain(|record| !is_comment(record, prefix));
    }
    // Blocks from further into the file, so a column whose values change form after the first
    // megabyte (integers, then decimals; ISO dates, then local ones) is typed for all of them.
    let (mut spread, spread_at_end) =
        if complete || source.packing != Packing::Plain || !source.encoding.encoding.is_ascii_compatible() {
            (Vec::new(), 0)
        } else {
            spread_records(
                path,
                source.bytes_total,
                sample.len() + source.encoding.bom_len,
                source.encoding.encoding,
                dialect,
                size.spread_blocks,
            )
        };
    let spread_at_end = match comment {
        Some(prefix) => {
            let at_end_from = spread.len() - spread_at_end;
            let comments_at_end = spread[at_end_from..]
                .iter()
                .filter(|record| is_comment(record, prefix))
                .count();
            spread.retain(|record| !is_comment(record, prefix));
            spread_at_end - comments_at_end
        }
        None => spread_at_end,
    };
    let Some((layout, layout_choice)) = choose_layout(&LayoutInput {
        records: &records,
        later: &spread,
        hints,
        sample: &sample,
        dialect,
        comment,
        whole_file: complete,
        short_rows_fit: source.packing == Packing::Workbook,
    }) else {
        return Err(SniffError::Empty {
            path: path.to_path_buf(),
        });
    };
    // A table beside the one read: the sheet is read again from its columns left of the gap,
    // and the other table is said with the columns that read it.
    let beside = layout_choice.other_tables.iter().find_map(|table| table.beside);
    if let (Some(beside), Some(first_column)) = (beside, &source.sheet_first_column) {
        let first_column = first_column.load(std::sync::atomic::Ordering::Acquire);
        let own = ColumnSpan {
            first: first_column,
            last: first_column + beside.first.saturating_sub(2),
        };
        let mut sniffed = sniff_unguarded(
            path,
            &SniffHints {
                sheet_columns: Some(own),
                ..asked.clone()
            },
            size,
        )?;
        let other = layout_choice.other_tables.into_iter().filter_map(|mut table| {
            table.beside = table.beside.map(|span| ColumnSpan {
                first: first_column + span.first,
                last: first_column + span.last,
            });
            table.beside.is_some().then_some(table)
        });
        sniffed.layout.other_tables.extend(other);
        return Ok(sniffed);
    }
    let skip_records = layout.skip;
    let skipped_preview: Vec<Vec<String>> = records.drain(..skip_records).take(20).collect();
    records.drain(..layout.header_lines.min(records.len()));
    // A table that ends where another starts is typed from its own rows, and its end is its last
    // row's, not the file's.
    let table_rows = hints.rows.or(layout_choice.table_rows);
    let table_ends_in_sample = table_rows.is_some_and(|rows| rows <= records.len() as u64);
    if let Some(rows) = table_rows.filter(|_| table_ends_in_sample) {
        records.truncate(usize::try_from(rows).unwrap_or(usize::MAX));
        spread.clear();
    }
    let has_header = layout.has_header;
    let width = layout.width;
    if width > MAX_COLUMNS {
        return Err(SniffError::TooManyColumns {
            path: path.to_path_buf(),
            columns: width,
        });
    }
    let data_width = layout.row_width;
    let pad_short_rows = layout.pad_short_rows;
    // A sheet's row ends at its last filled cell, and the import reads it padded: the rows
    // typed are those it imports (a last column of formulas with no cached values leaves every
    // row short, and none would be typed).
    let short_rows_typed = pad_short_rows || source.packing == Packing::Workbook;
    let columns = if has_header {
        clean_headers(&layout.raw_headers)
    } else {
        (0..width).map(default_column_name).collect()
    };
    let null_convention: Vec<String> = if source.packing.is_rendered() {
        Vec::new()
    } else {
        markers_written_as_null(&sample, complete, dialect)
            .into_iter()
            .filter(|marker| !hints.null_markers.contains(marker))
            .collect()
    };
    let context = InferenceContext {
        day_first: hints.day_first.unwrap_or(true),
        decimal_comma_first: hints.decimal_comma.unwrap_or(dialect.delimiter == b';'),
        decimal_comma_stated: hints.decimal_comma == Some(true),
        null_markers: hints.null_markers.iter().chain(&null_convention).cloned().collect(),
    };
    let header_line = layout.header_line.clone();
    let head_records = records.len();
    records.extend(spread);
    let at_end = if complete || table_ends_in_sample {
        records.len()
    } else if table_rows.is_some() {
        0
    } else {
        spread_at_end
    };
    let header_shown = has_header.then_some(header_line.as_slice());
    // Totals, the header repeated and the notes under a closing total are not data: their
    // values would make a small file's typed columns text.
    let guess_columns = |rows: &[Vec<String>]| -> Vec<ColumnGuess> {
        (0..width)
            .map(|column| {
                let values = rows
                    .iter()
                    .filter(|record| {
                        (record.len() == data_width || (short_rows_typed && record.len() < data_width))
                            && !maybe_not_data(record, header_shown)
                    })
                    .filter_map(|record| record.get(column).map(String::as_str));
                if hints.all_text {
                    ColumnGuess {
                        format: ValueFormat::with_null_markers(hints.null_markers.clone()),
                        ..ColumnGuess::default()
                    }
                } else {
                    guess_column(values, &context)
                }
            })
            .collect()
    };
    let data_end = footer_start(&records, at_end);
    let data_end = if hints.all_text {
        data_end
    } else {
        second_header_start(&records[..data_end], data_width, guess_columns).unwrap_or(data_end)
    };
    let column_guesses = guess_columns(&records[..data_end]);
    let column_types = column_guesses.iter().map(|guess| guess.column_type).collect();
    let breaks = find_breaks(
        &SampledRows {
            header_line: header_shown,
            records: &records,
            at_end,
            data_width,
        },
        &column_guesses,
    );
    records.truncate(head_records.min(size.preview_rows));
    Ok(Sniffed {
        sheets: source.sheets,
        sheet: source.sheet,
        sheet_columns: hints.sheet_columns,
        path: path.to_path_buf(),
        bytes_total: source.bytes_total,
        packing: source.packing,
        encoding: source.encoding,
        encoding_evidence: source.encoding_evidence,
        dialect,
        has_header,
        columns,
        column_types,
        column_guesses,
        preview: records,
        skip_records,
        skipped_preview,
        table_rows,
        trailing_delimiter: layout.trailing_delimiter,
        unnamed_empty_columns: layout.unnamed_empty_columns,
        pad_short_rows,
        header_repair: layout.header_repair,
        null_convention,
        comment,
        comment_detected: hints.comment.is_none() && comment.is_some(),
        header_lines: layout.header_lines,
        header_line,
        layout: layout_choice,
        raw_headers: layout.raw_headers,
        breaks: breaks.found,
        summary_rows: breaks.summary_rows,
    })
}

/// Line ends in `sample`, counting no further than [`LINES_WANTED`].
fn line_ends(sample: &[u8]) -> usize {
    memchr::memchr2_iter(b'\n', b'\r', sample).take(LINES_WANTED).count()
}

/// Parses the sample into text records, dropping a last record that the sample may have cut.
fn read_sample(sample: &[u8], complete: bool, dialect: Dialect) -> Vec<Vec<String>> {
    let mut reader = RecordReader::with_limit(sample, dialect, sample.len() + 16);
    let mut records = Vec::new();
    while let Ok(Some(record)) = reader.next_record() {
        if record.defect.is_some() {
            // In a cut sample an open quote may just be closed past the cut: stop there.
            if complete {
                continue;
            }
            break;
        }
        let ended_inside = !complete && record.byte_offset + record.raw.len() as u64 >= sample.len() as u64;
        if ended_inside {
            break;
        }
        // A line of delimiters only is blank to a person, and the import skips it as one.
        if is_delimiters_only(record.raw, dialect.delimiter) {
            continue;
        }
        records.push(
            record
                .fields()
                .map(|field| String::from_utf8_lossy(field).into_owned())
                .collect(),
        );
    }
    records
}

/// Picks the quote, then the delimiter under which the most records share one field count
/// (above one). Ties go to the earlier candidate, so `,` wins when nothing else is better.
fn choose_dialect(sample: &[u8], complete: bool, hints: &SniffHints) -> Dialect {
    let delimiters: Vec<u8> = hints.delimiter.map_or(DELIMITERS.to_vec(), |d| vec![d]);
    let quote = hints.quote.unwrap_or_else(|| choose_quote(sample, &delimiters));
    let mut best = ((0usize, 0usize), delimiters[0]);
    for &delimiter in &delimiters {
        let score = consistency(
            sample,
            complete,
            Dialect {
                delimiter,
                quote,
                escape: hints.escape,
                ..Dialect::default()
            },
        );
        if score > best.0 {
            best = (score, delimiter);
        }
    }
    Dialect {
        delimiter: best.1,
        quote,
        escape: hints.escape,
        ..Dialect::default()
    }
}

/// A backslash is the escape when the sample has `\` before a quote and reading it so makes
/// more records share one width (or as many, with fewer records cut apart).
fn choose_escape(sample: &[u8], complete: bool, dialect: Dialect) -> Dialect {
    let backslash_quote = [b'\\', dialect.quote];
    if dialect.escape.is_some() || !sample.windows(2).any(|pair| pair == backslash_quote) {
        return dialect;
    }
    let escaped = Dialect {
        escape: Some(b'\\'),
        ..dialect
    };
    if agreeing_share(sample, complete, escaped) > agreeing_share(sample, complete, dialect) {
        escaped
    } else {
        dialect
    }
}

/// Spaces between a delimiter and a quote are dropped when the sample has them and dropping
/// them makes at least as large a share of records agree on one width.
fn choose_quote_spacing(sample: &[u8], complete: bool, dialect: Dialect) -> Dialect {
    let has_spaced_quote = sample.windows(3).any(|window| {
        window[0] == dialect.delimiter && window[1] == b' ' && (window[2] == dialect.quote || window[2] == b' ')
    }) && sample
        .windows(2)
        .any(|pair| pair[0] == b' ' && pair[1] == dialect.quote);
    if !has_spaced_quote || dialect.delimiter == b' ' {
        return dialect;
    }
    let spaced = Dialect {
        spaces_before_quotes: true,
        ..dialect
    };
    let (spaced_share, plain_share) = (
        agreeing_share(sample, complete, spaced),
        agreeing_share(sample, complete, dialect),
    );
    // Only quoted delimiters that the spaces hid prove the space is part of the separator.
    if spaced_share > plain_share {
        Dialect {
            spaced_separator: true,
            ..spaced
        }
    } else if spaced_share == plain_share {
        spaced
    } else {
        dialect
    }
}

/// The share of sampled records that have the modal width.
fn agreeing_share(sample: &[u8], complete: bool, dialect: Dialect) -> f64 {
    let (agree, _) = consistency(sample, complete, dialect);
    let records = read_sample(&sample[..sample.len().min(256 * 1024)], true, dialect).len();
    agree as f64 / records.max(1) as f64
}

/// `'` only when it opens fields and `"` never does. Judging quotes by field counts alone would
/// be wrong: a quote that is not the file's splits its multi-line fields into neat extra records.
fn choose_quote(sample: &[u8], delimiters: &[u8]) -> u8 {
    let opens_fields = |quote: u8| {
        sample.iter().enumerate().any(|(index, &byte)| {
            byte == quote
                && sample[..index]
                    .iter()
                    .rposition(|&b| b != b' ')
                    .is_none_or(|at| matches!(sample[at], b'\n' | b'\r') || delimiters.contains(&sample[at]))
        })
    };
    if !opens_fields(b'"') && opens_fields(b'\'') {
        b'\''
    } else {
        b'"'
    }
}

/// (records with the modal field count, modal field count), or zeros when the modal count is 1.
fn consistency(sample: &[u8], complete: bool, dialect: Dialect) -> (usize, usize) {
    let records = read_sample(
        &sample[..sample.len().min(256 * 1024)],
        complete || sample.len() <= 256 * 1024,
        dialect,
    );
    let widths: Vec<usize> = records.iter().take(500).map(Vec::len).collect();
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for width in &widths {
        *counts.entry(*width).or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(width, _)| *width > 1)
        .map(|(width, count)| (count, width))
        .max()
        .unwrap_or((0, 0))
}

/// Whether a sampled record is a comment line: its first field starts with the prefix.
fn is_comment(record: &[String], prefix: u8) -> bool {
    record
        .first()
        .is_some_and(|field| field.as_bytes().first() == Some(&prefix))
}

/// `#` is the comment prefix when some records start with it and none of those has the width
/// the other records share: then they cannot be data (a `#` in a data column would be).
fn detect_comment(records: &[Vec<String>]) -> Option<u8> {
    let probe = &records[..records.len().min(500)];
    let (comments, rest): (Vec<&Vec<String>>, Vec<&Vec<String>>) =
        probe.iter().partition(|record| is_comment(record, b'#'));
    if comments.is_empty() || rest.len() < 2 {
        return None;
    }
    let rest: Vec<Vec<String>> = rest.into_iter().cloned().collect();
    let width = modal_width(&rest)?;
    (width > 1 && comments.iter().all(|record| record.len() != width)).then_some(b'#')
}

/// The size of a block read past the head for typing.
const SPREAD_BLOCK_BYTES: u64 = 64 * 1024;

/// Records from blocks spread evenly through the rest of a plain (not compressed) file in an
/// ASCII-compatible encoding, where a byte offset can be jumped to, and how many of them, at the
/// end, are the file's last records (the last block runs to the end of the file; a total line
/// is looked for there). Each block is read from its
/// first line break to its last, so its records are whole unless a quoted field spans the break;
/// such a record rarely has the table's width, and only records of that width are used.
fn spread_records(
    path: &Path,
    file_len: u64,
    head_len: usize,
    encoding: &'static Encoding,
    dialect: Dialect,
    spread_blocks: u64,
) -> (Vec<Vec<String>>, usize) {
    use std::io::{Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return (Vec::new(), 0);
    };
    let start = head_len as u64;
    if file_len <= start {
        return (Vec::new(), 0);
    }
    // What is left after the head may be less than a block: then it is read whole, as the end.
    let span = file_len.saturating_sub(start + SPREAD_BLOCK_BYTES);
    let blocks = if span == 0 { 1 } else { spread_blocks.max(1) };
    let mut records = Vec::new();
    let mut at_end = 0;
    let mut block = vec![0u8; SPREAD_BLOCK_BYTES as usize];
    for index in 1..=blocks {
        // When less than a block follows the head, the last block of the file is read: it
        // overlaps the head, so the record the head cut at its end is whole in it.
        let offset = if span == 0 {
            file_len.saturating_sub(SPREAD_BLOCK_BYTES)
        } else {
            start + span * index / blocks
        };
        if file.seek(SeekFrom::Start(offset)).is_err() {
            break;
        }
        let Ok(read) = file.read(&mut block) else {
            break;
        };
        let bytes = &block[..read];
        // The last block runs to the end of the file, and so ends with the last record whole.
        let reaches_end = offset + read as u64 >= file_len;
        let (Some(first), Some(last)) = (
            bytes.iter().position(|&b| b == b'\n'),
            if reaches_end {
                read.checked_sub(1)
            } else {
                bytes.iter().rposition(|&b| b == b'\n')
            },
        ) else {
            continue;
        };
        if first >= last {
            continue;
        }
        let lines = &bytes[first + 1..=last];
        let text = encoding.decode_without_bom_handling(lines).0;
        let block_records = read_sample(text.as_bytes(), true, dialect);
        at_end = if reaches_end { block_records.len() } else { 0 };
        records.extend(block_records);
    }
    (records, at_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_that_panics_is_its_files_error_not_the_end_of_the_process() {
        let path = Path::new("damaged.zip");
        let stopped: Result<Sniffed, SniffError> = contain_panic(path, || panic!("index out of bounds"));
        assert_eq!(
            stopped.err().map(|error| error.to_string()).as_deref(),
            Some("cannot read damaged.zip: its reader stopped unexpectedly (index out of bounds)")
        );
    }

    fn sniff_text(text: &[u8]) -> Sniffed {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.csv");
        std::fs::write(&path, text).unwrap();
        sniff(&path, &SniffHints::default()).unwrap()
    }

    #[test]
    fn sniffs_semicolons_with_decimal_commas() {
        let sniffed = sniff_text(b"name;price\nA;1,5\nB;2,25\nC;3\n");
        assert_eq!(sniffed.dialect.delimiter, b';');
        assert!(sniffed.has_header);
        assert_eq!(sniffed.columns, ["name", "price"]);
    }

    #[test]
    fn sniffs_tabs_pipes_and_types() {
        let sniffed = sniff_text(b"id\tok\twhen\n1\ttrue\t2024-01-02\n2\tfalse\t2024-02-03\n");
        assert_eq!(sniffed.dialect.delimiter, b'\t');
        assert_eq!(
            sniffed.column_types,
            [ColumnType::BigInt, ColumnType::Boolean, ColumnType::Date]
        );
        assert_eq!(sniff_text(b"a|b\n1|2\n3|4\n").dialect.delimiter, b'|');
    }

    #[test]
    fn multi_line_fields_do_not_mislead_the_quote_choice() {
        let sniffed = sniff_text(b"number,text\n0,\"multi\nline\",extra\n");
        assert_eq!(sniffed.dialect, Dialect::default());
        assert_eq!(sniff_text(b"a;b\n'x;y';2\n'z';3\n").dialect.quote, b'\'');
    }

    #[test]
    fn a_file_without_header_gets_positional_names() {
        let sniffed = sniff_text(b"1,2\n3,4\n");
        assert!(!sniffed.has_header);
        assert_eq!(sniffed.columns, ["column_1", "column_2"]);
        assert_eq!(sniffed.preview.len(), 2);
    }

    #[test]
    fn an_empty_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.csv");
        std::fs::write(&path, b"").unwrap();
        assert!(matches!(
            sniff(&path, &SniffHints::default()),
            Err(SniffError::Empty { .. })
        ));
    }

    #[test]
    fn hints_are_taken_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, b"a;b\n1;2\n").unwrap();
        let hints = SniffHints {
            delimiter: Some(b','),
            has_header: Some(false),
            ..SniffHints::default()
        };
        let sniffed = sniff(&path, &hints).unwrap();
        assert_eq!(sniffed.dialect.delimiter, b',');
        assert_eq!(sniffed.columns, ["column_1"]);
        assert_eq!(sniffed.preview.len(), 2);
    }
}
