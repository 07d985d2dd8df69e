//! What a sniff found: how the file is read (its format, compression, encoding, dialect and
//! layout), its columns with their names and guessed types, a preview, and what it noticed. The
//! sniffer (`sniffer.rs`) makes one; the plan, the window and the command line read it.

use std::path::PathBuf;

use crate::import::open::encoding::EncodingEvidence;
use crate::import::open::input_formats::Compression;
use crate::import::open::source::{SheetInfo, SourceError};
use crate::import::sniff::file_layout::FileLayout;
use crate::import::sniff::layout::LayoutChoice;
use crate::import::sniff::table_end::TableBreak;

/// Everything learned about a file before importing it: how it is read, and the evidence for it.
#[derive(Clone, Debug)]
pub struct Sniffed {
    /// The file sniffed.
    pub path: PathBuf,
    /// Packed bytes to read (the file's size, or its one member's in a zip): what progress is
    /// measured against.
    pub bytes_total: u64,
    /// How a delimited text's bytes are packed (gzip, zstd, a one-file zip), told by its first
    /// bytes.
    pub compression: Compression,
    /// How the file is read: format, encoding, dialect, header, comment, columns and formats.
    pub layout: FileLayout,
    /// Why that encoding, and how sure it is.
    pub encoding_evidence: EncodingEvidence,
    /// The first data records, as text, for previews.
    pub preview: Vec<Vec<String>>,
    /// The first records skipped, as text, for showing what was skipped.
    pub skipped_preview: Vec<Vec<String>>,
    /// The layout read (lines skipped, header lines, width) with its score, and the runner-up.
    pub layout_choice: LayoutChoice,
    /// What was done to a header whose field count did not match the rows', in words.
    pub header_repair: Option<String>,
    /// Lines in the sample that are not data: totals, the header again, a second table's header.
    pub breaks: Vec<TableBreak>,
    /// A workbook's sheets, and the one read; empty for a text file.
    pub sheets: Vec<SheetInfo>,
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
