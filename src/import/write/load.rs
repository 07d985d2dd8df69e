//! The database side of an import: one transaction that creates (or replaces) the target table,
//! appends every batch of good rows and every failed row, and records the job's result. It commits
//! only when the whole file has been read, so a cancelled or failed import leaves the target
//! exactly as it was, and a crash leaves nothing behind but a job to mark interrupted.

use duckdb::Connection;

use crate::store::Transaction;

use crate::import::plan::import_plan::ImportPlan;
use crate::import::plan::target::TableSetup;
use crate::import::sniff::types::ColumnType;
use crate::import::write::keyed_writer::KeyedWriter;
use crate::import::write::pipeline::ParsedBatch;
use crate::sql::quote_ident;
use crate::sql_type::SqlType;
use crate::store::{
    CommitAppend, Store, StoreError, append_failed_rows, append_skipped_lines, commit_room, failed_rows_appends,
};

/// Running totals of what the writer has stored.
#[derive(Clone, Copy, Debug, Default)]
pub struct Written {
    pub rows_imported: u64,
    /// Of `rows_imported`, those that replaced a stored row (an upsert).
    pub rows_updated: u64,
    pub rows_failed: u64,
    /// The problems of the `rows_failed` rows, one stored row each.
    pub problems_stored: u64,
}

/// Starts the import's transaction and prepares the target table: creates it, or adds
/// `added` columns to the existing one. Dropped without a commit, the transaction undoes it all.
pub fn begin<'s>(
    store: &'s Store,
    table: &str,
    plan: &ImportPlan,
    setup: TableSetup,
    added: &[(String, ColumnType)],
) -> Result<Transaction<'s>, StoreError> {
    let transaction = begin_transaction(store)?;
    let conn = store.conn();
    let verb = match setup {
        TableSetup::Create => "CREATE TABLE",
        TableSetup::Replace => "CREATE OR REPLACE TABLE",
        TableSetup::Existing => {
            added.iter().try_for_each(|(name, column_type)| {
                conn.execute_batch(&format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    quote_ident(table),
                    quote_ident(name),
                    column_type.sql_name()
                ))
                .map_err(StoreError::query("adding the files' new columns to the table"))
            })?;
            return Ok(transaction);
        }
    };
    let columns: Vec<String> = plan
        .columns
        .iter()
        .map(|column| format!("{} {}", quote_ident(&column.name), column.column_type.sql_name()))
        .collect();
    conn.execute_batch(&format!("{verb} {} ({})", quote_ident(table), columns.join(", ")))
        .map_err(StoreError::query("creating the target table"))?;
    Ok(transaction)
}

/// Appends one parsed batch: good rows (and their keys) through the job's keyed writer, failed
/// rows and skipped lines to Sluice's tables.
pub fn append_batch(
    conn: &Connection,
    writer: &mut KeyedWriter<'_>,
    job_id: i64,
    batch: ParsedBatch,
    written: &mut Written,
) -> Result<(), StoreError> {
    written.rows_imported += writer.insert(batch.rows, batch.keys)?;
    append_failed_rows(conn, job_id, &batch.failed)?;
    append_skipped_lines(conn, job_id, &batch.skipped)?;
    written.rows_failed += batch.failed.len() as u64;
    written.problems_stored += batch.failed.iter().map(|row| row.problems.len() as u64).sum::<u64>();
    Ok(())
}

/// Starts the transaction everything an import or a retry writes goes into.
pub fn begin_transaction(store: &Store) -> Result<Transaction<'_>, StoreError> {
    Transaction::begin(store, "starting the import's transaction")
}

/// Commits what the import wrote: `rows_imported` rows into a table of columns of `table_types`,
/// and its failed rows, with the memory DuckDB needs to commit them ([`commit_room`]).
pub fn commit(transaction: Transaction<'_>, written: &Written, table_types: &[SqlType]) -> Result<(), StoreError> {
    let [failed, problems] = failed_rows_appends(written.rows_failed, written.problems_stored);
    let table = CommitAppend::new(written.rows_imported, table_types.iter().copied());
    transaction.commit(commit_room(&[table, failed, problems]), "committing the import")
}
