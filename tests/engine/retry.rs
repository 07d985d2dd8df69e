//! Retrying failed rows after fixing them: passing rows move into the table, the rest stay failed
//! with their new problems, and the import's counts still add up.

use sluice::engine::JobKind;
use sluice::engine::run_retry;
use sluice::import::{ColumnSpec, ColumnType, ImportRequest, RetryRequest, RowEdit};
use sluice::progress::{CancelToken, NoProgress};
use sluice::store::{FailedRowFilter, JobStatus, read_failed_rows};

use crate::support::TestDb;

fn people_request(db: &TestDb) -> (ImportRequest, i64) {
    let mut id = ColumnSpec::new("id", ColumnType::BigInt);
    id.required = true;
    id.unique = true;
    let mut age = ColumnSpec::new("age", ColumnType::Integer);
    age.min = Some(0.0);
    let schema = sluice::import::SchemaFile {
        columns: vec![id, ColumnSpec::new("name", ColumnType::Varchar), age],
    };
    let file = db.file(
        "people.csv",
        b"id,name,age\n1,Ann,30\nx,Bob,40\n3,Cy,-5\n4,Di\n1,Eve,20\n6,Fay,50\n",
    );
    let mut request = ImportRequest::new(&file, "people");
    request.schema = Some(schema);
    let summary = db.import_request(&request);
    assert_eq!((summary.rows_imported, summary.rows_failed), (2, 4));
    (request, summary.job_id)
}

fn retry(db: &TestDb, import_job_id: i64, rows: Vec<RowEdit>) -> sluice::import::RetrySummary {
    let request = RetryRequest { import_job_id, rows };
    run_retry(&db.store, &request, &mut NoProgress, &CancelToken::new()).unwrap()
}

fn failed_records(db: &TestDb, job_id: i64) -> Vec<(i64, Vec<String>, Vec<String>)> {
    read_failed_rows(db.store.conn(), job_id, &FailedRowFilter::default(), 0, None, 100)
        .unwrap()
        .into_iter()
        .map(|row| {
            let kinds = row.problems.iter().map(|p| p.kind.clone()).collect();
            (row.line, row.fields, kinds)
        })
        .collect()
}

fn edit(record_no: i64, fields: &[&str]) -> RowEdit {
    RowEdit {
        record_no,
        fields: Some(fields.iter().map(|f| f.to_string()).collect()),
    }
}

#[test]
fn fixed_rows_move_into_the_table_and_the_rest_keep_their_new_problems() {
    let db = TestDb::new();
    let (_, import_job) = people_request(&db);
    // Records: 2 = "x,Bob,40", 3 = "3,Cy,-5", 4 = "4,Di" (short), 5 = "1,Eve,20" (duplicate id).
    let summary = retry(
        &db,
        import_job,
        vec![
            edit(2, &["2", "Bob", "40"]),
            edit(3, &["3", "Cy", "-6"]),
            edit(4, &["4", "Di", "41"]),
            edit(5, &["1", "Eve", "20"]),
        ],
    );
    assert_eq!(
        (summary.rows_retried, summary.rows_imported, summary.rows_still_failing),
        (4, 2, 2)
    );
    assert_eq!(db.count("SELECT count(*) FROM people"), 4);
    assert_eq!(db.count("SELECT age FROM people WHERE id = 4"), 41);

    let still = failed_records(&db, import_job);
    assert_eq!(
        still,
        vec![
            (
                4,
                vec!["3".into(), "Cy".into(), "-6".into()],
                vec!["out_of_range".into()]
            ),
            (6, vec!["1".into(), "Eve".into(), "20".into()], vec!["unique".into()]),
        ],
        "rows that still fail keep the edit and get their new problems"
    );

    let import = db.store.job(import_job).unwrap().unwrap();
    assert_eq!((import.rows_imported, import.rows_failed, import.rows_read), (4, 2, 6));
    assert_eq!(import.rows_imported + import.rows_failed, import.rows_read);

    let record = sluice::engine::job(&db.store, summary.job_id).unwrap().unwrap();
    assert_eq!(record.kind, JobKind::Retry);
    assert_eq!(record.status, JobStatus::Completed);
    assert_eq!((record.rows_read, record.rows_imported, record.rows_failed), (4, 2, 2));
    assert!(record.spec.unwrap_or_default().contains("\"retry_of\""));
}

#[test]
fn a_row_already_retried_is_skipped_and_an_unedited_row_is_checked_as_stored() {
    let db = TestDb::new();
    let (_, import_job) = people_request(&db);
    let first = retry(&db, import_job, vec![edit(2, &["2", "Bob", "40"])]);
    assert_eq!(first.rows_imported, 1);
    let again = retry(
        &db,
        import_job,
        vec![
            edit(2, &["2", "Bob", "40"]),
            RowEdit {
                record_no: 3,
                fields: None,
            },
        ],
    );
    assert_eq!(
        (again.rows_retried, again.rows_imported, again.rows_still_failing),
        (1, 0, 1)
    );
    assert_eq!(db.count("SELECT count(*) FROM people"), 3);
}

#[test]
fn hostile_edits_are_values_not_sql() {
    let db = TestDb::new();
    let (_, import_job) = people_request(&db);
    let summary = retry(
        &db,
        import_job,
        vec![edit(4, &["4", "x'); DROP TABLE people; --", "41"])],
    );
    assert_eq!(summary.rows_imported, 1);
    assert_eq!(
        db.count("SELECT count(*) FROM people WHERE name = 'x''); DROP TABLE people; --'"),
        1
    );
}

#[test]
fn a_retry_of_a_missing_job_fails_with_a_reason() {
    let db = TestDb::new();
    let request = RetryRequest {
        import_job_id: 999,
        rows: vec![],
    };
    let failure = run_retry(&db.store, &request, &mut NoProgress, &CancelToken::new()).unwrap_err();
    let job_id = failure.job_id.unwrap();
    assert_eq!(failure.error.to_string(), "job 999 does not exist");
    let record = db.store.job(job_id).unwrap().unwrap();
    assert_eq!(record.status, JobStatus::Failed);
}

#[test]
fn a_row_with_unreadable_bytes_passes_only_once_they_are_fixed() {
    let db = TestDb::new();
    let file = db.file("names.csv", b"id,name\n1,Ren\xc3\xa9e\n2,M\xfcller\n3,Cy\n");
    let summary = db.import(&file, "names");
    assert_eq!((summary.rows_imported, summary.rows_failed), (2, 1));
    let failed = failed_records(&db, summary.job_id);
    assert_eq!(failed[0].2, vec!["encoding".to_string()]);

    let unedited = retry(
        &db,
        summary.job_id,
        vec![RowEdit {
            record_no: 2,
            fields: None,
        }],
    );
    assert_eq!(unedited.rows_imported, 0, "the replacement character is not a fix");
    let fixed = retry(&db, summary.job_id, vec![edit(2, &["2", "Müller"])]);
    assert_eq!(fixed.rows_imported, 1);
    assert_eq!(db.count("SELECT count(*) FROM names WHERE name = 'Müller'"), 1);
}

#[test]
fn a_fixed_row_of_a_file_in_local_formats_is_read_as_the_import_read_it() {
    let db = TestDb::new();
    // No schema: the dotted dates, decimal commas and n/a were found by sniffing the file.
    let file = db.file(
        "umsatz.csv",
        "Datum;Kunde;Betrag;Menge\n15.03.2024;Müller;1.234,56;3\n01.12.2023;Schmidt;0,99;n/a\n02.02.2024;Neu;7,5\n"
            .as_bytes(),
    );
    let summary = db.import_request(&ImportRequest::new(&file, "umsatz"));
    assert_eq!((summary.rows_imported, summary.rows_failed), (2, 1));
    let retried = retry(&db, summary.job_id, vec![edit(3, &["02.02.2024", "Neu", "7,5", "n/a"])]);
    assert_eq!((retried.rows_imported, retried.rows_still_failing), (1, 0));
    assert_eq!(
        db.count("SELECT count(*) FROM umsatz WHERE Datum = DATE '2024-02-02' AND Betrag = 7.5 AND Menge IS NULL"),
        1
    );
}

#[test]
fn a_fixed_row_is_read_by_the_layout_the_import_stored_even_when_its_file_is_gone() {
    let db = TestDb::new();
    // A title line above the header, semicolons, dotted dates, decimal commas and n/a: none of it
    // can be told from the column names alone.
    let file = db.file(
        "umsatz.csv",
        "Umsatz März\nDatum;Kunde;Betrag;Menge\n15.03.2024;Müller;1.234,56;3\n01.12.2023;Schmidt;0,99;n/a\n02.02.2024;Neu;7,5\n"
            .as_bytes(),
    );
    let summary = db.import_request(&ImportRequest::new(&file, "umsatz"));
    assert_eq!((summary.rows_imported, summary.rows_failed), (2, 1));
    let record_no = db.count("SELECT record_no FROM sluice.failed_rows");
    std::fs::remove_file(&file).unwrap();
    let retried = retry(
        &db,
        summary.job_id,
        vec![edit(record_no, &["02.02.2024", "Neu", "7,5", "n/a"])],
    );
    assert_eq!((retried.rows_imported, retried.rows_still_failing), (1, 0));
    assert_eq!(
        db.count("SELECT count(*) FROM umsatz WHERE Datum = DATE '2024-02-02' AND Betrag = 7.5 AND Menge IS NULL"),
        1
    );
}

#[test]
fn taking_a_row_already_taken_names_that_row() {
    let db = TestDb::new();
    let (_, import_job) = people_request(&db);
    let record_nos: Vec<i64> = db.failed_rows(import_job).iter().map(|row| row.record_no).collect();
    let (first, rest) = record_nos.split_first().unwrap();
    let (one_retry, another) = (import_job + 1, import_job + 2);
    assert_eq!(
        db.store.take_failed_rows(import_job, &[*first], one_retry).unwrap(),
        None
    );
    let mut again = vec![rest[0], *first];
    again.extend_from_slice(&rest[1..]);
    assert_eq!(
        db.store.take_failed_rows(import_job, &again, another).unwrap(),
        Some(*first)
    );
}
