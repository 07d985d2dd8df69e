//! Reading records from delimited text: the dialect, and a record reader that keeps each
//! record's raw text, line and byte offset, so a failed row can be shown as the file wrote it.

pub(super) mod dialect;
pub(super) mod quote_spacing;
pub(super) mod record;
pub(super) mod record_reader;
