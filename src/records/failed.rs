//! A rejected row as it is stored: where it was, its text, and every reason it was rejected.

/// A rejected row, as it will be stored.
#[derive(Clone, Debug, PartialEq)]
pub struct FailedRow {
    /// 1-based position among the data records (the header is not a record).
    pub record_no: u64,
    /// The file it came from (one of an import's files), as the job names it.
    pub file: Option<std::sync::Arc<str>>,
    pub line: u64,
    pub byte_offset: u64,
    /// The record's text as it appeared (invalid UTF-8 shown as U+FFFD).
    pub raw: String,
    /// The exact bytes, kept only when they are not valid UTF-8.
    pub raw_bytes: Option<Vec<u8>>,
    /// The fields the parser found, if any.
    pub fields: Vec<String>,
    pub problems: Vec<Problem>,
}

/// What kind of problem a failed row has. The names are stable: they are stored and filtered on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    TooFewFields,
    TooManyFields,
    InvalidValue,
    Required,
    Unique,
    Pattern,
    OutOfRange,
    Length,
    NotAllowed,
    Encoding,
    UnclosedQuote,
    LineTooLong,
    /// A total or subtotal line under (or among) the data.
    SummaryRow,
    /// The header again, or a second table's header.
    HeaderLine,
    /// A line of a structured input (a JSON line) that does not parse.
    Unreadable,
}

impl ProblemKind {
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
    pub kind: ProblemKind,
    pub message: String,
}
