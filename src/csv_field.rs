//! DuckDB's rule for writing one CSV field, in one place: a field is quoted when it is empty (so
//! an empty string stays apart from NULL, which is nothing) or holds the delimiter, the quote or
//! a line break, and a quote inside is doubled. The exporter writes its files by it, and the
//! workbook, NDJSON and Parquet readers render their rows by it as text for the import.

/// The bytes that force a field into quotes, for one lookup per byte.
pub struct QuoteRule {
    special: [bool; 256],
    quote: u8,
}

impl QuoteRule {
    /// The rule for fields separated by `delimiter` and quoted with `quote`.
    pub fn new(delimiter: u8, quote: u8) -> Self {
        let mut special = [false; 256];
        for byte in [delimiter, quote, b'\n', b'\r'] {
            special[usize::from(byte)] = true;
        }
        Self { special, quote }
    }

    /// Whether `bytes` must be written in quotes.
    pub fn must_quote(&self, bytes: &[u8]) -> bool {
        bytes.is_empty() || bytes.iter().any(|&byte| self.special[usize::from(byte)])
    }

    /// Appends `bytes` in quotes, each quote inside doubled.
    pub fn push_quoted(&self, out: &mut Vec<u8>, bytes: &[u8]) {
        out.push(self.quote);
        self.push_doubled(out, bytes);
        out.push(self.quote);
    }

    /// Appends `bytes` with each quote doubled, for a field whose opening quote is written.
    pub fn push_doubled(&self, out: &mut Vec<u8>, bytes: &[u8]) {
        // Most quoted fields hold no quote (every field is quoted with `--quote all`), and a
        // vectorised search finds that faster than a byte-by-byte copy.
        let mut rest = bytes;
        while let Some(at) = memchr::memchr(self.quote, rest) {
            out.extend_from_slice(&rest[..=at]);
            out.push(self.quote);
            rest = &rest[at + 1..];
        }
        out.extend_from_slice(rest);
    }

    /// Appends one field, quoted only when it must be.
    pub fn push_field(&self, out: &mut Vec<u8>, bytes: &[u8]) {
        if self.must_quote(bytes) {
            self.push_quoted(out, bytes);
        } else {
            out.extend_from_slice(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_special_and_plain_fields() {
        let rule = QuoteRule::new(b';', b'"');
        let mut out = Vec::new();
        for field in ["", "a;b", "say \"hi\"", "two\nlines", "plain, with a comma"] {
            rule.push_field(&mut out, field.as_bytes());
            out.push(b'|');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"\"|\"a;b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|plain, with a comma|"
        );
    }
}
