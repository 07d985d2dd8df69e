//! Browsing a table of any size, page by page, with keyset pagination.
//!
//! OFFSET makes DuckDB read and throw away every row before the page, so the far end of a big
//! table gets slower the further one scrolls. Instead, one pass over the sort key (with the
//! filters applied) notes the key of every page's first row: a sparse index of `rows / page`
//! entries. A page is then "the next `page` rows from this key on", which DuckDB answers by
//! skipping row groups with its min/max statistics, the same speed at the start and the end.
//! The index is rebuilt when the filters or the sort change.

use duckdb::{Connection, ToSql, params_from_iter};

use crate::export::OrderBy;
use crate::query::{Column, Filter, QueryError, bind_filters, database, resolve_table};
use crate::sql::quote_ident;

/// What to browse: a table, its filters and its sort.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BrowseQuery {
    /// The table's name.
    pub table: String,
    /// The conditions a row must meet to be shown, all of them.
    pub filters: Vec<Filter>,
    /// The column to order by and its direction; `None` for table order.
    pub sort: Option<OrderBy>,
}

/// The first row of a page, by its place in the order: the sort value and DuckDB's `rowid`,
/// which breaks ties and orders the rows when there is no sort. The value is kept as DuckDB's
/// text for it and cast back to the column's type when bound, so any column type can be sorted
/// on without converting its values in Rust.
#[derive(Clone, Debug, PartialEq)]
pub struct PageStart {
    sort_value: Option<String>,
    rowid: i64,
}

/// Where each page of a query starts, what the rows look like, and the query as resolved
/// against the catalog when the index was made: pages are read with it, so the catalog is read
/// once per index, not once per page (and a table replaced meanwhile fails the read instead of
/// changing shape).
#[derive(Clone, Debug)]
pub struct PageIndex {
    /// The query the index was made for.
    pub query: BrowseQuery,
    /// The table's columns.
    pub columns: Vec<Column>,
    /// Rows that meet the filters.
    pub rows_matching: u64,
    /// Rows on each page.
    pub page_rows: u64,
    starts: Vec<PageStart>,
    resolved: Resolved,
}

impl PageIndex {
    /// How many pages there are.
    pub fn pages(&self) -> u64 {
        self.starts.len() as u64
    }
}

/// One row of a page: its `rowid` and its values as text (`None` is NULL).
#[derive(Clone, Debug, PartialEq)]
pub struct BrowseRow {
    /// DuckDB's `rowid` for the row.
    pub rowid: i64,
    /// The row's values in column order, `None` for NULL.
    pub values: Vec<Option<String>>,
}

/// The pieces every browse statement shares, checked against the catalog.
#[derive(Clone, Debug)]
struct SortKey {
    expression: String,
    parameter: String,
    descending: bool,
}

#[derive(Clone, Debug)]
struct Resolved {
    table_sql: String,
    columns: Vec<Column>,
    where_sql: String,
    params: Vec<String>,
    /// The sort key as SQL (the column, or its text for a type Sluice cannot name), the SQL of a
    /// bound page-start value compared with it, and whether it runs descending.
    sort: Option<SortKey>,
}

fn resolve(conn: &Connection, query: &BrowseQuery) -> Result<Resolved, QueryError> {
    let table = resolve_table(conn, &query.table)?;
    // Pages are keyed by DuckDB's rowid, which a column of that name would hide.
    if table
        .columns
        .iter()
        .any(|column| column.name.eq_ignore_ascii_case("rowid"))
    {
        return Err(QueryError::HiddenRowid { table: table.name });
    }
    let bound = bind_filters(conn, &table.columns, &query.filters)?;
    let sort = match &query.sort {
        Some(order) => {
            let column = table.column(&order.column)?;
            Some(SortKey {
                expression: column.sql_type.comparable(&quote_ident(&column.name)),
                parameter: column.sql_type.parameter(),
                descending: order.descending,
            })
        }
        None => None,
    };
    Ok(Resolved {
        table_sql: quote_ident(&table.name),
        columns: table.columns,
        where_sql: bound.where_sql,
        params: bound.params,
        sort,
    })
}

impl Resolved {
    fn order_sql(&self) -> String {
        match &self.sort {
            Some(key) => format!(
                "{} {} NULLS LAST, rowid",
                key.expression,
                if key.descending { "DESC" } else { "ASC" }
            ),
            None => "rowid".to_string(),
        }
    }

    /// The filters' WHERE clause with `extra` added.
    fn where_with(&self, extra: &str) -> String {
        if self.where_sql.is_empty() {
            format!(" WHERE {extra}")
        } else {
            format!("{} AND {extra}", self.where_sql)
        }
    }
}

/// Counts the rows `query` matches and notes where each page of `page_rows` starts.
pub fn index_pages(conn: &Connection, query: &BrowseQuery, page_rows: u64) -> Result<PageIndex, QueryError> {
    let resolved = resolve(conn, query)?;
    let page_rows = page_rows.max(1);
    let (starts, rows_matching) = match &resolved.sort {
        None => starts_in_table_order(conn, &resolved, page_rows)?,
        Some(key) => starts_in_sorted_order(conn, &resolved, &key.expression, page_rows)?,
    };
    Ok(PageIndex {
        query: query.clone(),
        columns: resolved.columns.clone(),
        rows_matching,
        page_rows,
        starts,
        resolved,
    })
}

/// Without a sort, rows come in table order (DuckDB keeps insertion order), so one streamed pass
/// over `rowid` counts them and notes every page's first: nothing is sorted or held but the starts.
fn starts_in_table_order(
    conn: &Connection,
    resolved: &Resolved,
    page_rows: u64,
) -> Result<(Vec<PageStart>, u64), QueryError> {
    let sql = format!("SELECT rowid FROM {}{}", resolved.table_sql, resolved.where_sql);
    let mut statement = conn.prepare(&sql).map_err(database("indexing the table's pages"))?;
    let mut rows = statement
        .query(params_from_iter(&resolved.params))
        .map_err(database("indexing the table's pages"))?;
    let mut starts = Vec::new();
    let mut count = 0u64;
    while let Some(row) = rows.next().map_err(database("indexing the table's pages"))? {
        if count.is_multiple_of(page_rows) {
            starts.push(PageStart {
                sort_value: None,
                rowid: row.get(0).map_err(database("indexing the table's pages"))?,
            });
        }
        count += 1;
    }
    Ok((starts, count))
}

/// With a sort, DuckDB numbers the rows in order and keeps only each page's first.
fn starts_in_sorted_order(
    conn: &Connection,
    resolved: &Resolved,
    column: &str,
    page_rows: u64,
) -> Result<(Vec<PageStart>, u64), QueryError> {
    let order = resolved.order_sql();
    let sql = format!(
        "SELECT CAST({column} AS VARCHAR), rowid FROM {table}{where_sql} \
         QUALIFY (row_number() OVER (ORDER BY {order}) - 1) % {page_rows} = 0 ORDER BY {order}",
        table = resolved.table_sql,
        where_sql = resolved.where_sql,
    );
    let mut statement = conn.prepare(&sql).map_err(database("indexing the table's pages"))?;
    let starts = statement
        .query_map(params_from_iter(&resolved.params), |row| {
            Ok(PageStart {
                sort_value: row.get(0)?,
                rowid: row.get(1)?,
            })
        })
        .map_err(database("indexing the table's pages"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(database("indexing the table's pages"))?;
    let count_sql = format!("SELECT count(*) FROM {}{}", resolved.table_sql, resolved.where_sql);
    let rows_matching: i64 = conn
        .query_row(&count_sql, params_from_iter(&resolved.params), |row| row.get(0))
        .map_err(database("counting the matching rows"))?;
    Ok((starts, rows_matching.max(0) as u64))
}

/// Reads page `page` of an index: the rows from that page's start on, in the index's order.
pub fn read_page(conn: &Connection, index: &PageIndex, page: u64) -> Result<Vec<BrowseRow>, QueryError> {
    let Some(start) = index.starts.get(page as usize) else {
        return Ok(Vec::new());
    };
    // Bounding the page by the next one's start too keeps DuckDB from sorting everything after
    // this page just to take its first rows (which made a page of a sorted 10M-row table 0.5 s).
    let next = index.starts.get(page as usize + 1);
    let resolved = &index.resolved;
    // The columns the index was made for, so every page has the shape the view laid out (a table
    // replaced meanwhile fails the read instead of changing shape).
    let values: Vec<String> = index
        .columns
        .iter()
        .map(|column| format!("CAST({} AS VARCHAR)", quote_ident(&column.name)))
        .collect();
    let values = values.join(", ");
    let mut params: Vec<Box<dyn ToSql>> = Vec::new();
    let (sql, first_value) = match &resolved.sort {
        None => {
            params.extend(filter_params(resolved));
            let mut range = "rowid >= ?".to_string();
            params.push(Box::new(start.rowid));
            if let Some(next) = next {
                range.push_str(" AND rowid < ?");
                params.push(Box::new(next.rowid));
            }
            let sql = format!(
                "SELECT rowid, {values} FROM {table}{where_sql} ORDER BY rowid LIMIT {limit}",
                table = resolved.table_sql,
                where_sql = resolved.where_with(&range),
                limit = index.page_rows,
            );
            (sql, 1)
        }
        Some(key) => {
            let selects: Vec<String> = sorted_page_parts(key, start, next)
                .into_iter()
                .map(|part| {
                    params.extend(filter_params(resolved));
                    params.extend(part.params);
                    format!(
                        "SELECT rowid, {key}, {values} FROM {table}{where_sql}",
                        key = key.expression,
                        table = resolved.table_sql,
                        where_sql = resolved.where_with(&part.condition),
                    )
                })
                .collect();
            let sql = format!(
                "{} ORDER BY 2 {} NULLS LAST, 1 LIMIT {}",
                selects.join(" UNION ALL "),
                if key.descending { "DESC" } else { "ASC" },
                index.page_rows,
            );
            (sql, 2)
        }
    };
    let width = index.columns.len();
    let mut statement = conn.prepare(&sql).map_err(database("reading a page"))?;
    let rows = statement
        .query_map(params_from_iter(params.iter()), |row| {
            Ok(BrowseRow {
                rowid: row.get(0)?,
                values: (first_value..first_value + width)
                    .map(|index| row.get::<_, Option<String>>(index))
                    .collect::<Result<_, _>>()?,
            })
        })
        .map_err(database("reading a page"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(database("reading a page"))?;
    Ok(rows)
}

fn filter_params(resolved: &Resolved) -> impl Iterator<Item = Box<dyn ToSql>> + '_ {
    resolved
        .params
        .iter()
        .map(|value| Box::new(value.clone()) as Box<dyn ToSql>)
}

/// One part of a sorted page's rows: a conjunction with its parameters.
struct PagePart {
    condition: String,
    params: Vec<Box<dyn ToSql>>,
}

/// The rows from `start` up to `next` in a sorted order (NULLs of the sort column last, ties by
/// rowid), as parts to be read together with UNION ALL. Each part is only comparisons of the sort
/// column with a value and of rowid with a number, which DuckDB pushes into its scan; written as
/// one condition with ORs, nothing was pushed, and every page of a 10M-row table sorted by a
/// column unrelated to the row order scanned and tested every row (125-215 ms a page, against
/// 13-24 ms so).
fn sorted_page_parts(key: &SortKey, start: &PageStart, next: Option<&PageStart>) -> Vec<PagePart> {
    let (column, value) = (&key.expression, &key.parameter);
    let beyond = if key.descending { "<" } else { ">" };
    let ahead = if key.descending { ">" } else { "<" };
    let part = |condition: String, params: Vec<Box<dyn ToSql>>| PagePart { condition, params };
    let Some(start_value) = &start.sort_value else {
        // Among the NULLs, which come last: only rowids tell rows apart.
        return vec![match next {
            Some(next) => part(
                format!("{column} IS NULL AND rowid >= ? AND rowid < ?"),
                vec![Box::new(start.rowid), Box::new(next.rowid)],
            ),
            None => part(format!("{column} IS NULL AND rowid >= ?"), vec![Box::new(start.rowid)]),
        }];
    };
    if let Some(next) = next.filter(|next| next.sort_value.as_ref() == Some(start_value)) {
        // The whole page is ties of one value.
        return vec![part(
            format!("{column} = {value} AND rowid >= ? AND rowid < ?"),
            vec![
                Box::new(start_value.clone()),
                Box::new(start.rowid),
                Box::new(next.rowid),
            ],
        )];
    }
    let mut parts = vec![part(
        format!("{column} = {value} AND rowid >= ?"),
        vec![Box::new(start_value.clone()), Box::new(start.rowid)],
    )];
    match next {
        Some(PageStart {
            sort_value: Some(next_value),
            rowid,
        }) => {
            parts.push(part(
                format!("{column} {beyond} {value} AND {column} {ahead} {value}"),
                vec![Box::new(start_value.clone()), Box::new(next_value.clone())],
            ));
            parts.push(part(
                format!("{column} = {value} AND rowid < ?"),
                vec![Box::new(next_value.clone()), Box::new(*rowid)],
            ));
        }
        Some(PageStart {
            sort_value: None,
            rowid,
        }) => {
            parts.push(part(
                format!("{column} {beyond} {value}"),
                vec![Box::new(start_value.clone())],
            ));
            parts.push(part(format!("{column} IS NULL AND rowid < ?"), vec![Box::new(*rowid)]));
        }
        None => {
            parts.push(part(
                format!("{column} {beyond} {value}"),
                vec![Box::new(start_value.clone())],
            ));
            parts.push(part(format!("{column} IS NULL"), Vec::new()));
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::FilterOp;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        // Ties and NULLs in the sort column, so paging must break ties by rowid and put NULLs last.
        conn.execute_batch(
            "CREATE TABLE t AS SELECT i AS id, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 5 END AS bucket \
             FROM range(1000) r(i)",
        )
        .unwrap();
        conn
    }

    fn all_pages(conn: &Connection, query: &BrowseQuery, page_rows: u64) -> (PageIndex, Vec<BrowseRow>) {
        let index = index_pages(conn, query, page_rows).unwrap();
        let rows = (0..index.pages())
            .flat_map(|page| {
                let rows = read_page(conn, &index, page).unwrap();
                assert!(rows.len() as u64 <= page_rows);
                rows
            })
            .collect();
        (index, rows)
    }

    fn ids_by_sql(conn: &Connection, sql: &str) -> Vec<Option<String>> {
        let mut statement = conn.prepare(sql).unwrap();
        statement
            .query_map([], |row| row.get::<_, Option<String>>(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn pages_in_table_order_cover_every_row_once() {
        let conn = table();
        let query = BrowseQuery {
            table: "t".into(),
            ..BrowseQuery::default()
        };
        let (index, rows) = all_pages(&conn, &query, 64);
        assert_eq!(index.rows_matching, 1000);
        assert_eq!(index.pages(), 16);
        let ids: Vec<Option<String>> = rows.iter().map(|row| row.values[0].clone()).collect();
        assert_eq!(
            ids,
            ids_by_sql(&conn, "SELECT CAST(id AS VARCHAR) FROM t ORDER BY rowid")
        );
    }

    #[test]
    fn sorted_and_filtered_pages_match_the_same_order_by_in_sql() {
        let conn = table();
        for descending in [false, true] {
            let query = BrowseQuery {
                table: "t".into(),
                filters: vec![Filter {
                    column: "id".into(),
                    op: FilterOp::Ge,
                    value: Some("100".into()),
                }],
                sort: Some(OrderBy {
                    column: "bucket".into(),
                    descending,
                }),
            };
            let (index, rows) = all_pages(&conn, &query, 50);
            assert_eq!(index.rows_matching, 900);
            let ids: Vec<Option<String>> = rows.iter().map(|row| row.values[0].clone()).collect();
            let direction = if descending { "DESC" } else { "ASC" };
            let expected = ids_by_sql(
                &conn,
                &format!(
                    "SELECT CAST(id AS VARCHAR) FROM t WHERE id >= 100 ORDER BY bucket {direction} NULLS LAST, rowid"
                ),
            );
            assert_eq!(ids, expected, "descending: {descending}");
        }
    }

    #[test]
    fn a_column_named_rowid_is_refused_rather_than_paged_wrongly() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE s AS SELECT 1 AS rowid, 'x' AS name")
            .unwrap();
        let query = BrowseQuery {
            table: "s".into(),
            ..BrowseQuery::default()
        };
        let error = index_pages(&conn, &query, 10).unwrap_err();
        assert!(error.to_string().contains("rename that column"), "{error}");
    }

    #[test]
    fn a_page_past_the_end_is_empty() {
        let conn = table();
        let query = BrowseQuery {
            table: "t".into(),
            ..BrowseQuery::default()
        };
        let index = index_pages(&conn, &query, 400).unwrap();
        assert_eq!(index.pages(), 3);
        assert!(read_page(&conn, &index, 3).unwrap().is_empty());
        assert_eq!(read_page(&conn, &index, 2).unwrap().len(), 200);
    }

    /// Pages sorted by each column, read one after another, against the same ORDER BY in SQL.
    fn assert_sorted_pages_match_sql(conn: &Connection, table: &str, columns: &[&str]) {
        for column in columns {
            for descending in [false, true] {
                let query = BrowseQuery {
                    table: table.into(),
                    filters: Vec::new(),
                    sort: Some(OrderBy {
                        column: (*column).into(),
                        descending,
                    }),
                };
                let (_, rows) = all_pages(conn, &query, 3);
                let ids: Vec<Option<String>> = rows.iter().map(|row| row.values[0].clone()).collect();
                let direction = if descending { "DESC" } else { "ASC" };
                let expected = ids_by_sql(
                    conn,
                    &format!(
                        "SELECT CAST(id AS VARCHAR) FROM {table} ORDER BY \"{column}\" {direction} NULLS LAST, rowid"
                    ),
                );
                assert_eq!(ids, expected, "{column} {direction}");
            }
        }
    }

    #[test]
    fn browse_sorts_numbers_and_dates_by_their_type_not_as_text() {
        let conn = Connection::open_in_memory().unwrap();
        // As `Store::open` sets it: DuckDB's late materialization fails on these small pages.
        conn.execute_batch("SET late_materialization_max_rows = 0").unwrap();
        conn.execute_batch(
            "CREATE TABLE mixed (id INTEGER, n BIGINT, d DECIMAL(12,2), x DOUBLE, day DATE, seen TIMESTAMP, flag BOOLEAN); \
             INSERT INTO mixed VALUES \
             (1, 100009, 10.5, -0.5, '2010-05-06', '2010-05-06 10:00:00', true), \
             (2, 10001, -3.25, 1e10, '1999-12-31', '1999-12-31 23:59:59', false), \
             (3, 9, 100.00, -1e-3, '2000-01-01', '2000-01-01 00:00:00', NULL), \
             (4, -42, NULL, 2.0, NULL, '2000-01-01 00:00:01', true), \
             (5, NULL, 9.99, NULL, '2000-01-02', NULL, false), \
             (6, -100000, 1000.01, 10.0, '1970-01-01', '1969-12-31 23:00:00', true), \
             (7, 10, 2.5, 9.5, '2100-02-28', '2100-02-28 12:00:00', NULL);",
        )
        .unwrap();
        assert_sorted_pages_match_sql(&conn, "mixed", &["n", "d", "x", "day", "seen", "flag"]);
    }

    #[test]
    fn browse_sorts_and_filters_enum_columns_without_splicing_their_type() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TYPE \"it's\" AS ENUM ('b''x', 'a', 'c'); \
             CREATE TABLE e (id INTEGER, kind \"it's\"); \
             INSERT INTO e VALUES (1, 'c'), (2, 'a'), (3, NULL), (4, 'b''x'), (5, 'a'), (6, 'c'), (7, 'b''x');",
        )
        .unwrap();
        // Sorted by its text, consistently for the order and the page bounds.
        for descending in [false, true] {
            let query = BrowseQuery {
                table: "e".into(),
                filters: vec![Filter {
                    column: "kind".into(),
                    op: FilterOp::Ne,
                    value: Some("a".into()),
                }],
                sort: Some(OrderBy {
                    column: "kind".into(),
                    descending,
                }),
            };
            let (index, rows) = all_pages(&conn, &query, 2);
            assert_eq!(index.rows_matching, 4);
            let ids: Vec<Option<String>> = rows.iter().map(|row| row.values[0].clone()).collect();
            let direction = if descending { "DESC" } else { "ASC" };
            let expected = ids_by_sql(
                &conn,
                &format!(
                    "SELECT CAST(id AS VARCHAR) FROM e WHERE CAST(kind AS VARCHAR) <> 'a' \
                     ORDER BY CAST(kind AS VARCHAR) {direction} NULLS LAST, rowid"
                ),
            );
            assert_eq!(ids, expected);
        }
    }
}
