//! `sluice bench files`: the same rows as one file and as many smaller files in a folder, each
//! imported by Sluice with the same schema in a child process of its own, best of three, so
//! their times and peak memory can be set side by side (the target: many files take at most 1.1
//! times as long as one, in the same flat memory).

use std::path::PathBuf;

use anyhow::bail;
use sluice::bench::{people_schema, write_people_csv};

use super::bench_child::{Measured, import_in_child};
use crate::format::{mebibytes, megabytes, thousands};

/// Runs of each side; the fastest counts.
const RUNS: u32 = 3;

/// The faster run, with the lower of the two peaks (a peak only comes out higher by chance).
fn best(kept: Option<Measured>, run: Measured) -> Measured {
    match kept {
        None => run,
        Some(kept) => Measured {
            elapsed_ms: kept.elapsed_ms.min(run.elapsed_ms),
            peak_rss_bytes: kept.peak_rss_bytes.min(run.peak_rss_bytes),
            ..run
        },
    }
}

pub fn bench_files(rows: u64, files: u64, dir: Option<PathBuf>) -> anyhow::Result<()> {
    if files == 0 || rows < files {
        bail!("--files must be at least 1 and at most --rows");
    }
    let (_temp, dir) = super::bench_child::bench_dir(dir)?;
    let folder = dir.join("bench-parts");
    std::fs::create_dir_all(&folder)?;
    let one_file = dir.join("bench-one.csv");
    let schema_path = dir.join("bench-people.schema.json");
    std::fs::write(&schema_path, people_schema().to_json_pretty())?;
    eprintln!(
        "Generating {} rows as one file and as {files} files...",
        thousands(rows)
    );
    let one = write_people_csv(&one_file, rows)?;
    let mut parts_bytes = 0;
    let mut parts_rows = 0;
    let mut parts_faulty = 0;
    for part in 0..files {
        let part_rows = rows / files + u64::from(part < rows % files);
        let generated = write_people_csv(&folder.join(format!("part_{part:04}.csv")), part_rows)?;
        parts_bytes += generated.bytes;
        parts_rows += generated.rows;
        parts_faulty += generated.faulty_rows;
    }
    let db = dir.join("bench-files.duckdb");
    let schema_args = ["--schema".as_ref(), schema_path.as_os_str()];
    let import = |what: &str, source: &PathBuf| import_in_child(what, source, &db, &schema_args);
    // Best of three, one file and the folder in turn, so that a slow moment of the machine does
    // not land on one side only.
    let mut single: Option<Measured> = None;
    let mut many: Option<Measured> = None;
    for run in 1..=RUNS {
        let one = import(&format!("Importing the one file ({run} of {RUNS})"), &one_file)?;
        let folder = import(
            &format!("Importing the folder of {files} files ({run} of {RUNS})"),
            &folder,
        )?;
        single = Some(best(single, one));
        many = Some(best(many, folder));
    }
    let (Some(single), Some(many)) = (single, many) else {
        bail!("no run was measured");
    };
    if single.rows != one.rows - one.faulty_rows || many.rows != parts_rows - parts_faulty {
        bail!(
            "rows imported do not match the files: {} of {} and {} of {}",
            single.rows,
            one.rows - one.faulty_rows,
            many.rows,
            parts_rows - parts_faulty
        );
    }
    let line = |name: &str, measured: &Measured, bytes: u64| {
        let seconds = (measured.elapsed_ms as f64 / 1000.0).max(1e-9);
        println!(
            "{name:<24} {seconds:>7.2} s  {:>12} rows/s  {:>9}  peak RSS {:>10}  ({} rows imported)",
            thousands((rows as f64 / seconds) as u64),
            megabytes(bytes),
            mebibytes(measured.peak_rss_bytes),
            thousands(measured.rows)
        );
    };
    line("one file", &single, one.bytes);
    line(&format!("{files} files"), &many, parts_bytes);
    println!(
        "ratio {files} files / one file: time {:.2}x, peak RSS {:.2}x",
        many.elapsed_ms as f64 / (single.elapsed_ms as f64).max(1.0),
        many.peak_rss_bytes as f64 / (single.peak_rss_bytes as f64).max(1.0)
    );
    Ok(())
}
