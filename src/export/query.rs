//! The export's SELECT: the table and columns resolved by [`crate::query`], the filters, and the
//! order.

use duckdb::Connection;

use super::{ExportError, ExportRequest};
use crate::query::{BoundFilters, Column, bind_filters, resolve_table};
use crate::sql::quote_ident;

/// The name the exported table goes by in the export's SELECT.
const SOURCE_ALIAS: &str = "sluice_source";

/// The statement an export runs, its row count, and what its columns are.
#[derive(Clone, Debug)]
pub struct ExportQuery {
    /// The table as the catalog spells it.
    pub table: String,
    /// Selected columns, in output order.
    pub columns: Vec<Column>,
    /// `SELECT` of the selected columns, each cast to text by DuckDB (so values are written as
    /// DuckDB writes them), with filters and order.
    pub select_text_sql: String,
    /// The same rows with their own types, for DuckDB's Parquet writer.
    pub select_typed_sql: String,
    pub count_sql: String,
    pub params: Vec<String>,
}

/// Checks the request against the catalog and builds its queries.
pub fn build_query(conn: &Connection, request: &ExportRequest) -> Result<ExportQuery, ExportError> {
    let table = resolve_table(conn, &request.table)?;
    let columns: Vec<Column> = if request.columns.is_empty() {
        table.columns.clone()
    } else {
        request
            .columns
            .iter()
            .map(|wanted| table.column(wanted).cloned())
            .collect::<Result<_, _>>()?
    };
    let BoundFilters { where_sql, params } = bind_filters(conn, &table.columns, &request.filters)?;
    // Every column is named through the table's alias: the text projection below is aliased with
    // the column's own name, and an unqualified ORDER BY binds to the select list first, which
    // would sort numbers and dates as text (100009 before 10001).
    let source = |name: &str| format!("{SOURCE_ALIAS}.{}", quote_ident(name));
    let order_sql = match &request.order_by {
        Some(order) => {
            let column = table.column(&order.column)?;
            format!(
                " ORDER BY {}{}",
                column.sql_type.comparable(&source(&column.name)),
                if order.descending { " DESC" } else { "" }
            )
        }
        None => String::new(),
    };
    let from = format!(" FROM {} AS {SOURCE_ALIAS}{where_sql}", quote_ident(&table.name));
    let text_columns: Vec<String> = columns
        .iter()
        .map(|column| {
            format!(
                "CAST({} AS VARCHAR) AS {}",
                source(&column.name),
                quote_ident(&column.name)
            )
        })
        .collect();
    let typed_columns: Vec<String> = columns
        .iter()
        .map(|column| format!("{} AS {}", source(&column.name), quote_ident(&column.name)))
        .collect();
    Ok(ExportQuery {
        table: table.name.clone(),
        select_text_sql: format!("SELECT {}{from}{order_sql}", text_columns.join(", ")),
        select_typed_sql: format!("SELECT {}{from}{order_sql}", typed_columns.join(", ")),
        count_sql: format!("SELECT count(*){from}"),
        columns,
        params,
    })
}
