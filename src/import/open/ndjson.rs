//! Newline-delimited JSON (`.ndjson`, `.jsonl`): one object per line, its keys the columns.
//!
//! The columns are the keys of the first lines (up to [`SAMPLE_LINES`] of them), in the order
//! they first appear. Each line is rendered as a CSV record under a header of those keys (see
//! `rendered`): a string as its text (an empty one stays an empty string), a number as written,
//! `true`/`false`, `null` or a missing key as NULL, an array or object as its JSON text. A line
//! that does not parse, is not an object, or has keys the first lines did not is a failed row
//! with its own text and the reason; a blank line is skipped and counted. Line `n` is the
//! file's line `n`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::{Map, Value};

use crate::import::open::input_formats::InputFormat;
use crate::import::open::rendered::{self, Rendering, TextOut};
use crate::import::open::source::{SourceError, TextSource};

/// Lines whose keys make the columns.
const SAMPLE_LINES: usize = 1_000;

/// Whether `path` is newline-delimited JSON, by its extension.
pub fn is_ndjson(path: &Path) -> bool {
    crate::import::open::input_formats::format_of(path) == Some(crate::import::open::input_formats::InputFormat::Ndjson)
}

/// Opens the JSON lines of `path` as CSV text.
pub fn open_ndjson(path: &Path) -> Result<TextSource, SourceError> {
    let open_error = |source| SourceError::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(open_error)?;
    let rendering = Rendering {
        format: InputFormat::Ndjson,
        first_line: 0,
        sheets: Vec::new(),
        sheet: None,
        sheet_first_column: None,
    };
    let total = file.metadata().map_or(0, |metadata| metadata.len());
    rendered::spawn(path, "sluice-json", rendering, move |out| {
        render(BufReader::with_capacity(256 * 1024, file), total, out)
    })
    .map_err(open_error)
}

/// A line of the file as it was read.
struct Line {
    text: String,
    parsed: Result<Map<String, Value>, String>,
}

fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> Result<Option<Line>, String> {
    buf.clear();
    let read = reader.read_until(b'\n', buf).map_err(|error| error.to_string())?;
    if read == 0 {
        return Ok(None);
    }
    while buf.last().is_some_and(|byte| matches!(byte, b'\n' | b'\r')) {
        buf.pop();
    }
    let text = String::from_utf8_lossy(buf).into_owned();
    let parsed = if buf.iter().all(u8::is_ascii_whitespace) {
        Ok(Map::new())
    } else {
        match serde_json::from_slice::<Value>(buf) {
            Ok(Value::Object(object)) => Ok(object),
            Ok(_) => Err("the line is JSON but not an object ({...}), so it has no columns".to_string()),
            Err(error) => Err(format!("the line is not valid JSON: {error}")),
        }
    };
    Ok(Some(Line { text, parsed }))
}

fn render(mut reader: impl BufRead, total: u64, out: &mut TextOut) -> Result<(), String> {
    let mut buf = Vec::new();
    let mut sample = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    while sample.len() < SAMPLE_LINES {
        let Some(line) = read_line(&mut reader, &mut buf)? else {
            break;
        };
        if let Ok(object) = &line.parsed {
            for key in object.keys() {
                if !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
        }
        sample.push(line);
    }
    for key in &keys {
        out.field(Some(key));
    }
    if !out.end_line() {
        return Ok(());
    }
    let mut consumed = 0u64;
    let mut lines = sample
        .into_iter()
        .map(Ok)
        .chain(std::iter::from_fn(|| read_line(&mut reader, &mut buf).transpose()));
    while let Some(line) = lines.next().transpose()? {
        consumed += line.text.len() as u64 + 1;
        out.progress(consumed, total);
        if !write_line(out, &keys, line) {
            return Ok(());
        }
    }
    Ok(())
}

/// Writes one line as a record of `keys`' values; false when the reader has gone away.
fn write_line(out: &mut TextOut, keys: &[String], line: Line) -> bool {
    let object = match line.parsed {
        Ok(object) => object,
        Err(reason) => return out.reject_line(&line.text, reason),
    };
    if object.is_empty() && line.text.trim().is_empty() {
        return out.end_line();
    }
    let unknown: Vec<&str> = object
        .keys()
        .filter(|key| !keys.contains(key))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let reason = format!(
            "the line has keys the first {SAMPLE_LINES} lines did not, so no column holds them: {}",
            unknown.join(", ")
        );
        return out.reject_line(&line.text, reason);
    }
    for key in keys {
        match object.get(key) {
            None | Some(Value::Null) => out.field(None),
            Some(Value::String(text)) => out.field(Some(text)),
            Some(Value::Bool(flag)) => out.field(Some(if *flag { "true" } else { "false" })),
            Some(Value::Number(number)) => out.field(Some(&number.to_string())),
            Some(nested) => out.field(Some(&nested.to_string())),
        }
    }
    out.end_line()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_columns_and_bad_lines_are_kept_with_their_reason() {
        let input = "{\"id\":1,\"name\":\"Ann\",\"tags\":[1,2]}\n\n{\"id\":-2,\"name\":\"\"}\r\n{oops\n[1]\n{\"id\":3,\"name\":null,\"extra\":true}\n";
        let (text, rejected) = crate::import::open::rendered::tests::rendered(|out| {
            // The third line's key comes after the sample: here the sample is every line.
            render(input.as_bytes(), input.len() as u64, out).unwrap();
        });
        assert_eq!(
            text,
            "id,name,tags,extra\n1,Ann,\"[1,2]\",\n\n-2,\"\",,\n\"\"\n\"\"\n3,,,true\n"
        );
        let reasons: Vec<&str> = rejected.iter().map(|entry| entry.reason.as_str()).collect();
        assert!(reasons[0].starts_with("the line is not valid JSON"), "{reasons:?}");
        assert!(reasons[1].contains("not an object"));
        assert_eq!(rejected[0].raw, "{oops");
    }
}
