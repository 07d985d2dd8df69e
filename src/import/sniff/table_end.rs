//! Where the table stops being data: a "Total" line under the rows, the header repeated where
//! two exports were joined, or the header of a second table further down.
//!
//! Such lines often have the table's width and, in a text column, values that fit it; read as
//! data they would land silently in the table and be summed with the rows they sum. The sniffer
//! looks for them in every block it samples and says what it found; the validator then fails
//! them with their own kind (`summary_row`, `header_line`), so they are accounted for and can be
//! seen, never imported as data.
//!
//! A label such as "Total" is only taken for a summary line when it is rare and looks like one:
//! it leaves cells empty that the data fills, or it appears only at the end. Long-format open
//! data often has a "Total" category on every group's rows; those rows are data and stay so.

use crate::import::sniff::type_guess::{ColumnGuess, fits_guess};
use crate::import::sniff::types::ColumnType;
use crate::import::sniff::value_formats::NULL_MARKERS;
use crate::records::ProblemKind;

/// What kind of line interrupts the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// A total or subtotal line: "Total", "Grand total", "Summe"... and numbers.
    Summary,
    /// The header again, as where two exports were joined.
    RepeatedHeader,
    /// A line of names where the data has typed values: a second table's header.
    SecondHeader,
}

impl BreakKind {
    /// The kind in words, for people: "the header repeated".
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Summary => "a total or summary line",
            Self::RepeatedHeader => "the header repeated",
            Self::SecondHeader => "a header line (a second table may start here)",
        }
    }

    /// The kind of problem such a line fails with.
    pub fn problem_kind(&self) -> ProblemKind {
        match self {
            Self::Summary => ProblemKind::SummaryRow,
            Self::RepeatedHeader | Self::SecondHeader => ProblemKind::HeaderLine,
        }
    }
}

/// A line in the sample that is not data, as shown to people.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TableBreak {
    /// What kind of line it is.
    pub kind: BreakKind,
    /// The line's fields, joined with " | " and cut to a readable length.
    pub text: String,
}

/// Words that label a summary line, in the languages open data is most often published in.
const SUMMARY_LABELS: [&str; 16] = [
    "total",
    "totals",
    "grand total",
    "subtotal",
    "sub-total",
    "sub total",
    "sum",
    "summe",
    "gesamt",
    "gesamtsumme",
    "insgesamt",
    "totaal",
    "totale",
    "somme",
    "suma",
    "overall",
];

/// Whether `text` labels a summary line: one of the labels, in any case, alone or followed by
/// what it totals ("Total 2023", "Total:", "Summe (EUR)").
pub fn is_summary_label(text: &str) -> bool {
    let text = text.trim();
    if text.len() > 40 {
        return false;
    }
    // The labels are ASCII, so a case-blind byte comparison finds them without lowercasing a
    // copy: the validator asks this of every row's first field in a file with total lines.
    let rest_after = |label: &str| {
        let head = text.as_bytes().get(..label.len())?;
        head.eq_ignore_ascii_case(label.as_bytes())
            .then(|| &text[label.len()..])
    };
    SUMMARY_LABELS.iter().any(|label| match rest_after(label) {
        None => false,
        Some("") => true,
        Some(rest) if rest.starts_with([':', '(', '-', '/']) => true,
        // "Total 2023", "Total (EUR)"; never "Total loss" or "Sum Kim", which are values.
        Some(rest) => rest.starts_with(' ') && !rest.trim_start().starts_with(char::is_alphabetic),
    })
}

/// Where a summary line puts its label: the first non-empty of its first three fields.
pub fn summary_label<'a>(mut fields: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    fields.by_ref().take(3).find(|field| !field.trim().is_empty())
}

/// Records at the end of a file read from a summary line down: a closing total and the notes
/// under it. They are judged against the data above, not typed with it.
const FOOTER_RECORDS: usize = 6;

/// Where the data of `records` ends: at a summary line among the file's last few records (when
/// `at_end` of them are known to be the last), else at the end.
pub fn footer_start(records: &[Vec<String>], at_end: usize) -> usize {
    let last = at_end.min(FOOTER_RECORDS).min(records.len());
    let from = records.len() - last;
    records[from..]
        .iter()
        .position(|record| summary_label(record.iter().map(String::as_str)).is_some_and(is_summary_label))
        .map_or(records.len(), |offset| from + offset)
}

/// Where a second table's header cuts the data short: the first of (at most two) candidate
/// lines, with words where the first data line has numbers, that reads as a header against the
/// types of the records above it (`guess` types them). A small file's second table would
/// otherwise make every typed column text.
pub fn second_header_start(
    records: &[Vec<String>],
    data_width: usize,
    guess: impl Fn(&[Vec<String>]) -> Vec<ColumnGuess>,
) -> Option<usize> {
    let first = records.iter().position(|record| record.len() == data_width)?;
    let reference = &records[first];
    let wordy = |value: &str| value.chars().any(char::is_alphabetic) && !value.chars().any(|c| c.is_ascii_digit());
    records
        .iter()
        .enumerate()
        .skip(first + 3)
        .filter(|(_, record)| {
            record.len() == data_width
                && record
                    .iter()
                    .zip(reference)
                    .filter(|(value, above)| wordy(value) && above.chars().any(|c| c.is_ascii_digit()))
                    .count()
                    >= 2
        })
        .take(2)
        .find(|(index, record)| {
            let guesses = guess(&records[..*index]);
            // A line of names over rows that fit the types above cuts nothing short: those rows
            // may be typed with the rest.
            is_second_header(record, &guesses)
                && records[index + 1..]
                    .iter()
                    .find(|below| below.len() == data_width)
                    .is_some_and(|below| {
                        below.iter().zip(&guesses).any(|(value, guess)| {
                            guess.column_type != ColumnType::Varchar
                                && !value.trim().is_empty()
                                && !fits_guess(value, guess)
                        })
                    })
        })
        .map(|(index, _)| index)
}

/// Whether a record may not be data whatever the types say: it is labelled as a total, or it
/// repeats the header.
pub fn maybe_not_data(record: &[String], header_line: Option<&[String]>) -> bool {
    summary_label(record.iter().map(String::as_str)).is_some_and(is_summary_label)
        || header_line.is_some_and(|header| repeats_header(header, record))
}

/// What the sample says about lines that are not data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Breaks {
    /// Up to three examples, in the order met.
    pub found: Vec<TableBreak>,
    /// Whether the file has summary lines: the validator then fails lines labelled as one.
    pub summary_rows: bool,
}

/// The sampled records, as `find_breaks` needs them.
pub struct SampledRows<'a> {
    /// The header's first line as written, when the file has one.
    pub header_line: Option<&'a [String]>,
    /// Records in file order: the first megabyte's, then the blocks further in.
    pub records: &'a [Vec<String>],
    /// How many of `records`, at their end, are the file's last records (the whole sample of a
    /// small file, the last block of a large one; none when the end was not read).
    pub at_end: usize,
    /// Fields of a data record, a trailing delimiter's included.
    pub data_width: usize,
}

/// Looks for summary lines, repeated headers and second headers among the sampled records.
pub fn find_breaks(rows: &SampledRows<'_>, guesses: &[ColumnGuess]) -> Breaks {
    let mut breaks = Breaks::default();
    let records = rows.records;
    let end_from = records.len() - rows.at_end.min(records.len());
    let filled = filled_share(records, rows.data_width);
    let mut summaries = 0usize;
    let mut summary_looks_like_footer = false;
    let mut summary_away_from_end = false;
    let note = |breaks: &mut Breaks, kind: BreakKind, record: &[String]| {
        if breaks.found.len() < 3 && !breaks.found.iter().any(|found| found.kind == kind) {
            breaks.found.push(TableBreak {
                kind,
                text: shown(record),
            });
        }
    };
    for (index, record) in records.iter().enumerate() {
        if let Some(header) = rows.header_line
            && repeats_header(header, record)
        {
            note(&mut breaks, BreakKind::RepeatedHeader, record);
            continue;
        }
        if summary_label(record.iter().map(String::as_str)).is_some_and(is_summary_label)
            && has_fitting_number(record, guesses)
        {
            summaries += 1;
            let leaves_holes = record.len() == rows.data_width
                && record
                    .iter()
                    .zip(&filled)
                    .any(|(value, share)| value.trim().is_empty() && *share >= 0.9);
            let near_end = index + FOOTER_RECORDS >= records.len() && index >= end_from;
            summary_looks_like_footer |= leaves_holes || near_end;
            summary_away_from_end |= !near_end;
            if leaves_holes || near_end {
                note(&mut breaks, BreakKind::Summary, record);
            }
            continue;
        }
        if record.len() == rows.data_width && is_second_header(record, guesses) {
            note(&mut breaks, BreakKind::SecondHeader, record);
        }
    }
    // Rare: at most one sampled line in twenty, or lines only at the end.
    let rare = summaries * 20 <= records.len().max(20) || !summary_away_from_end;
    breaks.summary_rows = summaries > 0 && summary_looks_like_footer && rare;
    if !breaks.summary_rows {
        breaks.found.retain(|found| found.kind != BreakKind::Summary);
    }
    breaks
}

/// Whether `record` is the header line again (cell for cell, spaces around them aside).
pub fn repeats_header(header: &[String], record: &[String]) -> bool {
    !header.is_empty()
        && record.len() >= header.len()
        && header.iter().any(|name| !name.trim().is_empty())
        && header
            .iter()
            .zip(record)
            .all(|(name, value)| name.trim() == value.trim())
}

/// Whether a line of the table's width has names where the data has typed values: at least two
/// typed columns hold text with letters that does not fit them, and no typed column's value fits.
pub fn is_second_header(record: &[String], guesses: &[ColumnGuess]) -> bool {
    let mut unfit = 0;
    for (value, guess) in record.iter().zip(guesses) {
        let value = value.trim();
        if value.is_empty() || guess.column_type == ColumnType::Varchar || guess.sampled < 3 {
            continue;
        }
        if fits_guess(value, guess) || guess.format.null_markers().iter().any(|marker| marker == value) {
            return false;
        }
        if NULL_MARKERS.contains(&value) {
            continue;
        }
        if value.chars().any(char::is_alphabetic) {
            unfit += 1;
        }
    }
    unfit >= 2
}

/// Whether some typed numeric column of `record` holds a number it reads: a summary line sums.
fn has_fitting_number(record: &[String], guesses: &[ColumnGuess]) -> bool {
    record
        .iter()
        .zip(guesses)
        .any(|(value, guess)| guess.column_type.is_numeric() && !value.trim().is_empty() && fits_guess(value, guess))
}

/// For each column, the share of data-width records with a value in it.
fn filled_share(records: &[Vec<String>], width: usize) -> Vec<f64> {
    let mut filled = vec![0usize; width];
    let mut rows = 0usize;
    for record in records.iter().filter(|record| record.len() == width) {
        rows += 1;
        for (count, value) in filled.iter_mut().zip(record) {
            *count += usize::from(!value.trim().is_empty());
        }
    }
    filled
        .into_iter()
        .map(|count| count as f64 / rows.max(1) as f64)
        .collect()
}

fn shown(record: &[String]) -> String {
    let text = record.join(" | ");
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_labels_are_told_from_values_that_start_alike() {
        for label in [
            "Total",
            "TOTAL:",
            "Grand Total",
            "Total 2023",
            "Summe (EUR)",
            "  subtotal ",
            "Total - all regions",
        ] {
            assert!(is_summary_label(label), "{label}");
        }
        for value in [
            "Totally Fine Ltd",
            "Sumatra",
            "Total Gym Equipment and Supplies",
            "Total loss",
            "Sum Kim",
            "Overall winner",
            "Suma Foods",
            "Overalls",
            "",
            "Sub",
        ] {
            assert!(!is_summary_label(value), "{value}");
        }
    }
}
