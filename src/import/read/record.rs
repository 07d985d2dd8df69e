//! A record as the rest of the import sees it: its fields, the exact text it was read from, its
//! line and byte offset, and why it could not be parsed when it could not. The reader
//! (`record_reader`) makes them from a file; a failed row a person edited becomes one too
//! ([`OwnedRecord`]), so both go through the same checks.

use crate::import::read::dialect::Dialect;

/// Why a record could not be parsed into fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defect {
    /// A quoted field was opened on this record's line and never closed (by the end of the file
    /// or within the record size limit).
    UnclosedQuote {
        /// The record size limit, in bytes.
        limit: usize,
    },
    /// A single physical line exceeds the record size limit.
    LineTooLong {
        /// The record size limit, in bytes.
        limit: usize,
    },
}

/// One record, borrowed from the reader until the next call.
#[derive(Debug)]
pub struct Record<'r> {
    /// Physical line (1-based) where the record starts; CR, LF and CRLF each end a line.
    pub line: u64,
    /// Offset of the record's first byte in the decoded stream.
    pub byte_offset: u64,
    /// The record's text as it appeared, without its line terminator. For a defective record,
    /// its first physical line (cut at the size limit for an overlong line).
    pub raw: &'r [u8],
    /// Why the record could not be parsed, when it could not: it then has no fields.
    pub defect: Option<Defect>,
    /// Blank lines skipped just before this record (they are the lines right above `line`).
    pub blank_lines_before: u64,
    pub(super) fields: &'r [u8],
    pub(super) ends: &'r [usize],
    /// The dialect `raw` is written in; `None` when the fields were given one by one.
    pub(super) dialect: Option<Dialect>,
    /// Which fields were quoted, when the fields were given one by one with that known.
    pub(super) quoted_given: Option<&'r [bool]>,
    /// [`Record::text`], found once: the validator and the batch builder both need it.
    pub(super) text: std::cell::OnceCell<Option<&'r str>>,
}

impl<'r> Record<'r> {
    /// The number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the record has no fields, as a defective one has none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The unescaped bytes of field `index`.
    pub fn field(&self, index: usize) -> Option<&'r [u8]> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.fields.get(start..end)
    }

    /// The unescaped bytes of each field, in order.
    pub fn fields(&self) -> impl Iterator<Item = &'r [u8]> + '_ {
        (0..self.len()).filter_map(|index| self.field(index))
    }

    /// Fills `quoted` with whether each field was written in quotes, which is what tells an empty
    /// string (`""`) from a missing value (nothing between the delimiters): the parser unescapes
    /// both to no bytes. One pass over the raw text, none at all when it has no quote character
    /// (then `quoted` stays empty: no field was quoted).
    pub fn quoted_fields(&self, quoted: &mut Vec<bool>) {
        quoted.clear();
        if let Some(given) = self.quoted_given {
            quoted.extend_from_slice(given);
            return;
        }
        if let Some(dialect) = self.dialect {
            quoted_in(self.raw, dialect, quoted);
        }
    }

    /// Every field's text, one after the other, when all of them are valid UTF-8: checked in one
    /// pass over the record rather than once per field. [`Record::field_str`] cuts a field out.
    pub fn text(&self) -> Option<&'r str> {
        *self.text.get_or_init(|| std::str::from_utf8(self.fields).ok())
    }

    /// Field `index` as text: cut from [`Record::text`] when the whole record is valid UTF-8,
    /// checked on its own otherwise. `None` when there is no such field or it is not UTF-8.
    pub fn field_str(&self, index: usize) -> Option<&'r str> {
        match self.text() {
            Some(text) => {
                let end = *self.ends.get(index)?;
                let start = if index == 0 { 0 } else { self.ends[index - 1] };
                text.get(start..end)
            }
            None => std::str::from_utf8(self.field(index)?).ok(),
        }
    }
}

/// Fills `quoted` with whether each field of `raw`, written in `dialect`, was in quotes (empty
/// when `raw` holds no quote character: no field was quoted).
pub fn quoted_in(raw: &[u8], dialect: Dialect, quoted: &mut Vec<bool>) {
    quoted.clear();
    let Dialect {
        delimiter,
        quote,
        escape,
        ..
    } = dialect;
    if memchr::memchr(quote, raw).is_none() {
        return;
    }
    let mut position = 0;
    loop {
        let is_quoted = raw.get(position) == Some(&quote);
        quoted.push(is_quoted);
        if is_quoted {
            // Past the closing quote; a doubled quote is an escaped one and the field goes on.
            position += 1;
            loop {
                let rest = &raw[position.min(raw.len())..];
                let found = match escape {
                    // An escaped quote does not close the field.
                    Some(escape) => {
                        let mut at = None;
                        let mut index = 0;
                        while index < rest.len() {
                            if rest[index] == escape {
                                index += 2;
                            } else if rest[index] == quote {
                                at = Some(index);
                                break;
                            } else {
                                index += 1;
                            }
                        }
                        at
                    }
                    None => memchr::memchr(quote, rest),
                };
                let Some(found) = found else {
                    return;
                };
                position += found + 1;
                if raw.get(position) == Some(&quote) {
                    position += 1;
                } else {
                    break;
                }
            }
        }
        let Some(found) = memchr::memchr(delimiter, &raw[position.min(raw.len())..]) else {
            return;
        };
        position += found + 1;
    }
}

/// Whether a record's text is delimiters and nothing else (`,,,,`): it has fields, but no value in
/// any of them, so to a person it is a blank line.
pub fn is_delimiters_only(raw: &[u8], delimiter: u8) -> bool {
    !raw.is_empty() && raw.iter().all(|&byte| byte == delimiter)
}

/// A record whose fields were given one by one (a failed row a person edited), so it can go
/// through the same validation and batch building as a parsed one.
#[derive(Clone, Debug, Default)]
pub struct OwnedRecord {
    line: u64,
    byte_offset: u64,
    fields: Vec<u8>,
    ends: Vec<usize>,
    quoted: Option<Vec<bool>>,
}

impl OwnedRecord {
    /// A record of `fields`, said to start at `line` and `byte_offset` (the failed row's, for an
    /// edited one).
    pub fn new(line: u64, byte_offset: u64, fields: &[String]) -> Self {
        let mut joined = Vec::with_capacity(fields.iter().map(String::len).sum());
        let mut ends = Vec::with_capacity(fields.len());
        for field in fields {
            joined.extend_from_slice(field.as_bytes());
            ends.push(joined.len());
        }
        Self {
            line,
            byte_offset,
            fields: joined,
            ends,
            quoted: None,
        }
    }

    /// The record with which of its fields were quoted in the file, so an empty one that was
    /// `""` stays an empty string and does not become NULL.
    pub fn with_quoted(mut self, quoted: Vec<bool>) -> Self {
        self.quoted = Some(quoted);
        self
    }

    /// The record as a `Record`, to be validated and batched as a parsed one is; its raw text is
    /// its fields run together.
    pub fn as_record(&self) -> Record<'_> {
        Record {
            line: self.line,
            byte_offset: self.byte_offset,
            raw: &self.fields,
            defect: None,
            blank_lines_before: 0,
            fields: &self.fields,
            ends: &self.ends,
            dialect: None,
            quoted_given: self.quoted.as_deref(),
            text: std::cell::OnceCell::new(),
        }
    }
}

/// Which of `edited`'s fields were quoted, when a rule or a person made them from `original`,
/// whose fields were quoted as `original_quoted` says: a field the edit left as it was, in the
/// same place from the start or from the end (a join or a dropped field shifts the rest), keeps
/// its quotes; a changed one has none, so an emptied field reads as any empty field does.
pub fn quoted_after_edit(original: &[String], original_quoted: &[bool], edited: &[String]) -> Vec<bool> {
    let same_from_start = original.iter().zip(edited).take_while(|(a, b)| a == b).count();
    let room = original.len().min(edited.len()) - same_from_start;
    let same_from_end = original
        .iter()
        .rev()
        .zip(edited.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    let quoted_at = |index: usize| original_quoted.get(index).copied().unwrap_or(false);
    (0..edited.len())
        .map(|index| {
            if index < same_from_start {
                quoted_at(index)
            } else if index >= edited.len() - same_from_end {
                quoted_at(index + original.len() - edited.len())
            } else {
                false
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    #[test]
    fn a_field_left_as_it_was_keeps_its_quotes_and_a_changed_one_has_none() {
        let read = fields(&["1", "", "forty", ""]);
        let quoted = [false, true, false, false];
        assert_eq!(
            quoted_after_edit(&read, &quoted, &fields(&["1", "", "40", ""])),
            [false, true, false, false]
        );
        // Emptied by the fix: read as any empty field, not as the quoted one it replaced.
        assert_eq!(
            quoted_after_edit(&read, &[false, false, true, false], &fields(&["1", "", "", ""])),
            [false, false, false, false]
        );
    }

    #[test]
    fn fields_after_a_join_or_before_a_pad_keep_their_quotes_in_their_new_places() {
        let read = fields(&["4", "Smith", " John", "", "42"]);
        let quoted = [false, false, false, true, false];
        assert_eq!(
            quoted_after_edit(&read, &quoted, &fields(&["4", "Smith, John", "", "42"])),
            [false, false, true, false]
        );
        let short = fields(&["5", ""]);
        assert_eq!(
            quoted_after_edit(&short, &[false, true], &fields(&["5", "", ""])),
            [false, true, false]
        );
    }

    #[test]
    fn quotes_are_found_field_by_field_in_the_raw_text() {
        let dialect = Dialect::default();
        let mut quoted = Vec::new();
        quoted_in(br#"1,"",x,"a ""b"", c","#, dialect, &mut quoted);
        assert_eq!(quoted, [false, true, false, true, false]);
        quoted_in(b"1,,x", dialect, &mut quoted);
        assert!(quoted.is_empty());
    }
}
