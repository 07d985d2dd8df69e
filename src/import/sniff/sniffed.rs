//! What a sniff found: how the file is read (its format, compression, encoding, dialect and
//! layout), its columns with their names and guessed types, a preview, and what it noticed. The
//! sniffer (`sniffer.rs`) makes one; the plan, the window and the command line read it.

use std::path::PathBuf;

use crate::import::open::encoding::{EncodingEvidence, SourceEncoding};
use crate::import::open::input_formats::{Compression, InputFormat};
use crate::import::open::source::{SheetInfo, SourceError};
use crate::import::read::record_reader::Dialect;
use crate::import::sniff::layout::LayoutChoice;
use crate::import::sniff::table_end::TableBreak;
use crate::import::sniff::type_guess::ColumnGuess;
use crate::import::sniff::types::ColumnType;

/// Everything learned about a file before importing it.
#[derive(Clone, Debug)]
pub struct Sniffed {
    /// The file sniffed.
    pub path: PathBuf,
    /// Packed bytes to read (the file's size, or its one member's in a zip): what progress is
    /// measured against.
    pub bytes_total: u64,
    /// What the file holds, which chose its reader.
    pub format: InputFormat,
    /// How a delimited text's bytes are packed (gzip, zstd, a one-file zip), told by its first
    /// bytes.
    pub compression: Compression,
    /// The text encoding the file is read in, and the byte order mark it starts with.
    pub encoding: SourceEncoding,
    /// Why that encoding, and how sure it is.
    pub encoding_evidence: EncodingEvidence,
    /// The delimiter, quote and escape the records are split by.
    pub dialect: Dialect,
    /// The table starts with a header of column names.
    pub has_header: bool,
    /// Header fields as written in the file (empty without a header).
    pub raw_headers: Vec<String>,
    /// Clean, unique column names, one per field of a well-formed record.
    pub columns: Vec<String>,
    /// Inferred types, one per column.
    pub column_types: Vec<ColumnType>,
    /// What was inferred of each column: type, format, and the sampled values that do not fit.
    pub column_guesses: Vec<ColumnGuess>,
    /// The first data records, as text, for previews.
    pub preview: Vec<Vec<String>>,
    /// Records above the header (or above the data, without one) that are not part of the
    /// table: skipped and counted by the import.
    pub skip_records: usize,
    /// The first records skipped, as text, for showing what was skipped.
    pub skipped_preview: Vec<Vec<String>>,
    /// Rows of the table read, when it ends where another table starts (given, or seen in the
    /// sample); the records after them are skipped as below the table.
    pub table_rows: Option<u64>,
    /// Every row ends with a delimiter (an always-empty last field), which is not a column.
    pub trailing_delimiter: bool,
    /// Fields before that one with no name in the header and no value in any sampled row
    /// (a header ending `,,,,` over rows ending the same way): left out, as it is.
    pub unnamed_empty_columns: usize,
    /// The header names columns no row fills (the export left them empty): rows shorter than
    /// the header are read with NULL in the fields they lack.
    pub pad_short_rows: bool,
    /// The layout read (lines skipped, header lines, width) with its score, and the runner-up.
    pub layout: LayoutChoice,
    /// What was done to a header whose field count did not match the rows', in words.
    pub header_repair: Option<String>,
    /// Null markers the file's writer evidently writes bare for NULL and quotes as text (see
    /// `null_convention`): read as if they were stated.
    pub null_convention: Vec<String>,
    /// The comment prefix in force (given or detected).
    pub comment: Option<u8>,
    /// The prefix was detected, not given: a line starting with it is then a comment only when
    /// it does not have the table's width (a `#N/A` or `#REF!` in a full row is data).
    pub comment_detected: bool,
    /// Records the header takes: 1, or 2 when a line of units or years under it was joined in.
    pub header_lines: usize,
    /// The header's first line as written (before lines were joined or names cleaned): a data
    /// line equal to it is the header repeated.
    pub header_line: Vec<String>,
    /// Lines in the sample that are not data: totals, the header again, a second table's header.
    pub breaks: Vec<TableBreak>,
    /// The file has total lines under its data; the validator fails lines labelled as one.
    pub summary_rows: bool,
    /// A workbook's sheets, and the one read; empty and `None` for a text file.
    pub sheets: Vec<SheetInfo>,
    /// The sheet read, for a workbook.
    pub sheet: Option<String>,
    /// The sheet's columns read, when only some are (a table beside another).
    pub sheet_columns: Option<crate::import::ColumnSpan>,
}

impl Sniffed {
    /// Fields at the end of a row that are no column: the trailing delimiter's and the unnamed
    /// empty ones before it.
    pub fn trailing_fields(&self) -> usize {
        usize::from(self.trailing_delimiter) + self.unnamed_empty_columns
    }

    /// What is known of a file by its column names alone (a retry rebuilding an import's plan
    /// from what the job stored, a test): UTF-8, the default dialect, a header, no rows seen.
    pub fn of_columns(columns: &[String], column_types: Vec<ColumnType>) -> Self {
        Self {
            path: PathBuf::new(),
            bytes_total: 0,
            format: InputFormat::Delimited,
            compression: Compression::None,
            encoding: SourceEncoding {
                encoding: encoding_rs::UTF_8,
                bom_len: 0,
            },
            encoding_evidence: EncodingEvidence::Chosen,
            dialect: Dialect::default(),
            has_header: true,
            raw_headers: columns.to_vec(),
            columns: columns.to_vec(),
            column_guesses: vec![ColumnGuess::default(); column_types.len()],
            column_types,
            preview: Vec::new(),
            skip_records: 0,
            skipped_preview: Vec::new(),
            table_rows: None,
            trailing_delimiter: false,
            unnamed_empty_columns: 0,
            pad_short_rows: false,
            layout: LayoutChoice::default(),
            header_repair: None,
            null_convention: Vec::new(),
            comment: None,
            comment_detected: false,
            header_lines: 1,
            header_line: columns.to_vec(),
            breaks: Vec::new(),
            summary_rows: false,
            sheets: Vec::new(),
            sheet: None,
            sheet_columns: None,
        }
    }
}

/// Why a file cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum SniffError {
    /// The file could not be opened or read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The file holds no record to read.
    #[error("{path} is empty: it has no header and no rows")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A reader Sluice does not own (zip, zstd, calamine...) panicked on the file.
    #[error("cannot read {path}: its reader stopped unexpectedly ({message})")]
    ReaderStopped {
        /// The file.
        path: PathBuf,
        /// What the panic said.
        message: String,
    },
    /// The file's first lines run past the record size limit without ending, so it holds no
    /// readable records.
    #[error(
        "cannot read {path}: its line {line} runs past {} without ending, longer than any record \
         Sluice reads (is it a table?)", crate::format::mebibytes(*limit as u64)
    )]
    NoLineEnd {
        /// The file.
        path: PathBuf,
        /// The line that does not end, counted from 1.
        line: usize,
        /// The record size limit, in bytes.
        limit: usize,
    },
    /// The file has more columns than `MAX_COLUMNS`.
    #[error(
        "cannot import {path}: it has {} columns, more than the {} a table here may have \
         (a wide matrix imports best transposed, one row per cell)",
        crate::format::thousands(*columns as u64), crate::format::thousands(MAX_COLUMNS as u64)
    )]
    TooManyColumns {
        /// The file.
        path: PathBuf,
        /// The columns it has.
        columns: usize,
    },
}

/// The most columns a table gets: each column costs the import buffers of its own, so memory
/// grows with the width, and past this a wide file is refused rather than filling memory
/// (docs/troubleshooting.md, "Bombs and limits").
pub const MAX_COLUMNS: usize = 50_000;
