//! Small files that expand to more than any table should hold, and lines, widths and nesting past
//! what a reader can sensibly hold: each is imported in bounded memory or refused in a sentence,
//! and nothing crashes. The sizes and peak memory of the full-size bombs are in docs/troubleshooting.md
//! ("Bombs and limits"); these are the same shapes, small enough for every test run.

use std::io::Write;

use sluice::engine::run_import;
use sluice::import::ImportRequest;
use sluice::progress::{CancelToken, NoProgress};

use crate::support::TestDb;

fn refusal(db: &TestDb, path: &std::path::Path) -> String {
    let failure = run_import(
        &db.store,
        &ImportRequest::new(path, "t"),
        &mut NoProgress,
        &CancelToken::new(),
    )
    .expect_err("refused");
    failure.error.to_string()
}

#[test]
fn a_header_line_of_a_hundred_megabytes_is_refused_in_a_sentence() {
    let db = TestDb::new();
    let path = db.dir.path().join("header.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for index in 0..8_000_000u32 {
        write!(file, "col_{index:07},").unwrap();
    }
    file.write_all(b"last\n1,2\n").unwrap();
    file.flush().unwrap();
    let message = refusal(&db, &path);
    assert!(
        message.contains("line 1 runs past 32.0 MiB without ending"),
        "{message}"
    );
}

/// Before, a first line longer than the 1 MiB sample left no record in it, and the file was
/// called empty.
#[test]
fn a_header_longer_than_the_sample_is_read() {
    let db = TestDb::new();
    let names: Vec<String> = (0..2_000)
        .map(|index| format!("{}_{index}", "long name ".repeat(60)))
        .collect();
    let mut text = names.join(",");
    text.push('\n');
    text.push_str(&vec!["7"; names.len()].join(","));
    text.push('\n');
    assert!(text.len() > 1024 * 1024);
    let path = db.file("wide.csv", text.as_bytes());
    let summary = db.import(&path, "wide");
    assert_eq!((summary.rows_imported, summary.rows_failed), (1, 0));
    assert_eq!(db.columns("wide").len(), 2_000);
}

#[test]
fn more_columns_than_a_table_may_have_are_refused_in_a_sentence() {
    let db = TestDb::new();
    let columns = sluice::import::MAX_COLUMNS + 1;
    let mut text: String = (0..columns).map(|index| format!("c{index},")).collect();
    text.pop();
    text.push('\n');
    text.push_str(&vec!["1"; columns].join(","));
    text.push('\n');
    let path = db.file("matrix.csv", text.as_bytes());
    let message = refusal(&db, &path);
    assert!(
        message.contains("it has 50,001 columns, more than the 50,000"),
        "{message}"
    );
}

#[test]
fn a_json_line_nested_a_hundred_thousand_deep_fails_as_one_row() {
    let db = TestDb::new();
    let mut text = String::from("{\"id\": 1, \"v\": 2}\n{\"id\": 2, \"v\": ");
    text.push_str(&"[".repeat(100_000));
    text.push_str(&"]".repeat(100_000));
    text.push_str("}\n{\"id\": 3, \"v\": 4}\n");
    let path = db.file("deep.ndjson", text.as_bytes());
    let summary = db.import(&path, "deep");
    assert_eq!((summary.rows_imported, summary.rows_failed), (2, 1));
    let failed = db.failed_rows(summary.job_id);
    assert_eq!(failed[0].line, 2);
    assert!(
        failed[0].problems[0].message.contains("recursion limit"),
        "{:?}",
        failed[0].problems
    );
}

/// A kilobyte that asks for sixteen thousand million cells: calamine's cell limit refuses it,
/// and Sluice says so for that file.
#[test]
fn an_ods_of_repeated_rows_past_the_cell_limit_is_refused_in_a_sentence() {
    let db = TestDb::new();
    // A row of 16,000 cells repeated a million times (made by hand: no program writes these).
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bombs/repeated_rows.ods");
    assert!(std::fs::metadata(&path).unwrap().len() < 2048);
    let message = refusal(&db, &path);
    assert!(message.contains("Cell limit exceeded"), "{message}");
    assert!(message.contains("repeated_rows.ods"), "{message}");
}

/// A zip of a few hundred kilobytes that unpacks to 64 MiB is streamed, not unpacked whole:
/// every record lands.
#[test]
fn a_small_zip_that_expands_many_times_over_is_imported_record_for_record() {
    let db = TestDb::new();
    let path = db.dir.path().join("expands.zip");
    let mut archive = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    archive
        .start_file(
            "rows.csv",
            zip::write::SimpleFileOptions::default().compression_level(Some(9)),
        )
        .unwrap();
    archive.write_all(b"id,value\n").unwrap();
    let block = "1,2\n".repeat(1 << 20);
    for _ in 0..16 {
        archive.write_all(block.as_bytes()).unwrap();
    }
    archive.finish().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 1024 * 1024);
    let summary = db.import(&path, "expanded");
    assert_eq!((summary.rows_imported, summary.rows_failed), (16 << 20, 0));
}

/// calamine's own files of allocations a damaged `.xls` asks for: one imports what it holds,
/// the other is that file's clear error.
#[test]
fn damaged_xls_files_that_ask_for_huge_allocations_import_or_fail_alone() {
    let db = TestDb::new();
    let bombs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bombs");
    let summary = db.import(&bombs.join("OOM_alloc.xls"), "first");
    assert_eq!(summary.rows_imported + summary.rows_failed, summary.rows_read);
    assert!(summary.rows_imported > 0);
    let message = refusal(&db, &bombs.join("OOM_alloc3.xls"));
    assert!(
        message.contains("OOM_alloc3.xls") && message.contains("Xls error"),
        "{message}"
    );
}
