//! A rejected row as it is stored: where it was, its text, and every reason it was rejected.

/// A rejected row, as it will be stored.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedRow {
    /// 1-based position among the data records (the header is not a record).
    pub record_no: u64,
    /// The file it came from (one of an import's files), as the job names it.
    pub file: Option<std::sync::Arc<str>>,
    /// Physical line (1-based) of the file where the record starts.
    pub line: u64,
    /// Offset of the record's first byte in the file as decoded.
    pub byte_offset: u64,
    /// The record's text as it appeared (invalid UTF-8 shown as U+FFFD).
    pub raw: String,
    /// The exact bytes, kept only when they are not valid UTF-8.
    pub raw_bytes: Option<Vec<u8>>,
    /// The fields the parser found, if any.
    pub fields: Vec<String>,
    /// Every reason the row was rejected.
    pub problems: Vec<Problem>,
}

/// What kind of problem a failed row has. The names are stable: they are stored and filtered on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The row has fewer fields than the header (or, without one, the first rows).
    TooFewFields,
    /// The row has more fields than the header (or, without one, the first rows).
    TooManyFields,
    /// A value is not a valid value of its column's type.
    InvalidValue,
    /// A required column, or a key, is empty.
    Required,
    /// A value of a unique column, or a key, was already in the table or came earlier in the file.
    Unique,
    /// A value does not match its column's pattern.
    Pattern,
    /// A number is below its column's minimum or above its maximum.
    OutOfRange,
    /// A value is shorter or longer than its column allows.
    Length,
    /// A value is not one of its column's allowed values.
    NotAllowed,
    /// The row has bytes the encoding the file is read in cannot read.
    Encoding,
    /// A quoted field was opened and never closed.
    UnclosedQuote,
    /// A single line is longer than the record size limit.
    LineTooLong,
    /// A total or subtotal line under (or among) the data.
    SummaryRow,
    /// The header again, or a second table's header.
    HeaderLine,
    /// A line of a structured input (a JSON line) that does not parse.
    Unreadable,
}

impl ProblemKind {
    /// Every kind, in the order they are declared.
    pub const ALL: [ProblemKind; 15] = [
        Self::TooFewFields,
        Self::TooManyFields,
        Self::InvalidValue,
        Self::Required,
        Self::Unique,
        Self::Pattern,
        Self::OutOfRange,
        Self::Length,
        Self::NotAllowed,
        Self::Encoding,
        Self::UnclosedQuote,
        Self::LineTooLong,
        Self::SummaryRow,
        Self::HeaderLine,
        Self::Unreadable,
    ];

    /// The kind's stored name (`too_few_fields`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::TooFewFields => "too_few_fields",
            Self::TooManyFields => "too_many_fields",
            Self::InvalidValue => "invalid_value",
            Self::Required => "required",
            Self::Unique => "unique",
            Self::Pattern => "pattern",
            Self::OutOfRange => "out_of_range",
            Self::Length => "length",
            Self::NotAllowed => "not_allowed",
            Self::Encoding => "encoding",
            Self::UnclosedQuote => "unclosed_quote",
            Self::LineTooLong => "line_too_long",
            Self::SummaryRow => "summary_row",
            Self::HeaderLine => "header_line",
            Self::Unreadable => "unreadable",
        }
    }

    /// The kind a stored name stands for; `None` for a name Sluice does not know.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// One reason a row was rejected.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// 0-based index of the CSV field at fault, when one is.
    pub field_index: Option<usize>,
    /// Name of the column at fault, when one is.
    pub column: Option<String>,
    /// What kind of problem it is.
    pub kind: ProblemKind,
    /// The problem in words, for people.
    pub message: String,
}
