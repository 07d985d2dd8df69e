//! `sluice failed` (the error report of one import) and `sluice jobs` (the job history).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use sluice::store::{FailedRowFilter, StoredFailedRow, get_job, list_jobs, read_failed_rows};

use super::DbArgs;
use crate::format::thousands;

/// Rows fetched from the database at a time, so a report of millions of rows streams.
const PAGE_ROWS: u64 = 10_000;

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
    #[command(flatten)]
    db: DbArgs,
}

#[derive(clap::Args, Debug)]
pub struct JobsArgs {
    /// Print the jobs as a JSON array.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    db: DbArgs,
}

pub fn failed(args: FailedArgs) -> anyhow::Result<()> {
    let store = args.db.open()?;
    let job = get_job(store.conn(), args.job_id)?.with_context(|| format!("there is no job {}", args.job_id))?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let filter = FailedRowFilter::default();
    if args.json {
        write!(out, "[")?;
    }
    let mut csv_out = (!args.json).then(|| csv::Writer::from_writer(Vec::new()));
    // Rows go through the CSV writer into this buffer, then out, a page at a time.
    if let Some(writer) = csv_out.as_mut() {
        let mut header = vec!["line".to_string(), "errors".to_string(), "raw".to_string()];
        header.extend(job.source_columns.iter().cloned());
        writer.write_record(&header)?;
    }
    let mut offset = 0;
    let mut first = true;
    loop {
        let page = read_failed_rows(store.conn(), args.job_id, &filter, offset, PAGE_ROWS)?;
        if page.is_empty() {
            break;
        }
        offset += page.len() as u64;
        for row in &page {
            match csv_out.as_mut() {
                Some(writer) => writer.write_record(report_record(row, job.source_columns.len()))?,
                None => {
                    if !first {
                        write!(out, ",")?;
                    }
                    serde_json::to_writer(&mut out, &report_json(row))?;
                }
            }
            first = false;
        }
        if let Some(writer) = csv_out.take() {
            let buffer = writer
                .into_inner()
                .map_err(|error| anyhow::anyhow!("{}", error.error()))?;
            out.write_all(&buffer)?;
            csv_out = Some(csv::Writer::from_writer(Vec::new()));
        }
    }
    if args.json {
        writeln!(out, "]")?;
    }
    out.flush()?;
    if let Some(path) = &args.out {
        eprintln!(
            "Wrote {} failed rows of job {} to {}",
            thousands(offset),
            args.job_id,
            path.display()
        );
    }
    Ok(())
}

fn errors_text(row: &StoredFailedRow) -> String {
    row.problems
        .iter()
        .map(|problem| match &problem.column {
            Some(column) => format!("{column}: {}", problem.message),
            None => problem.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// line, errors, raw, then one cell per CSV column (extra fields beyond the header included).
fn report_record(row: &StoredFailedRow, width: usize) -> Vec<String> {
    let mut record = vec![row.line.to_string(), errors_text(row), row.raw.clone()];
    record.extend(row.fields.iter().cloned());
    record.resize(3 + width.max(row.fields.len()), String::new());
    record
}

fn report_json(row: &StoredFailedRow) -> serde_json::Value {
    serde_json::json!({
        "line": row.line,
        "record_no": row.record_no,
        "errors": errors_text(row),
        "problems": row.problems,
        "raw": row.raw,
        "fields": row.fields,
    })
}

pub fn jobs(args: JobsArgs) -> anyhow::Result<()> {
    let store = args.db.open()?;
    let jobs = list_jobs(store.conn())?;
    if args.json {
        println!("{}", serde_json::to_string(&jobs)?);
        return Ok(());
    }
    if jobs.is_empty() {
        println!("No jobs yet.");
        return Ok(());
    }
    println!(
        "{:>5}  {:<7} {:<11} {:>12} {:>12} {:>10}  source -> target",
        "job", "kind", "status", "read", "imported", "failed"
    );
    for job in jobs {
        println!(
            "{:>5}  {:<7} {:<11} {:>12} {:>12} {:>10}  {} -> {}",
            job.job_id,
            job.kind.as_str(),
            job.status.as_str(),
            thousands(job.rows_read.max(0) as u64),
            thousands(job.rows_imported.max(0) as u64),
            thousands(job.rows_failed.max(0) as u64),
            job.source.as_deref().unwrap_or("-"),
            job.target.as_deref().unwrap_or("-"),
        );
        if let Some(error) = &job.error {
            println!("{:>5}  {error}", "");
        }
    }
    Ok(())
}
