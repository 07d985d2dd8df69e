//! Accounting for every input kind: csv, tsv, gzip, zstd, zip, xlsx, xlsm, xlsb, xls, ods,
//! Parquet, NDJSON, and a folder mixing them. Each holds title lines, blank lines, comments or
//! failed rows, and imported + failed + skipped is checked against a count Sluice did not make:
//! the `csv` crate's records for text, calamine's rows for workbooks, DuckDB's own Parquet
//! reader, and the lines of NDJSON.

use std::io::Write;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, open_workbook_auto};
use sluice::import::{ImportRequest, ImportSummary};

use crate::support::TestDb;

/// A title, blank lines, comments, a short row and a long row among 12 good ones.
const TEXT: &str = "Quarterly extract, all regions\n\n# exported by the billing system\n\
id,name,amount,day\n1,Ann,1.25,2024-01-01\n2,Bob,2.5,2024-01-02\n3,Cy,3.75,2024-01-03\n\
4,Di,5,2024-01-04\n# a comment between rows\n5,Ed,6.25,2024-01-05\n6,short row\n\
7,Flo,8.75,2024-01-07,stray\n8,Gus,10,2024-01-08\n\n9,Hal,11.25,2024-01-09\n10,Ida,12.5,2024-01-10\n\
11,Jo,13.75,2024-01-11\n12,Kim,15,2024-01-12\n13,Lu,16.25,2024-01-13\n14,Mo,17.5,2024-01-14\n";

/// What an independent reader counts in a file: the records it holds (header included), and
/// the blank lines and comment lines it skips, which Sluice counts as skipped lines.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counted {
    records: u64,
    blank: u64,
    comments: u64,
    /// Header records in the file; `None` for a sheet, whose first row Sluice may take as data.
    headers: Option<u64>,
}

impl std::ops::Add for Counted {
    type Output = Counted;
    fn add(self, other: Counted) -> Counted {
        Counted {
            records: self.records + other.records,
            blank: self.blank + other.blank,
            comments: self.comments + other.comments,
            headers: Some(self.headers.unwrap_or(0) + other.headers.unwrap_or(0)),
        }
    }
}

/// The `csv` crate's records of delimited text (comments left out as it leaves them), and its
/// blank and comment lines by a scan of the lines (the text has no quoted line breaks).
fn counted_text(text: &str, delimiter: u8) -> Counted {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let records = reader.byte_records().inspect(|record| assert!(record.is_ok())).count() as u64;
    Counted {
        records,
        blank: text.lines().filter(|line| line.is_empty()).count() as u64,
        comments: text.lines().filter(|line| line.starts_with('#')).count() as u64,
        headers: Some(1),
    }
}

/// calamine's rows of the first sheet: those with a value, and the empty ones between them.
fn counted_sheet(path: &Path) -> Counted {
    let mut workbook = open_workbook_auto(path).unwrap();
    let range = workbook.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(range.start().map(|(row, _)| row), Some(0), "{}", path.display());
    let filled = |row: &[Data]| row.iter().any(|cell| !matches!(cell, Data::Empty));
    let rows: Vec<bool> = range.rows().map(filled).collect();
    Counted {
        records: rows.iter().filter(|filled| **filled).count() as u64,
        blank: rows.iter().filter(|filled| !**filled).count() as u64,
        comments: 0,
        headers: None,
    }
}

/// Imported + failed + skipped against the independent count (less the header lines, which are
/// neither).
fn check(summary: &ImportSummary, counted: Counted, what: &str) {
    let headers = counted.headers.unwrap_or(u64::from(summary.has_header));
    assert_eq!(
        summary.rows_imported + summary.rows_failed + summary.rows_skipped,
        counted.records + counted.blank + counted.comments - headers,
        "{what}: {summary:?}, counted {counted:?}"
    );
    assert_eq!(summary.rows_imported + summary.rows_failed, summary.rows_read, "{what}");
}

fn kinds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kinds")
}

/// The text kinds, each written here: (file name, bytes, delimiter).
fn text_kinds(db: &TestDb) -> Vec<(PathBuf, Counted)> {
    let tsv = TEXT.replace(',', "\t");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(TEXT.as_bytes()).unwrap();
    let zstd = zstd::encode_all(TEXT.as_bytes(), 3).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("inside.csv", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(TEXT.as_bytes()).unwrap();
    let zip = zip.finish().unwrap().into_inner();
    vec![
        (db.file("plain.csv", TEXT.as_bytes()), counted_text(TEXT, b',')),
        (db.file("tabs.tsv", tsv.as_bytes()), counted_text(&tsv, b'\t')),
        (
            db.file("packed.csv.gz", &gzip.finish().unwrap()),
            counted_text(TEXT, b','),
        ),
        (db.file("packed.csv.zst", &zstd), counted_text(TEXT, b',')),
        (db.file("packed.zip", &zip), counted_text(TEXT, b',')),
    ]
}

/// NDJSON with a blank line and a line that is not JSON: (path, lines with text, blank lines).
fn ndjson(db: &TestDb) -> (PathBuf, Counted) {
    let text = "{\"id\": 101, \"name\": \"Nia\", \"amount\": 1.5, \"day\": \"2024-03-01\"}\n\
                {\"id\": 102, \"name\": null, \"amount\": null, \"day\": null}\n\n\
                {\"id\": 103, \"name\": \"\", \"amount\": 2, \"day\": \"2024-03-03\"}\n\
                {\"id\": 104, \"name\": \"broken\"\n\
                {\"id\": 105, \"name\": \"Ola\", \"amount\": 3.5, \"day\": \"2024-03-05\"}\n";
    let counted = Counted {
        records: text.lines().filter(|line| !line.is_empty()).count() as u64,
        blank: text.lines().filter(|line| line.is_empty()).count() as u64,
        comments: 0,
        headers: Some(0),
    };
    (db.file("lines.ndjson", text.as_bytes()), counted)
}

/// Parquet written by DuckDB with NULLs in every column beside an empty string, counted by
/// DuckDB's reader.
fn parquet(db: &TestDb) -> (PathBuf, Counted) {
    let path = db.dir.path().join("table.parquet");
    db.store
        .conn()
        .execute(
            "COPY (SELECT 200 + i AS id, CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'p' || i END AS name,
                          CASE WHEN i % 4 = 0 THEN NULL ELSE i * 0.5 END AS amount,
                          CASE WHEN i % 5 = 0 THEN NULL ELSE DATE '2024-04-01' + CAST(i AS INTEGER) END AS day
                   FROM range(30) r(i)) TO ? (FORMAT parquet)",
            [path.display().to_string()],
        )
        .unwrap();
    let records: i64 = db
        .store
        .conn()
        .query_row(
            "SELECT count(*) FROM read_parquet(?)",
            [path.display().to_string()],
            |row| row.get(0),
        )
        .unwrap();
    let counted = Counted {
        records: records as u64,
        headers: Some(0),
        ..Counted::default()
    };
    (path, counted)
}

#[test]
fn every_input_kind_accounts_for_every_record_an_independent_reader_counts() {
    let db = TestDb::new();
    let mut kinds = text_kinds(&db);
    kinds.push(ndjson(&db));
    kinds.push(parquet(&db));
    for name in ["base.xlsx", "base.xlsm", "base.xls", "base.ods", "numbers.xlsb"] {
        let path = kinds_dir().join(name);
        let counted = counted_sheet(&path);
        kinds.push((path, counted));
    }
    assert_eq!(kinds.len(), 12);
    for (index, (path, counted)) in kinds.into_iter().enumerate() {
        let what = path.file_name().unwrap().to_string_lossy().into_owned();
        let summary = db.import(&path, &format!("kind_{index}"));
        check(&summary, counted, &what);
    }
}

#[test]
fn the_text_kinds_fail_the_short_and_long_rows_and_skip_title_blanks_and_comments() {
    let db = TestDb::new();
    for (index, (path, _)) in text_kinds(&db).into_iter().enumerate() {
        let summary = db.import(&path, &format!("text_{index}"));
        assert_eq!(
            (summary.rows_imported, summary.rows_failed, summary.rows_skipped),
            (12, 2, 5),
            "{}",
            path.display()
        );
    }
}

#[test]
fn parquet_keeps_null_beside_the_empty_string() {
    let db = TestDb::new();
    let (path, _) = parquet(&db);
    db.import(&path, "from_parquet");
    assert_eq!(db.count("SELECT count(*) FROM from_parquet WHERE name IS NULL"), 10);
    assert_eq!(db.count("SELECT count(*) FROM from_parquet WHERE name = ''"), 10);
    assert_eq!(db.count("SELECT count(*) FROM from_parquet WHERE amount IS NULL"), 8);
    assert_eq!(db.count("SELECT count(*) FROM from_parquet WHERE day IS NULL"), 6);
}

#[test]
fn a_folder_mixing_every_kind_is_one_table_with_every_record_accounted_for() {
    let db = TestDb::new();
    let folder = db.dir.path().join("mixed");
    std::fs::create_dir(&folder).unwrap();
    let mut counted = Counted::default();
    let mut files = Vec::new();
    for (path, count) in text_kinds(&db).into_iter().chain([ndjson(&db), parquet(&db)]) {
        let to = folder.join(path.file_name().unwrap());
        std::fs::rename(&path, &to).unwrap();
        counted = counted + count;
        files.push(to);
    }
    for name in ["base.xlsx", "base.xls", "base.ods"] {
        let to = folder.join(name);
        std::fs::copy(kinds_dir().join(name), &to).unwrap();
        let count = counted_sheet(&to);
        counted = counted
            + Counted {
                headers: Some(1),
                ..count
            };
        files.push(to);
    }
    let summary = db.import_request(&ImportRequest::new(&folder, "mixed"));
    assert_eq!(summary.files, files.len() as u64);
    // Every kind has a header but NDJSON and Parquet, whose names are their own.
    check(&summary, counted, "the folder");
    assert_eq!(db.columns("mixed"), ["id", "name", "amount", "day"]);
}
