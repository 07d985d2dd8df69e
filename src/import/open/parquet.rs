//! Parquet files, read with DuckDB's own reader on a connection of their own and rendered as
//! CSV text (see `rendered`), so Sluice's plan, rules and accounting apply to them as to a CSV.
//!
//! Every value is written as DuckDB casts it to text (dates and timestamps in ISO form, numbers
//! exactly), NULL as nothing and an empty string as `""`, so the two stay apart. The header is
//! the file's column names; row `n` is line `n`.
//!
//! A file in a Hive-partitioned folder (`flag=true/part-0.parquet`, as DuckDB's partitioned
//! `COPY` and Sluice's export write them) holds its partition columns in its folders' names, not
//! in its rows: they are read from there as text, like DuckDB's `hive_partitioning` but without
//! its casts (a folder `code=007` is the text 007, not the number 7), and follow the file's own
//! columns, to be typed like any other.

use std::path::Path;

use duckdb::Connection;

use crate::import::open::input_formats::InputFormat;
use crate::import::open::rendered::{self, Rendering, TextOut};
use crate::import::open::source::{SourceError, TextSource};
use crate::sql::quote_ident;

/// Whether `path` is a Parquet file, by its extension.
pub fn is_parquet(path: &Path) -> bool {
    crate::import::open::input_formats::format_of(path)
        == Some(crate::import::open::input_formats::InputFormat::Parquet)
}

/// Opens the rows of the Parquet file at `path` as CSV text.
pub fn open_parquet(path: &Path) -> Result<TextSource, SourceError> {
    let open_error = |source| SourceError::Open {
        path: path.to_path_buf(),
        source,
    };
    // Opened here so a file that is not there says so at once, like any other.
    std::fs::File::open(path).map_err(open_error)?;
    let rendering = Rendering {
        format: InputFormat::Parquet,
        first_line: 0,
        sheets: Vec::new(),
        sheet: None,
        sheet_first_column: None,
    };
    let file = path.to_string_lossy().into_owned();
    rendered::spawn(path, "sluice-parquet", rendering, move |out| {
        render(&file, out).map_err(|error| format!("reading the Parquet file: {error}"))
    })
    .map_err(open_error)
}

fn render(file: &str, out: &mut TextOut) -> Result<(), duckdb::Error> {
    let conn = Connection::open_in_memory()?;
    let columns: Vec<String> = conn
        .prepare("SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false))")?
        .query_map([file], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let total: i64 = conn.query_row(
        "SELECT count(*) FROM read_parquet(?, hive_partitioning = false)",
        [file],
        |row| row.get(0),
    )?;
    let partitions: Vec<(String, Option<String>)> = hive_partitions(Path::new(file))
        .into_iter()
        .filter(|(name, _)| !columns.iter().any(|column| column.eq_ignore_ascii_case(name)))
        .collect();
    for column in columns.iter().chain(partitions.iter().map(|(name, _)| name)) {
        out.field(Some(column));
    }
    if !out.end_line() {
        return Ok(());
    }
    let select: Vec<String> = columns
        .iter()
        .map(|column| format!("CAST({} AS VARCHAR)", quote_ident(column)))
        .collect();
    let mut statement = conn.prepare(&format!(
        "SELECT {} FROM read_parquet(?, hive_partitioning = false)",
        select.join(", ")
    ))?;
    let mut rows = statement.query([file])?;
    let mut done = 0u64;
    while let Some(row) = rows.next()? {
        for index in 0..columns.len() {
            let value: Option<String> = row.get(index)?;
            out.field(value.as_deref());
        }
        for (_, value) in &partitions {
            out.field(value.as_deref());
        }
        done += 1;
        if done.is_multiple_of(4096) {
            out.progress(done, total.max(0) as u64);
        }
        if !out.end_line() {
            return Ok(());
        }
    }
    Ok(())
}

/// What DuckDB writes for a NULL partition value.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// The `name=value` folders a file sits in, outermost first, values percent-decoded and
/// [`HIVE_NULL`] as NULL; a name given twice keeps its innermost value.
pub fn hive_partitions(path: &Path) -> Vec<(String, Option<String>)> {
    let mut partitions: Vec<(String, Option<String>)> = Vec::new();
    let Some(folder) = path.parent() else {
        return partitions;
    };
    for component in folder.components() {
        let std::path::Component::Normal(part) = component else {
            continue;
        };
        let Some((name, value)) = part.to_str().and_then(|part| part.split_once('=')) else {
            continue;
        };
        let name = percent_decoded(name);
        if name.is_empty() {
            continue;
        }
        let value = (value != HIVE_NULL).then(|| percent_decoded(value));
        partitions.retain(|(earlier, _)| *earlier != name);
        partitions.push((name, value));
    }
    partitions
}

/// `%XX` escapes as their bytes, as DuckDB escapes partition values in folder names.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|byte| char::from(*byte).to_digit(16));
        match (bytes[index], hex(index + 1), hex(index + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                index += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_folders_name_columns_and_their_values() {
        let path = Path::new("/data/out/region=North%20East/flag=__HIVE_DEFAULT_PARTITION__/a=1/data_0.parquet");
        assert_eq!(
            hive_partitions(path),
            [
                ("region".to_string(), Some("North East".to_string())),
                ("flag".to_string(), None),
                ("a".to_string(), Some("1".to_string())),
            ]
        );
        assert!(hive_partitions(Path::new("/data/plain/file.parquet")).is_empty());
        assert_eq!(
            hive_partitions(Path::new("x=1/y/x=2/f.parquet")),
            [("x".to_string(), Some("2".to_string()))]
        );
        assert_eq!(percent_decoded("a%3Db%2F%C3%A9%zz"), "a=b/é%zz");
    }
}
