//! Upserts: the same extract again, updated on a key. Checked against the same merge written in
//! SQL over DuckDB's own reading of the files, with keys repeated within a file, empty keys,
//! changed values, NULLs, negatives and numbers of different lengths.

use sluice::engine::run_retry;
use sluice::import::{ImportMode, ImportRequest, ImportSummary, RetryRequest, RowEdit};
use sluice::progress::{CancelToken, NoProgress};

use crate::support::TestDb;

/// Generates an extract: `rows` rows with ids from `first_id`, every 7th row repeating the id
/// of the row before (a repeated key), every 13th with an empty id, amounts negative and
/// positive of different lengths, some NULL, names with quotes and commas; `version` changes
/// every value, so an update shows.
fn extract(first_id: i64, rows: i64, version: i64) -> String {
    let mut text = String::from("id,name,amount\n");
    for row in 0..rows {
        let mut id = (first_id + row).to_string();
        if row % 7 == 6 {
            id = (first_id + row - 1).to_string();
        }
        if row % 13 == 12 {
            id.clear();
        }
        let amount = match row % 5 {
            0 => String::new(),
            1 => format!("-{}", row * 1001 + version),
            _ => format!("{}.{}", row * 37 + version, row % 10),
        };
        text.push_str(&format!("{id},\"v{version} name, \"\"{row}\"\"\",{amount}\n"));
    }
    text
}

fn upsert(db: &TestDb, file: &std::path::Path) -> ImportSummary {
    let mut request = ImportRequest::new(file, "accounts");
    request.mode = ImportMode::Upsert;
    request.key = vec!["ID".into()];
    db.import_request(&request)
}

/// A file's rows as an upsert keeps them, read by DuckDB: the first row per non-empty id.
fn first_per_id(path: &std::path::Path) -> String {
    format!(
        "(SELECT * FROM (SELECT *, row_number() OVER () AS place FROM read_csv('{}', header = true, \
         columns = {{'id': 'BIGINT', 'name': 'VARCHAR', 'amount': 'DOUBLE'}})) \
         WHERE id IS NOT NULL QUALIFY row_number() OVER (PARTITION BY id ORDER BY place) = 1)",
        path.display()
    )
}

/// The table the two upserts must leave, merged in SQL from DuckDB's reading of the files: the
/// second file's rows replacing the first's with the same id.
fn merged_in_sql(db: &TestDb, first: &std::path::Path, second: &std::path::Path) -> Vec<(i64, String, Option<f64>)> {
    let read = first_per_id;
    let sql = format!(
        "SELECT id, name, amount FROM {second} \
         UNION ALL SELECT id, name, amount FROM {first} f WHERE f.id NOT IN (SELECT id FROM {second}) \
         ORDER BY id",
        first = read(first),
        second = read(second)
    );
    let mut statement = db.store.conn().prepare(&sql).unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn table(db: &TestDb) -> Vec<(i64, String, Option<f64>)> {
    let mut statement = db
        .store
        .conn()
        .prepare("SELECT id, name, amount FROM accounts ORDER BY id")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn failed_kinds(db: &TestDb, job_id: i64) -> Vec<(i64, String)> {
    db.failed_rows(job_id)
        .into_iter()
        .map(|row| (row.line, row.problems[0].kind.clone()))
        .collect()
}

#[test]
fn two_upserts_with_overlapping_keys_leave_what_the_same_merge_in_sql_leaves() {
    let db = TestDb::new();
    let first = db.file("monday.csv", extract(1, 300, 1).as_bytes());
    let second = db.file("tuesday.csv", extract(201, 300, 2).as_bytes());

    let monday = upsert(&db, &first);
    // A repeated id whose first row had its id emptied is a first occurrence itself.
    let repeated = (0..300)
        .filter(|row| row % 7 == 6 && row % 13 != 12 && (row - 1) % 13 != 12)
        .count() as u64;
    let empty = (0..300).filter(|row| row % 13 == 12).count() as u64;
    assert_eq!(monday.rows_read, 300);
    assert_eq!(monday.rows_failed, repeated + empty);
    assert_eq!(monday.rows_updated, 0, "a new table has nothing to update");
    assert_eq!(
        monday.rows_inserted + monday.rows_updated + monday.rows_failed,
        monday.rows_read
    );

    let tuesday = upsert(&db, &second);
    assert_eq!(
        tuesday.rows_inserted + tuesday.rows_updated + tuesday.rows_failed,
        tuesday.rows_read
    );
    assert_eq!(tuesday.rows_failed, repeated + empty);
    // Ids 201..=300 were in Monday's file; those Monday kept are updated.
    let kept_monday: i64 = db.count("SELECT count(*) FROM accounts WHERE id BETWEEN 201 AND 300");
    assert!(kept_monday > 50);
    assert_eq!(table(&db), merged_in_sql(&db, &first, &second));
    let updated = db.count(&format!(
        "SELECT count(*) FROM {} s WHERE s.id IN (SELECT id FROM {})",
        first_per_id(&second),
        first_per_id(&first)
    ));
    assert!(updated > 50);
    assert_eq!(tuesday.rows_updated, updated as u64);

    let failed = failed_kinds(&db, tuesday.job_id);
    assert_eq!(
        failed.iter().filter(|(_, kind)| kind == "unique").count() as u64,
        repeated
    );
    assert_eq!(
        failed.iter().filter(|(_, kind)| kind == "required").count() as u64,
        empty
    );
    // Line 8 is row 6: it repeats row 5's id, on line 7.
    let message = &db.failed_rows(tuesday.job_id)[0].problems[0].message;
    assert!(message.contains("repeats line 7"), "{message}");

    // The job's record keeps the updated count.
    let record = db.store.job(tuesday.job_id).unwrap().unwrap();
    assert_eq!(record.rows_updated as u64, tuesday.rows_updated);
}

#[test]
fn a_key_of_two_columns_matches_on_both_and_a_key_the_table_lacks_is_refused_before_writing() {
    let db = TestDb::new();
    let first = db.file("a.csv", b"region,id,total\nEU,1,10\nUS,1,20\nEU,2,-5\n");
    let mut request = ImportRequest::new(&first, "totals");
    request.mode = ImportMode::Upsert;
    request.key = vec!["region".into(), "id".into()];
    let summary = db.import_request(&request);
    assert_eq!(
        (summary.rows_inserted, summary.rows_updated, summary.rows_failed),
        (3, 0, 0)
    );

    let second = db.file("b.csv", b"id,region,total\n1,US,21\n3,EU,7\n1,US,99\n");
    let mut again = request.clone();
    again.paths = vec![second];
    let summary = db.import_request(&again);
    assert_eq!(
        (summary.rows_inserted, summary.rows_updated, summary.rows_failed),
        (1, 1, 1)
    );
    assert_eq!(
        db.rows_as_text("totals"),
        [
            ["EU", "1", "10"],
            ["US", "1", "21"],
            ["EU", "2", "-5"],
            ["EU", "3", "7"]
        ]
    );

    let mut wrong = again.clone();
    wrong.key = vec!["customer".into()];
    let error = sluice::engine::run_import(&db.store, &wrong, &mut NoProgress, &CancelToken::new()).unwrap_err();
    assert!(
        error.to_string().contains("'customer' is not in table 'totals'"),
        "{error}"
    );
    assert_eq!(db.count("SELECT count(*) FROM totals"), 4, "nothing was written");
}

#[test]
fn a_fixed_empty_key_retries_as_an_update_of_the_stored_row() {
    let db = TestDb::new();
    let first = db.file("a.csv", b"id,name\n1,Ann\n2,Bob\n");
    let summary = upsert_file(&db, &first);
    assert_eq!(summary.rows_inserted, 2);
    let second = db.file("b.csv", b"id,name\n,Bobby\n3,Cy\n");
    let summary = upsert_file(&db, &second);
    assert_eq!((summary.rows_inserted, summary.rows_failed), (1, 1));
    let retry = RetryRequest {
        import_job_id: summary.job_id,
        rows: vec![RowEdit {
            record_no: 1,
            fields: Some(vec!["2".into(), "Bobby".into()]),
        }],
    };
    let retried = run_retry(&db.store, &retry, &mut NoProgress, &CancelToken::new()).unwrap();
    assert_eq!(retried.rows_imported, 1);
    assert_eq!(db.rows_as_text("accounts"), [["1", "Ann"], ["2", "Bobby"], ["3", "Cy"]]);
    let record = db.store.job(summary.job_id).unwrap().unwrap();
    assert_eq!(
        (record.rows_imported, record.rows_updated, record.rows_failed),
        (2, 1, 0)
    );
}

fn upsert_file(db: &TestDb, file: &std::path::Path) -> ImportSummary {
    upsert(db, file)
}

#[test]
fn the_command_line_reports_rows_inserted_and_updated() {
    let db = TestDb::new();
    let first = db.file("a.csv", b"id,name\n1,Ann\n2,Bob\n");
    let second = db.file("b.csv", b"id,name\n2,Bobby\n3,Cy\n3,Again\n");
    let run = |file: &std::path::Path| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("import")
            .arg(file)
            .args(["--table", "people", "--mode", "upsert", "--key", "id", "--json", "--db"])
            .arg(db.dir.path().join("cli.duckdb"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8(output.stdout).unwrap();
        serde_json::from_str::<serde_json::Value>(stdout.lines().last().unwrap()).unwrap()
    };
    let summary = run(&first);
    assert_eq!(
        (summary["rows_inserted"].as_u64(), summary["rows_updated"].as_u64()),
        (Some(2), Some(0))
    );
    let summary = run(&second);
    assert_eq!(
        (
            summary["rows_inserted"].as_u64(),
            summary["rows_updated"].as_u64(),
            summary["rows_failed"].as_u64(),
            summary["rows_read"].as_u64()
        ),
        (Some(1), Some(1), Some(1), Some(3))
    );
}
