//! What the user's tables look like, read from DuckDB's catalog with bound parameters.

use duckdb::Connection;

use super::StoreError;
use crate::import::ExistingTable;

/// The user's tables (schema `main`), by name.
pub fn list_tables(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let context = "listing tables";
    let mut statement = conn
        .prepare("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND database_name = current_database() ORDER BY table_name")
        .map_err(StoreError::query(context))?;
    let names = statement
        .query_map([], |row| row.get(0))
        .map_err(StoreError::query(context))?
        .collect::<Result<Vec<String>, _>>()
        .map_err(StoreError::query(context))?;
    Ok(names)
}

/// The catalog's spelling of table `name` (DuckDB names ignore case), if it exists in `main`.
pub fn table_exists(conn: &Connection, name: &str) -> Result<Option<String>, StoreError> {
    let context = "looking up a table";
    let mut statement = conn
        .prepare(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' \
             AND database_name = current_database() AND lower(table_name) = lower(?)",
        )
        .map_err(StoreError::query(context))?;
    let mut rows = statement.query([name]).map_err(StoreError::query(context))?;
    match rows.next().map_err(StoreError::query(context))? {
        Some(row) => Ok(Some(row.get(0).map_err(StoreError::query(context))?)),
        None => Ok(None),
    }
}

/// (column name, type name) of table `name` in `main`, in table order.
pub fn table_columns(conn: &Connection, name: &str) -> Result<Vec<(String, String)>, StoreError> {
    let context = "reading a table's columns";
    let mut statement = conn
        .prepare(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' \
             AND database_name = current_database() AND lower(table_name) = lower(?) ORDER BY column_index",
        )
        .map_err(StoreError::query(context))?;
    let columns = statement
        .query_map([name], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(StoreError::query(context))?
        .collect::<Result<Vec<(String, String)>, _>>()
        .map_err(StoreError::query(context))?;
    Ok(columns)
}

/// Table `name` with its columns, if it exists in `main`.
pub fn existing_table(conn: &Connection, name: &str) -> Result<Option<ExistingTable>, StoreError> {
    let Some(name) = table_exists(conn, name)? else {
        return Ok(None);
    };
    let columns = table_columns(conn, &name)?;
    Ok(Some(ExistingTable { name, columns }))
}
