//! Helpers shared by the integration tests: a throwaway database and quick queries.

use std::path::{Path, PathBuf};

use sluice::engine::run_import;
use sluice::import::{ImportRequest, ImportSummary};
use sluice::progress::{CancelToken, NoProgress};
use sluice::store::{Store, StoreOptions};

/// How [`TestDb::rows_as_text`] shows NULL: no file in the tests holds it, and it is not `""`.
pub const NULL_SHOWN: &str = "∅NULL";

pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub store: Store,
}

impl TestDb {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("test.duckdb"), &StoreOptions::default()).unwrap();
        Self { dir, store }
    }

    pub fn path(&self) -> PathBuf {
        self.store.path().to_path_buf()
    }

    /// Writes `contents` to a file in the test's folder and returns its path.
    pub fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn import(&self, path: &Path, table: &str) -> ImportSummary {
        self.import_request(&ImportRequest::new(path, table))
    }

    pub fn import_request(&self, request: &ImportRequest) -> ImportSummary {
        run_import(&self.store, request, &mut NoProgress, &CancelToken::new()).unwrap()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.store.conn().query_row(sql, [], |row| row.get(0)).unwrap()
    }

    /// Every value of a table as text, NULL as [`NULL_SHOWN`] (so it never equals `""`), rows
    /// in insertion order.
    pub fn rows_as_text(&self, table: &str) -> Vec<Vec<String>> {
        self.rows(table)
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|value| value.unwrap_or_else(|| NULL_SHOWN.to_string()))
                    .collect()
            })
            .collect()
    }

    /// The names of a table's columns, in order.
    pub fn columns(&self, table: &str) -> Vec<String> {
        sluice::store::table_columns(self.store.conn(), table)
            .unwrap()
            .into_iter()
            .map(|column| column.name)
            .collect()
    }

    /// Every value of a table as text, NULL as `None` (so NULL and `""` stay apart), rows in
    /// insertion order.
    pub fn rows(&self, table: &str) -> Vec<Vec<Option<String>>> {
        let columns = self.columns(table);
        let select: Vec<String> = columns
            .iter()
            .map(|name| format!("CAST({} AS VARCHAR)", sluice::sql::quote_ident(name)))
            .collect();
        let sql = format!("SELECT {} FROM {}", select.join(", "), sluice::sql::quote_ident(table));
        let mut statement = self.store.conn().prepare(&sql).unwrap();
        let width = columns.len();
        statement
            .query_map([], |row| {
                (0..width)
                    .map(|i| row.get::<_, Option<String>>(i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }

    /// Every failed row of a job, in file order.
    pub fn failed_rows(&self, job_id: i64) -> Vec<sluice::store::StoredFailedRow> {
        sluice::store::read_failed_rows(
            self.store.conn(),
            job_id,
            &sluice::store::FailedRowFilter::default(),
            i64::MIN,
            None,
            u64::MAX >> 2,
        )
        .unwrap()
    }

    /// (line, problem kinds) of a job's failed rows, in file order.
    pub fn failed_lines(&self, job_id: i64) -> Vec<(i64, Vec<String>)> {
        self.failed_rows(job_id)
            .into_iter()
            .map(|row| (row.line, row.problems.into_iter().map(|p| p.kind).collect()))
            .collect()
    }

    /// Everything stored of a job's failed rows, NULL told from `""`, in record order: the row
    /// itself and each of its problems.
    pub fn failed_set(&self, job_id: i64) -> Vec<Vec<Option<String>>> {
        let sql = format!(
            "SELECT CAST(record_no AS VARCHAR), CAST(line AS VARCHAR), CAST(byte_offset AS VARCHAR), raw, \
             hex(raw_bytes), fields, CAST(field_count AS VARCHAR), file, \
             (SELECT string_agg(concat_ws('|', coalesce(CAST(p.field_index AS VARCHAR), '∅'), \
                     coalesce(p.column_name, '∅'), p.kind, p.message, coalesce(p.value, '∅')), '\n' \
                     ORDER BY p.field_index, p.kind, p.message) \
              FROM sluice.failed_row_problems p WHERE p.job_id = f.job_id AND p.record_no = f.record_no) \
             FROM sluice.failed_rows f WHERE job_id = {job_id} ORDER BY record_no"
        );
        let mut statement = self.store.conn().prepare(&sql).unwrap();
        statement
            .query_map([], |row| (0..9).map(|i| row.get::<_, Option<String>>(i)).collect())
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }
}

/// The failed rows of the group of `column`'s problem `invalid_value` with `value`.
pub fn value_group(column: &str, value: &str) -> sluice::store::FailedRowFilter {
    sluice::store::FailedRowFilter {
        group: Some(Box::new(sluice::store::GroupFilter {
            column: Some(column.into()),
            kind: "invalid_value".into(),
            key: sluice::store::GroupKey::Value(Some(value.into())),
        })),
        ..sluice::store::FailedRowFilter::default()
    }
}

/// The rule that puts `to` in `column` in place of `from`.
pub fn set(column: &str, from: &str, to: &str) -> sluice::import::FixRule {
    sluice::import::FixRule::SetValue {
        column: column.into(),
        from: Some(from.into()),
        to: to.into(),
    }
}

/// Applies `rule` to the failed rows of `job_id` that `filter` targets, as `sluice fix` does:
/// one fix job.
pub fn apply(
    db: &TestDb,
    job_id: i64,
    filter: &sluice::store::FailedRowFilter,
    rule: sluice::import::FixRule,
) -> sluice::import::RetrySummary {
    let request = sluice::import::FixRequest {
        import_job_id: job_id,
        filter: filter.clone(),
        rules: vec![rule],
    };
    sluice::engine::run_fix(&db.store, &request, &mut NoProgress, &CancelToken::new()).unwrap()
}
