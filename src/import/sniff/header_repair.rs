//! Repairing a header that does not fit its rows: a stray quote or an extra delimiter that made
//! it narrower or wider, no name over a first column of row names (R's `write.table`), names no
//! row fills, and a trailing delimiter's empty field that is no column.

use crate::import::read::dialect::DELIMITERS;
use crate::import::read::record_reader::{Dialect, RecordReader, is_delimiters_only};
use crate::import::sniff::layout::modal_width;

/// Rows of one width needed before they overrule a header of another (re-split or renamed by
/// position); the repairs that keep every name (a row-names column, padding) need only that the
/// rows agree.
const MIN_ROWS_TO_REPAIR_HEADER: usize = 20;

/// Fields at the end of every row that are no column.
#[derive(Clone, Copy, Debug, Default)]
pub(in crate::import) struct TrailingFields {
    /// Every row ends with a delimiter: its last field is always empty.
    pub(in crate::import) delimiter: bool,
    /// Unnamed fields before that one (or at the end) that no sampled row fills.
    pub(in crate::import) unnamed: usize,
}

impl TrailingFields {
    pub(in crate::import) fn count(self) -> usize {
        usize::from(self.delimiter) + self.unnamed
    }
}

/// Whether every row ends with fields that are always empty and no column: all records of the
/// usual width (in the head and further into the file) end empty, and the header is one shorter
/// or has no names there (those empty names are dropped). One row is enough when the header
/// agrees; a value in that field anywhere sampled makes it a column after all.
pub(in crate::import) fn trailing_fields(
    has_header: bool,
    raw_headers: &mut Vec<String>,
    records: &[Vec<String>],
    later: &[Vec<String>],
) -> TrailingFields {
    let none = TrailingFields::default();
    let probe = &records[..records.len().min(500)];
    let Some(width) = modal_width(probe) else {
        return none;
    };
    let usual: Vec<&Vec<String>> = probe.iter().filter(|record| record.len() == width).collect();
    let header_ends_empty = raw_headers.len() == width && raw_headers.last().is_some_and(|name| name.trim().is_empty());
    let header_agrees = has_header && (raw_headers.len() + 1 == width || header_ends_empty);
    let enough_rows = usual.len() >= 2 || (usual.len() == 1 && header_agrees);
    if width < 2 || !enough_rows || usual.len() * 10 < probe.len() * 9 {
        return none;
    }
    let empty_tail = |record: &Vec<String>| {
        record
            .iter()
            .rev()
            .take(width - 1)
            .take_while(|field| field.trim().is_empty())
            .count()
    };
    let empty_in_all = usual
        .iter()
        .copied()
        .chain(later.iter().filter(|record| record.len() == width))
        .map(empty_tail)
        .min()
        .unwrap_or(0);
    if empty_in_all == 0 {
        return none;
    }
    if !has_header || raw_headers.len() + 1 == width {
        return TrailingFields {
            delimiter: true,
            unnamed: 0,
        };
    }
    if raw_headers.len() != width {
        return none;
    }
    let unnamed = raw_headers
        .iter()
        .rev()
        .take_while(|name| name.trim().is_empty())
        .count()
        .min(empty_in_all);
    if unnamed == 0 {
        return none;
    }
    raw_headers.truncate(width - unnamed);
    TrailingFields {
        delimiter: true,
        unnamed: unnamed - 1,
    }
}

/// What was done to a header to fit its rows.
pub(in crate::import) struct HeaderRepair {
    /// In words, for the sniff result.
    pub(in crate::import) said: String,
    /// The header keeps names no row fills: rows are read padded with NULL.
    pub(in crate::import) pad_short_rows: bool,
}

impl HeaderRepair {
    pub(in crate::import) fn said(said: String) -> Self {
        Self {
            said,
            pad_short_rows: false,
        }
    }
}

/// Where the header's line is in the sample, to split it again.
pub(in crate::import) struct HeaderLine<'a> {
    pub(in crate::import) sample: &'a [u8],
    pub(in crate::import) dialect: Dialect,
    pub(in crate::import) comment: Option<u8>,
    /// The header's index among the sampled records (comments and blank lines not counted).
    pub(in crate::import) index: usize,
}

/// Makes the header as wide as the rows when a stray quote, an extra delimiter or another
/// delimiter made it narrower or wider, when it has no name over a first column of row names
/// (R's `write.table`), or when it names columns no row fills. Only many rows that agree
/// overrule a header's names; a repair that keeps every name needs only that the rows agree.
pub(in crate::import) fn repair_header(
    line: &HeaderLine<'_>,
    raw_headers: &mut Vec<String>,
    records: &[Vec<String>],
    trailing_fields: usize,
    short_rows_fit: bool,
) -> Option<HeaderRepair> {
    let probe = &records[..records.len().min(500)];
    let data_width = modal_width(probe)?;
    let width = data_width.checked_sub(trailing_fields)?;
    let usual = probe.iter().filter(|record| record.len() == data_width).count();
    let found = raw_headers.len();
    if found == width || width == 0 || usual == 0 || usual * 10 < probe.len() * 8 {
        return None;
    }
    // A sheet's row ends at its last filled cell: rows narrower than the header have empty
    // cells at the end (a comment column filled now and then), which says nothing against it.
    if short_rows_fit && found > width {
        return None;
    }
    // In a short file a header is more likely right than its few rows.
    let many = usual >= MIN_ROWS_TO_REPAIR_HEADER;
    if many && let Some(repair) = split_again(line, raw_headers, width, trailing_fields) {
        return Some(repair);
    }
    let usual_rows: Vec<&Vec<String>> = probe.iter().filter(|record| record.len() == data_width).collect();
    // R writes row names into text files; a sheet's one cell over two columns is its title.
    if !short_rows_fit && found + 1 == width && first_fields_are_row_names(&usual_rows) {
        // Names head the fields they stand over from the right: the first field, unnamed, holds
        // the rows' names.
        raw_headers.insert(0, ROW_NAMES_COLUMN.to_string());
        return Some(HeaderRepair::said(format!(
            "the header has {found} name{} but the rows have {width} fields: the first field, which has no \
             name, holds row names (as R writes them) and is called {ROW_NAMES_COLUMN}",
            if found == 1 { "" } else { "s" }
        )));
    }
    let named: Vec<String> = raw_headers
        .iter()
        .filter(|name| !name.trim().is_empty())
        .cloned()
        .collect();
    if many && found > width && named.len() == width {
        *raw_headers = named;
        return Some(HeaderRepair::said(format!(
            "the header has {found} fields, {} of them empty, but the rows have {width}: the empty ones were dropped",
            found - width
        )));
    }
    if found > width && probe.iter().all(|record| record.len() < found) {
        // Names past every row's last field head columns the export left empty: kept, and the
        // rows read padded.
        return Some(HeaderRepair {
            said: format!(
                "the header has {found} names but the rows have {width} fields: the last {} name{} head \
                 columns no row fills, which are read as NULL",
                found - width,
                if found - width == 1 { "" } else { "s" }
            ),
            pad_short_rows: true,
        });
    }
    if !many {
        return None;
    }
    raw_headers.resize(width, String::new());
    Some(HeaderRepair::said(format!(
        "the header has {found} field{} but the rows have {width}: its names were kept where they fit and the other columns named by position",
        if found == 1 { "" } else { "s" }
    )))
}

/// Whether the rows' first fields read as row names, as R writes them under a header with no
/// name for them: filled and distinct, and either many, or counting from 1 (R's default), or
/// names rather than numbers. A row with one field too many says none of that.
pub(in crate::import) fn first_fields_are_row_names(rows: &[&Vec<String>]) -> bool {
    let firsts: Vec<&str> = rows
        .iter()
        .filter_map(|record| record.first())
        .map(|field| field.trim())
        .collect();
    if firsts.len() < 2 || firsts.iter().any(|first| first.is_empty()) {
        return false;
    }
    let mut seen = std::collections::HashSet::new();
    if !firsts.iter().all(|first| seen.insert(*first)) {
        return false;
    }
    let counting = firsts
        .iter()
        .enumerate()
        .all(|(index, first)| first.parse::<usize>() == Ok(index + 1));
    let named = firsts.iter().all(|first| first.parse::<f64>().is_err());
    counting || named || firsts.len() >= MIN_ROWS_TO_REPAIR_HEADER
}

/// The name given to a first column of row names that has none in the header.
pub(in crate::import) const ROW_NAMES_COLUMN: &str = "row_name";

/// The header split again at its delimiter with its quotes ignored, or at another delimiter,
/// when that gives the rows' width.
pub(in crate::import) fn split_again(
    line: &HeaderLine<'_>,
    raw_headers: &mut Vec<String>,
    width: usize,
    trailing_fields: usize,
) -> Option<HeaderRepair> {
    let found = raw_headers.len();
    let dialect = line.dialect;
    let text = header_text(line)?;
    let others = DELIMITERS.iter().copied().filter(|d| *d != dialect.delimiter);
    for delimiter in std::iter::once(dialect.delimiter).chain(others) {
        let mut names: Vec<String> = text
            .split(char::from(delimiter))
            .map(|name| name.trim().trim_matches(char::from(dialect.quote)).trim().to_string())
            .collect();
        while names.len() > width
            && names.len() <= width + trailing_fields
            && names.last().is_some_and(String::is_empty)
        {
            names.pop();
        }
        if names.len() == width {
            *raw_headers = names;
            return Some(HeaderRepair::said(if delimiter == dialect.delimiter {
                format!(
                    "the header read as {found} field{} but the rows have {width}: it was split again at every '{}', its quotes ignored",
                    if found == 1 { "" } else { "s" },
                    char::from(delimiter)
                )
            } else {
                format!(
                    "the header is written with '{}' between its names, the rows with '{}': it was split at '{}'",
                    char::from(delimiter),
                    char::from(dialect.delimiter),
                    char::from(delimiter)
                )
            }));
        }
    }
    None
}

/// The raw text of the header's record in the sample: the record at its index, comment lines and
/// lines of delimiters only not counted, as the sampled records do not count them.
pub(in crate::import) fn header_text(line: &HeaderLine<'_>) -> Option<String> {
    sampled_record(line).map(|(_, text)| text)
}

/// The physical line and raw text of a sampled record, found by its index.
pub(in crate::import) fn sampled_record(line: &HeaderLine<'_>) -> Option<(u64, String)> {
    let sample = line.sample;
    let mut reader = RecordReader::with_limit(sample, line.dialect, sample.len() + 16);
    let mut index = 0;
    loop {
        let record = reader.next_record().ok()??;
        let comment = line.comment.is_some_and(|prefix| record.raw.first() == Some(&prefix));
        if comment || record.defect.is_some() || is_delimiters_only(record.raw, line.dialect.delimiter) {
            continue;
        }
        if index == line.index {
            return Some((record.line, String::from_utf8_lossy(record.raw).into_owned()));
        }
        index += 1;
    }
}
