//! End-to-end imports: accounting, failed rows, modes, rules, cancellation and hostile names.

use sluice::engine::run_import;
use sluice::import::{ColumnSpec, ColumnType, ImportError, ImportMode, ImportRequest, SchemaFile, SniffHints};
use sluice::progress::{CancelToken, Progress};
use sluice::store::{JobStatus, list_tables};

use crate::support::{NULL_SHOWN, TestDb};

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
    let job = db.store.job(summary.job_id).unwrap().unwrap();
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
    let rows =
        sluice::store::read_failed_rows(db.store.conn(), summary.job_id, &Default::default(), 0, None, 10).unwrap();
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
        db.store.job(failure.job_id.unwrap()).unwrap().unwrap().status,
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
    assert_eq!(columns[0].name, "x\"; DROP TABLE t; --");

    let refused = run_import(
        &db.store,
        &ImportRequest::new(&path, "bad\nname"),
        &mut sluice::progress::NoProgress,
        &CancelToken::new(),
    );
    assert!(matches!(refused.unwrap_err().error, ImportError::TableName(_)));
    assert_eq!(db.count("SELECT count(*) FROM t"), 1);
}

/// `rows` data rows of which many fail: every tenth has an id that is not a number, and others
/// an extra field. So every batch the import writes before it is cancelled carries failed rows,
/// and the rollback of those is what the cancel tests check.
fn big_file_with_bad_rows(db: &TestDb, rows: usize) -> std::path::PathBuf {
    let mut text = String::from("id,name\n");
    for i in 0..rows {
        if i % 10 == 3 {
            text.push_str(&format!("x{i},bad id {i}\n"));
        } else if i % 14 == 5 {
            text.push_str(&format!("{i},name {i},extra\n"));
        } else {
            text.push_str(&format!("{i},name {i}\n"));
        }
    }
    db.file("bad-rows.csv", text.as_bytes())
}

fn id_and_name_schema(unique_id: bool) -> SchemaFile {
    let mut id = ColumnSpec::new("id", ColumnType::BigInt);
    id.unique = unique_id;
    SchemaFile {
        columns: vec![id, ColumnSpec::new("name", ColumnType::Varchar)],
    }
}

/// Runs `request` and cancels it as soon as a batch with failed rows has been written (inside
/// the import's transaction), so the cancel has failed rows to undo.
fn cancel_after_failed_rows_were_written(db: &TestDb, request: &ImportRequest) -> sluice::import::ImportSummary {
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    let mut failed_before_cancel = 0;
    let mut cancel_once_rows_failed = |progress: &Progress| {
        if progress.rows_failed > 0 && !trigger.is_cancelled() {
            failed_before_cancel = progress.rows_failed;
            trigger.cancel();
        }
    };
    let summary = run_import(&db.store, request, &mut cancel_once_rows_failed, &cancel).unwrap();
    assert!(
        failed_before_cancel > 0,
        "no failed row was written before the cancel, so its rollback went unchecked"
    );
    assert_eq!(summary.status, JobStatus::Cancelled);
    summary
}

/// Nothing of a cancelled job stays: no failed row, no problem, no staging table, and its record
/// says so.
fn assert_cancelled_job_kept_nothing(db: &TestDb, job_id: i64) {
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM sluice.failed_rows WHERE job_id = {job_id}"
        )),
        0,
        "failed rows of the cancelled job were kept"
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM sluice.failed_row_problems WHERE job_id = {job_id}"
        )),
        0,
        "problems of the cancelled job were kept"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'import_stage_%'"),
        0,
        "a staging table of the cancelled job was left"
    );
    let job = db.store.job(job_id).unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Cancelled);
    assert_eq!((job.rows_imported, job.rows_failed), (0, 0));
}

#[test]
fn a_cancelled_create_leaves_no_table_and_keeps_none_of_its_failed_rows() {
    let db = TestDb::new();
    let path = big_file_with_bad_rows(&db, 200_000);
    let mut request = ImportRequest::new(&path, "t");
    request.schema = Some(id_and_name_schema(false));
    request.batch_rows = 1_000;
    let summary = cancel_after_failed_rows_were_written(&db, &request);
    assert!(list_tables(db.store.conn()).unwrap().is_empty());
    assert_cancelled_job_kept_nothing(&db, summary.job_id);
}

#[test]
fn a_cancelled_append_leaves_the_table_as_it_was_and_keeps_none_of_its_failed_rows() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch("CREATE TABLE t (id BIGINT, name VARCHAR); INSERT INTO t VALUES (-1, 'kept')")
        .unwrap();
    let path = big_file_with_bad_rows(&db, 200_000);
    let mut request = ImportRequest::new(&path, "t");
    request.mode = ImportMode::Append;
    request.batch_rows = 1_000;
    let summary = cancel_after_failed_rows_were_written(&db, &request);
    assert_eq!(db.rows_as_text("t"), vec![vec!["-1".to_string(), "kept".to_string()]]);
    assert_cancelled_job_kept_nothing(&db, summary.job_id);
}

#[test]
fn a_cancelled_replace_leaves_the_old_table_and_keeps_none_of_its_failed_rows() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch(
            "CREATE TABLE t (id BIGINT, name VARCHAR, note VARCHAR); \
             INSERT INTO t VALUES (-1, 'kept', 'a'), (-2, 'kept too', NULL)",
        )
        .unwrap();
    let path = big_file_with_bad_rows(&db, 200_000);
    let mut request = ImportRequest::new(&path, "t");
    request.mode = ImportMode::Replace;
    // A unique column routes the rows through a staging table, which the cancel must drop too.
    request.schema = Some(id_and_name_schema(true));
    request.batch_rows = 1_000;
    let summary = cancel_after_failed_rows_were_written(&db, &request);
    assert_eq!(
        sluice::store::table_columns(db.store.conn(), "t")
            .unwrap()
            .into_iter()
            .map(|column| (column.name, column.type_name))
            .collect::<Vec<_>>(),
        vec![
            ("id".to_string(), "BIGINT".to_string()),
            ("name".to_string(), "VARCHAR".to_string()),
            ("note".to_string(), "VARCHAR".to_string()),
        ],
        "the replaced table's columns are back"
    );
    assert_eq!(
        db.rows_as_text("t"),
        vec![
            vec!["-1".to_string(), "kept".to_string(), "a".to_string()],
            vec!["-2".to_string(), "kept too".to_string(), NULL_SHOWN.to_string()],
        ]
    );
    assert_cancelled_job_kept_nothing(&db, summary.job_id);
}

#[test]
fn a_line_over_the_32_mib_limit_fails_alone_and_reading_resumes_on_the_next_line() {
    // The import reads with the reader's 32 MiB limit (`DEFAULT_MAX_RECORD_BYTES`, which
    // `ImportRequest` does not expose), so the line has to be longer than that.
    let db = TestDb::new();
    let mut text = b"id,name\n1,a\n2,".to_vec();
    text.resize(text.len() + 33 * 1024 * 1024, b'z');
    text.extend_from_slice(b"\r\n3,c\n");
    let path = db.file("long-line.csv", &text);
    drop(text);
    let mut request = ImportRequest::new(&path, "t");
    request.schema = Some(id_and_name_schema(false));
    request.hints = SniffHints {
        delimiter: Some(b','),
        quote: Some(b'"'),
        has_header: Some(true),
        ..SniffHints::default()
    };
    let summary = db.import_request(&request);
    assert_eq!(
        (summary.rows_read, summary.rows_imported, summary.rows_failed),
        (3, 2, 1)
    );
    assert_eq!(
        db.failed_lines(summary.job_id),
        vec![(3, vec!["line_too_long".to_string()])]
    );
    assert_eq!(
        db.rows_as_text("t"),
        vec![
            vec!["1".to_string(), "a".to_string()],
            vec!["3".to_string(), "c".to_string()],
        ]
    );
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
