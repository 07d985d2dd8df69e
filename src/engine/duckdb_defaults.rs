//! DuckDB's settings for a job that runs alone in a process (the command line), when the user
//! gives none: the engine's policy, so a front end only says what the user asked for.

use crate::store::{Store, StoreError, YieldingLimit};

/// DuckDB settings for a command-line job when the user gives none.
///
/// A command-line job runs alone in a process that exits when it ends, so DuckDB's block cache
/// (which keeps every block written or read, up to the memory limit) serves nothing: for a job
/// that only streams, a small limit keeps memory flat however big the file or table is. Jobs
/// that sort, aggregate or write Parquet need DuckDB's working memory and keep its defaults.
#[derive(Clone, Debug, Default)]
pub struct DuckdbDefaults {
    /// DuckDB's memory limit, in megabytes (10^6 bytes, as DuckDB counts them).
    pub memory_limit_mb: Option<u64>,
    /// How far an import may lower that limit as its transaction grows
    /// ([`YieldingLimit`]); `None` keeps it fixed.
    pub memory_floor_mb: Option<u64>,
    /// DuckDB's worker threads; `None` keeps DuckDB's default.
    pub threads: Option<usize>,
}

impl DuckdbDefaults {
    /// An import writes one batch at a time from one thread: DuckDB's worker threads would only
    /// compete with the parse thread for cores. Its memory holds the row group being written,
    /// a 256 KiB block or so per column, plus room for the rest. (Measured on 5M rows of 8
    /// columns: 3.1-3.3 s and 147 MiB, against 3.3 s and 265 MiB with DuckDB's defaults; a
    /// 300-column file needs about 100 MB.)
    ///
    /// The rest gives way to the transaction's own bookkeeping as it grows, by up to 8 MB. Below
    /// that DuckDB starts moving the transaction's unwritten blocks to its temporary folder and
    /// back, and memory falls no further: 50M rows of 8 columns peaked at 136.9-137.8 MiB with
    /// a fixed 34 MB (22.1-22.3 s), 130.4-130.7 MiB going down to 26 MB (21.6-21.8 s) and
    /// 131.2 MiB going down to 18 MB (23.4-24.1 s).
    ///
    /// The `unique` rule's check (a grouping and a join over the job's keys and the table) spills
    /// to disk but needs room to do so: 32 MB failed appending a million duplicates of rows
    /// already in the table, 42 MB worked. DuckDB fills what it is given as the keys grow (peak
    /// RSS at 5M unique keys: 201 MiB with 48 MB, 257 MiB with 100 MB), so the extra room is
    /// kept small: 16 MB more, and the limit stays where it is.
    pub fn import(columns: usize, checks_unique: bool) -> Self {
        let per_columns = columns.div_ceil(4) as u64;
        Self {
            memory_limit_mb: Some(32 + per_columns + if checks_unique { 16 } else { 0 }),
            memory_floor_mb: (!checks_unique).then_some(24 + per_columns),
            threads: Some(1),
        }
    }

    /// A fix of failed rows reads them a page at a time and writes those that pass as an import
    /// writes its rows, so it is held to an import's memory. The copy of the rows it wrote, kept
    /// for its undo, and an undo's search for them in the table are work DuckDB spills to disk.
    pub fn fix(columns: usize, checks_unique: bool) -> Self {
        Self {
            memory_floor_mb: None,
            ..Self::import(columns, checks_unique)
        }
    }

    /// An unsorted CSV or Excel export streams row groups from disk once each. Each scanning thread pins
    /// a block or so per column, so it runs on one (Sluice's own encoder and gzip threads use the
    /// cores; measured on 5M rows: 2.1 s either way).
    pub fn streaming_export(columns: usize) -> Self {
        Self {
            memory_limit_mb: Some(16 + columns.div_ceil(2) as u64),
            memory_floor_mb: None,
            threads: Some(1),
        }
    }

    /// Applies these settings to `store`, but for those the user gave (`memory_limit_given`,
    /// `threads_given`), which stand.
    pub fn apply(&self, store: &Store, memory_limit_given: bool, threads_given: bool) -> Result<(), StoreError> {
        if let (false, Some(limit_mb)) = (memory_limit_given, self.memory_limit_mb) {
            match self.memory_floor_mb {
                Some(floor_mb) => store.set_yielding_memory_limit(YieldingLimit {
                    bytes: limit_mb * 1_000_000,
                    floor_bytes: floor_mb * 1_000_000,
                })?,
                None => store.set_memory_limit(&format!("{limit_mb}MB"))?,
            }
        }
        if let (false, Some(threads)) = (threads_given, self.threads) {
            store.set_threads(threads)?;
        }
        Ok(())
    }
}
