//! End-to-end imports: accounting, failed rows, modes, rules, cancellation and hostile names.

use sluice::import::{ColumnSpec, ColumnType, ImportError, ImportMode, ImportRequest, SchemaFile, run_import};
use sluice::progress::{CancelToken, Progress};
use sluice::store::{JobStatus, get_job, list_tables};

use crate::support::TestDb;

#[test]
fn every_row_is_imported_or_kept_with_its_line_and_reason() {
    let db = TestDb::new();
    let path = db.file(
        "people.csv",
        b"id,name,age\n1,Ann,30\n2,Bob\n3,Cy,old\n\"4\",\"D, E\",40\n5,Eve,50,extra\n",
    );
    let mut request = ImportRequest::new(&path, "people");
    request.schema = Some(SchemaFile {
        columns: vec![
            ColumnSpec::new("id", ColumnType::BigInt),
            ColumnSpec::new("name", ColumnType::Varchar),
            ColumnSpec::new("age", ColumnType::Integer),
        ],
    });
    let summary = db.import_request(&request);
    assert_eq!(summary.status, JobStatus::Completed);
    assert_eq!(
        (summary.rows_read, summary.rows_imported, summary.rows_failed),
        (5, 2, 3)
    );
    assert_eq!(db.count("SELECT count(*) FROM people"), 2);
    assert_eq!(db.rows_as_text("people")[1], ["4", "D, E", "40"]);
    let failed = db.failed_lines(summary.job_id);
    assert_eq!(
        failed,
        vec![
            (3, vec!["too_few_fields".to_string()]),
            (4, vec!["invalid_value".to_string()]),
            (6, vec!["too_many_fields".to_string()]),
        ]
    );
    let job = get_job(db.store.conn(), summary.job_id).unwrap().unwrap();
    assert_eq!((job.rows_read, job.rows_imported, job.rows_failed), (5, 2, 3));
    assert_eq!(job.source_columns, ["id", "name", "age"]);
}

#[test]
fn failed_rows_keep_their_raw_text_and_every_problem() {
    let db = TestDb::new();
    // The é makes the file UTF-8 (a file with bad bytes and no UTF-8 at all reads as Windows-1252).
    let path = db.file("multi.csv", b"a,b\r\n\"x\r\ny\",1\r\nbad,\xff\r\ncaf\xc3\xa9,2\r\n");
    let mut request = ImportRequest::new(&path, "t");
    let mut b = ColumnSpec::new("b", ColumnType::BigInt);
    b.required = true;
    request.schema = Some(SchemaFile {
        columns: vec![ColumnSpec::new("a", ColumnType::Varchar), b],
    });
    let summary = db.import_request(&request);
    assert_eq!((summary.rows_imported, summary.rows_failed), (2, 1));
    let rows = sluice::store::read_failed_rows(db.store.conn(), summary.job_id, &Default::default(), 0, 10).unwrap();
    assert_eq!(rows[0].line, 4);
    assert_eq!(rows[0].raw, "bad,\u{FFFD}");
    let kinds: Vec<&str> = rows[0].problems.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(kinds, ["encoding"]);
    assert_eq!(rows[0].problems[0].column.as_deref(), Some("b"));
    assert_eq!(db.rows_as_text("t")[0], ["x\r\ny", "1"]);
}

#[test]
fn create_refuses_an_existing_table_and_append_adds_to_it() {
    let db = TestDb::new();
    let first = db.file("a.csv", b"id,name\n1,a\n2,b\n");
    db.import(&first, "t");
    let again = run_import(
        &db.store,
        &ImportRequest::new(&first, "T"),
        &mut sluice::progress::NoProgress,
        &CancelToken::new(),
    );
    let failure = again.unwrap_err();
    assert!(matches!(failure.error, ImportError::TableExists { .. }));
    assert_eq!(
        get_job(db.store.conn(), failure.job_id.unwrap())
            .unwrap()
            .unwrap()
            .status,
        JobStatus::Failed
    );

    let second = db.file("b.csv", b"name,id\nc,3\n");
    let mut request = ImportRequest::new(&second, "t");
    request.mode = ImportMode::Append;
    let summary = db.import_request(&request);
    assert_eq!(summary.rows_imported, 1);
    assert_eq!(db.count("SELECT count(*) FROM t WHERE id = 3 AND name = 'c'"), 1);

    let mut replace = ImportRequest::new(&second, "t");
    replace.mode = ImportMode::Replace;
    db.import_request(&replace);
    assert_eq!(db.count("SELECT count(*) FROM t"), 1);
}

#[test]
fn unique_values_are_checked_within_the_file_and_against_the_table() {
    let db = TestDb::new();
    let mut id = ColumnSpec::new("id", ColumnType::BigInt);
    id.unique = true;
    let schema = SchemaFile {
        columns: vec![id, ColumnSpec::new("name", ColumnType::Varchar)],
    };
    let first = db.file("a.csv", b"id,name\n1,a\n2,b\n1,dup\n");
    let mut request = ImportRequest::new(&first, "t");
    request.schema = Some(schema.clone());
    let summary = db.import_request(&request);
    assert_eq!(db.failed_lines(summary.job_id), vec![(4, vec!["unique".to_string()])]);

    let second = db.file("b.csv", b"id,name\n2,again\n3,new\n");
    let mut request = ImportRequest::new(&second, "t");
    request.mode = ImportMode::Append;
    request.schema = Some(schema);
    let summary = db.import_request(&request);
    assert_eq!((summary.rows_imported, summary.rows_failed), (1, 1));
    assert_eq!(db.count("SELECT count(*) FROM t"), 3);
}

#[test]
fn hostile_headers_and_table_names_are_plain_names() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
        .unwrap();
    let path = db.file("evil.csv", b"\"x\"\"; DROP TABLE t; --\",b\n1,2\n");
    let summary = db.import(&path, "x\"; DROP TABLE t; --");
    assert_eq!(summary.rows_imported, 1);
    assert_eq!(db.count("SELECT count(*) FROM t"), 1);
    let tables = list_tables(db.store.conn()).unwrap();
    assert_eq!(tables, ["t", "x\"; DROP TABLE t; --"]);
    let columns = sluice::store::table_columns(db.store.conn(), "x\"; DROP TABLE t; --").unwrap();
    assert_eq!(columns[0].0, "x\"; DROP TABLE t; --");

    let refused = run_import(
        &db.store,
        &ImportRequest::new(&path, "bad\nname"),
        &mut sluice::progress::NoProgress,
        &CancelToken::new(),
    );
    assert!(matches!(refused.unwrap_err().error, ImportError::TableName(_)));
    assert_eq!(db.count("SELECT count(*) FROM t"), 1);
}

fn big_file(db: &TestDb, rows: usize) -> std::path::PathBuf {
    let mut text = String::from("id,name\n");
    for i in 0..rows {
        text.push_str(&format!("{i},name {i}\n"));
    }
    db.file("big.csv", text.as_bytes())
}

#[test]
fn a_cancelled_import_leaves_a_new_table_uncreated() {
    let db = TestDb::new();
    let path = big_file(&db, 200_000);
    let cancel = CancelToken::new();
    let mut request = ImportRequest::new(&path, "t");
    request.batch_rows = 1_000;
    let trigger = cancel.clone();
    let mut cancel_after_first = |_: &Progress| trigger.cancel();
    let summary = run_import(&db.store, &request, &mut cancel_after_first, &cancel).unwrap();
    assert_eq!(summary.status, JobStatus::Cancelled);
    assert!(list_tables(db.store.conn()).unwrap().is_empty());
    assert_eq!(db.count("SELECT count(*) FROM sluice.failed_rows"), 0);
    assert_eq!(
        get_job(db.store.conn(), summary.job_id).unwrap().unwrap().status,
        JobStatus::Cancelled
    );
}

#[test]
fn a_cancelled_append_leaves_the_table_as_it_was() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch("CREATE TABLE t (id BIGINT, name VARCHAR); INSERT INTO t VALUES (-1, 'kept')")
        .unwrap();
    let path = big_file(&db, 200_000);
    let cancel = CancelToken::new();
    let mut request = ImportRequest::new(&path, "t");
    request.mode = ImportMode::Append;
    request.batch_rows = 1_000;
    let trigger = cancel.clone();
    let mut batches = 0;
    let mut cancel_after_three = |_: &Progress| {
        batches += 1;
        if batches == 3 {
            trigger.cancel();
        }
    };
    let summary = run_import(&db.store, &request, &mut cancel_after_three, &cancel).unwrap();
    assert_eq!(summary.status, JobStatus::Cancelled);
    assert_eq!(db.count("SELECT count(*) FROM t"), 1);
    assert_eq!(db.count("SELECT count(*) FROM t WHERE name = 'kept'"), 1);
}

#[test]
fn gzip_input_is_recognised_by_content_and_progress_counts_file_bytes() {
    use std::io::Write;
    let db = TestDb::new();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut text = String::from("n,sq\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},{}\n", i * i));
    }
    encoder.write_all(text.as_bytes()).unwrap();
    let path = db.file("data.bin", &encoder.finish().unwrap());
    let file_size = std::fs::metadata(&path).unwrap().len();
    let mut last = Progress::default();
    let mut request = ImportRequest::new(&path, "squares");
    request.batch_rows = 1_000;
    let summary = run_import(&db.store, &request, &mut |p: &Progress| last = *p, &CancelToken::new()).unwrap();
    assert_eq!(summary.rows_imported, 20_000);
    assert_eq!(last.bytes_total, Some(file_size));
    assert_eq!(last.bytes_read, file_size);
    assert_eq!(db.count("SELECT sum(sq) FROM squares WHERE n = 19999"), 19_999 * 19_999);
}

#[test]
fn an_empty_file_is_one_clear_error() {
    let db = TestDb::new();
    let path = db.file("empty.csv", b"");
    let failure = run_import(
        &db.store,
        &ImportRequest::new(&path, "t"),
        &mut sluice::progress::NoProgress,
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(failure.error.to_string().contains("is empty"), "{}", failure.error);
    assert!(list_tables(db.store.conn()).unwrap().is_empty());
}
