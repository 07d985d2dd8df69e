//! A writer's NULL convention, read from how it quotes. PostgreSQL's COPY, R's `write.csv`,
//! Python's `QUOTE_NONNUMERIC` and Sluice's own export write a missing value as a bare marker
//! (`\N`, `NA`, `NULL`) and quote text, so the text `"NA"` and the missing value `NA` are apart.
//! A file that shows this (the marker both quoted and bare, or bare in a column whose text is
//! always quoted) has its bare marker read as NULL in text columns too, as if it were stated,
//! and its quoted one as the text it is.

use std::collections::BTreeSet;

use crate::import::read::record_reader::{Dialect, RecordReader, is_delimiters_only};
use crate::import::sniff::value_formats::NULL_MARKERS;

/// The markers the sample's writer evidently writes bare for NULL.
pub fn markers_written_as_null(sample: &[u8], complete: bool, dialect: Dialect) -> Vec<String> {
    let mut reader = RecordReader::with_limit(sample, dialect, sample.len() + 16);
    let mut quoted_markers = BTreeSet::new();
    // (marker, column) of each bare marker.
    let mut bare_markers = BTreeSet::new();
    // Per column: values that are not markers, quoted and bare.
    let mut quoted_values: Vec<u64> = Vec::new();
    let mut bare_values: Vec<u64> = Vec::new();
    let mut flags = Vec::new();
    while let Ok(Some(record)) = reader.next_record() {
        if record.defect.is_some() {
            continue;
        }
        if !complete && record.byte_offset + record.raw.len() as u64 >= sample.len() as u64 {
            break;
        }
        if is_delimiters_only(record.raw, dialect.delimiter) {
            continue;
        }
        flags.clear();
        record.quoted_fields(&mut flags);
        if quoted_values.len() < record.len() {
            quoted_values.resize(record.len(), 0);
            bare_values.resize(record.len(), 0);
        }
        for (column, field) in record.fields().enumerate() {
            let quoted = flags.get(column).copied().unwrap_or(false);
            let marker = std::str::from_utf8(field)
                .ok()
                .and_then(|text| NULL_MARKERS.iter().find(|marker| **marker == text));
            match (marker, quoted) {
                (Some(marker), true) => {
                    quoted_markers.insert(*marker);
                }
                (Some(marker), false) => {
                    bare_markers.insert((*marker, column));
                }
                (None, _) if field.is_empty() => {}
                (None, true) => quoted_values[column] += 1,
                (None, false) => bare_values[column] += 1,
            }
        }
    }
    let text_always_quoted = |column: usize| quoted_values[column] > 0 && bare_values[column] == 0;
    let mut found: Vec<String> = bare_markers
        .iter()
        .filter(|(marker, column)| quoted_markers.contains(marker) || text_always_quoted(*column))
        .map(|(marker, _)| marker.to_string())
        .collect();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        markers_written_as_null(text.as_bytes(), true, Dialect::default())
    }

    #[test]
    fn a_marker_both_quoted_and_bare_is_the_writers_null() {
        assert_eq!(found("id,name\n1,\"\\N\"\n2,\\N\n3,plain\n"), ["\\N"]);
    }

    #[test]
    fn a_bare_marker_among_quoted_text_is_the_writers_null() {
        // PostgreSQL's COPY with FORCE_QUOTE, and R's write.csv.
        assert_eq!(found("\"id\",\"name\"\n\"1\",\"Ann\"\n\"2\",NULL\n"), ["NULL"]);
        assert_eq!(found("\"id\",\"country\"\n1,\"Namibia\"\n2,NA\n"), ["NA"]);
    }

    #[test]
    fn a_bare_marker_beside_bare_text_says_nothing() {
        assert!(found("id,name\n1,Ann\n2,NA\n3,None\n").is_empty());
        assert!(found("id,name\n1,\"Ann, B\"\n2,NA\n3,Bob\n").is_empty());
    }
}
