//! The `unique` rule, checked in DuckDB inside the import's transaction.
//!
//! Checking it while parsing would mean keeping every value seen so far in memory (and, when
//! appending, every value already in the table), so memory would grow with the file. Instead the
//! good rows go to the table as usual, and beside them a narrow *keys* table gets, for each, its
//! place among the good rows, its record number, its line and its unique values. When the file
//! has been read, DuckDB finds the duplicates with a grouping and a join, which it runs out of
//! core under its memory limit:
//!
//! - a value already in the table before this job fails every row that has it;
//! - otherwise the first occurrence in file order wins and every later one fails, naming the
//!   line of the first.
//!
//! Each unique column is judged on its own, among the rows that passed every other check (so a
//! row rejected for a duplicate in one column still counts as the first occurrence of its values
//! in the others). NULLs and empty strings never clash. When
//! there are duplicates, their rows are deleted from the table (the rows a transaction appends
//! get consecutive row ids in append order, so a row's place among the good rows finds it) and
//! handed back page by page to become failed rows; the caller reads their raw text again.

use duckdb::{Connection, params};

use super::plan::{ColumnPlan, ImportPlan};
use super::types::ColumnType;
use super::validate::quoted;
use crate::records::{Problem, ProblemKind};
use crate::sql::quote_ident;
use crate::store::StoreError;

/// Columns of the keys table before the unique values (named `key_0`, `key_1`...).
pub const ORDINAL: &str = "ordinal";
pub const RECORD_NO: &str = "record_no";
pub const LINE: &str = "line";

/// Duplicates handed out at a time, so a file of millions of them streams.
const DUPLICATE_PAGE_ROWS: i64 = 10_000;

/// A row that broke the rule, with the unique columns it broke it in.
#[derive(Clone, Debug, PartialEq)]
pub struct Duplicate {
    pub record_no: u64,
    pub line: u64,
    /// (index into the plan's columns, line of the first occurrence; `None` when the value was
    /// already in the table).
    pub hits: Vec<(usize, Option<u64>)>,
}

/// The unique check of one job.
pub struct UniqueCheck {
    job_id: i64,
    /// Indexes into the plan's columns of the unique ones.
    unique_columns: Vec<usize>,
}

impl UniqueCheck {
    /// The check an import of `plan` needs: `None` when no column is unique.
    pub fn for_plan(plan: &ImportPlan, job_id: i64) -> Option<Self> {
        let unique_columns: Vec<usize> = plan
            .columns
            .iter()
            .enumerate()
            .filter(|(_, column)| column.rules.unique)
            .map(|(index, _)| index)
            .collect();
        (!unique_columns.is_empty()).then_some(Self { job_id, unique_columns })
    }

    /// Indexes into the plan's columns of the unique ones, in the keys table's order.
    pub fn unique_columns(&self) -> &[usize] {
        &self.unique_columns
    }

    fn table(&self, what: &str) -> String {
        crate::store::scratch_table(self.job_id, what)
    }

    /// Creates the keys table.
    pub fn create(&self, conn: &Connection, plan: &ImportPlan) -> Result<(), StoreError> {
        let mut columns = vec![
            format!("{ORDINAL} BIGINT"),
            format!("{RECORD_NO} BIGINT"),
            format!("{LINE} BIGINT"),
        ];
        for (key, &index) in self.unique_columns.iter().enumerate() {
            columns.push(format!("key_{key} {}", plan.columns[index].column_type.sql_name()));
        }
        conn.execute_batch(&format!("CREATE TABLE {} ({})", self.table("keys"), columns.join(", ")))
            .map_err(StoreError::query("creating the table for the unique rule"))
    }

    /// The appender for the keys table (batches from `KeyBatchBuilder`).
    pub fn appender<'c>(&self, conn: &'c Connection) -> Result<duckdb::Appender<'c>, StoreError> {
        conn.appender_to_db(&format!("import_keys_{}", self.job_id), "sluice")
            .map_err(StoreError::query("opening the table for the unique rule"))
    }

    /// Finds the duplicates among the keyed rows, deletes them from `target`, hands them to
    /// `on_duplicates` a page at a time in file order, and drops the check's tables. Rows of
    /// `target` with a row id above `committed_rowid` are this job's; those at or below it were
    /// there before, and are what `check_table` compares with. Returns the rows that failed.
    pub fn resolve(
        &self,
        conn: &Connection,
        plan: &ImportPlan,
        target: &str,
        committed_rowid: i64,
        check_table: bool,
        on_duplicates: &mut dyn FnMut(Vec<Duplicate>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let context = "checking unique values";
        let keys = self.table("keys");
        let hits = self.table("duplicates");
        let sorted = self.table("duplicates_sorted");
        let target = format!("main.{}", quote_ident(target));
        conn.execute_batch(&format!(
            "CREATE TABLE {hits} (record_no BIGINT, column_index INTEGER, first_line BIGINT)"
        ))
        .map_err(StoreError::query(context))?;
        for (key, &index) in self.unique_columns.iter().enumerate() {
            let column = quote_ident(&plan.columns[index].name);
            let value = format!("key_{key}");
            // NULLs never clash, and neither do empty strings: a file that quotes every field
            // writes an empty optional value as "", which is no more a value than nothing.
            let present = |value: &str| {
                if plan.columns[index].column_type == ColumnType::Varchar {
                    format!("{value} IS NOT NULL AND {value} <> ''")
                } else {
                    format!("{value} IS NOT NULL")
                }
            };
            let in_table = format!(
                "EXISTS (SELECT 1 FROM {target} t WHERE t.rowid <= {committed_rowid} AND t.{column} = k.{value})"
            );
            if check_table {
                conn.execute_batch(&format!(
                    "INSERT INTO {hits} SELECT k.{RECORD_NO}, {index}, NULL FROM {keys} k \
                     WHERE {} AND {in_table}",
                    present(&format!("k.{value}"))
                ))
                .map_err(StoreError::query(context))?;
            }
            let not_in_table = if check_table {
                format!(" AND NOT {in_table}")
            } else {
                String::new()
            };
            conn.execute_batch(&format!(
                "INSERT INTO {hits} SELECT k.{RECORD_NO}, {index}, f.first_line FROM {keys} k \
                 JOIN (SELECT {value} AS value, min({RECORD_NO}) AS first_no, \
                       arg_min({LINE}, {RECORD_NO}) AS first_line \
                       FROM {keys} WHERE {} GROUP BY {value}) f \
                 ON k.{value} = f.value WHERE k.{RECORD_NO} > f.first_no{not_in_table}",
                present(&value)
            ))
            .map_err(StoreError::query(context))?;
        }
        let failed: i64 = conn
            .query_row(&format!("SELECT count(DISTINCT record_no) FROM {hits}"), [], |row| {
                row.get(0)
            })
            .map_err(StoreError::query(context))?;
        if failed > 0 {
            self.delete_from_target(conn, &keys, &hits, &target, committed_rowid)?;
            // Numbered once in record order, so each page below is a range of positions that
            // DuckDB finds by the table's min/max statistics, not a sort of all after it.
            conn.execute_batch(&format!(
                "CREATE TABLE {sorted} AS SELECT row_number() OVER (ORDER BY h.record_no, h.column_index) AS position, \
                 h.record_no, k.{LINE} AS line, h.column_index, h.first_line \
                 FROM {hits} h JOIN {keys} k ON k.{RECORD_NO} = h.record_no ORDER BY position"
            ))
            .map_err(StoreError::query(context))?;
            hand_out_duplicates(conn, &sorted, on_duplicates)?;
            conn.execute_batch(&format!("DROP TABLE {sorted}"))
                .map_err(StoreError::query(context))?;
        }
        conn.execute_batch(&format!("DROP TABLE {hits}; DROP TABLE {keys};"))
            .map_err(StoreError::query("dropping the tables of the unique rule"))?;
        Ok(failed.max(0) as u64)
    }

    /// Deletes the duplicates' rows from the target. The rows this job appended have consecutive
    /// row ids in append order, the order of the keys' ordinals; that is checked, not assumed.
    fn delete_from_target(
        &self,
        conn: &Connection,
        keys: &str,
        hits: &str,
        target: &str,
        committed_rowid: i64,
    ) -> Result<(), StoreError> {
        let context = "removing rows that broke the unique rule";
        let (first, last, appended): (Option<i64>, Option<i64>, i64) = conn
            .query_row(
                &format!("SELECT min(rowid), max(rowid), count(*) FROM {target} WHERE rowid > {committed_rowid}"),
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .map_err(StoreError::query(context))?;
        let keyed: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {keys}"), [], |row| row.get(0))
            .map_err(StoreError::query(context))?;
        let (Some(first), Some(last)) = (first, last) else {
            return Err(StoreError::Inconsistent(format!(
                "the unique rule found duplicates, but the table holds none of this job's {keyed} rows"
            )));
        };
        if appended != keyed || last - first + 1 != appended {
            return Err(StoreError::Inconsistent(format!(
                "the unique rule keyed {keyed} rows, but the table holds {appended} rows of this job with row ids \
                 {first} to {last}; nothing was imported"
            )));
        }
        conn.execute(
            &format!(
                "DELETE FROM {target} WHERE rowid IN \
                 (SELECT ? + {ORDINAL} FROM {keys} WHERE {RECORD_NO} IN (SELECT record_no FROM {hits}))"
            ),
            params![first],
        )
        .map_err(StoreError::query(context))?;
        Ok(())
    }
}

/// Reads the sorted duplicates page by page, one [`Duplicate`] per row that broke the rule.
fn hand_out_duplicates(
    conn: &Connection,
    sorted: &str,
    on_duplicates: &mut dyn FnMut(Vec<Duplicate>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let context = "reading the rows that broke the unique rule";
    let mut statement = conn
        .prepare(&format!(
            "SELECT position, record_no, line, column_index, first_line FROM {sorted} \
             WHERE position >= ? AND position < ? ORDER BY position"
        ))
        .map_err(StoreError::query(context))?;
    let mut from = 1i64;
    loop {
        let rows = statement
            .query_map(params![from, from + DUPLICATE_PAGE_ROWS], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, i32>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                ))
            })
            .map_err(StoreError::query(context))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::query(context))?;
        let complete = (rows.len() as i64) < DUPLICATE_PAGE_ROWS;
        // Each duplicate with the position of its first hit, where the next page starts if this
        // one cut its hits short.
        let mut page: Vec<(i64, Duplicate)> = Vec::new();
        for (position, record_no, line, column_index, first_line) in rows {
            let hit = (column_index.max(0) as usize, first_line.map(|line| line.max(0) as u64));
            match page.last_mut() {
                Some((_, last)) if last.record_no == record_no as u64 => last.hits.push(hit),
                _ => page.push((
                    position,
                    Duplicate {
                        record_no: record_no as u64,
                        line: line.max(0) as u64,
                        hits: vec![hit],
                    },
                )),
            }
        }
        from += DUPLICATE_PAGE_ROWS;
        if !complete
            && page.len() > 1
            && let Some((first_position, _)) = page.pop()
        {
            from = first_position;
        }
        if !page.is_empty() {
            on_duplicates(page.into_iter().map(|(_, duplicate)| duplicate).collect())?;
        }
        if complete {
            return Ok(());
        }
    }
}

/// The problems of a duplicate, one per unique column it broke the rule in; `fields` are the
/// row's fields, for showing the value.
pub fn unique_problems(duplicate: &Duplicate, plan: &ImportPlan, fields: &[String], table: &str) -> Vec<Problem> {
    duplicate
        .hits
        .iter()
        .filter_map(|&(index, first_line)| {
            let column = plan.columns.get(index)?;
            let value = fields.get(column.source_index).map_or("", String::as_str);
            Some(unique_problem(column, value, first_line, table))
        })
        .collect()
}

/// The problem of a value that broke the rule in `column`; `first_line` is where it first
/// appeared in the file, `None` when it was already in `table`.
fn unique_problem(column: &ColumnPlan, value: &str, first_line: Option<u64>, table: &str) -> Problem {
    let place = match first_line {
        None => format!("is already in table '{table}'"),
        Some(line) => format!("already appears on line {line}"),
    };
    Problem {
        field_index: Some(column.source_index),
        column: Some(column.name.clone()),
        kind: ProblemKind::Unique,
        message: format!("{} {place}; values must be unique", quoted(value)),
    }
}

/// The highest row id of `table` before this job appends to it (-1 when it has no rows), so the
/// rows the job appends can be told from those already there.
pub fn committed_rowid(conn: &Connection, table: &str) -> Result<i64, StoreError> {
    conn.query_row(
        &format!("SELECT coalesce(max(rowid), -1) FROM main.{}", quote_ident(table)),
        [],
        |row| row.get(0),
    )
    .map_err(StoreError::query("reading the table's row ids"))
}
