//! Where a job's good rows are written, the one way every job that writes rows does it (the
//! import and the retry now; the bulk fix and the change set next): straight into the table, or
//! into a stage that an upsert merges by its key; with each row's keys beside it when the
//! `unique` rule or the key must judge them. The rule is judged in DuckDB once every row is in,
//! and its duplicates leave the table to become failed rows. All of it runs inside the job's
//! transaction ([`crate::store::Transaction`]), which this writer never commits or undoes.

use std::sync::Arc;

use duckdb::arrow::record_batch::RecordBatch;
use duckdb::{Appender, Connection};

use crate::import::plan::import_plan::ImportPlan;
use crate::import::write::unique::{self, Duplicate, UniqueKeys};
use crate::import::write::upsert::{self, Key};
use crate::records::Problem;
use crate::store::upsert::Stage;
use crate::store::{ArrowInserter, FixUndoRecord, StoreError};

/// Names the file a record number of the job is in, for a duplicate's problem.
pub(in crate::import) type FileOf<'f> = dyn Fn(u64) -> Option<Arc<str>> + 'f;

/// The keyed writer of one job: opened inside its transaction, fed batches, then judged and
/// merged, in that order.
pub(in crate::import) struct KeyedWriter<'c> {
    conn: &'c Connection,
    table: String,
    columns: Vec<String>,
    key: Option<Key>,
    check: Option<UniqueKeys>,
    stage: Option<Stage>,
    /// The table's last row id before the job: rows at or below it were there before and are
    /// what the unique rule compares the job's rows with. Negative when there is none to check.
    committed_rowid: i64,
    inserter: Option<ArrowInserter<'c>>,
    key_appender: Option<Appender<'c>>,
    /// A fix's undo record, with the table's last row id before the fix wrote.
    undo: Option<(FixUndoRecord, i64)>,
}

/// The columns of `plan` whose keys a batch must carry: those of the unique rule, or the
/// upsert's `key`. Empty when nothing is judged.
pub(in crate::import) fn key_columns(plan: &ImportPlan, key: Option<&Key>, job_id: i64) -> Vec<usize> {
    check_for(plan, key, job_id)
        .map(|check| check.unique_columns())
        .unwrap_or_default()
}

/// An upsert's key is judged as one key among the job's rows; otherwise the unique rule, each
/// unique column on its own.
fn check_for(plan: &ImportPlan, key: Option<&Key>, job_id: i64) -> Option<UniqueKeys> {
    match key {
        Some(key) => upsert::key_check(plan, key, job_id),
        None => unique::check_for_plan(plan, job_id),
    }
}

impl<'c> KeyedWriter<'c> {
    /// Opens the writer of job `job_id` for rows of `plan` into `table`, merged by `key` when
    /// there is one. `purpose` names the rows in an error ("appending the fixed rows").
    pub(in crate::import) fn open(
        conn: &'c Connection,
        job_id: i64,
        table: &str,
        plan: &ImportPlan,
        key: Option<Key>,
        purpose: &'static str,
    ) -> Result<Self, StoreError> {
        let columns: Vec<String> = plan.columns.iter().map(|column| column.name.clone()).collect();
        let check = check_for(plan, key.as_ref(), job_id);
        let stage = match key {
            Some(_) => {
                let typed: Vec<(String, String)> = plan
                    .columns
                    .iter()
                    .map(|column| (column.name.clone(), column.column_type.sql_name()))
                    .collect();
                Some(Stage::create(conn, job_id, &typed)?)
            }
            None => None,
        };
        // A stage holds only the job's rows: its key is compared among them, never with the table.
        let committed_rowid = match (&check, &stage) {
            (Some(check), None) => {
                check.create(conn)?;
                unique::committed_rowid(conn, table)?
            }
            (Some(check), Some(_)) => {
                check.create(conn)?;
                -1
            }
            (None, _) => -1,
        };
        let inserter = match &stage {
            Some(stage) => stage.inserter(conn)?,
            None => {
                let names: Vec<&str> = columns.iter().map(String::as_str).collect();
                ArrowInserter::into_table(conn, table, &names, purpose)?
            }
        };
        let key_appender = check.as_ref().map(|check| check.appender(conn)).transpose()?;
        Ok(Self {
            conn,
            table: table.to_string(),
            columns,
            key,
            check,
            stage,
            committed_rowid,
            inserter: Some(inserter),
            key_appender,
            undo: None,
        })
    }

    /// Keeps what this writer changes in the table in a fix's undo `record`. Call before the
    /// first rows are written.
    pub(in crate::import) fn keep_for_undo(&mut self, record: FixUndoRecord) -> Result<(), StoreError> {
        let before = unique::committed_rowid(self.conn, &self.table)?;
        self.undo = Some((record, before));
        Ok(())
    }

    /// Whether rows are judged by a rule once all are written. Such a job keeps DuckDB's memory
    /// for the judging rather than for the transaction's growth.
    pub(in crate::import) fn judges_keys(&self) -> bool {
        self.check.is_some()
    }

    /// Writes `rows`, and their `keys` when the rows are judged. Returns the rows written.
    pub(in crate::import) fn insert(
        &mut self,
        rows: Option<RecordBatch>,
        keys: Option<RecordBatch>,
    ) -> Result<u64, StoreError> {
        let Some(inserter) = self.inserter.as_mut() else {
            return Err(StoreError::Inconsistent(
                "rows were written after the writing ended".into(),
            ));
        };
        let count = match rows {
            Some(rows) => {
                let count = rows.num_rows() as u64;
                inserter.insert(rows)?;
                count
            }
            None => 0,
        };
        if let (Some(keys), Some(key_appender)) = (keys, self.key_appender.as_mut()) {
            key_appender
                .append_record_batch(keys)
                .map_err(StoreError::query("appending the unique check's keys"))?;
        }
        Ok(count)
    }

    /// Ends the writing: the last rows and keys reach DuckDB.
    pub(in crate::import) fn finish_writing(&mut self) -> Result<(), StoreError> {
        self.inserter = None;
        match self.key_appender.take() {
            Some(mut keys) => keys
                .flush()
                .map_err(StoreError::query("appending the unique check's keys")),
            None => Ok(()),
        }
    }

    /// The problems of a `duplicate` row of `plan` with `fields`, worded by the rule it broke.
    pub(in crate::import) fn problems(
        &self,
        duplicate: &Duplicate,
        plan: &ImportPlan,
        fields: &[String],
        file_of: &FileOf<'_>,
    ) -> Vec<Problem> {
        match &self.key {
            Some(key) => upsert::key_problems(duplicate, plan, fields, key, file_of),
            None => unique::unique_problems(duplicate, plan, fields, &self.table, file_of),
        }
    }

    /// Judges the rule over every row written: the duplicates leave the table (or stage) and go
    /// to `on_duplicates` a page at a time, in file order. Returns how many there were; none when
    /// nothing is judged. Call after [`Self::finish_writing`].
    pub(in crate::import) fn judge(
        &self,
        on_duplicates: &mut dyn FnMut(Vec<Duplicate>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let Some(check) = &self.check else {
            return Ok(0);
        };
        let target = match &self.stage {
            Some(stage) => stage.qualified(),
            None => unique::main_table(&self.table),
        };
        let check_table = self.stage.is_none() && self.committed_rowid >= 0;
        check.resolve(self.conn, &target, self.committed_rowid, check_table, on_duplicates)
    }

    /// Merges an upsert's staged rows into the table by key, `kept` of them after judging.
    /// Returns how many replaced a stored row; none without a key.
    pub(in crate::import) fn merge(self, kept: u64) -> Result<u64, StoreError> {
        let undo = self.undo.as_ref();
        let (Some(stage), Some(key)) = (self.stage, &self.key) else {
            if let Some((record, before)) = undo {
                record.keep_appended(self.conn, &self.table, *before)?;
            }
            return Ok(0);
        };
        let merged = stage.merge(
            self.conn,
            (&self.table, &self.columns),
            &key.names,
            undo.map(|(record, _)| record),
        )?;
        if merged.inserted + merged.updated != kept {
            return Err(StoreError::Inconsistent(format!(
                "{kept} rows were staged but the merge inserted {} and updated {}; nothing was changed",
                merged.inserted, merged.updated
            )));
        }
        Ok(merged.updated)
    }
}
