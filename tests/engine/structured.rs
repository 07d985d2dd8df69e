//! Parquet and newline-delimited JSON go through the same plan, validation and failed-row store
//! as a CSV: a JSON line that does not parse is a failed row with its line and text, NULL and
//! the empty string stay apart, and values that break the schema fail with their row's line.

use sluice::import::{ColumnSpec, ColumnType, ImportRequest, SchemaFile};

use crate::support::TestDb;

#[test]
fn json_lines_import_with_bad_lines_kept_as_failed_rows_at_their_line() {
    let db = TestDb::new();
    let mut text = String::new();
    for id in 1..=1_200 {
        let line = match id {
            5 => "{\"id\": 5, \"name\": \"broken\"".to_string(),
            9 => "[9, \"not an object\"]".to_string(),
            12 => String::new(),
            1_100 => "{\"id\": 1100, \"name\": \"late key\", \"surprise\": 1}".to_string(),
            30 => "{\"id\": \"thirty\", \"name\": \"bad id\"}".to_string(),
            _ => format!(
                "{{\"id\": {id}, \"name\": {}, \"amount\": {}, \"tags\": [\"a\", {id}], \"note\": \"line\\nbreak, \\\"quoted\\\" é\"}}",
                match id % 3 {
                    0 => "null".to_string(),
                    1 => "\"\"".to_string(),
                    _ => format!("\"n{id}\""),
                },
                if id % 2 == 0 {
                    format!("-{id}.25")
                } else {
                    id.to_string()
                }
            ),
        };
        text.push_str(&line);
        text.push_str(if id % 7 == 0 { "\r\n" } else { "\n" });
    }
    let path = db.file("events.jsonl", text.as_bytes());
    let summary = db.import(&path, "events");
    assert_eq!(summary.rows_read, 1_199, "every line but the blank one");
    assert_eq!(summary.rows_skipped, 1);
    assert_eq!(summary.rows_failed, 4);
    assert_eq!(summary.rows_imported + summary.rows_failed, summary.rows_read);
    let failed: Vec<(i64, String)> = db
        .failed_rows(summary.job_id)
        .into_iter()
        .map(|row| (row.line, row.problems[0].kind.clone()))
        .collect();
    assert_eq!(
        failed,
        [
            (5, "unreadable".to_string()),
            (9, "unreadable".to_string()),
            (30, "invalid_value".to_string()),
            (1_100, "unreadable".to_string())
        ]
    );
    let broken = &db.failed_rows(summary.job_id)[0];
    assert_eq!(broken.raw, "{\"id\": 5, \"name\": \"broken\"");
    assert!(
        broken.problems[0].message.contains("not valid JSON"),
        "{}",
        broken.problems[0].message
    );
    // A key first seen after the lines the columns come from has no column to go to.
    let late = &db.failed_rows(summary.job_id)[3];
    assert!(
        late.problems[0].message.contains("surprise"),
        "{}",
        late.problems[0].message
    );

    // Every third id has a null name and the one after an empty one; ids 9, 12 and 30 of the
    // first kind are not in the table.
    assert_eq!(
        db.count("SELECT count(*) FROM events WHERE name IS NULL"),
        397,
        "null is NULL"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM events WHERE name = ''"),
        400,
        "\"\" is an empty string"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM events WHERE id = 2 AND amount = -2.25 AND tags = '[\"a\",2]'"),
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM events WHERE note = 'line\nbreak, \"quoted\" é'"),
        summary.rows_imported as i64
    );
}

#[test]
fn parquet_imports_through_the_plan_with_nulls_empty_strings_and_failures_at_their_row() {
    let db = TestDb::new();
    let path = db.dir.path().join("orders.parquet");
    db.store
        .conn()
        .execute_batch(&format!(
            "COPY (SELECT i AS id, \
               CASE WHEN i = 50 THEN 'x50' ELSE CAST(i * 7 - 300 AS VARCHAR) END AS code, \
               CASE WHEN i % 10 = 0 THEN NULL WHEN i % 10 = 1 THEN '' ELSE 'c, \"' || i || '\"' END AS customer, \
               DATE '2024-01-01' + INTERVAL (i) DAY AS placed, \
               i * -1.5 AS amount \
             FROM range(1, 2001) t(i)) TO '{}' (FORMAT parquet)",
            path.display()
        ))
        .unwrap();
    let mut request = ImportRequest::new(&path, "orders");
    request.schema = Some(SchemaFile {
        columns: vec![
            ColumnSpec::new("id", ColumnType::BigInt),
            ColumnSpec::new("code", ColumnType::BigInt),
            ColumnSpec::new("customer", ColumnType::Varchar),
            ColumnSpec::new("placed", ColumnType::Timestamp),
            ColumnSpec::new("amount", ColumnType::Double),
        ],
    });
    let summary = db.import_request(&request);
    assert_eq!(
        (summary.rows_read, summary.rows_imported, summary.rows_failed),
        (2_000, 1_999, 1)
    );
    let failed = db.failed_rows(summary.job_id);
    assert_eq!(
        failed[0].line, 50,
        "row 50 is line 50: the header Sluice wrote is line 0"
    );
    assert_eq!(failed[0].problems[0].kind, "invalid_value");
    assert_eq!(db.count("SELECT count(*) FROM orders WHERE customer IS NULL"), 199);
    assert_eq!(db.count("SELECT count(*) FROM orders WHERE customer = ''"), 200);
    assert_eq!(
        db.count(
            "SELECT count(*) FROM orders WHERE id = 2 AND code = -286 AND customer = 'c, \"2\"' AND amount = -3.0"
        ),
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM orders WHERE placed = TIMESTAMP '2024-01-03'"),
        1
    );

    // Without a schema the columns are typed from the values, as for a CSV: one word among
    // 2,000 numbers fails its row rather than turning the column into text.
    let plain = db.import(&path, "orders_typed");
    assert_eq!((plain.rows_imported, plain.rows_failed), (1_999, 1));
}
