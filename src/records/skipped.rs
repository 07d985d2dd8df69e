//! Lines of a file that are not records of the table, as a job lists them.

/// Lines of the file that are not records of the table: counted, and the first of them listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A title or note above the header.
    AboveHeader,
    /// A comment line.
    Comment,
    /// A line with nothing on it.
    Blank,
    /// A record under the rows of the table read: another table stacked under it.
    BelowTable,
}

impl SkipReason {
    /// The reason's stored name (`above_header`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AboveHeader => "above_header",
            Self::Comment => "comment",
            Self::Blank => "blank",
            Self::BelowTable => "below_table",
        }
    }
}

/// A skipped line as the job lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedLine {
    /// The file it is in (one of an import's files), as the job names it.
    pub file: Option<std::sync::Arc<str>>,
    /// Physical line (1-based) of the line in its file.
    pub line: u64,
    /// Why the line is not a record.
    pub reason: SkipReason,
    /// The line's text (cut at 1,000 characters); empty for a blank line.
    pub raw: String,
}

/// Skipped lines listed per job; the rest are counted only (a file can have millions of blank
/// or comment lines, and the first thousand show what they are).
pub const MAX_LISTED_SKIPPED_LINES: u64 = 1000;
