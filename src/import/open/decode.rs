//! Turning the bytes of a file into UTF-8 text for the parser.
//!
//! UTF-8 input passes through untouched (its validity is checked per field later, so that one bad
//! byte fails one row, not the file). Every other encoding is transcoded to UTF-8 as it streams.
//! Malformed sequences become U+FFFD, and their positions are logged so that the row holding them
//! can be failed with an encoding problem rather than imported with a replacement character.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use encoding_rs::{DecoderResult, Encoding};

/// Positions (in the decoded UTF-8 stream) where the source had bytes that were not valid in its
/// encoding. Written by [`TranscodingReader`], read by the record reader on the same thread; the
/// atomic count keeps the common case (no bad bytes) free of locking.
#[derive(Debug, Default)]
pub struct MalformedLog {
    pending: AtomicUsize,
    offsets: Mutex<VecDeque<u64>>,
}

impl MalformedLog {
    fn record(&self, offset: u64) {
        if let Ok(mut offsets) = self.offsets.lock() {
            offsets.push_back(offset);
            self.pending.store(offsets.len(), Ordering::Release);
        }
    }

    /// Removes the logged offsets before `end` and says whether any of them lies at or after `start`.
    pub fn take_within(&self, start: u64, end: u64) -> bool {
        if self.pending.load(Ordering::Acquire) == 0 {
            return false;
        }
        let Ok(mut offsets) = self.offsets.lock() else {
            return false;
        };
        let mut found = false;
        while let Some(&offset) = offsets.front() {
            if offset >= end {
                break;
            }
            found |= offset >= start;
            offsets.pop_front();
        }
        self.pending.store(offsets.len(), Ordering::Release);
        found
    }
}

/// A reader that transcodes any `encoding_rs` encoding to UTF-8 on the fly.
pub struct TranscodingReader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    input_start: usize,
    input_end: usize,
    input_done: bool,
    output: Vec<u8>,
    output_start: usize,
    output_end: usize,
    decoded_offset: u64,
    finished: bool,
    malformed: Arc<MalformedLog>,
}

const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

impl<R: Read> TranscodingReader<R> {
    /// Wraps `inner`, whose byte order mark (if any) has already been consumed.
    pub fn new(inner: R, encoding: &'static Encoding, malformed: Arc<MalformedLog>) -> Self {
        Self {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; 64 * 1024],
            input_start: 0,
            input_end: 0,
            input_done: false,
            output: vec![0; 3 * 64 * 1024 + 16],
            output_start: 0,
            output_end: 0,
            decoded_offset: 0,
            finished: false,
            malformed,
        }
    }

    fn decode_more(&mut self) -> io::Result<()> {
        if self.input_start == self.input_end && !self.input_done {
            self.input_start = 0;
            self.input_end = read_retrying(&mut self.inner, &mut self.input)?;
            self.input_done = self.input_end == 0;
        }
        let room = self.output.len() - REPLACEMENT.len();
        let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
            &self.input[self.input_start..self.input_end],
            &mut self.output[..room],
            self.input_done,
        );
        self.input_start += read;
        self.output_start = 0;
        self.output_end = written;
        match result {
            DecoderResult::InputEmpty => self.finished = self.input_done,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(_, _) => {
                self.malformed.record(self.decoded_offset + written as u64);
                self.output[written..written + REPLACEMENT.len()].copy_from_slice(REPLACEMENT);
                self.output_end += REPLACEMENT.len();
            }
        }
        self.decoded_offset += self.output_end as u64;
        Ok(())
    }
}

impl<R: Read> Read for TranscodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.output_start == self.output_end {
            if self.finished {
                return Ok(0);
            }
            self.decode_more()?;
        }
        let count = buf.len().min(self.output_end - self.output_start);
        buf[..count].copy_from_slice(&self.output[self.output_start..self.output_start + count]);
        self.output_start += count;
        Ok(count)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn transcode(bytes: &[u8], encoding: &'static Encoding) -> (String, Vec<u64>) {
        let log = Arc::new(MalformedLog::default());
        let mut reader = TranscodingReader::new(bytes, encoding, log.clone());
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        let offsets = log.offsets.lock().unwrap().iter().copied().collect();
        (text, offsets)
    }

    #[test]
    fn transcodes_windows_1252() {
        let (text, bad) = transcode(b"caf\xe9,\x80\n", encoding_rs::WINDOWS_1252);
        assert_eq!(text, "café,€\n");
        assert!(bad.is_empty());
    }

    #[test]
    fn logs_unpaired_utf16_surrogates_at_their_decoded_offset() {
        // "a,", then a lone high surrogate, then "b".
        let bytes = [b'a', 0, b',', 0, 0x00, 0xD8, b'b', 0];
        let (text, bad) = transcode(&bytes, encoding_rs::UTF_16LE);
        assert_eq!(text, "a,\u{FFFD}b");
        assert_eq!(bad, vec![2]);
    }

    #[test]
    fn take_within_reports_only_offsets_inside_the_span() {
        let log = MalformedLog::default();
        log.record(5);
        log.record(50);
        assert!(!log.take_within(10, 20));
        assert!(log.take_within(40, 60));
        assert!(!log.take_within(60, 70));
    }
}
