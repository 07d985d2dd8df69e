//! `sluice failed` (the error report of one import) and `sluice jobs` (the job history).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use sluice::store::{ReportFormat, list_jobs, write_failed_report};

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
