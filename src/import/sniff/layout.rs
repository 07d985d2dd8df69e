//! Where the table starts and how wide it is: records skipped above the header, the header's
//! lines, a trailing delimiter, columns no row fills, a damaged header.
//!
//! Each of those is a choice, and one wrong choice fails every row of a file. So the choices are
//! made together as a *layout*, and the candidate layouts are scored on the sampled records:
//! the number of records each reads as rows of the table, with the file's structure (a header
//! that needs no repair, a header at all, fewer lines skipped) as the tie-breaker. The sniff
//! result names the layout chosen and the runner-up with their scores, so a person can see why
//! and pick the other one.

use crate::import::open::column_span::ColumnSpan;
use crate::import::read::dialect::DELIMITERS;
use crate::import::read::record_reader::{Dialect, RecordReader, is_delimiters_only};
use crate::import::sniff::footnotes::{TableRecords, rows_above_notes, words_with_letters};
use crate::import::sniff::header_guess::{looks_like_header, typed_columns_call_it_a_header};
use crate::import::sniff::hints::SniffHints;
use crate::import::sniff::side_tables;
use crate::import::sniff::split_header::split_header_at;
use crate::import::sniff::type_guess::{InferenceContext, fits_guess, guess_column};
use crate::import::sniff::types::ColumnType;
use crate::import::sniff::value_formats::NULL_MARKERS;

/// Rows of one width needed before they overrule a header of another (re-split or renamed by
/// position); the repairs that keep every name (a row-names column, padding) need only that the
/// rows agree.
const MIN_ROWS_TO_REPAIR_HEADER: usize = 20;
/// Candidate layouts scored at most: each is a read of the sample's head.
const MAX_CANDIDATES: usize = 8;
/// Records above a header looked through for where a table starts.
const MAX_PREAMBLE_RECORDS: usize = 50;
/// Records under a block's first row that judge whether it reads as a header.
const HEADER_VOTERS: usize = 200;
/// Blocks of one width whose first row is asked whether it reads as a header.
const MAX_BLOCKS_ASKED: usize = 16;
/// Rows under a header that are asked whether they read as a header themselves.
const FIRST_ROWS_ASKED: usize = 3;

/// One way of reading the start of a file, and how many sampled records it reads as rows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LayoutScore {
    /// Records skipped above the header (`--skip`).
    pub skip: usize,
    pub has_header: bool,
    /// Lines the header spans (`--header-lines`).
    pub header_lines: usize,
    /// Columns of the table.
    pub columns: usize,
    /// Fields at the end of each row that are no column: a trailing delimiter, unnamed empty ones.
    pub trailing_fields: usize,
    /// Rows shorter than the header are read with NULL in the fields they lack.
    pub padded: bool,
    /// The header needed a repair to fit the rows.
    pub repaired: bool,
    /// The first record under the header reads as a header itself, or as a title: the table
    /// starts lower.
    pub first_row_is_header: bool,
    /// The layout's header reads as one: a record it explains, as it explains its rows.
    pub header_reads_as_one: bool,
    /// Sampled records read as rows, of those judged (the records under the header).
    pub accepted: usize,
    /// Of those, the rows that fill two cells or more (in a one-column table, those that are
    /// no sentence).
    pub filled_rows: usize,
    /// Of the rows of a one-column table on a sheet, the sentences: a page of notes read as a
    /// list, which counts for less than a table of several columns.
    pub sentences: usize,
    pub judged: usize,
}

impl LayoutScore {
    /// Whether this layout reads fewer than nine in ten of its records as rows.
    pub fn leaves_many_failing(&self) -> bool {
        self.judged > 0 && self.accepted * 10 < self.judged * 9
    }

    /// The command-line options that select this layout.
    pub fn options(&self) -> String {
        let mut options = format!("--skip {}", self.skip);
        if !self.has_header {
            options.push_str(" --no-header");
        } else if self.header_lines != 1 {
            options.push_str(&format!(" --header-lines {}", self.header_lines));
        }
        options
    }

    /// The layout in words: "skip 1 line, a header of 1 line, 2 columns".
    pub fn describe(&self) -> String {
        let header = if self.has_header {
            format!(
                "a header of {} line{}",
                self.header_lines,
                if self.header_lines == 1 { "" } else { "s" }
            )
        } else {
            "no header".to_string()
        };
        format!(
            "skip {} line{}, {header}, {} column{}",
            self.skip,
            if self.skip == 1 { "" } else { "s" },
            self.columns,
            if self.columns == 1 { "" } else { "s" },
        )
    }
}

/// The layout chosen and the best of the others.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LayoutChoice {
    pub chosen: Option<LayoutScore>,
    pub runner_up: Option<LayoutScore>,
    /// Tables in the sample besides the one read (tables stacked in one file): not data of it.
    pub other_tables: Vec<OtherTable>,
    /// Rows of the table read, when another table starts under it and no row of its width
    /// comes after that in the sample.
    pub table_rows: Option<u64>,
}

/// A table in the sample besides the one read: where it is, how wide, how many rows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OtherTable {
    /// Records above its header: skipping them reads this table instead.
    pub skip: usize,
    /// Its lines in the file, from its header's to its last sampled row's.
    pub first_line: u64,
    pub last_line: u64,
    pub columns: usize,
    /// Its rows in the sample.
    pub rows: usize,
    /// The rows to read when it is chosen, known when it ends above the table read; `None` when
    /// it runs on past the sample or to the file's end.
    pub rows_to_read: Option<u64>,
    /// For a table beside the one read on a sheet, its columns: reading them reads it.
    pub beside: Option<ColumnSpan>,
}

impl OtherTable {
    /// The command-line options that read this table instead.
    pub fn options(&self) -> String {
        match (self.beside, self.rows_to_read) {
            (Some(columns), _) => format!("--columns {columns}"),
            (None, Some(rows)) => format!("--skip {} --rows {rows}", self.skip),
            (None, None) => format!("--skip {}", self.skip),
        }
    }
}

/// Everything a layout decides about the records at the start of the file.
#[derive(Clone, Debug)]
pub struct Layout {
    pub skip: usize,
    pub has_header: bool,
    /// Header fields as they name the columns (lines joined, repaired), one per column.
    pub raw_headers: Vec<String>,
    /// The header's first line as written.
    pub header_line: Vec<String>,
    pub header_lines: usize,
    pub trailing_delimiter: bool,
    /// Unnamed fields before a trailing delimiter (or at the end) that no row fills: left out.
    pub unnamed_empty_columns: usize,
    pub header_repair: Option<String>,
    pub pad_short_rows: bool,
    /// Columns of the table, and fields of a full row (the columns and the trailing fields).
    pub width: usize,
    pub row_width: usize,
    pub score: LayoutScore,
}

/// What the layouts are read from.
pub struct LayoutInput<'a> {
    /// The sampled records of the head, comments taken out.
    pub records: &'a [Vec<String>],
    /// Records from further into the file: a field empty in the head may hold values there.
    pub later: &'a [Vec<String>],
    pub hints: &'a SniffHints,
    pub sample: &'a [u8],
    pub dialect: Dialect,
    pub comment: Option<u8>,
    /// The sample is the whole file: nothing comes after its last record.
    pub whole_file: bool,
    /// A row may end before the table's last column, its missing cells empty: a sheet's row
    /// ends at its last filled cell.
    pub short_rows_fit: bool,
}

/// The best-scoring layout of the sample, and the runner-up's score; `None` when no records
/// are left under the lines skipped.
pub fn choose_layout(input: &LayoutInput<'_>) -> Option<(Layout, LayoutChoice)> {
    let mut layouts: Vec<Layout> = candidate_skips(input)
        .into_iter()
        .filter_map(|skip| read_layout(input, skip, None))
        .collect();
    layouts.sort_by_key(|layout| std::cmp::Reverse(rank(&layout.score)));
    // A header split over two lines under lines of the same width is found by its shape, which
    // the scores cannot see (they read the lines above as rows).
    if let Some(split) = split_header_layout(input) {
        layouts.insert(0, split);
    }
    let mut layouts = layouts.into_iter();
    let chosen = layouts.next()?;
    let others: Vec<Layout> = layouts.collect();
    let mut other_tables = other_tables(input, &chosen, &others);
    let following = following_table(input, &chosen);
    let above_notes = if following.is_none() {
        rows_above_notes_in(input, &chosen)
    } else {
        None
    };
    // A table that ends where another starts is judged again on its own rows: the other's,
    // read as its rows, would have had a say in its header and width.
    let table_rows = following.as_ref().map(|(rows, _)| *rows).or(above_notes);
    let chosen = match table_rows {
        Some(rows) if input.hints.rows.is_none() => {
            read_layout(input, chosen.skip, Some(rows as usize)).unwrap_or(chosen)
        }
        _ => chosen,
    };
    if let Some((_, table)) = &following
        && !other_tables.iter().any(|other| other.skip == table.skip)
    {
        other_tables.push(table.clone());
    }
    let beside = table_beside(input, &chosen, table_rows);
    if let Some(table) = &beside {
        other_tables.push(table.clone());
    }
    let choice = LayoutChoice {
        chosen: Some(chosen.score.clone()),
        runner_up: others.first().map(|layout| layout.score.clone()),
        other_tables,
        table_rows,
    };
    Some((chosen, choice))
}

/// A table beside the one read on a sheet, past an empty column ([`side_tables::gutter`]):
/// its columns counted from the row's first field (the sniff makes them the sheet's), its
/// lines from the header's to its last row's. Only a sheet is read in part, only when the
/// person did not choose its columns, and only when the sample is the whole sheet: a cell in
/// the gap further down would belong to neither table, and reading in part would drop it.
fn table_beside(input: &LayoutInput<'_>, chosen: &Layout, table_rows: Option<u64>) -> Option<OtherTable> {
    if !input.short_rows_fit || !input.whole_file || input.hints.sheet_columns.is_some() || !chosen.has_header {
        return None;
    }
    let first_row = chosen.skip + chosen.header_lines;
    let rows = input.records.get(first_row..)?;
    let rows = &rows[..table_rows.map_or(rows.len(), |rows_read| rows.len().min(rows_read as usize))];
    let header = input.records.get(chosen.skip)?;
    let gutter = side_tables::gutter(header, rows)?;
    let filled = |record: &Vec<String>| {
        record
            .get(gutter + 1..)
            .is_some_and(|cells| cells.iter().any(|cell| !cell.trim().is_empty()))
    };
    let last_row = rows.iter().rposition(filled)?;
    let last_field = std::iter::once(header)
        .chain(rows)
        .filter_map(|record| record.iter().rposition(|cell| !cell.trim().is_empty()))
        .max()?;
    Some(OtherTable {
        skip: chosen.skip,
        first_line: sampled_line(input, chosen.skip)?,
        last_line: sampled_line(input, first_row + last_row)?,
        columns: last_field - gutter,
        rows: rows.iter().filter(|record| filled(record)).count(),
        rows_to_read: None,
        beside: Some(ColumnSpan {
            first: u32::try_from(gutter + 1).ok()?,
            last: u32::try_from(last_field).ok()?,
        }),
    })
}

/// The layout of a header split over two lines ([`split_header_at`]), unless the person said
/// where the header is or that there is none.
fn split_header_layout(input: &LayoutInput<'_>) -> Option<Layout> {
    let hints = input.hints;
    if hints.skip.is_some() || hints.has_header.is_some() || hints.header_lines.is_some() {
        return None;
    }
    let skip = split_header_at(input.records, MAX_PREAMBLE_RECORDS)?;
    let split_hints = SniffHints {
        skip: Some(skip),
        has_header: Some(true),
        header_lines: Some(2),
        ..hints.clone()
    };
    read_layout(
        &LayoutInput {
            hints: &split_hints,
            ..*input
        },
        skip,
        None,
    )
}

/// Where the table read ends because another starts under it: a block of another width, at
/// least two columns by two rows, whose first record reads as a header over it. Only when no
/// record of the table's width comes after that block's start, in the head or further into the
/// file: a table whose rows go on under a stray block is never cut short.
fn following_table(input: &LayoutInput<'_>, chosen: &Layout) -> Option<(u64, OtherTable)> {
    if chosen.pad_short_rows {
        return None;
    }
    let records = input.records;
    let first_row = chosen.skip + chosen.header_lines;
    let width = chosen.row_width;
    let start = (first_row + 1..records.len()).find(|&index| {
        let header = &records[index];
        if header.len() < 2 || header.len() == width || records[index - 1].len() == header.len() {
            return false;
        }
        let rows = records[index + 1..]
            .iter()
            .take(HEADER_VOTERS)
            .take_while(|record| record.len() == header.len())
            .count();
        rows >= 2 && looks_like_header(header, &records[index + 1..index + 1 + rows])
    })?;
    let rows_after = records[start..]
        .iter()
        .chain(input.later)
        .any(|record| record.len() == width);
    if rows_after {
        return None;
    }
    let columns = records[start].len();
    let rows = records[start + 1..]
        .iter()
        .take_while(|record| record.len() == columns)
        .count();
    let line_of = |index: usize| sampled_line(input, index);
    let table = OtherTable {
        skip: start,
        first_line: line_of(start)?,
        last_line: line_of(start + rows)?,
        columns,
        rows,
        rows_to_read: None,
        beside: None,
    };
    Some(((start - first_row) as u64, table))
}

/// Where the table read ends because notes follow it, when the sample is the whole file.
fn rows_above_notes_in(input: &LayoutInput<'_>, chosen: &Layout) -> Option<u64> {
    if !input.whole_file || input.hints.rows.is_some() || chosen.pad_short_rows {
        return None;
    }
    let table = TableRecords {
        records: input.records,
        first_row: chosen.skip + chosen.header_lines,
        width: chosen.width,
        row_width: chosen.row_width,
        left_edge: chosen
            .raw_headers
            .iter()
            .position(|name| !name.trim().is_empty())
            .unwrap_or(0),
    };
    // A sheet's row is one line however many line breaks its cells hold.
    let lines_spanned = |index: usize| {
        let breaks = input.records[index]
            .iter()
            .map(|field| field.matches('\n').count())
            .sum::<usize>();
        if input.dialect.rows_are_lines {
            1
        } else {
            breaks as u64 + 1
        }
    };
    rows_above_notes(&table, |index| sampled_line(input, index), lines_spanned)
}

/// The physical line of the sampled record at `index`.
fn sampled_line(input: &LayoutInput<'_>, index: usize) -> Option<u64> {
    sampled_record(&HeaderLine {
        sample: input.sample,
        dialect: input.dialect,
        comment: input.comment,
        index,
    })
    .map(|(line, _)| line)
}

/// Where the other layouts start a table of their own: a line that reads as a header over the
/// rows of its width right under it (judged on those rows alone: stacked tables may share a
/// column name), outside the chosen table's rows.
fn other_tables(input: &LayoutInput<'_>, chosen: &Layout, others: &[Layout]) -> Vec<OtherTable> {
    let records = input.records;
    let rows_under = |header: usize, width: usize| {
        records
            .get(header..)
            .unwrap_or_default()
            .iter()
            .take_while(|record| record.len() == width)
            .count()
    };
    let chosen_rows_under = records
        .get(chosen.skip + chosen.header_lines..)
        .unwrap_or_default()
        .iter()
        .take_while(|record| {
            record.len() == chosen.row_width || (input.short_rows_fit && record.len() < chosen.row_width)
        })
        .count();
    let chosen_rows = chosen.skip..chosen.skip + chosen.header_lines + chosen_rows_under;
    let line_of = |index: usize| sampled_line(input, index);
    let mut tables: Vec<OtherTable> = others
        .iter()
        .filter(|layout| !chosen_rows.contains(&layout.skip))
        .filter_map(|layout| {
            let header = records.get(layout.skip)?;
            let columns = header.len();
            let rows = rows_under(layout.skip + 1, columns);
            let block = &records[layout.skip + 1..layout.skip + 1 + rows];
            // A one-column block is lines of text, and `Region:;Germany` lines are notes.
            if rows == 0
                || columns < 2
                || is_labelled_notes(header, block)
                || !looks_like_header(header, &block[..rows.min(HEADER_VOTERS)])
            {
                return None;
            }
            let last = layout.skip + rows;
            Some(OtherTable {
                skip: layout.skip,
                first_line: line_of(layout.skip)?,
                last_line: line_of(last)?,
                columns,
                rows,
                rows_to_read: None,
                beside: None,
            })
        })
        .collect();
    tables.sort_by_key(|table| table.skip);
    // A table above the one read ends where the next one starts: its rows are all the records
    // up to there, a ragged one among them too.
    let starts: Vec<usize> = tables.iter().map(|table| table.skip).chain([chosen.skip]).collect();
    for table in &mut tables {
        if let Some(next) = starts.iter().filter(|&&start| start > table.skip).min()
            && table.skip < chosen.skip
        {
            table.rows_to_read = Some((next - table.skip - 1) as u64);
        }
    }
    tables
}

/// Whether a block is notes written as label and value: every line's first field ends in a
/// colon (`Region:;Germany`).
fn is_labelled_notes(header: &[String], block: &[Vec<String>]) -> bool {
    std::iter::once(header)
        .chain(block.iter().map(Vec::as_slice))
        .all(|record| record.first().is_some_and(|label| label.trim_end().ends_with(':')))
}

/// Whether every field of a record is empty or spaces: a blank line written with delimiters.
fn is_empty_record(record: &[String]) -> bool {
    record.iter().all(|field| field.trim().is_empty())
}

/// Words a line of notes has at the fewest, each with a letter: `Introduction to DoLS`.
const MIN_SENTENCE_WORDS: usize = 3;

/// Whether a field reads as a sentence of prose rather than a value.
fn is_sentence(field: &str) -> bool {
    words_with_letters(field) >= MIN_SENTENCE_WORDS
}

/// Whether a record is a title written across the table's width: words (with a space between)
/// in its first field, every other field empty.
fn is_wide_title(record: &[String]) -> bool {
    let Some((first, rest)) = record.split_first() else {
        return false;
    };
    let first = first.trim();
    !rest.is_empty()
        && rest.iter().all(|field| field.trim().is_empty())
        && first.contains(' ')
        && first.chars().any(char::is_alphabetic)
}

/// What orders layouts: rows that fill a row's cells explained, then records explained (read as
/// rows, or as a header that reads as one: a layout without a header must not win by reading
/// the header as a row), then a first row that is not a header (else the header is further
/// down), then a header at all, then a header that fits as written, then fewer lines skipped.
fn rank(score: &LayoutScore) -> (usize, usize, bool, bool, bool, std::cmp::Reverse<usize>) {
    let header = usize::from(score.header_reads_as_one);
    (
        score.filled_rows + header,
        score.accepted - score.sentences + header,
        !score.first_row_is_header,
        score.has_header,
        !score.repaired && !score.padded,
        std::cmp::Reverse(score.skip),
    )
}

/// Where a table may start: the first record, where the records change width (a title above
/// a table, one table under another), and where the title rule of [`preamble_records`] puts it.
fn candidate_skips(input: &LayoutInput<'_>) -> Vec<usize> {
    let records = input.records;
    if let Some(skip) = input.hints.skip {
        return vec![skip.min(records.len())];
    }
    if input.hints.has_header == Some(false) {
        return vec![0];
    }
    let mut skips = vec![0, preamble_records(records)];
    let reach = records.len().min(MAX_PREAMBLE_RECORDS);
    for index in 1..reach {
        let starts_block = records[index].len() != records[index - 1].len()
            && records
                .get(index + 1)
                .is_some_and(|next| next.len() == records[index].len());
        if starts_block && skips.len() < MAX_CANDIDATES {
            skips.push(index);
            // A line of empty cells above a header (`;;;;`) is padding: the table starts under it.
            if is_empty_record(&records[index]) && index + 1 < reach {
                skips.push(index + 1);
            }
        }
    }
    skips.sort_unstable();
    skips.dedup();
    skips
}

/// The layout that skips `skip` records: its header, trailing fields and repairs, as the rows
/// under it suggest, and its score.
fn read_layout(input: &LayoutInput<'_>, skip: usize, table_rows: Option<usize>) -> Option<Layout> {
    let hints = input.hints;
    let rest = input.records.get(skip..).filter(|rest| !rest.is_empty())?;
    // A table that ends where another starts is read from its own rows only; the records
    // sampled further into the file are then another table's too.
    let table_rows = table_rows.or(hints.rows.and_then(|rows| usize::try_from(rows).ok()));
    let own_rows = |data: &'_ [Vec<String>]| -> usize { table_rows.map_or(data.len(), |rows| rows.min(data.len())) };
    let later: &[Vec<String>] = if table_rows.is_some() { &[] } else { input.later };
    let under_first = &rest[1..];
    let reads_as_header = looks_like_header(&rest[0], &under_first[..own_rows(under_first)]);
    let has_header = hints.has_header.unwrap_or(reads_as_header);
    // Lines are skipped to reach a header: unless the person asked for the skip, a layout that
    // skips lines needs a line that reads as one (that the file has a header does not say it is
    // this line).
    let header_reached = has_header && reads_as_header;
    // And what it skips is not of the table: lines of another width (a title, another table) or
    // titles written across the table's width. A line as wide as the header above it is a row.
    let skips_other_lines = input.records[..skip]
        .iter()
        .all(|record| record.len() != rest[0].len() || is_wide_title(record) || is_empty_record(record));
    if skip > 0 && hints.skip.is_none() && !(header_reached && skips_other_lines) {
        return None;
    }
    let mut raw_headers = if has_header { rest[0].clone() } else { Vec::new() };
    let header_line = raw_headers.clone();
    let mut header_lines = usize::from(has_header);
    // Further header lines (units, years or sub-names under a shared name) are joined into the
    // first, one name per column.
    let more_header_lines = |header_lines: usize, raw_headers: &[String], data: &[Vec<String>]| match hints.header_lines
    {
        Some(wanted) => header_lines < wanted && data.len() > 1,
        None => header_lines < MAX_HEADER_LINES && continues_header(raw_headers, data),
    };
    let own_records_below = |header_lines: usize| {
        let below = &rest[header_lines..];
        &below[..own_rows(below)]
    };
    while has_header && more_header_lines(header_lines, &raw_headers, own_records_below(header_lines)) {
        raw_headers = join_header_lines(&raw_headers, &rest[header_lines]);
        header_lines += 1;
    }
    let data = own_records_below(header_lines);
    let trailing = trailing_fields(has_header, &mut raw_headers, data, later);
    let repair = if has_header {
        repair_header(
            &HeaderLine {
                sample: input.sample,
                dialect: input.dialect,
                comment: input.comment,
                index: skip,
            },
            &mut raw_headers,
            data,
            trailing.count(),
            input.short_rows_fit,
        )
    } else {
        None
    };
    let pad_short_rows = repair.as_ref().is_some_and(|repair| repair.pad_short_rows);
    let width = if has_header {
        raw_headers.len()
    } else {
        modal_width(data).unwrap_or(1).saturating_sub(trailing.count()).max(1)
    };
    let row_width = width + trailing.count();
    let judged = data;
    let accepts = |record: &Vec<String>| {
        record.len() == row_width
            || (record.len() > width
                && record.len() < row_width
                && record[width..].iter().all(|field| field.trim().is_empty()))
            || ((pad_short_rows || input.short_rows_fit) && record.len() < width)
    };
    // A row of a table of several columns fills two cells or more: a line with one (a sentence
    // of notes above a sheet's table) fits any width but is no row of a grid. Nor, on a sheet,
    // is a sentence a row of a one-column table against a table of several: a page of notes
    // above a table is not a list, however many lines it runs to. (A text file of prose has no
    // table to lose to it: its lines stay rows.)
    let is_note_line = |record: &Vec<String>| {
        width < 2 && input.short_rows_fit && record.first().is_some_and(|field| is_sentence(field))
    };
    let fills_row = |record: &Vec<String>| {
        if width < 2 {
            !is_note_line(record)
        } else {
            record.iter().filter(|field| !field.trim().is_empty()).count() >= 2
        }
    };
    // A row that starts a block of its width and reads as a header over it is a table's header,
    // not a row: a layout that takes a line above it for the header has that line wrong, and one
    // that reads two stacked tables as one counts the second's header as a row.
    // Only the first blocks are asked, so a file whose rows change width all the time costs no
    // more than one that does not.
    let mut blocks_asked = 0;
    let mut accepted = 0;
    let mut filled_rows = 0;
    let mut sentences = 0;
    let mut first_row_is_header = false;
    for (index, record) in judged.iter().enumerate() {
        if !accepts(record) {
            continue;
        }
        // The first rows are asked too: a title as wide as the table (`Title,,,,`) may stand
        // above its header in the same block.
        let starts_block = index < FIRST_ROWS_ASKED || judged[index - 1].len() != record.len();
        // A title as wide as the table is a phrase in its first cell and nothing else
        // (`Sales by region 2024,,,,`): not a row. A sparse row has its one value anywhere.
        if index < FIRST_ROWS_ASKED && is_wide_title(record) {
            first_row_is_header |= index == 0;
            continue;
        }
        if starts_block && index + 1 < judged.len() && blocks_asked < MAX_BLOCKS_ASKED {
            blocks_asked += 1;
            let below = &judged[index + 1..judged.len().min(index + 1 + HEADER_VOTERS)];
            // Only typed columns can tell: in an all-text table every row reads as a header.
            if typed_columns_call_it_a_header(record, below) {
                first_row_is_header |= index == 0;
                continue;
            }
        }
        accepted += 1;
        filled_rows += usize::from(fills_row(record));
        sentences += usize::from(is_note_line(record));
    }
    Some(Layout {
        score: LayoutScore {
            skip,
            has_header,
            header_lines,
            columns: width,
            trailing_fields: trailing.count(),
            padded: pad_short_rows,
            repaired: repair.as_ref().is_some_and(|repair| !repair.pad_short_rows),
            first_row_is_header,
            header_reads_as_one: has_header && reads_as_header,
            accepted,
            filled_rows,
            sentences,
            judged: judged.len(),
        },
        skip,
        has_header,
        raw_headers,
        header_line,
        header_lines,
        trailing_delimiter: trailing.delimiter,
        unnamed_empty_columns: trailing.unnamed,
        header_repair: repair.map(|repair| repair.said),
        pad_short_rows,
        width,
        row_width,
    })
}

/// Joins a header line and the line under it into one name per column. A name over merged
/// cells (`Temperature,,` above `min,max`) is written once, so an empty cell above a sub-name
/// takes the name to its left.
fn join_header_lines<'a>(upper: &'a [String], lower: &'a [String]) -> Vec<String> {
    let mut spanning = "";
    let cell = |line: &'a [String], index: usize| line.get(index).map_or("", |cell| cell.trim());
    (0..upper.len().max(lower.len()))
        .map(|index| {
            let (above, below) = (cell(upper, index), cell(lower, index));
            let above = if !above.is_empty() {
                spanning = above;
                above
            } else if index > 0 && !below.is_empty() {
                spanning
            } else {
                ""
            };
            [above, below]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Most lines a header is taken to span.
const MAX_HEADER_LINES: usize = 4;

/// Whether the first record under the header is a further header line: as wide, with at least
/// two values that do not fit their typed columns while none does. A line with an empty cell (the
/// label column of a units or years row) needs two such values; one with no empty cell (`X,Y`
/// under `Easting,Northing`) needs such a value in every typed column, under a header with every
/// name filled. A data row with one bad value is never taken for one.
fn continues_header(header: &[String], records: &[Vec<String>]) -> bool {
    let Some(next) = records.first() else {
        return false;
    };
    if next.len() != header.len() || records.len() < 3 {
        return false;
    }
    let has_empty_cell = next.iter().any(|field| field.trim().is_empty());
    // A line of names under a title (`Created by ...,,,`) is the header, not a second line of it.
    if !has_empty_cell && header.iter().any(|name| name.trim().is_empty()) {
        return false;
    }
    // The lines under it may be header lines too, which would hide the columns' types: judge
    // against the records from one, two or three lines further down.
    (1..MAX_HEADER_LINES)
        .filter(|&below| records.len() >= below + 2)
        .filter_map(|below| unfit_as_data(next, &records[below..records.len().min(500)]))
        .any(|unfit| {
            unfit.values >= 2
                && (has_empty_cell || (unfit.values == unfit.typed_columns && unfit.fewest_sampled >= MIN_TYPED_VALUES))
        })
}

/// Of a line's values, how many do not fit their typed columns, and how many typed columns
/// there are.
struct Unfit {
    values: usize,
    typed_columns: usize,
    /// The fewest values a typed column was typed from: two or three say little.
    fewest_sampled: u64,
}

/// Values a typed column needs under a line without an empty cell before that line can be
/// taken for a second header line.
const MIN_TYPED_VALUES: u64 = 5;

/// How many of `next`'s values do not fit their typed columns in `rest`, or `None` when one of
/// them does. Only records as wide as `next` type the columns: the rows of a table stacked
/// under this one are not its data.
fn unfit_as_data(next: &[String], rest: &[Vec<String>]) -> Option<Unfit> {
    let context = InferenceContext {
        day_first: true,
        ..InferenceContext::default()
    };
    let mut unfit = Unfit {
        values: 0,
        typed_columns: 0,
        fewest_sampled: u64::MAX,
    };
    for (column, value) in next.iter().enumerate() {
        let guess = guess_column(
            rest.iter()
                .filter(|record| record.len() == next.len())
                .filter_map(|record| record.get(column).map(String::as_str)),
            &context,
        );
        if guess.column_type == ColumnType::Varchar || guess.misfits > 0 {
            continue;
        }
        unfit.typed_columns += 1;
        unfit.fewest_sampled = unfit.fewest_sampled.min(guess.sampled);
        if value.trim().is_empty() {
            continue;
        }
        if fits_guess(value, &guess) {
            return None;
        }
        // A null marker (`n/a`, `-`) is a data row's empty value, not a unit or a name.
        let value = value.trim();
        if !NULL_MARKERS.contains(&value) {
            unfit.values += 1;
        }
    }
    Some(unfit)
}

/// How many records above the header are not part of the table: a title, a "Created by" line,
/// notes. They are narrower than the table (or as wide but with at most one value, as a
/// spreadsheet writes a title), and they count only when the first full-width record below them
/// reads as a header; a short first data row of a file without one is never taken for a title.
fn preamble_records(records: &[Vec<String>]) -> usize {
    let probe = &records[..records.len().min(500)];
    let Some(width) = modal_width(probe) else {
        return 0;
    };
    if width < 2 {
        return 0;
    }
    for (index, record) in probe.iter().enumerate().take(MAX_PREAMBLE_RECORDS) {
        let values = record.iter().filter(|field| !field.trim().is_empty()).count();
        if record.len() > width {
            return 0;
        }
        if record.len() == width && values > 1 {
            return if index > 0 && looks_like_header(record, &probe[index + 1..]) {
                index
            } else {
                0
            };
        }
    }
    0
}

/// Fields at the end of every row that are no column.
#[derive(Clone, Copy, Debug, Default)]
struct TrailingFields {
    /// Every row ends with a delimiter: its last field is always empty.
    delimiter: bool,
    /// Unnamed fields before that one (or at the end) that no sampled row fills.
    unnamed: usize,
}

impl TrailingFields {
    fn count(self) -> usize {
        usize::from(self.delimiter) + self.unnamed
    }
}

/// Whether every row ends with fields that are always empty and no column: all records of the
/// usual width (in the head and further into the file) end empty, and the header is one shorter
/// or has no names there (those empty names are dropped). One row is enough when the header
/// agrees; a value in that field anywhere sampled makes it a column after all.
fn trailing_fields(
    has_header: bool,
    raw_headers: &mut Vec<String>,
    records: &[Vec<String>],
    later: &[Vec<String>],
) -> TrailingFields {
    let none = TrailingFields::default();
    let probe = &records[..records.len().min(500)];
    let Some(width) = modal_width(probe) else {
        return none;
    };
    let usual: Vec<&Vec<String>> = probe.iter().filter(|record| record.len() == width).collect();
    let header_ends_empty = raw_headers.len() == width && raw_headers.last().is_some_and(|name| name.trim().is_empty());
    let header_agrees = has_header && (raw_headers.len() + 1 == width || header_ends_empty);
    let enough_rows = usual.len() >= 2 || (usual.len() == 1 && header_agrees);
    if width < 2 || !enough_rows || usual.len() * 10 < probe.len() * 9 {
        return none;
    }
    let empty_tail = |record: &Vec<String>| {
        record
            .iter()
            .rev()
            .take(width - 1)
            .take_while(|field| field.trim().is_empty())
            .count()
    };
    let empty_in_all = usual
        .iter()
        .copied()
        .chain(later.iter().filter(|record| record.len() == width))
        .map(empty_tail)
        .min()
        .unwrap_or(0);
    if empty_in_all == 0 {
        return none;
    }
    if !has_header || raw_headers.len() + 1 == width {
        return TrailingFields {
            delimiter: true,
            unnamed: 0,
        };
    }
    if raw_headers.len() != width {
        return none;
    }
    let unnamed = raw_headers
        .iter()
        .rev()
        .take_while(|name| name.trim().is_empty())
        .count()
        .min(empty_in_all);
    if unnamed == 0 {
        return none;
    }
    raw_headers.truncate(width - unnamed);
    TrailingFields {
        delimiter: true,
        unnamed: unnamed - 1,
    }
}

/// What was done to a header to fit its rows.
struct HeaderRepair {
    /// In words, for the sniff result.
    said: String,
    /// The header keeps names no row fills: rows are read padded with NULL.
    pad_short_rows: bool,
}

impl HeaderRepair {
    fn said(said: String) -> Self {
        Self {
            said,
            pad_short_rows: false,
        }
    }
}

/// Where the header's line is in the sample, to split it again.
struct HeaderLine<'a> {
    sample: &'a [u8],
    dialect: Dialect,
    comment: Option<u8>,
    /// The header's index among the sampled records (comments and blank lines not counted).
    index: usize,
}

/// Makes the header as wide as the rows when a stray quote, an extra delimiter or another
/// delimiter made it narrower or wider, when it has no name over a first column of row names
/// (R's `write.table`), or when it names columns no row fills. Only many rows that agree
/// overrule a header's names; a repair that keeps every name needs only that the rows agree.
fn repair_header(
    line: &HeaderLine<'_>,
    raw_headers: &mut Vec<String>,
    records: &[Vec<String>],
    trailing_fields: usize,
    short_rows_fit: bool,
) -> Option<HeaderRepair> {
    let probe = &records[..records.len().min(500)];
    let data_width = modal_width(probe)?;
    let width = data_width.checked_sub(trailing_fields)?;
    let usual = probe.iter().filter(|record| record.len() == data_width).count();
    let found = raw_headers.len();
    if found == width || width == 0 || usual == 0 || usual * 10 < probe.len() * 8 {
        return None;
    }
    // A sheet's row ends at its last filled cell: rows narrower than the header have empty
    // cells at the end (a comment column filled now and then), which says nothing against it.
    if short_rows_fit && found > width {
        return None;
    }
    // In a short file a header is more likely right than its few rows.
    let many = usual >= MIN_ROWS_TO_REPAIR_HEADER;
    if many && let Some(repair) = split_again(line, raw_headers, width, trailing_fields) {
        return Some(repair);
    }
    let usual_rows: Vec<&Vec<String>> = probe.iter().filter(|record| record.len() == data_width).collect();
    // R writes row names into text files; a sheet's one cell over two columns is its title.
    if !short_rows_fit && found + 1 == width && first_fields_are_row_names(&usual_rows) {
        // Names head the fields they stand over from the right: the first field, unnamed, holds
        // the rows' names.
        raw_headers.insert(0, ROW_NAMES_COLUMN.to_string());
        return Some(HeaderRepair::said(format!(
            "the header has {found} name{} but the rows have {width} fields: the first field, which has no \
             name, holds row names (as R writes them) and is called {ROW_NAMES_COLUMN}",
            if found == 1 { "" } else { "s" }
        )));
    }
    let named: Vec<String> = raw_headers
        .iter()
        .filter(|name| !name.trim().is_empty())
        .cloned()
        .collect();
    if many && found > width && named.len() == width {
        *raw_headers = named;
        return Some(HeaderRepair::said(format!(
            "the header has {found} fields, {} of them empty, but the rows have {width}: the empty ones were dropped",
            found - width
        )));
    }
    if found > width && probe.iter().all(|record| record.len() < found) {
        // Names past every row's last field head columns the export left empty: kept, and the
        // rows read padded.
        return Some(HeaderRepair {
            said: format!(
                "the header has {found} names but the rows have {width} fields: the last {} name{} head \
                 columns no row fills, which are read as NULL",
                found - width,
                if found - width == 1 { "" } else { "s" }
            ),
            pad_short_rows: true,
        });
    }
    if !many {
        return None;
    }
    raw_headers.resize(width, String::new());
    Some(HeaderRepair::said(format!(
        "the header has {found} field{} but the rows have {width}: its names were kept where they fit and the other columns named by position",
        if found == 1 { "" } else { "s" }
    )))
}

/// Whether the rows' first fields read as row names, as R writes them under a header with no
/// name for them: filled and distinct, and either many, or counting from 1 (R's default), or
/// names rather than numbers. A row with one field too many says none of that.
fn first_fields_are_row_names(rows: &[&Vec<String>]) -> bool {
    let firsts: Vec<&str> = rows
        .iter()
        .filter_map(|record| record.first())
        .map(|field| field.trim())
        .collect();
    if firsts.len() < 2 || firsts.iter().any(|first| first.is_empty()) {
        return false;
    }
    let mut seen = std::collections::HashSet::new();
    if !firsts.iter().all(|first| seen.insert(*first)) {
        return false;
    }
    let counting = firsts
        .iter()
        .enumerate()
        .all(|(index, first)| first.parse::<usize>() == Ok(index + 1));
    let named = firsts.iter().all(|first| first.parse::<f64>().is_err());
    counting || named || firsts.len() >= MIN_ROWS_TO_REPAIR_HEADER
}

/// The name given to a first column of row names that has none in the header.
const ROW_NAMES_COLUMN: &str = "row_name";

/// The header split again at its delimiter with its quotes ignored, or at another delimiter,
/// when that gives the rows' width.
fn split_again(
    line: &HeaderLine<'_>,
    raw_headers: &mut Vec<String>,
    width: usize,
    trailing_fields: usize,
) -> Option<HeaderRepair> {
    let found = raw_headers.len();
    let dialect = line.dialect;
    let text = header_text(line)?;
    let others = DELIMITERS.iter().copied().filter(|d| *d != dialect.delimiter);
    for delimiter in std::iter::once(dialect.delimiter).chain(others) {
        let mut names: Vec<String> = text
            .split(char::from(delimiter))
            .map(|name| name.trim().trim_matches(char::from(dialect.quote)).trim().to_string())
            .collect();
        while names.len() > width
            && names.len() <= width + trailing_fields
            && names.last().is_some_and(String::is_empty)
        {
            names.pop();
        }
        if names.len() == width {
            *raw_headers = names;
            return Some(HeaderRepair::said(if delimiter == dialect.delimiter {
                format!(
                    "the header read as {found} field{} but the rows have {width}: it was split again at every '{}', its quotes ignored",
                    if found == 1 { "" } else { "s" },
                    char::from(delimiter)
                )
            } else {
                format!(
                    "the header is written with '{}' between its names, the rows with '{}': it was split at '{}'",
                    char::from(delimiter),
                    char::from(dialect.delimiter),
                    char::from(delimiter)
                )
            }));
        }
    }
    None
}

/// The raw text of the header's record in the sample: the record at its index, comment lines and
/// lines of delimiters only not counted, as the sampled records do not count them.
fn header_text(line: &HeaderLine<'_>) -> Option<String> {
    sampled_record(line).map(|(_, text)| text)
}

/// The physical line and raw text of a sampled record, found by its index.
fn sampled_record(line: &HeaderLine<'_>) -> Option<(u64, String)> {
    let sample = line.sample;
    let mut reader = RecordReader::with_limit(sample, line.dialect, sample.len() + 16);
    let mut index = 0;
    loop {
        let record = reader.next_record().ok()??;
        let comment = line.comment.is_some_and(|prefix| record.raw.first() == Some(&prefix));
        if comment || record.defect.is_some() || is_delimiters_only(record.raw, line.dialect.delimiter) {
            continue;
        }
        if index == line.index {
            return Some((record.line, String::from_utf8_lossy(record.raw).into_owned()));
        }
        index += 1;
    }
}

pub(in crate::import) fn modal_width(records: &[Vec<String>]) -> Option<usize> {
    let mut counts: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for record in records {
        *counts.entry(record.len()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(width, count)| (*count, *width))
        .map(|(width, _)| width)
}
