//! Every file of the shared CSV corpus (real files from public test suites) is imported with
//! defaults: no panic, no hang, and either every row accounted for or one clear whole-file error.
//! The number of rows Sluice read is checked against the `csv` crate's own count. Where the corpus
//! gives expected records, the imported values match them.
//!
//! The corpus sits beside the checkout (`../shared/corpus/csv`). Without it these tests print a
//! note and pass, so a clone of this repository alone still tests; with the environment variable
//! `CI` set, a missing corpus fails them.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use sluice::engine::run_import;
use sluice::import::{ColumnSpec, ColumnType, ImportError, ImportRequest, SchemaFile, SniffError, SniffHints, sniff};
use sluice::progress::{CancelToken, NoProgress};
use sluice::store::Store;

use crate::support::TestDb;

/// The corpus folder; `None`, after a note, when it is missing and `CI` is not set.
fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/csv");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the CSV corpus must be at {} when CI is set",
        dir.display()
    );
    eprintln!(
        "note: skipping a corpus test: the CSV corpus is not at {} (it sits beside the checkout; \
         with CI set its absence is a failure)",
        dir.display()
    );
    None
}

fn all_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            all_files(&path, found);
        } else {
            found.push(path);
        }
    }
}

#[test]
fn every_corpus_file_is_accounted_for_and_read_as_the_csv_crate_reads_it() {
    let Some(dir) = corpus_dir() else {
        return;
    };
    let mut files = Vec::new();
    all_files(&dir, &mut files);
    assert!(files.len() > 150, "only {} corpus files found", files.len());
    let db = TestDb::new();
    let db_path = db.path();
    drop(db.store);
    let (sender, receiver) = mpsc::channel();
    let worker_files = files.clone();
    let worker = std::thread::Builder::new().name("corpus-imports".into());
    worker
        .spawn(move || {
            let store = Store::open(&db_path, &Default::default()).unwrap();
            for (index, path) in worker_files.iter().enumerate() {
                let table = format!("corpus_{index}");
                let result = run_import(
                    &store,
                    &ImportRequest::new(path, &table),
                    &mut NoProgress,
                    &CancelToken::new(),
                );
                let checked = match result {
                    Ok(summary) => {
                        let count =
                            |sql: String| -> i64 { store.conn().query_row(&sql, [], |row| row.get(0)).unwrap() };
                        let in_table = count(format!("SELECT count(*) FROM {}", sluice::sql::quote_ident(&table)));
                        let kept = count(format!(
                            "SELECT count(*) FROM sluice.failed_rows WHERE job_id = {}",
                            summary.job_id
                        ));
                        if summary.rows_imported + summary.rows_failed != summary.rows_read
                            || in_table as u64 != summary.rows_imported
                            || kept as u64 != summary.rows_failed
                        {
                            Err(format!(
                                "{}: accounting broken: {summary:?}, table {in_table}, failed rows {kept}",
                                path.display()
                            ))
                        } else {
                            sluice::oracle::compare_with_csv_crate(&store, path, &summary)
                        }
                    }
                    Err(failure) => match failure.error {
                        ImportError::Sniff(SniffError::Empty { .. }) => Ok(false),
                        other => Err(format!("{}: whole-file error: {other}", path.display())),
                    },
                };
                sender.send((path.clone(), checked)).unwrap();
            }
        })
        .unwrap();
    let mut problems = Vec::new();
    let mut compared = 0;
    for _ in &files {
        match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok((_, Ok(true))) => compared += 1,
            Ok((_, Ok(false))) => {}
            Ok((_, Err(problem))) => problems.push(problem),
            Err(_) => panic!("an import hung or panicked; problems so far: {problems:#?}"),
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The exclusions above are a handful of files; most of the corpus must have been compared.
    assert!(
        compared >= 150,
        "only {compared} of {} files were compared with the csv crate",
        files.len()
    );
}

/// Imports `path` with every column as VARCHAR, so values are compared as written; returns the
/// columns, the rows and how many rows failed.
fn import_as_text(db: &TestDb, path: &Path, table: &str) -> (Vec<String>, Vec<Vec<String>>, u64) {
    let sniffed = sniff(path, &SniffHints::default()).unwrap();
    let mut request = ImportRequest::new(path, table);
    request.schema = Some(SchemaFile {
        columns: sniffed
            .layout
            .columns
            .iter()
            .map(|name| ColumnSpec::new(name, ColumnType::Varchar))
            .collect(),
    });
    let summary = db.import_request(&request);
    (sniffed.layout.columns, db.rows_as_text(table), summary.rows_failed)
}

#[test]
fn csv_spectrum_records_match_the_expected_json() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let dir = corpus.join("csv-spectrum");
    let db = TestDb::new();
    let mut compared = 0;
    for entry in std::fs::read_dir(dir.join("csvs")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("json").join(format!("{name}.json"))).unwrap())
                .unwrap();
        // location_coordinates.json is a single object whose values differ from its CSV upstream.
        let Some(expected) = expected.as_array() else {
            continue;
        };
        let (columns, rows, failed) = import_as_text(&db, &path, &name);
        assert_eq!(failed, 0, "{name}");
        assert_eq!(rows.len(), expected.len(), "{name}");
        for (row, record) in rows.iter().zip(expected) {
            for (column, value) in columns.iter().zip(row) {
                assert_eq!(Some(value.as_str()), record[column].as_str(), "{name}: column {column}");
            }
        }
        compared += 1;
    }
    assert!(compared >= 10, "compared only {compared} files");
}

#[test]
fn commons_csv_records_match_the_rfc4180_expectations() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let path = corpus.join("commons-csv/CSVFileParser/test.csv");
    let db = TestDb::new();
    let (columns, rows, failed) = import_as_text(&db, &path, "commons");
    assert_eq!(columns, ["A", "B", "C", "D"]);
    assert_eq!(failed, 0, "the seven one-field comment lines are skipped as comments");
    // The one-field `#` lines are comments (detected: none has the records' width); the records match
    // test_rfc4180.txt, except that commons-csv drops the space after the closing quote of
    // `" l " `, which an RFC 4180 reader keeps, and that the spaces between a delimiter and a
    // quote (`, " j " ,`) are dropped as most readers allow (Sluice sniffs them): the quotes then
    // open a quoted field, and the space after the closing quote stays the value's.
    assert_eq!(rows[0], ["a", "b", "c", "d"]);
    assert_eq!(rows[1], [" e ", "f ", " g", "h "]);
    assert_eq!(&rows[2][..3], [" i ", " j  ", " k "]);
    assert_eq!(rows[3], ["", "", "", ""]);
}

#[test]
fn utf16_and_latin1_files_are_decoded() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let db = TestDb::new();
    for (file, table) in [
        ("csvkit/test_utf16_little.csv", "le"),
        ("csvkit/test_utf16_big.csv", "be"),
    ] {
        let summary = db.import(&corpus.join(file), table);
        assert_eq!(summary.rows_failed, 0, "{file}");
        assert_eq!(db.rows_as_text(table).last().unwrap().last().unwrap(), "ʤ", "{file}");
    }
    let summary = db.import(&corpus.join("csvkit/test_latin1.csv"), "latin");
    assert_eq!(summary.encoding, "windows-1252");
    assert_eq!(db.rows_as_text("latin").last().unwrap().last().unwrap(), "©");
}

/// messytables' `long.csv`: 4,000 lines of `foo`. A line every other line repeats is no
/// header: all of them are rows.
#[test]
fn a_one_column_file_of_one_word_is_all_rows() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let db = TestDb::new();
    let summary = db.import(&corpus.join("messytables/long.csv"), "long");
    assert_eq!(
        (summary.rows_imported, summary.rows_failed, summary.rows_skipped),
        (4000, 0, 0)
    );
    assert_eq!(db.count("SELECT count(*) FROM long WHERE column_1 = 'foo'"), 4000);
}

/// messytables' `characters.csv`, a Taiwanese register in Big5: every row reads, in Chinese.
#[test]
fn a_big5_register_is_read_in_big5() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let db = TestDb::new();
    let summary = db.import(&corpus.join("messytables/characters.csv"), "register");
    assert_eq!(summary.encoding, "Big5");
    assert_eq!((summary.rows_imported, summary.rows_failed), (382, 0));
    assert_eq!(db.columns("register")[2], "景點中文名稱");
    assert_eq!(
        db.count("SELECT count(*) FROM register WHERE \"景點中文名稱\" = '雲嘉南濱海國家風景區管理處'"),
        1
    );
}
