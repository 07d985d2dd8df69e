//! An upsert's staging table and its merge into the target, inside the import's transaction.
//!
//! The good rows go to a scratch table first, where the key rule removes the rows whose key an
//! earlier row had (`unique_keys`, one key judged as one); what is left is merged in two
//! statements: rows whose key the target has replace the stored values, the others are
//! inserted in file order. No constraint on the target is needed, so any table can be upserted
//! into.

use duckdb::Connection;

use super::StoreError;
use super::fix_undo::FixUndoRecord;
use super::unique_keys::main_table;
use crate::sql::quote_ident;

/// The staging table of one job.
pub struct Stage {
    job_id: i64,
}

/// What a merge did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Merged {
    /// Rows inserted, their key new to the target.
    pub inserted: u64,
    /// Rows that replaced a stored row with the same key.
    pub updated: u64,
}

impl Stage {
    fn name(&self) -> String {
        format!("import_stage_{}", self.job_id)
    }

    /// The stage as SQL names it, for the key rule to remove repeated keys from.
    pub fn qualified(&self) -> String {
        format!("sluice.{}", quote_ident(&self.name()))
    }

    /// Creates job `job_id`'s stage with `columns` (name, SQL type), in the order the rows'
    /// batches have them.
    pub fn create(conn: &Connection, job_id: i64, columns: &[(String, String)]) -> Result<Self, StoreError> {
        let stage = Self { job_id };
        let columns: Vec<String> = columns
            .iter()
            .map(|(name, sql_type)| format!("{} {sql_type}", quote_ident(name)))
            .collect();
        conn.execute_batch(&format!("CREATE TABLE {} ({})", stage.qualified(), columns.join(", ")))
            .map_err(StoreError::query("creating the upsert's staging table"))?;
        Ok(stage)
    }

    /// An inserter that appends batches of rows to the stage.
    pub fn inserter<'c>(&self, conn: &'c Connection) -> Result<super::ArrowInserter<'c>, StoreError> {
        super::ArrowInserter::new(conn, &self.qualified(), "staging the upsert's rows")
    }

    /// Merges the staged rows into `target` by `keys` (every key value is present: rows without
    /// one failed), writing `columns`, and drops the stage. A fix keeps the rows it replaces and
    /// writes in its `undo` record.
    pub fn merge(
        self,
        conn: &Connection,
        (target, columns): (&str, &[String]),
        keys: &[String],
        undo: Option<&FixUndoRecord>,
    ) -> Result<Merged, StoreError> {
        let context = "merging the rows into the table by their key";
        let stage = self.qualified();
        let table = target;
        let target = main_table(target);
        let same_key: Vec<String> = keys
            .iter()
            .map(|key| format!("t.{0} = s.{0}", quote_ident(key)))
            .collect();
        let same_key = same_key.join(" AND ");
        let count = |sql: &str| -> Result<u64, StoreError> {
            conn.query_row(sql, [], |row| row.get::<_, i64>(0))
                .map(|count| count.max(0) as u64)
                .map_err(StoreError::query(context))
        };
        let staged = count(&format!("SELECT count(*) FROM {stage}"))?;
        let updated = count(&format!(
            "SELECT count(*) FROM {stage} s WHERE EXISTS (SELECT 1 FROM {target} t WHERE {same_key})"
        ))?;
        if let Some(undo) = undo {
            undo.keep_keyed(conn, table, (&stage, &same_key), false)?;
        }
        let values: Vec<String> = columns
            .iter()
            .filter(|column| !keys.contains(column))
            .map(|column| format!("{0} = s.{0}", quote_ident(column)))
            .collect();
        if updated > 0 && !values.is_empty() {
            conn.execute_batch(&format!(
                "UPDATE {target} AS t SET {} FROM {stage} AS s WHERE {same_key}",
                values.join(", ")
            ))
            .map_err(StoreError::query(context))?;
        }
        let listed: Vec<String> = columns.iter().map(|column| quote_ident(column)).collect();
        let listed = listed.join(", ");
        conn.execute_batch(&format!(
            "INSERT INTO {target} ({listed}) SELECT {listed} FROM {stage} s \
             WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {same_key}) ORDER BY s.rowid"
        ))
        .map_err(StoreError::query(context))?;
        if let Some(undo) = undo {
            undo.keep_keyed(conn, table, (&stage, &same_key), true)?;
        }
        conn.execute_batch(&format!("DROP TABLE {stage}"))
            .map_err(StoreError::query("dropping the upsert's staging table"))?;
        Ok(Merged {
            inserted: staged - updated,
            updated,
        })
    }
}
