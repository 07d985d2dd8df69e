//! Judging a reading of a messy file against its hand-cleaned twin: the same data written
//! plainly (a header line, commas, UTF-8, ISO dates, plain numbers, an empty field for NULL),
//! holding the rows a person would import and the values they mean.
//!
//! A sniffer's own figures (columns typed, rows imported) cannot tell a right reading from a
//! confident wrong one: `75.775` stored as 75775 is a typed column and an imported row. Set
//! beside the twin, it is a misread cell. `sluice bench sniff --compare-clean` reads each file
//! with Sluice and with DuckDB and scores both readings here.

use std::path::Path;

use crate::sql::quote_ident;

/// A table as text: column names, type names and every value (`None` for NULL), in row order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableText {
    /// Column names, in table order.
    pub columns: Vec<String>,
    /// Type names, one per column (`VARCHAR` for every column of a twin).
    pub types: Vec<String>,
    /// Every row's values, in row order.
    pub rows: Vec<Vec<Option<String>>>,
}

/// How a reading compares with the twin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TwinScore {
    /// Rows of the twin, and how many of them the reading holds with every value right.
    pub twin_rows: u64,
    /// Of the twin's rows, those the reading holds with every value right.
    pub rows_right: u64,
    /// Values of rows the reading holds that differ from the twin's: silent misreads.
    pub cells_misread: u64,
    /// Values a text column holds as the file wrote them where the twin has a number or a date
    /// (`21,5` for 21.5): not typed, but not misread either.
    pub cells_as_text: u64,
    /// Rows the reading holds that the twin has not (a title, a total read as data).
    pub rows_extra: u64,
    /// The reading's column names are the twin's.
    pub header_right: bool,
    /// Columns the reading gave a type other than text, and its columns.
    pub typed: u64,
    /// The reading's columns.
    pub columns: u64,
}

impl std::ops::AddAssign for TwinScore {
    fn add_assign(&mut self, other: Self) {
        self.twin_rows += other.twin_rows;
        self.rows_right += other.rows_right;
        self.cells_misread += other.cells_misread;
        self.cells_as_text += other.cells_as_text;
        self.rows_extra += other.rows_extra;
        self.typed += other.typed;
        self.columns += other.columns;
    }
}

/// Rows of the twin looked ahead through for the one a read row is: the rows a reading dropped
/// (failed rows) are skipped over that way.
const LOOK_AHEAD_ROWS: usize = 64;

/// Every value of `table` as DuckDB writes it as text, in row order.
pub fn read_table(conn: &duckdb::Connection, table: &str) -> duckdb::Result<TableText> {
    let mut describe = conn.prepare(&format!("DESCRIBE {}", quote_ident(table)))?;
    let described = describe
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let (columns, types): (Vec<String>, Vec<String>) = described.into_iter().unzip();
    if columns.is_empty() {
        return Ok(TableText::default());
    }
    let select: Vec<String> = columns
        .iter()
        .map(|name| format!("CAST({} AS VARCHAR)", quote_ident(name)))
        .collect();
    let mut statement = conn.prepare(&format!(
        "SELECT {} FROM {} ORDER BY rowid",
        select.join(", "),
        quote_ident(table)
    ))?;
    let width = columns.len();
    let rows = statement
        .query_map([], |row| {
            (0..width)
                .map(|index| row.get::<_, Option<String>>(index))
                .collect::<Result<Vec<_>, _>>()
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TableText { columns, types, rows })
}

/// A twin file: its header and rows, an empty field as NULL.
pub fn read_twin(path: &Path) -> Result<TableText, csv::Error> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
    let columns: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(
            record
                .iter()
                .map(|value| (!value.is_empty()).then(|| value.to_string()))
                .collect(),
        );
    }
    Ok(TableText {
        types: vec!["VARCHAR".to_string(); columns.len()],
        columns,
        rows,
    })
}

/// Scores `read` against `twin`. Each read row is matched to the next twin row it equals
/// (within [`LOOK_AHEAD_ROWS`]); one that equals none is a misread of the next twin row when at
/// least half of its values agree with it, and an extra row otherwise.
pub fn score_against_twin(read: &TableText, twin: &TableText) -> TwinScore {
    let mut score = TwinScore {
        twin_rows: twin.rows.len() as u64,
        header_right: read.columns.len() == twin.columns.len()
            && read
                .columns
                .iter()
                .zip(&twin.columns)
                .all(|(read, twin)| read.trim() == twin.trim()),
        typed: read.types.iter().filter(|name| !is_text_type(name)).count() as u64,
        columns: read.columns.len() as u64,
        ..TwinScore::default()
    };
    let text_columns: Vec<bool> = read.types.iter().map(|name| is_text_type(name)).collect();
    let mut next = 0;
    for row in &read.rows {
        let ahead = twin.rows.len().min(next + LOOK_AHEAD_ROWS);
        if let Some(found) = (next..ahead).find(|&index| differing_cells(row, &twin.rows[index]).is_empty()) {
            score.rows_right += 1;
            next = found + 1;
            continue;
        }
        match twin.rows.get(next) {
            Some(expected) if differing_cells(row, expected).len() * 2 <= expected.len().max(row.len()) => {
                for index in differing_cells(row, expected) {
                    let read_value = row.get(index).and_then(Option::as_deref);
                    let twin_value = expected.get(index).and_then(Option::as_deref);
                    if text_columns.get(index) == Some(&true) && written_as_text(read_value, twin_value) {
                        score.cells_as_text += 1;
                    } else {
                        score.cells_misread += 1;
                    }
                }
                next += 1;
            }
            _ => score.rows_extra += 1,
        }
    }
    score
}

/// Whether a text value is the twin's number or date as the file wrote it: the same digits in
/// the same order (`21,5` and `21.5`, `15.03.2024` and `2024-03-15` are not: only the first).
fn written_as_text(read: Option<&str>, twin: Option<&str>) -> bool {
    let digits = |text: &str| -> String { text.chars().filter(char::is_ascii_digit).collect() };
    match (read, twin) {
        (Some(read), Some(twin)) => {
            let twin_is_typed = twin.parse::<f64>().is_ok() || twin.bytes().filter(|b| *b == b'-').count() == 2;
            twin_is_typed && !digits(twin).is_empty() && digits(read) == digits(twin)
        }
        _ => false,
    }
}

fn is_text_type(name: &str) -> bool {
    name.eq_ignore_ascii_case("VARCHAR") || name.eq_ignore_ascii_case("TEXT")
}

/// The positions where two rows' values differ; a value one row lacks counts too.
fn differing_cells(read: &[Option<String>], twin: &[Option<String>]) -> Vec<usize> {
    (0..read.len().max(twin.len()))
        .filter(|&index| {
            let read = read.get(index).and_then(Option::as_deref);
            let twin = twin.get(index).and_then(Option::as_deref);
            !same_value(read, twin)
        })
        .collect()
}

/// Whether a read value means what the twin's does: the same text, the same number however
/// written (`2.0` and `2`), or a date at midnight read as a timestamp. An empty string counts as
/// NULL, which a twin cannot tell apart.
pub fn same_value(read: Option<&str>, twin: Option<&str>) -> bool {
    let read = read.filter(|value| !value.is_empty());
    match (read, twin) {
        (None, None) => true,
        (Some(read), Some(twin)) => {
            let (read, twin) = (read.trim(), twin.trim());
            if read == twin || read.strip_suffix(" 00:00:00") == Some(twin) {
                return true;
            }
            match (read.parse::<f64>(), twin.parse::<f64>()) {
                (Ok(read), Ok(twin)) => {
                    (read.is_nan() && twin.is_nan())
                        || read == twin
                        || (read - twin).abs() <= 1e-9 * twin.abs().max(1.0)
                }
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
        values.iter().map(|value| value.map(str::to_string)).collect()
    }

    fn table(columns: &[&str], types: &[&str], rows: Vec<Vec<Option<String>>>) -> TableText {
        TableText {
            columns: columns.iter().map(|name| name.to_string()).collect(),
            types: types.iter().map(|name| name.to_string()).collect(),
            rows,
        }
    }

    #[test]
    fn values_are_the_same_when_they_mean_the_same() {
        assert!(same_value(Some("2.0"), Some("2")));
        assert!(same_value(Some("2024-03-15 00:00:00"), Some("2024-03-15")));
        assert!(same_value(Some(""), None));
        assert!(same_value(None, None));
        assert!(!same_value(Some("75775"), Some("75.775")));
        assert!(!same_value(None, Some("0")));
        assert!(!same_value(Some("abc"), Some("abd")));
    }

    #[test]
    fn dropped_rows_are_skipped_over_misreads_counted_and_extra_rows_told_apart() {
        let twin = table(
            &["id", "amount"],
            &["VARCHAR", "VARCHAR"],
            vec![
                row(&[Some("1"), Some("75.775")]),
                row(&[Some("2"), Some("1.5")]),
                row(&[Some("3"), Some("2")]),
                row(&[Some("4"), None]),
            ],
        );
        let read = table(
            &["id", "amount"],
            &["BIGINT", "DOUBLE"],
            vec![
                // Misread: 1000 times too large.
                row(&[Some("1"), Some("75775.0")]),
                // Row 2 failed and is not here.
                row(&[Some("3"), Some("2.0")]),
                row(&[Some("Total"), Some("9999")]),
                row(&[Some("4"), None]),
            ],
        );
        let score = score_against_twin(&read, &twin);
        assert_eq!(
            score,
            TwinScore {
                twin_rows: 4,
                rows_right: 2,
                cells_misread: 1,
                cells_as_text: 0,
                rows_extra: 1,
                header_right: true,
                typed: 2,
                columns: 2,
            }
        );
        let renamed = table(&["amount", "id"], &["VARCHAR", "VARCHAR"], Vec::new());
        assert!(!score_against_twin(&renamed, &twin).header_right);
        // A number kept as the text the file wrote is untyped, not misread.
        let as_text = table(
            &["id", "amount"],
            &["BIGINT", "VARCHAR"],
            vec![row(&[Some("1"), Some("75,775")])],
        );
        let score = score_against_twin(&as_text, &twin);
        assert_eq!((score.cells_as_text, score.cells_misread), (1, 0));
    }
}
