//! The one transaction every job that writes rows writes them in. It is undone when dropped
//! unless committed, so an early return, an error or a panic anywhere in a job leaves the target
//! table and Sluice's own tables as they were, with no rollback placed by hand.

use super::{Store, StoreError};

/// An open transaction on a store's connection.
#[must_use = "a transaction that is dropped is rolled back"]
pub struct Transaction<'s> {
    store: &'s Store,
    open: bool,
}

impl<'s> Transaction<'s> {
    /// Begins one; `what` names it in errors.
    pub fn begin(store: &'s Store, what: &'static str) -> Result<Self, StoreError> {
        store
            .conn()
            .execute_batch("BEGIN TRANSACTION")
            .map_err(StoreError::query(what))?;
        Ok(Self { store, open: true })
    }

    /// Commits with the memory DuckDB needs to (`need_bytes`, see `commit_room`). A commit that
    /// fails leaves the transaction to be rolled back as this is dropped.
    pub fn commit(mut self, need_bytes: u64, what: &'static str) -> Result<(), StoreError> {
        self.store.commit_with_room(need_bytes, what)?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            // A transaction DuckDB already aborted has nothing left to undo.
            let _ = self.store.conn().execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(store: &Store) -> i64 {
        store
            .conn()
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn dropped_it_undoes_everything_and_committed_it_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.duckdb"), &Default::default()).unwrap();
        store.conn().execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        {
            let _transaction = Transaction::begin(&store, "testing").unwrap();
            store.conn().execute_batch("INSERT INTO t VALUES (1)").unwrap();
        }
        assert_eq!(count(&store), 0);
        let transaction = Transaction::begin(&store, "testing").unwrap();
        store.conn().execute_batch("INSERT INTO t VALUES (2)").unwrap();
        transaction.commit(0, "committing").unwrap();
        assert_eq!(count(&store), 1);
        // The connection is free for the next job: a transaction begins again.
        drop(Transaction::begin(&store, "testing").unwrap());
    }
}
