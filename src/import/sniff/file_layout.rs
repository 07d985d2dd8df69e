//! How a file is read, as one value: its format, encoding, dialect, where its table starts and
//! ends, its header, its comment lines, its columns with their types and formats, and the null
//! markers its writer uses. The sniff finds it, the plan reads by it, the window and the command
//! line show it, and the import job stores it, so a retry reads its failed rows as the import
//! read them, without sniffing the file again.

use std::path::PathBuf;

use crate::import::open::column_span::ColumnSpan;
use crate::import::open::encoding::SourceEncoding;
use crate::import::open::input_formats::InputFormat;
use crate::import::read::record_reader::Dialect;
use crate::import::sniff::type_guess::ColumnGuess;
use crate::import::sniff::types::ColumnType;

/// Everything that decides how a file's bytes become rows of fields, and what the fields are.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FileLayout {
    /// What the file holds, which chose its reader.
    pub format: InputFormat,
    /// The text encoding the file is read in, and the byte order mark it starts with.
    #[serde(with = "crate::import::sniff::spec_fields::source_encoding")]
    pub encoding: SourceEncoding,
    /// The encoding that would read bytes the file's encoding cannot, when the sniff knows one: a
    /// file kept in UTF-8 for its many good sequences may still hold a few Windows-1252 bytes.
    #[serde(default, with = "crate::import::sniff::spec_fields::encoding_name")]
    pub readable_in: Option<&'static encoding_rs::Encoding>,
    /// The delimiter, quote and escape the records are split by.
    pub dialect: Dialect,
    /// Lines starting with this byte are comments: skipped and counted.
    #[serde(default, with = "crate::import::sniff::spec_fields::byte_char")]
    pub comment: Option<u8>,
    /// The prefix was detected, not given: a line starting with it is then a comment only when
    /// it does not have the table's width (a `#N/A` or `#REF!` in a full row is data).
    #[serde(default)]
    pub comment_detected: bool,
    /// Records above the header (or above the data, without one) that are not part of the
    /// table: skipped and counted by the import.
    #[serde(default)]
    pub skip_records: usize,
    /// The table starts with a header of column names.
    pub has_header: bool,
    /// Records the header takes: 1, or 2 when a line of units or years under it was joined in.
    #[serde(default)]
    pub header_lines: usize,
    /// The header's first line as written (before lines were joined or names cleaned): a data
    /// line equal to it is the header repeated.
    #[serde(default)]
    pub header_line: Vec<String>,
    /// Rows of the table read, when it ends where another table starts (given, or seen in the
    /// sample); the records after them are skipped as below the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_rows: Option<u64>,
    /// The file has total lines under its data; the validator fails lines labelled as one.
    #[serde(default)]
    pub summary_rows: bool,
    /// Every row ends with a delimiter (an always-empty last field), which is not a column.
    #[serde(default)]
    pub trailing_delimiter: bool,
    /// Fields before that one with no name in the header and no value in any sampled row
    /// (a header ending `,,,,` over rows ending the same way): left out, as it is.
    #[serde(default)]
    pub unnamed_empty_columns: usize,
    /// The header names columns no row fills (the export left them empty): rows shorter than
    /// the header are read with NULL in the fields they lack.
    #[serde(default)]
    pub pad_short_rows: bool,
    /// Null markers the file's writer evidently writes bare for NULL and quotes as text (see
    /// `null_convention`): read as if they were stated.
    #[serde(default)]
    pub null_convention: Vec<String>,
    /// The sheet read, for a workbook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The sheet's columns read, when only some are (a table beside another).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet_columns: Option<ColumnSpan>,
    /// Header fields as written in the file (empty without a header): a schema may name a
    /// column by them.
    #[serde(default)]
    pub raw_headers: Vec<String>,
    /// Clean, unique column names, one per field of a well-formed record.
    pub columns: Vec<String>,
    /// The types the columns are imported as, one per column.
    pub column_types: Vec<ColumnType>,
    /// What was inferred of each column: type, how its values are written (dates, separators,
    /// null markers), and the sampled values that do not fit.
    #[serde(default)]
    pub column_guesses: Vec<ColumnGuess>,
}

impl FileLayout {
    /// A file known by its column names alone (a test, or a job stored before jobs kept their
    /// layouts): UTF-8, the default dialect, a header of those names, every column as `types`.
    pub fn of_columns(columns: &[String], column_types: Vec<ColumnType>) -> Self {
        Self {
            format: InputFormat::Delimited,
            encoding: SourceEncoding {
                encoding: encoding_rs::UTF_8,
                bom_len: 0,
            },
            readable_in: None,
            dialect: Dialect::default(),
            comment: None,
            comment_detected: false,
            skip_records: 0,
            has_header: true,
            header_lines: 1,
            header_line: columns.to_vec(),
            table_rows: None,
            summary_rows: false,
            trailing_delimiter: false,
            unnamed_empty_columns: 0,
            pad_short_rows: false,
            null_convention: Vec::new(),
            sheet: None,
            sheet_columns: None,
            raw_headers: columns.to_vec(),
            columns: columns.to_vec(),
            column_guesses: vec![ColumnGuess::default(); column_types.len()],
            column_types,
        }
    }

    /// Fields at the end of a row that are no column: the trailing delimiter's and the unnamed
    /// empty ones before it.
    pub fn trailing_fields(&self) -> usize {
        usize::from(self.trailing_delimiter) + self.unnamed_empty_columns
    }

    /// Records the header takes as the file is read: none without a header.
    pub fn header_records(&self) -> usize {
        if self.has_header { self.header_lines.max(1) } else { 0 }
    }

    /// The header's first line, which a data line repeats when the header is repeated: none
    /// without a header.
    pub fn repeated_header(&self) -> &[String] {
        if self.has_header { &self.header_line } else { &[] }
    }
}

/// Each file of an import with the layout it was read by, as the import job stores them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredLayouts {
    /// Each file, in the order read, with its layout.
    pub files: Vec<(PathBuf, FileLayout)>,
}

impl StoredLayouts {
    /// The layout `file` was read by, as failed rows name it (its path as displayed).
    pub fn of_file(&self, file: &str) -> Option<&FileLayout> {
        self.files
            .iter()
            .find(|(path, _)| path.display().to_string() == file)
            .map(|(_, layout)| layout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_reads_back_as_stored() {
        let mut layout = FileLayout::of_columns(
            &["id".into(), "name".into()],
            vec![ColumnType::BigInt, ColumnType::Varchar],
        );
        layout.encoding = SourceEncoding {
            encoding: encoding_rs::WINDOWS_1252,
            bom_len: 0,
        };
        layout.readable_in = Some(encoding_rs::WINDOWS_1252);
        layout.dialect.delimiter = b';';
        layout.comment = Some(b'#');
        layout.skip_records = 2;
        layout.table_rows = Some(40);
        layout.null_convention = vec!["NA".into()];
        layout.column_guesses[1].format.decimal_separator = Some(',');
        let stored = StoredLayouts {
            files: vec![("a.csv".into(), layout.clone())],
        };
        let json = serde_json::to_string(&stored).unwrap();
        let read: StoredLayouts = serde_json::from_str(&json).unwrap();
        assert_eq!(read, stored);
        assert_eq!(read.of_file("a.csv"), Some(&layout));
        assert_eq!(read.of_file("b.csv"), None);
    }

    #[test]
    fn only_a_header_takes_records_or_repeats() {
        let mut layout = FileLayout::of_columns(&["a".into()], vec![ColumnType::Varchar]);
        layout.header_lines = 2;
        assert_eq!(layout.header_records(), 2);
        assert_eq!(layout.repeated_header(), ["a"]);
        layout.has_header = false;
        assert_eq!(layout.header_records(), 0);
        assert!(layout.repeated_header().is_empty());
    }
}
