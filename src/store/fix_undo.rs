//! What a fix changed, kept so it can be undone in one transaction.
//!
//! A fix (a retry job) takes rows out of an import's failed set and writes those that now pass
//! into the table. The failed rows it took stay in `sluice.failed_row_store`, marked as taken by
//! it, and those it set aside again are marked as added by it (see `store/failed.rs`), so they
//! need no copy. Inside its own transaction it keeps:
//! - the table rows it wrote, as they stood when it committed (`sluice."fix_<job>_table_rows"`);
//! - for an upsert, the stored rows it replaced (`sluice."fix_<job>_replaced_rows"`).
//!
//! The table has no row identity that outlives a checkpoint, so an undo finds the fix's rows by
//! their values, as a multiset: a row counts as still there when an equal one (NULL equal to
//! NULL) is, and as many of each as the fix wrote must be. A row a later upsert or edit changed
//! is then missing, and the undo is refused rather than removing someone else's change.

use duckdb::{Connection, OptionalExt};

use std::collections::BTreeMap;

use super::StoreError;
use super::catalog::{column_types, sluice_table_exists};
use super::failed::{RECORDS_IN_CHUNK, RETRY_ROW_COLUMNS, RetryRow, job_and_records, sorted};
use super::unique_keys::main_table;
use crate::sql::quote_ident;

/// The undo record of fix job `fix_job_id`, as it is written (inside the fix's transaction) and
/// read back (inside the undo's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixUndoRecord {
    fix_job_id: i64,
}

/// What an undo put back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UndoneRows {
    /// The fix's rows taken out of the table.
    pub removed: u64,
    /// Stored rows the fix had replaced by key, put back as they were.
    pub put_back: u64,
    /// Failed rows back in the failed set with their original text and problems.
    pub returned: u64,
}

/// Why the rows of a fix cannot be taken out of the table as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableSince {
    /// The table's columns are not those the fix wrote (dropped, added, renamed or retyped).
    ColumnsChanged,
    /// This many of the fix's rows are no longer in the table with the values it wrote.
    RowsChanged(u64),
}

impl FixUndoRecord {
    /// The record of fix job `fix_job_id`.
    pub fn of(fix_job_id: i64) -> Self {
        Self { fix_job_id }
    }

    /// The fix job it records.
    pub fn fix_job_id(&self) -> i64 {
        self.fix_job_id
    }

    fn table_rows(&self) -> String {
        format!("sluice.{}", quote_ident(&format!("fix_{}_table_rows", self.fix_job_id)))
    }

    fn replaced_rows(&self) -> String {
        format!(
            "sluice.{}",
            quote_ident(&format!("fix_{}_replaced_rows", self.fix_job_id))
        )
    }

    fn matches(&self) -> String {
        format!("sluice.{}", quote_ident(&format!("fix_{}_matches", self.fix_job_id)))
    }

    /// Starts the record of a fix into `table`, inside the fix's transaction: empty copies of the
    /// table's shape for the rows it will write and replace.
    pub fn begin(conn: &Connection, fix_job_id: i64, table: &str) -> Result<Self, StoreError> {
        let record = Self { fix_job_id };
        let table = main_table(table);
        conn.execute_batch(&format!(
            "CREATE TABLE {} AS SELECT * FROM {table} LIMIT 0; CREATE TABLE {} AS SELECT * FROM {table} LIMIT 0;",
            record.table_rows(),
            record.replaced_rows()
        ))
        .map_err(StoreError::query("starting the fix's undo record"))?;
        Ok(record)
    }

    /// Keeps the rows the fix appended to `table`: those after row id `after_rowid`, once the
    /// `unique` rule took its duplicates back out.
    pub fn keep_appended(&self, conn: &Connection, table: &str, after_rowid: i64) -> Result<(), StoreError> {
        conn.execute(
            &format!(
                "INSERT INTO {} SELECT * FROM {} WHERE rowid > ?",
                self.table_rows(),
                main_table(table)
            ),
            [after_rowid],
        )
        .map_err(StoreError::query("keeping the fixed rows for an undo"))?;
        Ok(())
    }

    /// Keeps the rows of `table` whose key is staged in `stage` (matched by `same_key`, over
    /// `t` and `s`): before an upsert's merge, the rows it will replace; after it, the rows it
    /// wrote.
    pub(super) fn keep_keyed(
        &self,
        conn: &Connection,
        table: &str,
        (stage, same_key): (&str, &str),
        merged: bool,
    ) -> Result<(), StoreError> {
        let into = if merged {
            self.table_rows()
        } else {
            self.replaced_rows()
        };
        conn.execute_batch(&format!(
            "INSERT INTO {into} SELECT t.* FROM {} t WHERE EXISTS (SELECT 1 FROM {stage} s WHERE {same_key})",
            main_table(table)
        ))
        .map_err(StoreError::query("keeping the fixed rows for an undo"))
    }

    /// The failed rows `record_nos` as the fix took them (before its rules), by record number.
    pub fn original_rows(&self, conn: &Connection, record_nos: &[i64]) -> Result<BTreeMap<i64, RetryRow>, StoreError> {
        let context = "reading the fixed rows as they were";
        let record_nos = sorted(record_nos);
        let mut statement = conn
            .prepare(&format!(
                "SELECT {RETRY_ROW_COLUMNS} FROM sluice.failed_row_store WHERE taken_by = ? AND {RECORDS_IN_CHUNK}"
            ))
            .map_err(StoreError::query(context))?;
        let rows = statement
            .query_map(
                duckdb::params_from_iter(job_and_records(self.fix_job_id, &record_nos)),
                RetryRow::numbered,
            )
            .map_err(StoreError::query(context))?
            .collect::<Result<_, _>>()
            .map_err(StoreError::query(context))?;
        Ok(rows)
    }

    /// Whether the record was kept: fixes from before undo existed have none.
    pub fn exists(&self, conn: &Connection) -> Result<bool, StoreError> {
        sluice_table_exists(conn, &format!("fix_{}_table_rows", self.fix_job_id))
    }

    /// The first fix of the same import after this one, not undone, that took up some of the
    /// same failed rows again: it must be undone first.
    pub fn later_fix_of_same_rows(&self, conn: &Connection) -> Result<Option<i64>, StoreError> {
        // The rows it took are still marked as its own; only those it set aside again can have
        // been taken up since.
        conn.query_row(
            "SELECT min(taken_by) FROM sluice.failed_row_store WHERE added_by = ? AND taken_by IS NOT NULL",
            [self.fix_job_id],
            |row| row.get(0),
        )
        .optional()
        .map(Option::flatten)
        .map_err(StoreError::query("looking for later fixes of the same rows"))
    }

    /// Whether the fix's rows can be taken out of `table` as they are: its columns unchanged and
    /// every row the fix wrote still there with the values it wrote.
    pub fn check_table(&self, conn: &Connection, table: &str) -> Result<Result<(), TableSince>, StoreError> {
        let kept = format!("fix_{}_table_rows", self.fix_job_id);
        let columns = column_types(conn, "main", table)?;
        if column_types(conn, "sluice", &kept)? != columns {
            return Ok(Err(TableSince::ColumnsChanged));
        }
        let context = "finding the fix's rows in the table";
        let names: Vec<String> = columns.into_iter().map(|(name, _)| quote_ident(&name)).collect();
        let listed = names.join(", ");
        let same_row: Vec<String> = names
            .iter()
            .map(|name| format!("t.{name} IS NOT DISTINCT FROM f.{name}"))
            .collect();
        // Each distinct row the fix wrote, how many times, and the table's rows equal to it,
        // newest first: the first `wanted` of each are the fix's.
        conn.execute_batch(&format!(
            "CREATE TABLE {matches} AS SELECT t.rowid AS row_id, f.sluice_wanted AS wanted, \
             row_number() OVER (PARTITION BY f.sluice_group ORDER BY t.rowid DESC) AS nth \
             FROM {table} t JOIN (SELECT row_number() OVER () AS sluice_group, * FROM \
             (SELECT {listed}, count(*) AS sluice_wanted FROM {kept} GROUP BY {listed})) f ON {same_row}",
            matches = self.matches(),
            table = main_table(table),
            kept = self.table_rows(),
            same_row = if same_row.is_empty() {
                "true".into()
            } else {
                same_row.join(" AND ")
            },
        ))
        .map_err(StoreError::query(context))?;
        let written = count(conn, &format!("SELECT count(*) FROM {}", self.table_rows()), context)?;
        let found = count(
            conn,
            &format!("SELECT count(*) FROM {} WHERE nth <= wanted", self.matches()),
            context,
        )?;
        Ok(match written.saturating_sub(found) {
            0 => Ok(()),
            changed => Err(TableSince::RowsChanged(changed)),
        })
    }

    /// Undoes the fix of import `import_job_id` into `table` as undo job `undo_job_id`, after
    /// [`Self::check_table`] found it whole: its rows leave the table, the rows it replaced
    /// come back, its failed rows return as they were, the import's counts go back by
    /// `(imported, updated)`, and the record is dropped.
    pub fn undo(
        &self,
        conn: &Connection,
        (import_job_id, undo_job_id): (i64, i64),
        table: &str,
        (imported, updated): (i64, i64),
    ) -> Result<UndoneRows, StoreError> {
        let context = "undoing the fix";
        let target = main_table(table);
        let removed = conn
            .execute(
                &format!(
                    "DELETE FROM {target} WHERE rowid IN (SELECT row_id FROM {} WHERE nth <= wanted)",
                    self.matches()
                ),
                [],
            )
            .map_err(StoreError::query(context))? as u64;
        let put_back = conn
            .execute(
                &format!("INSERT INTO {target} SELECT * FROM {}", self.replaced_rows()),
                [],
            )
            .map_err(StoreError::query(context))? as u64;
        let fix = self.fix_job_id;
        // The rows it set aside again go; those it took are failing again, as they were.
        for store in ["failed_row_store", "failed_problem_store"] {
            conn.execute(&format!("DELETE FROM sluice.{store} WHERE added_by = ?"), [fix])
                .map_err(StoreError::query(context))?;
        }
        let returned = conn
            .execute(
                "UPDATE sluice.failed_row_store SET taken_by = NULL WHERE taken_by = ?",
                [fix],
            )
            .map_err(StoreError::query(context))? as u64;
        conn.execute(
            "UPDATE sluice.failed_problem_store SET taken_by = NULL WHERE taken_by = ?",
            [fix],
        )
        .map_err(StoreError::query(context))?;
        super::jobs::add_retried_rows(conn, import_job_id, -imported, -updated)?;
        super::jobs::set_undone_by(conn, fix, undo_job_id)?;
        self.forget(conn)?;
        Ok(UndoneRows {
            removed,
            put_back,
            returned,
        })
    }

    /// Drops the record: once undone, a fix cannot be undone again.
    fn forget(&self, conn: &Connection) -> Result<(), StoreError> {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {};",
            self.table_rows(),
            self.replaced_rows(),
            self.matches()
        ))
        .map_err(StoreError::query("dropping the fix's undo record"))
    }
}

fn count(conn: &Connection, sql: &str, context: &'static str) -> Result<u64, StoreError> {
    conn.query_row(sql, [], |row| row.get::<_, i64>(0))
        .map(|count| count.max(0) as u64)
        .map_err(StoreError::query(context))
}
