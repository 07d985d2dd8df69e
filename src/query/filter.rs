//! Filter fields: a column, an operator and (for most operators) a value, turned into SQL where
//! the column is a quoted identifier checked against the catalog and every value is a bound
//! parameter, cast to the column's own type by DuckDB. The type's name in that cast is rendered
//! from [`SqlType`], never copied from the catalog; a type Sluice cannot name (an ENUM, a user
//! type) is compared as text.

use std::fmt;

use duckdb::Connection;

use super::{Column, QueryError, find_column};
use crate::sql::quote_ident;
use crate::sql_type::SqlType;

/// A comparison a filter field can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    /// Equal to the value.
    Eq,
    /// Not equal to the value.
    Ne,
    /// Less than the value.
    Lt,
    /// Less than or equal to the value.
    Le,
    /// Greater than the value.
    Gt,
    /// Greater than or equal to the value.
    Ge,
    /// Text holding the value anywhere.
    Contains,
    /// Text starting with the value.
    StartsWith,
    /// Text ending with the value.
    EndsWith,
    /// NULL; takes no value.
    IsNull,
    /// Anything but NULL; takes no value.
    NotNull,
    /// One of comma-separated values.
    In,
    /// `low,high`, both included.
    Between,
}

impl FilterOp {
    /// Every operator, in the order the window and the command line list them.
    pub const ALL: [FilterOp; 13] = [
        Self::Eq,
        Self::Ne,
        Self::Lt,
        Self::Le,
        Self::Gt,
        Self::Ge,
        Self::Contains,
        Self::StartsWith,
        Self::EndsWith,
        Self::IsNull,
        Self::NotNull,
        Self::In,
        Self::Between,
    ];

    /// The operator's name on the command line and in a saved spec (`starts_with`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Lt => "lt",
            Self::Le => "le",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Contains => "contains",
            Self::StartsWith => "starts_with",
            Self::EndsWith => "ends_with",
            Self::IsNull => "is_null",
            Self::NotNull => "not_null",
            Self::In => "in",
            Self::Between => "between",
        }
    }

    /// The operator named `text` by its [`FilterOp::as_str`] name, if there is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == text)
    }

    /// Whether the operator compares against a value: all but `is_null` and `not_null`.
    pub fn takes_value(&self) -> bool {
        !matches!(self, Self::IsNull | Self::NotNull)
    }

    /// Text operators apply to text columns only (and types Sluice cannot name, compared as
    /// text); the rest to any column.
    pub fn applies_to(&self, sql_type: SqlType) -> bool {
        match self {
            Self::Contains | Self::StartsWith | Self::EndsWith => sql_type.is_text(),
            _ => true,
        }
    }
}

impl fmt::Display for FilterOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One filter field as the user gave it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Filter {
    /// The column as the user named it; found in the catalog ignoring case.
    pub column: String,
    /// How the column is compared.
    pub op: FilterOp,
    /// What it is compared with: a list as `a,b,c` for `in`, `low,high` for `between`; `None` for
    /// the operators that take no value.
    pub value: Option<String>,
}

/// A filter checked against the table: SQL text with `?` placeholders and the values to bind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BoundFilters {
    /// ` WHERE ...` with the filters joined by AND, or empty when there are none.
    pub where_sql: String,
    /// The values for its `?` placeholders, in order.
    pub params: Vec<String>,
}

/// Builds the WHERE clause for `filters` on a table with `columns`, checking each value against
/// its column's type with DuckDB's own cast.
pub fn bind_filters(conn: &Connection, columns: &[Column], filters: &[Filter]) -> Result<BoundFilters, QueryError> {
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    for filter in filters {
        let found = find_column(columns, &filter.column)?;
        let (column, sql_type) = (found.name.as_str(), found.sql_type);
        if !filter.op.applies_to(sql_type) {
            return Err(QueryError::OperatorNotForType {
                column: column.to_string(),
                op: filter.op,
                data_type: found.type_name.clone(),
            });
        }
        let quoted = sql_type.comparable(&quote_ident(column));
        let cast = sql_type.parameter();
        let values = filter_values(filter, column)?;
        for value in &values {
            check_value(conn, column, sql_type, value)?;
        }
        let clause = match filter.op {
            FilterOp::Eq => format!("{quoted} = {cast}"),
            FilterOp::Ne => format!("{quoted} <> {cast}"),
            FilterOp::Lt => format!("{quoted} < {cast}"),
            FilterOp::Le => format!("{quoted} <= {cast}"),
            FilterOp::Gt => format!("{quoted} > {cast}"),
            FilterOp::Ge => format!("{quoted} >= {cast}"),
            FilterOp::Contains => format!("contains({quoted}, ?)"),
            FilterOp::StartsWith => format!("starts_with({quoted}, ?)"),
            FilterOp::EndsWith => format!("suffix({quoted}, ?)"),
            FilterOp::IsNull => format!("{quoted} IS NULL"),
            FilterOp::NotNull => format!("{quoted} IS NOT NULL"),
            FilterOp::In => format!("{quoted} IN ({})", vec![cast.as_str(); values.len()].join(", ")),
            FilterOp::Between => format!("{quoted} BETWEEN {cast} AND {cast}"),
        };
        clauses.push(clause);
        params.extend(values);
    }
    Ok(BoundFilters {
        where_sql: if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        },
        params,
    })
}

/// The values a filter binds: none, one, a list for `in`, a pair for `between`.
fn filter_values(filter: &Filter, column: &str) -> Result<Vec<String>, QueryError> {
    if !filter.op.takes_value() {
        return Ok(Vec::new());
    }
    let missing = || QueryError::MissingValue {
        column: column.to_string(),
        op: filter.op,
    };
    let value = filter.value.as_deref().ok_or_else(missing)?;
    match filter.op {
        FilterOp::In => {
            let values: Vec<String> = value.split(',').map(|v| v.trim().to_string()).collect();
            if values.iter().all(String::is_empty) {
                return Err(missing());
            }
            Ok(values)
        }
        FilterOp::Between => match value.split_once(',') {
            Some((low, high)) => Ok(vec![low.trim().to_string(), high.trim().to_string()]),
            None => Err(QueryError::BetweenNeedsTwo {
                column: column.to_string(),
                value: value.to_string(),
            }),
        },
        _ => Ok(vec![value.to_string()]),
    }
}

/// Refuses a value that does not convert to the column's type, naming both.
fn check_value(conn: &Connection, column: &str, sql_type: SqlType, value: &str) -> Result<(), QueryError> {
    let Some(type_name) = sql_type.sql_name().filter(|_| !sql_type.is_text()) else {
        return Ok(());
    };
    let converts: bool = conn
        .query_row(
            &format!("SELECT TRY_CAST(? AS {type_name}) IS NOT NULL"),
            [value],
            |row| row.get(0),
        )
        .map_err(|source| QueryError::Database {
            context: "checking a filter value",
            source,
        })?;
    if converts {
        Ok(())
    } else {
        Err(QueryError::BadValue {
            column: column.to_string(),
            value: value.to_string(),
            data_type: type_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(pairs: &[(&str, &str)]) -> Vec<Column> {
        pairs
            .iter()
            .map(|(name, type_name)| Column::from_catalog(*name, *type_name))
            .collect()
    }

    #[test]
    fn operators_round_trip_their_names() {
        for op in FilterOp::ALL {
            assert_eq!(FilterOp::parse(op.as_str()), Some(op));
        }
        assert_eq!(FilterOp::parse("like"), None);
        assert!(!FilterOp::IsNull.takes_value());
        assert!(!FilterOp::Contains.applies_to(SqlType::from_catalog("BIGINT")));
        assert!(FilterOp::Contains.applies_to(SqlType::from_catalog("VARCHAR")));
    }

    #[test]
    fn builds_parameterised_sql() {
        let conn = Connection::open_in_memory().unwrap();
        let columns = typed(&[("id", "BIGINT"), ("name", "VARCHAR")]);
        let filters = vec![
            Filter {
                column: "ID".into(),
                op: FilterOp::In,
                value: Some("1, 2,3".into()),
            },
            Filter {
                column: "name".into(),
                op: FilterOp::StartsWith,
                value: Some("x' OR '1'='1".into()),
            },
        ];
        let bound = bind_filters(&conn, &columns, &filters).unwrap();
        assert_eq!(
            bound.where_sql,
            " WHERE \"id\" IN (CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT)) AND starts_with(\"name\", ?)"
        );
        assert_eq!(bound.params, ["1", "2", "3", "x' OR '1'='1"]);
    }

    #[test]
    fn bad_values_name_the_column_and_type() {
        let conn = Connection::open_in_memory().unwrap();
        let columns = typed(&[("born", "DATE")]);
        let filter = Filter {
            column: "born".into(),
            op: FilterOp::Gt,
            value: Some("yesterday".into()),
        };
        let error = bind_filters(&conn, &columns, &[filter]).unwrap_err();
        assert_eq!(error.to_string(), "'yesterday' is not a valid DATE for column 'born'");
        let between = Filter {
            column: "born".into(),
            op: FilterOp::Between,
            value: Some("2024-01-01".into()),
        };
        assert!(matches!(
            bind_filters(&conn, &columns, &[between]),
            Err(QueryError::BetweenNeedsTwo { .. })
        ));
    }

    #[test]
    fn type_names_from_the_catalog_never_change_the_statement() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); \
             CREATE TABLE feelings (id BIGINT, m mood, e ENUM('x''y', 'z')); \
             INSERT INTO feelings VALUES (1, 'sad', 'x''y'), (2, 'happy', 'z'), (3, NULL, NULL);",
        )
        .unwrap();
        let columns = super::super::resolve_table(&conn, "feelings").unwrap().columns;
        for (column, value, expected) in [("m", "happy", vec![2i64]), ("e", "x'y", vec![1])] {
            let filter = Filter {
                column: column.into(),
                op: FilterOp::Eq,
                value: Some(value.into()),
            };
            let bound = bind_filters(&conn, &columns, &[filter]).unwrap();
            assert!(!bound.where_sql.contains("ENUM"), "{}", bound.where_sql);
            let sql = format!("SELECT id FROM feelings{} ORDER BY id", bound.where_sql);
            let mut statement = conn.prepare(&sql).unwrap();
            let ids: Vec<i64> = statement
                .query_map(duckdb::params_from_iter(&bound.params), |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(ids, expected, "{column}");
        }
        // A type name that would end the cast early is never spliced: it is compared as text.
        let hostile = typed(&[("v", "INTEGER) IS NULL OR (1=1")]);
        let filter = Filter {
            column: "v".into(),
            op: FilterOp::Eq,
            value: Some("1".into()),
        };
        let bound = bind_filters(&conn, &hostile, &[filter]).unwrap();
        assert_eq!(bound.where_sql, " WHERE CAST(\"v\" AS VARCHAR) = ?");
    }
}
