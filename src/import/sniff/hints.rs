//! What a person (or a saved import) already knows about a file before it is read: the
//! sniffer guesses only what these leave open, and the layout honours them.

use encoding_rs::Encoding;

/// What the caller already knows about the file; `None` means "guess".
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SniffHints {
    /// The byte between fields.
    #[serde(with = "crate::import::sniff::spec_fields::byte_char")]
    pub delimiter: Option<u8>,
    /// The byte that encloses a field holding delimiters, quotes or line breaks.
    #[serde(with = "crate::import::sniff::spec_fields::byte_char")]
    pub quote: Option<u8>,
    /// Whether the table starts with a header of column names.
    pub has_header: Option<bool>,
    /// The text encoding, which no detection then overrides.
    #[serde(with = "crate::import::sniff::spec_fields::encoding_name")]
    pub encoding: Option<&'static Encoding>,
    /// Read ambiguous dates day first (the default) or month first.
    pub day_first: Option<bool>,
    /// Numbers use a decimal comma; guessed (a `;` file is taken to) when `None`.
    pub decimal_comma: Option<bool>,
    /// Values meaning NULL in every column, besides the empty field and those detected.
    pub null_markers: Vec<String>,
    /// Keep every column as text: no typing at all.
    pub all_text: bool,
    /// Records above the header (a title, "Created by ..."); detected when `None`.
    pub skip: Option<usize>,
    /// Rows of the table to read, when another table follows it in the file: the records after
    /// them are skipped and counted as below the table. Detected when `None`, where the sample
    /// shows another table starting under this one and no row of this one further down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// The sheet's columns read as the table (`F:K`), when another table stands beside it;
    /// detected when `None`. Only a workbook's sheet is read in part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet_columns: Option<crate::import::ColumnSpan>,
    /// Lines starting with this byte are comments, skipped and counted wherever they are;
    /// `#` is detected when such lines cannot be data.
    #[serde(with = "crate::import::sniff::spec_fields::byte_char")]
    pub comment: Option<u8>,
    /// The escape byte inside quotes (`\"`); a backslash is detected when it makes the records
    /// agree better.
    #[serde(with = "crate::import::sniff::spec_fields::byte_char")]
    pub escape: Option<u8>,
    /// Lines the header spans (names, then units...); detected when `None`.
    pub header_lines: Option<usize>,
    /// The sheet of a workbook to read; the first when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
}
