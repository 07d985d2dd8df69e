//! `sluice bench import`: Sluice's import against DuckDB's own `read_csv` on the same generated
//! file. Each side runs in a child process of its own, so its peak memory is its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

use super::bench_child::{Measured, RUNS_PER_SIDE, bench_dir, best_of, remove_database, run_child};
use sluice::bench::{create_people_table, people_schema, write_people_csv};

use crate::format::{mebibytes, megabytes, thousands};

#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Generate a CSV with some faulty rows, import it with a schema, and time DuckDB's
    /// read_csv on the same file.
    Import {
        /// Data rows to generate.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Folder for the generated file and databases (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Give the schema's id column the `unique` rule (DuckDB's side is unchanged).
        #[arg(long)]
        unique: bool,
    },
    /// Generate the same number of rows as one file and as many files in a folder, and time
    /// importing each (the many in one job).
    Files {
        /// Data rows in all.
        #[arg(long, default_value_t = 5_000_000)]
        rows: u64,
        /// Files the rows are split into.
        #[arg(long, default_value_t = 20)]
        files: u64,
        /// Folder for the generated files and database (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Write a sheet of N rows and one of N/5 rows as .xlsx and the N rows as CSV, and time
    /// importing each (peak memory of the large sheet against the small one).
    Xlsx {
        /// Data rows of the large sheet (at most 1,048,575).
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Folder for the generated files and database (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Import a file whose every row fails, then time pages of its failed rows at the start, the
    /// middle and the end, and the error report of a quarter of the rows and of all of them.
    Failed {
        /// Failed rows to generate.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Folder for the generated file, database and reports (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Import a file whose every row fails in five ways, then time its groups, the preview of
    /// one rule over every row, a fix of all of them and its undo, against importing the same
    /// rows clean; at a tenth of the rows and at all of them, each in a process of its own.
    Fix {
        /// Failed rows to generate.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Folder for the generated files and databases (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Measure only `--rows` in this process, and print its figures as JSON.
        #[arg(long, hide = true)]
        one_size: bool,
    },
    /// Build a table, export it as CSV and gzip CSV, and time DuckDB's COPY TO of the same query.
    Export {
        /// Rows in the generated table.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Folder for the database and the exported files (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Build a table of N rows and read Browse pages at its start, middle and end, in table order
    /// and sorted by five columns, under the window's DuckDB memory default: time per page and
    /// peak memory.
    Browse {
        /// Rows of the table.
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
        /// Folder for the database (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Create (or replace) table TABLE of N synthetic people rows in the database, for trying
    /// Browse and Export on a big table.
    Table {
        /// Rows to generate.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// The table's name.
        #[arg(long, default_value = "people")]
        table: String,
        #[command(flatten)]
        db: super::DbArgs,
    },
    /// Sniff and import real files (folders are searched) with everything guessed, and set
    /// beside it what DuckDB's sniffer makes of them: typed columns, rows read, header found.
    Sniff {
        #[arg(required_unless_present = "compare_clean")]
        paths: Vec<PathBuf>,
        /// A folder of files and, in its `clean` folder, their hand-cleaned twins (same names):
        /// each file read by Sluice and by DuckDB is scored against its twin (rows right, values
        /// misread, extra rows, header, typed columns).
        #[arg(long, value_name = "DIR")]
        compare_clean: Option<PathBuf>,
        /// The Python that has the official DuckDB package (`pip install duckdb==2.0.0`), the
        /// DuckDB side of the comparison.
        #[arg(long, value_name = "PYTHON", default_value = "python3")]
        duckdb_python: String,
    },
    /// (internal) Time DuckDB's read_csv of FILE into a new table, in this process.
    #[command(hide = true)]
    DuckdbReadCsv { file: PathBuf, db: PathBuf },
    /// (internal) Time DuckDB's COPY TO of table people into OUT, in this process.
    #[command(hide = true)]
    DuckdbCopy {
        db: PathBuf,
        out: PathBuf,
        #[arg(long)]
        gzip: bool,
        /// Write Parquet partitioned by this column instead of CSV.
        #[arg(long)]
        partition_by: Option<String>,
    },
    /// Export a table of N rows and one of N/5 rows to Excel and partitioned Parquet (peak memory
    /// of the large against the small), partitioned Parquet beside DuckDB's own COPY, and CSV
    /// with every shaping option beside plain CSV.
    Shapes {
        /// Rows of the large table.
        #[arg(long, default_value_t = 5_000_000)]
        rows: u64,
        /// Folder for the database and the exports (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Import { rows, dir, unique } => bench_import(rows, dir, unique),
        BenchCommand::Files { rows, files, dir } => super::bench_files::bench_files(rows, files, dir),
        BenchCommand::Xlsx { rows, dir } => super::bench_xlsx::bench_xlsx(rows, dir),
        BenchCommand::Failed { rows, dir } => super::bench_failed::bench_failed(rows, dir),
        BenchCommand::Fix { rows, dir, one_size } => match one_size {
            true => super::bench_fix::one_size(rows, dir),
            false => super::bench_fix::bench_fix(rows, dir),
        },
        BenchCommand::Export { rows, dir } => bench_export(rows, dir),
        BenchCommand::Browse { rows, dir } => super::bench_browse::bench_browse(rows, dir),
        BenchCommand::Table { rows, table, db } => make_table(rows, &table, &db),
        BenchCommand::Sniff {
            compare_clean: Some(dir),
            duckdb_python,
            ..
        } => super::bench_clean::bench_compare_clean(&dir, &duckdb_python),
        BenchCommand::Sniff {
            paths, duckdb_python, ..
        } => super::bench_sniff::bench_sniff(&paths, &duckdb_python),
        BenchCommand::DuckdbReadCsv { file, db } => duckdb_read_csv(&file, &db),
        BenchCommand::DuckdbCopy {
            db,
            out,
            gzip,
            partition_by,
        } => duckdb_copy(&db, &out, gzip, partition_by.as_deref()),
        BenchCommand::Shapes { rows, dir } => super::bench_shapes::bench_shapes(rows, dir),
    }
}

fn bench_import(rows: u64, dir: Option<PathBuf>, unique: bool) -> anyhow::Result<()> {
    let (_temp, dir) = bench_dir(dir)?;
    let csv_path = dir.join("bench-people.csv");
    let schema_path = dir.join("bench-people.schema.json");
    eprintln!("Generating {} rows...", thousands(rows));
    let generated = write_people_csv(&csv_path, rows)?;
    let mut schema = people_schema();
    if unique && let Some(id) = schema.columns.iter_mut().find(|column| column.name == "id") {
        id.unique = true;
    }
    std::fs::write(&schema_path, schema.to_json_pretty())?;
    let sluice_db = dir.join("bench-sluice.duckdb");
    let duckdb_db = dir.join("bench-duckdb.duckdb");
    let exe = std::env::current_exe()?;
    let sluice = best_of(RUNS_PER_SIDE, "Importing with Sluice", || {
        remove_database(&sluice_db);
        run_child(
            Command::new(&exe)
                .arg("import")
                .arg(&csv_path)
                .args(["--table", "people", "--json", "--schema"])
                .arg(&schema_path)
                .arg("--db")
                .arg(&sluice_db),
            "rows_imported",
        )
    })?;
    let duckdb = best_of(RUNS_PER_SIDE, "Importing with DuckDB's read_csv", || {
        remove_database(&duckdb_db);
        run_child(
            Command::new(&exe)
                .args(["bench", "duckdb-read-csv"])
                .arg(&csv_path)
                .arg(&duckdb_db),
            "rows",
        )
    })?;

    let expected = generated.rows - generated.faulty_rows;
    if sluice.rows != expected {
        bail!(
            "Sluice imported {} rows, but the file has {} rows of which {} are faulty: {} should have been imported",
            sluice.rows,
            generated.rows,
            generated.faulty_rows,
            expected
        );
    }
    let seconds = |m: &Measured| m.elapsed_ms as f64 / 1000.0;
    println!(
        "File: {} rows, {} ({} faulty rows){}",
        thousands(generated.rows),
        megabytes(generated.bytes),
        thousands(generated.faulty_rows),
        if unique { ", id unique" } else { "" }
    );
    for (name, measured) in [("sluice import", &sluice), ("duckdb read_csv", &duckdb)] {
        let secs = seconds(measured).max(1e-9);
        println!(
            "{name:<16} {:>7.2} s  {:>12} rows/s  {:>7.1} MB/s  peak RSS {:>10}  ({} rows kept; {})",
            secs,
            thousands((generated.rows as f64 / secs) as u64),
            generated.bytes as f64 / 1e6 / secs,
            mebibytes(measured.peak_rss_bytes),
            thousands(measured.rows),
            measured.settings
        );
    }
    println!(
        "ratio sluice / duckdb: {:.2}x",
        seconds(&sluice) / seconds(&duckdb).max(1e-9)
    );
    Ok(())
}

fn duckdb_read_csv(file: &Path, db: &Path) -> anyhow::Result<()> {
    let conn = duckdb::Connection::open(db)?;
    let started = Instant::now();
    let rows = sluice::bench::duckdb_read_people(&conn, file)?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    print_measurement(&conn, elapsed_ms, rows, None)?;
    Ok(())
}

fn bench_export(rows: u64, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (_temp, dir) = bench_dir(dir)?;
    let db = dir.join("bench-export.duckdb");
    let _ = std::fs::remove_file(&db);
    eprintln!("Building a table of {} rows...", thousands(rows));
    {
        let conn = duckdb::Connection::open(&db)?;
        create_people_table(&conn, "people", rows)?;
    }
    let exe = std::env::current_exe()?;
    let mut results = Vec::new();
    for gzip in [false, true] {
        let extension = if gzip { "csv.gz" } else { "csv" };
        let ours = dir.join(format!("by-sluice.{extension}"));
        let theirs = dir.join(format!("by-duckdb.{extension}"));
        let sluice = best_of(RUNS_PER_SIDE, &format!("Exporting {extension} with Sluice"), || {
            let mut command = Command::new(&exe);
            command
                .args(["export", "--table", "people", "--json", "--out"])
                .arg(&ours)
                .arg("--db")
                .arg(&db);
            if gzip {
                command.arg("--gzip");
            }
            run_child(&mut command, "rows_written")
        })?;
        let duckdb = best_of(
            RUNS_PER_SIDE,
            &format!("Exporting {extension} with DuckDB's COPY TO"),
            || {
                let mut command = Command::new(&exe);
                command.args(["bench", "duckdb-copy"]).arg(&db).arg(&theirs);
                if gzip {
                    command.arg("--gzip");
                }
                run_child(&mut command, "rows")
            },
        )?;
        for (side, measured) in [("Sluice", &sluice), ("DuckDB", &duckdb)] {
            if measured.rows != rows {
                bail!(
                    "{side} wrote {} rows of the {} in the table to {extension}",
                    measured.rows,
                    rows
                );
            }
        }
        let size = |path: &Path| {
            std::fs::metadata(path)
                .map(|m| m.len())
                .with_context(|| format!("the export did not write {}", path.display()))
        };
        results.push((extension, size(&ours)?, sluice, size(&theirs)?, duckdb));
    }
    println!("Table: {} rows", thousands(rows));
    for (extension, our_size, sluice, their_size, duckdb) in &results {
        let seconds = |m: &Measured| m.elapsed_ms as f64 / 1000.0;
        println!(
            "{extension:<7} sluice {:>7.2} s {:>10} peak RSS {:>10} | duckdb {:>7.2} s {:>10} peak RSS {:>10} | time ratio {:.2}x, size ratio {:.3}",
            seconds(sluice),
            megabytes(*our_size),
            mebibytes(sluice.peak_rss_bytes),
            seconds(duckdb),
            megabytes(*their_size),
            mebibytes(duckdb.peak_rss_bytes),
            seconds(sluice) / seconds(duckdb).max(1e-9),
            *our_size as f64 / (*their_size).max(1) as f64
        );
        println!("        sluice ran with {}", sluice.settings);
        println!("        duckdb ran with {}", duckdb.settings);
    }
    Ok(())
}

fn make_table(rows: u64, table: &str, db: &super::DbArgs) -> anyhow::Result<()> {
    let store = db.open()?;
    let started = Instant::now();
    create_people_table(store.conn(), table, rows)?;
    println!(
        "Table '{table}': {} rows in {:.1} s",
        thousands(rows),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn duckdb_copy(db: &Path, out: &Path, gzip: bool, partition_by: Option<&str>) -> anyhow::Result<()> {
    let conn = duckdb::Connection::open(db)?;
    let started = Instant::now();
    let written = match partition_by {
        Some(column) => sluice::bench::duckdb_copy_people_partitioned(&conn, out, column)?,
        None => sluice::bench::duckdb_copy_people(&conn, out, gzip)?,
    };
    // DuckDB's COPY compresses gzip on the thread that writes, at zlib's default level.
    let gzip_settings = gzip.then_some(("1 (the writing thread)", 6));
    print_measurement(
        &conn,
        started.elapsed().as_millis() as u64,
        written as i64,
        gzip_settings,
    )?;
    Ok(())
}

/// The line a benchmark child prints last, for [`run_child`] to read.
fn print_measurement(
    conn: &duckdb::Connection,
    elapsed_ms: u64,
    rows: i64,
    gzip: Option<(&str, u32)>,
) -> anyhow::Result<()> {
    let (threads, memory_limit) = sluice::store::duckdb_settings(conn)?;
    let mut settings = serde_json::json!({ "duckdb_threads": threads, "duckdb_memory_limit": memory_limit });
    if let Some((gzip_threads, gzip_level)) = gzip {
        settings["gzip_threads"] = serde_json::json!(gzip_threads);
        settings["gzip_level"] = serde_json::json!(gzip_level);
    }
    println!(
        "{}",
        serde_json::json!({
            "elapsed_ms": elapsed_ms,
            "rows": rows,
            "peak_rss_bytes": sluice::memory::peak_rss_bytes(),
            "settings": settings,
        })
    );
    Ok(())
}
