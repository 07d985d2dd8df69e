//! `sluice import`: files into one table, run on the same job runtime as the window. Progress
//! goes to a bar on a terminal or, with `--json`, to JSON lines; the summary makes failed rows
//! impossible to miss.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use sluice::engine::{JobSpec, JobSummary};
use sluice::import::{
    ColumnSpan, ImportMode, ImportRequest, ImportSummary, Recipe, SchemaFile, SniffHints, Sniffed, encoding_for_label,
    expand_inputs, sniff,
};

use super::follow::{Ended, print_finished_json, run_job, unfinished_json};
use super::{DbArgs, EXIT_CANCELLED, parse_single_byte};
use crate::format::{megabytes, thousands};
use sluice::engine::DuckdbDefaults;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The CSV, TSV or text files, plain or packed (gzip, zstd, a one-file zip: told by
    /// content), workbooks (.xlsx, .xlsm, .xlsb, .xls, .ods), Parquet or JSON lines (.ndjson,
    /// .jsonl): files, folders (their table files) or patterns such as 'data/part_*.csv'. All go into one table in one transaction,
    /// their columns matched by name.
    #[arg(required = true, value_name = "PATH")]
    files: Vec<PathBuf>,
    /// The target table.
    #[arg(long)]
    table: String,
    /// create a new table, append to one, replace one, or upsert: rows whose --key the table
    /// has replace the stored row, the others are added.
    #[arg(long, value_enum, default_value = "create")]
    mode: ModeArg,
    /// The key columns of an upsert, such as id or region,id.
    #[arg(long, value_delimiter = ',', value_name = "COL[,COL]")]
    key: Vec<String>,
    /// A JSON schema: columns, types and validation rules.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Fix rules to run on each record before it is validated: a recipe kept by `sluice fix
    /// --save-recipe NAME`, or a recipe file (see `sluice recipes --write`).
    #[arg(long, value_name = "NAME|FILE")]
    recipe: Option<String>,
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
    /// Numbers use a decimal comma (1.234,5); guessed when not given (a ';' file is taken to).
    #[arg(long)]
    decimal_comma: bool,
    /// Read dates that could be either way (02/01/2019) month first; day first by default.
    #[arg(long)]
    month_first: bool,
    /// A value that means NULL in every column, such as NA (repeat for more); in quotes in a text
    /// column it is the text, as PostgreSQL reads its COPY NULL string. NA, N/A, n/a, NULL,
    /// null, \N, - and -- are detected where a column holds them among typed values.
    #[arg(long = "null-marker", value_name = "TEXT")]
    null_markers: Vec<String>,
    /// Skip this many records above the header (a title, notes); detected when not given.
    #[arg(long)]
    skip: Option<usize>,
    /// Read this many rows of the table, then skip and count the records under them (another
    /// table stacked below); detected where the sample shows one.
    #[arg(long)]
    rows: Option<u64>,
    /// The escape character inside quotes, such as \\ for \" (a backslash is detected).
    #[arg(long)]
    escape: Option<String>,
    /// Lines starting with this character are comments, skipped and counted (# is detected).
    #[arg(long)]
    comment: Option<String>,
    /// The sheet of a workbook (.xlsx, .xlsm, .xlsb, .xls, .ods) to read; the first when not
    /// given.
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
    /// The sheet's columns to read, such as F:K, when another table stands beside the one
    /// wanted (detected when not given: the table left of an empty column is read).
    #[arg(long, value_name = "FROM:TO", value_parser = ColumnSpan::parse)]
    columns: Option<ColumnSpan>,
    /// Lines the header spans (names, then units or sub-names), joined into one name per
    /// column; detected when not given.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=20))]
    header_lines: Option<u16>,
    /// `text` keeps every column as text; `infer` (the default) types them.
    #[arg(long, value_enum, default_value = "infer")]
    types: TypesArg,
    /// Rows per batch written to DuckDB.
    #[arg(long, default_value_t = sluice::import::DEFAULT_BATCH_ROWS)]
    batch_rows: usize,
    /// Rows with fewer fields than the header get NULL for the missing ones instead of failing.
    #[arg(long)]
    pad_missing: bool,
    /// Add the columns a file has and the table lacks, instead of refusing the file.
    #[arg(long)]
    add_columns: bool,
    /// A text column that gets each row's file (added to an existing table that lacks it).
    #[arg(long, value_name = "NAME")]
    source_column: Option<String>,
    /// Cap the import at this many rows per second.
    #[arg(long)]
    max_rows_per_sec: Option<u64>,
    /// Print progress and the summary as JSON lines on standard output (the summary last).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum TypesArg {
    Infer,
    Text,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ModeArg {
    Create,
    Append,
    Replace,
    Upsert,
}

pub fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let mut request = request_from(&args)?;
    if let Some(recipe) = &args.recipe {
        request.recipe = Some(Recipe::find(&args.db.open()?, recipe)?);
    }
    // Folders and patterns become their files here, so the job stores the very files it reads.
    let inputs = expand_inputs(&args.files)?;
    for ignored in &inputs.ignored {
        eprintln!("Not a table file, left out: {}", ignored.display());
    }
    request.paths = inputs.files;
    if request.paths.iter().any(|path| sluice::import::is_workbook(path)) {
        sluice::memory::map_large_blocks_apart();
    }
    // The first file is sniffed here to say, before anything is written, what was understood of
    // it (and its width); a file that cannot be read is reported by the job itself. Each file of
    // several is sniffed on its own by the job.
    let sniffed = request.paths.first().and_then(|path| sniff(path, &request.hints).ok());
    if request.paths.len() > 1 && !args.json {
        eprintln!("Reading {} files into one table, in this order:", request.paths.len());
        for path in &request.paths {
            eprintln!("  {}", path.display());
        }
    }
    if let Some(sniffed) = &sniffed {
        report_inference(sniffed, args.json);
    }
    let columns = match &request.schema {
        Some(schema) => schema.columns.len(),
        None => sniffed.as_ref().map_or(0, |sniffed| sniffed.layout.columns.len()),
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
                    request.describe_files(),
                    request.table
                );
            }
            Ok(ExitCode::from(EXIT_CANCELLED))
        }
        Ended::Failed(error) => {
            if args.json {
                println!("{}", unfinished_json(job_id, "failed", Some(&error)));
            }
            anyhow::bail!("import of {} failed (job {job_id}): {error}", request.describe_files());
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
        day_first: args.month_first.then_some(false),
        decimal_comma: args.decimal_comma.then_some(true),
        null_markers: args.null_markers.clone(),
        all_text: args.types == TypesArg::Text,
        skip: args.skip,
        rows: args.rows,
        escape: args
            .escape
            .as_deref()
            .map(|c| parse_single_byte(c, "escape"))
            .transpose()?,
        comment: args
            .comment
            .as_deref()
            .map(|c| parse_single_byte(c, "comment"))
            .transpose()?,
        header_lines: args.header_lines.map(usize::from),
        sheet: args.sheet.clone(),
        sheet_columns: args.columns,
    };
    Ok(ImportRequest {
        paths: args.files.clone(),
        table: args.table.clone(),
        mode: match args.mode {
            ModeArg::Create => ImportMode::Create,
            ModeArg::Append => ImportMode::Append,
            ModeArg::Replace => ImportMode::Replace,
            ModeArg::Upsert => ImportMode::Upsert,
        },
        schema,
        hints,
        batch_rows: args.batch_rows.max(1),
        max_rows_per_sec: args.max_rows_per_sec,
        pad_missing: args.pad_missing,
        add_columns: args.add_columns,
        source_column: args.source_column.clone(),
        key: args.key.clone(),
        recipe: None,
    })
}

/// Each column's type and format as inferred, and how many sampled values do not fit, with
/// examples: on standard error for people, as a `sniffed` JSON line with `--json`.
fn report_inference(sniffed: &Sniffed, json: bool) {
    if json {
        let columns: Vec<serde_json::Value> = sniffed
            .layout
            .columns
            .iter()
            .zip(&sniffed.layout.column_guesses)
            .map(|(name, guess)| {
                serde_json::json!({
                    "name": name,
                    "type": guess.column_type.to_string(),
                    "format": guess.format,
                    "sampled": guess.sampled,
                    "misfits": guess.misfits,
                    "examples": guess.examples,
                    "ambiguous_date_order": guess.ambiguous_date_order,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "event": "sniffed",
                "encoding": sniffed.layout.encoding.describe(),
                "encoding_confidence": sniffed.encoding_evidence.confidence().as_str(),
                "encoding_evidence": sniffed.encoding_evidence.describe(),
                "delimiter": char::from(sniffed.layout.dialect.delimiter).to_string(),
                "has_header": sniffed.layout.has_header,
                "skip_records": sniffed.layout.skip_records,
                "table_rows": sniffed.layout.table_rows,
                "trailing_delimiter": sniffed.layout.trailing_delimiter,
                "unnamed_empty_columns": sniffed.layout.unnamed_empty_columns,
                "pad_short_rows": sniffed.layout.pad_short_rows,
                "header_repair": sniffed.header_repair,
                "layout": sniffed.layout_choice,
                "header_lines": sniffed.layout.header_lines,
                "not_data": sniffed.breaks,
                "summary_rows": sniffed.layout.summary_rows,
                "columns": columns,
            })
        );
        return;
    }
    eprintln!(
        "Encoding {}, {}",
        sniffed.layout.encoding.describe(),
        sniffed.encoding_evidence.summary()
    );
    if sniffed.layout.skip_records > 0 {
        eprintln!(
            "Skipping {} record{} above the header (use --skip N to say otherwise):",
            sniffed.layout.skip_records,
            if sniffed.layout.skip_records == 1 { "" } else { "s" }
        );
        for record in &sniffed.skipped_preview {
            eprintln!("  {}", record.join(" | "));
        }
    }
    for note in sniffed.reading_notes() {
        eprintln!("{note}");
    }
    for (note, table) in sniffed.other_table_notes() {
        eprintln!("{note} To read it instead: {}", table.options());
    }
    if let Some((warning, other)) = sniffed.layout_warning() {
        eprintln!("{warning} To read it that way: {}", other.options());
    }
    for found in &sniffed.breaks {
        eprintln!(
            "Not data: {}: {} (such lines fail as {}).",
            found.kind.describe(),
            found.text,
            found.kind.problem_kind().as_str()
        );
    }
    if let Some(sheet) = &sniffed.layout.sheet {
        let part = sniffed
            .layout
            .sheet_columns
            .map(|columns| format!(", columns {columns}"))
            .unwrap_or_default();
        eprintln!(
            "Sheet '{sheet}'{part} of {} (--sheet NAME reads another). Its sheets:",
            sniffed.path.display()
        );
        for info in &sniffed.sheets {
            eprintln!("  {}", info.describe());
        }
    }
    eprintln!("Columns as read from {}:", sniffed.path.display());
    for (name, guess) in sniffed.layout.columns.iter().zip(&sniffed.layout.column_guesses) {
        let mut line = format!("  {name:<24} {}", guess.column_type);
        let format = guess.format.describe();
        if !format.is_empty() {
            line.push_str(&format!(" ({format})"));
        }
        if guess.ambiguous_date_order {
            line.push_str(" [day or month first cannot be told from the values; --month-first reads month first]");
        }
        if guess.misfits > 0 {
            line.push_str(&format!("; {}", guess.misfits_text()));
        }
        eprintln!("{line}");
    }
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
        request.describe_files(),
        summary.table,
        summary.job_id
    );
    println!("  rows read      {:>14}", thousands(summary.rows_read));
    println!("  rows imported  {:>14}", thousands(summary.rows_imported));
    if request.mode == ImportMode::Upsert {
        println!("    inserted     {:>14}", thousands(summary.rows_inserted));
        println!(
            "    updated      {:>14}  (replaced the stored row with the same {})",
            thousands(summary.rows_updated),
            request.key.join(", ")
        );
    }
    println!("  rows failed    {:>14}", thousands(summary.rows_failed));
    if let Some(recipe) = &request.recipe {
        println!("  recipe '{}', rows each rule changed:", recipe.name);
        for label in recipe.labels() {
            match summary.fixed_by.get(&label).copied().unwrap_or(0) {
                0 => println!("    {label}: matched nothing in this extract"),
                rows => println!("    {label} × {}", thousands(rows)),
            }
        }
    }
    if summary.rows_skipped > 0 {
        println!(
            "  rows skipped   {:>14}  (no rows: blank lines, comments, titles and notes around the table)",
            thousands(summary.rows_skipped)
        );
    }
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
