//! Property test of fixing by rule: random files with random faults (wrong values, names split by
//! an unquoted comma, rows cut short, empty required names, `""` beside empty fields, bytes that
//! are not UTF-8, ids repeated against a `unique` rule), fixed by random rules over random
//! targets. After the fix, the import's accounting holds (imported + failed + skipped = read,
//! the table holds the imported rows, the failed set the failed ones) and the fix's own (each
//! row it took passed or still fails, never both or neither). After its undo, the table, every
//! stored failed row (text, bytes, fields, problems) and the counts are exactly as before.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use sluice::engine::{run_fix, run_undo_fix};
use sluice::import::{
    ColumnSpec, ColumnType, FixRequest, FixRule, ImportRequest, SchemaFile, SniffHints, UndoFixRequest,
};
use sluice::progress::{CancelToken, NoProgress};
use sluice::store::{FailedRowFilter, GroupFilter, GroupKey};

use crate::support::TestDb;

thread_local! {
    static DB: TestDb = TestDb::new();
}

static TABLES: AtomicUsize = AtomicUsize::new(0);

/// One row of the file: its id (small, so some repeat) and its fault.
#[derive(Clone, Copy, Debug)]
enum Row {
    Good(u8),
    AgeInWords(u8),
    NameWithComma(u8),
    CutShort(u8),
    EmptyName(u8),
    QuotedEmptyName(u8),
    BadByte(u8),
}

impl Row {
    fn write(self, out: &mut Vec<u8>) {
        let line = match self {
            Row::Good(id) => format!("{id},Ann,{}", 20 + id),
            Row::AgeInWords(id) => format!("{id},Bo,forty"),
            Row::NameWithComma(id) => format!("{id},Smith, Cy,41"),
            Row::CutShort(id) => format!("{id},Di"),
            Row::EmptyName(id) => format!("{id},,42"),
            Row::QuotedEmptyName(id) => format!("{id},\"\",forty"),
            Row::BadByte(id) => {
                out.extend_from_slice(format!("{id},G").as_bytes());
                out.push(0xff);
                ",43".to_string()
            }
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
}

fn row() -> impl Strategy<Value = Row> {
    (0u8..7, 1u8..30).prop_map(|(kind, id)| match kind {
        0 => Row::Good(id),
        1 => Row::AgeInWords(id),
        2 => Row::NameWithComma(id),
        3 => Row::CutShort(id),
        4 => Row::EmptyName(id),
        5 => Row::QuotedEmptyName(id),
        _ => Row::BadByte(id),
    })
}

fn rule() -> impl Strategy<Value = FixRule> {
    prop_oneof![
        Just(FixRule::SetValue {
            column: "age".into(),
            from: Some("forty".into()),
            to: "40".into(),
        }),
        Just(FixRule::SetValue {
            column: "age".into(),
            from: Some("forty".into()),
            to: "fourty".into(),
        }),
        Just(FixRule::Replace {
            column: "age".into(),
            pattern: "^f.*$".into(),
            with: "7".into(),
        }),
        Just(FixRule::JoinFields {
            first: 1,
            delimiter: None,
        }),
        Just(FixRule::DropEmptyLastField),
        Just(FixRule::PadFields),
        Just(FixRule::DefaultIfEmpty {
            column: "name".into(),
            value: "anon".into(),
        }),
        Just(FixRule::SetValue {
            column: "id".into(),
            from: None,
            to: "5".into(),
        }),
        Just(FixRule::Trim { column: "name".into() }),
    ]
}

fn target() -> impl Strategy<Value = FailedRowFilter> {
    prop_oneof![
        Just(FailedRowFilter::default()),
        Just(FailedRowFilter {
            kind: Some("too_many_fields".into()),
            ..FailedRowFilter::default()
        }),
        Just(FailedRowFilter {
            group: Some(Box::new(GroupFilter {
                column: Some("age".into()),
                kind: "invalid_value".into(),
                key: GroupKey::Value(Some("forty".into())),
            })),
            ..FailedRowFilter::default()
        }),
        Just(FailedRowFilter {
            column: Some("name".into()),
            ..FailedRowFilter::default()
        }),
    ]
}

/// Rows of values, NULL told from `""`.
type Rows = Vec<Vec<Option<String>>>;

/// Everything an undo must put back: the table's rows sorted, the failed set, the counts.
fn state(db: &TestDb, job_id: i64, table: &str) -> (Rows, Rows, [i64; 4]) {
    let mut rows = db.rows(table);
    rows.sort();
    let job = db.store.job(job_id).unwrap().unwrap();
    (
        rows,
        db.failed_set(job_id),
        [job.rows_read, job.rows_imported, job.rows_failed, job.rows_updated],
    )
}

fn assert_accounted(db: &TestDb, job_id: i64, table: &str) {
    let job = db.store.job(job_id).unwrap().unwrap();
    assert_eq!(job.rows_imported + job.rows_failed + job.rows_skipped, job.rows_read);
    assert_eq!(
        db.count(&format!("SELECT count(*) FROM \"{table}\"")),
        job.rows_imported
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM sluice.failed_rows WHERE job_id = {job_id}"
        )),
        job.rows_failed
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(DISTINCT record_no) FROM sluice.failed_rows WHERE job_id = {job_id}"
        )),
        job.rows_failed,
        "a failed row is stored twice"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn a_fix_keeps_every_row_accounted_for_and_its_undo_restores_everything(
        rows in prop::collection::vec(row(), 1..30),
        rules in prop::collection::vec(rule(), 1..4),
        filter in target(),
    ) {
        DB.with(|db| {
            let table = format!("people_{}", TABLES.fetch_add(1, Ordering::Relaxed));
            let mut text = b"id,name,age\n".to_vec();
            for row in &rows {
                row.write(&mut text);
            }
            let file = db.file(&format!("{table}.csv"), &text);
            let mut id = ColumnSpec::new("id", ColumnType::BigInt);
            id.unique = true;
            let mut name = ColumnSpec::new("name", ColumnType::Varchar);
            name.required = true;
            let mut request = ImportRequest::new(&file, &table);
            request.schema = Some(SchemaFile {
                columns: vec![id, name, ColumnSpec::new("age", ColumnType::Integer)],
            });
            request.hints = SniffHints {
                delimiter: Some(b','),
                quote: Some(b'"'),
                has_header: Some(true),
                ..SniffHints::default()
            };
            let import = db.import_request(&request);
            prop_assert_eq!(import.rows_read, rows.len() as u64);
            assert_accounted(db, import.job_id, &table);
            let before = state(db, import.job_id, &table);

            let fix = FixRequest { import_job_id: import.job_id, filter, rules };
            let fixed = run_fix(&db.store, &fix, &mut NoProgress, &CancelToken::new())
                .map_err(|failure| failure.error)
                .unwrap();
            prop_assert_eq!(fixed.rows_imported + fixed.rows_still_failing, fixed.rows_retried);
            assert_accounted(db, import.job_id, &table);
            let after = state(db, import.job_id, &table);
            prop_assert_eq!(after.2[1], before.2[1] + fixed.rows_imported as i64);

            let undone = run_undo_fix(&db.store, &UndoFixRequest { fix_job_id: fixed.job_id }, &mut NoProgress, &CancelToken::new())
                .map_err(|failure| failure.error)
                .unwrap();
            prop_assert_eq!(undone.rows_removed, fixed.rows_imported);
            prop_assert_eq!(state(db, import.job_id, &table), before);
            assert_accounted(db, import.job_id, &table);
            Ok(())
        })?;
    }
}
