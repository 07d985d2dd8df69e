//! Undoing a fix: the table, the failed rows (text, bytes, fields, problems) and the import's
//! counts are exactly what they were before the fix, and an undo that would lose a later change
//! is refused, changing nothing.

use sluice::engine::run_undo_fix;
use sluice::import::{
    ColumnSpec, ColumnType, ImportMode, ImportRequest, SchemaFile, UndoFixError, UndoFixRequest, UndoFixSummary,
};
use sluice::progress::{CancelToken, NoProgress};

use crate::support::{TestDb, apply, set, value_group};

/// The table's rows, sorted, NULL told from `""`.
fn table_rows(db: &TestDb, table: &str) -> Rows {
    let mut rows = db.rows(table);
    rows.sort();
    rows
}

/// The import's counts (read, imported, failed, skipped, updated).
fn counts(db: &TestDb, job_id: i64) -> [i64; 5] {
    let job = db.store.job(job_id).unwrap().unwrap();
    [
        job.rows_read,
        job.rows_imported,
        job.rows_failed,
        job.rows_skipped,
        job.rows_updated,
    ]
}

/// Rows of values, NULL told from `""`.
type Rows = Vec<Vec<Option<String>>>;

/// Everything an undo must put back as it was.
fn snapshot(db: &TestDb, job_id: i64, table: &str) -> (Rows, Rows, [i64; 5]) {
    (table_rows(db, table), db.failed_set(job_id), counts(db, job_id))
}

fn undo(db: &TestDb, fix_job_id: i64) -> Result<UndoFixSummary, UndoFixError> {
    run_undo_fix(
        &db.store,
        &UndoFixRequest { fix_job_id },
        &mut NoProgress,
        &CancelToken::new(),
    )
    .map_err(|failure| failure.error)
}

/// People: `forty` for an age in three rows, a name with an unquoted comma (a field too many),
/// two rows whose id is `seven`, a row with bytes that are not UTF-8, and empty and quoted-empty
/// names (NULL beside `""`).
fn import_people(db: &TestDb, mode: ImportMode) -> i64 {
    let mut text = b"id,name,age\n1,Ann,forty\n2,,forty\n3,\"\",41\n4,Smith, John,42\n\
          seven,Di,44\nseven,Ed,45\n8,Fay,forty\n"
        .to_vec();
    text.extend_from_slice(b"9,G\xe9rard,x\n");
    let file = db.file("people.csv", &text);
    let mut id = ColumnSpec::new("id", ColumnType::BigInt);
    id.unique = mode == ImportMode::Create;
    let mut request = ImportRequest::new(&file, "people");
    request.schema = Some(SchemaFile {
        columns: vec![
            id,
            ColumnSpec::new("name", ColumnType::Varchar),
            ColumnSpec::new("age", ColumnType::Integer),
        ],
    });
    request.mode = mode;
    if mode == ImportMode::Upsert {
        request.key = vec!["id".into()];
    }
    let summary = db.import_request(&request);
    summary.job_id
}

#[test]
fn an_undone_fix_leaves_the_table_the_failed_rows_and_the_counts_as_they_were() {
    let db = TestDb::new();
    let job_id = import_people(&db, ImportMode::Create);
    let before = snapshot(&db, job_id, "people");
    assert_eq!(before.2, [8, 1, 7, 0, 0]);

    let fix = apply(&db, job_id, &value_group("age", "forty"), set("age", "forty", "40"));
    assert_eq!((fix.rows_imported, fix.rows_still_failing), (3, 0));
    assert_ne!(snapshot(&db, job_id, "people"), before);

    let undone = undo(&db, fix.job_id).unwrap();
    assert_eq!(
        (undone.rows_removed, undone.rows_put_back, undone.rows_returned),
        (3, 0, 3)
    );
    assert_eq!(snapshot(&db, job_id, "people"), before);
    assert_eq!(
        db.store.job(fix.job_id).unwrap().unwrap().undone_by,
        Some(undone.job_id)
    );

    let again = undo(&db, fix.job_id).unwrap_err();
    assert!(matches!(again, UndoFixError::AlreadyUndone { undone_by, .. } if undone_by == undone.job_id));
    assert_eq!(snapshot(&db, job_id, "people"), before);
    // Fixed again after the undo, the rows go in as the first time.
    let fix = apply(&db, job_id, &value_group("age", "forty"), set("age", "forty", "40"));
    assert_eq!(fix.rows_imported, 3);
}

#[test]
fn a_fix_whose_rows_broke_the_unique_rule_is_undone_to_the_original_problems() {
    let db = TestDb::new();
    let job_id = import_people(&db, ImportMode::Create);
    let before = snapshot(&db, job_id, "people");
    let fix = apply(&db, job_id, &value_group("id", "seven"), set("id", "seven", "7"));
    assert_eq!((fix.rows_imported, fix.rows_still_failing), (1, 1));
    assert_eq!(
        db.count("SELECT count(*) FROM sluice.failed_row_problems WHERE kind = 'unique'"),
        1
    );
    undo(&db, fix.job_id).unwrap();
    assert_eq!(snapshot(&db, job_id, "people"), before);
    assert_eq!(
        db.count("SELECT count(*) FROM sluice.failed_row_problems WHERE kind = 'unique'"),
        0
    );
}

#[test]
fn an_upsert_fix_is_undone_with_the_rows_it_replaced_put_back() {
    let db = TestDb::new();
    let stored = db.file("stored.csv", b"id,name,age\n1,Old Ann,70\n8,Old Fay,\n");
    let mut request = ImportRequest::new(&stored, "people");
    request.schema = Some(SchemaFile {
        columns: vec![
            ColumnSpec::new("id", ColumnType::BigInt),
            ColumnSpec::new("name", ColumnType::Varchar),
            ColumnSpec::new("age", ColumnType::Integer),
        ],
    });
    db.import_request(&request);
    let job_id = import_people(&db, ImportMode::Upsert);
    let before = snapshot(&db, job_id, "people");

    let fix = apply(&db, job_id, &value_group("age", "forty"), set("age", "forty", "40"));
    assert_eq!(fix.rows_imported, 3);
    assert_eq!(db.count("SELECT count(*) FROM people WHERE name = 'Old Ann'"), 0);
    let undone = undo(&db, fix.job_id).unwrap();
    assert_eq!(
        (undone.rows_removed, undone.rows_put_back, undone.rows_returned),
        (3, 2, 3)
    );
    assert_eq!(snapshot(&db, job_id, "people"), before);
    assert_eq!(
        db.count("SELECT count(*) FROM people WHERE name = 'Old Fay' AND age IS NULL"),
        1
    );
}

#[test]
fn an_undo_after_a_later_upsert_changed_the_fixed_rows_is_refused_and_changes_nothing() {
    let db = TestDb::new();
    let job_id = import_people(&db, ImportMode::Upsert);
    let fix = apply(&db, job_id, &value_group("age", "forty"), set("age", "forty", "40"));
    assert_eq!(fix.rows_imported, 3);
    let later = db.file("later.csv", b"id,name,age\n2,,39\n");
    let mut request = ImportRequest::new(&later, "people");
    request.mode = ImportMode::Upsert;
    request.key = vec!["id".into()];
    db.import_request(&request);
    let after_upsert = snapshot(&db, job_id, "people");

    let refused = undo(&db, fix.job_id).unwrap_err();
    assert!(
        matches!(refused, UndoFixError::RowsChanged { changed: 1, .. }),
        "{refused}"
    );
    assert_eq!(
        refused.to_string(),
        format!(
            "1 of the rows job {} wrote to table 'people' were changed or deleted since (by a later upsert, \
             fix or edit); undoing it would lose those changes",
            fix.job_id
        )
    );
    assert_eq!(snapshot(&db, job_id, "people"), after_upsert);
    assert_eq!(db.store.job(fix.job_id).unwrap().unwrap().undone_by, None);
}

#[test]
fn a_later_fix_of_the_same_rows_must_be_undone_first() {
    let db = TestDb::new();
    let job_id = import_people(&db, ImportMode::Create);
    let before = snapshot(&db, job_id, "people");
    // `forty` becomes `fourty`, which still fails; a second fix makes it 40.
    let first = apply(&db, job_id, &value_group("age", "forty"), set("age", "forty", "fourty"));
    assert_eq!((first.rows_imported, first.rows_still_failing), (0, 3));
    let second = apply(&db, job_id, &value_group("age", "fourty"), set("age", "fourty", "40"));
    assert_eq!(second.rows_imported, 3);

    let refused = undo(&db, first.job_id).unwrap_err();
    assert!(matches!(refused, UndoFixError::LaterFix { later, .. } if later == second.job_id));
    undo(&db, second.job_id).unwrap();
    undo(&db, first.job_id).unwrap();
    assert_eq!(snapshot(&db, job_id, "people"), before);
}

#[test]
fn an_undo_refuses_a_table_whose_columns_changed_and_what_is_no_fix() {
    let db = TestDb::new();
    let job_id = import_people(&db, ImportMode::Create);
    let fix = apply(&db, job_id, &value_group("age", "forty"), set("age", "forty", "40"));
    db.store
        .conn()
        .execute_batch("ALTER TABLE people ADD COLUMN note VARCHAR")
        .unwrap();
    let after = snapshot(&db, job_id, "people");
    assert!(matches!(
        undo(&db, fix.job_id).unwrap_err(),
        UndoFixError::ColumnsChanged(_)
    ));
    assert_eq!(snapshot(&db, job_id, "people"), after);
    assert!(matches!(undo(&db, job_id).unwrap_err(), UndoFixError::NotAFix(id) if id == job_id));
    assert!(matches!(undo(&db, 999).unwrap_err(), UndoFixError::NoSuchJob(999)));
}
