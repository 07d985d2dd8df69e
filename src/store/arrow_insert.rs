//! Writing batches of rows into a table as DuckDB reads them from Arrow, inside the caller's
//! transaction.
//!
//! duckdb-rs's Arrow appender copies every batch into a buffer of its own before DuckDB moves it
//! into the table; an `INSERT ... SELECT` from an Arrow table function ([`batch_scan`]) goes
//! straight in.
//! Measured on 5M rows of the benchmark's eight columns, one DuckDB thread, 122,880-row batches:
//! 2.22-2.27 s against the appender's 2.50-2.58 s. That is most of an import's critical path:
//! the thread that writes is the slower of the two.

use duckdb::arrow::record_batch::RecordBatch;
use duckdb::{Connection, Statement};

use super::batch_scan::{self, BatchRegistration};

use super::StoreError;
use crate::sql::quote_ident;

/// The table function's name: Sluice's own, so no extension or user macro is in the way.
const ARROW_SCAN: &str = "sluice_arrow_batch";

/// Makes the table function known to every connection of the database. It is registered once,
/// as the store opens: registered inside an import's transaction, it stayed invisible to the
/// other connections' imports until that one committed.
pub(super) fn register_arrow_scan(conn: &Connection) -> Result<(), StoreError> {
    batch_scan::register(conn, ARROW_SCAN).map_err(StoreError::query("registering Sluice's reader of Arrow batches"))
}

/// An insert of record batches into one table's columns, for a whole job.
pub struct ArrowInserter<'c> {
    conn: &'c Connection,
    sql: String,
    what: &'static str,
}

impl<'c> ArrowInserter<'c> {
    /// Inserts into `columns` of user table `table`, in the order of the batches' columns;
    /// `what` names the writing in errors.
    pub fn into_table(
        conn: &'c Connection,
        table: &str,
        columns: &[&str],
        what: &'static str,
    ) -> Result<Self, StoreError> {
        let columns: Vec<String> = columns.iter().map(|column| quote_ident(column)).collect();
        Self::new(conn, &format!("{} ({})", quote_ident(table), columns.join(", ")), what)
    }

    /// `target` is the table (and columns) as SQL; `what` names the writing in errors.
    pub(super) fn new(conn: &'c Connection, target: &str, what: &'static str) -> Result<Self, StoreError> {
        let sql = format!("INSERT INTO {target} SELECT * FROM {ARROW_SCAN}(?)");
        // Prepared once here so that a table or column that is not there fails before any row
        // is read.
        conn.prepare(&sql).map_err(StoreError::query(what))?;
        Ok(Self { conn, sql, what })
    }

    /// Prepared for each batch: a kept statement held on to the batch it last read until the
    /// next, one batch more in memory for the whole import.
    pub fn insert(&mut self, rows: RecordBatch) -> Result<(), StoreError> {
        let batch = BatchRegistration::new(rows);
        let mut statement: Statement<'_> = self.conn.prepare(&self.sql).map_err(StoreError::query(self.what))?;
        statement
            .execute([&batch])
            .map(|_| ())
            .map_err(StoreError::query(self.what))
    }
}
