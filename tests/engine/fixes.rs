//! Fixing failed rows by the group: a rule previewed over every row it targets changes nothing
//! and counts what applying it would do; applied as a retry job, the rows that pass move into
//! the table, the unique rule still holds, and the import's counts stay exact.

use sluice::import::{ColumnSpec, ColumnType, FixRule, ImportRequest, SchemaFile, preview_fix};
use sluice::progress::CancelToken;
use sluice::store::FailedRowFilter;

use crate::support::{TestDb, apply, set, value_group};

/// People with `forty` for an age in three rows, a name with an unquoted comma in two (a field
/// too many), and two rows whose id is `seven`.
fn import_people(db: &TestDb) -> i64 {
    let file = db.file(
        "people.csv",
        b"id,name,age\n1,Ann,forty\n2,Bo,forty\n3,Cy,41\n4,Smith, John,42\n5,Lee, Ann,43\n\
          seven,Di,44\nseven,Ed,45\n8,Fay,forty\n9,Gus,46\n",
    );
    let mut id = ColumnSpec::new("id", ColumnType::BigInt);
    id.unique = true;
    let mut age = ColumnSpec::new("age", ColumnType::Integer);
    age.min = Some(0.0);
    let mut request = ImportRequest::new(&file, "people");
    request.schema = Some(SchemaFile {
        columns: vec![id, ColumnSpec::new("name", ColumnType::Varchar), age],
    });
    let summary = db.import_request(&request);
    assert_eq!((summary.rows_imported, summary.rows_failed), (2, 7));
    summary.job_id
}

/// imported + failed = read, for the import and in the table.
fn assert_accounted(db: &TestDb, job_id: i64) {
    let job = db.store.job(job_id).unwrap().unwrap();
    assert_eq!(job.rows_imported + job.rows_failed + job.rows_skipped, job.rows_read);
    assert_eq!(db.count("SELECT count(*) FROM people"), job.rows_imported);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM sluice.failed_rows WHERE job_id = {job_id}"
        )),
        job.rows_failed
    );
}

#[test]
fn a_preview_counts_every_targeted_row_and_changes_nothing() {
    let db = TestDb::new();
    let job_id = import_people(&db);
    let cancel = CancelToken::new();
    let forty = value_group("age", "forty");
    let preview = preview_fix(&db.store, job_id, &forty, &[set("age", "forty", "40")], &cancel).unwrap();
    assert_eq!(
        (
            preview.rows,
            preview.changed,
            preview.would_pass,
            preview.still_failing,
            preview.newly_failing
        ),
        (3, 3, 3, 0, 0)
    );
    assert_eq!(preview.examples[0].before, ["1", "Ann", "forty"]);
    assert_eq!(preview.examples[0].after, ["1", "Ann", "40"]);
    // A value below the column's minimum fails another check than before.
    let negative = preview_fix(&db.store, job_id, &forty, &[set("age", "forty", "-40")], &cancel).unwrap();
    assert_eq!(
        (negative.would_pass, negative.still_failing, negative.newly_failing),
        (0, 3, 3)
    );
    assert!(
        negative.examples[0].problems[0].contains("-40"),
        "{:?}",
        negative.examples[0]
    );
    // Nothing changed.
    assert_eq!(db.count("SELECT count(*) FROM people"), 2);
    assert_eq!(db.count("SELECT count(*) FROM sluice.failed_rows"), 7);
    assert_accounted(&db, job_id);
}

#[test]
fn joined_fields_and_fixed_values_move_into_the_table_as_one_retry() {
    let db = TestDb::new();
    let job_id = import_people(&db);
    let cancel = CancelToken::new();
    let join = FixRule::JoinFields {
        first: 1,
        delimiter: None,
    };
    let too_many = FailedRowFilter {
        kind: join.problem_kind().map(str::to_string),
        ..FailedRowFilter::default()
    };
    let preview = preview_fix(&db.store, job_id, &too_many, std::slice::from_ref(&join), &cancel).unwrap();
    assert_eq!((preview.rows, preview.would_pass), (2, 2));
    let summary = apply(&db, job_id, &too_many, join);
    assert_eq!((summary.rows_imported, summary.rows_still_failing), (2, 0));
    assert_eq!(
        db.count("SELECT count(*) FROM people WHERE name = 'Smith, John' AND age = 42"),
        1
    );
    assert_accounted(&db, job_id);

    let forty = value_group("age", "forty");
    let summary = apply(&db, job_id, &forty, set("age", "forty", "40"));
    assert_eq!(summary.rows_retried, 3);
    assert_eq!((summary.rows_imported, summary.rows_still_failing), (3, 0));
    assert_eq!(db.count("SELECT count(*) FROM people WHERE age = 40"), 3);
    assert_accounted(&db, job_id);
}

#[test]
fn a_fix_that_makes_two_rows_share_a_unique_id_imports_one_and_fails_the_other() {
    let db = TestDb::new();
    let job_id = import_people(&db);
    let cancel = CancelToken::new();
    let seven = value_group("id", "seven");
    let rule = set("id", "seven", "7");
    // Each row passes its own checks: the preview cannot see the other.
    let preview = preview_fix(&db.store, job_id, &seven, std::slice::from_ref(&rule), &cancel).unwrap();
    assert_eq!((preview.rows, preview.would_pass), (2, 2));
    let summary = apply(&db, job_id, &seven, rule);
    assert_eq!((summary.rows_imported, summary.rows_still_failing), (1, 1));
    assert_eq!(db.count("SELECT count(*) FROM people WHERE id = 7"), 1);
    assert_eq!(
        db.count("SELECT count(*) FROM sluice.failed_row_problems WHERE kind = 'unique' AND value = '7'"),
        1
    );
    assert_accounted(&db, job_id);
}

#[test]
fn a_rule_on_a_column_the_rows_do_not_have_is_refused_by_name() {
    let db = TestDb::new();
    let job_id = import_people(&db);
    let error = preview_fix(
        &db.store,
        job_id,
        &FailedRowFilter::default(),
        &[FixRule::Trim { column: "zip".into() }],
        &CancelToken::new(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "there is no column 'zip' in the failed rows (their columns: id, name, age)"
    );
}

#[test]
fn a_fixed_row_keeps_a_quoted_empty_name_as_text_and_an_empty_one_as_null() {
    let db = TestDb::new();
    let file = db.file(
        "people.csv",
        b"id,name,age\n1,\"\",forty\n2,,forty\n3,\"\",41,\n4,,42,\n",
    );
    let mut request = ImportRequest::new(&file, "people");
    request.schema = Some(SchemaFile {
        columns: vec![
            ColumnSpec::new("id", ColumnType::BigInt),
            ColumnSpec::new("name", ColumnType::Varchar),
            ColumnSpec::new("age", ColumnType::Integer),
        ],
    });
    let job_id = db.import_request(&request).job_id;
    apply(&db, job_id, &value_group("age", "forty"), set("age", "forty", "40"));
    let too_many = FailedRowFilter {
        kind: Some("too_many_fields".into()),
        ..FailedRowFilter::default()
    };
    apply(&db, job_id, &too_many, FixRule::DropEmptyLastField);
    let mut rows = db.rows("people");
    rows.sort();
    let row = |id: &str, name: Option<&str>, age: &str| {
        vec![Some(id.to_string()), name.map(str::to_string), Some(age.to_string())]
    };
    assert_eq!(
        rows,
        [
            row("1", Some(""), "40"),
            row("2", None, "40"),
            row("3", Some(""), "41"),
            row("4", None, "42")
        ]
    );
}

#[test]
fn values_read_in_a_stated_format_are_stored_as_the_file_meant_them() {
    let db = TestDb::new();
    let file = db.file(
        "amounts.csv",
        b"id,born,amount\n1,2024-01-05,1.5\n2,31.12.2024,-75.775\n3,2024-02-01,\"1.234,5\"\n4,n/a,0.001\n",
    );
    let mut request = ImportRequest::new(&file, "amounts");
    request.schema = Some(SchemaFile {
        columns: vec![
            ColumnSpec::new("id", ColumnType::BigInt),
            ColumnSpec::new("born", ColumnType::Date),
            ColumnSpec::new(
                "amount",
                ColumnType::Decimal {
                    precision: 12,
                    scale: 3,
                },
            ),
        ],
    });
    let job_id = db.import_request(&request).job_id;
    let born = FixRule::ReadAs {
        column: "born".into(),
        written: sluice::import::ValueFormat {
            format: Some("%d.%m.%Y".into()),
            null_markers: Some(vec!["n/a".into()]),
            ..Default::default()
        },
    };
    // Only the rows the rule changes are taken up: the row whose amount is wrong stays as it is.
    let summary = apply(&db, job_id, &FailedRowFilter::default(), born);
    assert_eq!((summary.rows_imported, summary.rows_still_failing), (2, 0));
    assert_eq!(
        db.count(&format!("SELECT rows_failed FROM sluice.jobs WHERE job_id = {job_id}")),
        1
    );
    let amount = FixRule::ReadAs {
        column: "amount".into(),
        written: sluice::import::ValueFormat {
            decimal_separator: Some(','),
            thousands: Some('.'),
            ..Default::default()
        },
    };
    let summary = apply(&db, job_id, &FailedRowFilter::default(), amount);
    assert_eq!((summary.rows_imported, summary.rows_still_failing), (1, 0));
    let mut rows = db.rows("amounts");
    rows.sort();
    let row = |id: &str, born: Option<&str>, amount: &str| {
        vec![Some(id.to_string()), born.map(str::to_string), Some(amount.to_string())]
    };
    // `-75.775` was read with the file's decimal point, as the import read it: never 75775.
    assert_eq!(
        rows,
        [
            row("1", Some("2024-01-05"), "1.500"),
            row("2", Some("2024-12-31"), "-75.775"),
            row("3", Some("2024-02-01"), "1234.500"),
            row("4", None, "0.001"),
        ]
    );
}
