//! `sluice export`: a table, or a filtered slice of it, to CSV (gzip, chunks, shaped for its
//! reader), an Excel workbook or Parquet (partitioned or not).

use std::path::PathBuf;
use std::process::ExitCode;

use sluice::engine::{JobSpec, JobSummary};
use sluice::export::{
    CsvShape, ExportFormat, ExportRequest, ExportSummary, Filter, FilterOp, LineEnding, OrderBy, ParquetCompression,
    ParquetOptions, QuoteStyle, TextEncoding, XlsxOptions, XlsxSplit,
};
use sluice::store::{Store, table_columns};

use super::follow::{Ended, print_finished_json, run_job, unfinished_json};
use super::{DbArgs, EXIT_CANCELLED, parse_single_byte};
use crate::format::{megabytes, thousands};
use sluice::engine::DuckdbDefaults;

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
    /// Start a new file every N rows: NAME-00001.csv, NAME-00002.csv, ... (Parquet: NAME-00001.parquet;
    /// with --partition-by, files of at most N rows in each folder).
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
    /// CSV: the text's encoding: utf-8, utf-8-bom, windows-1252 or utf-16le. A character
    /// Windows-1252 cannot hold fails the export, naming its row and column.
    #[arg(long, default_value = "utf-8", value_parser = parse_encoding)]
    encoding: TextEncoding,
    /// CSV: write a character the encoding cannot hold as '?' (counted in the summary).
    #[arg(long)]
    replace_unencodable: bool,
    /// CSV: what ends a record.
    #[arg(long, value_enum, default_value = "lf")]
    line_ending: LineEndingArg,
    /// CSV: which fields are quoted: where needed, every field, or all but numbers.
    #[arg(long, value_enum, default_value = "needed")]
    quote: QuoteArg,
    /// CSV: what NULL is written as, such as \N or NULL (default: an empty field).
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    null_string: String,
    /// CSV: strftime-style format for DATE columns, such as %d/%m/%Y.
    #[arg(long, allow_hyphen_values = true)]
    date_format: Option<String>,
    /// CSV: strftime-style format for TIMESTAMP columns, such as "%d/%m/%Y %H:%M".
    #[arg(long, allow_hyphen_values = true)]
    timestamp_format: Option<String>,
    /// CSV: write decimals with a comma (3,14); needs a delimiter other than ','.
    #[arg(long)]
    decimal_comma: bool,
    /// Excel: past 1,048,575 rows, go on in further sheets or further files.
    #[arg(long, value_enum, default_value = "sheets")]
    xlsx_split: XlsxSplitArg,
    /// Excel: rows per sheet, below Excel's limit (for trying the split on small tables).
    #[arg(long, hide = true)]
    rows_per_sheet: Option<u64>,
    /// Parquet: how column chunks are compressed.
    #[arg(long, value_enum, default_value = "snappy")]
    compression: CompressionArg,
    /// Parquet: rows per row group (default: DuckDB's, 122,880).
    #[arg(long)]
    row_group_rows: Option<u64>,
    /// Parquet: write a Hive-partitioned folder (COL=value/...) split by these columns.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    partition_by: Vec<String>,
    /// Print progress and the summary as JSON lines on standard output (the summary last).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum FormatArg {
    Csv,
    Xlsx,
    Parquet,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum LineEndingArg {
    Lf,
    Crlf,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum QuoteArg {
    Needed,
    All,
    NonNumeric,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum XlsxSplitArg {
    Sheets,
    Files,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum CompressionArg {
    Zstd,
    Snappy,
    None,
}

fn parse_encoding(text: &str) -> Result<TextEncoding, String> {
    TextEncoding::parse(text).ok_or_else(|| {
        let known: Vec<&str> = TextEncoding::ALL.iter().map(TextEncoding::as_str).collect();
        format!("use one of {}", known.join(", "))
    })
}

/// `filter_groups` holds each `--where` occurrence's values (clap's derive flattens them).
pub fn run(args: ExportArgs, filter_groups: Vec<Vec<String>>) -> anyhow::Result<ExitCode> {
    let request = request_from(&args, &filter_groups)?;
    let streams = request.only_streams();
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
    let format = match args.format {
        FormatArg::Csv => ExportFormat::Csv,
        FormatArg::Xlsx => ExportFormat::Xlsx,
        FormatArg::Parquet => ExportFormat::Parquet,
    };
    refuse_options_of_other_formats(args, format)?;
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
        format,
        gzip_level: args.gzip.then_some(args.level),
        chunk_rows: args.chunk_rows.map(|rows| rows.max(1)),
        delimiter: parse_single_byte(&args.delimiter, "delimiter")?,
        header: !args.no_header,
        formula_guard: args.formula_guard,
        shape: CsvShape {
            encoding: args.encoding,
            replace_unencodable: args.replace_unencodable,
            line_ending: match args.line_ending {
                LineEndingArg::Lf => LineEnding::Lf,
                LineEndingArg::Crlf => LineEnding::CrLf,
            },
            quote: match args.quote {
                QuoteArg::Needed => QuoteStyle::Needed,
                QuoteArg::All => QuoteStyle::All,
                QuoteArg::NonNumeric => QuoteStyle::NonNumeric,
            },
            null_string: args.null_string.clone(),
            date_format: args.date_format.clone(),
            timestamp_format: args.timestamp_format.clone(),
            decimal_comma: args.decimal_comma,
        },
        xlsx: XlsxOptions {
            split: match args.xlsx_split {
                XlsxSplitArg::Sheets => XlsxSplit::Sheets,
                XlsxSplitArg::Files => XlsxSplit::Files,
            },
            rows_per_sheet: args.rows_per_sheet,
        },
        parquet: ParquetOptions {
            compression: match args.compression {
                CompressionArg::Zstd => ParquetCompression::Zstd,
                CompressionArg::Snappy => ParquetCompression::Snappy,
                CompressionArg::None => ParquetCompression::None,
            },
            row_group_rows: args.row_group_rows,
            partition_by: args
                .partition_by
                .iter()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect(),
        },
    })
}

/// A CSV option given for Parquet (or the other way round) is a mistake worth saying, not
/// something to ignore.
fn refuse_options_of_other_formats(args: &ExportArgs, format: ExportFormat) -> anyhow::Result<()> {
    let csv_options = [
        ("--encoding", args.encoding != TextEncoding::Utf8),
        ("--replace-unencodable", args.replace_unencodable),
        ("--line-ending", args.line_ending != LineEndingArg::Lf),
        ("--quote", args.quote != QuoteArg::Needed),
        ("--null-string", !args.null_string.is_empty()),
        ("--date-format", args.date_format.is_some()),
        ("--timestamp-format", args.timestamp_format.is_some()),
        ("--decimal-comma", args.decimal_comma),
    ];
    let xlsx_options = [
        ("--xlsx-split", args.xlsx_split != XlsxSplitArg::Sheets),
        ("--rows-per-sheet", args.rows_per_sheet.is_some()),
    ];
    let parquet_options = [
        ("--compression", args.compression != CompressionArg::Snappy),
        ("--row-group-rows", args.row_group_rows.is_some()),
        ("--partition-by", !args.partition_by.is_empty()),
    ];
    let groups = [
        ("CSV", ExportFormat::Csv, &csv_options[..]),
        ("xlsx", ExportFormat::Xlsx, &xlsx_options[..]),
        ("Parquet", ExportFormat::Parquet, &parquet_options[..]),
    ];
    for (name, owner, options) in groups {
        if owner == format {
            continue;
        }
        if let Some((flag, _)) = options.iter().find(|(_, given)| *given) {
            anyhow::bail!("{flag} is for --format {} only", name.to_ascii_lowercase());
        }
    }
    Ok(())
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
    if summary.replaced_characters > 0 {
        println!(
            "{} characters the encoding cannot hold were written as '?'.",
            thousands(summary.replaced_characters)
        );
    }
    for file in &summary.files {
        println!("  {}", file.display());
    }
}
