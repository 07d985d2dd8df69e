//! `sluice export`: a table, or a filtered slice of it, to CSV, gzip CSV, chunks or Parquet.

use std::path::PathBuf;
use std::process::ExitCode;

use sluice::engine::{JobSpec, JobSummary};
use sluice::export::{ExportFormat, ExportRequest, ExportSummary, Filter, FilterOp, OrderBy};
use sluice::store::{Store, table_columns};

use super::follow::{DuckdbDefaults, Ended, print_finished_json, run_job, unfinished_json};
use super::{DbArgs, EXIT_CANCELLED, parse_single_byte};
use crate::format::{megabytes, thousands};

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The table to export.
    #[arg(long)]
    table: String,
    /// The output file (with --chunk-rows, the name the numbered files are derived from).
    #[arg(long)]
    out: PathBuf,
    /// A filter: COLUMN OP [VALUE], where OP is eq, ne, lt, le, gt, ge, contains, starts_with,
    /// ends_with, is_null, not_null, in (comma-separated values) or between (low,high).
    /// Repeat for more filters; all must hold.
    #[arg(long = "where", id = "where", num_args = 2..=3, action = clap::ArgAction::Append,
          value_names = ["COLUMN", "OP", "VALUE"], allow_hyphen_values = true)]
    filters: Vec<String>,
    /// Columns to export, in order (default: all).
    #[arg(long, value_delimiter = ',')]
    columns: Vec<String>,
    /// Sort by this column.
    #[arg(long)]
    order_by: Option<String>,
    /// Sort descending.
    #[arg(long, requires = "order_by")]
    desc: bool,
    /// Compress with gzip.
    #[arg(long)]
    gzip: bool,
    /// Gzip level, 1 (fastest) to 9 (smallest).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=9))]
    level: u32,
    /// Start a new file every N rows: NAME-00001.csv, NAME-00002.csv, ...
    #[arg(long)]
    chunk_rows: Option<u64>,
    #[arg(long, value_enum, default_value = "csv")]
    format: FormatArg,
    /// Field delimiter. Use \t for tab.
    #[arg(long, default_value = ",")]
    delimiter: String,
    /// Leave out the header line.
    #[arg(long)]
    no_header: bool,
    /// Prefix text cells starting with = + - @ tab or CR with ', so spreadsheets do not run them.
    #[arg(long)]
    formula_guard: bool,
    /// Print progress and the summary as JSON lines on standard output (the summary last).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum FormatArg {
    Csv,
    Parquet,
}

/// `filter_groups` holds each `--where` occurrence's values (clap's derive flattens them).
pub fn run(args: ExportArgs, filter_groups: Vec<Vec<String>>) -> anyhow::Result<ExitCode> {
    let request = request_from(&args, &filter_groups)?;
    let streams = request.order_by.is_none() && request.format == ExportFormat::Csv;
    let table = request.table.clone();
    let defaults = |store: &Store| {
        if !streams {
            return DuckdbDefaults::default();
        }
        // A table that cannot be read is reported by the job itself.
        let columns = table_columns(store.conn(), &table).map_or(0, |columns| columns.len());
        DuckdbDefaults::streaming_export(columns)
    };
    let gzip_level = request.gzip_level;
    let (job_id, ended, ran_with) = run_job(&args.db, defaults, JobSpec::Export(request), args.json)?;
    match ended {
        Ended::Finished(JobSummary::Export(summary)) => {
            if args.json {
                let mut settings = serde_json::to_value(&ran_with)?;
                settings["gzip_level"] = serde_json::json!(gzip_level);
                settings["gzip_threads"] = serde_json::json!(gzip_level.map(|_| sluice::export::gzip_threads()));
                print_finished_json(&summary, settings)?;
            } else {
                print_summary(&summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        Ended::Finished(_) => anyhow::bail!("job {job_id} was not an export"),
        Ended::Cancelled => {
            if args.json {
                println!("{}", unfinished_json(job_id, "cancelled", None));
            } else {
                println!(
                    "Cancelled export of '{}' (job {job_id}): no file was written.",
                    args.table
                );
            }
            Ok(ExitCode::from(EXIT_CANCELLED))
        }
        Ended::Failed(error) => {
            if args.json {
                println!("{}", unfinished_json(job_id, "failed", Some(&error)));
            }
            anyhow::bail!("export of '{}' failed (job {job_id}): {error}", args.table);
        }
    }
}

fn request_from(args: &ExportArgs, filter_groups: &[Vec<String>]) -> anyhow::Result<ExportRequest> {
    let filters = filter_groups
        .iter()
        .map(|parts| {
            let op = FilterOp::parse(&parts[1].to_ascii_lowercase()).ok_or_else(|| {
                let known: Vec<&str> = FilterOp::ALL.iter().map(FilterOp::as_str).collect();
                anyhow::anyhow!(
                    "unknown filter operator '{}'; use one of {}",
                    parts[1],
                    known.join(", ")
                )
            })?;
            Ok(Filter {
                column: parts[0].clone(),
                op,
                value: parts.get(2).cloned(),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(ExportRequest {
        table: args.table.clone(),
        out: args.out.clone(),
        filters,
        columns: args
            .columns
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
        order_by: args.order_by.clone().map(|column| OrderBy {
            column,
            descending: args.desc,
        }),
        format: match args.format {
            FormatArg::Csv => ExportFormat::Csv,
            FormatArg::Parquet => ExportFormat::Parquet,
        },
        gzip_level: args.gzip.then_some(args.level),
        chunk_rows: args.chunk_rows.map(|rows| rows.max(1)),
        delimiter: parse_single_byte(&args.delimiter, "delimiter")?,
        header: !args.no_header,
        formula_guard: args.formula_guard,
    })
}

fn print_summary(summary: &ExportSummary) {
    let seconds = summary.elapsed_ms as f64 / 1000.0;
    println!(
        "Exported {} rows of '{}' (job {}) in {seconds:.1} s, {} written:",
        thousands(summary.rows_written),
        summary.table,
        summary.job_id,
        megabytes(summary.bytes_written)
    );
    for file in &summary.files {
        println!("  {}", file.display());
    }
}
