//! How an export's CSV text is shaped for the program that reads it next: its encoding, line
//! endings, quoting, NULL marker, date and number conventions. One plain struct, stored with the
//! export's job and filled by the command line, the window and its presets alike.

use serde::{Deserialize, Serialize};

/// The bytes a CSV export's text is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    /// UTF-8 without a byte order mark.
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    /// UTF-8 behind a byte order mark, which Excel needs to read UTF-8 as UTF-8.
    #[serde(rename = "utf-8-bom")]
    Utf8Bom,
    /// Excel's "ANSI" for Western European locales; holds 251 characters besides ASCII.
    #[serde(rename = "windows-1252")]
    Windows1252,
    /// UTF-16 little-endian behind its byte order mark: Excel's "Unicode text".
    #[serde(rename = "utf-16le")]
    Utf16Le,
}

impl TextEncoding {
    /// Every encoding, in the order the window and the command line list them.
    pub const ALL: [TextEncoding; 4] = [Self::Utf8, Self::Utf8Bom, Self::Windows1252, Self::Utf16Le];

    /// The name the command line and the saved spec use.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Utf8Bom => "utf-8-bom",
            Self::Windows1252 => "windows-1252",
            Self::Utf16Le => "utf-16le",
        }
    }

    /// What the window calls it.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Utf8 => "UTF-8",
            Self::Utf8Bom => "UTF-8 with BOM",
            Self::Windows1252 => "Windows-1252",
            Self::Utf16Le => "UTF-16 LE",
        }
    }

    /// The encoding named `text`, by its [`TextEncoding::as_str`] name or a common spelling
    /// (`cp1252`, `utf8`), in any case.
    pub fn parse(text: &str) -> Option<Self> {
        let wanted = text.trim().to_ascii_lowercase().replace('_', "-");
        Self::ALL
            .into_iter()
            .find(|encoding| encoding.as_str() == wanted)
            .or(match wanted.as_str() {
                "utf8" => Some(Self::Utf8),
                "utf8-bom" => Some(Self::Utf8Bom),
                "cp1252" => Some(Self::Windows1252),
                "utf16le" | "utf-16" => Some(Self::Utf16Le),
                _ => None,
            })
    }

    /// The byte order mark each file starts with.
    pub fn bom(&self) -> &'static [u8] {
        match self {
            Self::Utf8 | Self::Windows1252 => b"",
            Self::Utf8Bom => b"\xEF\xBB\xBF",
            Self::Utf16Le => b"\xFF\xFE",
        }
    }
}

/// What ends a record. A line break inside a quoted field is data and is written as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineEnding {
    /// `\n`, as Linux and macOS end lines.
    #[default]
    Lf,
    /// `\r\n`, as Windows ends lines.
    CrLf,
}

impl LineEnding {
    /// The bytes written at the end of each record.
    pub fn bytes(&self) -> &'static [u8] {
        match self {
            Self::Lf => b"\n",
            Self::CrLf => b"\r\n",
        }
    }

    /// What the window calls it.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Lf => "LF (Linux, macOS)",
            Self::CrLf => "CRLF (Windows)",
        }
    }
}

/// Which fields are put in quotes. NULL is never quoted: that is what keeps it apart from text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuoteStyle {
    /// Only fields holding the delimiter, a quote, a line break, nothing, or the NULL string.
    #[default]
    Needed,
    /// Every field that is not NULL.
    All,
    /// Every field of a column that is not a number.
    NonNumeric,
}

impl QuoteStyle {
    /// Every quoting style, in the order the window offers them.
    pub const ALL: [QuoteStyle; 3] = [Self::Needed, Self::All, Self::NonNumeric];

    /// What the window calls it.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Needed => "where needed",
            Self::All => "every field",
            Self::NonNumeric => "all but numbers",
        }
    }
}

/// The shape of a CSV export's text. The default is what Sluice always wrote: UTF-8, LF, quotes
/// where needed, NULL as an empty field, dates and numbers as DuckDB writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct CsvShape {
    /// The encoding of the text, and the byte order mark each file starts with.
    pub encoding: TextEncoding,
    /// Write `?` for a character the encoding cannot hold instead of failing the export.
    pub replace_unencodable: bool,
    /// What ends each record.
    pub line_ending: LineEnding,
    /// Which fields go in quotes.
    pub quote: QuoteStyle,
    /// What a NULL is written as; empty by default, `\N` or `NULL` for other databases.
    pub null_string: String,
    /// strftime-style format for DATE columns (`%d/%m/%Y`); ISO 8601 when `None`.
    pub date_format: Option<String>,
    /// strftime-style format for TIMESTAMP columns; DuckDB's ISO text when `None`.
    pub timestamp_format: Option<String>,
    /// Write decimals with a comma (`3,14`), as Excel does in much of Europe.
    pub decimal_comma: bool,
}

/// A shape that cannot be written, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// A decimal comma together with `,` as the delimiter; the two need to differ.
    #[error("a decimal comma needs a delimiter other than ','; use ';' or a tab")]
    DecimalCommaWithCommaDelimiter,
    /// A NULL string holding the delimiter, a quote or a line break: NULL is never quoted, so it
    /// could not be told from data.
    #[error("the NULL string {0:?} holds the delimiter, a quote or a line break, so it could not be told from data")]
    NullStringNeedsQuotes(String),
    /// A date or timestamp format left empty.
    #[error("the {what} format is empty")]
    EmptyFormat {
        /// Which format: `date` or `timestamp`.
        what: &'static str,
    },
    /// A date or timestamp format DuckDB's strftime refuses.
    #[error("the {what} format {format:?} is not one DuckDB's strftime takes: {reason}")]
    BadFormat {
        /// Which format: `date` or `timestamp`.
        what: &'static str,
        /// The format as given.
        format: String,
        /// DuckDB's error.
        reason: String,
    },
}

impl CsvShape {
    /// Checks the parts that need no database: the delimiter against the decimal comma and the
    /// NULL string; the date formats are checked by DuckDB itself.
    pub fn check(&self, delimiter: u8) -> Result<(), ShapeError> {
        if self.decimal_comma && delimiter == b',' {
            return Err(ShapeError::DecimalCommaWithCommaDelimiter);
        }
        if self
            .null_string
            .bytes()
            .any(|byte| byte == delimiter || matches!(byte, b'"' | b'\n' | b'\r'))
        {
            return Err(ShapeError::NullStringNeedsQuotes(self.null_string.clone()));
        }
        for (what, format) in [("date", &self.date_format), ("timestamp", &self.timestamp_format)] {
            if format.as_deref().is_some_and(|format| format.trim().is_empty()) {
                return Err(ShapeError::EmptyFormat { what });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_parse_from_their_names_and_common_spellings() {
        for encoding in TextEncoding::ALL {
            assert_eq!(TextEncoding::parse(encoding.as_str()), Some(encoding));
        }
        assert_eq!(TextEncoding::parse("CP1252"), Some(TextEncoding::Windows1252));
        assert_eq!(TextEncoding::parse("UTF_8_BOM"), Some(TextEncoding::Utf8Bom));
        assert_eq!(TextEncoding::parse("latin-9"), None);
    }

    #[test]
    fn a_decimal_comma_refuses_the_comma_delimiter() {
        let shape = CsvShape {
            decimal_comma: true,
            ..CsvShape::default()
        };
        assert_eq!(shape.check(b','), Err(ShapeError::DecimalCommaWithCommaDelimiter));
        assert_eq!(shape.check(b';'), Ok(()));
    }

    #[test]
    fn a_null_string_that_would_need_quotes_is_refused() {
        for bad in ["a,b", "\"", "x\ny"] {
            let shape = CsvShape {
                null_string: bad.into(),
                ..CsvShape::default()
            };
            assert!(shape.check(b',').is_err(), "{bad:?}");
        }
        let shape = CsvShape {
            null_string: "\\N".into(),
            ..CsvShape::default()
        };
        assert_eq!(shape.check(b','), Ok(()));
    }

    #[test]
    fn an_old_spec_without_a_shape_reads_as_the_default() {
        let shape: CsvShape = serde_json::from_str("{}").unwrap();
        assert_eq!(shape, CsvShape::default());
        let shape: CsvShape = serde_json::from_str(r#"{"encoding":"windows-1252","quote":"non-numeric"}"#).unwrap();
        assert_eq!(shape.encoding, TextEncoding::Windows1252);
        assert_eq!(shape.quote, QuoteStyle::NonNumeric);
        // The saved spec names each encoding as the command line does.
        for encoding in TextEncoding::ALL {
            let json = serde_json::to_string(&encoding).unwrap();
            assert_eq!(json, format!("\"{}\"", encoding.as_str()));
        }
    }
}
