//! Failed rows and their problems: written by imports in the same transaction as the good rows,
//! read back page by page for reports and the window.

use std::collections::BTreeMap;

use duckdb::{Connection, params};

use super::failed_groups::GroupFilter;
use super::{CommitAppend, StoreError};
use crate::records::FailedRow;
use crate::sql_type::SqlType;

/// Stores failed rows of job `job_id` through DuckDB's appender.
pub fn append_failed_rows(conn: &Connection, job_id: i64, rows: &[FailedRow]) -> Result<(), StoreError> {
    append_rows(conn, job_id, rows, None)
}

/// Stores failed rows of import `job_id` that fix (or retry) job `fix_job_id` took up and set
/// aside again, marked as that fix's, so its undo removes them.
pub fn append_failed_rows_of_fix(
    conn: &Connection,
    job_id: i64,
    fix_job_id: i64,
    rows: &[FailedRow],
) -> Result<(), StoreError> {
    append_rows(conn, job_id, rows, Some(fix_job_id))
}

fn append_rows(conn: &Connection, job_id: i64, rows: &[FailedRow], added_by: Option<i64>) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let context = "storing failed rows";
    let mut row_appender = conn
        .appender_to_db("failed_row_store", "sluice")
        .map_err(StoreError::query(context))?;
    let mut problem_appender = conn
        .appender_to_db("failed_problem_store", "sluice")
        .map_err(StoreError::query(context))?;
    let taken_by: Option<i64> = None;
    for row in rows {
        let fields = serde_json::to_string(&row.fields).unwrap_or_else(|_| "[]".into());
        row_appender
            .append_row(params![
                job_id,
                row.record_no as i64,
                row.line as i64,
                row.byte_offset as i64,
                row.raw,
                row.raw_bytes,
                fields,
                row.fields.len() as i32,
                row.file.as_deref(),
                taken_by,
                added_by
            ])
            .map_err(StoreError::query(context))?;
        for problem in &row.problems {
            problem_appender
                .append_row(params![
                    job_id,
                    row.record_no as i64,
                    problem.field_index.map(|index| index as i32),
                    problem.column,
                    problem.kind.as_str(),
                    problem.message,
                    problem
                        .field_index
                        .and_then(|index| row.fields.get(index))
                        .map(String::as_str),
                    taken_by,
                    added_by
                ])
                .map_err(StoreError::query(context))?;
        }
    }
    row_appender.flush().map_err(StoreError::query(context))?;
    problem_appender.flush().map_err(StoreError::query(context))?;
    Ok(())
}

/// What storing `rows` failed rows with `problems` problems in all appends to Sluice's tables,
/// to size the room their commit needs ([`super::commit_room`]).
pub fn failed_rows_appends(rows: u64, problems: u64) -> [CommitAppend; 2] {
    use SqlType::{BigInt, Blob, Integer, Varchar};
    [
        CommitAppend::new(
            rows,
            [
                BigInt, BigInt, BigInt, BigInt, Varchar, Blob, Varchar, Integer, Varchar, BigInt, BigInt,
            ],
        ),
        CommitAppend::new(
            problems,
            [
                BigInt, BigInt, Integer, Varchar, Varchar, Varchar, Varchar, BigInt, BigInt,
            ],
        ),
    ]
}

/// One problem of a stored failed row.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredProblem {
    /// 0-based index of the field at fault, when one is.
    pub field_index: Option<i64>,
    /// Name of the column at fault, when one is.
    pub column: Option<String>,
    /// The kind's stored name (`ProblemKind::as_str`).
    pub kind: String,
    /// The problem in words, for people.
    pub message: String,
}

/// A failed row as read back.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredFailedRow {
    /// 1-based position among the job's data records.
    pub record_no: i64,
    /// The file it came from; `None` for rows stored before files were recorded.
    pub file: Option<String>,
    /// Physical line (1-based) of the file where the record starts.
    pub line: i64,
    /// Offset of the record's first byte in the file as decoded.
    pub byte_offset: i64,
    /// The record's text as it appeared.
    pub raw: String,
    /// The exact bytes, kept only when they are not valid UTF-8.
    #[serde(skip)]
    pub raw_bytes: Option<Vec<u8>>,
    /// The fields the parser found.
    pub fields: Vec<String>,
    /// Every reason the row was rejected.
    pub problems: Vec<StoredProblem>,
}

/// Which failed rows to read.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FailedRowFilter {
    /// Only rows with a problem of this kind (`ProblemKind::as_str`).
    pub kind: Option<String>,
    /// Only rows with a problem in this column.
    pub column: Option<String>,
    /// Only rows whose raw text contains this, ignoring case.
    pub search: Option<String>,
    /// Only the rows of this group (see `failed_groups`); boxed, as filters travel in the
    /// window's read requests, which stay small.
    pub group: Option<Box<GroupFilter>>,
}

/// Parameters of a statement, boxed as the filters' values and the statements' own are mixed.
type Parameters<'a> = Vec<Box<dyn duckdb::ToSql + 'a>>;

/// The WHERE clause of a failed-rows query over `sluice.failed_rows f` that `filter` asks for,
/// and its parameters. Only the conditions the filter sets are written: DuckDB plans a join for
/// each `EXISTS` even where a NULL parameter would make it true, which made every page of a fix
/// join the problems. Every user value is a parameter.
fn filter_where(job_id: i64, filter: &FailedRowFilter) -> (String, Parameters<'_>) {
    let mut sql = String::from("f.job_id = ?");
    let mut parameters: Parameters<'_> = vec![Box::new(job_id)];
    let has_problem = |condition: &str| {
        format!(
            " AND EXISTS (SELECT 1 FROM sluice.failed_row_problems p \
             WHERE p.job_id = f.job_id AND p.record_no = f.record_no AND {condition})"
        )
    };
    if let Some(kind) = filter.kind.as_deref() {
        sql.push_str(&has_problem("p.kind = ?"));
        parameters.push(Box::new(kind));
    }
    if let Some(column) = filter.column.as_deref() {
        sql.push_str(&has_problem("p.column_name = ?"));
        parameters.push(Box::new(column));
    }
    if let Some(search) = filter.search.as_deref().filter(|text| !text.is_empty()) {
        sql.push_str(" AND contains(lower(f.raw), lower(?))");
        parameters.push(Box::new(search));
    }
    if let Some(group) = filter.group.as_deref() {
        sql.push_str(" AND ");
        sql.push_str(&GroupFilter::sql());
        parameters.extend(
            group
                .params()
                .into_iter()
                .map(|value| Box::new(value) as Box<dyn duckdb::ToSql>),
        );
    }
    (sql, parameters)
}

/// Number of failed rows of a job matching `filter`.
pub fn count_failed_rows(conn: &Connection, job_id: i64, filter: &FailedRowFilter) -> Result<u64, StoreError> {
    let (which, parameters) = filter_where(job_id, filter);
    let count: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM sluice.failed_rows f WHERE {which}"),
            duckdb::params_from_iter(parameters),
            |row| row.get(0),
        )
        .map_err(StoreError::query("counting failed rows"))?;
    Ok(count as u64)
}

/// Where each page of `page_rows` failed rows of job `job_id` matching `filter` starts: the
/// `record_no` of its first row, in file order. With these a page is read by key
/// ([`read_failed_rows`]), which costs the same at the millionth row as at the first; OFFSET
/// would make DuckDB read and drop every row before the page.
pub fn failed_page_starts(
    conn: &Connection,
    job_id: i64,
    filter: &FailedRowFilter,
    page_rows: u64,
) -> Result<Vec<i64>, StoreError> {
    let context = "indexing failed rows";
    let page_rows = page_rows.max(1) as i64;
    let (which, mut parameters) = filter_where(job_id, filter);
    let mut statement = conn
        .prepare(&format!(
            "SELECT f.record_no FROM sluice.failed_rows f WHERE {which} \
             QUALIFY (row_number() OVER (ORDER BY f.record_no) - 1) % ? = 0 ORDER BY f.record_no"
        ))
        .map_err(StoreError::query(context))?;
    parameters.push(Box::new(page_rows));
    let starts = statement
        .query_map(duckdb::params_from_iter(parameters), |row| row.get::<_, i64>(0))
        .map_err(StoreError::query(context))?
        .collect::<Result<_, _>>()
        .map_err(StoreError::query(context))?;
    Ok(starts)
}

/// Failed rows of a job matching `filter` with `from_record_no <= record_no < before_record_no`
/// (no upper bound when `None`), in file order, at most `limit` of them.
///
/// Pages are read by key, never by OFFSET: the bound on `record_no` lets DuckDB skip the row
/// groups before the page, so the end of a million failed rows reads as fast as the start.
pub fn read_failed_rows(
    conn: &Connection,
    job_id: i64,
    filter: &FailedRowFilter,
    from_record_no: i64,
    before_record_no: Option<i64>,
    limit: u64,
) -> Result<Vec<StoredFailedRow>, StoreError> {
    let range = (from_record_no, before_record_no);
    let mut rows = select_failed_rows(conn, (job_id, filter), range, Some(limit))?;
    add_problems(conn, job_id, filter, &mut rows)?;
    Ok(rows)
}

/// The rows of `filter` from record `from` (inclusive) to `before` (exclusive), all of them, in
/// file order, without their problems (`problems` is empty), for a fix, which judges each row
/// afresh.
pub fn read_failed_rows_alone(
    conn: &Connection,
    job_id: i64,
    filter: &FailedRowFilter,
    range: (i64, Option<i64>),
) -> Result<Vec<StoredFailedRow>, StoreError> {
    select_failed_rows(conn, (job_id, filter), range, None)
}

/// The rows of `filter` between the record numbers of `range`, in file order: the first
/// `limit` of them, or all. (A fix's pages are sorted too: unsorted, DuckDB's scan held more
/// memory, for no time saved.)
fn select_failed_rows(
    conn: &Connection,
    (job_id, filter): (i64, &FailedRowFilter),
    (from_record_no, before_record_no): (i64, Option<i64>),
    limit: Option<u64>,
) -> Result<Vec<StoredFailedRow>, StoreError> {
    let context = "reading failed rows";
    let (which, mut parameters) = filter_where(job_id, filter);
    parameters.push(Box::new(from_record_no));
    parameters.push(Box::new(before_record_no.unwrap_or(i64::MAX)));
    let order = match limit {
        Some(limit) => {
            parameters.push(Box::new(limit.min(i64::MAX as u64) as i64));
            "ORDER BY f.record_no LIMIT ?"
        }
        None => "ORDER BY f.record_no",
    };
    let mut statement = conn
        .prepare(&format!(
            "SELECT f.record_no, f.line, f.byte_offset, f.raw, f.fields, f.file, f.raw_bytes FROM sluice.failed_rows f \
             WHERE {which} AND f.record_no >= ? AND f.record_no < ? {order}"
        ))
        .map_err(StoreError::query(context))?;
    let rows: Vec<StoredFailedRow> = statement
        .query_map(duckdb::params_from_iter(parameters), |row| {
            let fields: String = row.get(4)?;
            Ok(StoredFailedRow {
                record_no: row.get(0)?,
                file: row.get(5)?,
                line: row.get(1)?,
                byte_offset: row.get(2)?,
                raw: row.get(3)?,
                raw_bytes: row.get(6)?,
                fields: serde_json::from_str(&fields).unwrap_or_default(),
                problems: Vec::new(),
            })
        })
        .map_err(StoreError::query(context))?
        .collect::<Result<_, _>>()
        .map_err(StoreError::query(context))?;
    Ok(rows)
}

/// Reads the problems of `rows`, read by `filter`, into them.
fn add_problems(
    conn: &Connection,
    job_id: i64,
    filter: &FailedRowFilter,
    rows: &mut [StoredFailedRow],
) -> Result<(), StoreError> {
    let context = "reading the failed rows' problems";
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(());
    };
    let (first, last) = (first.record_no, last.record_no);
    let mut problems: BTreeMap<i64, Vec<StoredProblem>> = BTreeMap::new();
    // Unfiltered, a page is every failed row from its first to its last, so a range reads exactly
    // its problems; filtered, the rows between may be many more than the page, so the page's own
    // record numbers are named.
    let (which, parameters): (_, Vec<Box<dyn duckdb::ToSql>>) = if *filter == FailedRowFilter::default() {
        (
            "record_no BETWEEN ? AND ?",
            vec![Box::new(job_id), Box::new(first), Box::new(last)],
        )
    } else {
        let record_nos: Vec<i64> = rows.iter().map(|row| row.record_no).collect();
        (RECORDS_IN_CHUNK, job_and_records(job_id, &record_nos).into())
    };
    let mut statement = conn
        .prepare(&format!(
            "SELECT record_no, field_index, column_name, kind, message FROM sluice.failed_problem_store \
             WHERE job_id = ? AND {which} AND taken_by IS NULL ORDER BY record_no, rowid"
        ))
        .map_err(StoreError::query(context))?;
    let found = statement
        .query_map(duckdb::params_from_iter(parameters), |row| {
            Ok((
                row.get::<_, i64>(0)?,
                StoredProblem {
                    field_index: row.get(1)?,
                    column: row.get(2)?,
                    kind: row.get(3)?,
                    message: row.get(4)?,
                },
            ))
        })
        .map_err(StoreError::query(context))?;
    for entry in found {
        let (record_no, problem) = entry.map_err(StoreError::query(context))?;
        problems.entry(record_no).or_default().push(problem);
    }
    for row in rows {
        row.problems = problems.remove(&row.record_no).unwrap_or_default();
    }
    Ok(())
}

/// The most fields any failed row of a job has (0 when it has none), so a report can give every
/// row a column for each of its fields. Rows stored before field counts were kept are measured
/// from their fields.
pub fn widest_failed_row(conn: &Connection, job_id: i64) -> Result<u64, StoreError> {
    let context = "measuring the widest failed row";
    let counted: Option<i64> = conn
        .query_row(
            "SELECT max(field_count) FROM sluice.failed_rows WHERE job_id = ?",
            [job_id],
            |row| row.get(0),
        )
        .map_err(StoreError::query(context))?;
    let mut widest = counted.unwrap_or(0).max(0) as u64;
    let mut statement = conn
        .prepare("SELECT fields FROM sluice.failed_rows WHERE job_id = ? AND field_count IS NULL")
        .map_err(StoreError::query(context))?;
    let mut uncounted = statement.query([job_id]).map_err(StoreError::query(context))?;
    while let Some(row) = uncounted.next().map_err(StoreError::query(context))? {
        let fields: String = row.get(0).map_err(StoreError::query(context))?;
        let count = serde_json::from_str::<Vec<serde_json::Value>>(&fields).map_or(0, |fields| fields.len());
        widest = widest.max(count as u64);
    }
    Ok(widest)
}

/// How many failed rows of a job have a problem in each column, most first.
pub fn problem_column_counts(conn: &Connection, job_id: i64) -> Result<Vec<(String, u64)>, StoreError> {
    rows_per_group(
        conn,
        "SELECT column_name, count(DISTINCT record_no) FROM sluice.failed_row_problems \
         WHERE job_id = ? AND column_name IS NOT NULL GROUP BY column_name ORDER BY 2 DESC, 1",
        job_id,
        "counting problems by column",
    )
}

/// How many failed rows of a job have each kind of problem, most first.
pub fn problem_counts(conn: &Connection, job_id: i64) -> Result<Vec<(String, u64)>, StoreError> {
    rows_per_group(
        conn,
        "SELECT kind, count(DISTINCT record_no) FROM sluice.failed_row_problems WHERE job_id = ? \
         GROUP BY kind ORDER BY 2 DESC, 1",
        job_id,
        "counting problems",
    )
}

/// Runs a `SELECT group, count ... WHERE job_id = ?` query.
fn rows_per_group(
    conn: &Connection,
    sql: &str,
    job_id: i64,
    context: &'static str,
) -> Result<Vec<(String, u64)>, StoreError> {
    let mut statement = conn.prepare(sql).map_err(StoreError::query(context))?;
    let counts = statement
        .query_map([job_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?.max(0) as u64))
        })
        .map_err(StoreError::query(context))?
        .collect::<Result<_, _>>()
        .map_err(StoreError::query(context))?;
    Ok(counts)
}

/// Record numbers named in one statement: a retry of many rows reads and removes them a chunk
/// at a time, each chunk one scan, not one scan per row.
pub(super) const RECORDS_PER_STATEMENT: usize = 65_536;

/// The condition on `record_no` naming the record numbers of a sorted chunk: bounded by the
/// chunk's first and last, so DuckDB skips the row groups outside them, and listed in one text
/// parameter split in SQL. A placeholder per number made DuckDB's planner the slowest part of a
/// fix (its rewriter walks every element of an `IN` list: 50 ms a statement of 2,048).
pub(super) const RECORDS_IN_CHUNK: &str =
    "record_no BETWEEN ? AND ? AND record_no IN (SELECT CAST(unnest(string_split(?, ',')) AS BIGINT))";

/// A job id, then a sorted chunk's bounds and its record numbers joined by commas: the
/// parameters of a statement over some of a job's rows, with [`RECORDS_IN_CHUNK`].
pub(super) fn job_and_records(job_id: i64, record_nos: &[i64]) -> [Box<dyn duckdb::ToSql>; 4] {
    let listed: Vec<String> = record_nos.iter().map(i64::to_string).collect();
    [
        Box::new(job_id),
        Box::new(record_nos.first().copied().unwrap_or(0)),
        Box::new(record_nos.last().copied().unwrap_or(-1)),
        Box::new(listed.join(",")),
    ]
}

/// `record_nos` in order, to be named a chunk at a time.
pub(super) fn sorted(record_nos: &[i64]) -> Vec<i64> {
    let mut sorted = record_nos.to_vec();
    sorted.sort_unstable();
    sorted
}

/// A failed row as a retry reads it back.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryRow {
    /// The file it came from; `None` for rows stored before files were recorded.
    pub file: Option<String>,
    /// Physical line (1-based) of the file where the record starts.
    pub line: i64,
    /// Offset of the record's first byte in the file as decoded.
    pub byte_offset: i64,
    /// The record's text as it appeared.
    pub raw: String,
    /// The exact bytes, kept only when they are not valid UTF-8.
    pub raw_bytes: Option<Vec<u8>>,
    /// The fields to retry: as the parser found them, or as fixed.
    pub fields: Vec<String>,
    /// The fields as the parser found them, which tell which of `fields` a fix left as they were.
    pub fields_as_read: Vec<String>,
}

/// The columns [`RetryRow::numbered`] reads, in its order.
pub(super) const RETRY_ROW_COLUMNS: &str = "record_no, line, byte_offset, raw, fields, raw_bytes, file";

impl RetryRow {
    /// Stored failed row `row` with `fields` (as a fix made them) in place of its own.
    pub fn fixed(row: StoredFailedRow, fields: Vec<String>) -> Self {
        Self {
            file: row.file,
            line: row.line,
            byte_offset: row.byte_offset,
            raw: row.raw,
            raw_bytes: row.raw_bytes,
            fields,
            fields_as_read: row.fields,
        }
    }

    /// A row of [`RETRY_ROW_COLUMNS`], with its record number.
    pub(super) fn numbered(row: &duckdb::Row<'_>) -> duckdb::Result<(i64, Self)> {
        let fields: Vec<String> = serde_json::from_str(&row.get::<_, String>(4)?).unwrap_or_default();
        Ok((
            row.get(0)?,
            Self {
                file: row.get(6)?,
                line: row.get(1)?,
                byte_offset: row.get(2)?,
                raw: row.get(3)?,
                raw_bytes: row.get(5)?,
                fields: fields.clone(),
                fields_as_read: fields,
            },
        ))
    }
}

/// The failed rows a retry moves, through named methods.
impl super::Store {
    /// The failed rows of `job_id` numbered `record_nos` that are still in the failed set, by
    /// record number.
    pub fn failed_rows_to_retry(&self, job_id: i64, record_nos: &[i64]) -> Result<BTreeMap<i64, RetryRow>, StoreError> {
        let context = "reading the failed rows to retry";
        let mut rows = BTreeMap::new();
        for chunk in sorted(record_nos).chunks(RECORDS_PER_STATEMENT) {
            let mut statement = self
                .conn()
                .prepare(&format!(
                    "SELECT {RETRY_ROW_COLUMNS} FROM sluice.failed_rows WHERE job_id = ? AND {RECORDS_IN_CHUNK}"
                ))
                .map_err(StoreError::query(context))?;
            let found = statement
                .query_map(
                    duckdb::params_from_iter(job_and_records(job_id, chunk)),
                    RetryRow::numbered,
                )
                .map_err(StoreError::query(context))?;
            for found in found {
                let (record_no, row) = found.map_err(StoreError::query(context))?;
                rows.insert(record_no, row);
            }
        }
        Ok(rows)
    }

    /// Takes failed rows of `job_id` and their problems out of the failed set for fix (or
    /// retry) job `fix_job_id`, inside its transaction: they are marked as taken by it, not
    /// deleted, so its undo puts them back by clearing the mark. Returns the first of them that
    /// was no longer there (another retry took it), after which the caller must roll back.
    pub fn take_failed_rows(
        &self,
        job_id: i64,
        record_nos: &[i64],
        fix_job_id: i64,
    ) -> Result<Option<i64>, StoreError> {
        let context = "taking retried rows out of the failed set";
        let conn = self.conn();
        let record_nos = sorted(record_nos);
        if record_nos.is_empty() {
            return Ok(None);
        }
        // The numbers go through the appender into a table the statements join: named in the
        // statement, or in a parameter split in SQL, they cost DuckDB's planner more than the
        // update itself. The table is dropped again before returning, so it never stands in for
        // a user's table of the same name.
        conn.execute_batch(
            "DROP TABLE IF EXISTS temp.sluice_taking; CREATE TEMP TABLE sluice_taking (record_no BIGINT NOT NULL);",
        )
        .map_err(StoreError::query(context))?;
        let taken = mark_taken(conn, (job_id, fix_job_id), &record_nos);
        // After a failed statement the transaction refuses the drop too: the first error is
        // the one to report.
        let dropped = conn.execute_batch("DROP TABLE IF EXISTS temp.sluice_taking");
        let taken = taken?;
        dropped.map_err(StoreError::query(context))?;
        Ok(taken)
    }
}

/// Marks the rows `record_nos` (sorted, at least one) of import `job_id` and their problems as
/// taken by `fix_job_id`, through `temp.sluice_taking`. Returns the first that was no longer
/// in the failed set, if one was.
fn mark_taken(
    conn: &Connection,
    (job_id, fix_job_id): (i64, i64),
    record_nos: &[i64],
) -> Result<Option<i64>, StoreError> {
    let context = "taking retried rows out of the failed set";
    let (Some(first), Some(last)) = (record_nos.first().copied(), record_nos.last().copied()) else {
        return Ok(None);
    };
    {
        let mut appender = conn.appender("sluice_taking").map_err(StoreError::query(context))?;
        for record_no in record_nos {
            appender.append_row([record_no]).map_err(StoreError::query(context))?;
        }
        appender.flush().map_err(StoreError::query(context))?;
    }
    let listed = "record_no BETWEEN ? AND ? AND record_no IN (SELECT record_no FROM temp.sluice_taking)";
    let parameters = params![fix_job_id, job_id, first, last];
    let taken = conn
        .execute(
            &format!(
                "UPDATE sluice.failed_row_store SET taken_by = ? WHERE job_id = ? AND {listed} AND taken_by IS NULL"
            ),
            parameters,
        )
        .map_err(StoreError::query(context))?;
    if taken < record_nos.len() {
        // One that was gone already (another retry took it): named, and the caller rolls back.
        let gone: Option<i64> = conn
            .query_row(
                "SELECT min(t.record_no) FROM temp.sluice_taking t WHERE NOT EXISTS (SELECT 1 FROM \
                 sluice.failed_row_store s WHERE s.job_id = ? AND s.record_no = t.record_no AND s.taken_by = ?)",
                params![job_id, fix_job_id],
                |row| row.get(0),
            )
            .map_err(StoreError::query(context))?;
        return Ok(Some(gone.unwrap_or(first)));
    }
    conn.execute(
        &format!(
            "UPDATE sluice.failed_problem_store SET taken_by = ? WHERE job_id = ? AND {listed} AND taken_by IS NULL"
        ),
        parameters,
    )
    .map_err(StoreError::query(context))?;
    Ok(None)
}

/// The files a job's failed rows come from (`None` for rows stored before files were).
pub fn failed_row_files(
    conn: &Connection,
    job_id: i64,
) -> Result<std::collections::BTreeSet<Option<String>>, StoreError> {
    let context = "reading the files of the failed rows";
    let mut statement = conn
        .prepare("SELECT DISTINCT file FROM sluice.failed_rows WHERE job_id = ?")
        .map_err(StoreError::query(context))?;
    let files = statement
        .query_map([job_id], |row| row.get(0))
        .map_err(StoreError::query(context))?
        .collect::<Result<_, _>>()
        .map_err(StoreError::query(context))?;
    Ok(files)
}
