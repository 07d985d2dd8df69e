//! DuckDB's own settings for this process (threads; the memory limit is set in
//! [`super::memory_limit`]), read and changed through the store so no front end writes SQL. SET
//! takes no parameters: every value reaches SQL checked and quoted, or as a number.

use duckdb::Connection;

use super::{Store, StoreError};

impl Store {
    /// Writes what committed transactions changed into the database file, when no other write is
    /// under way (DuckDB refuses then, and the next job's end tries again). DuckDB keeps changes
    /// that are only in its write-ahead log in memory until its log reaches 16 MB, so a window
    /// running small job after small job otherwise grew by what they wrote (4.7 MB over 450
    /// jobs of 40 rows).
    pub fn checkpoint_if_idle(&self) {
        let _ = self.conn().execute_batch("CHECKPOINT");
    }

    /// Changes how many threads DuckDB uses.
    pub fn set_threads(&self, threads: usize) -> Result<(), StoreError> {
        self.conn()
            .execute_batch(&format!("SET threads = {}", threads.max(1)))
            .map_err(StoreError::query("setting DuckDB's threads"))
    }

    /// DuckDB's memory limit as it reports it ("3.7 GiB").
    pub fn memory_limit(&self) -> Result<String, StoreError> {
        self.conn()
            .query_row("SELECT current_setting('memory_limit')", [], |row| row.get(0))
            .map_err(StoreError::query("reading DuckDB's memory limit"))
    }

    /// DuckDB's threads and memory limit as it reports them.
    pub fn duckdb_settings(&self) -> Result<(String, String), StoreError> {
        duckdb_settings(self.conn())
    }
}

/// DuckDB's threads and memory limit on any connection (the benches' plain DuckDB ones too).
pub fn duckdb_settings(conn: &Connection) -> Result<(String, String), StoreError> {
    conn.query_row(
        "SELECT CAST(current_setting('threads') AS VARCHAR), CAST(current_setting('memory_limit') AS VARCHAR)",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .map_err(StoreError::query("reading DuckDB's settings"))
}
