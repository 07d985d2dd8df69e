//! The `unique` rule's tables and statements, run in DuckDB inside the import's transaction.
//! The import decides which columns are unique and words the problems (`import/write/unique.rs`);
//! the scratch tables in Sluice's schema and every statement on them are here.
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

use super::StoreError;
use crate::sql::quote_ident;

/// Columns of the keys table before the unique values (named `key_0`, `key_1`...).
pub const ORDINAL: &str = "ordinal";
/// The column of a row's record number in the job.
pub const RECORD_NO: &str = "record_no";
/// The column of a row's line in its file.
pub const LINE: &str = "line";

/// Duplicates handed out at a time, so a file of millions of them streams.
const DUPLICATE_PAGE_ROWS: i64 = 10_000;

/// A row that broke the rule, with the unique columns it broke it in.
#[derive(Clone, Debug, PartialEq)]
pub struct Duplicate {
    /// Its record number in the job (which says which of the job's files it is in).
    pub record_no: u64,
    /// Its line in its file.
    pub line: u64,
    /// (index into the plan's columns, the first occurrence; `None` when the value was already
    /// in the table).
    pub hits: Vec<(usize, Option<FirstSeen>)>,
}

/// Where a value first appeared among the job's rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstSeen {
    /// Its record number in the job (which says which of the job's files it is in).
    pub record_no: u64,
    /// Its line in its file.
    pub line: u64,
}

/// A unique column of the target table.
#[derive(Clone, Debug, PartialEq)]
pub struct UniqueKey {
    /// Its index among the import's columns, as [`Duplicate::hits`] names it.
    pub index: usize,
    /// The target column's name.
    pub column: String,
    /// Its SQL type, as Sluice writes type names (`BIGINT`, `DECIMAL(10,2)`).
    pub sql_type: String,
    /// A text column, where an empty string is no value and never clashes.
    pub is_text: bool,
}

/// The keys table of one job and the statements that judge it.
pub struct UniqueKeys {
    job_id: i64,
    keys: Vec<UniqueKey>,
    /// The columns are one key, judged together (an upsert's `--key a,b`), not each on its own.
    as_one_key: bool,
}

impl UniqueKeys {
    /// The check of job `job_id` over `keys`, each column on its own: `None` when there are none.
    pub fn new(job_id: i64, keys: Vec<UniqueKey>) -> Option<Self> {
        (!keys.is_empty()).then_some(Self {
            job_id,
            keys,
            as_one_key: false,
        })
    }

    /// The check of job `job_id` over the columns of one key, judged together: a row repeats
    /// another when all its key values do. A duplicate's hit names the key's first column.
    pub fn one_key(job_id: i64, keys: Vec<UniqueKey>) -> Option<Self> {
        (!keys.is_empty()).then_some(Self {
            job_id,
            keys,
            as_one_key: true,
        })
    }

    /// Indexes among the import's columns of the unique ones, in the keys table's order.
    pub fn unique_columns(&self) -> Vec<usize> {
        self.keys.iter().map(|key| key.index).collect()
    }

    fn table(&self, what: &str) -> String {
        scratch_table(self.job_id, what)
    }

    /// Creates the keys table.
    pub fn create(&self, conn: &Connection) -> Result<(), StoreError> {
        let mut columns = vec![
            format!("{ORDINAL} BIGINT"),
            format!("{RECORD_NO} BIGINT"),
            format!("{LINE} BIGINT"),
        ];
        for (position, key) in self.keys.iter().enumerate() {
            columns.push(format!("key_{position} {}", key.sql_type));
        }
        conn.execute_batch(&format!("CREATE TABLE {} ({})", self.table("keys"), columns.join(", ")))
            .map_err(StoreError::query("creating the table for the unique rule"))
    }

    /// The appender for the keys table (batches from `KeyBatchBuilder`).
    pub fn appender<'c>(&self, conn: &'c Connection) -> Result<duckdb::Appender<'c>, StoreError> {
        conn.appender_to_db(&scratch_name(self.job_id, "keys"), "sluice")
            .map_err(StoreError::query("opening the table for the unique rule"))
    }

    /// Finds the duplicates among the keyed rows, deletes them from `target` (a user's table
    /// named as `main_table` names it, or a scratch table), hands them to `on_duplicates` a page
    /// at a time in file order, and drops the check's tables. Rows of `target` with a row id
    /// above `committed_rowid` are this job's; those at or below it were there before, and are
    /// what `check_table` compares with. Returns the rows that failed.
    pub fn resolve(
        &self,
        conn: &Connection,
        target: &str,
        committed_rowid: i64,
        check_table: bool,
        on_duplicates: &mut dyn FnMut(Vec<Duplicate>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let context = "checking unique values";
        let keys = self.table("keys");
        let hits = self.table("duplicates");
        let sorted = self.table("duplicates_sorted");
        conn.execute_batch(&format!(
            "CREATE TABLE {hits} (record_no BIGINT, column_index INTEGER, first_no BIGINT, first_line BIGINT)"
        ))
        .map_err(StoreError::query(context))?;
        if self.as_one_key {
            self.find_repeated_keys(conn, &keys, &hits)?;
        }
        for (position, key) in self.keys.iter().enumerate().filter(|_| !self.as_one_key) {
            let index = key.index;
            let column = quote_ident(&key.column);
            let value = format!("key_{position}");
            // NULLs never clash, and neither do empty strings: a file that quotes every field
            // writes an empty optional value as "", which is no more a value than nothing.
            let present = |value: &str| {
                if key.is_text {
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
                    "INSERT INTO {hits} SELECT k.{RECORD_NO}, {index}, NULL, NULL FROM {keys} k \
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
                "INSERT INTO {hits} SELECT k.{RECORD_NO}, {index}, f.first_no, f.first_line FROM {keys} k \
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
            self.delete_from_target(conn, &keys, &hits, target, committed_rowid)?;
            // Numbered once in record order, so each page below is a range of positions that
            // DuckDB finds by the table's min/max statistics, not a sort of all after it.
            conn.execute_batch(&format!(
                "CREATE TABLE {sorted} AS SELECT row_number() OVER (ORDER BY h.record_no, h.column_index) AS position, \
                 h.record_no, k.{LINE} AS line, h.column_index, h.first_no, h.first_line \
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

    /// Adds to `hits` every row whose key values, all of them together, an earlier row had.
    fn find_repeated_keys(&self, conn: &Connection, keys: &str, hits: &str) -> Result<(), StoreError> {
        let values: Vec<String> = (0..self.keys.len()).map(|position| format!("key_{position}")).collect();
        let present: Vec<String> = self
            .keys
            .iter()
            .zip(&values)
            .map(|(key, value)| {
                if key.is_text {
                    format!("{value} IS NOT NULL AND {value} <> ''")
                } else {
                    format!("{value} IS NOT NULL")
                }
            })
            .collect();
        let matched: Vec<String> = values.iter().map(|value| format!("k.{value} = f.{value}")).collect();
        let first_index = self.keys.first().map_or(0, |key| key.index);
        conn.execute_batch(&format!(
            "INSERT INTO {hits} SELECT k.{RECORD_NO}, {first_index}, f.first_no, f.first_line FROM {keys} k \
             JOIN (SELECT {values}, min({RECORD_NO}) AS first_no, arg_min({LINE}, {RECORD_NO}) AS first_line \
                   FROM {keys} WHERE {present} GROUP BY {values}) f \
             ON {matched} WHERE k.{RECORD_NO} > f.first_no",
            values = values.join(", "),
            present = present.join(" AND "),
            matched = matched.join(" AND "),
        ))
        .map_err(StoreError::query("checking the key for repeats"))
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
            "SELECT position, record_no, line, column_index, first_no, first_line FROM {sorted} \
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
                    row.get::<_, Option<i64>>(5)?,
                ))
            })
            .map_err(StoreError::query(context))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::query(context))?;
        let complete = (rows.len() as i64) < DUPLICATE_PAGE_ROWS;
        // Each duplicate with the position of its first hit, where the next page starts if this
        // one cut its hits short.
        let mut page: Vec<(i64, Duplicate)> = Vec::new();
        for (position, record_no, line, column_index, first_no, first_line) in rows {
            let first = first_no.zip(first_line).map(|(record_no, line)| FirstSeen {
                record_no: record_no.max(0) as u64,
                line: line.max(0) as u64,
            });
            let hit = (column_index.max(0) as usize, first);
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

/// A user's table as `resolve` and `committed_rowid` name it.
pub fn main_table(name: &str) -> String {
    format!("main.{}", quote_ident(name))
}

/// The highest row id of `table` before this job appends to it (-1 when it has no rows), so the
/// rows the job appends can be told from those already there.
pub fn committed_rowid(conn: &Connection, table: &str) -> Result<i64, StoreError> {
    conn.query_row(
        &format!("SELECT coalesce(max(rowid), -1) FROM {}", main_table(table)),
        [],
        |row| row.get(0),
    )
    .map_err(StoreError::query("reading the table's row ids"))
}

/// The name, unquoted, of a scratch table job `job_id` keeps in Sluice's schema while it runs:
/// created and dropped inside the job's transaction, so none outlives it.
fn scratch_name(job_id: i64, what: &str) -> String {
    format!("import_{what}_{job_id}")
}

fn scratch_table(job_id: i64, what: &str) -> String {
    format!("sluice.{}", quote_ident(&scratch_name(job_id, what)))
}
