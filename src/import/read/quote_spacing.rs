//! Spaces between a delimiter and a quoted field: `a, "b, c"`.
//!
//! Hand-written files and some exporters put a space after each delimiter, and quote only the
//! fields that need it. Most readers allow that (Python's `skipinitialspace`, DuckDB), but
//! csv-core reads a field that starts with a space as unquoted, so `"b, c"` would be split at its
//! comma. When the dialect says so, this reader drops the spaces that stand between a delimiter
//! (or the start of a line) and an opening quote before csv-core sees the bytes; spaces before
//! anything else are data and are kept, except in a file whose separator is the delimiter and
//! a space (see `Dialect::spaced_separator`): there every field's leading spaces are the
//! separator's, as Python's `skipinitialspace` reads them, and a field of spaces only is empty. A failed row's raw text then shows the field without
//! those spaces, and byte offsets count the bytes the parser saw.

use std::io::{self, Read};

use crate::import::read::dialect::Dialect;

/// Where the reader is in the record, as far as quoting goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// After a delimiter or a line break: a quote here opens a quoted field.
    FieldStart,
    Unquoted,
    Quoted,
    /// After the escape byte inside quotes: the next byte is literal.
    QuotedEscape,
    /// After a quote inside a quoted field: a second one is a doubled quote.
    AfterQuote,
}

/// Wraps a reader; passes bytes through untouched unless the dialect allows spaces before
/// quotes.
pub struct QuoteSpacing<R> {
    inner: R,
    enabled: bool,
    /// A field of spaces only is empty.
    spaced_separator: bool,
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
    state: State,
    /// Spaces at a field's start not yet known to stand before a quote.
    held_spaces: usize,
    input: Vec<u8>,
    input_start: usize,
    input_end: usize,
}

const INPUT_BYTES: usize = 64 * 1024;

impl<R: Read> QuoteSpacing<R> {
    pub fn new(inner: R, dialect: Dialect) -> Self {
        let enabled = dialect.spaces_before_quotes && dialect.delimiter != b' ' && dialect.quote != b' ';
        Self {
            inner,
            enabled,
            spaced_separator: dialect.spaced_separator,
            delimiter: dialect.delimiter,
            quote: dialect.quote,
            escape: dialect.escape,
            state: State::FieldStart,
            held_spaces: 0,
            input: if enabled { vec![0; INPUT_BYTES] } else { Vec::new() },
            input_start: 0,
            input_end: 0,
        }
    }

    fn next_state(&self, byte: u8) -> State {
        let ends_field = byte == self.delimiter || byte == b'\n' || byte == b'\r';
        match self.state {
            State::FieldStart if byte == self.quote => State::Quoted,
            State::FieldStart | State::Unquoted if ends_field => State::FieldStart,
            State::FieldStart | State::Unquoted => State::Unquoted,
            // As csv-core does: the quote is looked at before the escape.
            State::Quoted if byte == self.quote => State::AfterQuote,
            State::Quoted if Some(byte) == self.escape => State::QuotedEscape,
            State::Quoted | State::QuotedEscape => State::Quoted,
            State::AfterQuote if byte == self.quote => State::Quoted,
            State::AfterQuote if ends_field => State::FieldStart,
            State::AfterQuote => State::Unquoted,
        }
    }
}

impl<R: Read> Read for QuoteSpacing<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.enabled {
            return self.inner.read(out);
        }
        let mut written = 0;
        while written < out.len() {
            if self.input_start == self.input_end {
                if written > 0 {
                    break;
                }
                let read = self.inner.read(&mut self.input)?;
                if read == 0 {
                    if self.spaced_separator {
                        self.held_spaces = 0;
                    }
                    // Spaces that end the input stand before nothing: they are data.
                    let flushed = self.held_spaces.min(out.len());
                    out[..flushed].fill(b' ');
                    self.held_spaces -= flushed;
                    return Ok(flushed);
                }
                self.input_start = 0;
                self.input_end = read;
            }
            let byte = self.input[self.input_start];
            if self.state == State::FieldStart {
                if byte == b' ' {
                    self.held_spaces += 1;
                    self.input_start += 1;
                    continue;
                }
                if byte == self.quote || self.spaced_separator {
                    self.held_spaces = 0;
                } else if self.held_spaces > 0 {
                    let flushed = self.held_spaces.min(out.len() - written);
                    out[written..written + flushed].fill(b' ');
                    written += flushed;
                    self.held_spaces -= flushed;
                    continue;
                }
            }
            out[written] = byte;
            written += 1;
            self.input_start += 1;
            self.state = self.next_state(byte);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spaced(input: &[u8], out_size: usize) -> Vec<u8> {
        let dialect = Dialect {
            spaces_before_quotes: true,
            ..Dialect::default()
        };
        read_through(input, dialect, out_size)
    }

    /// What the reader passes on of `input`, read `out_size` bytes at a time.
    fn read_through(input: &[u8], dialect: Dialect, out_size: usize) -> Vec<u8> {
        let mut reader = QuoteSpacing::new(input, dialect);
        let mut all = Vec::new();
        let mut chunk = vec![0; out_size];
        loop {
            let read = reader.read(&mut chunk).unwrap();
            if read == 0 {
                break;
            }
            all.extend_from_slice(&chunk[..read]);
        }
        all
    }

    #[test]
    fn drops_only_the_spaces_before_an_opening_quote() {
        let input = b"a, \"b, c\",  d\n  \"e\" , f \"g\",\"h, \"\" i\"\n";
        let expected = b"a,\"b, c\",  d\n\"e\" , f \"g\",\"h, \"\" i\"\n";
        for out_size in [1, 2, 3, 7, 4096] {
            assert_eq!(spaced(input, out_size), expected, "reading {out_size} bytes at a time");
        }
    }

    #[test]
    fn spaces_inside_quotes_and_at_the_end_are_kept() {
        assert_eq!(spaced(b"\"a, \"\"b\", \"c\"\n", 5), b"\"a, \"\"b\",\"c\"\n");
        assert_eq!(spaced(b"x,   ", 2), b"x,   ");
    }

    #[test]
    fn with_a_spaced_separator_leading_spaces_go_and_a_field_of_spaces_only_is_empty() {
        let dialect = Dialect {
            spaces_before_quotes: true,
            spaced_separator: true,
            ..Dialect::default()
        };
        for out_size in [1, 2, 4096] {
            assert_eq!(
                read_through(b"a, , c,  \r\n  ,\"d\",   ", dialect, out_size),
                b"a,,c,\r\n,\"d\",",
                "reading {out_size} bytes at a time"
            );
        }
        // Without it, fields keep their spaces.
        assert_eq!(spaced(b"a, , c\n", 3), b"a, , c\n");
    }

    #[test]
    fn an_escape_equal_to_the_quote_is_read_as_a_doubled_quote() {
        let dialect = Dialect {
            spaces_before_quotes: true,
            escape: Some(b'"'),
            ..Dialect::default()
        };
        let mut reader = QuoteSpacing::new(&b"\"a\", \"b, c\"\n"[..], dialect);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"\"a\",\"b, c\"\n");
    }

    #[test]
    fn is_a_plain_pass_through_when_the_dialect_does_not_ask() {
        let mut reader = QuoteSpacing::new(&b"a, \"b, c\"\n"[..], Dialect::default());
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"a, \"b, c\"\n");
    }
}
