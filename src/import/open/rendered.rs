//! Inputs that are not text (workbooks, Parquet, newline-delimited JSON) reach the import as CSV
//! text that Sluice writes itself, on a thread of its own, through a bounded channel: the import
//! then applies to them every rule and every count it applies to a CSV, and memory stays flat.
//!
//! A line of the input that cannot be rendered (JSON that does not parse) is still a line: it is
//! written as an empty record and noted in a [`RejectLog`] with its own text and the reason, and
//! the parser turns it into a failed row with both.

use crate::csv_field::QuoteRule;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::import::open::encoding::{EncodingEvidence, SourceEncoding};
use crate::import::open::input_formats::{Compression, InputFormat};
use crate::import::open::source::{RejectLog, Rejected, SheetInfo, TextSource};

/// Rendered text sent to the reader at a time.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks the rendering thread may run ahead of the reader.
const CHUNKS_AHEAD: usize = 4;

type Chunk = Result<Vec<u8>, String>;

/// Writes the rendered text, line by line, and says how far the input is.
pub struct TextOut {
    out: Vec<u8>,
    sender: Sender<Chunk>,
    /// Bytes of rendered text sent so far (the offset of `out`'s first byte).
    sent: u64,
    fields_in_line: usize,
    rejects: Arc<RejectLog>,
    bytes_read: Arc<AtomicU64>,
    bytes_total: u64,
    /// The rendered text is CSV with `,` and `"`, quoted by DuckDB's rule.
    quoting: QuoteRule,
}

impl TextOut {
    /// Writes a field of the current line, quoted when it holds the delimiter, a quote or a
    /// line break. `None` is NULL (nothing between the delimiters); `Some("")` an empty string
    /// (`""`).
    pub fn field(&mut self, text: Option<&str>) {
        if self.fields_in_line > 0 {
            self.out.push(b',');
        }
        self.fields_in_line += 1;
        if let Some(text) = text {
            self.quoting.push_field(&mut self.out, text.as_bytes());
        }
    }

    /// Adds `count` empty fields to the current line (cells left empty before the next one).
    pub fn skip_fields(&mut self, count: usize) {
        for _ in 0..count {
            self.field(None);
        }
    }

    /// Ends the current line. Returns false when the reader has gone away.
    pub fn end_line(&mut self) -> bool {
        self.out.push(b'\n');
        self.fields_in_line = 0;
        if self.out.len() >= CHUNK_BYTES {
            return self.send();
        }
        true
    }

    /// Writes a line of the input that could not be rendered: an empty record, with the line's
    /// text and the reason kept for the parser.
    pub fn reject_line(&mut self, raw: &str, reason: String) -> bool {
        self.rejects.record(Rejected {
            offset: self.sent + self.out.len() as u64,
            raw: raw.to_string(),
            reason,
        });
        self.field(Some(""));
        self.end_line()
    }

    /// Says that `done` of `total` units of the input (rows, bytes) have been rendered.
    pub fn progress(&self, done: u64, total: u64) {
        let share = self.bytes_total as u128 * done.min(total) as u128 / total.max(1) as u128;
        self.bytes_read.store(share as u64, Ordering::Relaxed);
    }

    fn send(&mut self) -> bool {
        let chunk = std::mem::replace(&mut self.out, Vec::with_capacity(CHUNK_BYTES * 2));
        self.sent += chunk.len() as u64;
        self.sender.send(Ok(chunk)).is_ok()
    }

    fn finish(mut self, result: Result<(), String>) {
        if !self.out.is_empty() && !self.send() {
            return;
        }
        self.bytes_read.store(self.bytes_total, Ordering::Relaxed);
        if let Err(message) = result {
            let _ = self.sender.send(Err(message));
        }
    }
}

/// What a rendered source says of itself besides its text.
pub struct Rendering {
    pub format: InputFormat,
    /// The line number of the first rendered line: 0 when that line is a header Sluice wrote
    /// (a Parquet file's, a JSON file's keys), so the input's own rows keep their numbers.
    pub first_line: u64,
    pub sheets: Vec<SheetInfo>,
    pub sheet: Option<String>,
    /// A sheet's: the column its rows' first field is, set before the first line is written.
    pub sheet_first_column: Option<Arc<std::sync::atomic::AtomicU32>>,
}

/// Starts `render` on a thread named `name`, writing the text of `path`; the text is read from
/// the returned source as it is written. An error `render` returns ends the text with it.
pub fn spawn(
    path: &Path,
    name: &str,
    rendering: Rendering,
    render: impl FnOnce(&mut TextOut) -> Result<(), String> + Send + 'static,
) -> io::Result<TextSource> {
    let bytes_total = std::fs::metadata(path).map_or(0, |metadata| metadata.len());
    let bytes_read = Arc::new(AtomicU64::new(0));
    let rejects = Arc::new(RejectLog::default());
    let (sender, receiver) = bounded(CHUNKS_AHEAD);
    let mut out = TextOut {
        out: Vec::with_capacity(CHUNK_BYTES * 2),
        sender,
        sent: 0,
        fields_in_line: 0,
        rejects: rejects.clone(),
        bytes_read: bytes_read.clone(),
        bytes_total,
        quoting: QuoteRule::new(b',', b'"'),
    };
    std::thread::Builder::new().name(name.to_string()).spawn(move || {
        // A reader Sluice does not own (calamine, parquet) may panic on a malformed file. Said as
        // the text's error, it fails the import; a thread that died would read as the text's end.
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render(&mut out))).unwrap_or_else(|panic| {
                Err(format!(
                    "its reader stopped unexpectedly: {}",
                    crate::import::panic_message(&panic)
                ))
            });
        out.finish(result);
    })?;
    Ok(TextSource {
        reader: Box::new(ChunkReader {
            receiver,
            chunk: Vec::new(),
            position: 0,
        }),
        encoding: SourceEncoding {
            encoding: encoding_rs::UTF_8,
            bom_len: 0,
        },
        encoding_evidence: EncodingEvidence::Rendered,
        format: rendering.format,
        compression: Compression::None,
        bytes_total,
        bytes_read,
        malformed: None,
        rejects: Some(rejects),
        first_line: rendering.first_line,
        sheets: rendering.sheets,
        sheet: rendering.sheet,
        sheet_first_column: rendering.sheet_first_column,
    })
}

/// The rendered text, chunk by chunk as the rendering thread writes it.
struct ChunkReader {
    receiver: Receiver<Chunk>,
    chunk: Vec<u8>,
    position: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position >= self.chunk.len() {
            match self.receiver.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.position = 0;
                }
                Ok(Err(message)) => return Err(io::Error::other(message)),
                Err(_) => return Ok(0),
            }
        }
        let count = buf.len().min(self.chunk.len() - self.position);
        buf[..count].copy_from_slice(&self.chunk[self.position..self.position + count]);
        self.position += count;
        Ok(count)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// What `render` writes, and the lines it rejected.
    pub(crate) fn rendered(render: impl FnOnce(&mut TextOut)) -> (String, Vec<Rejected>) {
        let (sender, receiver) = bounded(1024);
        let rejects = Arc::new(RejectLog::default());
        let mut out = TextOut {
            out: Vec::new(),
            sender,
            sent: 0,
            fields_in_line: 0,
            rejects: rejects.clone(),
            bytes_read: Arc::new(AtomicU64::new(0)),
            bytes_total: 100,
            quoting: QuoteRule::new(b',', b'"'),
        };
        render(&mut out);
        out.finish(Ok(()));
        let mut text = Vec::new();
        while let Ok(Ok(chunk)) = receiver.try_recv() {
            text.extend(chunk);
        }
        let rejected = rejects
            .entries
            .lock()
            .map(|entries| entries.iter().cloned().collect())
            .unwrap_or_default();
        (String::from_utf8(text).unwrap(), rejected)
    }

    #[test]
    fn fields_are_quoted_only_when_they_must_be_and_null_differs_from_empty() {
        let (text, rejected) = rendered(|out| {
            out.field(Some("plain"));
            out.field(None);
            out.field(Some(""));
            out.field(Some("a, \"b\"\nc"));
            out.end_line();
            out.reject_line("{oops", "not JSON".into());
        });
        assert_eq!(text, "plain,,\"\",\"a, \"\"b\"\"\nc\"\n\"\"\n");
        assert_eq!(
            rejected,
            [Rejected {
                offset: 23,
                raw: "{oops".into(),
                reason: "not JSON".into()
            }]
        );
    }

    #[test]
    fn the_log_hands_out_a_rejected_line_only_at_its_own_offset() {
        let log = RejectLog::default();
        for offset in [10, 30] {
            log.record(Rejected {
                offset,
                raw: String::new(),
                reason: String::new(),
            });
        }
        assert!(log.take_at(5).is_none());
        assert!(log.take_at(20).is_none(), "passing 10 drops it");
        assert_eq!(log.take_at(30).map(|entry| entry.offset), Some(30));
        assert!(log.take_at(30).is_none());
    }

    #[test]
    fn a_reader_that_panics_ends_the_text_with_an_error_not_its_end() {
        let path = std::env::temp_dir().join("sluice-rendered-panic.bin");
        std::fs::write(&path, b"x").unwrap();
        let rendering = Rendering {
            format: InputFormat::Workbook,
            first_line: 1,
            sheets: Vec::new(),
            sheet: None,
            sheet_first_column: None,
        };
        let mut source = spawn(&path, "sluice-test-render", rendering, |out| {
            out.field(Some("first"));
            out.end_line();
            panic!("a cut formula token");
        })
        .unwrap();
        let mut text = Vec::new();
        let error = source.reader.read_to_end(&mut text).unwrap_err();
        assert!(error.to_string().contains("a cut formula token"), "{error}");
        assert_eq!(text, b"first\n");
    }
}
