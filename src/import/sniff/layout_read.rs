//! Reading one layout of the sample: the records skipped above the header, the header's lines
//! (one, or several that continue it), its width against the rows', and how many sampled
//! records it reads as rows. The score of a candidate layout comes from here.

use crate::import::sniff::footnotes::words_with_letters;
use crate::import::sniff::header_guess::{looks_like_header, typed_columns_call_it_a_header};
use crate::import::sniff::header_repair::{HeaderLine, HeaderRepair, repair_header, trailing_fields};
use crate::import::sniff::layout::{
    HEADER_VOTERS, Layout, LayoutInput, LayoutScore, MAX_PREAMBLE_RECORDS, modal_width,
};
use crate::import::sniff::type_guess::{InferenceContext, fits_guess, guess_column};
use crate::import::sniff::types::ColumnType;
use crate::import::sniff::value_formats::NULL_MARKERS;

/// Blocks of one width whose first row is asked whether it reads as a header.
const MAX_BLOCKS_ASKED: usize = 16;
/// Rows under a header that are asked whether they read as a header themselves.
const FIRST_ROWS_ASKED: usize = 3;

/// The layout that skips `skip` records: its header, trailing fields and repairs, as the rows
/// under it suggest, and its score.
pub(in crate::import) fn read_layout(
    input: &LayoutInput<'_>,
    skip: usize,
    table_rows: Option<usize>,
) -> Option<Layout> {
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
    // And what it skips is not of the table.
    if skip > 0 && hints.skip.is_none() && !(header_reached && skips_only_other_lines(&input.records[..skip], &rest[0]))
    {
        return None;
    }
    let own_records_below = |header_lines: usize| {
        let below = &rest[header_lines..];
        &below[..own_rows(below)]
    };
    let header_line = if has_header { rest[0].clone() } else { Vec::new() };
    let (mut raw_headers, header_lines) = if has_header {
        joined_header(rest, hints.header_lines, own_records_below)
    } else {
        (Vec::new(), 0)
    };
    let data = own_records_below(header_lines);
    let trailing = trailing_fields(has_header, &mut raw_headers, data, later);
    let repair = if has_header {
        repair_at(input, skip, &mut raw_headers, data, trailing.count())
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
    let counted = count_rows(
        data,
        &RowShape {
            width,
            row_width,
            short_rows_fit: pad_short_rows || input.short_rows_fit,
            sheet: input.short_rows_fit,
        },
    );
    Some(Layout {
        score: LayoutScore {
            skip,
            has_header,
            header_lines,
            columns: width,
            trailing_fields: trailing.count(),
            padded: pad_short_rows,
            repaired: repair.as_ref().is_some_and(|repair| !repair.pad_short_rows),
            first_row_is_header: counted.first_row_is_header,
            header_reads_as_one: has_header && reads_as_header,
            accepted: counted.accepted,
            filled_rows: counted.filled_rows,
            sentences: counted.sentences,
            judged: data.len(),
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

/// The repair of the header of a layout that skips `skip` records, when its names do not fit
/// the `data` under it (see `header_repair`).
fn repair_at(
    input: &LayoutInput<'_>,
    skip: usize,
    raw_headers: &mut Vec<String>,
    data: &[Vec<String>],
    trailing_fields: usize,
) -> Option<HeaderRepair> {
    let line = HeaderLine {
        sample: input.sample,
        dialect: input.dialect,
        comment: input.comment,
        index: skip,
    };
    repair_header(&line, raw_headers, data, trailing_fields, input.short_rows_fit)
}

/// Whether the records a layout skips above its header are not of its table: lines of another
/// width (a title, another table) or titles written across the table's width. A line as wide as
/// the header under it is a row.
fn skips_only_other_lines(skipped: &[Vec<String>], header: &[String]) -> bool {
    skipped
        .iter()
        .all(|record| record.len() != header.len() || is_wide_title(record) || is_empty_record(record))
}

/// The header starting `records`, with the lines under it that continue it (units, years or
/// sub-names under a shared name) joined in, one name per column, and the lines it takes.
/// `wanted` is the lines the person said it takes; `rows_below` gives the table's records
/// under a header of so many lines.
fn joined_header<'a>(
    records: &'a [Vec<String>],
    wanted: Option<usize>,
    rows_below: impl Fn(usize) -> &'a [Vec<String>],
) -> (Vec<String>, usize) {
    let mut names = records[0].clone();
    let mut lines = 1;
    loop {
        let below = rows_below(lines);
        let more = match wanted {
            Some(wanted) => lines < wanted && below.len() > 1,
            None => lines < MAX_HEADER_LINES && continues_header(&names, below),
        };
        if !more {
            return (names, lines);
        }
        names = join_header_lines(&names, &records[lines]);
        lines += 1;
    }
}

/// The width of a layout's rows, as [`count_rows`] judges records by it.
#[derive(Clone, Copy)]
struct RowShape {
    width: usize,
    /// The width with the trailing fields that are no column.
    row_width: usize,
    /// A row may end early, its missing cells empty.
    short_rows_fit: bool,
    /// The input is a sheet.
    sheet: bool,
}

/// What a layout reads the records under its header as.
struct RowCounts {
    /// Records read as rows.
    accepted: usize,
    /// Of those, rows that fill two cells or more.
    filled_rows: usize,
    /// Of those, sentences of notes on a sheet read as a one-column table.
    sentences: usize,
    /// The first record reads as a header or a title, not a row.
    first_row_is_header: bool,
}

/// Counts the records of `judged` a layout of `shape` reads as rows.
fn count_rows(judged: &[Vec<String>], shape: &RowShape) -> RowCounts {
    let RowShape {
        width,
        row_width,
        short_rows_fit,
        sheet,
    } = *shape;
    let accepts = |record: &Vec<String>| {
        record.len() == row_width
            || (record.len() > width
                && record.len() < row_width
                && record[width..].iter().all(|field| field.trim().is_empty()))
            || (short_rows_fit && record.len() < width)
    };
    // A row of a table of several columns fills two cells or more: a line with one (a sentence
    // of notes above a sheet's table) fits any width but is no row of a grid. Nor, on a sheet,
    // is a sentence a row of a one-column table against a table of several: a page of notes
    // above a table is not a list, however many lines it runs to. (A text file of prose has no
    // table to lose to it: its lines stay rows.)
    let is_note_line =
        |record: &Vec<String>| width < 2 && sheet && record.first().is_some_and(|field| is_sentence(field));
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
    RowCounts {
        accepted,
        filled_rows,
        sentences,
        first_row_is_header,
    }
}

/// Joins a header line and the line under it into one name per column. A name over merged
/// cells (`Temperature,,` above `min,max`) is written once, so an empty cell above a sub-name
/// takes the name to its left.
pub(in crate::import) fn join_header_lines<'a>(upper: &'a [String], lower: &'a [String]) -> Vec<String> {
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
pub(in crate::import) const MAX_HEADER_LINES: usize = 4;

/// Whether the first record under the header is a further header line: as wide, with at least
/// two values that do not fit their typed columns while none does. A line with an empty cell (the
/// label column of a units or years row) needs two such values; one with no empty cell (`X,Y`
/// under `Easting,Northing`) needs such a value in every typed column, under a header with every
/// name filled. A data row with one bad value is never taken for one.
pub(in crate::import) fn continues_header(header: &[String], records: &[Vec<String>]) -> bool {
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
pub(in crate::import) struct Unfit {
    values: usize,
    typed_columns: usize,
    /// The fewest values a typed column was typed from: two or three say little.
    fewest_sampled: u64,
}

/// Values a typed column needs under a line without an empty cell before that line can be
/// taken for a second header line.
pub(in crate::import) const MIN_TYPED_VALUES: u64 = 5;

/// How many of `next`'s values do not fit their typed columns in `rest`, or `None` when one of
/// them does. Only records as wide as `next` type the columns: the rows of a table stacked
/// under this one are not its data.
pub(in crate::import) fn unfit_as_data(next: &[String], rest: &[Vec<String>]) -> Option<Unfit> {
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
pub(in crate::import) fn preamble_records(records: &[Vec<String>]) -> usize {
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

/// Words a line of notes has at the fewest, each with a letter: `Introduction to DoLS`.
const MIN_SENTENCE_WORDS: usize = 3;

/// Whether every field of a record is empty or spaces: a blank line written with delimiters.
pub(in crate::import) fn is_empty_record(record: &[String]) -> bool {
    record.iter().all(|field| field.trim().is_empty())
}

/// Whether a field reads as a sentence of prose rather than a value.
pub(in crate::import) fn is_sentence(field: &str) -> bool {
    words_with_letters(field) >= MIN_SENTENCE_WORDS
}

/// Whether a record is a title written across the table's width: words (with a space between)
/// in its first field, every other field empty.
pub(in crate::import) fn is_wide_title(record: &[String]) -> bool {
    let Some((first, rest)) = record.split_first() else {
        return false;
    };
    let first = first.trim();
    !rest.is_empty()
        && rest.iter().all(|field| field.trim().is_empty())
        && first.contains(' ')
        && first.chars().any(char::is_alphabetic)
}
