//! Bringing a database made by an earlier Sluice to the current layout of Sluice's own tables,
//! where `CREATE ... IF NOT EXISTS` and `ADD COLUMN IF NOT EXISTS` in `schema.sql` cannot.
//!
//! The failed set was once two tables, `sluice.failed_rows` and `sluice.failed_row_problems`, from
//! which a fix or retry deleted the rows it took up, keeping a copy of each in
//! `sluice.fix_undo_rows` and `sluice.fix_undo_problems` for its undo. It is now kept in
//! `sluice.failed_row_store` and `sluice.failed_problem_store`, where a fix marks the rows it
//! takes (`taken_by`) and those it sets aside again (`added_by`), and the old names are views of
//! the rows still failing. Both steps run in one transaction each and do nothing a second time.

use duckdb::Connection;

use super::StoreError;
use super::catalog::sluice_table_exists;

/// The failed set's tables under their old names and their new ones.
const RENAMED: [(&str, &str); 2] = [
    ("failed_rows", "failed_row_store"),
    ("failed_row_problems", "failed_problem_store"),
];

/// Before `schema.sql`: the failed set's tables of an older database take their new names, so
/// the schema adds its new columns to them and puts the views under the old names.
pub(super) fn before_schema(conn: &Connection) -> Result<(), StoreError> {
    let mut renames = String::new();
    for (old, new) in RENAMED {
        if sluice_table_exists(conn, old)? {
            renames.push_str(&format!("ALTER TABLE sluice.{old} RENAME TO {new}; "));
        }
    }
    if renames.is_empty() {
        return Ok(());
    }
    conn.execute_batch(&format!("BEGIN TRANSACTION; {renames} COMMIT;"))
        .map_err(|error| {
            let _ = conn.execute_batch("ROLLBACK");
            StoreError::query("renaming the failed rows' tables of an older database")(error)
        })
}

/// After `schema.sql`: the copies older fixes kept for their undo go back into the store as
/// rows those fixes took, and the rows they set aside again are marked as theirs, so the undo
/// of such a fix works as any other's. The copies' tables are then dropped.
pub(super) fn after_schema(conn: &Connection) -> Result<(), StoreError> {
    if !sluice_table_exists(conn, "fix_undo_rows")? {
        return Ok(());
    }
    let rows = "job_id, record_no, line, byte_offset, raw, raw_bytes, fields, field_count, file";
    let problems = "job_id, record_no, field_index, column_name, kind, message, value";
    // A row a fix set aside again is a later version of a record it took: the latest fix to
    // have taken that record before the row was itself taken (if it was) set it aside.
    let mark_added = |store: &str| {
        format!(
            "UPDATE sluice.{store} s SET added_by = a.fix FROM ( \
               SELECT s2.rowid AS row_id, max(u.fix_job_id) AS fix FROM sluice.{store} s2 \
               JOIN sluice.fix_undo_rows u ON u.job_id = s2.job_id AND u.record_no = s2.record_no \
                 AND u.fix_job_id < coalesce(s2.taken_by, 9223372036854775807) \
               GROUP BY s2.rowid) a \
             WHERE s.rowid = a.row_id;"
        )
    };
    conn.execute_batch(&format!(
        "BEGIN TRANSACTION; \
         INSERT INTO sluice.failed_row_store ({rows}, taken_by) SELECT {rows}, fix_job_id FROM sluice.fix_undo_rows; \
         INSERT INTO sluice.failed_problem_store ({problems}, taken_by) \
           SELECT {problems}, fix_job_id FROM sluice.fix_undo_problems; \
         {} {} \
         DROP TABLE sluice.fix_undo_rows; DROP TABLE IF EXISTS sluice.fix_undo_problems; \
         COMMIT;",
        mark_added("failed_row_store"),
        mark_added("failed_problem_store"),
    ))
    .map_err(|error| {
        let _ = conn.execute_batch("ROLLBACK");
        StoreError::query("moving older fixes' undo copies into the failed rows' table")(error)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, StoreOptions};

    /// The layout an earlier Sluice left: the failed set in tables, and a fix (job 3) of job 1's
    /// records 1, 2 and 7 whose records 2 and 7 still failed and were set aside again, then a fix
    /// (job 4) of record 7 that still failed again, with copies kept.
    const OLDER_DATABASE: &str = "
        CREATE SCHEMA sluice;
        CREATE TABLE sluice.failed_rows (job_id BIGINT NOT NULL, record_no BIGINT NOT NULL,
            line BIGINT NOT NULL, byte_offset BIGINT NOT NULL, raw VARCHAR NOT NULL, raw_bytes BLOB,
            fields VARCHAR NOT NULL, field_count INTEGER, file VARCHAR);
        CREATE TABLE sluice.failed_row_problems (job_id BIGINT NOT NULL, record_no BIGINT NOT NULL,
            field_index INTEGER, column_name VARCHAR, kind VARCHAR NOT NULL, message VARCHAR NOT NULL,
            value VARCHAR);
        CREATE TABLE sluice.fix_undo_rows (fix_job_id BIGINT NOT NULL, job_id BIGINT NOT NULL,
            record_no BIGINT NOT NULL, line BIGINT NOT NULL, byte_offset BIGINT NOT NULL,
            raw VARCHAR NOT NULL, raw_bytes BLOB, fields VARCHAR NOT NULL, field_count INTEGER, file VARCHAR);
        CREATE TABLE sluice.fix_undo_problems (fix_job_id BIGINT NOT NULL, job_id BIGINT NOT NULL,
            record_no BIGINT NOT NULL, field_index INTEGER, column_name VARCHAR, kind VARCHAR NOT NULL,
            message VARCHAR NOT NULL, value VARCHAR);
        INSERT INTO sluice.failed_rows VALUES
            (1, 2, 3, 20, '2,x', NULL, '[\"2\",\"y\"]', 2, NULL),
            (1, 5, 6, 50, '5,q', NULL, '[\"5\",\"q\"]', 2, NULL),
            (1, 7, 8, 70, '7,z', NULL, '[\"7\",\"z3\"]', 2, NULL);
        INSERT INTO sluice.failed_row_problems VALUES
            (1, 2, 1, 'n', 'invalid_value', 'not a number', 'y'),
            (1, 5, 1, 'n', 'invalid_value', 'not a number', 'q'),
            (1, 7, 1, 'n', 'invalid_value', 'not a number', 'z3');
        INSERT INTO sluice.fix_undo_rows VALUES
            (3, 1, 1, 2, 10, '1,a', NULL, '[\"1\",\"a\"]', 2, NULL),
            (3, 1, 2, 3, 20, '2,x', NULL, '[\"2\",\"x\"]', 2, NULL),
            (3, 1, 7, 8, 70, '7,z', NULL, '[\"7\",\"z\"]', 2, NULL),
            (4, 1, 7, 8, 70, '7,z', NULL, '[\"7\",\"z2\"]', 2, NULL);
        INSERT INTO sluice.fix_undo_problems VALUES
            (3, 1, 1, 1, 'n', 'invalid_value', 'not a number', 'a'),
            (3, 1, 2, 1, 'n', 'invalid_value', 'not a number', 'x'),
            (3, 1, 7, 1, 'n', 'invalid_value', 'not a number', 'z'),
            (4, 1, 7, 1, 'n', 'invalid_value', 'not a number', 'z2');
    ";

    fn marks(store: &Store, table: &str) -> Vec<(i64, Option<i64>, Option<i64>)> {
        let mut statement = store
            .conn()
            .prepare(&format!(
                "SELECT record_no, taken_by, added_by FROM sluice.{table} ORDER BY record_no, taken_by NULLS LAST"
            ))
            .unwrap();
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn an_older_database_keeps_its_failed_set_and_its_fixes_undo() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("older.duckdb");
        Connection::open(&path).unwrap().execute_batch(OLDER_DATABASE).unwrap();
        let store = Store::open(&path, &StoreOptions::default()).unwrap();
        let still_failing: Vec<i64> = store
            .conn()
            .prepare("SELECT record_no FROM sluice.failed_rows ORDER BY record_no")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(still_failing, [2, 5, 7], "the view shows the failed set as it was");
        // Record 1 and the first version of record 2 were taken by fix 3; the second version of
        // record 2 is the one fix 3 set aside; record 5 was never touched. Record 7's first
        // version was taken by fix 3, its second set aside by fix 3 and taken by fix 4, its third
        // set aside by fix 4.
        let expected = vec![
            (1, Some(3), None),
            (2, Some(3), None),
            (2, None, Some(3)),
            (5, None, None),
            (7, Some(3), None),
            (7, Some(4), Some(3)),
            (7, None, Some(4)),
        ];
        assert_eq!(marks(&store, "failed_row_store"), expected);
        assert_eq!(marks(&store, "failed_problem_store"), expected);
        assert!(!sluice_table_exists(store.conn(), "fix_undo_rows").unwrap());
        drop(store);
        // Opening it again changes nothing.
        let store = Store::open(&path, &StoreOptions::default()).unwrap();
        assert_eq!(marks(&store, "failed_row_store"), expected);
    }
}
