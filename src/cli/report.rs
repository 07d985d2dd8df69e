//! `sluice failed` (the error report of one import) and `sluice jobs` (the job history).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use sluice::engine::{JobKind, JobRecord};
use sluice::store::{ReportError, ReportFormat, Store, write_failed_report};

use super::DbArgs;
use crate::format::thousands;

#[derive(clap::Args, Debug)]
pub struct FailedArgs {
    /// The import job's id (see `sluice jobs`).
    job_id: i64,
    /// Write the report as CSV to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the report as a JSON array.
    #[arg(long)]
    json: bool,
    /// Instead of the rows, list what is wrong with them: groups by column, kind of problem and
    /// value (or the value's shape, or the row's field count), each with its count.
    #[arg(long, conflicts_with = "out")]
    groups: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(clap::Args, Debug)]
pub struct JobsArgs {
    /// Print the jobs as a JSON array.
    #[arg(long)]
    json: bool,
    /// List the lines import job JOB skipped (above the header, comments, blank lines); the
    /// first 1,000 are kept, all are counted.
    #[arg(long, value_name = "JOB")]
    skipped: Option<i64>,
    #[command(flatten)]
    db: DbArgs,
}

pub fn failed(args: FailedArgs) -> anyhow::Result<()> {
    let store = args.db.open()?;
    if args.groups {
        return failed_groups(&store, args.job_id, args.json);
    }
    let format = if args.json {
        ReportFormat::Json
    } else {
        ReportFormat::Csv
    };
    match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            let written = write_failed_report(store.conn(), args.job_id, format, &mut out)?;
            out.flush()?;
            eprintln!(
                "Wrote {} failed rows of job {} to {}",
                thousands(written),
                args.job_id,
                path.display()
            );
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write_failed_report(store.conn(), args.job_id, format, &mut out)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Prints the groups of a job's failed rows: one line each, or a JSON array with `--json`.
fn failed_groups(store: &Store, job_id: i64, json: bool) -> anyhow::Result<()> {
    let job = store.job(job_id)?.ok_or(ReportError::NoSuchJob(job_id))?;
    let header_fields = (!job.source_columns.is_empty()).then_some(job.source_columns.len());
    let groups = sluice::store::failed_groups(store.conn(), job_id)?;
    if json {
        let groups: Vec<serde_json::Value> = groups
            .iter()
            .map(|group| {
                let mut value = serde_json::to_value(group).unwrap_or_default();
                value["description"] = group.describe(header_fields).into();
                value
            })
            .collect();
        println!("{}", serde_json::to_string(&groups)?);
        return Ok(());
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for group in &groups {
        writeln!(out, "{}", group.describe(header_fields))?;
    }
    out.flush()?;
    Ok(())
}

pub fn jobs(args: JobsArgs) -> anyhow::Result<()> {
    let store = args.db.open()?;
    if let Some(job_id) = args.skipped {
        return skipped_lines(&store, job_id, args.json);
    }
    let jobs = sluice::engine::jobs(&store)?;
    if args.json {
        let jobs: Vec<serde_json::Value> = jobs.iter().map(job_json).collect();
        println!("{}", serde_json::to_string(&jobs)?);
        return Ok(());
    }
    if jobs.is_empty() {
        println!("No jobs yet.");
        return Ok(());
    }
    println!(
        "{:>5}  {:<8} {:<11} {:<56}  source -> target",
        "job", "kind", "status", "result"
    );
    for job in jobs {
        println!(
            "{:>5}  {:<8} {:<11} {:<56}  {} -> {}",
            job.job_id,
            job.kind.as_str(),
            job.status.as_str(),
            result_text(&job),
            job.source.as_deref().unwrap_or("-"),
            job.target.as_deref().unwrap_or("-"),
        );
        if let Some(error) = &job.error {
            println!("{:>5}  {error}", "");
        }
    }
    Ok(())
}

/// The lines an import skipped, one per line ("line 3  above_header  Report for March"), or a
/// JSON array.
fn skipped_lines(store: &sluice::store::Store, job_id: i64, json: bool) -> anyhow::Result<()> {
    let job = store
        .job(job_id)?
        .with_context(|| format!("there is no job {job_id}"))?;
    let lines = sluice::store::read_skipped_lines(store.conn(), job_id, sluice::import::MAX_LISTED_SKIPPED_LINES)?;
    if json {
        println!("{}", serde_json::to_string(&lines)?);
        return Ok(());
    }
    println!(
        "Job {job_id} skipped {} line{}{}",
        thousands(job.rows_skipped.max(0) as u64),
        if job.rows_skipped == 1 { "" } else { "s" },
        if job.rows_skipped > lines.len() as i64 {
            format!("; the first {} are listed", lines.len())
        } else {
            String::new()
        }
    );
    for skipped in lines {
        println!("{:>8}  {:<12}  {}", skipped.line, skipped.reason, skipped.raw);
    }
    Ok(())
}

/// What a job did, in the terms of its kind: an import reads, imports and fails rows, an export
/// writes rows to files, a retry fixes some of the rows it retried.
fn result_text(job: &JobRecord) -> String {
    let count = |value: i64| value.max(0) as u64;
    sluice::engine::JobTotals {
        rows_read: count(job.rows_read),
        rows_skipped: count(job.rows_skipped),
        rows_imported: count(job.rows_imported),
        rows_updated: count(job.rows_updated),
        rows_failed: count(job.rows_failed),
        rows_written: count(job.rows_written),
        files: Some(job.outputs.len()),
        undone_by: job.undone_by,
    }
    .describe(job.kind)
}

/// The stored job with a `result` object that names what its kind of job did.
fn job_json(job: &JobRecord) -> serde_json::Value {
    let result = match job.kind {
        JobKind::Import => serde_json::json!({
            "rows_read": job.rows_read,
            "rows_imported": job.rows_imported,
            "rows_failed": job.rows_failed,
        }),
        JobKind::Export => serde_json::json!({
            "rows_written": job.rows_written,
            "files_written": job.outputs.len(),
            "files": job.outputs,
        }),
        JobKind::Retry | JobKind::Fix => serde_json::json!({
            "rows_retried": job.rows_read,
            "rows_fixed": job.rows_imported,
            "rows_still_failing": job.rows_failed,
        }),
        JobKind::Undo => serde_json::json!({
            "rows_removed": job.rows_read,
            "rows_put_back": job.rows_updated,
            "rows_returned": job.rows_failed,
        }),
        _ => serde_json::json!({
            "rows_read": job.rows_read,
            "rows_written": job.rows_written,
        }),
    };
    let mut value = serde_json::to_value(job).unwrap_or(serde_json::Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.insert("result".into(), result);
    }
    value
}
