//! A statistics table whose header is written on two lines: the columns' names on one, with the
//! row-label columns' cells left empty, and those columns' names on the line under it, over the
//! cells the first line fills (`,,Groningen,Friesland` over `NR.,Cluster,,`).
//!
//! Such tables come with titles, units and column letters above them, written across the same
//! width. Read as rows, those lines are as many as the header's, so the layout's scoring cannot
//! tell them from data; the shape can. The lines above name no row (their row-label cells are
//! empty) while every row of the table has a label, so they are preamble, and the two header
//! lines join into one name per column.

use crate::import::sniff::types::parse_f64;

/// Most row-label columns a split header leaves empty on its first line.
const MAX_LABEL_COLUMNS: usize = 3;

/// Fewest rows under the header: a few lines can be anything.
const MIN_ROWS: usize = 5;

/// Where the first of a split header's two lines is, when `records` have one within their
/// first `reach` records; `None` when they do not.
pub(crate) fn split_header_at(records: &[Vec<String>], reach: usize) -> Option<usize> {
    (1..reach.min(records.len())).find(|&index| is_split_header(records, index))
}

fn is_split_header(records: &[Vec<String>], index: usize) -> bool {
    let (Some(names), Some(labels)) = (records.get(index), records.get(index + 1)) else {
        return false;
    };
    let width = names.len();
    let label_columns = names.iter().take_while(|cell| is_empty(cell)).count();
    if labels.len() != width || label_columns == 0 || label_columns > MAX_LABEL_COLUMNS {
        return false;
    }
    // The names: a run of distinct words after the label columns, then only empty cells.
    let named: Vec<&str> = names[label_columns..]
        .iter()
        .map(|cell| cell.trim())
        .take_while(|cell| !cell.is_empty())
        .collect();
    let named_end = label_columns + named.len();
    let distinct = named
        .iter()
        .enumerate()
        .all(|(position, name)| !named[..position].contains(name));
    if named.len() < 2 || !distinct || named.iter().any(|name| is_number(name)) || !all_empty(&names[named_end..]) {
        return false;
    }
    // The labels' names: every label column named, in words, and nothing over the named columns.
    let labels_named = labels[..label_columns]
        .iter()
        .all(|cell| !is_empty(cell) && !is_number(cell.trim()));
    if !labels_named || !all_empty(&labels[label_columns..]) {
        return false;
    }
    // The rows: each has a label, and they hold numbers under the names.
    let rows: Vec<&Vec<String>> = records[index + 2..]
        .iter()
        .filter(|record| !all_empty(record))
        .collect();
    let labelled = rows.iter().all(|row| row.len() == width && !is_empty(&row[0]));
    if rows.len() < MIN_ROWS || !labelled {
        return false;
    }
    let with_numbers = rows
        .iter()
        .filter(|row| row[label_columns..named_end].iter().any(|cell| is_number(cell.trim())))
        .count();
    if with_numbers * 2 < rows.len() {
        return false;
    }
    // Above: no line is a row, for none has a label; they fill no more than the table's width.
    records[..index]
        .iter()
        .all(|record| record.len() == width && all_empty(&record[..label_columns]))
}

fn is_empty(cell: &str) -> bool {
    cell.trim().is_empty()
}

fn all_empty(cells: &[String]) -> bool {
    cells.iter().all(|cell| is_empty(cell))
}

fn is_number(value: &str) -> bool {
    parse_f64(value).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(lines: &[&str]) -> Vec<Vec<String>> {
        crate::import::split_lines(lines, ',')
    }

    fn budget_table() -> Vec<&'static str> {
        vec![
            ",,Key figures,,2011,",
            ",,in euros per inhabitant,,,",
            ",,,,,",
            ",,A,B,C,",
            ",,North,South,East,",
            "NR.,Cluster,,,,",
            "0,Income:,,,,",
            "1,Property tax,208,173,163,",
            "2,Other,7,55,52,",
            "3,Reserves,23,49,-6,",
            "4,Grant,1176,1076,961,",
            "5,Total,1414,1353,1232,",
        ]
    }

    #[test]
    fn finds_the_column_names_over_the_label_names() {
        assert_eq!(split_header_at(&records(&budget_table()), 50), Some(4));
    }

    #[test]
    fn a_line_above_with_a_label_is_a_row_so_there_is_no_split_header() {
        let mut lines = budget_table();
        lines[1] = "9,in euros per inhabitant,,,,";
        assert_eq!(split_header_at(&records(&lines), 50), None);
    }

    #[test]
    fn rows_without_labels_are_no_such_table() {
        let mut lines = budget_table();
        lines[8] = ",Other,7,55,52,";
        assert_eq!(split_header_at(&records(&lines), 50), None);
    }

    #[test]
    fn a_line_under_the_names_with_numbers_is_a_row_not_the_labels_names() {
        let mut lines = budget_table();
        lines[5] = "NR.,Cluster,1,2,3,";
        assert_eq!(split_header_at(&records(&lines), 50), None);
    }

    #[test]
    fn rows_narrower_than_the_header_are_no_such_table() {
        let mut lines = budget_table();
        lines[9] = "3,Reserves";
        assert_eq!(split_header_at(&records(&lines), 50), None);
    }

    #[test]
    fn years_for_names_are_numbers_not_a_split_header() {
        let mut lines = budget_table();
        lines[4] = ",,2001,2002,2003,";
        assert_eq!(split_header_at(&records(&lines), 50), None);
    }
}
