//! The sample a file is sniffed from, as records: the head of the file cut into records (a last
//! record the cut may have split is dropped), and blocks spread through the rest of a plain file,
//! so a column whose values change form after the first megabyte is typed for all of them.

use std::io::Read;
use std::path::Path;

use encoding_rs::Encoding;

use crate::import::read::record_reader::{Dialect, RecordReader, is_delimiters_only};

/// Parses the sample into text records, dropping a last record that the sample may have cut.
pub(in crate::import) fn read_sample(sample: &[u8], complete: bool, dialect: Dialect) -> Vec<Vec<String>> {
    let mut reader = RecordReader::with_limit(sample, dialect, sample.len() + 16);
    let mut records = Vec::new();
    while let Ok(Some(record)) = reader.next_record() {
        if record.defect.is_some() {
            // In a cut sample an open quote may just be closed past the cut: stop there.
            if complete {
                continue;
            }
            break;
        }
        let ended_inside = !complete && record.byte_offset + record.raw.len() as u64 >= sample.len() as u64;
        if ended_inside {
            break;
        }
        // A line of delimiters only is blank to a person, and the import skips it as one.
        if is_delimiters_only(record.raw, dialect.delimiter) {
            continue;
        }
        records.push(
            record
                .fields()
                .map(|field| String::from_utf8_lossy(field).into_owned())
                .collect(),
        );
    }
    records
}

/// The size of a block read past the head for typing.
const SPREAD_BLOCK_BYTES: u64 = 64 * 1024;

/// Records from blocks spread evenly through the rest of a plain (not compressed) file in an
/// ASCII-compatible encoding, where a byte offset can be jumped to, and how many of them, at the
/// end, are the file's last records (the last block runs to the end of the file; a total line
/// is looked for there). Each block is read from its
/// first line break to its last, so its records are whole unless a quoted field spans the break;
/// such a record rarely has the table's width, and only records of that width are used.
pub(in crate::import) fn spread_records(
    path: &Path,
    file_len: u64,
    head_len: usize,
    encoding: &'static Encoding,
    dialect: Dialect,
    spread_blocks: u64,
) -> (Vec<Vec<String>>, usize) {
    use std::io::{Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return (Vec::new(), 0);
    };
    let start = head_len as u64;
    if file_len <= start {
        return (Vec::new(), 0);
    }
    // What is left after the head may be less than a block: then it is read whole, as the end.
    let span = file_len.saturating_sub(start + SPREAD_BLOCK_BYTES);
    let blocks = if span == 0 { 1 } else { spread_blocks.max(1) };
    let mut records = Vec::new();
    let mut at_end = 0;
    let mut block = vec![0u8; SPREAD_BLOCK_BYTES as usize];
    for index in 1..=blocks {
        // When less than a block follows the head, the last block of the file is read: it
        // overlaps the head, so the record the head cut at its end is whole in it.
        let offset = if span == 0 {
            file_len.saturating_sub(SPREAD_BLOCK_BYTES)
        } else {
            start + span * index / blocks
        };
        if file.seek(SeekFrom::Start(offset)).is_err() {
            break;
        }
        let Ok(read) = file.read(&mut block) else {
            break;
        };
        let bytes = &block[..read];
        // The last block runs to the end of the file, and so ends with the last record whole.
        let reaches_end = offset + read as u64 >= file_len;
        let (Some(first), Some(last)) = (
            bytes.iter().position(|&b| b == b'\n'),
            if reaches_end {
                read.checked_sub(1)
            } else {
                bytes.iter().rposition(|&b| b == b'\n')
            },
        ) else {
            continue;
        };
        if first >= last {
            continue;
        }
        let lines = &bytes[first + 1..=last];
        let text = encoding.decode_without_bom_handling(lines).0;
        let block_records = read_sample(text.as_bytes(), true, dialect);
        at_end = if reaches_end { block_records.len() } else { 0 };
        records.extend(block_records);
    }
    (records, at_end)
}
