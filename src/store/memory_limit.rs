//! DuckDB's memory limit over an import's transaction: it gives way to the transaction's own
//! bookkeeping while rows are written, and makes room for the commit.
//!
//! **Yielding.** Until a transaction commits, DuckDB keeps objects for every row group it wrote
//! outside its memory limit: the columns' data and segments, handles of the blocks written to the
//! file, version information for every 2,048 rows. `heaptrack` of an import of the benchmark's
//! eight columns found 10.5 MB more of them at 50M rows than at 5M, about 3.6 KB per column and
//! row group, so a command-line import whose memory stayed flat at 5M rows was 9-12% higher at
//! 50M. Inside the limit, meanwhile, DuckDB caches blocks the import has written and never reads
//! again: 5M rows took 2.51 s with a limit of 34 MB, 2.40 s with 24 MB and 2.51 s with 16 MB.
//! So when Sluice chose the limit for an import running alone in its process, the import lowers
//! it as its transaction writes rows, by an estimate of that bookkeeping, down to a floor, and
//! puts it back when it ends. A limit the user set stays as they set it, and so does the
//! window's, which Browse and the other jobs share.
//!
//! **Committing.** A table that got less than a row group (122,880 rows) in a transaction is not
//! merged as written: at commit DuckDB appends those rows to the table, holding them and their
//! copy at once, and cannot spill them. With 100 BIGINT columns, 20,000 rows failed to commit
//! under 57 MB (the command line's limit for 100 columns), 30,000 rows needed 60-80 MB and
//! 100,000 rows 100-150 MB: about the rows' fixed-width size (8 bytes a number, 16 a string's
//! header; longer text goes to blocks DuckDB can spill) plus 512 KiB a column. So a commit whose
//! small appends need more than the limit raises it by that much while it commits.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use duckdb::Connection;

use super::{Store, StoreError, is_memory_size};
use crate::sql_type::SqlType;

/// Cells an uncommitted transaction writes per byte DuckDB keeps for them outside its limit:
/// 3.6 KB per column of a 122,880-row row group, as measured.
const CELLS_PER_BOOKKEEPING_BYTE: u64 = 34;

/// The limit is lowered in steps of at least this much, about a million rows of eight columns.
const STEP_BYTES: u64 = 256 * 1024;

/// Rows of a DuckDB row group (its default, for tables and Parquet alike): a table that gets at
/// least this many in a transaction has them merged as written at commit.
pub const ROW_GROUP_ROWS: u64 = 122_880;

/// What DuckDB holds per column while it appends a table's uncommitted rows at commit: a block
/// being read and one being written.
const COMMIT_BYTES_PER_COLUMN: u64 = 512 * 1024;

/// A memory limit Sluice chose, and how far imports may lower it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YieldingLimit {
    /// The limit when no import runs, in bytes.
    pub bytes: u64,
    /// The lowest an import takes it, in bytes.
    pub floor_bytes: u64,
}

/// The limit as Sluice last set it, shared by a store's clones.
#[derive(Clone, Debug, Default)]
pub(super) struct SharedLimit(Arc<Mutex<LimitState>>);

#[derive(Debug, Default)]
struct LimitState {
    /// The setting as last given to DuckDB, to put back exactly after a commit; `None` for
    /// DuckDB's default.
    setting: Option<String>,
    yielding: Option<YieldingLimit>,
    /// The lowest limit an import set since `yielding` was, in bytes.
    lowest_bytes: Option<u64>,
}

impl SharedLimit {
    /// The limit a store was opened with.
    pub(super) fn opened_with(setting: Option<String>) -> Self {
        Self(Arc::new(Mutex::new(LimitState {
            setting,
            ..LimitState::default()
        })))
    }

    fn lock(&self) -> MutexGuard<'_, LimitState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store {
    /// Sets DuckDB's memory limit to `limit.bytes`, for imports to lower as their transactions
    /// grow. [`Store::set_memory_limit`] fixes it again.
    pub fn set_yielding_memory_limit(&self, limit: YieldingLimit) -> Result<(), StoreError> {
        let setting = kib_setting(limit.bytes);
        apply(self.conn(), Some(&setting))?;
        *self.limit.lock() = LimitState {
            setting: Some(setting),
            yielding: Some(limit),
            lowest_bytes: None,
        };
        Ok(())
    }

    /// Changes DuckDB's memory limit, such as "512MB" or "2GB", to one that stays as set. The
    /// text must be a number and a unit.
    pub fn set_memory_limit(&self, limit: &str) -> Result<(), StoreError> {
        let limit = limit.trim();
        if !is_memory_size(limit) {
            return Err(StoreError::BadMemoryLimit(limit.to_string()));
        }
        apply(self.conn(), Some(limit))?;
        *self.limit.lock() = LimitState {
            setting: Some(limit.to_string()),
            ..LimitState::default()
        };
        Ok(())
    }

    /// The lowest memory limit an import has set since the yielding limit was, in bytes; `None`
    /// when none lowered it.
    pub fn lowest_yielded_limit(&self) -> Option<u64> {
        self.limit.lock().lowest_bytes
    }

    /// The room an import writing `columns` columns in this store's transaction makes for it;
    /// `None` when the limit is not one to lower.
    pub fn transaction_room(&self, columns: usize) -> Option<TransactionRoom<'_>> {
        let limit = self.limit.lock().yielding?;
        Some(TransactionRoom {
            conn: self.conn(),
            shared: &self.limit,
            limit,
            columns: columns as u64,
            current_bytes: limit.bytes,
        })
    }

    /// Commits this store's transaction, first raising DuckDB's memory limit to `need_bytes`
    /// ([`commit_room`]) when it is lower, and putting it back after; `what` names the commit in
    /// errors.
    pub fn commit_with_room(&self, need_bytes: u64, what: &'static str) -> Result<(), StoreError> {
        let conn = self.conn();
        let commit = || conn.execute_batch("COMMIT").map_err(StoreError::query(what));
        if need_bytes == 0 || current_limit_bytes(conn).is_none_or(|limit| limit >= need_bytes) {
            return commit();
        }
        // Held until the limit is back, so that two jobs of the window committing at once do not
        // put it back under each other.
        let state = self.limit.lock();
        // Without the room the commit fails for want of memory, so a limit that cannot be raised
        // is not a reason to stop: the commit says what went wrong.
        let raised = apply(conn, Some(&kib_setting(need_bytes))).is_ok();
        let committed = commit();
        if raised {
            let _ = apply(conn, state.setting.as_deref());
        }
        committed
    }
}

/// The rows of one table a transaction appended, to size the room its commit needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitAppend {
    /// Rows appended to the table.
    pub rows: u64,
    /// The table's columns.
    pub columns: u64,
    /// Bytes a row takes in DuckDB's fixed-width layout: 8 for a BIGINT or DOUBLE, 16 for a
    /// string's header, and so on.
    pub row_bytes: u64,
}

impl CommitAppend {
    /// `rows` rows appended to a table of columns of `types`.
    pub fn new(rows: u64, types: impl IntoIterator<Item = SqlType>) -> Self {
        let (columns, row_bytes) = types.into_iter().fold((0, 0), |(columns, bytes), sql_type| {
            (columns + 1, bytes + sql_type.stored_width())
        });
        Self {
            rows,
            columns,
            row_bytes,
        }
    }
}

/// The memory limit a commit of these appends needs (see the module's documentation); 0 when
/// every table got at least a row group, or nothing.
pub fn commit_room(appends: &[CommitAppend]) -> u64 {
    let need: u64 = appends
        .iter()
        .filter(|append| append.rows > 0 && append.rows < ROW_GROUP_ROWS)
        .map(|append| append.rows * append.row_bytes + append.columns * COMMIT_BYTES_PER_COLUMN)
        .sum();
    // A quarter more for what else DuckDB holds as it commits (the table's last partial row
    // group, the log).
    need + need / 4
}

/// Lowers DuckDB's memory limit as one import's transaction grows, and restores it when dropped.
pub struct TransactionRoom<'c> {
    conn: &'c Connection,
    shared: &'c SharedLimit,
    limit: YieldingLimit,
    columns: u64,
    current_bytes: u64,
}

impl TransactionRoom<'_> {
    /// The transaction has now written `rows` rows.
    pub fn written(&mut self, rows: u64) {
        let bookkeeping = rows.saturating_mul(self.columns) / CELLS_PER_BOOKKEEPING_BYTE;
        let target = self.limit.bytes.saturating_sub(bookkeeping).max(self.limit.floor_bytes);
        if self.current_bytes.saturating_sub(target) < STEP_BYTES {
            return;
        }
        let setting = kib_setting(target);
        // DuckDB refuses a limit it cannot meet at once (more blocks pinned than it allows);
        // the import then goes on under the limit it has.
        if apply(self.conn, Some(&setting)).is_ok() {
            self.current_bytes = target;
            let mut shared = self.shared.lock();
            shared.setting = Some(setting);
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
            let setting = kib_setting(self.limit.bytes);
            // Raising a limit cannot fail for want of memory; an error would leave the lower one,
            // which costs nothing but cache.
            if apply(self.conn, Some(&setting)).is_ok() {
                self.shared.lock().setting = Some(setting);
            }
        }
    }
}

/// A limit of `bytes` as DuckDB's setting: in KiB, as memory_limit takes no plain byte count in
/// every version.
fn kib_setting(bytes: u64) -> String {
    format!("{}KiB", bytes.div_ceil(1024))
}

/// Gives DuckDB the limit `setting` (made by Sluice or checked by [`super::is_memory_size`]), or
/// its default for `None`.
fn apply(conn: &Connection, setting: Option<&str>) -> Result<(), StoreError> {
    let sql = match setting {
        Some(setting) => format!("SET memory_limit = {}", crate::sql::quote_literal(setting)),
        None => "RESET memory_limit".to_string(),
    };
    conn.execute_batch(&sql)
        .map_err(StoreError::query("setting DuckDB's memory limit"))
}

/// DuckDB's limit now, from its report ("32.4 MiB"), to a tenth of a unit.
fn current_limit_bytes(conn: &Connection) -> Option<u64> {
    let text: String = conn
        .query_row("SELECT current_setting('memory_limit')", [], |row| row.get(0))
        .ok()?;
    parse_reported_size(&text)
}

fn parse_reported_size(text: &str) -> Option<u64> {
    let (number, unit) = text.trim().split_once(' ')?;
    let number: f64 = number.parse().ok()?;
    let scale: u64 = match unit {
        "bytes" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        "PiB" => 1 << 50,
        _ => return None,
    };
    Some((number * scale as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    const MIB: u64 = 1024 * 1024;

    fn limit_bytes(store: &Store) -> u64 {
        current_limit_bytes(store.conn()).unwrap()
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.duckdb"), &StoreOptions::default()).unwrap();
        (dir, store)
    }

    #[test]
    fn duckdbs_reports_of_sizes_are_read() {
        assert_eq!(parse_reported_size("32.4 MiB"), Some((32.4 * MIB as f64) as u64));
        assert_eq!(parse_reported_size("1.8 GiB"), Some((1.8 * (1u64 << 30) as f64) as u64));
        assert_eq!(parse_reported_size("512 bytes"), Some(512));
        assert_eq!(parse_reported_size("lots"), None);
        assert_eq!(parse_reported_size("3 parsecs"), None);
    }

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
        assert!(limit_bytes(&clone).abs_diff(after_5m) < MIB / 10);
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

    #[test]
    fn only_tables_that_got_less_than_a_row_group_need_room_to_commit() {
        let narrow = |rows| CommitAppend {
            rows,
            columns: 8,
            row_bytes: 64,
        };
        assert_eq!(commit_room(&[]), 0);
        assert_eq!(commit_room(&[narrow(0), narrow(ROW_GROUP_ROWS), narrow(5_000_000)]), 0);
        let wide = CommitAppend {
            rows: 60_000,
            columns: 100,
            row_bytes: 800,
        };
        // 48 MB of numbers and 50 MiB for the columns' blocks, and a quarter more.
        let need = 60_000 * 800 + 100 * 512 * 1024;
        assert_eq!(commit_room(&[wide, narrow(0)]), need + need / 4);
        assert_eq!(
            commit_room(&[wide, narrow(1)]),
            commit_room(&[wide]) + (64 + 8 * 512 * 1024) * 5 / 4
        );
    }

    #[test]
    fn a_commit_raises_a_limit_too_low_for_it_and_puts_the_setting_back_exactly() {
        let (_dir, store) = open();
        // 100 BIGINT columns, 60,000 rows: under 57 MB this commit fails.
        let columns: Vec<String> = (0..100).map(|i| format!("c{i} BIGINT")).collect();
        let values: Vec<String> = (0..100).map(|i| format!("range + {i}")).collect();
        store
            .conn()
            .execute_batch(&format!("CREATE TABLE wide ({})", columns.join(", ")))
            .unwrap();
        store.set_memory_limit("57MB").unwrap();
        store.conn().execute_batch("BEGIN TRANSACTION").unwrap();
        for _ in 0..30 {
            store
                .conn()
                .execute_batch(&format!(
                    "INSERT INTO wide SELECT {} FROM range(2000)",
                    values.join(", ")
                ))
                .unwrap();
        }
        let need = commit_room(&[CommitAppend {
            rows: 60_000,
            columns: 100,
            row_bytes: 800,
        }]);
        store.commit_with_room(need, "committing").unwrap();
        let rows: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM wide", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 60_000);
        let setting: String = store
            .conn()
            .query_row("SELECT current_setting('memory_limit')", [], |row| row.get(0))
            .unwrap();
        assert_eq!(setting, "54.3 MiB", "57 MB again");
    }
}
