//! `sluice bench shapes`: the targets of shaped exports, each side in a child process of its own.
//! Excel and partitioned Parquet of N rows against N/5 rows (flat memory: the large peak RSS at
//! most 1.25 times the small one's), partitioned Parquet against DuckDB's own
//! `COPY ... (FORMAT parquet, PARTITION_BY ...)` on the same table (at most 1.2 times its time),
//! and CSV with every shaping option on against plain CSV (at most 10% more time).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::bail;
use sluice::bench::create_people_table;

use super::bench_child::{Measured, best_of, run_child};
use crate::format::{mebibytes, thousands};

/// The column the Parquet runs partition by: 8 countries.
const PARTITION_COLUMN: &str = "country";

pub fn bench_shapes(rows: u64, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (_temp, dir) = super::bench_child::bench_dir(dir)?;
    let db = dir.join("bench-shapes.duckdb");
    let _ = std::fs::remove_file(&db);
    let small_rows = (rows / 5).max(1);
    eprintln!(
        "Building tables of {} and {} rows...",
        thousands(rows),
        thousands(small_rows)
    );
    {
        let conn = duckdb::Connection::open(&db)?;
        create_people_table(&conn, "people", rows)?;
        create_people_table(&conn, "people_small", small_rows)?;
    }
    let exe = std::env::current_exe()?;
    let export = |what: &str, table: &str, out: &Path, args: &[&str]| -> anyhow::Result<Measured> {
        best_of(2, what, || {
            remove_output(out);
            let mut command = Command::new(&exe);
            command
                .args(["export", "--table", table, "--json", "--out"])
                .arg(out)
                .arg("--db")
                .arg(&db)
                .args(args);
            run_child(&mut command, "rows_written")
        })
    };
    let xlsx_args = ["--format", "xlsx"];
    let xlsx_small = export(
        "Excel, small table",
        "people_small",
        &dir.join("small.xlsx"),
        &xlsx_args,
    )?;
    let xlsx_large = export("Excel, large table", "people", &dir.join("large.xlsx"), &xlsx_args)?;
    let parquet_args = ["--format", "parquet", "--partition-by", PARTITION_COLUMN];
    let parquet_small = export(
        "Partitioned Parquet, small table",
        "people_small",
        &dir.join("small-lake"),
        &parquet_args,
    )?;
    let parquet_large = export(
        "Partitioned Parquet, large table",
        "people",
        &dir.join("large-lake"),
        &parquet_args,
    )?;
    let duckdb_lake = dir.join("duckdb-lake");
    let duckdb_parquet = best_of(2, "Partitioned Parquet with DuckDB's COPY", || {
        remove_output(&duckdb_lake);
        let mut command = Command::new(&exe);
        command
            .args(["bench", "duckdb-copy"])
            .arg(&db)
            .arg(&duckdb_lake)
            .args(["--partition-by", PARTITION_COLUMN]);
        run_child(&mut command, "rows")
    })?;
    let plain_csv = export("Plain CSV", "people", &dir.join("plain.csv"), &[])?;
    let shaped_args = [
        "--encoding",
        "utf-8-bom",
        "--line-ending",
        "crlf",
        "--quote",
        "all",
        "--null-string",
        "NULL",
        "--date-format",
        "%d/%m/%Y",
        "--timestamp-format",
        "%d/%m/%Y %H:%M",
        "--decimal-comma",
        "--delimiter",
        ";",
    ];
    let shaped_csv = export("Shaped CSV", "people", &dir.join("shaped.csv"), &shaped_args)?;
    for (name, measured, expected) in [
        ("Excel", &xlsx_large, rows),
        ("Parquet", &parquet_large, rows),
        ("DuckDB's Parquet", &duckdb_parquet, rows),
        ("plain CSV", &plain_csv, rows),
        ("shaped CSV", &shaped_csv, rows),
    ] {
        if measured.rows != expected {
            bail!("{name} wrote {} rows of {}", measured.rows, expected);
        }
    }
    let line = |name: &str, measured: &Measured| {
        println!(
            "{name:<36} {:>7.2} s  peak RSS {:>10}",
            measured.elapsed_ms as f64 / 1000.0,
            mebibytes(measured.peak_rss_bytes)
        );
    };
    line(&format!("xlsx, {} rows", thousands(small_rows)), &xlsx_small);
    line(&format!("xlsx, {} rows", thousands(rows)), &xlsx_large);
    line(
        &format!("partitioned Parquet, {} rows", thousands(small_rows)),
        &parquet_small,
    );
    line(
        &format!("partitioned Parquet, {} rows", thousands(rows)),
        &parquet_large,
    );
    line(
        &format!("DuckDB COPY partitioned, {} rows", thousands(rows)),
        &duckdb_parquet,
    );
    line(&format!("plain CSV, {} rows", thousands(rows)), &plain_csv);
    line(&format!("shaped CSV, {} rows", thousands(rows)), &shaped_csv);
    let ratio = |a: u64, b: u64| a as f64 / (b as f64).max(1.0);
    println!(
        "peak RSS large / small: xlsx {:.2}x, partitioned Parquet {:.2}x (target <= 1.25)",
        ratio(xlsx_large.peak_rss_bytes, xlsx_small.peak_rss_bytes),
        ratio(parquet_large.peak_rss_bytes, parquet_small.peak_rss_bytes)
    );
    println!(
        "time: partitioned Parquet / DuckDB's COPY {:.2}x (target <= 1.2); shaped / plain CSV {:.2}x (target <= 1.1)",
        ratio(parquet_large.elapsed_ms, duckdb_parquet.elapsed_ms),
        ratio(shaped_csv.elapsed_ms, plain_csv.elapsed_ms)
    );
    Ok(())
}

fn remove_output(path: &Path) {
    if path.is_dir() {
        let _ = std::fs::remove_dir_all(path);
    } else {
        let _ = std::fs::remove_file(path);
    }
}
