//! Where a table ends because notes follow it: footnotes, a source line, the date a
//! statistics release was made.
//!
//! Statistics offices and spreadsheet reports put such notes under the table, after a blank
//! line, one or two cells wide. Read as rows they fail, every one, and their failures hide the
//! rows that did fail for a reason. They are only taken for notes when the whole file was read
//! in the sample, so no row of the table can come after them unseen, and when they look like
//! nothing the table holds: two cells filled at most and two fewer than a row, after a gap.

/// Cells a note fills at most: a number and its text (`1.;Until 1992 ...`).
const MAX_NOTE_CELLS: usize = 2;

/// The records of a table and what it knows about them, for [`rows_above_notes`].
pub struct TableRecords<'a> {
    /// The sampled records, the whole file's.
    pub records: &'a [Vec<String>],
    /// The index of the table's first row (under its header).
    pub first_row: usize,
    /// Columns of the table, and fields of a full row (a trailing delimiter's included).
    pub width: usize,
    pub row_width: usize,
    /// The first column the header names (0 without a header): a note starts at or left of it,
    /// as a footnote is written under the table's first column.
    pub left_edge: usize,
}

/// The rows of the table when the records after its last full row are notes: all of them
/// narrow (at most two cells filled, two fewer than a row's), at least one with words, and the
/// first set apart from the table by a blank line (`line_of` gives a record's first line,
/// `lines_spanned` how many it spans). `None` when the table runs to the end.
pub fn rows_above_notes(
    table: &TableRecords<'_>,
    line_of: impl Fn(usize) -> Option<u64>,
    lines_spanned: impl Fn(usize) -> u64,
) -> Option<u64> {
    let records = table.records;
    // Notes are often padded to the table's width (`Source: ONS,,,,`): the table ends at its
    // last row that is not one.
    let last_row = (table.first_row..records.len()).rev().find(|&index| {
        let record = &records[index];
        !is_note(record, table) && (table.width..=table.row_width).contains(&record.len())
    })?;
    let notes = &records[last_row + 1..];
    if notes.is_empty() || !notes.iter().all(|record| is_note(record, table)) {
        return None;
    }
    if !notes.iter().flatten().any(|field| has_words(field)) {
        return None;
    }
    let gap = line_of(last_row + 1)? > line_of(last_row)? + lines_spanned(last_row);
    gap.then(|| (last_row + 1 - table.first_row) as u64)
}

/// Whether a record is narrow enough to be a note under the table: no wider than a row, with
/// at most two cells filled and two fewer than a row has, the first at or left of the table's
/// first named column (a row missing its first values is a short row, not a note). A number
/// may only lead it, as a footnote's mark: a label with an amount after it is a closing total,
/// which the summary-line rule reads.
fn is_note(record: &[String], table: &TableRecords<'_>) -> bool {
    let row_width = table.row_width;
    let mut filled = record
        .iter()
        .enumerate()
        .map(|(index, field)| (index, field.trim()))
        .filter(|(_, field)| !field.is_empty());
    let Some((first_at, _mark_or_text)) = filled.next() else {
        return record.len() <= row_width;
    };
    let rest: Vec<&str> = filled.map(|(_, field)| field).collect();
    let filled_cells = 1 + rest.len();
    record.len() <= row_width
        && first_at <= table.left_edge
        && filled_cells <= MAX_NOTE_CELLS
        && filled_cells + 2 <= row_width
        && !rest.iter().any(|field| is_amount(field))
}

/// Whether a field is written as a number: digits with only signs, separators and a percent.
fn is_amount(field: &str) -> bool {
    field.chars().any(|c| c.is_ascii_digit()) && field.chars().all(|c| c.is_ascii_digit() || "+-.,% ".contains(c))
}

/// Whether a field is a phrase: two words or more with letters.
fn has_words(field: &str) -> bool {
    words_with_letters(field) >= 2
}

/// How many of a field's words hold a letter: what tells prose from values.
pub fn words_with_letters(field: &str) -> usize {
    field
        .split_whitespace()
        .filter(|word| word.chars().any(char::is_alphabetic))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(lines: &[&str]) -> Vec<Vec<String>> {
        crate::import::split_lines(lines, ';')
    }

    /// Records one per line, with a blank line before record `gap_before`.
    fn rows_above_notes_of(lines: &[&str], gap_before: usize) -> Option<u64> {
        let records = records(lines);
        let table = TableRecords {
            records: &records,
            first_row: 1,
            width: 5,
            row_width: 5,
            left_edge: 0,
        };
        let line_of = |index: usize| Some(index as u64 + 1 + u64::from(index >= gap_before));
        rows_above_notes(&table, line_of, |_| 1)
    }

    #[test]
    fn notes_after_a_blank_line_end_the_table() {
        let lines = [
            "a;b;c;d;e",
            "1;2;3;4;5",
            "6;7;8;9;10",
            "Source: the register",
            "1.;Counted at year end",
        ];
        assert_eq!(rows_above_notes_of(&lines, 3), Some(2));
    }

    #[test]
    fn a_short_last_row_right_under_the_table_is_a_row() {
        let lines = ["a;b;c;d;e", "1;2;3;4;5", "5;6 and 7"];
        assert_eq!(rows_above_notes_of(&lines, 99), None);
    }

    #[test]
    fn notes_without_words_or_as_wide_as_half_the_table_are_not_notes() {
        assert_eq!(rows_above_notes_of(&["a;b;c;d;e", "1;2;3;4;5", "5;6"], 2), None);
        assert_eq!(rows_above_notes_of(&["a;b;c;d;e", "1;2;3;4;5", "x y;z w;v u"], 2), None);
    }

    #[test]
    fn a_short_row_missing_its_first_values_is_a_row_not_a_note() {
        // A row of five columns with only its second filled, after a blank line: its first
        // field, which the header names, is empty, so it is a short row that fails as one.
        let lines = ["a;b;c;d;e", "1;2;3;4;5", "6;7;8;9;10", ";with words"];
        assert_eq!(rows_above_notes_of(&lines, 3), None);
        // Under a table whose first column is unnamed and empty, notes start one column in.
        let lines = [";b;c;d;e", ";2;3;4;5", ";7;8;9;10", ";Notes: see the register"];
        let records = records(&lines);
        let table = TableRecords {
            records: &records,
            first_row: 1,
            width: 5,
            row_width: 5,
            left_edge: 1,
        };
        let line_of = |index: usize| Some(index as u64 + 1 + u64::from(index >= 3));
        assert_eq!(rows_above_notes(&table, line_of, |_| 1), Some(2));
    }

    #[test]
    fn notes_padded_to_the_table_width_end_it_too() {
        let lines = ["a;b;c;d;e", "1;2;3;4;5", "6;7;8;9;10", "Source: the register;;;;"];
        assert_eq!(rows_above_notes_of(&lines, 3), Some(2));
    }

    #[test]
    fn a_closing_total_is_not_a_note() {
        let lines = ["a;b;c;d;e", "1;2;3;4;5", "Total;;;;73,929.00", "Source: the register"];
        assert_eq!(rows_above_notes_of(&lines, 2), None);
        let marked = ["a;b;c;d;e", "1;2;3;4;5", "1.;Counted at year end"];
        assert_eq!(rows_above_notes_of(&marked, 2), Some(1));
    }

    #[test]
    fn a_table_that_goes_on_after_its_notes_is_not_cut() {
        let lines = ["a;b;c;d;e", "1;2;3;4;5", "Source: the register", "6;7;8;9;10"];
        assert_eq!(rows_above_notes_of(&lines, 2), None);
    }
}
