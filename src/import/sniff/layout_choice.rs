//! Choosing the layout: every candidate read of the sample's head scored, the best taken, and
//! the tables around it named (one following it, one beside it on a sheet, notes under it), so
//! the sniff result can say what else the file holds and read it on request.

use crate::import::open::column_span::ColumnSpan;
use crate::import::sniff::footnotes::{TableRecords, rows_above_notes};
use crate::import::sniff::header_guess::looks_like_header;
use crate::import::sniff::header_repair::{HeaderLine, sampled_record};
use crate::import::sniff::hints::SniffHints;
use crate::import::sniff::layout::{
    HEADER_VOTERS, Layout, LayoutChoice, LayoutInput, LayoutScore, MAX_PREAMBLE_RECORDS, OtherTable,
};
use crate::import::sniff::layout_read::{is_empty_record, preamble_records, read_layout};
use crate::import::sniff::side_tables;
use crate::import::sniff::split_header::split_header_at;

/// Candidate layouts scored at most: each is a read of the sample's head.
const MAX_CANDIDATES: usize = 8;

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
pub(in crate::import) fn table_beside(
    input: &LayoutInput<'_>,
    chosen: &Layout,
    table_rows: Option<u64>,
) -> Option<OtherTable> {
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
pub(in crate::import) fn split_header_layout(input: &LayoutInput<'_>) -> Option<Layout> {
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
pub(in crate::import) fn following_table(input: &LayoutInput<'_>, chosen: &Layout) -> Option<(u64, OtherTable)> {
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
pub(in crate::import) fn rows_above_notes_in(input: &LayoutInput<'_>, chosen: &Layout) -> Option<u64> {
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
pub(in crate::import) fn sampled_line(input: &LayoutInput<'_>, index: usize) -> Option<u64> {
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
pub(in crate::import) fn other_tables(input: &LayoutInput<'_>, chosen: &Layout, others: &[Layout]) -> Vec<OtherTable> {
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
pub(in crate::import) fn is_labelled_notes(header: &[String], block: &[Vec<String>]) -> bool {
    std::iter::once(header)
        .chain(block.iter().map(Vec::as_slice))
        .all(|record| record.first().is_some_and(|label| label.trim_end().ends_with(':')))
}

/// What orders layouts: rows that fill a row's cells explained, then records explained (read as
/// rows, or as a header that reads as one: a layout without a header must not win by reading
/// the header as a row), then a first row that is not a header (else the header is further
/// down), then a header at all, then a header that fits as written, then fewer lines skipped.
pub(in crate::import) fn rank(score: &LayoutScore) -> (usize, usize, bool, bool, bool, std::cmp::Reverse<usize>) {
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
pub(in crate::import) fn candidate_skips(input: &LayoutInput<'_>) -> Vec<usize> {
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
