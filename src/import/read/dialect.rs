//! The dialect of a delimited text: its delimiter, quote and escape, and how it spaces and ends
//! its records. The sniffer chooses it, the plan and the stored job keep it, and the record
//! reader and the quote-spacing filter read by it.

use csv_core::{ReaderBuilder, Terminator};

/// The delimiters the sniffer tries, in order of preference.
pub(in crate::import) const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The parts of a CSV dialect that the parser needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dialect {
    /// The byte between fields.
    pub delimiter: u8,
    /// The byte that encloses a field holding delimiters, quotes or line breaks.
    pub quote: u8,
    /// A byte that makes the next one literal inside quotes (`\"`), as some exporters write
    /// quotes instead of doubling them; doubled quotes are read as well.
    #[serde(default)]
    pub escape: Option<u8>,
    /// Spaces between a delimiter and an opening quote are dropped (`a, "b, c"`), as most
    /// readers allow; see `quote_spacing`.
    #[serde(default)]
    pub spaces_before_quotes: bool,
    /// The file separates its fields with the delimiter and a space (`a, "b, c", , d`): the
    /// spaces at a field's start are the separator's, and a field of spaces only is empty. Set
    /// only when reading spaces before quotes fits the records better than not, as quoted
    /// delimiters show.
    #[serde(default)]
    pub spaced_separator: bool,
    /// Each record is one line, whatever line breaks its quoted fields hold: the text of a
    /// workbook's sheet, where line `n` is sheet row `n`.
    #[serde(default)]
    pub rows_are_lines: bool,
}

impl Default for Dialect {
    fn default() -> Self {
        Self {
            delimiter: b',',
            quote: b'"',
            escape: None,
            spaces_before_quotes: false,
            spaced_separator: false,
            rows_are_lines: false,
        }
    }
}

impl Dialect {
    pub(in crate::import) fn parser(&self) -> csv_core::Reader {
        ReaderBuilder::new()
            .delimiter(self.delimiter)
            .quote(self.quote)
            .escape(self.escape)
            .double_quote(true)
            .terminator(Terminator::CRLF)
            .build()
    }
}
