//! Job records: one row per import or export, from queued to a final status.

use duckdb::{Connection, OptionalExt, Row, params};

use super::{StoreError, now_ms};

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Import,
    Export,
    /// Failed rows of an import, fixed and validated again.
    Retry,
}

/// Where a job is in its life. Completed, failed, cancelled and interrupted are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
    /// The process died while the job was queued or running; nothing it wrote was committed.
    Interrupted,
}

impl JobKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Import => "import",
            Self::Export => "export",
            Self::Retry => "retry",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "export" => Self::Export,
            "retry" => Self::Retry,
            _ => Self::Import,
        }
    }
}

impl JobStatus {
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

    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }

    fn parse(text: &str) -> Self {
        match text {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "completed" => Self::Completed,
            "cancelled" => Self::Cancelled,
            "interrupted" => Self::Interrupted,
            _ => Self::Failed,
        }
    }
}

/// A job as stored.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct JobRecord {
    pub job_id: i64,
    pub kind: JobKind,
    pub status: JobStatus,
    pub source: Option<String>,
    pub target: Option<String>,
    /// The job's settings as JSON, for showing and re-running it.
    pub spec: Option<String>,
    /// The CSV column names an import found (empty before it has looked at the file).
    pub source_columns: Vec<String>,
    /// The files an export wrote.
    pub outputs: Vec<String>,
    pub rows_read: i64,
    pub rows_imported: i64,
    pub rows_failed: i64,
    pub rows_written: i64,
    /// Records an import skipped above the header.
    pub rows_skipped: i64,
    pub bytes_read: i64,
    pub bytes_total: Option<i64>,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub peak_rss_bytes: Option<i64>,
    pub error: Option<String>,
}

/// The final numbers of a job.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobOutcome {
    pub rows_read: u64,
    /// Records an import skipped above the header.
    pub rows_skipped: u64,
    pub rows_imported: u64,
    pub rows_failed: u64,
    pub rows_written: u64,
    pub bytes_read: u64,
    pub peak_rss_bytes: Option<u64>,
    pub error: Option<String>,
    /// Files an export wrote.
    pub outputs: Vec<String>,
}

const COLUMNS: &str = "job_id, kind, status, source, target, spec, rows_read, rows_imported, rows_failed, \
    rows_written, bytes_read, bytes_total, created_at_ms, started_at_ms, finished_at_ms, peak_rss_bytes, error, \
    source_columns, outputs, rows_skipped";

/// Records a new job under `job_id` (from `Store::allocate_job_id`). A job inserted as running
/// gets its start time now.
#[allow(clippy::too_many_arguments)]
pub fn insert_job(
    conn: &Connection,
    job_id: i64,
    kind: JobKind,
    status: JobStatus,
    source: Option<&str>,
    target: Option<&str>,
    spec: Option<&str>,
    bytes_total: Option<u64>,
) -> Result<(), StoreError> {
    let now = now_ms();
    let started = (status == JobStatus::Running).then_some(now);
    conn.execute(
        "INSERT INTO sluice.jobs (job_id, kind, status, source, target, spec, bytes_total, created_at_ms, started_at_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            job_id,
            kind.as_str(),
            status.as_str(),
            source,
            target,
            spec,
            bytes_total.map(|b| b as i64),
            now,
            started
        ],
    )
    .map_err(StoreError::query("recording a new job"))?;
    Ok(())
}

/// Marks a queued job as running from now.
pub fn mark_running(conn: &Connection, job_id: i64) -> Result<(), StoreError> {
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
pub fn finish_job(conn: &Connection, job_id: i64, status: JobStatus, outcome: &JobOutcome) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sluice.jobs SET status = ?, rows_read = ?, rows_skipped = ?, rows_imported = ?, rows_failed = ?, \
         rows_written = ?, bytes_read = ?, peak_rss_bytes = ?, error = ?, outputs = ?, finished_at_ms = ? WHERE job_id = ?",
        params![
            status.as_str(),
            outcome.rows_read as i64,
            outcome.rows_skipped as i64,
            outcome.rows_imported as i64,
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

/// Records the CSV column names an import found, so reports can name a failed row's fields.
pub fn set_source_columns(conn: &Connection, job_id: i64, columns: &[String]) -> Result<(), StoreError> {
    let columns = serde_json::to_string(columns).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "UPDATE sluice.jobs SET source_columns = ? WHERE job_id = ?",
        params![columns, job_id],
    )
    .map_err(StoreError::query("recording a job's columns"))?;
    Ok(())
}

/// A job an earlier process left unfinished, found (and marked interrupted) on open.
#[derive(Clone, Debug, PartialEq)]
pub struct RecoveredJob {
    pub job_id: i64,
    pub kind: JobKind,
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
                kind: JobKind::parse(&row.get::<_, String>(1)?),
                spec: row.get(2)?,
            })
        })
        .map_err(StoreError::query(context))?
        .collect::<Result<_, _>>()
        .map_err(StoreError::query(context))?;
    Ok(recovered)
}

/// All jobs, newest first.
pub fn list_jobs(conn: &Connection) -> Result<Vec<JobRecord>, StoreError> {
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

pub fn get_job(conn: &Connection, job_id: i64) -> Result<Option<JobRecord>, StoreError> {
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
        kind: JobKind::parse(&row.get::<_, String>(1)?),
        status: JobStatus::parse(&row.get::<_, String>(2)?),
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
    })
}
