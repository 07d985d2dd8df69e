//! DuckDB's own side of the comparisons `sluice bench` makes: its CSV reader, its sniffer and its
//! COPY, run on the same files and tables as Sluice. Kept in the engine so the command line
//! holds no SQL of its own.

use std::path::Path;

use duckdb::Connection;

use super::official_duckdb::run_official_duckdb;
use super::people_schema;
use crate::sql::{quote_ident, quote_literal, validate_table_name};

/// The `columns` argument of DuckDB's `read_csv` for the people file's types.
pub fn people_duckdb_columns() -> String {
    let columns: Vec<String> = people_schema()
        .columns
        .iter()
        .map(|column| format!("'{}': '{}'", column.name, column.column_type))
        .collect();
    format!("{{{}}}", columns.join(", "))
}

/// Creates (or replaces) `table` with `rows` rows of the generated people file's shape.
pub fn create_people_table(conn: &Connection, table: &str, rows: u64) -> anyhow::Result<()> {
    validate_table_name(table)?;
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE {} AS SELECT i AS id, \
         ['Ada','Alan','Grace','Linus'][1 + i % 4] || ' ' || ['Lovelace','Turing','Hopper','Torvalds'][1 + i % 3] AS name, \
         'user' || i || '@example.com' AS email, (18 + i % 73)::INTEGER AS age, \
         ['DE','FR','US','GB','NL','SE','JP','BR'][1 + i % 8] AS country, \
         DATE '2015-01-01' + (i % 3650)::INTEGER AS signup_date, \
         TIMESTAMP '2015-01-01 00:00:00' + to_seconds(i * 37 % 300000000) AS last_login, \
         ((i * 7919) % 1000000 / 100.0)::DECIMAL(12,2) AS amount \
         FROM range(1, {rows} + 1) t(i)",
        quote_ident(table)
    ))?;
    Ok(())
}

/// Reads the people file with DuckDB's `read_csv` into table `people`; returns the rows kept.
pub fn duckdb_read_people(conn: &Connection, file: &Path) -> duckdb::Result<i64> {
    conn.execute_batch(&format!(
        "CREATE TABLE people AS SELECT * FROM read_csv({}, header = true, columns = {}, ignore_errors = true)",
        quote_literal(&file.display().to_string()),
        people_duckdb_columns()
    ))?;
    conn.query_row("SELECT count(*) FROM people", [], |row| row.get(0))
}

/// Writes table `people` with DuckDB's COPY; returns the rows written.
pub fn duckdb_copy_people(conn: &Connection, out: &Path, gzip: bool) -> duckdb::Result<usize> {
    let options = if gzip { "HEADER, COMPRESSION gzip" } else { "HEADER" };
    conn.execute(
        &format!(
            "COPY people TO {} ({options})",
            quote_literal(&out.display().to_string())
        ),
        [],
    )
}

/// DuckDB's own Hive-partitioned Parquet of table `people`, for the export benchmark.
pub fn duckdb_copy_people_partitioned(conn: &Connection, out: &Path, column: &str) -> duckdb::Result<usize> {
    conn.execute(
        &format!(
            "COPY people TO {} (FORMAT parquet, PARTITION_BY ({}))",
            quote_literal(&out.display().to_string()),
            quote_ident(column)
        ),
        [],
    )
}

/// What DuckDB's reader makes of a file.
pub struct DuckdbRead {
    /// The type DuckDB gave each column, in column order.
    pub column_types: Vec<String>,
    /// Rows it kept.
    pub rows: u64,
    /// Whether it took the first line for a header.
    pub has_header: bool,
}

/// DuckDB's column types, rows kept and header decision for each of `paths`, by the official DuckDB (see [`run_official_duckdb`]), in
/// a database file under `dir`: its version, and per file what it read or why it could not.
pub fn official_duckdb_sniffs(
    python: &str,
    dir: &Path,
    paths: &[std::path::PathBuf],
) -> anyhow::Result<(String, Vec<Result<DuckdbRead, String>>)> {
    let statements: Vec<String> = paths
        .iter()
        .enumerate()
        .flat_map(|(index, path)| {
            let file = quote_literal(&path.to_string_lossy());
            [
                format!(
                    "CREATE TABLE {} AS SELECT * FROM read_csv({file}, ignore_errors = true)",
                    quote_ident(&format!("read_{index}"))
                ),
                format!(
                    "CREATE TABLE {} AS SELECT HasHeader FROM sniff_csv({file}, ignore_errors = true)",
                    quote_ident(&format!("sniff_{index}"))
                ),
            ]
        })
        .collect();
    let database = dir.join("official_sniff.duckdb");
    let run = run_official_duckdb(python, &database, &statements)?;
    let conn = Connection::open_with_flags(
        &database,
        duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly)?,
    )?;
    let reads = run
        .results
        .chunks(2)
        .enumerate()
        .map(|(index, ran)| {
            if let Some(failed) = ran.iter().find(|statement| !statement.ok) {
                return Err(failed.error.clone().unwrap_or_default());
            }
            read_sniffed(&conn, index).map_err(|error| error.to_string())
        })
        .collect();
    Ok((run.version, reads))
}

/// What the official DuckDB's statements for file `index` left in its database.
fn read_sniffed(conn: &Connection, index: usize) -> duckdb::Result<DuckdbRead> {
    let table = quote_ident(&format!("read_{index}"));
    let mut statement = conn.prepare(&format!("DESCRIBE {table}"))?;
    let column_types = statement
        .query_map([], |row| row.get::<_, String>(1))?
        .collect::<Result<Vec<_>, _>>()?;
    let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0))?;
    let has_header = conn.query_row(
        &format!("SELECT HasHeader FROM {}", quote_ident(&format!("sniff_{index}"))),
        [],
        |row| row.get(0),
    )?;
    Ok(DuckdbRead {
        column_types,
        rows: rows.max(0) as u64,
        has_header,
    })
}
