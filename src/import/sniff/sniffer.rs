//! Looking at the start of a file to decide how to read it: encoding, delimiter, quote, header,
//! column names and types, and a preview of the first rows.
//!
//! Whatever the caller already knows (a flag, a choice in the window) is taken as given; only the
//! rest is guessed, from the first megabyte of text.

use std::io::Read;
use std::path::Path;

use crate::import::open::column_span::ColumnSpan;
use crate::import::open::input_formats::{Compression, InputFormat};
use crate::import::open::opener::open_text;
use crate::import::open::source::{SourceError, TextSource};
use crate::import::read::record_reader::{DEFAULT_MAX_RECORD_BYTES, Dialect};
use crate::import::sniff::column_names::{clean_headers, default_column_name};
use crate::import::sniff::dialect_guess::{
    choose_dialect, choose_escape, choose_quote_spacing, detect_comment, is_comment,
};
use crate::import::sniff::file_layout::FileLayout;
pub use crate::import::sniff::hints::SniffHints;
use crate::import::sniff::layout::{Layout, LayoutChoice, LayoutInput};
use crate::import::sniff::layout_choice::choose_layout;
use crate::import::sniff::null_convention::markers_written_as_null;
use crate::import::sniff::sample::{read_sample, spread_records};
pub use crate::import::sniff::sniffed::{MAX_COLUMNS, SniffError, Sniffed};
use crate::import::sniff::table_end::{
    Breaks, SampledRows, find_breaks, footer_start, maybe_not_data, second_header_start,
};
use crate::import::sniff::type_guess::{ColumnGuess, InferenceContext, guess_column};
use crate::import::sniff::value_formats::ValueFormat;

/// Lines the sample must hold (a header and a row) before the dialect and layout are chosen; a
/// sample that holds fewer grows, up to the record size limit.
const LINES_WANTED: usize = 2;

/// How much of the file is sampled, and how much of it is kept for the preview.
#[derive(Clone, Copy, Debug)]
pub struct SampleSize {
    /// Bytes read from the start.
    pub bytes: usize,
    /// Records kept for the preview, at most.
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
    let hints = &hints_for(source.format, hints);
    let (sample, complete) = read_head(path, &mut source.reader, size)?;
    let dialect = dialect_for(&sample, complete, hints, source.format.is_rendered());
    let (records, comment) = head_records(&sample, complete, dialect, hints, source.format.is_rendered());
    let (spread, spread_at_end) = later_records(path, &source, (sample.len(), complete), dialect, size, comment);
    let Some((layout, layout_choice)) = choose_layout(&LayoutInput {
        records: &records,
        later: &spread,
        hints,
        sample: &sample,
        dialect,
        comment,
        whole_file: complete,
        short_rows_fit: source.format == InputFormat::Workbook,
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
        return sniff_beside(path, asked, size, (beside, first_column), layout_choice);
    }
    if layout.width > MAX_COLUMNS {
        return Err(SniffError::TooManyColumns {
            path: path.to_path_buf(),
            columns: layout.width,
        });
    }
    let head = Head {
        source,
        sample,
        complete,
        dialect,
        comment,
        records,
        spread,
        spread_at_end,
    };
    sniff_table(path, (hints, size), head, layout, layout_choice)
}

/// What was read of a file before its layout was chosen: its source, the sample of its start,
/// the dialect and comment prefix found in it, its records, and records from further in.
struct Head {
    source: TextSource,
    sample: Vec<u8>,
    /// The sample holds the whole file.
    complete: bool,
    dialect: Dialect,
    comment: Option<u8>,
    records: Vec<Vec<String>>,
    spread: Vec<Vec<String>>,
    /// How many of `spread`, at its end, are the file's last records.
    spread_at_end: usize,
}

/// The sniff of a file whose layout is chosen: its table cut out of the sampled records, its
/// columns named and typed, and how the file is read.
fn sniff_table(
    path: &Path,
    (hints, size): (&SniffHints, SampleSize),
    head: Head,
    layout: Layout,
    layout_choice: LayoutChoice,
) -> Result<Sniffed, SniffError> {
    let Head {
        source,
        sample,
        complete,
        dialect,
        comment,
        mut records,
        mut spread,
        spread_at_end,
    } = head;
    // A table that ends where another starts is typed from its own rows, and its end is its last
    // row's, not the file's.
    let table_rows = hints.rows.or(layout_choice.table_rows);
    let (skipped_preview, table_ends_in_sample) = cut_to_table(&mut records, &mut spread, &layout, table_rows);
    let (null_convention, context) =
        inference_context((&sample, complete), dialect, hints, source.format.is_rendered());
    let head_records = records.len();
    records.extend(spread);
    let at_end = match table_rows {
        _ if complete || table_ends_in_sample => records.len(),
        Some(_) => 0,
        None => spread_at_end,
    };
    let rows = TypedRows {
        records: &records,
        at_end,
        width: layout.width,
        data_width: layout.row_width,
        // A sheet's row ends at its last filled cell, and the import reads it padded: the rows
        // typed are those it imports (a last column of formulas with no cached values leaves
        // every row short, and none would be typed).
        short_rows_typed: layout.pad_short_rows || source.format == InputFormat::Workbook,
        header_shown: layout.has_header.then_some(layout.header_line.as_slice()),
    };
    let (column_guesses, breaks) = guess_types(&rows, hints, &context);
    records.truncate(head_records.min(size.preview_rows));
    let file_layout = FileLayout {
        format: source.format,
        encoding: source.encoding,
        readable_in: source.encoding_evidence.readable_in(),
        dialect,
        comment,
        comment_detected: hints.comment.is_none() && comment.is_some(),
        skip_records: layout.skip,
        has_header: layout.has_header,
        header_lines: layout.header_lines,
        header_line: layout.header_line,
        table_rows,
        summary_rows: breaks.summary_rows,
        trailing_delimiter: layout.trailing_delimiter,
        unnamed_empty_columns: layout.unnamed_empty_columns,
        pad_short_rows: layout.pad_short_rows,
        null_convention,
        sheet: source.sheet,
        sheet_columns: hints.sheet_columns,
        columns: column_names(layout.has_header, &layout.raw_headers, layout.width),
        raw_headers: layout.raw_headers,
        column_types: column_guesses.iter().map(|guess| guess.column_type).collect(),
        column_guesses,
    };
    Ok(Sniffed {
        sheets: source.sheets,
        path: path.to_path_buf(),
        bytes_total: source.bytes_total,
        compression: source.compression,
        encoding_evidence: source.encoding_evidence,
        preview: records,
        skipped_preview,
        layout_choice,
        breaks: breaks.found,
        header_repair: layout.header_repair,
        layout: file_layout,
    })
}

/// Cuts the head's records to the table's rows: the records skipped above it and the header's
/// are taken out, and when the table ends within them (after `table_rows`), so are the records
/// under it and those from further in. Returns the first skipped records, to show, and whether
/// the table ends within the head.
fn cut_to_table(
    records: &mut Vec<Vec<String>>,
    spread: &mut Vec<Vec<String>>,
    layout: &Layout,
    table_rows: Option<u64>,
) -> (Vec<Vec<String>>, bool) {
    let skipped_preview = records.drain(..layout.skip.min(records.len())).take(20).collect();
    records.drain(..layout.header_lines.min(records.len()));
    let table_ends_in_sample = table_rows.is_some_and(|rows| rows <= records.len() as u64);
    if let Some(rows) = table_rows.filter(|_| table_ends_in_sample) {
        records.truncate(usize::try_from(rows).unwrap_or(usize::MAX));
        spread.clear();
    }
    (skipped_preview, table_ends_in_sample)
}

/// The columns' names: the header's, cleaned, or `column_1`... without one.
fn column_names(has_header: bool, raw_headers: &[String], width: usize) -> Vec<String> {
    if has_header {
        clean_headers(raw_headers)
    } else {
        (0..width).map(default_column_name).collect()
    }
}

/// The head's records, comment lines taken out, and the comment prefix: the one given, or one
/// detected in a delimited text (a rendered input's cells are values, never comments).
fn head_records(
    sample: &[u8],
    complete: bool,
    dialect: Dialect,
    hints: &SniffHints,
    rendered: bool,
) -> (Vec<Vec<String>>, Option<u8>) {
    let mut records = read_sample(sample, complete, dialect);
    let comment = if rendered {
        None
    } else {
        hints.comment.or_else(|| detect_comment(&records))
    };
    if let Some(prefix) = comment {
        records.retain(|record| !is_comment(record, prefix));
    }
    (records, comment)
}

/// What the columns are typed with: the writer's NULL convention read from its quoting (markers
/// the person gave aside), and the date order, decimal comma and null markers, given or assumed.
fn inference_context(
    (sample, complete): (&[u8], bool),
    dialect: Dialect,
    hints: &SniffHints,
    rendered: bool,
) -> (Vec<String>, InferenceContext) {
    let null_convention: Vec<String> = if rendered {
        Vec::new()
    } else {
        markers_written_as_null(sample, complete, dialect)
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
    (null_convention, context)
}

/// The records sampled for typing and where they stand in the file.
struct TypedRows<'a> {
    /// The head's records after the header, then the blocks further in.
    records: &'a [Vec<String>],
    /// How many of `records`, at their end, are the file's last.
    at_end: usize,
    width: usize,
    data_width: usize,
    /// Whether rows shorter than `data_width` are imported padded, and so typed.
    short_rows_typed: bool,
    header_shown: Option<&'a [String]>,
}

/// Each column's type guess, from the rows that are data, and where the table breaks. Totals,
/// the header repeated and the notes under a closing total are not data: their values would make
/// a small file's typed columns text.
fn guess_types(rows: &TypedRows<'_>, hints: &SniffHints, context: &InferenceContext) -> (Vec<ColumnGuess>, Breaks) {
    let guess_columns = |sampled: &[Vec<String>]| -> Vec<ColumnGuess> {
        (0..rows.width)
            .map(|column| {
                let values = sampled
                    .iter()
                    .filter(|record| {
                        (record.len() == rows.data_width || (rows.short_rows_typed && record.len() < rows.data_width))
                            && !maybe_not_data(record, rows.header_shown)
                    })
                    .filter_map(|record| record.get(column).map(String::as_str));
                if hints.all_text {
                    ColumnGuess {
                        format: ValueFormat::with_null_markers(hints.null_markers.clone()),
                        ..ColumnGuess::default()
                    }
                } else {
                    guess_column(values, context)
                }
            })
            .collect()
    };
    let records = rows.records;
    let data_end = footer_start(records, rows.at_end);
    let data_end = if hints.all_text {
        data_end
    } else {
        second_header_start(&records[..data_end], rows.data_width, guess_columns).unwrap_or(data_end)
    };
    let column_guesses = guess_columns(&records[..data_end]);
    let breaks = find_breaks(
        &SampledRows {
            header_line: rows.header_shown,
            records,
            at_end: rows.at_end,
            data_width: rows.data_width,
        },
        &column_guesses,
    );
    (column_guesses, breaks)
}

/// Records from blocks further into the file, so a column whose values change form after the
/// first megabyte (integers, then decimals; ISO dates, then local ones) is typed for all of them;
/// with how many of them, at their end, are the file's last. Only a plain file in an
/// ASCII-compatible encoding can be jumped into; comment lines are left out.
fn later_records(
    path: &Path,
    source: &TextSource,
    (head_len, complete): (usize, bool),
    dialect: Dialect,
    size: SampleSize,
    comment: Option<u8>,
) -> (Vec<Vec<String>>, usize) {
    if complete
        || source.format.is_rendered()
        || source.compression != Compression::None
        || !source.encoding.encoding.is_ascii_compatible()
    {
        return (Vec::new(), 0);
    }
    let (mut spread, spread_at_end) = spread_records(
        path,
        source.bytes_total,
        head_len + source.encoding.bom_len,
        source.encoding.encoding,
        dialect,
        size.spread_blocks,
    );
    let Some(prefix) = comment else {
        return (spread, spread_at_end);
    };
    let at_end_from = spread.len() - spread_at_end;
    let comments_at_end = spread[at_end_from..]
        .iter()
        .filter(|record| is_comment(record, prefix))
        .count();
    spread.retain(|record| !is_comment(record, prefix));
    (spread, spread_at_end - comments_at_end)
}

/// The hints a rendered input is read with: a sheet, NDJSON or Parquet is written as plain CSV by
/// Sluice itself, so its dialect is known, not guessed, and a cell starting with `#` is a value,
/// not a comment. JSON keys and Parquet column names are a header of one line, with nothing above.
fn hints_for(format: InputFormat, hints: &SniffHints) -> std::borrow::Cow<'_, SniffHints> {
    if !format.is_rendered() {
        return std::borrow::Cow::Borrowed(hints);
    }
    let written_header = format.has_written_header();
    std::borrow::Cow::Owned(SniffHints {
        delimiter: Some(b','),
        quote: Some(b'"'),
        escape: None,
        comment: None,
        has_header: if written_header { Some(true) } else { hints.has_header },
        skip: if written_header { Some(0) } else { hints.skip },
        header_lines: if written_header { Some(1) } else { hints.header_lines },
        ..hints.clone()
    })
}

/// Reads the head of the file to sniff: `size.bytes`, or more when that holds less than a
/// header and a row (a header of a hundred thousand columns), up to twice the longest record
/// Sluice reads. Says whether the head is the whole file.
fn read_head(path: &Path, reader: &mut dyn Read, size: SampleSize) -> Result<(Vec<u8>, bool), SniffError> {
    let read_error = |error| SourceError::Read {
        path: path.to_path_buf(),
        source: error,
    };
    let mut sample = Vec::with_capacity(size.bytes);
    (&mut *reader)
        .take(size.bytes as u64)
        .read_to_end(&mut sample)
        .map_err(read_error)?;
    let mut complete = sample.len() < size.bytes;
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
        (&mut *reader)
            .take(more as u64)
            .read_to_end(&mut sample)
            .map_err(read_error)?;
        complete = sample.len() - before < more;
    }
    Ok((sample, complete))
}

/// The dialect: what the hints give, the rest guessed from the sample. A rendered input's rows
/// are its lines.
fn dialect_for(sample: &[u8], complete: bool, hints: &SniffHints, rendered: bool) -> Dialect {
    let given = Dialect {
        delimiter: hints.delimiter.unwrap_or(b','),
        quote: hints.quote.unwrap_or(b'"'),
        escape: hints.escape,
        ..Dialect::default()
    };
    let dialect = match (hints.delimiter, hints.quote) {
        (Some(_), Some(_)) => given,
        _ => choose_dialect(sample, complete, hints),
    };
    let dialect = match hints.escape {
        Some(_) => dialect,
        None => choose_escape(sample, complete, dialect),
    };
    if rendered {
        Dialect {
            rows_are_lines: true,
            ..dialect
        }
    } else {
        choose_quote_spacing(sample, complete, dialect)
    }
}

/// A table beside the one read on a sheet, its gutter at `beside` from the sheet's
/// `first_column`: the sheet is sniffed again from its columns left of the gap, and the other
/// tables are said with the columns that read them.
fn sniff_beside(
    path: &Path,
    asked: &SniffHints,
    size: SampleSize,
    (beside, first_column): (ColumnSpan, u32),
    layout_choice: LayoutChoice,
) -> Result<Sniffed, SniffError> {
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
    sniffed.layout_choice.other_tables.extend(other);
    Ok(sniffed)
}

/// Line ends in `sample`, counting no further than [`LINES_WANTED`].
fn line_ends(sample: &[u8]) -> usize {
    memchr::memchr2_iter(b'\n', b'\r', sample).take(LINES_WANTED).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::sniff::types::ColumnType;

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
        assert_eq!(sniffed.layout.dialect.delimiter, b';');
        assert!(sniffed.layout.has_header);
        assert_eq!(sniffed.layout.columns, ["name", "price"]);
    }

    #[test]
    fn sniffs_tabs_pipes_and_types() {
        let sniffed = sniff_text(b"id\tok\twhen\n1\ttrue\t2024-01-02\n2\tfalse\t2024-02-03\n");
        assert_eq!(sniffed.layout.dialect.delimiter, b'\t');
        assert_eq!(
            sniffed.layout.column_types,
            [ColumnType::BigInt, ColumnType::Boolean, ColumnType::Date]
        );
        assert_eq!(sniff_text(b"a|b\n1|2\n3|4\n").layout.dialect.delimiter, b'|');
    }

    #[test]
    fn multi_line_fields_do_not_mislead_the_quote_choice() {
        let sniffed = sniff_text(b"number,text\n0,\"multi\nline\",extra\n");
        assert_eq!(sniffed.layout.dialect, Dialect::default());
        assert_eq!(sniff_text(b"a;b\n'x;y';2\n'z';3\n").layout.dialect.quote, b'\'');
    }

    #[test]
    fn a_file_without_header_gets_positional_names() {
        let sniffed = sniff_text(b"1,2\n3,4\n");
        assert!(!sniffed.layout.has_header);
        assert_eq!(sniffed.layout.columns, ["column_1", "column_2"]);
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
        assert_eq!(sniffed.layout.dialect.delimiter, b',');
        assert_eq!(sniffed.layout.columns, ["column_1"]);
        assert_eq!(sniffed.preview.len(), 2);
    }
}
