//! Exports end to end: filters against plain SQL, injection, chunks, gzip, cancellation, odd
//! names, the formula guard, and a property test that export then import gives the table back.

use std::io::Read;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use sluice::engine::run_export;
use sluice::export::{ExportError, ExportFormat, ExportRequest, Filter, FilterOp, OrderBy};
use sluice::import::{ImportMode, ImportRequest, SniffHints};
use sluice::progress::{CancelToken, NoProgress, Progress};
use sluice::store::JobStatus;

use crate::support::TestDb;

fn people(db: &TestDb, rows: u64) {
    sluice::bench::create_people_table(db.store.conn(), "people", rows).unwrap();
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
    assert!(
        matches!(
            &refused,
            Err(ExportError::Query(error)) if matches!(**error, sluice::query::QueryError::UnknownTable { .. })
        ),
        "{refused:?}"
    );
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
             INSERT INTO \"odd table\" VALUES ('a,b', 9, 'x'), ('say \"hi\"', NULL, ''), (NULL, 10, 'line\nbreak')",
        )
        .unwrap();
    let out = db.dir.path().join("odd.csv");
    let mut request = ExportRequest::new("odd table", &out);
    request.order_by = Some(OrderBy {
        column: "with space".into(),
        descending: false,
    });
    export(&db, &request).unwrap();
    // 9 before 10: ordered by the number, not by its text.
    assert_eq!(
        read_text(&out),
        "\"we\"\"ird\",with space,ünï\n\"a,b\",9,x\n,10,\"line\nbreak\"\n\"say \"\"hi\"\"\",,\"\"\n"
    );
}

#[test]
fn the_formula_guard_prefixes_text_starting_with_any_of_its_six_triggers_and_leaves_numbers() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch(
            "CREATE TABLE f (t VARCHAR, n INTEGER); INSERT INTO f VALUES \
             ('=1+1', -5), ('@SUM(A1)', 2), ('ok', 3), ('+1', 4), ('-1', -6), \
             (chr(9) || 'x', 7), (chr(13) || 'x', 8), ('a=b', -9)",
        )
        .unwrap();
    let out = db.dir.path().join("f.csv");
    let mut request = ExportRequest::new("f", &out);
    request.formula_guard = true;
    export(&db, &request).unwrap();
    // A carriage return also needs quotes; the guard goes inside them.
    assert_eq!(
        read_text(&out),
        "t,n\n'=1+1,-5\n'@SUM(A1),2\nok,3\n'+1,4\n'-1,-6\n'\tx,7\n\"'\rx\",8\na=b,-9\n"
    );
    request.formula_guard = false;
    let plain = db.dir.path().join("plain.csv");
    request.out = plain.clone();
    export(&db, &request).unwrap();
    assert_eq!(
        read_text(&plain),
        "t,n\n=1+1,-5\n@SUM(A1),2\nok,3\n+1,4\n-1,-6\n\tx,7\n\"\rx\",8\na=b,-9\n"
    );
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

/// A table whose values sort one way by their type and another as text: whole numbers of
/// different digit counts and signs, decimals, doubles, dates and timestamps across years
/// (some past 9999, which text puts before 2000), booleans, and NULLs in every sorted column.
fn sortable_table(db: &TestDb) {
    db.store
        .conn()
        .execute_batch(
            "CREATE TABLE s (id INTEGER, i INTEGER, n BIGINT, amount DECIMAL(12,2), f DOUBLE, dt DATE, ts TIMESTAMP, b BOOLEAN);
             INSERT INTO s VALUES
               (1, 9, 9, 9.50, 9.5, DATE '1999-12-31', TIMESTAMP '1999-12-31 23:59:59', true),
               (2, 10, 10, 10.25, 10.0, DATE '2000-01-01', TIMESTAMP '2000-01-01 00:00:00', false),
               (3, 100, 100009, 100009.00, 1e10, DATE '2010-05-06', TIMESTAMP '2010-05-06 09:30:00', NULL),
               (4, -3, 10001, -0.50, -1000.0, make_date(10000, 1, 1), make_timestamp(10000, 1, 1, 0, 0, 0), true),
               (5, 1000, -5, -10.00, -5.25, DATE '1970-01-01', TIMESTAMP '1970-01-01 00:00:00.5', false),
               (6, NULL, -10, 2.00, 0.0025, NULL, NULL, true),
               (7, 7, NULL, NULL, NULL, DATE '0999-03-04', TIMESTAMP '0999-03-04 05:06:07', NULL),
               (8, -20, 0, 0.00, 0.0, DATE '2000-01-02', TIMESTAMP '2000-01-01 10:00:00', NULL),
               (9, 8, 2, 100.00, 99.0, DATE '1999-01-31', TIMESTAMP '1999-12-31 09:00:00', false),
               (10, 99, 9, 9.05, -0.5, DATE '2010-05-06', TIMESTAMP '2010-05-06 09:30:00', true),
               (11, 11, -100009, 1000.00, 0.00001, DATE '2024-02-29', TIMESTAMP '2024-02-29 12:00:00', true),
               (12, 5, NULL, -100.00, 123456.789, DATE '1900-01-01', make_timestamp(12000, 6, 1, 12, 0, 0), NULL),
               (13, -1, 100, 99.99, -0.001, make_date(10001, 12, 31), TIMESTAMP '1969-12-31 23:59:59.999999', false),
               (14, NULL, 1, 1.00, NULL, DATE '2000-01-01', NULL, NULL)",
        )
        .unwrap();
}

/// The first column of `sql`'s rows, as text (NULL as `None`).
fn text_column(db: &TestDb, sql: &str) -> Vec<Option<String>> {
    let mut statement = db.store.conn().prepare(sql).unwrap();
    statement
        .query_map([], |row| row.get::<_, Option<String>>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// The values of `column` in a CSV file Sluice wrote (gzip or not), in file order; an empty
/// field is NULL (no sorted column here holds an empty string).
fn csv_column(path: &Path, column: &str) -> Vec<Option<String>> {
    let text = read_text(path);
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let index = reader
        .headers()
        .unwrap()
        .iter()
        .position(|header| header == column)
        .unwrap_or_else(|| panic!("no column {column} in {}", path.display()));
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            let value = &record[index];
            (!value.is_empty()).then(|| value.to_string())
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SortedOutput {
    Csv,
    Gzip,
    Chunks,
    Parquet,
}

/// Rows per chunk in the chunked exports: several chunks, the last one short.
const SORT_CHUNK_ROWS: u64 = 4;

#[test]
fn sorted_exports_sort_numbers_and_dates_by_their_type_not_as_text() {
    let db = TestDb::new();
    sortable_table(&db);
    let keys = ["i", "n", "amount", "f", "dt", "ts", "b"];
    // The data must sort differently as text, or this test could not fail on a text sort.
    // (Booleans sort the same either way: false, true.)
    for key in keys.iter().filter(|key| **key != "b") {
        let by_type = text_column(&db, &format!("SELECT CAST({key} AS VARCHAR) FROM s ORDER BY s.{key}"));
        let as_text = text_column(&db, &format!("SELECT CAST({key} AS VARCHAR) AS k FROM s ORDER BY k"));
        assert_ne!(by_type, as_text, "the values of {key} sort the same as text");
    }
    let filters = [
        (None, ""),
        (
            Some(filter("id", FilterOp::Between, Some("3,13"))),
            " WHERE id BETWEEN 3 AND 13",
        ),
    ];
    let mut case = 0;
    for key in keys {
        for descending in [false, true] {
            for (with_filter, where_sql) in &filters {
                // Where DuckDB puts NULLs by default is where the export must put them: the
                // expected order is DuckDB's own ORDER BY on the typed column.
                let direction = if descending { " DESC" } else { "" };
                let expected = text_column(
                    &db,
                    &format!("SELECT CAST({key} AS VARCHAR) FROM s{where_sql} ORDER BY s.{key}{direction}"),
                );
                let mut expected_ids = text_column(&db, &format!("SELECT CAST(id AS VARCHAR) FROM s{where_sql}"));
                expected_ids.sort();
                for output in [
                    SortedOutput::Csv,
                    SortedOutput::Gzip,
                    SortedOutput::Chunks,
                    SortedOutput::Parquet,
                ] {
                    case += 1;
                    let what = format!("order by {key}{direction}{where_sql}, {output:?}");
                    let dir = db.dir.path().join(format!("sorted-{case}"));
                    std::fs::create_dir_all(&dir).unwrap();
                    let out = dir.join(if output == SortedOutput::Parquet {
                        "s.parquet"
                    } else {
                        "s.csv"
                    });
                    let mut request = ExportRequest::new("s", &out);
                    request.order_by = Some(OrderBy {
                        column: key.to_string(),
                        descending,
                    });
                    request.filters = with_filter.iter().cloned().collect();
                    match output {
                        SortedOutput::Csv => {}
                        SortedOutput::Gzip => request.gzip_level = Some(6),
                        SortedOutput::Chunks => request.chunk_rows = Some(SORT_CHUNK_ROWS),
                        SortedOutput::Parquet => request.format = ExportFormat::Parquet,
                    }
                    let summary = export(&db, &request).unwrap();
                    assert_eq!(summary.rows_written, expected.len() as u64, "{what}");
                    let (got, mut got_ids) = if output == SortedOutput::Parquet {
                        assert_eq!(summary.files.len(), 1, "{what}");
                        let file = sluice::sql::quote_literal(&summary.files[0].display().to_string());
                        (
                            text_column(&db, &format!("SELECT CAST({key} AS VARCHAR) FROM read_parquet({file})")),
                            text_column(&db, &format!("SELECT CAST(id AS VARCHAR) FROM read_parquet({file})")),
                        )
                    } else {
                        if output == SortedOutput::Chunks {
                            // Each chunk holds the next rows in order, all but the last one full.
                            let chunks: Vec<&[Option<String>]> = expected.chunks(SORT_CHUNK_ROWS as usize).collect();
                            assert_eq!(summary.files.len(), chunks.len(), "{what}");
                            for (file, chunk) in summary.files.iter().zip(&chunks) {
                                assert_eq!(csv_column(file, key), chunk.to_vec(), "{what}: {}", file.display());
                            }
                        } else {
                            assert_eq!(summary.files.len(), 1, "{what}");
                        }
                        (
                            summary.files.iter().flat_map(|file| csv_column(file, key)).collect(),
                            summary
                                .files
                                .iter()
                                .flat_map(|file| csv_column(file, "id"))
                                .collect::<Vec<_>>(),
                        )
                    };
                    // Rows with equal keys may come in any order, so the keys are compared in
                    // order and the rows as a set.
                    assert_eq!(got, expected, "{what}");
                    got_ids.sort();
                    assert_eq!(got_ids, expected_ids, "{what}");
                }
            }
        }
    }
}

/// Text values, with what a CSV round trip must tell apart: NULL and the empty string, spaces
/// alone, quotes, delimiters, CR, LF and CRLF, formula starts, non-ASCII, and the word NULL.
fn text_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        2 => Just(Some(String::new())),
        1 => " {1,3}".prop_map(Some),
        6 => "[a-zA-Z0-9 ,;\"'\n\r\t=+@-]{1,12}".prop_map(Some),
        1 => "[äöüß€✓日本]{1,4}".prop_map(Some),
        2 => prop::sample::select(vec![
            "\"", "\"\"", ",", "\r", "\n", "\r\n", " , ", " leading and trailing ", "NULL", "\\N", "a\"b,c\r\nd",
        ])
        .prop_map(|text| Some(text.to_string())),
    ]
}

/// Doubles, with the values a text form can lose: NaN, both infinities, -0.0, the extremes and
/// subnormals.
fn double_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e9f64..1e9,
        2 => any::<f64>().prop_filter("finite", |value| value.is_finite()),
        2 => prop::sample::select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            -1.5e-310,
            0.1,
            1e21,
        ]),
    ]
}

/// One row of every type Sluice imports; NULL possible in every column.
#[derive(Clone, Debug)]
struct TypedRow {
    b: Option<bool>,
    i: Option<i32>,
    n: Option<i64>,
    f: Option<f64>,
    /// Thousandths, for DECIMAL(18,3).
    amount: Option<i64>,
    t: Option<String>,
    dt: Option<(i32, u32, u32)>,
    /// (year, month, day, hour, minute, second, microsecond)
    ts: Option<(i32, u32, u32, u32, u32, u32, u32)>,
}

fn typed_row() -> impl Strategy<Value = TypedRow> {
    let sometimes = 0.8;
    (
        prop::option::weighted(sometimes, any::<bool>()),
        prop::option::weighted(sometimes, any::<i32>()),
        prop::option::weighted(sometimes, any::<i64>()),
        prop::option::weighted(sometimes, double_value()),
        prop::option::weighted(
            sometimes,
            prop_oneof![-999_999_999_999_999_999i64..=999_999_999_999_999_999, -2000i64..=2000,],
        ),
        text_value(),
        prop::option::weighted(sometimes, (1000i32..=9999, 1u32..=12, 1u32..=28)),
        prop::option::weighted(
            sometimes,
            (
                1000i32..=9999,
                1u32..=12,
                1u32..=28,
                0u32..24,
                0u32..60,
                0u32..60,
                prop_oneof![Just(0u32), 0u32..1_000_000],
            ),
        ),
    )
        .prop_map(|(b, i, n, f, amount, t, dt, ts)| TypedRow {
            b,
            i,
            n,
            f,
            amount,
            t,
            dt,
            ts,
        })
}

fn thousandths(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    format!("{sign}{}.{:03}", magnitude / 1000, magnitude % 1000)
}

const TYPED_COLUMNS: &str =
    "b BOOLEAN, i INTEGER, n BIGINT, f DOUBLE, amount DECIMAL(18,3), t VARCHAR, dt DATE, ts TIMESTAMP";

/// Rows of `left` that `right` lacks, counting duplicates: every column compared by value, NULL
/// equal to NULL and apart from '', and the double also by its text, since -0.0 = 0.0 as a number.
fn rows_missing(db: &TestDb, left: &str, right: &str) -> i64 {
    db.count(&format!(
        "SELECT count(*) FROM (\
         SELECT *, CAST(f AS VARCHAR) AS f_text FROM {left} \
         EXCEPT ALL \
         SELECT *, CAST(f AS VARCHAR) AS f_text FROM {right})"
    ))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn export_then_import_keeps_empty_strings_nulls_and_special_doubles_in_every_type(
        rows in prop::collection::vec(typed_row(), 0..30),
    ) {
        let db = TestDb::new();
        let conn = db.store.conn();
        conn.execute_batch(&format!("CREATE TABLE a ({TYPED_COLUMNS})")).unwrap();
        {
            let mut insert = conn
                .prepare(
                    "INSERT INTO a VALUES (?, ?, ?, ?, CAST(? AS DECIMAL(18,3)), ?, CAST(? AS DATE), CAST(? AS TIMESTAMP))",
                )
                .unwrap();
            for row in &rows {
                let amount = row.amount.map(thousandths);
                let date = row.dt.map(|(year, month, day)| format!("{year:04}-{month:02}-{day:02}"));
                let timestamp = row.ts.map(|(year, month, day, hour, minute, second, micros)| {
                    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{micros:06}")
                });
                insert
                    .execute(duckdb::params![row.b, row.i, row.n, row.f, amount, row.t, date, timestamp])
                    .unwrap();
            }
        }
        for gzip in [false, true] {
            let target = if gzip { "b_gzip" } else { "b_csv" };
            // The target has the source's exact column types; the import appends to it.
            conn.execute_batch(&format!("CREATE TABLE {target} AS SELECT * FROM a LIMIT 0")).unwrap();
            let out: PathBuf = db.dir.path().join(if gzip { "a.csv.gz" } else { "a.csv" });
            let mut request = ExportRequest::new("a", &out);
            request.gzip_level = gzip.then_some(6);
            let exported = export(&db, &request).unwrap();
            prop_assert_eq!(exported.rows_written, rows.len() as u64);
            let file = exported.files[0].clone();
            let mut import = ImportRequest::new(&file, target);
            import.mode = ImportMode::Append;
            import.hints = SniffHints {
                delimiter: Some(b','),
                quote: Some(b'"'),
                has_header: Some(true),
                ..SniffHints::default()
            };
            let summary = db.import_request(&import);
            let written = read_text(&file);
            prop_assert_eq!(
                summary.rows_failed, 0,
                "failed {:?} in {:?}", db.failed_lines(summary.job_id), written
            );
            prop_assert_eq!(summary.rows_imported, rows.len() as u64);
            prop_assert_eq!(rows_missing(&db, "a", target), 0, "rows lost or changed (gzip {}): {:?}", gzip, written);
            prop_assert_eq!(rows_missing(&db, target, "a"), 0, "rows added or changed (gzip {}): {:?}", gzip, written);
        }
    }
}
