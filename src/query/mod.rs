//! What Export, its preview and Browse share: a table and its columns checked against the
//! catalog (a name it does not know is refused with the closest names suggested), each column's
//! type as a [`SqlType`] rather than a string, filter fields turned into SQL with bound values,
//! and one error type for all of it. Every name reaches SQL quoted, every value as a parameter.

mod filter;

use duckdb::Connection;

pub use crate::records::Column;
pub use filter::{BoundFilters, Filter, FilterOp, bind_filters};

use crate::store::{StoreError, existing_table, list_tables};

/// A table found in the catalog, spelled as the catalog spells it.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedTable {
    /// The table's name as the catalog spells it.
    pub name: String,
    /// Its columns, in table order.
    pub columns: Vec<Column>,
}

/// Why a table, a column or a filter was refused.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// No table has that name, even ignoring case.
    #[error("there is no table '{table}'{suggestions}")]
    UnknownTable {
        /// The name as given.
        table: String,
        /// The closest names, as "; did you mean 'a'?"; empty when none is close.
        suggestions: String,
    },
    /// The table has no column of that name, even ignoring case.
    #[error("there is no column '{column}'{suggestions}")]
    UnknownColumn {
        /// The name as given.
        column: String,
        /// The closest names, as "; did you mean 'a'?"; empty when none is close.
        suggestions: String,
    },
    /// A text operator on a column that does not hold text.
    #[error("the operator {op} does not apply to column '{column}' of type {data_type}")]
    OperatorNotForType {
        /// The column as the catalog spells it.
        column: String,
        /// The operator the filter asked for.
        op: FilterOp,
        /// The column's type as the catalog names it.
        data_type: String,
    },
    /// A filter whose operator needs a value, given none.
    #[error("the filter {op} on column '{column}' needs a value")]
    MissingValue {
        /// The column as the catalog spells it.
        column: String,
        /// The operator that needs the value.
        op: FilterOp,
    },
    /// A `between` filter whose value is not a `low,high` pair.
    #[error("between on column '{column}' needs two values as low,high, not '{value}'")]
    BetweenNeedsTwo {
        /// The column as the catalog spells it.
        column: String,
        /// The value as given.
        value: String,
    },
    /// A filter value that does not convert to its column's type.
    #[error("'{value}' is not a valid {data_type} for column '{column}'")]
    BadValue {
        /// The column as the catalog spells it.
        column: String,
        /// The value as given.
        value: String,
        /// The column's type as the catalog names it.
        data_type: String,
    },
    /// The table has a column named rowid, which hides DuckDB's own row id that Browse pages by.
    #[error(
        "table '{table}' has a column named rowid, which hides DuckDB's own row id that Browse pages by; rename that column to browse the table"
    )]
    HiddenRowid {
        /// The table as the catalog spells it.
        table: String,
    },
    /// DuckDB failed at a step of the work.
    #[error("{context}: {source}")]
    Database {
        /// What was being done, such as "checking a filter value".
        context: &'static str,
        /// DuckDB's error.
        source: duckdb::Error,
    },
    /// The store failed, such as while reading the catalog.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Wraps a DuckDB error with what was being done.
pub fn database(context: &'static str) -> impl FnOnce(duckdb::Error) -> QueryError {
    move |source| QueryError::Database { context, source }
}

/// Finds table `name` in the catalog, with its columns.
pub fn resolve_table(conn: &Connection, name: &str) -> Result<ResolvedTable, QueryError> {
    let table = existing_table(conn, name)?.ok_or_else(|| QueryError::UnknownTable {
        table: name.to_string(),
        suggestions: suggest(name, list_tables(conn).unwrap_or_default().iter()),
    })?;
    Ok(ResolvedTable {
        name: table.name,
        columns: table.columns,
    })
}

impl ResolvedTable {
    /// Finds a column by name, ignoring case as DuckDB does.
    pub fn column(&self, wanted: &str) -> Result<&Column, QueryError> {
        find_column(&self.columns, wanted)
    }
}

/// Finds a column of `columns` by name, ignoring case as DuckDB does.
pub fn find_column<'c>(columns: &'c [Column], wanted: &str) -> Result<&'c Column, QueryError> {
    columns
        .iter()
        .find(|column| column.name == wanted)
        .or_else(|| columns.iter().find(|column| column.name.eq_ignore_ascii_case(wanted)))
        .ok_or_else(|| QueryError::UnknownColumn {
            column: wanted.to_string(),
            suggestions: suggest(wanted, columns.iter().map(|column| &column.name)),
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
        let columns = vec![Column::from_catalog("Name", "VARCHAR")];
        assert_eq!(find_column(&columns, "name").unwrap().name, "Name");
        assert!(matches!(
            find_column(&columns, "nme"),
            Err(QueryError::UnknownColumn { .. })
        ));
    }
}
