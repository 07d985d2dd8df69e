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
use crate::import::read::record_reader::Dialect;
use crate::import::sniff::hints::SniffHints;

/// Records above a header looked through for where a table starts.
pub(in crate::import) const MAX_PREAMBLE_RECORDS: usize = 50;
/// Records under a block's first row that judge whether it reads as a header.
pub(in crate::import) const HEADER_VOTERS: usize = 200;

/// One way of reading the start of a file, and how many sampled records it reads as rows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LayoutScore {
    /// Records skipped above the header (`--skip`).
    pub skip: usize,
    /// The layout reads a header above the rows.
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
    /// Sampled records judged: those under the header.
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
    /// The layout read, with its score; `None` when none was scored.
    pub chosen: Option<LayoutScore>,
    /// The best of the others, which a person may pick instead; `None` when there is no other.
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
    /// Its last sampled row's line.
    pub last_line: u64,
    /// Its width, in columns.
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
