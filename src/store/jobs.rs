//! Job records: one row per job, from queued to a final status, written and read only through
//! the `Store` methods at the end of this file.
//!
//! The store keeps a job's kind as its name, as it keeps its spec as JSON: which kinds exist is
//! the engine's registry (`engine/spec.rs`), which reads the name back as its `JobKind`
//! ([`JobRecord::with_kind`]), so the store depends on nothing above it.

use duckdb::{Connection, OptionalExt, Row, params};

use super::{StoreError, now_ms};

/// Where a job is in its life. Completed, failed, cancelled and interrupted are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Recorded, waiting to run.
    Queued,
    /// Running now.
    Running,
    /// Ended with its work committed.
    Completed,
    /// Stopped by an error; nothing it wrote was kept.
    Failed,
    /// Stopped when asked to; nothing it wrote was kept.
    Cancelled,
    /// The process died while the job was queued or running; nothing it wrote was committed.
    Interrupted,
}

impl JobStatus {
    /// The status's stored name (`queued`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    /// Whether the job has ended, so its record changes no more.
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }

    /// Every status, in the order of a job's life.
    pub const ALL: [JobStatus; 6] = [
        Self::Queued,
        Self::Running,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
        Self::Interrupted,
    ];
}

impl std::str::FromStr for JobStatus {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| UnknownName::new("job status", text))
    }
}

/// A stored name Sluice does not know: a database written by a newer Sluice, or damaged. Read
/// as an error, never as a default, so a job is never shown as something it was not.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{text}'")]
pub struct UnknownName {
    /// What the name was read as (`job status`).
    pub what: &'static str,
    /// The name as stored.
    pub text: String,
}

impl UnknownName {
    /// The stored `text` that is not a known `what`.
    pub fn new(what: &'static str, text: &str) -> Self {
        Self {
            what,
            text: text.to_string(),
        }
    }
}

/// Reads column `index` as one of Sluice's named values, failing the read on a name it does not
/// know.
fn named<T: std::str::FromStr<Err = UnknownName>>(row: &Row<'_>, index: usize) -> duckdb::Result<T> {
    let text: String = row.get(index)?;
    text.parse()
        .map_err(|error| duckdb::Error::FromSqlConversionFailure(index, duckdb::types::Type::Text, Box::new(error)))
}

/// A job as stored: its kind as the stored name, or (read by the engine) as the kind it names.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct JobRecord<Kind = String> {
    /// The job's id.
    pub job_id: i64,
    /// The job's kind.
    pub kind: Kind,
    /// Where the job is in its life.
    pub status: JobStatus,
    /// Where the rows come from, as people read it (a file, a table).
    pub source: Option<String>,
    /// Where the rows go, when the job has a target.
    pub target: Option<String>,
    /// The job's settings as JSON, for showing and re-running it.
    pub spec: Option<String>,
    /// The CSV column names an import found (empty before it has looked at the file).
    pub source_columns: Vec<String>,
    /// The files an export wrote.
    pub outputs: Vec<String>,
    /// Data records read from the source.
    pub rows_read: i64,
    /// Rows read into the target: for an upsert, those inserted and those updated.
    pub rows_imported: i64,
    /// Rows rejected, kept as failed rows.
    pub rows_failed: i64,
    /// Rows an export wrote.
    pub rows_written: i64,
    /// Records an import skipped above the header.
    pub rows_skipped: i64,
    /// Of the rows imported, those that replaced a stored row with the same key (an upsert).
    pub rows_updated: i64,
    /// Bytes of the source read, compressed bytes for a compressed file.
    pub bytes_read: i64,
    /// Bytes the source holds in all, when known.
    pub bytes_total: Option<i64>,
    /// When the job was recorded, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// When the job started running, in milliseconds since the Unix epoch.
    pub started_at_ms: Option<i64>,
    /// When the job reached a final status, in milliseconds since the Unix epoch.
    pub finished_at_ms: Option<i64>,
    /// The peak memory recorded for the job, in bytes, when it was measured.
    pub peak_rss_bytes: Option<i64>,
    /// Why a job that did not complete ended: its error, or what a cancel left behind.
    pub error: Option<String>,
    /// The job that undid this one, for a fix that was undone.
    pub undone_by: Option<i64>,
}

impl JobRecord {
    /// The record with its kind read as `Kind`; a name `Kind` does not know is an error, never a
    /// default.
    pub fn with_kind<Kind: std::str::FromStr<Err = UnknownName>>(self) -> Result<JobRecord<Kind>, UnknownName> {
        Ok(JobRecord {
            kind: self.kind.parse()?,
            job_id: self.job_id,
            status: self.status,
            source: self.source,
            target: self.target,
            spec: self.spec,
            source_columns: self.source_columns,
            outputs: self.outputs,
            rows_read: self.rows_read,
            rows_imported: self.rows_imported,
            rows_failed: self.rows_failed,
            rows_written: self.rows_written,
            rows_skipped: self.rows_skipped,
            rows_updated: self.rows_updated,
            bytes_read: self.bytes_read,
            bytes_total: self.bytes_total,
            created_at_ms: self.created_at_ms,
            started_at_ms: self.started_at_ms,
            finished_at_ms: self.finished_at_ms,
            peak_rss_bytes: self.peak_rss_bytes,
            error: self.error,
            undone_by: self.undone_by,
        })
    }
}

/// The final numbers of a job.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobOutcome {
    /// Data records read from the source.
    pub rows_read: u64,
    /// Records an import skipped above the header.
    pub rows_skipped: u64,
    /// Rows read into the target: for an upsert, those inserted and those updated.
    pub rows_imported: u64,
    /// Of `rows_imported`, the rows that replaced a stored row with the same key.
    pub rows_updated: u64,
    /// Rows rejected, kept as failed rows.
    pub rows_failed: u64,
    /// Rows an export wrote.
    pub rows_written: u64,
    /// Bytes of the source read, compressed bytes for a compressed file.
    pub bytes_read: u64,
    /// The peak memory to record for the job, in bytes, when it was measured.
    pub peak_rss_bytes: Option<u64>,
    /// Why a job that did not complete ended: its error, or what a cancel left behind.
    pub error: Option<String>,
    /// Files an export wrote.
    pub outputs: Vec<String>,
}

const COLUMNS: &str = "job_id, kind, status, source, target, spec, rows_read, rows_imported, rows_failed, \
    rows_written, bytes_read, bytes_total, created_at_ms, started_at_ms, finished_at_ms, peak_rss_bytes, error, \
    source_columns, outputs, rows_skipped, rows_updated, undone_by";

/// A job to record, before it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob<'a> {
    /// From `Store::allocate_job_id`.
    pub job_id: i64,
    /// The kind's name, as the engine's registry gives it.
    pub kind: &'static str,
    /// The status to record: queued, or running for a job that starts at once.
    pub status: JobStatus,
    /// Where the rows come from, as people read it (a file, a table).
    pub source: &'a str,
    /// Where the rows go, when the job has a target.
    pub target: Option<&'a str>,
    /// The job's settings as JSON, tagged with its kind.
    pub spec: &'a str,
    /// Bytes the source holds in all, when known.
    pub bytes_total: Option<u64>,
}

/// Records a new job. A job inserted as running gets its start time now.
fn insert_job(conn: &Connection, job: &NewJob<'_>) -> Result<(), StoreError> {
    let now = now_ms();
    let started = (job.status == JobStatus::Running).then_some(now);
    conn.execute(
        "INSERT INTO sluice.jobs (job_id, kind, status, source, target, spec, bytes_total, created_at_ms, started_at_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            job.job_id,
            job.kind,
            job.status.as_str(),
            job.source,
            job.target,
            job.spec,
            job.bytes_total.map(|b| b as i64),
            now,
            started
        ],
    )
    .map_err(StoreError::query("recording a new job"))?;
    Ok(())
}

/// Marks a queued job as running from now.
fn mark_running(conn: &Connection, job_id: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sluice.jobs SET status = 'running', started_at_ms = ? WHERE job_id = ?",
        params![now_ms(), job_id],
    )
    .map_err(StoreError::query("marking a job as running"))?;
    Ok(())
}

/// The largest job id in the database, 0 when there are none.
pub(super) fn max_job_id(conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row("SELECT coalesce(max(job_id), 0) FROM sluice.jobs", [], |row| row.get(0))
        .map_err(StoreError::query("reading job ids"))
}

/// Stores a job's final status and numbers.
fn finish_job(conn: &Connection, job_id: i64, status: JobStatus, outcome: &JobOutcome) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sluice.jobs SET status = ?, rows_read = ?, rows_skipped = ?, rows_imported = ?, rows_updated = ?, \
         rows_failed = ?, rows_written = ?, bytes_read = ?, peak_rss_bytes = ?, error = ?, outputs = ?, finished_at_ms = ? \
         WHERE job_id = ?",
        params![
            status.as_str(),
            outcome.rows_read as i64,
            outcome.rows_skipped as i64,
            outcome.rows_imported as i64,
            outcome.rows_updated as i64,
            outcome.rows_failed as i64,
            outcome.rows_written as i64,
            outcome.bytes_read as i64,
            outcome.peak_rss_bytes.map(|b| b as i64),
            outcome.error,
            (!outcome.outputs.is_empty()).then(|| serde_json::to_string(&outcome.outputs).unwrap_or_default()),
            now_ms(),
            job_id
        ],
    )
    .map_err(StoreError::query("recording a job's result"))?;
    Ok(())
}

fn set_source_columns(conn: &Connection, job_id: i64, columns: &[String]) -> Result<(), StoreError> {
    let columns = serde_json::to_string(columns).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "UPDATE sluice.jobs SET source_columns = ? WHERE job_id = ?",
        params![columns, job_id],
    )
    .map_err(StoreError::query("recording a job's columns"))?;
    Ok(())
}

fn set_file_layouts(conn: &Connection, job_id: i64, layouts: &impl serde::Serialize) -> Result<(), StoreError> {
    let layouts = serde_json::to_string(layouts).map_err(|source| StoreError::Json {
        context: "recording how a job read its files",
        source,
    })?;
    conn.execute(
        "UPDATE sluice.jobs SET file_layouts = ? WHERE job_id = ?",
        params![layouts, job_id],
    )
    .map_err(StoreError::query("recording how a job read its files"))?;
    Ok(())
}

fn file_layouts<T: serde::de::DeserializeOwned>(conn: &Connection, job_id: i64) -> Result<Option<T>, StoreError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT file_layouts FROM sluice.jobs WHERE job_id = ?",
            params![job_id],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::query("reading how a job read its files"))?
        .flatten();
    json.map(|json| {
        serde_json::from_str(&json).map_err(|source| StoreError::Json {
            context: "reading how a job read its files",
            source,
        })
    })
    .transpose()
}

/// A job an earlier process left unfinished, found (and marked interrupted) on open.
#[derive(Clone, Debug, PartialEq)]
pub struct RecoveredJob {
    /// The job's id.
    pub job_id: i64,
    /// The kind's stored name.
    pub kind: String,
    /// The job's settings as JSON, as recorded.
    pub spec: Option<String>,
}

/// Marks jobs left queued or running by an earlier process as interrupted, and returns them.
pub(super) fn mark_interrupted(conn: &Connection) -> Result<Vec<RecoveredJob>, StoreError> {
    let context = "recovering unfinished jobs";
    let mut statement = conn
        .prepare(
            "UPDATE sluice.jobs SET status = 'interrupted', finished_at_ms = ?, \
             error = coalesce(error, 'Sluice stopped before the job finished; nothing it wrote was kept') \
             WHERE status IN ('queued', 'running') RETURNING job_id, kind, spec",
        )
        .map_err(StoreError::query(context))?;
    let recovered = statement
        .query_map(params![now_ms()], |row| {
            Ok(RecoveredJob {
                job_id: row.get(0)?,
                kind: row.get(1)?,
                spec: row.get(2)?,
            })
        })
        .map_err(StoreError::query(context))?
        .collect::<Result<_, _>>()
        .map_err(StoreError::query(context))?;
    Ok(recovered)
}

/// All jobs, newest first.
fn list_jobs(conn: &Connection) -> Result<Vec<JobRecord>, StoreError> {
    let context = "listing jobs";
    let mut statement = conn
        .prepare(&format!("SELECT {COLUMNS} FROM sluice.jobs ORDER BY job_id DESC"))
        .map_err(StoreError::query(context))?;
    let jobs = statement
        .query_map([], job_from_row)
        .map_err(StoreError::query(context))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::query(context))?;
    Ok(jobs)
}

pub(super) fn get_job(conn: &Connection, job_id: i64) -> Result<Option<JobRecord>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM sluice.jobs WHERE job_id = ?"),
        [job_id],
        job_from_row,
    )
    .optional()
    .map_err(StoreError::query("reading a job"))
}

fn job_from_row(row: &Row<'_>) -> duckdb::Result<JobRecord> {
    Ok(JobRecord {
        job_id: row.get(0)?,
        kind: row.get(1)?,
        status: named(row, 2)?,
        source: row.get(3)?,
        target: row.get(4)?,
        spec: row.get(5)?,
        rows_read: row.get(6)?,
        rows_imported: row.get(7)?,
        rows_failed: row.get(8)?,
        rows_written: row.get(9)?,
        bytes_read: row.get(10)?,
        bytes_total: row.get(11)?,
        created_at_ms: row.get(12)?,
        started_at_ms: row.get(13)?,
        finished_at_ms: row.get(14)?,
        peak_rss_bytes: row.get(15)?,
        error: row.get(16)?,
        source_columns: row
            .get::<_, Option<String>>(17)?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default(),
        outputs: row
            .get::<_, Option<String>>(18)?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default(),
        rows_skipped: row.get::<_, Option<i64>>(19)?.unwrap_or(0),
        rows_updated: row.get::<_, Option<i64>>(20)?.unwrap_or(0),
        undone_by: row.get(21)?,
    })
}

/// Adds the rows a retry moved into the table to its import's counts (negative counts for an
/// undo, which moves them back), so imported + failed = read still holds for the import. Runs
/// inside the retry's or the undo's transaction.
pub(super) fn add_retried_rows(
    conn: &Connection,
    import_job_id: i64,
    imported: i64,
    updated: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sluice.jobs SET rows_imported = rows_imported + ?, rows_failed = rows_failed - ?, \
         rows_updated = coalesce(rows_updated, 0) + ? WHERE job_id = ?",
        params![imported, imported, updated, import_job_id],
    )
    .map_err(StoreError::query("updating the import's counts"))?;
    Ok(())
}

/// Records that fix `fix_job_id` was undone by job `undo_job_id`.
pub(super) fn set_undone_by(conn: &Connection, fix_job_id: i64, undo_job_id: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sluice.jobs SET undone_by = ? WHERE job_id = ?",
        params![undo_job_id, fix_job_id],
    )
    .map_err(StoreError::query("recording the undo"))?;
    Ok(())
}

/// The jobs table, through named methods: the one place its statements are written.
impl super::Store {
    /// Records a new job, queued or running.
    pub fn record_job(&self, job: &NewJob<'_>) -> Result<(), StoreError> {
        insert_job(self.conn(), job)
    }

    /// Marks queued job `job_id` as running from now.
    pub fn mark_job_running(&self, job_id: i64) -> Result<(), StoreError> {
        mark_running(self.conn(), job_id)
    }

    /// Stores job `job_id`'s final status and numbers.
    pub fn finish_job(&self, job_id: i64, status: JobStatus, outcome: &JobOutcome) -> Result<(), StoreError> {
        finish_job(self.conn(), job_id, status, outcome)
    }

    /// Records the CSV column names an import found, so reports can name a failed row's fields.
    pub fn set_source_columns(&self, job_id: i64, columns: &[String]) -> Result<(), StoreError> {
        set_source_columns(self.conn(), job_id, columns)
    }

    /// Records how an import read each of its files, so a retry of its failed rows reads them
    /// the same way.
    pub fn set_file_layouts(&self, job_id: i64, layouts: &impl serde::Serialize) -> Result<(), StoreError> {
        set_file_layouts(self.conn(), job_id, layouts)
    }

    /// How import `job_id` read its files, when it recorded that (jobs from before it did
    /// have none).
    pub fn file_layouts<T: serde::de::DeserializeOwned>(&self, job_id: i64) -> Result<Option<T>, StoreError> {
        file_layouts(self.conn(), job_id)
    }

    /// Adds the rows a retry moved into the table to import `import_job_id`'s counts (so imported +
    /// failed = read still holds); runs inside the retry's transaction.
    pub fn add_retried_rows(&self, import_job_id: i64, imported: u64, updated: u64) -> Result<(), StoreError> {
        add_retried_rows(self.conn(), import_job_id, imported as i64, updated as i64)
    }

    /// All jobs, newest first.
    pub fn jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        list_jobs(self.conn())
    }

    /// Job `job_id`, or `None` when there is no such job.
    pub fn job(&self, job_id: i64) -> Result<Option<JobRecord>, StoreError> {
        get_job(self.conn(), job_id)
    }
}
