//! A memory limit that gives way to the bookkeeping of a long import's transaction.
//!
//! Until a transaction commits, DuckDB keeps objects for every row group it wrote outside its
//! memory limit: the columns' data and segments, handles of the blocks written to the file,
//! version information for every 2,048 rows. `heaptrack` of an import of the benchmark's eight
//! columns found 10.5 MB more of them at 50M rows than at 5M, about 3.6 KB per column and row
//! group, so a command-line import whose memory stayed flat at 5M rows was 9-12% higher at 50M.
//! Inside the limit, meanwhile, DuckDB caches blocks the import has written and never reads
//! again: 5M rows took 2.51 s with a limit of 34 MB, 2.40 s with 24 MB and 2.51 s with 16 MB.
//!
//! So when Sluice chose the limit for an import running alone in its process, the import lowers
//! it as its transaction writes rows, by an estimate of that bookkeeping, down to a floor, and
//! puts it back when it ends. A limit the user set stays as they set it, and so does the
//! window's, which Browse and the other jobs share.

use std::sync::{Arc, Mutex, PoisonError};

use duckdb::Connection;

use super::{Store, StoreError};

/// Cells an uncommitted transaction writes per byte DuckDB keeps for them outside its limit:
/// 3.6 KB per column of a 122,880-row row group, as measured.
const CELLS_PER_BOOKKEEPING_BYTE: u64 = 34;

/// The limit is lowered in steps of at least this much, about a million rows of eight columns.
const STEP_BYTES: u64 = 256 * 1024;

/// A memory limit Sluice chose, and how far imports may lower it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YieldingLimit {
    /// The limit when no import runs, in bytes.
    pub bytes: u64,
    /// The lowest an import takes it, in bytes.
    pub floor_bytes: u64,
}

/// Shared by a store's clones: the front end sets it, each import's writer reads it.
pub(super) type SharedYieldingLimit = Arc<Mutex<Yielding>>;

#[derive(Debug, Default)]
pub(super) struct Yielding {
    limit: Option<YieldingLimit>,
    /// The lowest limit an import set since `limit` was, in bytes.
    lowest_bytes: Option<u64>,
}

fn lock(shared: &SharedYieldingLimit) -> std::sync::MutexGuard<'_, Yielding> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    /// Sets DuckDB's memory limit to `limit.bytes`, for imports to lower as their transactions
    /// grow. [`Store::set_memory_limit`] fixes it again.
    pub fn set_yielding_memory_limit(&self, limit: YieldingLimit) -> Result<(), StoreError> {
        set_limit_bytes(self.conn(), limit.bytes)?;
        *lock(&self.yielding) = Yielding {
            limit: Some(limit),
            lowest_bytes: None,
        };
        Ok(())
    }

    /// Forgets a yielding limit, once the limit has been set to one that stays.
    pub(super) fn fix_memory_limit(&self) {
        *lock(&self.yielding) = Yielding::default();
    }

    /// The lowest memory limit an import has set since the yielding limit was, in bytes; `None`
    /// when none lowered it.
    pub fn lowest_yielded_limit(&self) -> Option<u64> {
        lock(&self.yielding).lowest_bytes
    }

    /// The room an import writing `columns` columns in this store's transaction makes for it;
    /// `None` when the limit is not one to lower.
    pub fn transaction_room(&self, columns: usize) -> Option<TransactionRoom<'_>> {
        let limit = lock(&self.yielding).limit?;
        Some(TransactionRoom {
            conn: self.conn(),
            shared: &self.yielding,
            limit,
            columns: columns as u64,
            current_bytes: limit.bytes,
        })
    }
}

/// Lowers DuckDB's memory limit as one import's transaction grows, and restores it when dropped.
pub struct TransactionRoom<'c> {
    conn: &'c Connection,
    shared: &'c SharedYieldingLimit,
    limit: YieldingLimit,
    columns: u64,
    current_bytes: u64,
}

impl TransactionRoom<'_> {
    /// The transaction has now written `rows` rows.
    pub fn written(&mut self, rows: u64) {
        let bookkeeping = rows.saturating_mul(self.columns) / CELLS_PER_BOOKKEEPING_BYTE;
        let target = self.limit.bytes.saturating_sub(bookkeeping).max(self.limit.floor_bytes);
        // DuckDB refuses a limit it cannot meet at once (more blocks pinned than it allows);
        // the import then goes on under the limit it has.
        if self.current_bytes.saturating_sub(target) >= STEP_BYTES && set_limit_bytes(self.conn, target).is_ok() {
            self.current_bytes = target;
            let mut shared = lock(self.shared);
            shared.lowest_bytes = Some(shared.lowest_bytes.map_or(target, |lowest| lowest.min(target)));
        }
    }

    /// DuckDB's limit now, in bytes.
    pub fn current_bytes(&self) -> u64 {
        self.current_bytes
    }
}

impl Drop for TransactionRoom<'_> {
    fn drop(&mut self) {
        if self.current_bytes != self.limit.bytes {
            // Raising a limit cannot fail for want of memory; an error would leave the lower one,
            // which costs nothing but cache.
            let _ = set_limit_bytes(self.conn, self.limit.bytes);
        }
    }
}

fn set_limit_bytes(conn: &Connection, bytes: u64) -> Result<(), StoreError> {
    // KiB, as DuckDB's memory_limit takes no plain byte count in every version.
    conn.execute_batch(&format!("SET memory_limit = '{}KiB'", bytes.div_ceil(1024)))
        .map_err(StoreError::query("setting DuckDB's memory limit"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    fn limit_bytes(store: &Store) -> u64 {
        store
            .conn()
            .query_row("SELECT current_setting('memory_limit')", [], |row| {
                row.get::<_, String>(0)
            })
            .map(|text| parse_kib(&text))
            .unwrap()
    }

    /// DuckDB reports its limit as "32.4 MiB"; within a rounding of a tenth of a unit is enough
    /// to tell the steps apart.
    fn parse_kib(text: &str) -> u64 {
        let (number, unit) = text.split_once(' ').unwrap();
        let number: f64 = number.parse().unwrap();
        let scale = match unit {
            "KiB" => 1024.0,
            "MiB" => 1024.0 * 1024.0,
            "GiB" => 1024.0 * 1024.0 * 1024.0,
            other => panic!("unit {other}"),
        };
        (number * scale) as u64
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.duckdb"), &StoreOptions::default()).unwrap();
        (dir, store)
    }

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn an_import_lowers_the_limit_as_it_writes_down_to_the_floor_and_restores_it() {
        let (_dir, store) = open();
        let limit = YieldingLimit {
            bytes: 34 * MIB,
            floor_bytes: 18 * MIB,
        };
        store.set_yielding_memory_limit(limit).unwrap();
        let clone = store.try_clone().unwrap();
        clone.conn().execute_batch("BEGIN TRANSACTION").unwrap();
        let mut room = clone.transaction_room(8).expect("a clone shares the yielding limit");
        room.written(100_000);
        assert_eq!(room.current_bytes(), 34 * MIB, "less than a step: unchanged");
        room.written(5_000_000);
        let after_5m = room.current_bytes();
        assert_eq!(after_5m, 34 * MIB - 5_000_000 * 8 / CELLS_PER_BOOKKEEPING_BYTE);
        assert!((after_5m as i64 - limit_bytes(&clone) as i64).abs() < (MIB / 10) as i64);
        room.written(50_000_000);
        assert_eq!(
            room.current_bytes(),
            34 * MIB - 50_000_000 * 8 / CELLS_PER_BOOKKEEPING_BYTE
        );
        room.written(1_000_000_000);
        assert_eq!(room.current_bytes(), 18 * MIB, "never below the floor");
        assert!(limit_bytes(&clone).abs_diff(18 * MIB) < MIB / 10);
        assert_eq!(
            store.lowest_yielded_limit(),
            Some(18 * MIB),
            "the front end can say how low it went"
        );
        drop(room);
        clone.conn().execute_batch("COMMIT").unwrap();
        assert!(
            limit_bytes(&store).abs_diff(34 * MIB) < MIB / 10,
            "restored when the import ends"
        );
    }

    #[test]
    fn a_fixed_limit_is_not_lowered() {
        let (_dir, store) = open();
        assert!(store.transaction_room(8).is_none(), "DuckDB's own default stays");
        store
            .set_yielding_memory_limit(YieldingLimit {
                bytes: 34 * MIB,
                floor_bytes: 18 * MIB,
            })
            .unwrap();
        store.set_memory_limit("40MB").unwrap();
        assert!(store.transaction_room(8).is_none(), "a limit set since stays as set");
        assert_eq!(store.lowest_yielded_limit(), None);
    }
}
