//! Failed rows grouped by what is wrong with them: by value while a column's bad values are few,
//! by shape past that, by field count for rows of the wrong width, each with its exact count,
//! and each group filtering the failed rows to exactly the rows it counts.

use sluice::import::{ColumnSpec, ColumnType, ImportRequest, SchemaFile};
use sluice::store::{FailedGroup, FailedRowFilter, GroupKey, count_failed_rows, failed_groups};

use crate::support::TestDb;

/// A file with failures of several kinds: `forty` and `old` in an INTEGER column, 25 different
/// dates written day first in an ISO DATE column, an empty required name beside a row with no
/// name field at all, rows with a field too many, and one row wrong in two columns.
fn faulty_file() -> Vec<u8> {
    let mut text = String::from("id,name,age,signup\n");
    let mut id = 0;
    let mut row = |name: &str, age: &str, signup: &str| {
        id += 1;
        format!("{id},{name},{age},{signup}\n")
    };
    for _ in 0..3 {
        text += &row("Ann", "forty", "2024-01-02");
    }
    text += &row("Bob", "old", "2024-01-02");
    for day in 1..=25 {
        text += &row("Cy", "30", &format!("{day:02}.03.2024"));
    }
    text += &row("", "31", "2024-01-02");
    text += &row("Di", "forty", "13.03.2024");
    text += "90,Eve,32,2024-01-02,extra\n91,Fay,33,2024-01-02,extra\n";
    text += "92,Gus\n";
    text += &row("Hal", "34", "2024-01-02");
    text.into_bytes()
}

fn import_faulty(db: &TestDb) -> i64 {
    let file = db.file("people.csv", &faulty_file());
    let mut name = ColumnSpec::new("name", ColumnType::Varchar);
    name.required = true;
    // Stated, so that the dotted dates are the faults whatever the sniff makes of them.
    let mut signup = ColumnSpec::new("signup", ColumnType::Date);
    signup.written.format = Some("%Y-%m-%d".into());
    let mut request = ImportRequest::new(&file, "people");
    request.schema = Some(SchemaFile {
        columns: vec![
            ColumnSpec::new("id", ColumnType::BigInt),
            name,
            ColumnSpec::new("age", ColumnType::Integer),
            signup,
        ],
    });
    let summary = db.import_request(&request);
    assert_eq!((summary.rows_imported, summary.rows_failed), (1, 34));
    summary.job_id
}

fn group(column: Option<&str>, kind: &str, key: GroupKey, rows: u64) -> FailedGroup {
    FailedGroup {
        column: column.map(str::to_string),
        kind: kind.to_string(),
        key,
        rows,
    }
}

#[test]
fn failed_rows_group_by_value_shape_and_width_with_exact_counts() {
    let db = TestDb::new();
    let job_id = import_faulty(&db);
    let groups = failed_groups(db.store.conn(), job_id).unwrap();
    let value = |text: &str| GroupKey::Value(Some(text.to_string()));
    assert_eq!(
        groups,
        [
            // 26 distinct bad dates are past the few that stand alone: grouped by their shape,
            // the row also wrong in `age` counted here too.
            group(
                Some("signup"),
                "invalid_value",
                GroupKey::Shape("99.99.9999".into()),
                26
            ),
            group(Some("age"), "invalid_value", value("forty"), 4),
            group(None, "too_many_fields", GroupKey::Fields(5), 2),
            group(Some("age"), "invalid_value", value("old"), 1),
            group(Some("name"), "required", value(""), 1),
            group(None, "too_few_fields", GroupKey::Fields(2), 1),
        ]
    );
    let header = Some(4);
    assert_eq!(groups[1].describe(header), "age · invalid_value · \"forty\" × 4");
    assert_eq!(
        groups[0].describe(header),
        "signup · invalid_value · shaped 99.99.9999 × 26"
    );
    assert_eq!(
        groups[2].describe(header),
        "too_many_fields · 5 fields where the header has 4 × 2"
    );
    // A row in two groups is counted in each, once per group.
    let in_groups: u64 = groups.iter().map(|group| group.rows).sum();
    assert_eq!(in_groups, 34 + 1);
}

#[test]
fn each_group_filters_the_failed_rows_to_exactly_the_rows_it_counts() {
    let db = TestDb::new();
    let job_id = import_faulty(&db);
    let groups = failed_groups(db.store.conn(), job_id).unwrap();
    assert!(!groups.is_empty());
    for group in &groups {
        let filter = FailedRowFilter {
            group: Some(Box::new(group.filter())),
            ..FailedRowFilter::default()
        };
        let counted = count_failed_rows(db.store.conn(), job_id, &filter).unwrap();
        assert_eq!(counted, group.rows, "{group:?}");
    }
    // A value differing only in case is another group's, and matches none of these rows.
    let mut other_case = groups[1].filter();
    other_case.key = GroupKey::Value(Some("Forty".into()));
    let filter = FailedRowFilter {
        group: Some(Box::new(other_case)),
        ..FailedRowFilter::default()
    };
    assert_eq!(count_failed_rows(db.store.conn(), job_id, &filter).unwrap(), 0);
}
