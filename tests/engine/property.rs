//! Property test of the row-accounting rule: random tables written as CSV, with random faults at
//! random lines, always give imported + failed = rows, and the failed lines are exactly the faulty
//! ones.

use proptest::prelude::*;
use sluice::import::{ColumnSpec, ColumnType, ImportRequest, SchemaFile};

use crate::support::TestDb;

#[derive(Clone, Debug)]
enum Fault {
    None,
    NotANumber,
    MissingField,
    ExtraField,
}

fn cell_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,8}",
        Just("with, comma".to_string()),
        Just("with \"quotes\"".to_string()),
        Just("multi\nline".to_string()),
        Just("crlf\r\ninside".to_string()),
        Just("ünïcødé ✓".to_string()),
    ]
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        6 => Just(Fault::None),
        1 => Just(Fault::NotANumber),
        1 => Just(Fault::MissingField),
        1 => Just(Fault::ExtraField),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn imported_plus_failed_is_every_row_and_failures_are_exactly_the_faults(
        rows in prop::collection::vec((any::<i32>(), cell_text(), fault()), 0..60),
        bom in any::<bool>(),
        crlf_rows in prop::collection::vec(any::<bool>(), 60),
    ) {
        let db = TestDb::new();
        let mut text = Vec::new();
        if bom {
            text.extend_from_slice(b"\xEF\xBB\xBF");
        }
        text.extend_from_slice(b"number,text\n");
        let mut line = 2u64;
        let mut faulty_lines = Vec::new();
        for (index, (number, cell, fault)) in rows.iter().enumerate() {
            let record = match fault {
                Fault::None => format!("{number},{}", quote(cell)),
                Fault::NotANumber => format!("n{number},{}", quote(cell)),
                Fault::MissingField => number.to_string(),
                Fault::ExtraField => format!("{number},{},extra", quote(cell)),
            };
            if !matches!(fault, Fault::None) {
                faulty_lines.push(line as i64);
            }
            let breaks_inside = if matches!(fault, Fault::MissingField) { 0 } else {
                cell.matches("\r\n").count() + cell.replace("\r\n", "").matches('\n').count()
            };
            line += 1 + breaks_inside as u64;
            text.extend_from_slice(record.as_bytes());
            text.extend_from_slice(if crlf_rows[index] { b"\r\n" } else { b"\n" });
        }
        let path = db.file("random.csv", &text);
        let mut request = ImportRequest::new(&path, "t");
        request.schema = Some(SchemaFile { columns: vec![
            ColumnSpec::new("number", ColumnType::BigInt),
            ColumnSpec::new("text", ColumnType::Varchar),
        ]});
        request.batch_rows = 7;
        let summary = db.import_request(&request);
        prop_assert_eq!(summary.rows_read, rows.len() as u64);
        prop_assert_eq!(summary.rows_imported + summary.rows_failed, summary.rows_read);
        prop_assert_eq!(db.count("SELECT count(*) FROM t") as u64, summary.rows_imported);
        let failed: Vec<i64> = db.failed_lines(summary.job_id).into_iter().map(|(line, _)| line).collect();
        prop_assert_eq!(failed, faulty_lines);
    }
}
