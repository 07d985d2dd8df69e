//! What an export would write, before it runs: the count of matching rows and the first few, as
//! the text the file would hold. The window shows it as filters change.

use duckdb::arrow::array::{Array, AsArray, StringArray};
use duckdb::{Connection, params_from_iter};

use super::{ExportError, ExportRequest, build_query, database};

/// The matching count and the first rows of an export.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportPreview {
    /// How many rows the export would write: every row that matches its filters.
    pub rows_matching: u64,
    /// The exported columns' names, in output order.
    pub columns: Vec<String>,
    /// Values as text; `None` is NULL.
    pub rows: Vec<Vec<Option<String>>>,
}

/// Counts the rows `request` would export and reads the first `limit` of them.
pub fn preview_export(conn: &Connection, request: &ExportRequest, limit: usize) -> Result<ExportPreview, ExportError> {
    let query = build_query(conn, request)?;
    let rows_matching: i64 = conn
        .query_row(&query.count_sql, params_from_iter(&query.params), |row| row.get(0))
        .map_err(database("counting the matching rows"))?;
    let mut statement = conn
        .prepare(&format!("{} LIMIT {limit}", query.select_text_sql))
        .map_err(database("reading the first matching rows"))?;
    let batches = statement
        .query_arrow(params_from_iter(query.text_params()))
        .map_err(database("reading the first matching rows"))?;
    let mut rows = Vec::new();
    for batch in batches {
        let columns = query.text_columns(&batch).map_err(ExportError::Text)?;
        let strings: Vec<&StringArray> = columns.iter().map(|column| column.as_string::<i32>()).collect();
        for row in 0..batch.num_rows() {
            rows.push(
                strings
                    .iter()
                    .map(|array| (!array.is_null(row)).then(|| array.value(row).to_string()))
                    .collect(),
            );
        }
    }
    Ok(ExportPreview {
        rows_matching: rows_matching.max(0) as u64,
        columns: query.columns.into_iter().map(|column| column.name).collect(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{Filter, FilterOp, OrderBy};

    #[test]
    fn counts_and_previews_what_the_filters_match_in_order() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t AS SELECT i AS id, CASE WHEN i % 2 = 0 THEN 'even' END AS kind FROM range(100) r(i)",
        )
        .unwrap();
        let mut request = ExportRequest::new("t", "/unused.csv");
        request.filters = vec![
            Filter {
                column: "id".into(),
                op: FilterOp::Lt,
                value: Some("10".into()),
            },
            Filter {
                column: "kind".into(),
                op: FilterOp::IsNull,
                value: None,
            },
        ];
        request.order_by = Some(OrderBy {
            column: "id".into(),
            descending: true,
        });
        let preview = preview_export(&conn, &request, 3).unwrap();
        assert_eq!(preview.rows_matching, 5);
        assert_eq!(preview.columns, vec!["id", "kind"]);
        assert_eq!(
            preview.rows,
            vec![
                vec![Some("9".to_string()), None],
                vec![Some("7".to_string()), None],
                vec![Some("5".to_string()), None],
            ]
        );
    }

    #[test]
    fn a_value_that_does_not_fit_its_column_is_named() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id BIGINT)").unwrap();
        let mut request = ExportRequest::new("t", "/unused.csv");
        request.filters = vec![Filter {
            column: "id".into(),
            op: FilterOp::Gt,
            value: Some("ten".into()),
        }];
        let error = preview_export(&conn, &request, 3).unwrap_err();
        assert_eq!(error.to_string(), "'ten' is not a valid BIGINT for column 'id'");
    }

    #[test]
    fn the_preview_shows_dates_and_decimals_as_the_shape_writes_them_beside_a_filter() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t AS SELECT i AS id, DATE '2024-01-01' + i::INTEGER AS day, i / 4 AS ratio FROM range(5) r(i)",
        )
        .unwrap();
        let mut request = ExportRequest::new("t", "/unused.csv");
        request.filters = vec![Filter {
            column: "id".into(),
            op: FilterOp::Ge,
            value: Some("3".into()),
        }];
        request.delimiter = b';';
        request.shape.date_format = Some("%d/%m/%Y".into());
        request.shape.decimal_comma = true;
        let preview = preview_export(&conn, &request, 10).unwrap();
        assert_eq!(preview.rows_matching, 2);
        assert_eq!(
            preview.rows,
            vec![
                vec![
                    Some("3".to_string()),
                    Some("04/01/2024".to_string()),
                    Some("0,75".to_string())
                ],
                vec![
                    Some("4".to_string()),
                    Some("05/01/2024".to_string()),
                    Some("1,0".to_string())
                ],
            ]
        );
    }
}
