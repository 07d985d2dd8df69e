//! Opening a delimited text as a stream of text: its compression (gzip, zstd, a one-file zip) is
//! recognised by its first bytes (`input_formats`), the encoding by its byte order mark or by the
//! bytes themselves, and the packed bytes consumed are counted so progress is true for packed
//! input too.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use encoding_rs::Encoding;
use flate2::read::{DeflateDecoder, MultiGzDecoder};

use crate::import::open::decode::{MalformedLog, TranscodingReader};
use crate::import::open::encoding::{
    ENCODING_SAMPLE_BYTES, EncodingEvidence, SourceEncoding, bom_length_for, detect_encoding_with_evidence,
};
use crate::import::open::input_formats::{Compression, InputFormat};
use crate::import::open::packing::{CheckedMember, ZipError, peek_head, zip_member};

/// An opened input: a UTF-8 byte stream plus what is known about where it came from.
pub struct TextSource {
    pub reader: Box<dyn Read + Send>,
    pub encoding: SourceEncoding,
    pub encoding_evidence: EncodingEvidence,
    /// What the input holds, which chose its reader.
    pub format: InputFormat,
    /// How a delimited text's bytes were packed, told by its first bytes.
    pub compression: Compression,
    /// Packed bytes to read (the file's size, or its one member's in a zip); progress is
    /// measured against it.
    pub bytes_total: u64,
    /// Packed bytes consumed so far, updated as they are read.
    pub bytes_read: Arc<AtomicU64>,
    /// Bad-byte positions, for encodings that are transcoded; `None` for UTF-8 passthrough.
    pub malformed: Option<Arc<MalformedLog>>,
    /// Lines of a rendered input (JSON) that could not be read, for the parser to fail.
    pub rejects: Option<Arc<RejectLog>>,
    /// The number of the first line: 1, or 0 when that line is a header Sluice wrote for an
    /// input that has none of its own (Parquet, JSON), so the input's rows keep their numbers.
    pub first_line: u64,
    /// A workbook's sheets, and the one read; empty and `None` for a text file.
    pub sheets: Vec<SheetInfo>,
    pub sheet: Option<String>,
    /// The sheet column a rendered row's first field is, known once its first line is read.
    pub sheet_first_column: Option<Arc<AtomicU32>>,
}

/// One of an import's files, as it is opened to be read (and read again).
#[derive(Clone, Debug)]
pub struct FileToRead {
    pub path: PathBuf,
    /// How the job names it, in failed rows and the source column.
    pub label: std::sync::Arc<str>,
    pub encoding: &'static Encoding,
    /// The sheet read, for a workbook, and its columns read when not all are.
    pub sheet: Option<String>,
    pub columns: Option<crate::import::ColumnSpan>,
}

/// Errors opening or reading a source file.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be opened, or its size not read.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The error opening it.
        source: io::Error,
    },
    /// The file's bytes could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error reading it.
        source: io::Error,
    },
    /// The file is a zip archive whose one file cannot be read.
    #[error("cannot read the zip {path}: {source}")]
    Zip {
        /// The archive.
        path: PathBuf,
        /// What is wrong with it.
        source: ZipError,
    },
    /// The file is a workbook, and it or its sheet cannot be read.
    #[error(transparent)]
    Workbook(#[from] WorkbookError),
    /// Columns of a sheet were asked for, but the file is text, which is read whole.
    #[error("{path} is no workbook: only a sheet is read by its columns ({columns})")]
    ColumnsOfText {
        /// The file.
        path: PathBuf,
        /// The columns asked for.
        columns: crate::import::ColumnSpan,
    },
}

/// Opens delimited text at `path`, decompressing and transcoding as needed. `encoding`
/// overrides detection.
pub(in crate::import) fn open_delimited(
    path: &Path,
    encoding: Option<&'static Encoding>,
) -> Result<TextSource, SourceError> {
    let Unpacked {
        reader: mut decompressed,
        compression,
        bytes_total,
        bytes_read,
    } = unpack(path)?;

    let mut sample = Vec::with_capacity(ENCODING_SAMPLE_BYTES);
    (&mut decompressed)
        .take(ENCODING_SAMPLE_BYTES as u64)
        .read_to_end(&mut sample)
        .map_err(|source| SourceError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let sample_is_whole_file = sample.len() < ENCODING_SAMPLE_BYTES;
    let (encoding, encoding_evidence) = match encoding {
        Some(chosen) => (
            SourceEncoding {
                encoding: chosen,
                bom_len: bom_length_for(&sample, chosen),
            },
            EncodingEvidence::Chosen,
        ),
        None => detect_encoding_with_evidence(&sample, sample_is_whole_file),
    };
    let bom_len = encoding.bom_len;
    let rest = Cursor::new(sample).chain(decompressed);
    let mut rest: Box<dyn Read + Send> = Box::new(rest);
    io::copy(&mut (&mut rest).take(bom_len as u64), &mut io::sink()).map_err(|source| SourceError::Read {
        path: path.to_path_buf(),
        source,
    })?;

    let (reader, malformed): (Box<dyn Read + Send>, _) = if encoding.encoding == encoding_rs::UTF_8 {
        (rest, None)
    } else {
        let log = Arc::new(MalformedLog::default());
        let transcoded = TranscodingReader::new(rest, encoding.encoding, log.clone());
        (Box::new(transcoded), Some(log))
    };
    Ok(TextSource {
        reader,
        encoding,
        encoding_evidence,
        format: InputFormat::Delimited,
        compression,
        bytes_total,
        bytes_read,
        malformed,
        rejects: None,
        first_line: 1,
        sheets: Vec::new(),
        sheet: None,
        sheet_first_column: None,
    })
}

/// A file's bytes as its compression unpacks them, with the packed bytes to read and a count
/// of those read so far, for progress.
struct Unpacked {
    reader: Box<dyn Read + Send>,
    compression: Compression,
    bytes_total: u64,
    bytes_read: Arc<AtomicU64>,
}

/// Opens `path` and unpacks it as its first bytes say: gzip, zstd, a zip's one member (checked
/// against the archive's checksum and size), or plain.
fn unpack(path: &Path) -> Result<Unpacked, SourceError> {
    let open_error = |source| SourceError::Open {
        path: path.to_path_buf(),
        source,
    };
    let read_error = |source| SourceError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(open_error)?;
    let file_len = file.metadata().map_err(open_error)?.len();
    let compression = Compression::of(&peek_head(&mut file).map_err(read_error)?);
    let (member, bytes_total) = match compression {
        Compression::Zip => {
            let member = zip_member(path).map_err(|source| SourceError::Zip {
                path: path.to_path_buf(),
                source,
            })?;
            file.seek(SeekFrom::Start(member.data_start)).map_err(read_error)?;
            let len = member.packed_len;
            (Some(member), len)
        }
        _ => (None, file_len),
    };
    let bytes_read = Arc::new(AtomicU64::new(0));
    let counted = CountingReader {
        inner: file,
        count: bytes_read.clone(),
    };
    let buffered = BufReader::with_capacity(256 * 1024, counted.take(bytes_total));
    let reader: Box<dyn Read + Send> = match (compression, member) {
        (Compression::Gzip, _) => Box::new(MultiGzDecoder::new(buffered)),
        (Compression::Zstd, _) => Box::new(zstd::stream::read::Decoder::with_buffer(buffered).map_err(read_error)?),
        (Compression::Zip, Some(member)) if member.deflated => {
            Box::new(CheckedMember::new(DeflateDecoder::new(buffered), &member))
        }
        (Compression::Zip, Some(member)) => Box::new(CheckedMember::new(buffered, &member)),
        _ => Box::new(buffered),
    };
    Ok(Unpacked {
        reader,
        compression,
        bytes_total,
        bytes_read,
    })
}

/// Counts bytes as they are read from the file, for progress.
struct CountingReader {
    inner: File,
    count: Arc<AtomicU64>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.count.fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

/// Lines of the input that could not be rendered, by where their empty record starts in the
/// rendered text. The parser takes them in order, so the log holds only the ones not yet read.
#[derive(Debug, Default)]
pub struct RejectLog {
    pub(in crate::import) entries: Mutex<VecDeque<Rejected>>,
}

/// A line of the input that could not be rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Where its empty record starts in the rendered text.
    pub offset: u64,
    /// The line as it was.
    pub raw: String,
    /// Why it could not be read, for people.
    pub reason: String,
}

impl RejectLog {
    pub(in crate::import) fn record(&self, rejected: Rejected) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.push_back(rejected);
        }
    }

    /// The rejected line whose record starts at `offset`, if that record is one.
    pub fn take_at(&self, offset: u64) -> Option<Rejected> {
        let mut entries = self.entries.lock().ok()?;
        while entries.front().is_some_and(|entry| entry.offset < offset) {
            entries.pop_front();
        }
        entries
            .front()
            .is_some_and(|entry| entry.offset == offset)
            .then(|| entries.pop_front())
            .flatten()
    }
}

/// Why a workbook or its sheet cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    /// The workbook could not be opened, its reader stopped on it, or the sheet's reader could not
    /// start.
    #[error("cannot read the workbook {path}: {message}")]
    Open {
        /// The workbook.
        path: PathBuf,
        /// What went wrong, in words.
        message: String,
    },
    /// The sheet asked for is not in the workbook, in any case.
    #[error("{path} has no sheet '{sheet}'; its sheets: {sheets}")]
    NoSuchSheet {
        /// The workbook.
        path: PathBuf,
        /// The sheet's name as asked for.
        sheet: String,
        /// The workbook's sheet names, joined with commas.
        sheets: String,
    },
    /// The workbook has no sheet to read.
    #[error("{path} has no sheets")]
    NoSheets {
        /// The workbook.
        path: PathBuf,
    },
}

/// A sheet of a workbook as a person picks it: its name, how big it is and whether it is hidden,
/// so the sheet with the data stands out from a cover page or a lookup list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetInfo {
    /// The sheet's name in the workbook.
    pub name: String,
    /// Rows and columns from the sheet's first filled cell to its last, as the workbook says;
    /// `None` when it does not say (a chart sheet, an `.xlsx` written without its dimension).
    pub size: Option<(u64, u64)>,
    /// The workbook hides the sheet.
    pub hidden: bool,
}

impl SheetInfo {
    /// The sheet as a picker lists it: `Data · 8,544 rows × 12 columns`.
    pub fn describe(&self) -> String {
        let mut text = self.name.clone();
        match self.size {
            Some((0, _)) => text.push_str(" · empty"),
            Some((rows, columns)) => text.push_str(&format!(
                " · {} {} × {} {}",
                crate::format::thousands(rows),
                if rows == 1 { "row" } else { "rows" },
                crate::format::thousands(columns),
                if columns == 1 { "column" } else { "columns" }
            )),
            None => text.push_str(" · size not stated"),
        }
        if self.hidden {
            text.push_str(" (hidden)");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::open::opener::open_text;

    #[test]
    fn a_text_file_asked_for_a_sheets_columns_is_refused_not_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.csv");
        std::fs::write(&path, "a,b\n1,2\n").unwrap();
        let columns = crate::import::ColumnSpan::parse("B:C").ok();
        let refused = open_text(&path, None, None, columns)
            .err()
            .map(|error| error.to_string());
        assert!(
            refused
                .as_deref()
                .is_some_and(|said| said.ends_with("is no workbook: only a sheet is read by its columns (B:C)")),
            "{refused:?}"
        );
    }

    #[test]
    fn opens_gzip_by_magic_bytes_and_strips_the_bom() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.txt");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"\xEF\xBB\xBFa,b\n1,2\n").unwrap();
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        let mut source = open_text(&path, None, None, None).unwrap();
        assert_eq!(source.compression, Compression::Gzip);
        let mut text = String::new();
        source.reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "a,b\n1,2\n");
        assert_eq!(source.bytes_read.load(Ordering::Relaxed), source.bytes_total);
    }
}
