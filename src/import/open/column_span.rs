//! Columns of a sheet named as a spreadsheet names them (`F:K`): the part of a sheet a person
//! chose to read as the table, kept in hints and the stored job as the letters they typed.

use serde::{Deserialize, Serialize};

/// Columns of a sheet read as the table, both ends included, counted from 0 (column A).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ColumnSpan {
    /// The leftmost column read.
    pub first: u32,
    /// The rightmost column read: `first` itself, for one column.
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

    /// Whether sheet column `column` (counted from 0) is one of the span's.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
