//! `sluice bench xlsx`: a sheet of N rows and one of a fifth of that, each imported by Sluice in
//! a child process of its own, beside the same N rows as CSV: the target is flat memory (the
//! large sheet's peak RSS at most 1.25 times the small one's). DuckDB's `read_xlsx` comes with
//! its excel extension, which this build does not bundle, so the CSV stands in for it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use super::bench_child::{Measured, import_in_child};
use crate::format::{mebibytes, megabytes, thousands};

pub fn bench_xlsx(rows: u64, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (_temp, dir) = super::bench_child::bench_dir(dir)?;
    let small_rows = (rows / 5).max(1);
    let small = dir.join("bench-small.xlsx");
    let large = dir.join("bench-large.xlsx");
    let csv = dir.join("bench-large.csv");
    eprintln!(
        "Writing sheets of {} and {} rows...",
        thousands(small_rows),
        thousands(rows)
    );
    write_sheet(&small, small_rows)?;
    write_sheet(&large, rows)?;
    write_csv(&csv, rows)?;
    let db = dir.join("bench-xlsx.duckdb");
    let import = |what: &str, source: &Path| import_in_child(what, source, &db, &[]);
    let small_run = import("Importing the small sheet", &small)?;
    let large_run = import("Importing the large sheet", &large)?;
    let csv_run = import("Importing the same rows as CSV", &csv)?;
    let line = |name: &str, measured: &Measured, path: &Path| {
        let seconds = (measured.elapsed_ms as f64 / 1000.0).max(1e-9);
        let bytes = std::fs::metadata(path).map_or(0, |metadata| metadata.len());
        println!(
            "{name:<22} {seconds:>7.2} s  {:>12} rows/s  {:>9}  peak RSS {:>10}  ({} rows imported)",
            thousands((measured.rows as f64 / seconds) as u64),
            megabytes(bytes),
            mebibytes(measured.peak_rss_bytes),
            thousands(measured.rows)
        );
    };
    line(&format!("xlsx, {} rows", thousands(small_rows)), &small_run, &small);
    line(&format!("xlsx, {} rows", thousands(rows)), &large_run, &large);
    line(&format!("csv, {} rows", thousands(rows)), &csv_run, &csv);
    println!(
        "peak RSS large / small sheet: {:.2}x; time xlsx / csv: {:.2}x",
        large_run.peak_rss_bytes as f64 / (small_run.peak_rss_bytes as f64).max(1.0),
        large_run.elapsed_ms as f64 / (csv_run.elapsed_ms as f64).max(1.0)
    );
    Ok(())
}

/// The value of row `i` in column `column`, the same in the sheet and the CSV.
fn name(i: u64) -> String {
    format!("customer {}", i % 10_007)
}

fn amount(i: u64) -> f64 {
    (i % 100_000) as f64 * 1.25 - 50_000.0
}

fn write_sheet(path: &Path, rows: u64) -> anyhow::Result<()> {
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    for (column, header) in ["id", "name", "amount", "signed", "active"].iter().enumerate() {
        sheet.write_string(0, column as u16, *header)?;
    }
    for i in 1..=rows {
        let row = u32::try_from(i).context("a sheet holds at most 1,048,575 rows")?;
        sheet.write_number(row, 0, i as f64)?;
        sheet.write_string(row, 1, name(i))?;
        sheet.write_number(row, 2, amount(i))?;
        let signed = ExcelDateTime::from_ymd(2020 + (i % 5) as u16, 1 + (i % 12) as u8, 1 + (i % 28) as u8)?;
        sheet.write_datetime_with_format(row, 3, &signed, &date)?;
        sheet.write_boolean(row, 4, i % 2 == 0)?;
    }
    workbook.save(path)?;
    Ok(())
}

fn write_csv(path: &Path, rows: u64) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "id,name,amount,signed,active")?;
    for i in 1..=rows {
        writeln!(
            out,
            "{i},{},{},{}-{:02}-{:02},{}",
            name(i),
            amount(i),
            2020 + i % 5,
            1 + i % 12,
            1 + i % 28,
            i % 2 == 0
        )?;
    }
    out.flush()?;
    Ok(())
}
