//! Exports end to end: filters against plain SQL, injection, chunks, gzip, cancellation, odd
//! names, the formula guard, and a property test that export then import gives the table back.

use std::io::Read;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use sluice::export::{ExportError, ExportFormat, ExportRequest, Filter, FilterOp, OrderBy, run_export};
use sluice::import::{ColumnSpec, ColumnType, ImportRequest, SchemaFile};
use sluice::progress::{CancelToken, NoProgress, Progress};
use sluice::store::JobStatus;

use crate::support::TestDb;

fn people(db: &TestDb, rows: u64) {
    db.store
        .conn()
        .execute_batch(&sluice::bench::people_table_sql(rows))
        .unwrap();
}

fn export(db: &TestDb, request: &ExportRequest) -> Result<sluice::export::ExportSummary, ExportError> {
    run_export(&db.store, request, &mut NoProgress, &CancelToken::new()).map_err(|failure| failure.error)
}

fn read_text(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

fn data_lines(path: &Path) -> usize {
    read_text(path).lines().count() - 1
}

fn filter(column: &str, op: FilterOp, value: Option<&str>) -> Filter {
    Filter {
        column: column.into(),
        op,
        value: value.map(str::to_string),
    }
}

#[test]
fn every_operator_selects_what_plain_sql_selects() {
    let db = TestDb::new();
    people(&db, 2_000);
    db.store
        .conn()
        .execute_batch("UPDATE people SET name = NULL WHERE id % 10 = 0")
        .unwrap();
    let cases = [
        (filter("age", FilterOp::Eq, Some("30")), "age = 30"),
        (filter("age", FilterOp::Ne, Some("30")), "age <> 30"),
        (filter("age", FilterOp::Lt, Some("30")), "age < 30"),
        (filter("age", FilterOp::Le, Some("30")), "age <= 30"),
        (filter("amount", FilterOp::Gt, Some("5000.5")), "amount > 5000.5"),
        (
            filter("signup_date", FilterOp::Ge, Some("2020-01-01")),
            "signup_date >= DATE '2020-01-01'",
        ),
        (filter("name", FilterOp::Contains, Some("Tur")), "name LIKE '%Tur%'"),
        (
            filter("email", FilterOp::StartsWith, Some("user1")),
            "email LIKE 'user1%'",
        ),
        (
            filter("email", FilterOp::EndsWith, Some("7@example.com")),
            "email LIKE '%7@example.com'",
        ),
        (filter("name", FilterOp::IsNull, None), "name IS NULL"),
        (filter("name", FilterOp::NotNull, None), "name IS NOT NULL"),
        (
            filter("country", FilterOp::In, Some("DE, FR")),
            "country IN ('DE', 'FR')",
        ),
        (
            filter("id", FilterOp::Between, Some("100,250")),
            "id BETWEEN 100 AND 250",
        ),
    ];
    for (index, (filter, sql)) in cases.into_iter().enumerate() {
        let out = db.dir.path().join(format!("op{index}.csv"));
        let mut request = ExportRequest::new("people", &out);
        request.filters = vec![filter.clone()];
        let summary = export(&db, &request).unwrap();
        let expected = db.count(&format!("SELECT count(*) FROM people WHERE {sql}"));
        assert!(expected > 0, "{sql} selects nothing");
        assert_eq!(summary.rows_written as i64, expected, "{filter:?}");
        assert_eq!(data_lines(&out) as i64, expected, "{filter:?}");
    }
}

#[test]
fn injection_through_values_and_names_goes_nowhere() {
    let db = TestDb::new();
    people(&db, 100);
    db.store
        .conn()
        .execute_batch("CREATE TABLE users (x INTEGER); INSERT INTO users VALUES (1)")
        .unwrap();
    let out = db.dir.path().join("inj.csv");
    let mut request = ExportRequest::new("people", &out);
    request.filters = vec![filter("name", FilterOp::Eq, Some("x' OR '1'='1"))];
    assert_eq!(export(&db, &request).unwrap().rows_written, 0);

    let refused = export(
        &db,
        &ExportRequest::new("users; DROP TABLE users", db.dir.path().join("u.csv")),
    );
    assert!(matches!(refused, Err(ExportError::UnknownTable { .. })), "{refused:?}");
    assert_eq!(db.count("SELECT count(*) FROM users"), 1);
    let mut bad_column = ExportRequest::new("people", db.dir.path().join("c.csv"));
    bad_column.columns = vec!["nmae".into()];
    let error = export(&db, &bad_column).unwrap_err();
    assert_eq!(error.to_string(), "there is no column 'nmae'; did you mean 'name'?");
    let mut bad_value = ExportRequest::new("people", db.dir.path().join("v.csv"));
    bad_value.filters = vec![filter("age", FilterOp::Gt, Some("old"))];
    assert_eq!(
        export(&db, &bad_value).unwrap_err().to_string(),
        "'old' is not a valid INTEGER for column 'age'"
    );
}

#[test]
fn chunks_split_at_n_rows_each_with_a_header() {
    let db = TestDb::new();
    people(&db, 1_000);
    for (rows, chunk, expected_files) in [(1_000, 250, 4), (1_000, 300, 4), (0, 100, 1)] {
        let dir = db.dir.path().join(format!("chunks-{rows}-{chunk}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut request = ExportRequest::new("people", dir.join("people.csv"));
        request.chunk_rows = Some(chunk);
        request.filters = vec![filter("id", FilterOp::Le, Some(&rows.to_string()))];
        request.gzip_level = Some(1);
        let summary = export(&db, &request).unwrap();
        assert_eq!(summary.files.len(), expected_files, "{rows}/{chunk}");
        let counts: Vec<usize> = summary.files.iter().map(|path| data_lines(path)).collect();
        assert_eq!(counts.iter().sum::<usize>(), rows as usize);
        assert!(counts.iter().all(|count| *count as u64 <= chunk));
        assert_eq!(summary.files[0], dir.join("people-00001.csv.gz"));
        assert!(
            summary
                .files
                .iter()
                .all(|path| read_text(path).starts_with("id,name,email"))
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), expected_files);
    }
}

#[test]
fn a_cancelled_export_leaves_no_file_at_all() {
    let db = TestDb::new();
    people(&db, 200_000);
    let dir = db.dir.path().join("cancelled");
    std::fs::create_dir_all(&dir).unwrap();
    let mut request = ExportRequest::new("people", dir.join("people.csv"));
    request.chunk_rows = Some(10_000);
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    let mut cancel_midway = |progress: &Progress| {
        if progress.rows_written > 50_000 {
            trigger.cancel();
        }
    };
    let summary = run_export(&db.store, &request, &mut cancel_midway, &cancel).unwrap();
    assert_eq!(summary.status, JobStatus::Cancelled);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn odd_column_names_and_values_survive() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch(
            "CREATE TABLE \"odd table\" (\"we\"\"ird\" VARCHAR, \"with space\" INTEGER, \"ünï\" VARCHAR);
             INSERT INTO \"odd table\" VALUES ('a,b', 1, 'x'), ('say \"hi\"', NULL, ''), (NULL, 3, 'line\nbreak')",
        )
        .unwrap();
    let out = db.dir.path().join("odd.csv");
    let mut request = ExportRequest::new("odd table", &out);
    request.order_by = Some(OrderBy {
        column: "with space".into(),
        descending: false,
    });
    export(&db, &request).unwrap();
    assert_eq!(
        read_text(&out),
        "\"we\"\"ird\",with space,ünï\n\"a,b\",1,x\n,3,\"line\nbreak\"\n\"say \"\"hi\"\"\",,\"\"\n"
    );
}

#[test]
fn the_formula_guard_prefixes_text_and_leaves_numbers() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch(
            "CREATE TABLE f (t VARCHAR, n INTEGER); INSERT INTO f VALUES ('=1+1', -5), ('@SUM(A1)', 2), ('ok', 3)",
        )
        .unwrap();
    let out = db.dir.path().join("f.csv");
    let mut request = ExportRequest::new("f", &out);
    request.formula_guard = true;
    export(&db, &request).unwrap();
    assert_eq!(read_text(&out), "t,n\n'=1+1,-5\n'@SUM(A1),2\nok,3\n");
    request.formula_guard = false;
    let plain = db.dir.path().join("plain.csv");
    request.out = plain.clone();
    export(&db, &request).unwrap();
    assert!(read_text(&plain).contains("\n=1+1,-5\n"));
}

#[test]
fn parquet_export_writes_the_filtered_rows() {
    let db = TestDb::new();
    people(&db, 1_000);
    let out = db.dir.path().join("people.parquet");
    let mut request = ExportRequest::new("people", &out);
    request.format = ExportFormat::Parquet;
    request.filters = vec![filter("country", FilterOp::Eq, Some("DE"))];
    let summary = export(&db, &request).unwrap();
    let expected = db.count("SELECT count(*) FROM people WHERE country = 'DE'");
    assert_eq!(summary.rows_written as i64, expected);
    let in_file = db.count(&format!("SELECT count(*) FROM read_parquet('{}')", out.display()));
    assert_eq!(in_file, expected);
}

fn text_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        4 => "[a-zA-Z0-9 ,;\"'\n\r\t=+@-]{1,12}".prop_map(Some),
        1 => "[äöüß€✓日本]{1,4}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, .. ProptestConfig::default() })]

    #[test]
    fn export_then_import_gives_the_table_back(
        rows in prop::collection::vec((text_value(), prop::option::of(any::<i64>()), prop::option::of(-1e9f64..1e9)), 0..40),
        gzip in any::<bool>(),
    ) {
        let db = TestDb::new();
        db.store.conn().execute_batch("CREATE TABLE src (t VARCHAR, i BIGINT, d DOUBLE, seq INTEGER)").unwrap();
        {
            let mut appender = db.store.conn().appender("src").unwrap();
            for (seq, (text, int, double)) in rows.iter().enumerate() {
                appender.append_row(duckdb::params![text, int, double, seq as i32]).unwrap();
            }
        }
        let out: PathBuf = db.dir.path().join(if gzip { "rt.csv.gz" } else { "rt.csv" });
        let mut request = ExportRequest::new("src", &out);
        request.gzip_level = gzip.then_some(6);
        request.order_by = Some(OrderBy { column: "seq".into(), descending: false });
        export(&db, &request).unwrap();
        let mut import = ImportRequest::new(&out, "dst");
        import.schema = Some(SchemaFile { columns: vec![
            ColumnSpec::new("t", ColumnType::Varchar),
            ColumnSpec::new("i", ColumnType::BigInt),
            ColumnSpec::new("d", ColumnType::Double),
            ColumnSpec::new("seq", ColumnType::Integer),
        ]});
        let summary = db.import_request(&import);
        prop_assert_eq!(summary.rows_failed, 0);
        prop_assert_eq!(summary.rows_imported, rows.len() as u64);
        let differing = db.count(
            "SELECT count(*) FROM src FULL OUTER JOIN dst USING (seq) \
             WHERE src.t IS DISTINCT FROM dst.t OR src.i IS DISTINCT FROM dst.i OR src.d IS DISTINCT FROM dst.d",
        );
        prop_assert_eq!(differing, 0);
    }
}
