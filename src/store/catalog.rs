//! What the user's tables look like, read from DuckDB's catalog with bound parameters.

use duckdb::Connection;

use super::StoreError;
use crate::records::{Column, ExistingTable};

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

/// A user table as the window lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct TableInfo {
    /// The table's name.
    pub name: String,
    /// In table order.
    pub columns: Vec<Column>,
    /// DuckDB's own count of the table's rows, from its storage (no scan).
    pub rows: u64,
}

impl TableInfo {
    /// The table as an [`ExistingTable`]: its name and columns.
    pub fn as_existing(&self) -> ExistingTable {
        ExistingTable {
            name: self.name.clone(),
            columns: self.columns.clone(),
        }
    }
}

/// Every user table with its columns and row count, by name.
pub fn describe_tables(conn: &Connection) -> Result<Vec<TableInfo>, StoreError> {
    let context = "describing tables";
    let mut statement = conn
        .prepare(
            "SELECT t.table_name, t.estimated_size, list(c.column_name ORDER BY c.column_index), \
             list(c.data_type ORDER BY c.column_index) \
             FROM duckdb_tables() t JOIN duckdb_columns() c \
             ON c.table_oid = t.table_oid \
             WHERE t.schema_name = 'main' AND t.database_name = current_database() \
             GROUP BY t.table_name, t.estimated_size ORDER BY t.table_name",
        )
        .map_err(StoreError::query(context))?;
    let tables = statement
        .query_map([], |row| {
            let names = list_of_text(row.get_ref(2)?);
            let types = list_of_text(row.get_ref(3)?);
            Ok(TableInfo {
                name: row.get(0)?,
                rows: row.get::<_, Option<i64>>(1)?.unwrap_or(0).max(0) as u64,
                columns: names
                    .into_iter()
                    .zip(types)
                    .map(|(name, type_name)| Column::from_catalog(name, type_name))
                    .collect(),
            })
        })
        .map_err(StoreError::query(context))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::query(context))?;
    Ok(tables)
}

fn list_of_text(value: duckdb::types::ValueRef<'_>) -> Vec<String> {
    match value.to_owned() {
        duckdb::types::Value::List(items) => items
            .into_iter()
            .map(|item| match item {
                duckdb::types::Value::Text(text) => text,
                other => format!("{other:?}"),
            })
            .collect(),
        _ => Vec::new(),
    }
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

/// The columns of table `name` in `main`, in table order.
pub fn table_columns(conn: &Connection, name: &str) -> Result<Vec<Column>, StoreError> {
    Ok(column_types(conn, "main", name)?
        .into_iter()
        .map(|(column, data_type)| Column::from_catalog(column, data_type))
        .collect())
}

/// The columns of table `name` (matched ignoring case) in `schema`, with their types as DuckDB
/// names them, in table order.
pub(super) fn column_types(conn: &Connection, schema: &str, name: &str) -> Result<Vec<(String, String)>, StoreError> {
    let context = "reading a table's columns";
    let mut statement = conn
        .prepare(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? \
             AND database_name = current_database() AND lower(table_name) = lower(?) ORDER BY column_index",
        )
        .map_err(StoreError::query(context))?;
    let columns = statement
        .query_map([schema, name], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(StoreError::query(context))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::query(context))?;
    Ok(columns)
}

/// Whether `sluice.<name>` is a table (not a view, not absent).
pub(super) fn sluice_table_exists(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() \
         AND schema_name = 'sluice' AND table_name = ?",
        [name],
        |row| row.get::<_, i64>(0),
    )
    .map(|count| count > 0)
    .map_err(StoreError::query("looking at Sluice's tables"))
}

/// Table `name` with its columns, if it exists in `main`.
pub fn existing_table(conn: &Connection, name: &str) -> Result<Option<ExistingTable>, StoreError> {
    let Some(name) = table_exists(conn, name)? else {
        return Ok(None);
    };
    let columns = table_columns(conn, &name)?;
    Ok(Some(ExistingTable { name, columns }))
}
