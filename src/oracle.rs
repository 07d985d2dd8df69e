//! Checks of an import against what Sluice did not compute itself: the `csv` crate's count of
//! the same text's records, and the database's own counts of the table and the failed rows.
//!
//! The corpus tests and the fuzzer hold every import to these, so the accounting promise
//! (every record imported, failed or skipped) is measured by a reader Sluice does not own rather
//! than by Sluice's `rows_read`.

use std::io::Read;
use std::path::Path;

use crate::import::input_formats::{Compression, InputFormat};
use crate::import::{ImportSummary, MAX_LISTED_SKIPPED_LINES, SniffHints, sniff};
use crate::sql::quote_ident;
use crate::store::{FailedRowFilter, Store, count_failed_rows, problem_counts, read_skipped_lines};

/// How many data records the `csv` crate reads in `text` with the given dialect (after a first
/// record it takes for the header when `has_header`).
pub fn csv_crate_records(
    text: &[u8],
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
    has_header: bool,
) -> Result<u64, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quote(quote)
        .escape(escape)
        .has_headers(has_header)
        .flexible(true)
        .from_reader(text);
    let mut record = csv::ByteRecord::new();
    let mut count = 0;
    while reader.read_byte_record(&mut record)? {
        count += 1;
    }
    Ok(count)
}

/// The database's side of an import's accounting: imported + failed = read, the table holds the
/// rows imported (`rows_before` were there already) and the failed rows kept are the ones counted.
pub fn check_accounting(store: &Store, table: &str, rows_before: u64, summary: &ImportSummary) -> Result<(), String> {
    if summary.rows_imported + summary.rows_failed != summary.rows_read {
        return Err(format!(
            "imported {} + failed {} != read {}",
            summary.rows_imported, summary.rows_failed, summary.rows_read
        ));
    }
    let in_table: i64 = store
        .conn()
        .query_row(&format!("SELECT count(*) FROM {}", quote_ident(table)), [], |row| {
            row.get(0)
        })
        .map_err(|error| error.to_string())?;
    if in_table as u64 != rows_before + summary.rows_inserted {
        return Err(format!(
            "table holds {in_table}: {rows_before} before and {} inserted",
            summary.rows_inserted
        ));
    }
    let failed = count_failed_rows(store.conn(), summary.job_id, &FailedRowFilter::default())
        .map_err(|error| error.to_string())?;
    if failed != summary.rows_failed {
        return Err(format!("{failed} failed rows kept, {} counted", summary.rows_failed));
    }
    Ok(())
}

/// Compares an import of one delimited file with an independent count: the `csv` crate's reader
/// over the same text with the dialect Sluice sniffed (delimiter, quote, header). Imported +
/// failed + skipped must be that count. Returns whether the file was compared.
///
/// Compared: gzip files decompressed here, UTF-16 and Windows-1252 ones decoded here with the
/// encoding Sluice detected, byte order marks skipped. Blank lines need no exclusion: both readers
/// skip them.
///
/// Left out, because the two must differ by design:
/// - files that end inside an open quote (the `csv` crate finds these itself: a line added after
///   the end is swallowed into the open field instead of making a record). Sluice sets aside the
///   line that opened the quote and reads on from the next line; a plain reader makes the rest of
///   the file one field;
/// - files in which Sluice failed a row as `unclosed_quote` or `line_too_long`: the same recovery,
///   and a line over 32 MiB is cut;
/// - files with more skipped lines than Sluice lists one by one;
/// - files read with spaces before quotes dropped (`a, "b, c"`), which the `csv` crate cannot.
pub fn compare_with_csv_crate(store: &Store, path: &Path, summary: &ImportSummary) -> Result<bool, String> {
    let show = |what: String| format!("{}: {what}", path.display());
    let recovered: u64 = problem_counts(store.conn(), summary.job_id)
        .map_err(|error| show(format!("counting recovered rows: {error}")))?
        .into_iter()
        .filter(|(kind, _)| kind == "unclosed_quote" || kind == "line_too_long")
        .map(|(_, rows)| rows)
        .sum();
    if recovered > 0 {
        return Ok(false);
    }
    let sniffed = sniff(path, &SniffHints::default()).map_err(|error| show(format!("sniffing again: {error}")))?;
    if sniffed.layout.dialect.spaces_before_quotes || sniffed.layout.dialect.spaced_separator {
        return Ok(false);
    }
    let mut bytes = std::fs::read(path).map_err(|error| show(format!("reading: {error}")))?;
    if sniffed.layout.format != InputFormat::Delimited {
        return Ok(false);
    }
    match sniffed.compression {
        Compression::None => {}
        Compression::Gzip => {
            let mut plain = Vec::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut plain)
                .map_err(|error| show(format!("decompressing: {error}")))?;
            bytes = plain;
        }
        Compression::Zstd => {
            bytes = zstd::decode_all(&bytes[..]).map_err(|error| show(format!("decompressing: {error}")))?;
        }
        Compression::Zip => return Ok(false),
    }
    let body = &bytes[sniffed.layout.encoding.bom_len.min(bytes.len())..];
    let text: Vec<u8> = if sniffed.layout.encoding.encoding.name() == "UTF-8" {
        // As it is: bytes that are not UTF-8 do not change where records end.
        body.to_vec()
    } else {
        let (decoded, _) = sniffed.layout.encoding.encoding.decode_without_bom_handling(body);
        decoded.into_owned().into_bytes()
    };
    let (delimiter, quote) = (sniffed.layout.dialect.delimiter, sniffed.layout.dialect.quote);
    let count = |text: &[u8]| {
        csv_crate_records(
            text,
            delimiter,
            quote,
            sniffed.layout.dialect.escape,
            sniffed.layout.has_header,
        )
        .map_err(|error| show(format!("the csv crate could not read it: {error}")))
    };
    let independent = count(&text[..])?;
    let mut extended = text.clone();
    extended.extend_from_slice(b"\nx\n");
    if count(&extended[..])? == independent {
        return Ok(false);
    }
    // Records Sluice skipped above the header (a title, comments) are records to the csv crate,
    // which takes the first of them for the header instead; blank lines, which Sluice counts as
    // skipped lines, are nothing to it (but a line of delimiters only, which Sluice skips as blank
    // too, is a record to it).
    if summary.rows_skipped > MAX_LISTED_SKIPPED_LINES {
        return Ok(false);
    }
    let blank = read_skipped_lines(store.conn(), summary.job_id, MAX_LISTED_SKIPPED_LINES)
        .map_err(|error| show(format!("counting blank lines: {error}")))?
        .iter()
        .filter(|line| line.reason == "blank" && line.raw.is_empty())
        .count();
    // A header's lines after its first are records to the csv crate, and neither rows nor
    // skipped lines to Sluice.
    let later_header_lines = sniffed.layout.header_lines.saturating_sub(1) as u64;
    if independent + blank as u64 != summary.rows_read + summary.rows_skipped + later_header_lines {
        return Err(show(format!(
            "Sluice read {} rows and skipped {}, the csv crate {independent} (delimiter {:?}, quote {:?}, header {})",
            summary.rows_read,
            summary.rows_skipped,
            char::from(delimiter),
            char::from(quote),
            sniffed.layout.has_header
        )));
    }
    Ok(true)
}
