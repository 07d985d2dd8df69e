//! Several files into one table in one job: a folder of faulty files whose columns come in
//! different orders, one of them lacking a column, with a unique rule across the files and the
//! source column; new columns refused unless asked for; a retry of a later file's row.

use std::path::{Path, PathBuf};

use sluice::engine::run_retry;
use sluice::import::{ColumnSpec, ColumnType, ImportMode, ImportRequest, RetryRequest, RowEdit, SchemaFile};
use sluice::progress::{CancelToken, NoProgress};

use crate::support::{NULL_SHOWN, TestDb};

const FILES: usize = 20;

/// A good row as it must land: id, name, amount, file.
type GoodRow = (i64, Option<String>, Option<f64>, String);

#[derive(Default)]
struct Expected {
    good: Vec<GoodRow>,
    /// (file, line, problem kind), in file order.
    failed: Vec<(String, i64, String)>,
    skipped: u64,
    /// Data records per file.
    records: Vec<u64>,
    /// Where the value every later duplicate repeats first appeared: (file, line).
    first_of_duplicates: (String, i64),
}

/// Writes `FILES` files to `folder` with faults on a cycle: a bad number, rows too short and
/// too long, a quoted newline, an id repeated from the first file, a blank line, an empty
/// value, negative and long numbers. Every third file orders its columns differently; file 5
/// has no `name` column. Returns what the import must make of them.
fn write_faulty_files(folder: &Path) -> Expected {
    let mut expected = Expected::default();
    let mut next_id = 1i64;
    let mut duplicated: Option<i64> = None;
    for file_no in 0..FILES {
        let columns: &[&str] = match file_no {
            5 => &["id", "amount"],
            _ if file_no % 3 == 1 => &["amount", "id", "name"],
            _ => &["id", "name", "amount"],
        };
        let path = folder.join(format!("part_{file_no:02}.csv"));
        let label = path.display().to_string();
        let mut text = format!("{}\n", columns.join(","));
        let mut line = 2i64;
        let rows = 40 + file_no as u64 * 3;
        for row in 0..rows {
            let id = next_id;
            next_id += 1;
            let amount = (row as f64 * 1234.5 - 20_000.0) * if row % 2 == 0 { 1.0 } else { -1.0 };
            let mut name = format!("n{file_no}_{row}");
            let mut amount_text = amount.to_string();
            let mut id_text = id.to_string();
            let mut fields_change = 0i32;
            let mut outcome: Option<&str> = None;
            match row % 11 {
                0 => {
                    id_text = format!("x{id}");
                    outcome = Some("invalid_value");
                }
                1 => {
                    fields_change = -1;
                    outcome = Some("too_few_fields");
                }
                2 => {
                    fields_change = 1;
                    outcome = Some("too_many_fields");
                }
                3 => name = format!("multi\nline {row}"),
                4 => {
                    if let Some(first) = duplicated {
                        id_text = first.to_string();
                        outcome = Some("unique");
                    }
                }
                5 => {
                    text.push('\n');
                    line += 1;
                    expected.skipped += 1;
                }
                6 => amount_text.clear(),
                _ => {}
            }
            let mut fields: Vec<String> = columns
                .iter()
                .map(|column| match *column {
                    "id" => id_text.clone(),
                    "name" if name.contains('\n') => format!("\"{name}\""),
                    "name" => name.clone(),
                    _ => amount_text.clone(),
                })
                .collect();
            match fields_change {
                -1 => {
                    fields.pop();
                }
                1 => fields.push("extra".into()),
                _ => {}
            }
            text.push_str(&fields.join(","));
            text.push('\n');
            match outcome {
                Some(kind) => expected.failed.push((label.clone(), line, kind.to_string())),
                None => {
                    if duplicated.is_none() && row % 11 == 3 {
                        duplicated = Some(id);
                        expected.first_of_duplicates = (label.clone(), line);
                    }
                    expected.good.push((
                        id,
                        columns.contains(&"name").then(|| name.clone()),
                        (!amount_text.is_empty()).then_some(amount),
                        label.clone(),
                    ));
                }
            }
            line += 1 + name.matches('\n').count() as i64 * i64::from(columns.contains(&"name"));
        }
        expected.records.push(rows);
        std::fs::write(&path, text).unwrap();
    }
    // Not a table file: a folder's import leaves it out.
    std::fs::write(folder.join("README.md"), "extracts").unwrap();
    expected
}

fn unique_schema() -> SchemaFile {
    let mut id = ColumnSpec::new("id", ColumnType::BigInt);
    id.unique = true;
    SchemaFile {
        columns: vec![
            id,
            ColumnSpec::new("name", ColumnType::Varchar),
            ColumnSpec::new("amount", ColumnType::Double),
        ],
    }
}

fn good_rows(db: &TestDb, table: &str) -> Vec<GoodRow> {
    let sql = format!("SELECT id, name, amount, source_file FROM {table} ORDER BY id");
    let mut statement = db.store.conn().prepare(&sql).unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_folder_of_faulty_files_in_any_column_order_is_accounted_for_per_file_and_line() {
    let db = TestDb::new();
    let folder = db.dir.path().join("extracts");
    std::fs::create_dir(&folder).unwrap();
    let expected = write_faulty_files(&folder);
    let mut request = ImportRequest::new(&folder, "sales");
    request.schema = Some(unique_schema());
    request.source_column = Some("source_file".into());
    request.batch_rows = 64;
    let summary = db.import_request(&request);

    let records: u64 = expected.records.iter().sum();
    assert_eq!(summary.files, FILES as u64);
    assert_eq!(summary.rows_read, records);
    assert_eq!(summary.rows_imported, expected.good.len() as u64);
    assert_eq!(summary.rows_failed, expected.failed.len() as u64);
    assert_eq!(summary.rows_skipped, expected.skipped);
    assert_eq!(summary.rows_imported + summary.rows_failed, summary.rows_read);

    let mut good = expected.good.clone();
    good.sort_by_key(|row| row.0);
    let landed = good_rows(&db, "sales");
    assert_eq!(landed.len(), good.len());
    for (got, want) in landed.iter().zip(&good) {
        assert_eq!(got, want);
    }

    let failed = db.failed_rows(summary.job_id);
    let got: Vec<(String, i64, String)> = failed
        .iter()
        .map(|row| {
            let kinds: Vec<&str> = row.problems.iter().map(|problem| problem.kind.as_str()).collect();
            (row.file.clone().unwrap_or_default(), row.line, kinds.join("+"))
        })
        .collect();
    assert_eq!(got.len(), expected.failed.len());
    for (got, want) in got.iter().zip(&expected.failed) {
        assert_eq!(got, want);
    }

    // A value first seen in another file is said to be there, with its line.
    let (first_file, first_line) = &expected.first_of_duplicates;
    let later = failed
        .iter()
        .find(|row| row.problems[0].kind == "unique" && row.file.as_ref() != Some(first_file))
        .expect("a duplicate in a later file");
    assert!(
        later.problems[0]
            .message
            .contains(&format!("already appears on line {first_line} of {first_file}")),
        "{}",
        later.problems[0].message
    );

    // Per file: its rows in the table plus its failed rows are its records.
    for file_no in 0..FILES {
        let label = folder.join(format!("part_{file_no:02}.csv")).display().to_string();
        let landed = good.iter().filter(|row| row.3 == label).count() as u64;
        let rejected = failed.iter().filter(|row| row.file.as_deref() == Some(&label)).count() as u64;
        assert_eq!(landed + rejected, expected.records[file_no], "{label}");
    }
    // The file without a name column gave NULL names, never another column's values.
    let nameless = folder.join("part_05.csv").display().to_string();
    let names: i64 = db.count(&format!(
        "SELECT count(name) FROM sales WHERE source_file = '{nameless}'"
    ));
    assert_eq!(names, 0);
}

#[test]
fn new_columns_in_a_later_file_are_refused_unless_asked_for_and_types_widen_to_hold_every_file() {
    let db = TestDb::new();
    let first = db.file("a.csv", b"id,score\n1,10\n2,-7\n");
    let second = db.file("b.csv", b"score,id,city\n2.5,3,Oslo\n-1000000.25,4,\n");
    let request = ImportRequest::of_files(vec![first.clone(), second.clone()], "scores");
    let error = sluice::engine::run_import(&db.store, &request, &mut NoProgress, &CancelToken::new()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("b.csv") && message.contains("city") && message.contains("--add-columns"),
        "{message}"
    );
    assert!(
        sluice::store::table_exists(db.store.conn(), "scores")
            .unwrap()
            .is_none()
    );

    let mut request = request.clone();
    request.add_columns = true;
    let summary = db.import_request(&request);
    assert_eq!((summary.rows_imported, summary.rows_failed), (4, 0));
    let rows = db.rows_as_text("scores");
    assert_eq!(
        rows,
        [
            ["1", "10.0", NULL_SHOWN],
            ["2", "-7.0", NULL_SHOWN],
            ["3", "2.5", "Oslo"],
            ["4", "-1000000.25", NULL_SHOWN],
        ]
    );

    // Appending a third file with the source column adds that column to the table.
    let third = db.file("c.csv", b"city,id\nRome,5\n");
    let mut append = ImportRequest::of_files(vec![third.clone()], "scores");
    append.mode = ImportMode::Append;
    append.source_column = Some("from_file".into());
    let summary = db.import_request(&append);
    assert_eq!(summary.rows_imported, 1);
    let from: Vec<Vec<String>> = db
        .rows_as_text("scores")
        .into_iter()
        .map(|row| row[2..].to_vec())
        .collect();
    assert_eq!(from.last().unwrap(), &["Rome".to_string(), third.display().to_string()]);
    assert_eq!(from[0], [NULL_SHOWN, NULL_SHOWN], "rows already there keep NULL");
}

#[test]
fn a_fixed_row_of_a_later_file_with_its_own_column_order_retries_into_the_right_columns() {
    let db = TestDb::new();
    let first = db.file("one.csv", b"id,name,amount\n1,Ann,1.5\n");
    let second = db.file("two.csv", b"amount,name,id\n-2.25,Bob,x2\n");
    let mut request = ImportRequest::of_files(vec![first, second.clone()], "people");
    request.schema = Some(unique_schema());
    request.source_column = Some("source_file".into());
    let summary = db.import_request(&request);
    assert_eq!((summary.rows_imported, summary.rows_failed), (1, 1));
    let failed = db.failed_rows(summary.job_id);
    assert_eq!(failed[0].file.as_deref(), Some(second.display().to_string().as_str()));
    assert_eq!(failed[0].record_no, 2, "record numbers run across the files");

    let retry = RetryRequest {
        import_job_id: summary.job_id,
        rows: vec![RowEdit {
            record_no: failed[0].record_no,
            fields: Some(vec!["-2.25".into(), "Bob".into(), "2".into()]),
        }],
    };
    let retried = run_retry(&db.store, &retry, &mut NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(retried.rows_imported, 1);
    assert_eq!(
        db.rows_as_text("people").last().unwrap(),
        &["2", "Bob", "-2.25", &second.display().to_string()]
    );
}

#[test]
fn the_command_line_takes_a_folder_and_a_pattern_and_says_what_it_left_out() {
    let db = TestDb::new();
    let folder = db.dir.path().join("extracts");
    std::fs::create_dir(&folder).unwrap();
    let expected = write_faulty_files(&folder);
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(args)
            .arg("--db")
            .arg(db.dir.path().join("cli.duckdb"))
            .output()
            .unwrap()
    };
    let folder_arg = folder.display().to_string();
    let output = run(&[
        "import",
        &folder_arg,
        "--table",
        "all_parts",
        "--json",
        "--source-column",
        "source_file",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("README.md"), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["files"], FILES);
    assert_eq!(summary["rows_read"], expected.records.iter().sum::<u64>());
    let read = summary["rows_read"].as_u64().unwrap();
    let accounted = summary["rows_imported"].as_u64().unwrap() + summary["rows_failed"].as_u64().unwrap();
    assert_eq!(accounted, read);

    let pattern: PathBuf = folder.join("part_1*.csv");
    let output = run(&["import", pattern.to_str().unwrap(), "--table", "tens", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["files"], 10, "part_10 to part_19");
}

/// A schema made from the first file, as the window makes one: its columns by the first file's
/// headers.
fn schema_of(columns: &[(&str, ColumnType)]) -> SchemaFile {
    SchemaFile {
        columns: columns
            .iter()
            .map(|(name, column_type)| {
                let mut spec = ColumnSpec::new(*name, *column_type);
                spec.source = Some(name.to_string());
                spec
            })
            .collect(),
    }
}

#[test]
fn with_a_schema_later_files_columns_go_where_the_table_has_them_and_retries_keep_them() {
    let db = TestDb::new();
    // A table that already has a city column the first file lacks.
    let seed = db.file("seed.csv", b"id,name,city\n1,Ann,Oslo\n");
    db.import(&seed, "people");
    let first = db.file("p1.csv", b"id,name\n2,Bob\n");
    let second = db.file("p2.csv", b"city,id,name,zip\nRome,x3,Cy,00100\nLima,4,Di,15001\n");
    let mut request = ImportRequest::of_files(vec![first.clone(), second.clone()], "people");
    request.mode = ImportMode::Append;
    request.schema = Some(schema_of(&[("id", ColumnType::BigInt), ("name", ColumnType::Varchar)]));
    let refused = sluice::engine::run_import(&db.store, &request, &mut NoProgress, &CancelToken::new()).unwrap_err();
    assert!(refused.to_string().contains("zip"), "only zip is new: {refused}");
    assert!(!refused.to_string().contains("city"), "{refused}");

    request.add_columns = true;
    let summary = db.import_request(&request);
    assert_eq!((summary.rows_imported, summary.rows_failed), (2, 1));
    assert_eq!(
        db.rows_as_text("people"),
        [
            ["1", "Ann", "Oslo", NULL_SHOWN],
            ["2", "Bob", NULL_SHOWN, NULL_SHOWN],
            ["4", "Di", "Lima", "15001"]
        ]
    );
    // The failed row of the second file, fixed and retried alone, keeps its city and zip.
    let failed = db.failed_rows(summary.job_id);
    let retry = RetryRequest {
        import_job_id: summary.job_id,
        rows: vec![RowEdit {
            record_no: failed[0].record_no,
            fields: Some(vec!["Rome".into(), "3".into(), "Cy".into(), "00100".into()]),
        }],
    };
    run_retry(&db.store, &retry, &mut NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(db.rows_as_text("people").last().unwrap(), &["3", "Cy", "Rome", "00100"]);
}

#[test]
fn a_schema_column_no_file_has_is_refused_and_a_renamed_one_is_found_by_its_new_name() {
    let db = TestDb::new();
    let first = db.file("old.csv", b"cust,total\nAnn,1\n");
    let second = db.file("new.csv", b"customer,total\nBob,2\n");
    let mut customer = ColumnSpec::new("customer", ColumnType::Varchar);
    customer.source = Some("cust".into());
    let mut request = ImportRequest::of_files(vec![first, second], "sales");
    request.schema = Some(SchemaFile {
        columns: vec![customer, ColumnSpec::new("total", ColumnType::BigInt)],
    });
    let summary = db.import_request(&request);
    assert_eq!(summary.rows_imported, 2);
    assert_eq!(db.rows_as_text("sales"), [["Ann", "1"], ["Bob", "2"]]);

    let mut unknown = request.clone();
    unknown.table = "other".into();
    if let Some(schema) = unknown.schema.as_mut() {
        schema.columns.push(ColumnSpec::new("region", ColumnType::Varchar));
    }
    let error = sluice::engine::run_import(&db.store, &unknown, &mut NoProgress, &CancelToken::new()).unwrap_err();
    assert!(error.to_string().contains("region"), "{error}");
}

/// Later files are sniffed from a smaller sample; a header longer than that sample (here 3,000
/// columns, about 90 KB) must not make them look empty or change their dialect.
#[test]
fn a_later_file_whose_header_outgrows_the_small_sample_is_sniffed_whole() {
    let db = TestDb::new();
    let width: usize = 3000;
    let header: Vec<String> = (0..width)
        .map(|column| format!("measurement_column_{column:05}"))
        .collect();
    let file_text = |first_id: i64| {
        let mut text = header.join(";") + "\n";
        for id in first_id..first_id + 3 {
            let row: Vec<String> = (0..width as i64)
                .map(|column| format!("{}", id * 10_000 + column))
                .collect();
            text += &(row.join(";") + "\n");
        }
        text
    };
    let first = db.file("wide-1.csv", file_text(1).as_bytes());
    let second = db.file("wide-2.csv", file_text(-5).as_bytes());
    let summary = db.import_request(&ImportRequest::of_files(vec![first, second], "wide"));
    assert_eq!((summary.rows_imported, summary.rows_failed), (6, 0));
    let rows = db.rows_as_text("wide");
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0].len(), width);
    assert_eq!(rows[3][..2], ["-50000", "-49999"]);
    assert_eq!(rows[5][width - 1], "-27001");
}
