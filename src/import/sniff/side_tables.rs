//! Two tables side by side on one sheet, an empty column between them: a report's main table
//! and, two columns over, a lookup table with its own header and its own length.
//!
//! Read as one table they land as one wide row per sheet row, the second table's rows glued to
//! the first's by position, which no person means. An empty column inside one table (a spacer
//! in a report) is not such a gutter: its two sides fill the same rows. So a gutter splits the
//! sheet only where both sides are named and their rows end apart.

/// Rows one side fills while the other is empty, at the fewest, before the sides are two tables.
const MIN_ROWS_APART: usize = 2;

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
