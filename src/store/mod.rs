//! The DuckDB database and Sluice's own bookkeeping in it. Every statement on Sluice's own tables
//! is written here, behind named methods, so they can be found and changed in one place.
//!
//! Sluice keeps its records (jobs, failed rows and their problems, skipped lines) in a schema of its own,
//! `sluice`, so they never mix with the user's tables in `main`. Opening a store creates that
//! schema on first use and marks jobs that a dead process left queued or running as interrupted:
//! their rows were never committed, so nothing else needs repairing.

mod arrow_insert;
mod batch_scan;
mod catalog;
mod failed;
mod failed_groups;
mod fix_undo;
mod jobs;
mod memory_limit;
mod migrate;
mod recipes;
mod report;
mod settings;
mod skipped;
mod transaction;
pub mod unique_keys;
pub mod upsert;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use duckdb::{Config, Connection};

pub use arrow_insert::ArrowInserter;
pub use catalog::{TableInfo, describe_tables, existing_table, list_tables, table_columns, table_exists};
pub use failed::{
    FailedRowFilter, RetryRow, StoredFailedRow, StoredProblem, append_failed_rows, append_failed_rows_of_fix,
    count_failed_rows, failed_page_starts, failed_row_files, failed_rows_appends, problem_column_counts,
    problem_counts, read_failed_rows, read_failed_rows_alone, widest_failed_row,
};
pub use failed_groups::{FailedGroup, GroupFilter, GroupKey, VALUES_SHOWN_ALONE, failed_groups};
pub use fix_undo::{FixUndoRecord, TableSince, UndoneRows};
pub use jobs::{JobOutcome, JobRecord, JobStatus, NewJob, RecoveredJob, UnknownName};
use memory_limit::SharedLimit;
pub use memory_limit::{CommitAppend, ROW_GROUP_ROWS, TransactionRoom, YieldingLimit, commit_room};
pub use report::{MAX_EXTRA_COLUMNS, ReportError, ReportFormat, errors_text, write_failed_report};
pub use settings::duckdb_settings;
pub use skipped::{StoredSkippedLine, append_skipped_lines, read_skipped_lines};
pub use transaction::Transaction;

/// File name of the default database inside the user's data folder.
const DEFAULT_FILE_NAME: &str = "sluice.duckdb";

const SCHEMA_SQL: &str = include_str!("schema.sql");

/// Errors opening or using the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the database's lock.
    #[error("the database {path} is already open in another Sluice window or program; close it there and try again")]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// The file is not a DuckDB database.
    #[error(
        "{path} is not a DuckDB database (Sluice keeps its tables in one); choose another file, or a new name to start one"
    )]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// The file was written by a DuckDB newer than the one in Sluice.
    #[error("{path} was written by a newer DuckDB than this Sluice reads; open it with a newer Sluice ({detail})")]
    NewerVersion {
        /// The database file.
        path: PathBuf,
        /// DuckDB's reason, in its own words.
        detail: String,
    },
    /// The file was written by a DuckDB too old for the one in Sluice to read.
    #[error(
        "{path} was written by an older DuckDB than this Sluice reads; open it with that version and export its tables ({detail})"
    )]
    OlderVersion {
        /// The database file.
        path: PathBuf,
        /// DuckDB's reason, in its own words.
        detail: String,
    },
    /// The file, or its folder, cannot be written.
    #[error(
        "{path} cannot be written (it is read-only, or this user may not change it); Sluice records its jobs in the database, so choose a copy in a folder you can write to"
    )]
    ReadOnly {
        /// The database file.
        path: PathBuf,
    },
    /// The file is corrupt.
    #[error("{path} is damaged: {detail}. Restore it from a backup, or choose another file")]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// DuckDB's reason, in its own words.
        detail: String,
    },
    /// DuckDB would not open the file, for a reason not named above.
    #[error("cannot open the database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// DuckDB's error.
        source: duckdb::Error,
    },
    /// The database's folder could not be created.
    #[error("cannot create the folder {path}: {source}")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// No database was named and the system has no user data folder to keep the default one in.
    #[error("no user data folder is known on this system; choose a database with --db PATH")]
    NoDataDir,
    /// A statement on the database failed.
    #[error("{context}: {source}")]
    Query {
        /// What Sluice was doing.
        context: &'static str,
        /// DuckDB's error.
        source: duckdb::Error,
    },
    /// What a job stored as JSON could not be written or read back.
    #[error("{context}: {source}")]
    Json {
        /// What Sluice was doing.
        context: &'static str,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A memory limit that is not a size DuckDB reads; it holds the text given.
    #[error("'{0}' is not a memory size; write a number and a unit, such as 512MB or 2GB")]
    BadMemoryLimit(String),
    /// A stored name this Sluice does not know.
    #[error(transparent)]
    UnknownName(#[from] UnknownName),
    /// What Sluice wrote does not add up; the job stops rather than keep a wrong result.
    #[error("{0}")]
    Inconsistent(String),
}

impl StoreError {
    /// Wraps a DuckDB error with what Sluice was doing at the time.
    pub fn query(context: &'static str) -> impl FnOnce(duckdb::Error) -> StoreError {
        move |source| StoreError::Query { context, source }
    }
}

/// Settings passed to DuckDB when the database is opened.
#[derive(Clone, Debug, Default)]
pub struct StoreOptions {
    /// DuckDB's memory limit, such as "2GB"; DuckDB's default when `None`.
    pub memory_limit: Option<String>,
    /// DuckDB's worker threads; DuckDB's default (all cores) when `None`.
    pub threads: Option<usize>,
}

/// An open database. Each thread works on its own clone ([`Store::try_clone`]), which shares the
/// database but has its own connection.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Job ids are handed out in-process: DuckDB's file lock makes this process the only writer,
    /// and a counter lets a front end get an id without waiting for the database.
    next_job_id: Arc<AtomicI64>,
    /// Jobs found unfinished when this store was opened.
    recovered: Arc<Vec<RecoveredJob>>,
    /// DuckDB's memory limit as Sluice last set it, and how far imports may lower it (see
    /// [`memory_limit`]).
    limit: SharedLimit,
}

/// The database used when none is named: `sluice.duckdb` in the user's data folder.
pub fn default_database_path() -> Result<PathBuf, StoreError> {
    let dirs = directories::ProjectDirs::from("", "", "Sluice").ok_or(StoreError::NoDataDir)?;
    Ok(dirs.data_dir().join(DEFAULT_FILE_NAME))
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path, options: &StoreOptions) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let open_error = |source: duckdb::Error| open_failure(path, source);
        let config = duckdb_config(options).map_err(open_error)?;
        let conn = Connection::open_with_flags(path, config).map_err(open_error)?;
        migrate::before_schema(&conn)?;
        conn.execute_batch(SCHEMA_SQL)
            .map_err(StoreError::query("creating Sluice's tables"))?;
        migrate::after_schema(&conn)?;
        arrow_insert::register_arrow_scan(&conn)?;
        // A database on a full disk still opens, to be read: its unfinished jobs are marked
        // interrupted by the first open that can write. Any other failure is the open's.
        let recovered = match jobs::mark_interrupted(&conn) {
            Err(error) if error.to_string().contains("Could not write file") => Vec::new(),
            marked => marked?,
        };
        let next_job_id = jobs::max_job_id(&conn)? + 1;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            next_job_id: Arc::new(AtomicI64::new(next_job_id)),
            recovered: Arc::new(recovered),
            limit: SharedLimit::opened_with(options.memory_limit.clone()),
        })
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store's own connection, for short queries on the calling thread.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// A new connection to the same database, for a job running on another thread.
    pub fn connect(&self) -> Result<Connection, StoreError> {
        self.conn.try_clone().map_err(StoreError::query("opening a connection"))
    }

    /// The same database on a connection of its own, for another thread.
    pub fn try_clone(&self) -> Result<Self, StoreError> {
        Ok(Self {
            conn: self.connect()?,
            path: self.path.clone(),
            next_job_id: self.next_job_id.clone(),
            recovered: self.recovered.clone(),
            limit: self.limit.clone(),
        })
    }

    /// Jobs an earlier process left queued or running, now marked interrupted.
    pub fn recovered_jobs(&self) -> &[RecoveredJob] {
        &self.recovered
    }

    /// A fresh job id, unique in this database.
    pub fn allocate_job_id(&self) -> i64 {
        self.next_job_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// Why DuckDB would not open the file, in a sentence a person can act on. DuckDB says it only in
/// its messages, so they are matched here, and anything unknown keeps DuckDB's own words.
fn open_failure(path: &Path, source: duckdb::Error) -> StoreError {
    let message = source.to_string();
    let path = path.to_path_buf();
    // DuckDB's reason, without its "IO Error: " prefix and "Error code" suffix.
    let detail = || {
        let text = message.split(": Error code").next().unwrap_or(&message);
        let text = text.split_once("Error: ").map_or(text, |(_, rest)| rest);
        let first_line = text.lines().next().unwrap_or(text);
        let first_sentence = first_line.split(". ").next().unwrap_or(first_line);
        first_sentence.trim().trim_end_matches('.').to_string()
    };
    if message.contains("Could not set lock on file") || message.contains("Conflicting lock") {
        StoreError::Locked { path }
    } else if message.contains("not a valid DuckDB database file") {
        StoreError::NotADatabase { path }
    } else if message.contains("created with a newer version") {
        StoreError::NewerVersion { path, detail: detail() }
    } else if message.contains("created with an older") || message.contains("storage version number") {
        // Files of the DuckDB versions it knows by name (0.3 to 0.8) are named by version.
        StoreError::OlderVersion { path, detail: detail() }
    } else if ["Operation not permitted", "Permission denied", "Read-only file system"]
        .iter()
        .any(|reason| message.contains(reason))
    {
        StoreError::ReadOnly { path }
    } else if message.contains("Corrupt database file") || message.contains("Data Corruption") {
        StoreError::Damaged { path, detail: detail() }
    } else {
        StoreError::Open { path, source }
    }
}

fn duckdb_config(options: &StoreOptions) -> duckdb::Result<Config> {
    // DuckDB 2.0's late materialization (a Top-N of at most this many rows rewritten as a join on
    // rowid) fails with "INTERNAL Error: Attempted to access index -1" on sorted reads that
    // Sluice makes: a Browse page or an export preview ordered by a column. Off, such a read is
    // a plain Top-N, as fast at these sizes.
    let mut config = Config::default().with("late_materialization_max_rows", "0")?;
    if let Some(limit) = &options.memory_limit {
        config = config.max_memory(limit)?;
    }
    if let Some(threads) = options.threads {
        config = config.threads(threads as i64)?;
    }
    Ok(config)
}

/// Whether `text` is a memory size DuckDB takes: a positive number and a unit ("512MB", "2 GiB").
pub fn is_memory_size(text: &str) -> bool {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let units = ["B", "KB", "MB", "GB", "TB", "KIB", "MIB", "GIB", "TIB"];
    number.parse::<f64>().is_ok_and(|number| number > 0.0) && units.contains(&unit.trim().to_ascii_uppercase().as_str())
}

/// Milliseconds since the Unix epoch, the unit of every time Sluice stores.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Column;

    /// DuckDB's checksum of a block: each 8-byte word times a constant, xor-ed onto 5381.
    fn duckdb_checksum(bytes: &[u8]) -> u64 {
        bytes.chunks_exact(8).fold(5381, |sum, word| {
            sum ^ u64::from_le_bytes(word.try_into().unwrap()).wrapping_mul(0xbf58_476d_1ce4_e5b9)
        })
    }

    /// A database whose main header says it was written with storage version `version`; with
    /// `fix_checksum` false, the header no longer matches its checksum.
    fn database_claiming_version(dir: &Path, version: u64, fix_checksum: bool) -> PathBuf {
        let path = dir.join(format!("v{version}-{fix_checksum}.duckdb"));
        drop(Store::open(&path, &StoreOptions::default()).unwrap());
        let mut bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[8..12], b"DUCK");
        bytes[12..20].copy_from_slice(&version.to_le_bytes());
        if fix_checksum {
            let sum = duckdb_checksum(&bytes[8..4096]);
            bytes[0..8].copy_from_slice(&sum.to_le_bytes());
        }
        std::fs::write(&path, &bytes).unwrap();
        path
    }

    /// Each file DuckDB cannot open gets a sentence that says what it is, and the file is left
    /// exactly as it was.
    #[test]
    fn a_file_in_the_way_is_named_for_what_it_is_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.duckdb");
        std::fs::write(&text, "id,name\n1,a\n").unwrap();
        let cases = [
            (text, "is not a DuckDB database"),
            (database_claiming_version(dir.path(), 1_000, true), "newer DuckDB"),
            (database_claiming_version(dir.path(), 30, true), "older DuckDB"),
            // DuckDB 0.8's storage version, which DuckDB names by release.
            (database_claiming_version(dir.path(), 51, true), "older DuckDB"),
            (database_claiming_version(dir.path(), 1_000, false), "is damaged"),
        ];
        for (path, expected) in cases {
            let before = std::fs::read(&path).unwrap();
            let error = Store::open(&path, &StoreOptions::default()).err().unwrap();
            let message = error.to_string();
            assert!(message.contains(expected), "{message}");
            assert!(message.contains(&path.display().to_string()), "{message}");
            // One sentence of DuckDB's at most, on one line.
            assert!(
                !message.contains('\n') && !message.contains("storage page"),
                "{message}"
            );
            assert!(!matches!(error, StoreError::Open { .. }), "{error:?}");
            assert_eq!(std::fs::read(&path).unwrap(), before);
        }
    }

    #[test]
    fn permission_errors_read_as_a_read_only_database() {
        let error = duckdb::Error::DuckDBFailure(
            duckdb::ffi::Error::new(1),
            Some("IO Error: Cannot open file \"/x/db.duckdb\": Permission denied".into()),
        );
        assert!(matches!(
            open_failure(Path::new("/x/db.duckdb"), error),
            StoreError::ReadOnly { .. }
        ));
    }

    #[test]
    fn creates_its_schema_apart_from_user_tables() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("nested/db.duckdb"), &StoreOptions::default()).unwrap();
        let sluice_tables: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'sluice'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert!(sluice_tables >= 3);
        assert!(list_tables(store.conn()).unwrap().is_empty());
    }

    #[test]
    fn describes_user_tables_with_columns_and_rows_but_not_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.duckdb"), &StoreOptions::default()).unwrap();
        store
            .conn()
            .execute_batch(
                "CREATE TABLE \"Odd name\" (b VARCHAR, a BIGINT); INSERT INTO \"Odd name\" VALUES ('x', 1), ('y', 2);",
            )
            .unwrap();
        let tables = describe_tables(store.conn()).unwrap();
        assert_eq!(
            tables,
            vec![TableInfo {
                name: "Odd name".into(),
                columns: vec![
                    Column::from_catalog("b", "VARCHAR"),
                    Column::from_catalog("a", "BIGINT")
                ],
                rows: 2,
            }]
        );
    }

    #[test]
    fn every_connection_runs_without_late_materialization() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.duckdb"), &StoreOptions::default()).unwrap();
        let clone = store.try_clone().unwrap();
        for conn in [store.conn(), clone.conn()] {
            let rows: i64 = conn
                .query_row(
                    "SELECT CAST(current_setting('late_materialization_max_rows') AS BIGINT)",
                    [],
                    |row| row.get(0),
                )
                .unwrap();
            assert_eq!(rows, 0);
        }
    }

    #[test]
    fn memory_limits_are_sizes_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.duckdb"), &StoreOptions::default()).unwrap();
        store.set_memory_limit("256MB").unwrap();
        let limit: String = store
            .conn()
            .query_row("SELECT current_setting('memory_limit')", [], |row| row.get(0))
            .unwrap();
        assert!(limit.contains("MiB") || limit.contains("MB"), "{limit}");
        for bad in ["lots", "1GB'; DROP TABLE x; --", "", "MB", "0GB"] {
            assert!(matches!(
                store.set_memory_limit(bad),
                Err(StoreError::BadMemoryLimit(_))
            ));
        }
    }

    #[test]
    fn reopening_marks_unfinished_jobs_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.duckdb");
        let job_id = {
            let store = Store::open(&path, &StoreOptions::default()).unwrap();
            let job_id = store.allocate_job_id();
            store
                .record_job(&NewJob {
                    job_id,
                    kind: "import",
                    status: JobStatus::Running,
                    source: "a.csv",
                    target: Some("t"),
                    spec: "{}",
                    bytes_total: None,
                })
                .unwrap();
            job_id
        };
        let store = Store::open(&path, &StoreOptions::default()).unwrap();
        let job = store.job(job_id).unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Interrupted);
        assert!(job.finished_at_ms.is_some());
        assert_eq!(store.allocate_job_id(), job_id + 1);
    }

    #[test]
    fn a_status_or_kind_sluice_does_not_know_is_an_error_not_a_default() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.duckdb"), &StoreOptions::default()).unwrap();
        let job_id = store.allocate_job_id();
        let job = NewJob {
            job_id,
            kind: "export",
            status: JobStatus::Queued,
            source: "t",
            target: None,
            spec: "{}",
            bytes_total: None,
        };
        store.record_job(&job).unwrap();
        store
            .finish_job(job_id, JobStatus::Completed, &JobOutcome::default())
            .unwrap();
        assert_eq!(store.job(job_id).unwrap().unwrap().kind, "export");
        // Kinds are the engine's registry: read through it, as front ends read jobs.
        let typed = crate::engine::job(&store, job_id).unwrap().unwrap();
        assert_eq!(typed.kind, crate::engine::JobKind::Export);
        for (column, value) in [("status", "paused"), ("kind", "teleport")] {
            store
                .conn()
                .execute(
                    &format!("UPDATE sluice.jobs SET {column} = ? WHERE job_id = ?"),
                    duckdb::params![value, job_id],
                )
                .unwrap();
            let error = crate::engine::job(&store, job_id).unwrap_err().to_string();
            assert!(error.contains(value), "{error}");
            assert!(crate::engine::jobs(&store).is_err());
            store
                .conn()
                .execute(
                    "UPDATE sluice.jobs SET status = 'completed', kind = 'export' WHERE job_id = ?",
                    [job_id],
                )
                .unwrap();
        }
    }
}
