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
use crate::import::open::input_formats::{Compression, InputFormat};
use crate::import::open::packing::{CheckedMember, ZipError, peek_head, zip_member};

/// How many decoded bytes are looked at to guess the encoding.
const ENCODING_SAMPLE_BYTES: usize = 64 * 1024;

/// The text encoding of a source and how it was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceEncoding {
    /// The encoding the text is decoded from.
    pub encoding: &'static Encoding,
    /// Length of the byte order mark at the start of the (decompressed) stream, skipped on read.
    pub bom_len: usize,
}

impl SourceEncoding {
    /// The encoding's WHATWG name with "-BOM" when a byte order mark was present: "UTF-8-BOM".
    pub fn describe(&self) -> String {
        if self.bom_len > 0 {
            format!("{}-BOM", self.encoding.name())
        } else {
            self.encoding.name().to_string()
        }
    }
}

/// Why Sluice reads a file in the encoding it does, and how sure that is, for the preview.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodingEvidence {
    /// The person chose it.
    Chosen,
    /// Text that Sluice writes from a workbook, Parquet or JSON file, which store Unicode.
    Rendered,
    /// The stream starts with a byte order mark, which names its Unicode encoding.
    ByteOrderMark,
    /// Every other byte is zero, as in UTF-16 text without a byte order mark.
    Utf16Zeros,
    /// Every byte is ASCII, which UTF-8 and the legacy encodings read alike.
    Ascii,
    /// Every byte is valid UTF-8, and some are outside ASCII.
    ValidUtf8,
    /// UTF-8 with a few bytes that are not: their rows fail, naming `readable_in`, the legacy
    /// encoding the detector would read the file in.
    Utf8WithBadBytes {
        /// Bytes in the sample that are not valid UTF-8.
        bad_bytes: usize,
        /// The legacy encoding that would read them.
        readable_in: &'static Encoding,
    },
    /// A legacy encoding told by Firefox's detector from the bytes outside ASCII.
    Detected {
        /// Bytes outside ASCII in the sample: the detector's evidence.
        non_ascii_bytes: usize,
        /// The encoding told decodes the sample without a malformed sequence.
        reads_cleanly: bool,
    },
}

/// How sure an encoding's detection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// A detection from few bytes outside ASCII, or one that cannot read them all.
    Low,
    /// Told by the bytes with little room for doubt, but not proven.
    High,
    /// Chosen, stated by the file, or the only reading the bytes allow.
    Certain,
}

impl Confidence {
    /// The word for it in messages: "low", "high" or "certain".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::High => "high",
            Self::Certain => "certain",
        }
    }
}

/// Bytes outside ASCII a legacy encoding must read for its detection to be trusted: fewer are a
/// name or two, which several encodings read as plausible letters.
const TRUSTED_NON_ASCII_BYTES: usize = 16;

impl EncodingEvidence {
    /// How sure this evidence makes the encoding: a detection is trusted only when it read enough
    /// bytes outside ASCII, and all of them cleanly.
    pub fn confidence(&self) -> Confidence {
        match self {
            Self::Chosen | Self::Rendered | Self::ByteOrderMark | Self::Ascii | Self::ValidUtf8 => Confidence::Certain,
            Self::Utf16Zeros | Self::Utf8WithBadBytes { .. } => Confidence::High,
            Self::Detected {
                non_ascii_bytes,
                reads_cleanly,
            } => {
                if *reads_cleanly && *non_ascii_bytes >= TRUSTED_NON_ASCII_BYTES {
                    Confidence::High
                } else {
                    Confidence::Low
                }
            }
        }
    }

    /// Why, for people: "every byte is valid UTF-8".
    pub fn describe(&self) -> String {
        match self {
            Self::Chosen => "chosen".to_string(),
            Self::Rendered => "the file's format stores Unicode".to_string(),
            Self::ByteOrderMark => "the file starts with a byte order mark".to_string(),
            Self::Utf16Zeros => "every other byte is zero, as in UTF-16 text".to_string(),
            Self::Ascii => "every byte is ASCII, which every encoding offered here reads alike".to_string(),
            Self::ValidUtf8 => "every byte is valid UTF-8".to_string(),
            Self::Utf8WithBadBytes { bad_bytes, readable_in } => format!(
                "UTF-8 but for {bad_bytes} byte{} that {} not: their rows fail, and {} would read them",
                if *bad_bytes == 1 { "" } else { "s" },
                if *bad_bytes == 1 { "is" } else { "are" },
                readable_in.name()
            ),
            Self::Detected {
                non_ascii_bytes,
                reads_cleanly,
            } => {
                let told_by = format!(
                    "told by {non_ascii_bytes} byte{} outside ASCII",
                    if *non_ascii_bytes == 1 { "" } else { "s" }
                );
                match (self.confidence(), reads_cleanly) {
                    (Confidence::High, _) => told_by,
                    (_, false) => format!("{told_by}, some of which it cannot read: check the preview's text"),
                    _ => format!("only {told_by}: check the preview's text"),
                }
            }
        }
    }

    /// Confidence and reason in one line, as both front ends show it beside the encoding:
    /// "confidence high: told by 3,412 bytes outside ASCII".
    pub fn summary(&self) -> String {
        format!("confidence {}: {}", self.confidence().as_str(), self.describe())
    }

    /// The encoding that would read the bytes UTF-8 could not, when the file was kept UTF-8.
    pub fn readable_in(&self) -> Option<&'static Encoding> {
        match self {
            Self::Utf8WithBadBytes { readable_in, .. } => Some(readable_in),
            _ => None,
        }
    }
}

/// Every encoding a file can be read in, as offered to a person whose file was guessed wrong:
/// Unicode, Western, Central and Eastern European, Cyrillic, East Asian, then the rest. These are
/// all of `encoding_rs`'s but the two that decode nothing a file holds (`replacement`,
/// `x-user-defined`).
pub const SOURCE_ENCODINGS: [&Encoding; 38] = [
    encoding_rs::UTF_8,
    encoding_rs::UTF_16LE,
    encoding_rs::UTF_16BE,
    encoding_rs::WINDOWS_1252,
    encoding_rs::ISO_8859_15,
    encoding_rs::MACINTOSH,
    encoding_rs::WINDOWS_1250,
    encoding_rs::ISO_8859_2,
    encoding_rs::ISO_8859_3,
    encoding_rs::ISO_8859_4,
    encoding_rs::ISO_8859_10,
    encoding_rs::ISO_8859_13,
    encoding_rs::ISO_8859_14,
    encoding_rs::ISO_8859_16,
    encoding_rs::WINDOWS_1257,
    encoding_rs::WINDOWS_1251,
    encoding_rs::ISO_8859_5,
    encoding_rs::KOI8_R,
    encoding_rs::KOI8_U,
    encoding_rs::IBM866,
    encoding_rs::X_MAC_CYRILLIC,
    encoding_rs::BIG5,
    encoding_rs::GBK,
    encoding_rs::GB18030,
    encoding_rs::SHIFT_JIS,
    encoding_rs::EUC_JP,
    encoding_rs::ISO_2022_JP,
    encoding_rs::EUC_KR,
    encoding_rs::WINDOWS_1253,
    encoding_rs::ISO_8859_7,
    encoding_rs::WINDOWS_1254,
    encoding_rs::WINDOWS_1255,
    encoding_rs::ISO_8859_8,
    encoding_rs::ISO_8859_8_I,
    encoding_rs::WINDOWS_1256,
    encoding_rs::ISO_8859_6,
    encoding_rs::WINDOWS_1258,
    encoding_rs::WINDOWS_874,
];

/// Looks up an encoding by any WHATWG label ("utf-8", "latin1", "utf-16le", "cp1252", ...).
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes())
}

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
    let mut decompressed: Box<dyn Read + Send> = match (compression, member) {
        (Compression::Gzip, _) => Box::new(MultiGzDecoder::new(buffered)),
        (Compression::Zstd, _) => Box::new(zstd::stream::read::Decoder::with_buffer(buffered).map_err(read_error)?),
        (Compression::Zip, Some(member)) if member.deflated => {
            Box::new(CheckedMember::new(DeflateDecoder::new(buffered), &member))
        }
        (Compression::Zip, Some(member)) => Box::new(CheckedMember::new(buffered, &member)),
        _ => Box::new(buffered),
    };

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

/// Guesses the encoding of the start of a stream.
///
/// A byte order mark decides. Without one, a strong pattern of NUL bytes in every other position
/// means UTF-16. Text that is valid UTF-8, or that has valid multi-byte UTF-8 sequences among a
/// few bad bytes, is UTF-8 (the bad bytes then fail their rows), unless an East Asian encoding
/// reads it whole. Anything else is in a legacy
/// encoding, which Firefox's detector (`chardetng`) tells from the bytes: Windows-1252 for most
/// Western spreadsheet exports, Big5, Shift_JIS, GBK, EUC-KR, Windows-1250/1251 and the others
/// for the rest. The evidence says why, and how sure that is.
pub fn detect_encoding_with_evidence(sample: &[u8], sample_is_whole_file: bool) -> (SourceEncoding, EncodingEvidence) {
    let with_bom = |encoding, bom_len| SourceEncoding { encoding, bom_len };
    if sample.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return (with_bom(encoding_rs::UTF_8, 3), EncodingEvidence::ByteOrderMark);
    }
    if sample.starts_with(&[0xFF, 0xFE]) {
        return (with_bom(encoding_rs::UTF_16LE, 2), EncodingEvidence::ByteOrderMark);
    }
    if sample.starts_with(&[0xFE, 0xFF]) {
        return (with_bom(encoding_rs::UTF_16BE, 2), EncodingEvidence::ByteOrderMark);
    }
    if let Some(utf16) = utf16_without_bom(sample) {
        return (with_bom(utf16, 0), EncodingEvidence::Utf16Zeros);
    }
    let (valid_multibyte, invalid) = utf8_census(sample, sample_is_whole_file);
    if invalid == 0 {
        let evidence = if valid_multibyte == 0 {
            EncodingEvidence::Ascii
        } else {
            EncodingEvidence::ValidUtf8
        };
        return (with_bom(encoding_rs::UTF_8, 0), evidence);
    }
    let legacy = legacy_encoding(sample, sample_is_whole_file);
    let reads_cleanly = decodes_cleanly(legacy, sample, sample_is_whole_file);
    // A few bad bytes among UTF-8 text fail their rows. But the two-byte characters of East Asian
    // encodings make valid UTF-8 sequences now and then: text that such an encoding reads whole,
    // with more bad bytes for UTF-8 than good sequences, is in that encoding.
    let reads_as_east_asian = !legacy.is_single_byte() && valid_multibyte < invalid && reads_cleanly;
    if valid_multibyte > 0 && !reads_as_east_asian {
        let evidence = EncodingEvidence::Utf8WithBadBytes {
            bad_bytes: invalid,
            readable_in: legacy,
        };
        (with_bom(encoding_rs::UTF_8, 0), evidence)
    } else {
        let evidence = EncodingEvidence::Detected {
            non_ascii_bytes: sample.iter().filter(|byte| !byte.is_ascii()).count(),
            reads_cleanly,
        };
        (with_bom(legacy, 0), evidence)
    }
}

/// Whether `encoding` reads `sample` without a malformed sequence (one cut by the end of a
/// sample that is not the whole file aside).
fn decodes_cleanly(encoding: &'static Encoding, sample: &[u8], sample_is_whole_file: bool) -> bool {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let Some(capacity) = decoder.max_utf8_buffer_length_without_replacement(sample.len()) else {
        return false;
    };
    let mut decoded = vec![0u8; capacity];
    let (result, _, _) = decoder.decode_to_utf8_without_replacement(sample, &mut decoded, sample_is_whole_file);
    !matches!(result, encoding_rs::DecoderResult::Malformed(..))
}

/// The legacy encoding a sample that is not UTF-8 is most likely in.
/// The legacy encoding Firefox's detector reads `sample` in (never UTF-8).
pub(in crate::import) fn legacy_encoding(sample: &[u8], sample_is_whole_file: bool) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(sample, sample_is_whole_file);
    detector.guess(None, chardetng::Utf8Detection::Deny)
}

fn bom_length_for(sample: &[u8], encoding: &'static Encoding) -> usize {
    match Encoding::for_bom(sample) {
        Some((bom_encoding, length)) if bom_encoding == encoding => length,
        _ => 0,
    }
}

fn utf16_without_bom(sample: &[u8]) -> Option<&'static Encoding> {
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let zero_even = sample.iter().step_by(2).filter(|b| **b == 0).count();
    let zero_odd = sample.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    let mostly = |count: usize| count * 10 >= pairs * 4;
    let rarely = |count: usize| count * 20 <= pairs;
    if mostly(zero_odd) && rarely(zero_even) {
        Some(encoding_rs::UTF_16LE)
    } else if mostly(zero_even) && rarely(zero_odd) {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Counts valid multi-byte UTF-8 sequences and invalid bytes. An incomplete sequence at the very
/// end of a truncated sample is not held against it.
fn utf8_census(sample: &[u8], sample_is_whole_file: bool) -> (usize, usize) {
    let (mut valid_multibyte, mut invalid) = (0, 0);
    let mut rest = sample;
    loop {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                valid_multibyte += text.chars().filter(|c| c.len_utf8() > 1).count();
                break;
            }
            Err(error) => {
                let (good, bad) = rest.split_at(error.valid_up_to());
                valid_multibyte +=
                    std::str::from_utf8(good).map_or(0, |text| text.chars().filter(|c| c.len_utf8() > 1).count());
                match error.error_len() {
                    Some(length) => {
                        invalid += 1;
                        rest = &bad[length..];
                    }
                    None => {
                        invalid += usize::from(sample_is_whole_file);
                        break;
                    }
                }
            }
        }
    }
    (valid_multibyte, invalid)
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

    fn detect_encoding(sample: &[u8], sample_is_whole_file: bool) -> SourceEncoding {
        detect_encoding_with_evidence(sample, sample_is_whole_file).0
    }

    #[test]
    fn byte_order_marks_decide() {
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFa,b", true).bom_len, 3);
        assert_eq!(detect_encoding(b"\xFF\xFEa\0", true).encoding, encoding_rs::UTF_16LE);
        assert_eq!(detect_encoding(b"\xFE\xFF\0a", true).encoding, encoding_rs::UTF_16BE);
    }

    #[test]
    fn nul_patterns_mean_utf16() {
        assert_eq!(detect_encoding(b"a\0,\0b\0\n\0", true).encoding, encoding_rs::UTF_16LE);
        assert_eq!(detect_encoding(b"\0a\0,\0b\0\n", true).encoding, encoding_rs::UTF_16BE);
        assert_eq!(detect_encoding(b"a,b\n\0,2,3\n", true).encoding, encoding_rs::UTF_8);
    }

    #[test]
    fn latin1_bytes_without_utf8_sequences_mean_windows_1252() {
        assert_eq!(detect_encoding(b"caf\xe9\n", true).encoding, encoding_rs::WINDOWS_1252);
        assert_eq!(detect_encoding("café\n".as_bytes(), true).encoding, encoding_rs::UTF_8);
        // Mostly UTF-8 with one stray byte: the stray byte fails its row later.
        assert_eq!(
            detect_encoding(b"caf\xc3\xa9,\xff\n", true).encoding,
            encoding_rs::UTF_8
        );
    }

    #[test]
    fn every_encoding_a_file_can_be_in_is_offered_once() {
        let names: std::collections::HashSet<&str> = SOURCE_ENCODINGS.iter().map(|encoding| encoding.name()).collect();
        assert_eq!(names.len(), SOURCE_ENCODINGS.len());
        for label in [
            "big5",
            "shift_jis",
            "euc-kr",
            "gb18030",
            "windows-1251",
            "koi8-r",
            "iso-8859-2",
            "macintosh",
        ] {
            let encoding = encoding_for_label(label).unwrap();
            assert!(SOURCE_ENCODINGS.contains(&encoding), "{label}");
        }
        assert!(!SOURCE_ENCODINGS.contains(&encoding_rs::REPLACEMENT));
    }

    #[test]
    fn legacy_encodings_of_east_asia_and_eastern_europe_are_told_from_the_bytes() {
        let tables = [
            (
                encoding_rs::BIG5,
                "姓名,地址,電話\n王小明,臺北市中正區重慶南路一段,02-2311-1234\n李大華,高雄市前鎮區中華五路,07-536-5678\n",
            ),
            (
                encoding_rs::SHIFT_JIS,
                "名前,住所,電話\n山田太郎,東京都千代田区丸の内,03-1234-5678\n鈴木花子,大阪府大阪市北区梅田,06-9876-5432\n",
            ),
            (
                encoding_rs::GBK,
                "姓名,地址,电话\n张伟,北京市海淀区中关村大街,010-6275-1234\n王芳,上海市浦东新区世纪大道,021-5888-5678\n",
            ),
            (
                encoding_rs::EUC_KR,
                "이름,주소,전화\n김철수,서울특별시 강남구 테헤란로,02-555-1234\n이영희,부산광역시 해운대구 우동,051-740-5678\n",
            ),
            (
                encoding_rs::WINDOWS_1251,
                "Фамилия,Город,Улица\nИванов Иван,Москва,Тверская улица\nПетрова Мария,Санкт-Петербург,Невский проспект\n",
            ),
            (
                encoding_rs::WINDOWS_1250,
                "Příjmení,Město,Ulice\nNovák Jiří,Praha,Václavské náměstí\nDvořáková Žofie,Brno,Náměstí Svobody\n",
            ),
        ];
        for (encoding, text) in tables {
            let text = text.repeat(8);
            let (bytes, _, unmappable) = encoding.encode(&text);
            assert!(!unmappable, "{}", encoding.name());
            let detected = detect_encoding(&bytes, true).encoding;
            // What counts is that the text reads back as written.
            let (decoded, _, malformed) = detected.decode(&bytes);
            assert!(
                !malformed && decoded == text,
                "{} detected as {}",
                encoding.name(),
                detected.name()
            );
        }
    }

    #[test]
    fn the_evidence_for_an_encoding_says_how_sure_it_is_and_what_would_read_bad_bytes() {
        let evidence = |bytes: &[u8]| detect_encoding_with_evidence(bytes, true).1;
        assert_eq!(evidence(b"a,b\n1,2\n"), EncodingEvidence::Ascii);
        assert_eq!(evidence("a,é\n".as_bytes()).confidence(), Confidence::Certain);
        assert_eq!(evidence(b"\xFF\xFEa\0"), EncodingEvidence::ByteOrderMark);
        // Many good UTF-8 sequences and one Windows-1252 byte: kept UTF-8, naming what reads it.
        let kept = evidence(b"caf\xc3\xa9,cr\xc3\xa8me,na\xc3\xafve,\xe9\n");
        assert_eq!(kept.readable_in(), Some(encoding_rs::WINDOWS_1252));
        assert_eq!(kept.confidence(), Confidence::High);
        // One accented name is too little to tell Windows-1252 from its neighbours for sure.
        let one_name = evidence(b"name\nRen\xe9\n");
        assert_eq!(one_name.confidence(), Confidence::Low);
        assert!(
            one_name
                .summary()
                .starts_with("confidence low: only told by 1 byte outside ASCII"),
            "{}",
            one_name.summary()
        );
        // A whole register in Big5 is told for sure.
        let register = "王小明,臺北市中正區重慶南路一段\n".repeat(8);
        let (bytes, _, _) = encoding_rs::BIG5.encode(&register);
        let big5 = detect_encoding_with_evidence(&bytes, true);
        assert_eq!(big5.0.encoding, encoding_rs::BIG5);
        assert_eq!(big5.1.confidence(), Confidence::High);
        assert_eq!(big5.1.readable_in(), None);
    }

    #[test]
    fn a_sequence_cut_by_the_sample_end_is_not_invalid() {
        let text = "é".repeat(10);
        let cut = &text.as_bytes()[..text.len() - 1];
        assert_eq!(detect_encoding(cut, false).encoding, encoding_rs::UTF_8);
    }

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
