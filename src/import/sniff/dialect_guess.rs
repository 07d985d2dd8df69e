//! Guessing a delimited text's dialect from its sample: the quote, the delimiter under which
//! most records share one width, a backslash escape, spaces after delimiters, and a comment
//! prefix. Each is chosen by how many sampled records it makes agree, never by the file's name.

use std::collections::HashMap;

use crate::import::read::dialect::DELIMITERS;
use crate::import::read::record_reader::Dialect;
use crate::import::sniff::hints::SniffHints;
use crate::import::sniff::layout::modal_width;
use crate::import::sniff::sample::read_sample;

/// Picks the quote, then the delimiter under which the most records share one field count
/// (above one). Ties go to the earlier candidate, so `,` wins when nothing else is better.
pub(in crate::import) fn choose_dialect(sample: &[u8], complete: bool, hints: &SniffHints) -> Dialect {
    let delimiters: Vec<u8> = hints.delimiter.map_or(DELIMITERS.to_vec(), |d| vec![d]);
    let quote = hints.quote.unwrap_or_else(|| choose_quote(sample, &delimiters));
    let mut best = ((0usize, 0usize), delimiters[0]);
    for &delimiter in &delimiters {
        let score = consistency(
            sample,
            complete,
            Dialect {
                delimiter,
                quote,
                escape: hints.escape,
                ..Dialect::default()
            },
        );
        if score > best.0 {
            best = (score, delimiter);
        }
    }
    Dialect {
        delimiter: best.1,
        quote,
        escape: hints.escape,
        ..Dialect::default()
    }
}

/// A backslash is the escape when the sample has `\` before a quote and reading it so makes
/// more records share one width (or as many, with fewer records cut apart).
pub(in crate::import) fn choose_escape(sample: &[u8], complete: bool, dialect: Dialect) -> Dialect {
    let backslash_quote = [b'\\', dialect.quote];
    if dialect.escape.is_some() || !sample.windows(2).any(|pair| pair == backslash_quote) {
        return dialect;
    }
    let escaped = Dialect {
        escape: Some(b'\\'),
        ..dialect
    };
    if agreeing_share(sample, complete, escaped) > agreeing_share(sample, complete, dialect) {
        escaped
    } else {
        dialect
    }
}

/// Spaces between a delimiter and a quote are dropped when the sample has them and dropping
/// them makes at least as large a share of records agree on one width.
pub(in crate::import) fn choose_quote_spacing(sample: &[u8], complete: bool, dialect: Dialect) -> Dialect {
    let has_spaced_quote = sample.windows(3).any(|window| {
        window[0] == dialect.delimiter && window[1] == b' ' && (window[2] == dialect.quote || window[2] == b' ')
    }) && sample
        .windows(2)
        .any(|pair| pair[0] == b' ' && pair[1] == dialect.quote);
    if !has_spaced_quote || dialect.delimiter == b' ' {
        return dialect;
    }
    let spaced = Dialect {
        spaces_before_quotes: true,
        ..dialect
    };
    let (spaced_share, plain_share) = (
        agreeing_share(sample, complete, spaced),
        agreeing_share(sample, complete, dialect),
    );
    // Only quoted delimiters that the spaces hid prove the space is part of the separator.
    if spaced_share > plain_share {
        Dialect {
            spaced_separator: true,
            ..spaced
        }
    } else if spaced_share == plain_share {
        spaced
    } else {
        dialect
    }
}

/// The share of sampled records that have the modal width.
pub(in crate::import) fn agreeing_share(sample: &[u8], complete: bool, dialect: Dialect) -> f64 {
    let (agree, _) = consistency(sample, complete, dialect);
    let records = read_sample(&sample[..sample.len().min(256 * 1024)], true, dialect).len();
    agree as f64 / records.max(1) as f64
}

/// `'` only when it opens fields and `"` never does. Judging quotes by field counts alone would
/// be wrong: a quote that is not the file's splits its multi-line fields into neat extra records.
pub(in crate::import) fn choose_quote(sample: &[u8], delimiters: &[u8]) -> u8 {
    let opens_fields = |quote: u8| {
        sample.iter().enumerate().any(|(index, &byte)| {
            byte == quote
                && sample[..index]
                    .iter()
                    .rposition(|&b| b != b' ')
                    .is_none_or(|at| matches!(sample[at], b'\n' | b'\r') || delimiters.contains(&sample[at]))
        })
    };
    if !opens_fields(b'"') && opens_fields(b'\'') {
        b'\''
    } else {
        b'"'
    }
}

/// (records with the modal field count, modal field count), or zeros when the modal count is 1.
pub(in crate::import) fn consistency(sample: &[u8], complete: bool, dialect: Dialect) -> (usize, usize) {
    let records = read_sample(
        &sample[..sample.len().min(256 * 1024)],
        complete || sample.len() <= 256 * 1024,
        dialect,
    );
    let widths: Vec<usize> = records.iter().take(500).map(Vec::len).collect();
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for width in &widths {
        *counts.entry(*width).or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(width, _)| *width > 1)
        .map(|(width, count)| (count, width))
        .max()
        .unwrap_or((0, 0))
}

/// Whether a sampled record is a comment line: its first field starts with the prefix.
pub(in crate::import) fn is_comment(record: &[String], prefix: u8) -> bool {
    record
        .first()
        .is_some_and(|field| field.as_bytes().first() == Some(&prefix))
}

/// `#` is the comment prefix when some records start with it and none of those has the width
/// the other records share: then they cannot be data (a `#` in a data column would be).
pub(in crate::import) fn detect_comment(records: &[Vec<String>]) -> Option<u8> {
    let probe = &records[..records.len().min(500)];
    let (comments, rest): (Vec<&Vec<String>>, Vec<&Vec<String>>) =
        probe.iter().partition(|record| is_comment(record, b'#'));
    if comments.is_empty() || rest.len() < 2 {
        return None;
    }
    let rest: Vec<Vec<String>> = rest.into_iter().cloned().collect();
    let width = modal_width(&rest)?;
    (width > 1 && comments.iter().all(|record| record.len() != width)).then_some(b'#')
}
