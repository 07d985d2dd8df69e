//! The CSV record reader: `csv-core`'s parser over a buffer Sluice owns, so that every record
//! comes with the exact text it was read from, its physical line number and its byte offset.
//!
//! The `csv` crate's reader hides its buffer, and a failed-row report needs the raw text "as it
//! appeared". Owning the buffer also lets the reader recover from the two defects a streaming
//! parser cannot otherwise survive: a quote that is never closed, which would swallow the rest of
//! the file into one field, and a line longer than any sane record. Both are reported at the line
//! where they started, and parsing resumes on the next physical line.

use std::io::{self, Read};

use csv_core::ReadRecordResult;

pub use crate::import::read::dialect::Dialect;
use crate::import::read::quote_spacing::QuoteSpacing;
pub use crate::import::read::record::{Defect, OwnedRecord, Record, is_delimiters_only};

/// Default limit on the size of one record, and so on the reader's buffer.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 32 * 1024 * 1024;
const INITIAL_BUFFER_BYTES: usize = 1024 * 1024;

/// Streams records out of a reader of UTF-8 (or ASCII-compatible) bytes.
pub struct RecordReader<R> {
    source: QuoteSpacing<R>,
    dialect: Dialect,
    core: csv_core::Reader,
    buf: Vec<u8>,
    /// Start, in `buf`, of the record being parsed (including blank lines before it).
    record_start: usize,
    parse_pos: usize,
    filled: usize,
    /// Offset in the stream of `buf[0]`.
    buf_offset: u64,
    eof: bool,
    finished: bool,
    /// Set after an overlong line: bytes are dropped until the line ends.
    skipping_line: bool,
    fields: Vec<u8>,
    ends: Vec<usize>,
    fields_len: usize,
    ends_len: usize,
    /// Physical line number of `buf[record_start]`.
    line: u64,
    /// The bytes counted so far ended in CR, so a following LF does not start a new line.
    after_cr: bool,
    max_record_bytes: usize,
    /// The line cut after the size limit left its terminator for the parser, which is not a
    /// blank line of its own.
    line_cut: bool,
    /// Blank lines after the last record: (first line, count).
    trailing_blank_lines: (u64, u64),
}

enum Fill {
    Read,
    RecordTooLong,
}

impl<R: Read> RecordReader<R> {
    /// Reads records of `dialect` out of `source`, with the default record size limit.
    pub fn new(source: R, dialect: Dialect) -> Self {
        Self::with_limit(source, dialect, DEFAULT_MAX_RECORD_BYTES)
    }

    /// Reads records of `dialect` out of `source`; a record longer than `max_record_bytes` is
    /// reported as a defect.
    pub fn with_limit(source: R, dialect: Dialect, max_record_bytes: usize) -> Self {
        let max_record_bytes = max_record_bytes.max(16);
        Self {
            source: QuoteSpacing::new(source, dialect),
            dialect,
            core: dialect.parser(),
            buf: vec![0; INITIAL_BUFFER_BYTES.min(max_record_bytes)],
            record_start: 0,
            parse_pos: 0,
            filled: 0,
            buf_offset: 0,
            eof: false,
            finished: false,
            skipping_line: false,
            fields: vec![0; 4096],
            ends: vec![0; 64],
            fields_len: 0,
            ends_len: 0,
            line: 1,
            after_cr: false,
            max_record_bytes,
            line_cut: false,
            trailing_blank_lines: (0, 0),
        }
    }

    /// Numbers the input's first line `line` instead of 1 (0 when it is a header Sluice wrote).
    pub fn numbering_from(mut self, line: u64) -> Self {
        self.line = line;
        self
    }

    /// Reads the next record; `None` at the end of the input.
    pub fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        loop {
            if self.finished {
                return Ok(None);
            }
            if self.skipping_line {
                self.skip_rest_of_line()?;
                continue;
            }
            // csv-core takes empty input to mean the end of the data: read more first.
            if self.parse_pos == self.filled && !self.eof {
                if let Fill::RecordTooLong = self.fill()? {
                    let limit = self.max_record_bytes;
                    return Ok(Some(self.recover_from_defect(limit)));
                }
                continue;
            }
            let input_was_empty = self.parse_pos == self.filled;
            let (result, consumed, written, ended) = self.core.read_record(
                &self.buf[self.parse_pos..self.filled],
                &mut self.fields[self.fields_len..],
                &mut self.ends[self.ends_len..],
            );
            self.parse_pos += consumed;
            self.fields_len += written;
            self.ends_len += ended;
            match result {
                ReadRecordResult::InputEmpty => {
                    if self.eof && input_was_empty {
                        self.finish();
                    }
                }
                ReadRecordResult::OutputFull => {
                    let grown = self.fields.len() * 2;
                    self.fields.resize(grown, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let grown = self.ends.len() * 2;
                    self.ends.resize(grown, 0);
                }
                ReadRecordResult::Record => {
                    let at_end = self.eof && self.parse_pos == self.filled;
                    if at_end && self.quote_left_open() {
                        return Ok(Some(self.recover_from_defect(self.max_record_bytes)));
                    }
                    return Ok(Some(self.take_record(None)));
                }
                ReadRecordResult::End => self.finish(),
            }
        }
    }

    /// Makes room and reads more input. Reports a record that has filled the largest buffer.
    fn fill(&mut self) -> io::Result<Fill> {
        if self.record_start > 0 {
            self.buf.copy_within(self.record_start..self.filled, 0);
            self.parse_pos -= self.record_start;
            self.filled -= self.record_start;
            self.buf_offset += self.record_start as u64;
            self.record_start = 0;
        }
        if self.filled == self.buf.len() {
            if self.buf.len() >= self.max_record_bytes {
                return Ok(Fill::RecordTooLong);
            }
            let grown = (self.buf.len() * 2).min(self.max_record_bytes);
            self.buf.resize(grown, 0);
        }
        let read = read_retrying(&mut self.source, &mut self.buf[self.filled..])?;
        self.filled += read;
        self.eof = read == 0;
        Ok(Fill::Read)
    }

    /// Whether the record just parsed at the end of input ended inside a quoted field: parsed
    /// again with a line terminator appended, such a record still has not ended.
    fn quote_left_open(&self) -> bool {
        let raw = &self.buf[self.record_start..self.parse_pos];
        if !raw.contains(&self.dialect.quote) {
            return false;
        }
        let mut probe = self.dialect.parser();
        let mut input = raw.to_vec();
        input.push(b'\n');
        let mut fields = vec![0; input.len() + 1];
        let mut ends = vec![0; input.len() + 1];
        let (result, ..) = probe.read_record(&input, &mut fields, &mut ends);
        !matches!(result, ReadRecordResult::Record)
    }

    /// Turns the record being parsed into a defective record made of its first physical line, and
    /// sets the parser to resume on the line after it.
    fn recover_from_defect(&mut self, limit: usize) -> Record<'_> {
        let start = self.record_start + leading_blank_len(&self.buf[self.record_start..self.filled]);
        let line = &self.buf[start..self.filled];
        let defect = match line.iter().position(|b| matches!(b, b'\r' | b'\n')) {
            Some(line_len) => {
                let terminator = if line[line_len..].starts_with(b"\r\n") { 2 } else { 1 };
                self.parse_pos = start + line_len + terminator;
                Defect::UnclosedQuote { limit }
            }
            None if self.eof => {
                self.parse_pos = self.filled;
                Defect::UnclosedQuote { limit }
            }
            None => {
                self.parse_pos = self.filled;
                self.skipping_line = true;
                Defect::LineTooLong { limit }
            }
        };
        self.core.reset();
        self.fields_len = 0;
        self.ends_len = 0;
        self.take_record(Some(defect))
    }

    /// Drops the rest of an overlong line, one buffer at a time.
    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        let pending = &self.buf[self.parse_pos..self.filled];
        if let Some(position) = pending.iter().position(|b| matches!(b, b'\r' | b'\n')) {
            // The terminator itself is left for the parser, which skips it as a blank line and
            // counts it; only the rest of the long line is dropped.
            self.parse_pos += position;
            self.record_start = self.parse_pos;
            self.skipping_line = false;
            self.line_cut = true;
            return Ok(());
        }
        self.parse_pos = self.filled;
        self.record_start = self.parse_pos;
        if self.eof {
            self.skipping_line = false;
            self.finish();
            return Ok(());
        }
        self.fill()?;
        Ok(())
    }

    /// Blank lines after the last record, as (first line, count).
    pub fn trailing_blank_lines(&self) -> (u64, u64) {
        self.trailing_blank_lines
    }

    /// Ends the input: what is left unparsed is line breaks of blank lines.
    fn finish(&mut self) {
        if !self.finished {
            let rest = &self.buf[self.record_start..self.filled];
            let breaks = count_line_breaks(&rest[..leading_blank_len(rest)], &mut self.after_cr);
            let cut = u64::from(std::mem::take(&mut self.line_cut));
            self.trailing_blank_lines = (self.line + cut, breaks.saturating_sub(cut));
        }
        self.finished = true;
    }

    fn take_record(&mut self, defect: Option<Defect>) -> Record<'_> {
        let span = self.record_start..self.parse_pos;
        let blank = leading_blank_len(&self.buf[span.clone()]);
        let raw_start = span.start + blank;
        let line = self.line + count_line_breaks(&self.buf[span.start..raw_start], &mut self.after_cr);
        let cut = u64::from(std::mem::take(&mut self.line_cut));
        let blank_lines_before = (line - self.line).saturating_sub(cut);
        let breaks = count_line_breaks(&self.buf[raw_start..span.end], &mut self.after_cr);
        self.line = line
            + if self.dialect.rows_are_lines {
                breaks.min(1)
            } else {
                breaks
            };
        let fields_len = std::mem::take(&mut self.fields_len);
        let ends_len = std::mem::take(&mut self.ends_len);
        self.record_start = self.parse_pos;
        let raw = trim_line_terminator(&self.buf[raw_start..span.end]);
        Record {
            line,
            byte_offset: self.buf_offset + raw_start as u64,
            raw,
            defect,
            blank_lines_before,
            fields: &self.fields[..fields_len],
            ends: &self.ends[..ends_len],
            dialect: Some(self.dialect),
            quoted_given: None,
            text: std::cell::OnceCell::new(),
        }
    }
}

fn read_retrying(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn leading_blank_len(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count()
}

fn trim_line_terminator(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw)
}

/// Counts CR, LF and CRLF line breaks, carrying a trailing CR across calls so that a CRLF split
/// between two calls counts once.
fn count_line_breaks(bytes: &[u8], after_cr: &mut bool) -> u64 {
    let mut breaks = 0;
    let mut previous_end = 0;
    for position in memchr::memchr2_iter(b'\r', b'\n', bytes) {
        if position > previous_end {
            *after_cr = false;
        }
        if bytes[position] == b'\r' {
            breaks += 1;
            *after_cr = true;
        } else {
            if !*after_cr {
                breaks += 1;
            }
            *after_cr = false;
        }
        previous_end = position + 1;
    }
    if previous_end < bytes.len() {
        *after_cr = false;
    }
    breaks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether each field of `record` was quoted, one flag per field.
    fn quoted_flags(record: &Record<'_>) -> Vec<bool> {
        let mut quoted = Vec::new();
        record.quoted_fields(&mut quoted);
        quoted.resize(record.len(), false);
        quoted
    }

    #[test]
    fn tells_a_quoted_empty_field_from_a_missing_one() {
        let text = b"a,,\"\",\"x,\"\"y\"\"\",\"\"\n\"q\"\"\",,\"\"\nplain,\n";
        let mut reader = RecordReader::new(&text[..], Dialect::default());
        let record = reader.next_record().unwrap().unwrap();
        let quoted: Vec<bool> = quoted_flags(&record);
        assert_eq!(quoted, [false, false, true, true, true]);
        let record = reader.next_record().unwrap().unwrap();
        let quoted: Vec<bool> = quoted_flags(&record);
        assert_eq!(quoted, [true, false, true]);
        let record = reader.next_record().unwrap().unwrap();
        assert_eq!(quoted_flags(&record), [false, false]);
        let semicolons = b"'a;b';'';\n";
        let mut reader = RecordReader::new(
            &semicolons[..],
            Dialect {
                delimiter: b';',
                quote: b'\'',
                ..Dialect::default()
            },
        );
        let record = reader.next_record().unwrap().unwrap();
        let quoted: Vec<bool> = quoted_flags(&record);
        assert_eq!(quoted, [true, true, false]);
    }

    #[derive(Debug, PartialEq)]
    struct Seen {
        line: u64,
        raw: String,
        fields: Vec<String>,
        defect: Option<Defect>,
    }

    fn read_all_with_limit(input: &[u8], limit: usize) -> Vec<Seen> {
        let mut reader = RecordReader::with_limit(input, Dialect::default(), limit);
        let mut seen = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            seen.push(Seen {
                line: record.line,
                raw: String::from_utf8_lossy(record.raw).into_owned(),
                fields: record
                    .fields()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
                defect: record.defect,
            });
        }
        seen
    }

    fn read_all(input: &[u8]) -> Vec<Seen> {
        read_all_with_limit(input, DEFAULT_MAX_RECORD_BYTES)
    }

    fn lines(seen: &[Seen]) -> Vec<u64> {
        seen.iter().map(|s| s.line).collect()
    }

    #[test]
    fn numbers_physical_lines_for_every_kind_of_line_ending() {
        assert_eq!(lines(&read_all(b"a\nb\nc")), [1, 2, 3]);
        assert_eq!(lines(&read_all(b"a\r\nb\r\nc\r\n")), [1, 2, 3]);
        assert_eq!(lines(&read_all(b"a\rb\rc\r")), [1, 2, 3]);
        assert_eq!(lines(&read_all(b"a\r\nb\nc\rd")), [1, 2, 3, 4]);
    }

    #[test]
    fn a_crlf_split_between_calls_counts_once() {
        let mut after_cr = false;
        assert_eq!(count_line_breaks(b"ab\r", &mut after_cr), 1);
        assert_eq!(count_line_breaks(b"\ncd\n\n", &mut after_cr), 2);
        assert_eq!(count_line_breaks(b"\r", &mut after_cr), 1);
        assert_eq!(count_line_breaks(b"x\n", &mut after_cr), 1);
    }

    #[test]
    fn blank_lines_are_skipped_but_counted() {
        let seen = read_all(b"a\n\n\r\n\nb\n");
        assert_eq!(lines(&seen), [1, 5]);
        assert_eq!(seen[1].raw, "b");
    }

    /// (blank lines before each record, trailing blank lines as (first line, count)).
    fn blank_lines(input: &[u8], limit: usize) -> (Vec<u64>, (u64, u64)) {
        let mut reader = RecordReader::with_limit(input, Dialect::default(), limit);
        let mut before = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            before.push(record.blank_lines_before);
        }
        (before, reader.trailing_blank_lines())
    }

    #[test]
    fn blank_lines_are_told_apart_from_line_ends_in_every_line_ending() {
        assert_eq!(blank_lines(b"a\n\n\r\n\nb\n", 1024), (vec![0, 3], (6, 0)));
        assert_eq!(blank_lines(b"a\r\n\r\nb\r\n\r\n\r\n", 1024), (vec![0, 1], (4, 2)));
        assert_eq!(blank_lines(b"\n\na\rb", 1024), (vec![2, 0], (4, 0)));
        assert_eq!(blank_lines(b"a,\"x\n\ny\"\n\nb\n\n", 1024), (vec![0, 1], (6, 1)));
        // The end of a line cut at the size limit is not a blank line; the one after it is.
        assert_eq!(
            blank_lines(b"a\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\nb\n", 16),
            (vec![0, 0, 1], (5, 0))
        );
        assert_eq!(
            blank_lines(b"a\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", 16),
            (vec![0, 0], (3, 0))
        );
    }

    #[test]
    fn multi_line_records_are_numbered_by_their_first_line_and_keep_their_raw_text() {
        let seen = read_all(b"h1,h2\n\"one\ntwo\",x\nlast,y\n");
        assert_eq!(lines(&seen), [1, 2, 4]);
        assert_eq!(seen[1].raw, "\"one\ntwo\",x");
        assert_eq!(seen[1].fields, ["one\ntwo", "x"]);
    }

    #[test]
    fn raw_text_survives_buffer_refills() {
        let long_field = "x".repeat(3 * INITIAL_BUFFER_BYTES);
        let input = format!("a,{long_field}\nb,c\n");
        let seen = read_all(input.as_bytes());
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].raw, format!("a,{long_field}"));
        assert_eq!(seen[1].line, 2);
        assert_eq!(seen[1].fields, ["b", "c"]);
    }

    #[test]
    fn a_quote_left_open_fails_its_line_and_parsing_resumes_on_the_next() {
        let seen = read_all(b"a,b\n1,\"open\n2,x\n3,y\n");
        assert_eq!(lines(&seen), [1, 2, 3, 4]);
        assert!(matches!(seen[1].defect, Some(Defect::UnclosedQuote { .. })));
        assert_eq!(seen[1].raw, "1,\"open");
        assert_eq!(seen[2].fields, ["2", "x"]);
        assert_eq!(seen[3].fields, ["3", "y"]);
        assert!(seen[3].defect.is_none());
    }

    #[test]
    fn a_quote_open_past_the_size_limit_is_reported_at_its_line() {
        let mut input = b"a,b\n1,\"open\n".to_vec();
        for row in 0..100 {
            input.extend_from_slice(format!("{row},filler filler\n").as_bytes());
        }
        let seen = read_all_with_limit(&input, 256);
        assert!(matches!(seen[1].defect, Some(Defect::UnclosedQuote { limit: 256 })));
        assert_eq!(seen[1].line, 2);
        assert_eq!(seen.len(), 102);
        assert_eq!(seen[101].line, 102);
        assert_eq!(seen[101].fields, ["99", "filler filler"]);
    }

    #[test]
    fn an_overlong_line_is_cut_and_the_next_line_is_read() {
        let input = format!("a,b\n{}\nc,d\n", "z".repeat(1000));
        let seen = read_all_with_limit(input.as_bytes(), 64);
        assert_eq!(lines(&seen), [1, 2, 3]);
        assert!(matches!(seen[1].defect, Some(Defect::LineTooLong { limit: 64 })));
        assert_eq!(seen[2].fields, ["c", "d"]);
    }

    #[test]
    fn byte_offsets_point_at_the_record_start() {
        let input = b"ab,c\n\nde,f\n";
        let mut reader = RecordReader::new(&input[..], Dialect::default());
        let first = reader.next_record().unwrap().unwrap().byte_offset;
        assert_eq!(first, 0);
        let second = reader.next_record().unwrap().unwrap().byte_offset;
        assert_eq!(second, 6);
    }

    #[test]
    fn empty_input_has_no_records() {
        assert!(read_all(b"").is_empty());
        assert!(read_all(b"\n\n").is_empty());
    }
}
