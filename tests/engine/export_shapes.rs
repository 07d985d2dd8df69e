//! Exports shaped for their reader, checked byte for byte: encodings (a refused character, a
//! replaced one), the byte order mark, CRLF, quoting styles, NULL strings, date and number
//! formats; Excel workbooks read back with calamine, split into sheets and files; partitioned
//! Parquet read back with DuckDB's Hive partitioning; and one table through every format back.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};
use sluice::engine::run_export;
use sluice::export::{
    CsvShape, ExportError, ExportFormat, ExportRequest, ExportSummary, LineEnding, OrderBy, ParquetCompression,
    QuoteStyle, ShapeError, TextEncoding, XlsxSplit,
};
use sluice::progress::{CancelToken, NoProgress};

use crate::support::TestDb;

/// Numbers of different lengths and signs, NULLs beside empty strings, quotes, delimiters and
/// line breaks in text, characters beyond Latin-1, dates before Excel's calendar and far after.
const MIXED: &str = "CREATE TABLE mixed (
        id INTEGER, amount DECIMAL(12,2), ratio DOUBLE, day DATE, stamp TIMESTAMP, name VARCHAR, ok BOOLEAN);
    INSERT INTO mixed VALUES
        (1, 12.50, 0.5, DATE '2024-01-05', TIMESTAMP '2024-01-05 13:45:06', 'plain', true),
        (-22, -3.25, -1e-7, DATE '2023-12-31', TIMESTAMP '2023-12-31 23:59:59', 'a,b \"q\"', false),
        (333, NULL, NULL, NULL, NULL, '', NULL),
        (4000, 1000.00, 12345.678, DATE '1899-06-01', TIMESTAMP '2024-02-29 00:00:01.5', 'line1\nline2', true),
        (5, 0.07, 3.0, DATE '2999-12-31', TIMESTAMP '1970-01-01 00:00:00', NULL, false),
        (60, 7.00, 100.0, DATE '2000-02-29', TIMESTAMP '2000-02-29 12:00:00', 'NULL', true);";

fn mixed_db() -> TestDb {
    let db = TestDb::new();
    db.store.conn().execute_batch(MIXED).unwrap();
    db
}

fn request(db: &TestDb, name: &str) -> ExportRequest {
    let mut request = ExportRequest::new("mixed", db.dir.path().join(name));
    request.order_by = Some(OrderBy {
        column: "id".into(),
        descending: false,
    });
    request
}

fn export(db: &TestDb, request: &ExportRequest) -> Result<ExportSummary, ExportError> {
    run_export(&db.store, request, &mut NoProgress, &CancelToken::new()).map_err(|failure| failure.error)
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn text(path: &Path) -> String {
    String::from_utf8(bytes(path)).unwrap()
}

// The one change since: the text NULL is quoted (an importer that knows NULL as a missing value
// read it as one).
#[test]
fn the_default_shape_is_what_sluice_always_wrote() {
    let db = mixed_db();
    let request = request(&db, "plain.csv");
    export(&db, &request).unwrap();
    assert_eq!(
        text(&request.out),
        "id,amount,ratio,day,stamp,name,ok\n\
         -22,-3.25,-1e-07,2023-12-31,2023-12-31 23:59:59,\"a,b \"\"q\"\"\",false\n\
         1,12.50,0.5,2024-01-05,2024-01-05 13:45:06,plain,true\n\
         5,0.07,3.0,2999-12-31,1970-01-01 00:00:00,,false\n\
         60,7.00,100.0,2000-02-29,2000-02-29 12:00:00,\"NULL\",true\n\
         333,,,,,\"\",\n\
         4000,1000.00,12345.678,1899-06-01,2024-02-29 00:00:01.5,\"line1\nline2\",true\n"
    );
}

/// Every type whose text the writer writes itself, at its edges: the limits of each integer
/// width, decimals with and without a whole part and beyond 64 bits, dates and timestamps BC and
/// after year 9999, the infinities, fractions of a second, NULLs in every column.
const EDGES: &str = "CREATE TABLE edges (
        n INTEGER, tiny TINYINT, big BIGINT, ubig UBIGINT, flag BOOLEAN, small_dec DECIMAL(4,4),
        dec DECIMAL(12,2), huge_dec DECIMAL(38,10), day DATE, stamp TIMESTAMP);
    INSERT INTO edges VALUES
        (1, -128, -9223372036854775808, 18446744073709551615, true, -0.0001, -0.50,
         '-1234567890123456789012345678.0123456789', DATE '0044-03-15 (BC)',
         TIMESTAMP '0044-03-15 (BC) 10:00:00.5'),
        (2, 127, 9223372036854775807, 0, false, 0.9999, 0.05, 0, DATE '12345-06-07',
         TIMESTAMP '294247-01-10 04:00:54.775806'),
        (3, 0, -1, 1, NULL, 0, -12345678.90, 0.0000000001, 'infinity', '-infinity'),
        (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (5, -1, 10, 100, true, -0.5, 100.00, -1, '-infinity', TIMESTAMP '1969-12-31 23:59:59.000001');";

fn edges_db() -> TestDb {
    let db = TestDb::new();
    db.store.conn().execute_batch(EDGES).unwrap();
    db
}

fn duckdb_copy(db: &TestDb, name: &str, options: &str) -> String {
    let path = db.dir.path().join(name);
    db.store
        .conn()
        .execute_batch(&format!(
            "COPY (SELECT * FROM edges ORDER BY n) TO '{}' (FORMAT csv, HEADER{options})",
            path.display()
        ))
        .unwrap();
    text(&path)
}

#[test]
fn numbers_dates_and_timestamps_are_written_as_duckdb_copy_writes_them() {
    let db = edges_db();
    let mut request = ExportRequest::new("edges", db.dir.path().join("sluice.csv"));
    request.order_by = Some(OrderBy {
        column: "n".into(),
        descending: false,
    });
    export(&db, &request).unwrap();
    let written = text(&request.out);
    assert_eq!(written, duckdb_copy(&db, "duckdb.csv", ""));
    assert!(
        written.contains(",0044-03-15 (BC),0044-03-15 (BC) 10:00:00.5\n"),
        "{written}"
    );
    assert!(written.contains(",-.0001,-0.50,"), "{written}");

    // A NULL string a number's text could equal: the number 0 and the text "0" must differ.
    request.shape.null_string = "0".into();
    export(&db, &request).unwrap();
    let written = text(&request.out);
    assert_eq!(written, duckdb_copy(&db, "duckdb-null.csv", ", NULLSTR '0'"));
    assert!(written.contains("\n3,\"0\",-1,1,0,"), "{written}");

    // A delimiter the dates' text holds puts them in quotes; every field, with QUOTE all.
    request.shape.null_string = String::new();
    request.delimiter = b' ';
    export(&db, &request).unwrap();
    assert_eq!(
        text(&request.out),
        duckdb_copy(&db, "duckdb-space.csv", ", DELIMITER ' '")
    );
    request.delimiter = b',';
    request.shape.quote = QuoteStyle::All;
    export(&db, &request).unwrap();
    let written = text(&request.out);
    assert!(written.contains("\n\"5\",\"-1\",\"10\",\"100\",\"true\","), "{written}");
}

#[test]
fn excel_on_windows_gets_a_bom_crlf_day_first_dates_and_decimal_commas() {
    let db = mixed_db();
    let mut request = request(&db, "excel.csv");
    request.delimiter = b';';
    request.shape = CsvShape {
        encoding: TextEncoding::Utf8Bom,
        line_ending: LineEnding::CrLf,
        date_format: Some("%d/%m/%Y".into()),
        timestamp_format: Some("%d/%m/%Y %H:%M".into()),
        decimal_comma: true,
        ..CsvShape::default()
    };
    export(&db, &request).unwrap();
    let written = bytes(&request.out);
    assert!(written.starts_with(b"\xEF\xBB\xBFid;amount;"), "{written:?}");
    assert_eq!(
        String::from_utf8(written[3..].to_vec()).unwrap(),
        "id;amount;ratio;day;stamp;name;ok\r\n\
         -22;-3,25;-1e-07;31/12/2023;31/12/2023 23:59;\"a,b \"\"q\"\"\";false\r\n\
         1;12,50;0,5;05/01/2024;05/01/2024 13:45;plain;true\r\n\
         5;0,07;3,0;31/12/2999;01/01/1970 00:00;;false\r\n\
         60;7,00;100,0;29/02/2000;29/02/2000 12:00;\"NULL\";true\r\n\
         333;;;;;\"\";\r\n\
         4000;1000,00;12345,678;01/06/1899;29/02/2024 00:00;\"line1\nline2\";true\r\n"
    );
}

#[test]
fn postgres_copy_gets_every_field_quoted_and_backslash_n_for_null() {
    let db = mixed_db();
    let mut request = request(&db, "pg.csv");
    request.columns = vec!["id".into(), "amount".into(), "name".into()];
    request.shape = CsvShape {
        quote: QuoteStyle::All,
        null_string: "\\N".into(),
        ..CsvShape::default()
    };
    export(&db, &request).unwrap();
    assert_eq!(
        text(&request.out),
        "\"id\",\"amount\",\"name\"\n\
         \"-22\",\"-3.25\",\"a,b \"\"q\"\"\"\n\
         \"1\",\"12.50\",\"plain\"\n\
         \"5\",\"0.07\",\\N\n\
         \"60\",\"7.00\",\"NULL\"\n\
         \"333\",\\N,\"\"\n\
         \"4000\",\"1000.00\",\"line1\nline2\"\n"
    );
}

#[test]
fn non_numeric_quoting_leaves_numbers_bare_and_a_null_marker_never_meets_its_text() {
    let db = mixed_db();
    let mut request = request(&db, "nn.csv");
    request.columns = vec!["id".into(), "ratio".into(), "day".into(), "name".into()];
    request.shape = CsvShape {
        quote: QuoteStyle::NonNumeric,
        null_string: "NULL".into(),
        ..CsvShape::default()
    };
    export(&db, &request).unwrap();
    assert_eq!(
        text(&request.out),
        "\"id\",\"ratio\",\"day\",\"name\"\n\
         -22,-1e-07,\"2023-12-31\",\"a,b \"\"q\"\"\"\n\
         1,0.5,\"2024-01-05\",\"plain\"\n\
         5,3.0,\"2999-12-31\",NULL\n\
         60,100.0,\"2000-02-29\",\"NULL\"\n\
         333,NULL,NULL,\"\"\n\
         4000,12345.678,\"1899-06-01\",\"line1\nline2\"\n"
    );
    // With quotes only where needed, the text "NULL" still gets them; the NULL does not.
    request.shape.quote = QuoteStyle::Needed;
    export(&db, &request).unwrap();
    let written = text(&request.out);
    assert!(
        written.contains("\n5,3.0,2999-12-31,NULL\n60,100.0,2000-02-29,\"NULL\"\n"),
        "{written}"
    );
}

#[test]
fn windows_1252_refuses_a_character_it_cannot_hold_naming_row_and_column_and_leaves_no_file() {
    let db = mixed_db();
    db.store
        .conn()
        .execute_batch("UPDATE mixed SET name = 'Łódź' WHERE id = 5")
        .unwrap();
    let mut request = request(&db, "ansi.csv");
    request.shape.encoding = TextEncoding::Windows1252;
    let error = export(&db, &request).unwrap_err();
    match &error {
        ExportError::Unencodable {
            row, column, character, ..
        } => {
            // Ordered by id (as numbers: -22, 1, 5, ...), the row with id 5 is the third.
            assert_eq!((*row, column.as_str(), *character), (Some(3), "name", 'Ł'));
        }
        other => panic!("{other}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("row 3") && message.contains("'name'") && message.contains("U+0141"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_dir(db.dir.path())
            .unwrap()
            .filter(|e| { e.as_ref().unwrap().file_name().to_string_lossy().contains("ansi") })
            .count(),
        0
    );
}

#[test]
fn windows_1252_replaces_when_asked_and_counts_what_it_replaced() {
    let db = mixed_db();
    db.store
        .conn()
        .execute_batch("UPDATE mixed SET name = 'Łódź €5 日本' WHERE id = 5")
        .unwrap();
    let mut request = request(&db, "ansi.csv");
    request.columns = vec!["id".into(), "name".into()];
    request.shape.encoding = TextEncoding::Windows1252;
    request.shape.replace_unencodable = true;
    let summary = export(&db, &request).unwrap();
    // Ł, ź, 日 and 本: four characters; ó and € are Windows-1252's own.
    assert_eq!(summary.replaced_characters, 4);
    let written = bytes(&request.out);
    let expected: &[u8] = b"5,?\xF3d? \x805 ??\n";
    assert!(
        written.windows(expected.len()).any(|window| window == expected),
        "{written:?}"
    );
}

#[test]
fn utf16le_starts_with_its_bom_and_holds_every_character() {
    let db = mixed_db();
    db.store
        .conn()
        .execute_batch("UPDATE mixed SET name = 'Łódź 😀' WHERE id = 5")
        .unwrap();
    let mut request = request(&db, "u16.csv");
    request.columns = vec!["id".into(), "name".into()];
    request.delimiter = b'\t';
    request.shape.encoding = TextEncoding::Utf16Le;
    export(&db, &request).unwrap();
    let written = bytes(&request.out);
    assert_eq!(&written[..2], b"\xFF\xFE");
    let units: Vec<u16> = written[2..]
        .chunks(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    let decoded = String::from_utf16(&units).unwrap();
    assert!(
        decoded.starts_with("id\tname\n-22\t\"a,b \"\"q\"\"\"\n1\tplain\n"),
        "{decoded}"
    );
    assert!(decoded.contains("\n5\tŁódź 😀\n"), "{decoded}");
}

#[test]
fn shapes_that_cannot_be_written_are_refused_before_any_file() {
    let db = mixed_db();
    let mut request = request(&db, "bad.csv");
    request.shape.decimal_comma = true;
    assert!(matches!(
        export(&db, &request),
        Err(ExportError::Shape(ShapeError::DecimalCommaWithCommaDelimiter))
    ));
    request.shape.decimal_comma = false;
    request.shape.date_format = Some("%Q nonsense".into());
    let error = export(&db, &request).unwrap_err();
    assert!(
        matches!(error, ExportError::Shape(ShapeError::BadFormat { .. })),
        "{error}"
    );
    request.shape.date_format = None;
    request.shape.null_string = "a,b".into();
    assert!(matches!(
        export(&db, &request),
        Err(ExportError::Shape(ShapeError::NullStringNeedsQuotes(_)))
    ));
    assert!(!request.out.exists());
}

#[test]
fn a_date_format_is_bound_so_a_quote_in_it_is_just_text() {
    let db = mixed_db();
    let mut request = request(&db, "quote.csv");
    request.columns = vec!["day".into()];
    request.shape.date_format = Some("%Y' OR '1'='1".into());
    export(&db, &request).unwrap();
    let written = text(&request.out);
    assert!(written.contains("2024' OR '1'='1\n"), "{written}");
}

fn sheet_rows(path: &Path, sheet: &str) -> Vec<Vec<Data>> {
    let mut workbook = open_workbook_auto(path).unwrap();
    let range = workbook.worksheet_range(sheet).unwrap();
    range.rows().map(|row| row.to_vec()).collect()
}

#[test]
fn xlsx_cells_are_typed_and_read_back_as_the_values_they_were() {
    let db = mixed_db();
    let mut request = request(&db, "book.xlsx");
    request.format = ExportFormat::Xlsx;
    export(&db, &request).unwrap();
    let rows = sheet_rows(&request.out, "mixed");
    assert_eq!(rows.len(), 7);
    assert_eq!(
        rows[0],
        ["id", "amount", "ratio", "day", "stamp", "name", "ok"]
            .map(|name| Data::String(name.into()))
            .to_vec()
    );
    // Sorted by id as numbers: -22, 1, 5, 60, 333, 4000.
    let first = &rows[2];
    assert_eq!(first[0], Data::Float(1.0));
    assert_eq!(first[1], Data::Float(12.5));
    assert_eq!(first[2], Data::Float(0.5));
    match &first[3] {
        Data::DateTime(date) => assert_eq!(date.as_datetime().unwrap().to_string(), "2024-01-05 00:00:00"),
        other => panic!("{other:?}"),
    }
    match &first[4] {
        Data::DateTime(stamp) => assert_eq!(stamp.as_datetime().unwrap().to_string(), "2024-01-05 13:45:06"),
        other => panic!("{other:?}"),
    }
    assert_eq!(first[5], Data::String("plain".into()));
    assert_eq!(first[6], Data::Bool(true));
    // Negative numbers, a quote and a comma in text.
    assert_eq!(rows[1][0], Data::Float(-22.0));
    assert_eq!(rows[1][1], Data::Float(-3.25));
    assert_eq!(rows[1][2], Data::Float(-1e-7));
    assert_eq!(rows[1][5], Data::String("a,b \"q\"".into()));
    // NULL is an empty cell.
    assert_eq!(rows[5][1], Data::Empty);
    assert_eq!(rows[5][6], Data::Empty);
    // A date before Excel's calendar stays readable as text; a line break stays in its cell.
    assert_eq!(rows[6][3], Data::String("1899-06-01".into()));
    assert_eq!(rows[6][5], Data::String("line1\nline2".into()));
    // The text NULL is text.
    assert_eq!(rows[4][5], Data::String("NULL".into()));
}

#[test]
fn xlsx_keeps_integers_beyond_doubles_exact_as_text() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch("CREATE TABLE big AS SELECT * FROM (VALUES (9007199254740993::BIGINT), (-5::BIGINT)) v(n)")
        .unwrap();
    let mut request = ExportRequest::new("big", db.dir.path().join("big.xlsx"));
    request.format = ExportFormat::Xlsx;
    export(&db, &request).unwrap();
    let rows = sheet_rows(&request.out, "big");
    assert_eq!(rows[1][0], Data::String("9007199254740993".into()));
    assert_eq!(rows[2][0], Data::Float(-5.0));
}

fn numbered(db: &TestDb, rows: u64) {
    db.store
        .conn()
        .execute_batch(&format!(
            "CREATE TABLE numbered AS SELECT i AS n, 'row ' || i AS label FROM range(1, {}) r(i)",
            rows + 1
        ))
        .unwrap();
}

fn column_of_numbers(rows: &[Vec<Data>]) -> Vec<f64> {
    rows.iter()
        .skip(1)
        .map(|row| match row[0] {
            Data::Float(value) => value,
            ref other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn xlsx_goes_on_in_further_sheets_past_the_row_limit() {
    let db = TestDb::new();
    numbered(&db, 25);
    let mut request = ExportRequest::new("numbered", db.dir.path().join("split.xlsx"));
    request.format = ExportFormat::Xlsx;
    request.xlsx.rows_per_sheet = Some(10);
    let summary = export(&db, &request).unwrap();
    assert_eq!(summary.rows_written, 25);
    let workbook = open_workbook_auto(&request.out).unwrap();
    assert_eq!(workbook.sheet_names(), ["numbered", "numbered (2)", "numbered (3)"]);
    let mut all = Vec::new();
    for sheet in ["numbered", "numbered (2)", "numbered (3)"] {
        let rows = sheet_rows(&request.out, sheet);
        // Every sheet has its header.
        assert_eq!(rows[0][0], Data::String("n".into()));
        all.extend(column_of_numbers(&rows));
    }
    assert_eq!(all, (1..=25).map(f64::from).collect::<Vec<_>>());
}

#[test]
fn xlsx_goes_on_in_further_files_when_asked() {
    let db = TestDb::new();
    numbered(&db, 25);
    let mut request = ExportRequest::new("numbered", db.dir.path().join("split.xlsx"));
    request.format = ExportFormat::Xlsx;
    request.xlsx.rows_per_sheet = Some(10);
    request.xlsx.split = XlsxSplit::Files;
    let summary = export(&db, &request).unwrap();
    let names: Vec<String> = summary
        .files
        .iter()
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["split-00001.xlsx", "split-00002.xlsx", "split-00003.xlsx"]);
    let counts: Vec<usize> = summary
        .files
        .iter()
        .map(|path| column_of_numbers(&sheet_rows(path, "numbered")).len())
        .collect();
    assert_eq!(counts, [10, 10, 5]);
    assert!(!request.out.exists());
}

#[test]
fn xlsx_refuses_a_cell_longer_than_excel_holds_naming_it() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch("CREATE TABLE long AS SELECT 1 AS id, 'ok' AS t UNION ALL SELECT 2, repeat('x', 40000)")
        .unwrap();
    let mut request = ExportRequest::new("long", db.dir.path().join("long.xlsx"));
    request.format = ExportFormat::Xlsx;
    request.order_by = Some(OrderBy {
        column: "id".into(),
        descending: false,
    });
    match export(&db, &request) {
        Err(ExportError::CellTooLong { row, column }) => assert_eq!((row, column.as_str()), (2, "t")),
        other => panic!("{other:?}"),
    }
    assert!(!request.out.exists());
}

#[test]
fn partitioned_parquet_reads_back_with_every_row_in_its_partition() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch(
            "CREATE TABLE sales AS SELECT i AS id, (i % 1000) - 500 AS amount,
                 CASE WHEN i % 8 = 7 THEN NULL ELSE ['north', 'south / east', 'wëst', 'a=b', '', 'NULL', '__HIVE_DEFAULT_PARTITION__'][i % 8 + 1] END AS region,
                 DATE '2024-01-01' + INTERVAL (i % 3) MONTH AS month
             FROM range(20000) r(i)",
        )
        .unwrap();
    let mut request = ExportRequest::new("sales", db.dir.path().join("lake"));
    request.format = ExportFormat::Parquet;
    request.parquet.partition_by = vec!["region".into(), "month".into()];
    request.parquet.compression = ParquetCompression::Zstd;
    request.parquet.row_group_rows = Some(1000);
    let summary = export(&db, &request).unwrap();
    assert_eq!(summary.rows_written, 20_000);
    assert!(request.out.join("region=north").is_dir());
    let pattern = format!("{}/**/*.parquet", request.out.display());
    let conn = db.store.conn();
    let same: i64 = conn
        .query_row(
            "SELECT count(*) FROM read_parquet(?, hive_partitioning = true) p
             JOIN sales s ON s.id = p.id AND s.amount = p.amount
                 AND s.region IS NOT DISTINCT FROM p.region AND s.month = CAST(p.month AS DATE)",
            [&pattern],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(same, 20_000);
    let read: i64 = conn
        .query_row(
            "SELECT count(*) FROM read_parquet(?, hive_partitioning = true)",
            [&pattern],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(read, 20_000);
    // The folders are named as DuckDB's own COPY names them.
    let duckdb_lake = db.dir.path().join("duckdb-lake");
    conn.execute_batch(&format!(
        "COPY sales TO '{}' (FORMAT parquet, PARTITION_BY (region, month))",
        duckdb_lake.display()
    ))
    .unwrap();
    let folders = |root: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(root)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(folders(&request.out), folders(&duckdb_lake));
    assert!(folders(&request.out).contains(&"region=%5F_HIVE_DEFAULT_PARTITION__".to_string()));
    // A second export into the same, now full, folder is refused rather than mixing files.
    assert!(matches!(export(&db, &request), Err(ExportError::FolderInUse(_))));
    // A partition column must be one of the exported columns.
    request.out = db.dir.path().join("lake2");
    request.columns = vec!["id".into()];
    request.parquet.partition_by = vec!["region".into()];
    assert!(matches!(export(&db, &request), Err(ExportError::PartitionColumn(_))));
    assert!(!request.out.exists());
}

/// A table for chunked Parquet: numbers of different lengths and signs, so an order by text
/// would show; NULLs beside empty strings, line breaks and an INTERVAL, which Parquet has no type
/// for.
fn chunk_db(rows: u64) -> TestDb {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch(&format!(
            "CREATE TABLE events AS SELECT i AS id,
                 CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7919 % 20011) - 10000 END AS amount,
                 CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'two\nlines' ELSE 'é \"q\"' END AS note,
                 DATE '2024-01-01' + (i % 400)::INTEGER AS day,
                 to_seconds(i) AS waited,
                 (i % 37) AS bucket
             FROM range({rows}) r(i)"
        ))
        .unwrap();
    db
}

/// Each file's rows as DuckDB's text, in the order the file holds them.
fn parquet_rows(db: &TestDb, path: &Path, columns: &str) -> Vec<Vec<Option<String>>> {
    let sql = format!(
        "SELECT {columns} FROM read_parquet('{}') ORDER BY file_row_number",
        path.display()
    );
    let count = columns.split(',').count();
    let conn = db.store.conn();
    let mut statement = conn.prepare(&sql).unwrap();
    statement
        .query_map([], |row| (0..count).map(|i| row.get::<_, Option<String>>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

const EVENT_TEXT: &str =
    "CAST(id AS VARCHAR), CAST(amount AS VARCHAR), note, CAST(day AS VARCHAR), CAST(waited AS VARCHAR)";

#[test]
fn chunked_parquet_holds_exactly_n_rows_per_file_in_the_export_order() {
    let db = chunk_db(10_007);
    let mut request = ExportRequest::new("events", db.dir.path().join("events.parquet"));
    request.format = ExportFormat::Parquet;
    request.chunk_rows = Some(3_000);
    request.order_by = Some(OrderBy {
        column: "amount".into(),
        descending: true,
    });
    let summary = export(&db, &request).unwrap();
    assert_eq!(summary.rows_written, 10_007);
    let names: Vec<String> = summary
        .files
        .iter()
        .map(|file| file.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "events-00001.parquet",
            "events-00002.parquet",
            "events-00003.parquet",
            "events-00004.parquet"
        ]
    );
    let mut read = Vec::new();
    for (file, expected_rows) in summary.files.iter().zip([3_000, 3_000, 3_000, 1_007]) {
        let rows = parquet_rows(&db, file, EVENT_TEXT);
        assert_eq!(rows.len(), expected_rows, "{}", file.display());
        read.extend(rows);
    }
    // The same rows in the same order as DuckDB sorts them: numbers as numbers, NULLs last.
    let conn = db.store.conn();
    let mut statement = conn
        .prepare(&format!(
            "SELECT {EVENT_TEXT} FROM events ORDER BY amount DESC NULLS LAST, id"
        ))
        .unwrap();
    let expected: Vec<Vec<Option<String>>> = statement
        .query_map([], |row| (0..5).map(|i| row.get::<_, Option<String>>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let amounts = |rows: &[Vec<Option<String>>]| rows.iter().map(|row| row[1].clone()).collect::<Vec<_>>();
    assert_eq!(amounts(&read), amounts(&expected));
    let mut read_sorted = read.clone();
    let mut expected_sorted = expected.clone();
    read_sorted.sort();
    expected_sorted.sort();
    assert_eq!(read_sorted, expected_sorted);
    // Typed columns stay typed; the INTERVAL, which Parquet cannot hold, is DuckDB's text of it.
    let (amount_type, waited_type): (String, String) = conn
        .query_row(
            "SELECT typeof(amount), typeof(waited) FROM read_parquet(?) LIMIT 1",
            [summary.files[0].display().to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((amount_type.as_str(), waited_type.as_str()), ("BIGINT", "VARCHAR"));
    // No temporary file is left beside them.
    let leftovers = std::fs::read_dir(db.dir.path())
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|ext| ext == "part")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn chunked_parquet_of_no_rows_is_one_file_with_the_columns() {
    let db = chunk_db(100);
    let mut request = ExportRequest::new("events", db.dir.path().join("none.parquet"));
    request.format = ExportFormat::Parquet;
    request.chunk_rows = Some(10);
    request.filters = vec![sluice::export::Filter {
        column: "id".into(),
        op: sluice::export::FilterOp::Lt,
        value: Some("-1".into()),
    }];
    let summary = export(&db, &request).unwrap();
    assert_eq!(summary.rows_written, 0);
    assert_eq!(summary.files.len(), 1);
    let columns: i64 = db
        .store
        .conn()
        .query_row(
            "SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet(?))",
            [summary.files[0].display().to_string()],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(columns, 6);
}

/// More partitions than files kept open, rows of each coming throughout the stream, and files of
/// at most N rows: every row lands once, in its partition, and no file is over N.
#[test]
fn partitions_past_the_open_file_limit_and_chunked_keep_every_row() {
    // More rows than one routed batch holds, so each partition's rows come throughout the stream.
    let db = chunk_db(200_000);
    let mut request = ExportRequest::new("events", db.dir.path().join("lake"));
    request.format = ExportFormat::Parquet;
    request.parquet.partition_by = vec!["bucket".into(), "note".into()];
    request.chunk_rows = Some(500);
    request.order_by = Some(OrderBy {
        column: "id".into(),
        descending: false,
    });
    let summary = export(&db, &request).unwrap();
    assert_eq!(summary.rows_written, 200_000);
    let pattern = format!("{}/**/*.parquet", request.out.display());
    let conn = db.store.conn();
    let (files, largest, rows): (i64, i64, i64) = conn
        .query_row(
            "SELECT count(*), max(n), sum(n) FROM (
                 SELECT filename, count(*) AS n FROM read_parquet(?, filename = true) GROUP BY filename)",
            [&pattern],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    assert_eq!(rows, 200_000);
    assert_eq!(largest, 500);
    assert!(files >= 400, "{files}");
    let same: i64 = conn
        .query_row(
            "SELECT count(*) FROM read_parquet(?, hive_partitioning = true) p
             JOIN events e ON e.id = p.id AND e.bucket = p.bucket AND e.note IS NOT DISTINCT FROM p.note
                 AND e.amount IS NOT DISTINCT FROM p.amount",
            [&pattern],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(same, 200_000);
    // Each partition's rows keep the export's order through its files data_0, data_1, ...
    let out_of_order: i64 = conn
        .query_row(
            "SELECT count(*) FROM (
                 SELECT id < lag(id) OVER (
                     PARTITION BY bucket, note
                     ORDER BY CAST(regexp_extract(filename, 'data_([0-9]+)', 1) AS INTEGER), file_row_number
                 ) AS back
                 FROM read_parquet(?, filename = true, file_row_number = true, hive_partitioning = true))
             WHERE back",
            [&pattern],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(out_of_order, 0);
}

/// Hundreds of partitions whose rows come interleaved, more than the files kept open: each is
/// still one file, not a file per batch of rows that reached it.
#[test]
fn many_interleaved_partitions_are_one_file_each() {
    let db = chunk_db(100_000);
    let mut request = ExportRequest::new("events", db.dir.path().join("lake"));
    request.format = ExportFormat::Parquet;
    request.parquet.partition_by = vec!["day".into()];
    let summary = export(&db, &request).unwrap();
    assert_eq!(summary.rows_written, 100_000);
    let pattern = format!("{}/**/*.parquet", request.out.display());
    let (files, partitions, rows): (i64, i64, i64) = db
        .store
        .conn()
        .query_row(
            "SELECT count(DISTINCT filename), count(DISTINCT day), count(*)
             FROM read_parquet(?, filename = true, hive_partitioning = true)",
            [&pattern],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    assert_eq!((files, partitions, rows), (400, 400, 100_000));
}

#[test]
fn a_parquet_export_partitioned_by_every_column_is_refused() {
    let db = chunk_db(10);
    let mut request = ExportRequest::new("events", db.dir.path().join("lake"));
    request.format = ExportFormat::Parquet;
    request.columns = vec!["bucket".into()];
    request.parquet.partition_by = vec!["bucket".into(), "BUCKET".into()];
    assert!(matches!(export(&db, &request), Err(ExportError::Unsupported { .. })));
    assert!(!request.out.exists());
}

/// The mixed table's rows, each value as DuckDB's text, from a query over `source`.
fn rows_of(db: &TestDb, source: &str) -> Vec<Vec<Option<String>>> {
    let mut statement = db
        .store
        .conn()
        .prepare(&format!(
            "SELECT CAST(id AS VARCHAR), CAST(amount AS VARCHAR), CAST(ratio AS VARCHAR), CAST(day AS VARCHAR),
                    CAST(stamp AS VARCHAR), name, CAST(ok AS VARCHAR) FROM {source} ORDER BY id"
        ))
        .unwrap();
    statement
        .query_map([], |row| (0..7).map(|i| row.get::<_, Option<String>>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn one_table_through_every_format_reads_back_as_itself() {
    let db = mixed_db();
    let original = rows_of(&db, "mixed");
    let conn = db.store.conn();
    // CSV in a shape another database reads, read back by DuckDB with the same conventions.
    let mut csv = request(&db, "round.csv");
    csv.shape = CsvShape {
        quote: QuoteStyle::All,
        null_string: "\\N".into(),
        line_ending: LineEnding::CrLf,
        ..CsvShape::default()
    };
    export(&db, &csv).unwrap();
    conn.execute(
        "CREATE TABLE from_csv AS SELECT * FROM read_csv(?, nullstr = '\\N', header = true,
             columns = {'id': 'INTEGER', 'amount': 'DECIMAL(12,2)', 'ratio': 'DOUBLE', 'day': 'DATE',
                        'stamp': 'TIMESTAMP', 'name': 'VARCHAR', 'ok': 'BOOLEAN'})",
        [csv.out.display().to_string()],
    )
    .unwrap();
    assert_eq!(rows_of(&db, "from_csv"), original);
    // Parquet keeps its types.
    let mut parquet = request(&db, "round.parquet");
    parquet.format = ExportFormat::Parquet;
    export(&db, &parquet).unwrap();
    let source = format!("read_parquet('{}')", parquet.out.display());
    assert_eq!(rows_of(&db, &source), original);
    // Excel: the numbers, dates, text and booleans of each cell, read back with calamine.
    let mut xlsx = request(&db, "round.xlsx");
    xlsx.format = ExportFormat::Xlsx;
    export(&db, &xlsx).unwrap();
    let rows = sheet_rows(&xlsx.out, "mixed");
    for (row, expected) in rows.iter().skip(1).zip(&original) {
        let id = match row[0] {
            Data::Float(value) => value.to_string(),
            ref other => panic!("{other:?}"),
        };
        assert_eq!(Some(id), expected[0]);
        let name = match &row[5] {
            Data::String(text) => Some(text.clone()),
            Data::Empty => None,
            other => panic!("{other:?}"),
        };
        // The empty string has no cell of its own in a workbook: it reads as empty.
        assert_eq!(name.unwrap_or_default(), expected[5].clone().unwrap_or_default());
        let ok = match row[6] {
            Data::Bool(value) => Some(value.to_string()),
            Data::Empty => None,
            ref other => panic!("{other:?}"),
        };
        assert_eq!(ok, expected[6]);
    }
    assert_eq!(rows.len() - 1, original.len());
}

/// The decimal comma touches numbers with a decimal point only, exponents included; a number
/// whose comma form is the NULL string is quoted like text equal to it, so neither reads back as
/// NULL.
#[test]
fn a_decimal_comma_turns_only_the_point_of_numbers_and_keeps_them_apart_from_null() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch(
            "CREATE TABLE amounts (id INTEGER, amount DOUBLE, note VARCHAR);
             INSERT INTO amounts VALUES (1, -1234.5, 'a.b'), (2, 7.5, NULL), (3, 1.5e20, '7,5'), (4, NULL, 'x');",
        )
        .unwrap();
    let mut request = ExportRequest::new("amounts", db.dir.path().join("amounts.csv"));
    request.order_by = Some(OrderBy {
        column: "id".into(),
        descending: false,
    });
    request.delimiter = b';';
    request.shape.decimal_comma = true;
    export(&db, &request).unwrap();
    assert_eq!(
        text(&request.out),
        "id;amount;note\n1;-1234,5;a.b\n2;7,5;\n3;1,5e+20;7,5\n4;;x\n"
    );

    request.shape.null_string = "7,5".into();
    export(&db, &request).unwrap();
    assert_eq!(
        text(&request.out),
        "id;amount;note\n1;-1234,5;a.b\n2;\"7,5\";7,5\n3;1,5e+20;\"7,5\"\n4;7,5;x\n"
    );

    request.shape.quote = QuoteStyle::All;
    request.shape.null_string = String::new();
    export(&db, &request).unwrap();
    assert_eq!(
        text(&request.out),
        "\"id\";\"amount\";\"note\"\n\"1\";\"-1234,5\";\"a.b\"\n\"2\";\"7,5\";\n\"3\";\"1,5e+20\";\"7,5\"\n\"4\";;\"x\"\n"
    );
}

/// PostgreSQL's COPY convention both ways: NULL written `\N`, the text `\N` quoted, and read back
/// with `--null-marker '\N'` (sniffed, not told the dialect) the quoted one is the text again.
#[test]
fn the_text_of_the_null_string_survives_an_export_and_an_import_with_that_marker() {
    let db = TestDb::new();
    db.store
        .conn()
        .execute_batch(
            "CREATE TABLE pg (id BIGINT, name VARCHAR);
             INSERT INTO pg VALUES (1, '\\N'), (2, NULL), (3, 'plain'), (4, ''), (5, 'NULL');",
        )
        .unwrap();
    let mut request = ExportRequest::new("pg", db.dir.path().join("pg.csv"));
    request.order_by = Some(OrderBy {
        column: "id".into(),
        descending: false,
    });
    request.shape = CsvShape {
        null_string: "\\N".into(),
        ..CsvShape::default()
    };
    export(&db, &request).unwrap();
    assert_eq!(
        text(&request.out),
        "id,name\n1,\"\\N\"\n2,\\N\n3,plain\n4,\"\"\n5,\"NULL\"\n"
    );
    let mut import = sluice::import::ImportRequest::new(&request.out, "back");
    import.hints.null_markers = vec!["\\N".into()];
    let summary = db.import_request(&import);
    assert_eq!((summary.rows_imported, summary.rows_failed), (5, 0));
    assert_eq!(
        db.rows("back"),
        db.rows("pg"),
        "every cell, NULL apart from the texts \\N, NULL and \"\""
    );
}
