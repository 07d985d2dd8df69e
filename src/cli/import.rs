//! `sluice import`: one file into one table, run on the same job runtime as the window. Progress
//! goes to a bar on a terminal or, with `--json`, to JSON lines; the summary makes failed rows
//! impossible to miss.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use sluice::engine::{JobSpec, JobSummary};
use sluice::import::{ImportMode, ImportRequest, ImportSummary, SchemaFile, SniffHints, encoding_for_label, sniff};

use super::follow::{DuckdbDefaults, Ended, print_finished_json, run_job, unfinished_json};
use super::{DbArgs, EXIT_CANCELLED, parse_single_byte};
use crate::format::{megabytes, thousands};

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The CSV, TSV or text file; gzip is detected by content.
    file: PathBuf,
    /// The target table.
    #[arg(long)]
    table: String,
    #[arg(long, value_enum, default_value = "create")]
    mode: ModeArg,
    /// A JSON schema: columns, types and validation rules.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Field delimiter (sniffed when not given). Use \t for tab.
    #[arg(long)]
    delimiter: Option<String>,
    /// Quote character (sniffed when not given).
    #[arg(long)]
    quote: Option<String>,
    /// The first line is data, not a header.
    #[arg(long)]
    no_header: bool,
    /// Text encoding, such as utf-8, utf-16le or windows-1252 (sniffed when not given).
    #[arg(long)]
    encoding: Option<String>,
    /// Rows per batch written to DuckDB.
    #[arg(long, default_value_t = sluice::import::DEFAULT_BATCH_ROWS)]
    batch_rows: usize,
    /// Cap the import at this many rows per second.
    #[arg(long)]
    max_rows_per_sec: Option<u64>,
    /// Print progress and the summary as JSON lines on standard output (the summary last).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ModeArg {
    Create,
    Append,
    Replace,
}

pub fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let request = request_from(&args)?;
    // The file is looked at once here, for its width; a file that cannot be read is reported by
    // the job itself.
    let columns = match &request.schema {
        Some(schema) => schema.columns.len(),
        None => sniff(&request.path, &request.hints).map_or(0, |sniffed| sniffed.columns.len()),
    };
    let checks_unique = request
        .schema
        .as_ref()
        .is_some_and(|schema| schema.columns.iter().any(|column| column.unique));
    let (job_id, ended, ran_with) = run_job(
        &args.db,
        |_| DuckdbDefaults::import(columns, checks_unique),
        JobSpec::Import(request.clone()),
        args.json,
    )?;
    match ended {
        Ended::Finished(JobSummary::Import(summary)) => {
            if args.json {
                print_finished_json(&summary, serde_json::to_value(&ran_with)?)?;
            } else {
                print_summary(&summary, &request);
            }
            Ok(ExitCode::SUCCESS)
        }
        Ended::Finished(_) => anyhow::bail!("job {job_id} was not an import"),
        Ended::Cancelled => {
            if args.json {
                println!("{}", unfinished_json(job_id, "cancelled", None));
            } else {
                println!(
                    "Cancelled import of {} (job {job_id}): table '{}' was left exactly as it was.",
                    request.path.display(),
                    request.table
                );
            }
            Ok(ExitCode::from(EXIT_CANCELLED))
        }
        Ended::Failed(error) => {
            if args.json {
                println!("{}", unfinished_json(job_id, "failed", Some(&error)));
            }
            anyhow::bail!("import of {} failed (job {job_id}): {error}", args.file.display());
        }
    }
}

fn request_from(args: &ImportArgs) -> anyhow::Result<ImportRequest> {
    let schema = args.schema.as_deref().map(SchemaFile::load).transpose()?;
    let encoding = args
        .encoding
        .as_deref()
        .map(|label| encoding_for_label(label).with_context(|| format!("unknown encoding '{label}'")))
        .transpose()?;
    let hints = SniffHints {
        delimiter: args
            .delimiter
            .as_deref()
            .map(|d| parse_single_byte(d, "delimiter"))
            .transpose()?,
        quote: args
            .quote
            .as_deref()
            .map(|q| parse_single_byte(q, "quote"))
            .transpose()?,
        has_header: args.no_header.then_some(false),
        encoding,
    };
    Ok(ImportRequest {
        path: args.file.clone(),
        table: args.table.clone(),
        mode: match args.mode {
            ModeArg::Create => ImportMode::Create,
            ModeArg::Append => ImportMode::Append,
            ModeArg::Replace => ImportMode::Replace,
        },
        schema,
        hints,
        batch_rows: args.batch_rows.max(1),
        max_rows_per_sec: args.max_rows_per_sec,
    })
}

fn print_summary(summary: &ImportSummary, request: &ImportRequest) {
    let seconds = summary.elapsed_ms as f64 / 1000.0;
    let rate = if seconds > 0.0 {
        summary.rows_read as f64 / seconds
    } else {
        0.0
    };
    println!(
        "Imported {} into table '{}' (job {})",
        request.path.display(),
        summary.table,
        summary.job_id
    );
    println!("  rows read      {:>14}", thousands(summary.rows_read));
    println!("  rows imported  {:>14}", thousands(summary.rows_imported));
    println!("  rows failed    {:>14}", thousands(summary.rows_failed));
    let balanced = summary.rows_imported + summary.rows_failed == summary.rows_read;
    println!(
        "  {} imported + {} failed = {} read {}",
        thousands(summary.rows_imported),
        thousands(summary.rows_failed),
        thousands(summary.rows_read),
        if balanced {
            "(every row accounted for)"
        } else {
            "(MISMATCH: please report this)"
        }
    );
    println!(
        "  {} in {seconds:.1} s, {} rows/s; encoding {}, delimiter {:?}, header {}",
        megabytes(summary.bytes_read),
        thousands(rate as u64),
        summary.encoding,
        summary.delimiter,
        if summary.has_header { "yes" } else { "no" }
    );
    if summary.rows_failed > 0 {
        println!();
        println!(
            "WARNING: {} row{} failed and {} NOT imported. See why with: sluice failed {}",
            thousands(summary.rows_failed),
            if summary.rows_failed == 1 { "" } else { "s" },
            if summary.rows_failed == 1 { "was" } else { "were" },
            summary.job_id
        );
    }
}
