//! The `unique` rule, checked in DuckDB inside the import's transaction.
//!
//! Checking it while parsing would mean keeping every value seen so far in memory (and, when
//! appending, every value already in the table), so memory would grow with the file. Instead an
//! import with a unique column appends its good rows to a staging table that also keeps each
//! row's record number, line, byte offset and raw text. When the file has been read, DuckDB finds
//! the duplicates with a grouping and a join, which it runs out of core under its memory limit:
//!
//! - a value already in the target table fails every row that has it ("is already in table");
//! - otherwise the first occurrence in file order wins and every later one fails, naming the line
//!   of the first.
//!
//! Each unique column is judged on its own, among the rows that passed every other check. The
//! duplicates become failed rows, the rest move into the target in file order, and the staging
//! tables are dropped, all before the transaction commits.

use duckdb::{Connection, params};

use super::plan::{ColumnPlan, ImportPlan};
use super::records::RecordReader;
use super::validate::{Problem, ProblemKind, quoted};
use crate::sql::quote_ident;
use crate::store::StoreError;

/// Provenance columns of the staging table, after the plan's own. The names cannot be written
/// by a CSV header that Sluice would clean into a column name (those have no colon).
pub const RECORD_NO: &str = "sluice:record_no";
pub const LINE: &str = "sluice:line";
pub const BYTE_OFFSET: &str = "sluice:byte_offset";
pub const RAW: &str = "sluice:raw";

/// Duplicates handed out at a time, so a file of millions of them streams.
const DUPLICATE_PAGE_ROWS: i64 = 10_000;

/// A staged row that broke the rule, with the unique columns it broke it in.
#[derive(Clone, Debug, PartialEq)]
pub struct Duplicate {
    pub record_no: u64,
    pub line: u64,
    pub byte_offset: u64,
    pub raw: String,
    /// (index into the plan's columns, line of the first occurrence; `None` when the value was
    /// already in the table).
    pub hits: Vec<(usize, Option<u64>)>,
}

/// The staging tables of one job.
pub struct UniqueStage {
    job_id: i64,
    /// Indexes into the plan's columns of the unique ones.
    unique_columns: Vec<usize>,
}

impl UniqueStage {
    /// The stage an import of `plan` needs: `None` when no column is unique.
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

    fn stage_name(&self) -> String {
        format!("import_stage_{}", self.job_id)
    }

    fn qualified(name: &str) -> String {
        format!("sluice.{}", quote_ident(name))
    }

    /// Creates the staging table: the plan's columns, then the provenance columns.
    pub fn create(&self, conn: &Connection, plan: &ImportPlan) -> Result<(), StoreError> {
        let mut columns: Vec<String> = plan
            .columns
            .iter()
            .map(|column| format!("{} {}", quote_ident(&column.name), column.column_type.sql_name()))
            .collect();
        for (name, sql_type) in [
            (RECORD_NO, "BIGINT"),
            (LINE, "BIGINT"),
            (BYTE_OFFSET, "BIGINT"),
            (RAW, "VARCHAR"),
        ] {
            columns.push(format!("{} {sql_type}", quote_ident(name)));
        }
        conn.execute_batch(&format!(
            "CREATE TABLE {} ({})",
            Self::qualified(&self.stage_name()),
            columns.join(", ")
        ))
        .map_err(StoreError::query("creating the staging table for the unique rule"))
    }

    /// The appender for staged rows (batches built with provenance).
    pub fn appender<'c>(&self, conn: &'c Connection) -> Result<duckdb::Appender<'c>, StoreError> {
        conn.appender_to_db(&self.stage_name(), "sluice")
            .map_err(StoreError::query("opening the staging table for appending"))
    }

    /// Finds the duplicates among the staged rows, hands them to `on_duplicates` a page at a time
    /// in file order, moves every other staged row into `target` and drops the staging tables.
    /// `check_table` says the target held rows before this job. Returns the rows moved.
    pub fn resolve(
        &self,
        conn: &Connection,
        plan: &ImportPlan,
        target: &str,
        check_table: bool,
        on_duplicates: &mut dyn FnMut(Vec<Duplicate>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let context = "checking unique values";
        let stage = Self::qualified(&self.stage_name());
        let hits = Self::qualified(&format!("import_duplicates_{}", self.job_id));
        let sorted = Self::qualified(&format!("import_duplicates_sorted_{}", self.job_id));
        let target = quote_ident(target);
        let record_no = quote_ident(RECORD_NO);
        let line = quote_ident(LINE);
        conn.execute_batch(&format!(
            "CREATE TABLE {hits} (record_no BIGINT, column_index INTEGER, first_line BIGINT)"
        ))
        .map_err(StoreError::query(context))?;
        for &index in &self.unique_columns {
            let column = quote_ident(&plan.columns[index].name);
            let in_table = format!("EXISTS (SELECT 1 FROM main.{target} t WHERE t.{column} = s.{column})");
            if check_table {
                conn.execute_batch(&format!(
                    "INSERT INTO {hits} SELECT s.{record_no}, {index}, NULL FROM {stage} s \
                     WHERE s.{column} IS NOT NULL AND {in_table}"
                ))
                .map_err(StoreError::query(context))?;
            }
            let not_in_table = if check_table {
                format!(" AND NOT {in_table}")
            } else {
                String::new()
            };
            conn.execute_batch(&format!(
                "INSERT INTO {hits} SELECT s.{record_no}, {index}, f.first_line FROM {stage} s \
                 JOIN (SELECT {column} AS value, min({record_no}) AS first_no, \
                       arg_min({line}, {record_no}) AS first_line \
                       FROM {stage} WHERE {column} IS NOT NULL GROUP BY {column}) f \
                 ON s.{column} = f.value WHERE s.{record_no} > f.first_no{not_in_table}"
            ))
            .map_err(StoreError::query(context))?;
        }
        // Numbered once in record order, so each page below is a range of positions that DuckDB
        // finds by the table's min/max statistics, instead of a sort of everything after it.
        conn.execute_batch(&format!(
            "CREATE TABLE {sorted} AS SELECT row_number() OVER (ORDER BY h.record_no, h.column_index) AS position, \
             h.record_no, s.{line} AS line, s.{byte_offset} AS byte_offset, s.{raw} AS raw, h.column_index, \
             h.first_line FROM {hits} h JOIN {stage} s ON s.{record_no} = h.record_no ORDER BY position",
            byte_offset = quote_ident(BYTE_OFFSET),
            raw = quote_ident(RAW),
        ))
        .map_err(StoreError::query(context))?;
        self.hand_out_duplicates(conn, &sorted, on_duplicates)?;
        let columns: Vec<String> = plan.columns.iter().map(|column| quote_ident(&column.name)).collect();
        let columns = columns.join(", ");
        // The staged rows are in file order and an anti-join keeps its probe side's order, so the
        // target gets the rows in file order, as an import without the rule does.
        let moved = conn
            .execute(
                &format!(
                    "INSERT INTO main.{target} ({columns}) SELECT {columns} FROM {stage} s \
                     WHERE NOT EXISTS (SELECT 1 FROM {hits} h WHERE h.record_no = s.{record_no})"
                ),
                [],
            )
            .map_err(StoreError::query("moving the staged rows into the table"))?;
        conn.execute_batch(&format!("DROP TABLE {sorted}; DROP TABLE {hits}; DROP TABLE {stage};"))
            .map_err(StoreError::query("dropping the staging tables"))?;
        Ok(moved as u64)
    }

    /// Reads the sorted duplicates page by page, one [`Duplicate`] per row that broke the rule.
    fn hand_out_duplicates(
        &self,
        conn: &Connection,
        sorted: &str,
        on_duplicates: &mut dyn FnMut(Vec<Duplicate>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let context = "reading the rows that broke the unique rule";
        let mut statement = conn
            .prepare(&format!(
                "SELECT position, record_no, line, byte_offset, raw, column_index, first_line FROM {sorted} \
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
                        row.get::<_, i64>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, i32>(5)?,
                        row.get::<_, Option<i64>>(6)?,
                    ))
                })
                .map_err(StoreError::query(context))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(StoreError::query(context))?;
            let complete = (rows.len() as i64) < DUPLICATE_PAGE_ROWS;
            // Each duplicate with the position of its first hit, where the next page starts if
            // this one cut its hits short.
            let mut page: Vec<(i64, Duplicate)> = Vec::new();
            for (position, record_no, line, byte_offset, raw, column_index, first_line) in rows {
                let hit = (column_index.max(0) as usize, first_line.map(|line| line.max(0) as u64));
                match page.last_mut() {
                    Some((_, last)) if last.record_no == record_no as u64 => last.hits.push(hit),
                    _ => page.push((
                        position,
                        Duplicate {
                            record_no: record_no as u64,
                            line: line.max(0) as u64,
                            byte_offset: byte_offset.max(0) as u64,
                            raw,
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
}

/// The problem of a value that broke the rule in `column`; `first_line` is where it first
/// appeared in the file, `None` when it was already in `table`.
pub fn unique_problem(column: &ColumnPlan, value: &str, first_line: Option<u64>, table: &str) -> Problem {
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

/// The fields of a staged row's raw text, parsed again with the file's dialect (only duplicates
/// are, so the good rows never pay for keeping their fields).
pub fn fields_of_raw(raw: &str, plan: &ImportPlan) -> Vec<String> {
    let mut reader = RecordReader::new(raw.as_bytes(), plan.dialect);
    match reader.next_record() {
        Ok(Some(record)) => record
            .fields()
            .map(|field| String::from_utf8_lossy(field).into_owned())
            .collect(),
        _ => Vec::new(),
    }
}
