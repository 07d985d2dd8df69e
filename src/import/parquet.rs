//! Parquet files, read with DuckDB's own reader on a connection of their own and rendered as
//! CSV text (see `rendered`), so Sluice's plan, rules and accounting apply to them as to a CSV.
//!
//! Every value is written as DuckDB casts it to text (dates and timestamps in ISO form, numbers
//! exactly), NULL as nothing and an empty string as `""`, so the two stay apart. The header is
//! the file's column names; row `n` is line `n`.

use std::path::Path;

use duckdb::Connection;

use super::rendered::{self, Rendering, TextOut};
use super::source::{Packing, SourceError, TextSource};
use crate::sql::quote_ident;

/// Whether `path` is a Parquet file, by its extension.
pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| extension.eq_ignore_ascii_case("parquet"))
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
        packing: Packing::Parquet,
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
        .prepare("SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(?))")?
        .query_map([file], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let total: i64 = conn.query_row("SELECT count(*) FROM read_parquet(?)", [file], |row| row.get(0))?;
    for column in &columns {
        out.field(Some(column));
    }
    if !out.end_line() {
        return Ok(());
    }
    let select: Vec<String> = columns
        .iter()
        .map(|column| format!("CAST({} AS VARCHAR)", quote_ident(column)))
        .collect();
    let mut statement = conn.prepare(&format!("SELECT {} FROM read_parquet(?)", select.join(", ")))?;
    let mut rows = statement.query([file])?;
    let mut done = 0u64;
    while let Some(row) = rows.next()? {
        for index in 0..columns.len() {
            let value: Option<String> = row.get(index)?;
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
