//! Two tables side by side on one sheet, an empty column between them: a report's main table
//! and, two columns over, a lookup table with its own header and its own length.
//!
//! Read as one table they land as one wide row per sheet row, the second table's rows glued to
//! the first's by position, which no person means. An empty column inside one table (a spacer
//! in a report) is not such a gutter: its two sides fill the same rows. So a gutter splits the
//! sheet only where both sides are named and their rows end apart.

use serde::{Deserialize, Serialize};

/// Rows one side fills while the other is empty, at the fewest, before the sides are two tables.
const MIN_ROWS_APART: usize = 2;

/// Columns of a sheet read as the table, both ends included, counted from 0 (column A).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ColumnSpan {
    pub first: u32,
    pub last: u32,
}

impl ColumnSpan {
    /// Reads `F:K` (or `F` for one column), as a spreadsheet names columns.
    pub fn parse(text: &str) -> Result<Self, String> {
        let said = || format!("'{text}' is no column range: write it as letters, such as F:K");
        let (first, last) = text.split_once(':').unwrap_or((text, text));
        let first = column_index(first.trim()).ok_or_else(said)?;
        let last = column_index(last.trim()).ok_or_else(said)?;
        if last < first {
            return Err(format!("'{text}' ends before it starts: write the left column first"));
        }
        Ok(Self { first, last })
    }

    pub fn contains(&self, column: u32) -> bool {
        (self.first..=self.last).contains(&column)
    }
}

impl std::fmt::Display for ColumnSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", column_letters(self.first), column_letters(self.last))
    }
}

impl TryFrom<String> for ColumnSpan {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl From<ColumnSpan> for String {
    fn from(span: ColumnSpan) -> String {
        span.to_string()
    }
}

/// A column's letters: 0 is A, 25 is Z, 26 is AA.
pub fn column_letters(index: u32) -> String {
    let mut letters = Vec::new();
    let mut rest = u64::from(index) + 1;
    while rest > 0 {
        let digit = (rest - 1) % 26;
        letters.push(b'A' + digit as u8);
        rest = (rest - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// The column `letters` name (A is 0); `None` when they are no column's.
fn column_index(letters: &str) -> Option<u32> {
    if letters.is_empty() || letters.len() > 3 || !letters.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let number = letters.bytes().fold(0u32, |number, b| {
        number * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1
    });
    Some(number - 1)
}

/// The field that parts the table under `header` from another beside it: empty in the header
/// and in every row, with at least two names on each side, and sides whose rows end apart.
pub fn gutter(header: &[String], rows: &[Vec<String>]) -> Option<usize> {
    let empty = |cell: Option<&String>| cell.is_none_or(|cell| cell.trim().is_empty());
    let named = |cells: &[String]| cells.iter().filter(|cell| !cell.trim().is_empty()).count();
    (1..header.len().saturating_sub(1)).find(|&gutter| {
        if !empty(header.get(gutter)) || named(&header[..gutter]) < 2 || named(&header[gutter + 1..]) < 2 {
            return false;
        }
        if !rows.iter().all(|row| empty(row.get(gutter))) {
            return false;
        }
        let side_filled = |row: &Vec<String>, left: bool| {
            let cells = if left {
                &row[..gutter.min(row.len())]
            } else {
                row.get(gutter + 1..).unwrap_or_default()
            };
            named(cells) > 0
        };
        // Rows of the sheet's grid (a side filled), as (left filled, right filled).
        let grid: Vec<(bool, bool)> = rows
            .iter()
            .map(|row| (side_filled(row, true), side_filled(row, false)))
            .filter(|&(left, right)| left || right)
            .collect();
        let apart = grid.iter().filter(|(left, right)| left != right).count();
        // The shorter table's rows are one run from its header down: sparse columns of one
        // table (a comment now and then) are filled here and there instead.
        let one_run = |filled: fn(&(bool, bool)) -> bool| {
            let count = grid.iter().filter(|side| filled(side)).count();
            grid.iter().take(count).all(filled)
        };
        let (left_rows, right_rows) = (
            grid.iter().filter(|side| side.0).count(),
            grid.iter().filter(|side| side.1).count(),
        );
        let shorter_is_one_run = if right_rows <= left_rows {
            one_run(|side| side.1)
        } else {
            one_run(|side| side.0)
        };
        apart >= MIN_ROWS_APART && apart * 10 >= grid.len() && shorter_is_one_run
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(lines: &[&str]) -> Vec<Vec<String>> {
        crate::import::split_lines(lines, ',')
    }

    #[test]
    fn column_ranges_read_and_write_as_a_spreadsheet_names_them() {
        assert_eq!(ColumnSpan::parse("F:K"), Ok(ColumnSpan { first: 5, last: 10 }));
        assert_eq!(ColumnSpan::parse("b"), Ok(ColumnSpan { first: 1, last: 1 }));
        assert_eq!(
            ColumnSpan::parse("Z:AB").map(|span| span.to_string()),
            Ok("Z:AB".to_string())
        );
        assert!(ColumnSpan::parse("K:F").is_err());
        assert!(ColumnSpan::parse("F:7").is_err());
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn a_table_beside_a_shorter_one_is_parted_at_the_empty_column() {
        let lines = records(&[
            "date,series,pieces,,month,bonds",
            "2013-06-30,A,10,,201306,752",
            "2013-06-30,B,11,,201306,852",
            "2013-05-31,A,12,,,",
            "2013-05-31,B,13,,,",
            "2013-04-30,A,14,,,",
        ]);
        assert_eq!(gutter(&lines[0], &lines[1..]), Some(3));
    }

    #[test]
    fn a_spacer_column_inside_one_table_parts_nothing() {
        let lines = records(&[
            "name,age,,total,share",
            "Ann,31,,10,0.5",
            "Bob,42,,12,0.25",
            "Cleo,29,,7,0.1",
        ]);
        assert_eq!(gutter(&lines[0], &lines[1..]), None);
    }

    #[test]
    fn sparse_columns_beyond_an_empty_one_part_nothing() {
        let lines = records(&[
            "id,name,,comment,note",
            "1,Ann,,late,twice",
            "2,Bob,,,",
            "3,Cleo,,,",
            "4,Dan,,ok,fine",
            "5,Eve,,,",
        ]);
        assert_eq!(gutter(&lines[0], &lines[1..]), None);
    }

    #[test]
    fn a_value_in_the_empty_column_or_one_name_beside_it_parts_nothing() {
        let lines = records(&["a,b,,c,d", "1,2,,,", "3,4,,,", "5,6,x,,", "7,8,,9,9"]);
        assert_eq!(gutter(&lines[0], &lines[1..]), None);
        let lines = records(&["a,b,,c", "1,2,,", "3,4,,", "5,6,,7"]);
        assert_eq!(gutter(&lines[0], &lines[1..]), None);
    }
}
