//! The export's SELECT: a table and columns that must exist in the catalog (an unknown name is
//! refused with the closest names suggested), the filters, and the order.

use duckdb::Connection;

use super::filter::{BoundFilters, bind_filters};
use super::{ExportError, ExportRequest};
use crate::sql::quote_ident;
use crate::sql_type::SqlType;
use crate::store::{existing_table, list_tables};

/// The name the exported table goes by in the export's SELECT.
const SOURCE_ALIAS: &str = "sluice_source";

/// The statement an export runs, its row count, and what its columns are.
#[derive(Clone, Debug)]
pub struct ExportQuery {
    /// The table as the catalog spells it.
    pub table: String,
    /// Selected columns: (name, DuckDB type).
    pub columns: Vec<(String, String)>,
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
    let table = existing_table(conn, &request.table)?.ok_or_else(|| ExportError::UnknownTable {
        table: request.table.clone(),
        suggestions: suggest(&request.table, list_tables(conn).unwrap_or_default().iter()),
    })?;
    let columns: Vec<(String, String)> = if request.columns.is_empty() {
        table.columns.clone()
    } else {
        request
            .columns
            .iter()
            .map(|wanted| resolve_column(&table.columns, wanted).map(|(n, t)| (n.to_string(), t.to_string())))
            .collect::<Result<_, _>>()?
    };
    let BoundFilters { where_sql, params } = bind_filters(conn, &table.columns, &request.filters)?;
    // Every column is named through the table's alias: the text projection below is aliased with
    // the column's own name, and an unqualified ORDER BY binds to the select list first, which
    // would sort numbers and dates as text (100009 before 10001).
    let source = |name: &str| format!("{SOURCE_ALIAS}.{}", quote_ident(name));
    let order_sql = match &request.order_by {
        Some(order) => {
            let (column, data_type) = resolve_column(&table.columns, &order.column)?;
            format!(
                " ORDER BY {}{}",
                SqlType::from_catalog(data_type).comparable(&source(column)),
                if order.descending { " DESC" } else { "" }
            )
        }
        None => String::new(),
    };
    let from = format!(" FROM {} AS {SOURCE_ALIAS}{where_sql}", quote_ident(&table.name));
    let text_columns: Vec<String> = columns
        .iter()
        .map(|(name, _)| format!("CAST({} AS VARCHAR) AS {}", source(name), quote_ident(name)))
        .collect();
    let typed_columns: Vec<String> = columns
        .iter()
        .map(|(name, _)| format!("{} AS {}", source(name), quote_ident(name)))
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

/// Finds a column by name, ignoring case as DuckDB does.
pub fn resolve_column<'c>(columns: &'c [(String, String)], wanted: &str) -> Result<(&'c str, &'c str), ExportError> {
    columns
        .iter()
        .find(|(name, _)| name == wanted)
        .or_else(|| columns.iter().find(|(name, _)| name.eq_ignore_ascii_case(wanted)))
        .map(|(name, data_type)| (name.as_str(), data_type.as_str()))
        .ok_or_else(|| ExportError::UnknownColumn {
            column: wanted.to_string(),
            suggestions: suggest(wanted, columns.iter().map(|(name, _)| name)),
        })
}

/// Up to three names closest to `wanted`, as "; did you mean 'a' or 'b'?"; empty when nothing is
/// close. Close means at least half the characters agree and within a tenth of the best match.
fn suggest<'a>(wanted: &str, names: impl Iterator<Item = &'a String>) -> String {
    let wanted_lower = wanted.to_lowercase();
    let mut scored: Vec<(f64, &String)> = names
        .map(|name| {
            (
                strsim::normalized_levenshtein(&wanted_lower, &name.to_lowercase()),
                name,
            )
        })
        .filter(|(score, _)| *score >= 0.5)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let best = scored.first().map_or(0.0, |(score, _)| *score);
    let names: Vec<String> = scored
        .iter()
        .filter(|(score, _)| *score > best - 0.1)
        .take(3)
        .map(|(_, name)| format!("'{name}'"))
        .collect();
    match names.len() {
        0 => String::new(),
        1 => format!("; did you mean {}?", names[0]),
        n => format!("; did you mean {} or {}?", names[..n - 1].join(", "), names[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        let names = ["users".to_string(), "orders".to_string(), "user_events".to_string()];
        assert_eq!(suggest("usres", names.iter()), "; did you mean 'users'?");
        assert_eq!(suggest("zzzzzzzz", names.iter()), "");
    }

    #[test]
    fn resolves_columns_ignoring_case() {
        let columns = vec![("Name".to_string(), "VARCHAR".to_string())];
        assert_eq!(resolve_column(&columns, "name").unwrap(), ("Name", "VARCHAR"));
        assert!(matches!(
            resolve_column(&columns, "nme"),
            Err(ExportError::UnknownColumn { .. })
        ));
    }
}
