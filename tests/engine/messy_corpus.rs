//! What a person makes of each file of messytables' "horror" corpus, CSV and workbooks alike, and
//! a check that Sluice makes the same: how many rows land, fail and are skipped, the columns and
//! their types, and values a misreading would change. Where a file is truly ambiguous, its entry
//! says why and expects the reading that loses nothing.
//!
//! The corpus sits beside the checkout (`../shared/corpus/{csv,workbooks}/messytables`); without
//! it these tests print a note and pass, unless `CI` is set.

use std::path::{Path, PathBuf};

use sluice::engine::run_import;
use sluice::import::ImportRequest;
use sluice::progress::{CancelToken, NoProgress};

use crate::support::TestDb;

/// What a person reads in one file.
struct Reading {
    file: &'static str,
    /// The workbook sheet a person picks; the first when `None`.
    sheet: Option<&'static str>,
    /// The sheet's columns a person picks (`F:K`); the table Sluice finds when `None`.
    sheet_columns: Option<&'static str>,
    /// Rows imported, failed and skipped (title lines, notes, blank lines, another table).
    rows: u64,
    failed: u64,
    skipped: u64,
    /// The table's first columns, in order (all of them for a narrow file).
    columns: &'static [&'static str],
    /// Columns with the type a person gives them (DuckDB's name for it).
    types: &'static [(&'static str, &'static str)],
    /// Values by (row, column), NULL as `None`, rows counted from 0 in file order.
    values: &'static [(usize, &'static str, Option<&'static str>)],
}

impl Reading {
    const fn new(file: &'static str, rows: u64, failed: u64, skipped: u64) -> Self {
        Self {
            file,
            sheet: None,
            sheet_columns: None,
            rows,
            failed,
            skipped,
            columns: &[],
            types: &[],
            values: &[],
        }
    }
}

/// The messytables folder of the shared corpus `kind` (`csv` or `workbooks`); `None`, after a
/// note, when it is missing and `CI` is not set.
fn messytables(kind: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(kind)
        .join("messytables");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the messytables corpus must be at {} when CI is set",
        dir.display()
    );
    eprintln!("note: skipping: the messytables corpus is not at {}", dir.display());
    None
}

/// Imports each file as it is, with defaults, and lists every way it differs from its reading.
fn differences(db: &TestDb, dir: &Path, readings: &[Reading]) -> Vec<String> {
    let mut found = Vec::new();
    for (index, reading) in readings.iter().enumerate() {
        let path = dir.join(reading.file);
        let table = format!("messy_{index}");
        let mut request = ImportRequest::new(&path, &table);
        request.hints.sheet = reading.sheet.map(str::to_string);
        request.hints.sheet_columns = reading
            .sheet_columns
            .map(|columns| sluice::import::ColumnSpan::parse(columns).unwrap());
        let summary = match run_import(&db.store, &request, &mut NoProgress, &CancelToken::new()) {
            Ok(summary) => summary,
            Err(failure) => {
                found.push(format!("{}: whole-file error: {}", reading.file, failure.error));
                continue;
            }
        };
        let counts = (summary.rows_imported, summary.rows_failed, summary.rows_skipped);
        if counts != (reading.rows, reading.failed, reading.skipped) {
            found.push(format!(
                "{}: imported, failed, skipped {counts:?}, expected {:?}",
                reading.file,
                (reading.rows, reading.failed, reading.skipped)
            ));
        }
        let columns = db.columns(&table);
        if !columns.starts_with(&reading.columns.iter().map(|name| name.to_string()).collect::<Vec<_>>()) {
            found.push(format!(
                "{}: columns {columns:?}, expected them to start {:?}",
                reading.file, reading.columns
            ));
        }
        for (column, expected) in reading.types {
            let actual = column_type(db, &table, column);
            if actual.as_deref() != Some(*expected) {
                found.push(format!(
                    "{}: column {column} is {actual:?}, expected {expected}",
                    reading.file
                ));
            }
        }
        let rows = db.rows(&table);
        for (row, column, expected) in reading.values {
            let Some(at) = columns.iter().position(|name| name == column) else {
                found.push(format!("{}: no column {column}", reading.file));
                continue;
            };
            let actual = rows.get(*row).map(|values| values[at].as_deref());
            if actual != Some(*expected) {
                found.push(format!(
                    "{}: row {row}, column {column}: {actual:?}, expected {expected:?}",
                    reading.file
                ));
            }
        }
    }
    found
}

fn column_type(db: &TestDb, table: &str, column: &str) -> Option<String> {
    sluice::store::table_columns(db.store.conn(), table)
        .ok()?
        .into_iter()
        .find(|found| found.name == column)
        .map(|found| found.type_name)
}

/// Each file of `csv/messytables`, as a person reads it.
const CSV_READINGS: &[Reading] = &[
    // A US service directory, UTF-8 but for 13 rows holding mojibake bytes (`\x89\xdb\xaa` for
    // an apostrophe) that no encoding reads as meant: those rows fail, each naming the bytes and
    // the encoding that would read them, and keep their raw bytes.
    Reading {
        columns: &["ResourceAgencyNum", "PublicName", "AlternateName"],
        types: &[("ResourceAgencyNum", "BIGINT"), ("Latitude", "DOUBLE")],
        values: &[(0, "ParentAgency", Some("CentroNia")), (0, "AlternateName", None)],
        ..Reading::new("211.csv", 2119, 13, 0)
    },
    // A Dutch budget table under a title, units, a blank line, "provincie" and column letters,
    // all written across the table's width. Its header is split over two lines: the provinces'
    // names over the numbers, then "NR." and "Cluster" over the row labels. They join into one
    // header; the lines above name no row, so they are skipped. The amounts are written three
    // ways in one column (`-1 414`, `566,216` inhabitants, `- 1`): no one number format reads
    // them all, and a decimal comma would make 566,216 inhabitants 566.216, so they stay text.
    Reading {
        columns: &["NR.", "Cluster", "Groningen", "Friesland", "Drenthe"],
        types: &[("NR.", "BIGINT"), ("Cluster", "VARCHAR"), ("Groningen", "VARCHAR")],
        values: &[
            (0, "Cluster", Some("Inkomstenclusters:")),
            (1, "Groningen", Some("208")),
            (6, "Cluster", None),
            (30, "Groningen", Some("-1 414")),
            (34, "Groningen", Some("566,216")),
            (35, "NR.", Some("35")),
        ],
        ..Reading::new("begrotingsanalyse-2011.csv", 36, 0, 5)
    },
    // A Taiwanese register in Big5.
    Reading {
        columns: &["id", "景點編號", "景點中文名稱"],
        types: &[("X坐標", "DOUBLE"), ("Changetime", "TIMESTAMP")],
        values: &[(0, "景點中文名稱", Some("雲嘉南濱海國家風景區管理處"))],
        ..Reading::new("characters.csv", 382, 0, 0)
    },
    // `, `-separated with a quoted `"6,000,000"`: the spaces are the separator's. "24 October
    // 2011" is a date with its month spelt out.
    Reading {
        columns: &["date", "another date", "temperature", "place"],
        types: &[("date", "DATE"), ("temperature", "BIGINT"), ("another date", "DATE")],
        values: &[
            (0, "place", None),
            (0, "another date", Some("2011-10-24")),
            (1, "place", Some("Galway and more")),
            (2, "temperature", Some("6000000")),
            (2, "another date", None),
        ],
        ..Reading::new("complex.csv", 3, 0, 0)
    },
    Reading {
        columns: &["hour", "expr1_0_imp"],
        types: &[
            ("hour", "TIMESTAMP"),
            ("expr1_0_imp", "BIGINT"),
            ("expr1_0_hist_ctr", "DOUBLE"),
        ],
        values: &[(0, "expr1_0_hist_ctr", Some("0.0009"))],
        ..Reading::new("example.tsv", 140, 0, 0)
    },
    // Pasted from Excel: two title lines and a blank above, a source and a note below; the
    // "Total" line is a total, not a row, and fails as one (kept, with its reason).
    Reading {
        columns: &["Year", "2000", "2001"],
        types: &[("Year", "VARCHAR"), ("2000", "BIGINT"), ("2007", "BIGINT")],
        values: &[
            (0, "2000", Some("2666")),
            (9, "Year", Some("Machinery and \nequipment")),
        ],
        ..Reading::new("excel_pasting.csv", 13, 1, 6)
    },
    // One word on 4,000 lines: every line is data.
    Reading {
        columns: &["column_1"],
        values: &[(3999, "column_1", Some("foo"))],
        ..Reading::new("long.csv", 4000, 0, 0)
    },
    // NASA's global temperature anomalies: two title lines and a blank above, `****` where a
    // month was not yet measured, old Mac line ends.
    Reading {
        columns: &["Year", "Jan", "Feb"],
        types: &[
            ("Year", "BIGINT"),
            ("Jun", "BIGINT"),
            ("D-N", "BIGINT"),
            ("SON", "BIGINT"),
        ],
        values: &[
            (0, "D-N", None),
            (0, "Jan", Some("-43")),
            (132, "Jun", None),
            (132, "May", Some("61")),
        ],
        ..Reading::new("mixedGLB.csv", 133, 0, 3)
    },
    // No header; `null` is a missing value.
    Reading {
        columns: &["column_1", "column_2", "column_3", "column_4"],
        types: &[("column_1", "BIGINT"), ("column_2", "BIGINT")],
        values: &[(0, "column_2", None), (1, "column_2", Some("0")), (2, "column_3", None)],
        ..Reading::new("null.csv", 10, 0, 0)
    },
    Reading {
        columns: &["date", "temperature", "place"],
        types: &[("date", "DATE"), ("temperature", "BIGINT")],
        values: &[(1, "temperature", Some("-1"))],
        ..Reading::new("simple.csv", 6, 0, 0)
    },
    Reading {
        columns: &["Year", "New dwellings"],
        types: &[("Year", "BIGINT"), ("Former owner occupiers", "BIGINT")],
        ..Reading::new("simple.psv", 28, 0, 0)
    },
    Reading {
        columns: &["date", "temperature", "place"],
        types: &[("date", "DATE"), ("temperature", "BIGINT")],
        ..Reading::new("simple.ssv", 6, 0, 0)
    },
    // `hello,    goodbye`: the spaces may be padding or the value's own. Nothing in the file
    // proves them padding (no quoted field behind them), so they are kept: trimming them later
    // loses nothing, dropping them now would.
    Reading {
        columns: &["field1", "field2"],
        values: &[(0, "field2", Some("    goodbye")), (1, "field2", Some("goodbye2"))],
        ..Reading::new("skip_initials.csv", 2, 0, 0)
    },
    // One byte, `a`: a header with no rows, or one row? A lone line reads as a header, which
    // keeps its text as the column's name.
    Reading {
        columns: &["a"],
        ..Reading::new("small.csv", 0, 0, 0)
    },
    // Windows-1252, thousands commas with a decimal point, a blank line and a source note under
    // the table.
    Reading {
        columns: &[
            "GF_ID",
            "FN_ID",
            "SF_ID",
            "GF",
            "F",
            "SF",
            "Gasto total 2011",
            "Descripción",
        ],
        types: &[("GF_ID", "BIGINT"), ("Gasto total 2011", "DOUBLE")],
        values: &[(0, "Gasto total 2011", Some("229932.5")), (0, "GF", Some("Gobierno"))],
        ..Reading::new("spanish_chars.csv", 114, 0, 2)
    },
    // Windows-1252 with a trailing delimiter on the header whose column does hold values further
    // down (the "column errors"): kept as column_4, and `,,,` lines skipped as blank.
    Reading {
        columns: &["LP", "Bezeichnung", "Kapitel/Titel", "column_4"],
        types: &[("Kapitel/Titel", "VARCHAR"), ("column_4", "VARCHAR")],
        values: &[(
            0,
            "Bezeichnung",
            Some(
                "Trägerorganisationen; Umstrukturierung der Forschung im Beitrittsgebiet; Hochschulbau und überwiegend hochschulbezogene Sonderprogramme",
            ),
        )],
        ..Reading::new("sparse_with_column_errors.csv", 2200, 0, 37)
    },
    Reading {
        columns: &["Organisation_code", "Organisation_name"],
        types: &[("Part_II_patients", "BIGINT")],
        values: &[(0, "Organisation_name", Some("Enfield PCT"))],
        ..Reading::new("utf-16le_encoded.csv", 327, 0, 0)
    },
    // `kitten,win` after a byte order mark: one line, read as a header (see small.csv).
    Reading {
        columns: &["kitten", "win"],
        ..Reading::new("utf8bom.csv", 0, 0, 0)
    },
    // A German statistics release: title, stars, notes, then a `;` table whose header is the
    // years, `.` for a missing value, and notes under it.
    Reading {
        columns: &["column_1", "1985", "1993"],
        types: &[("1993", "BIGINT"), ("2010", "BIGINT")],
        values: &[(1, "1985", None), (1, "1993", Some("379")), (7, "1993", Some("1613"))],
        ..Reading::new("weird_head_padding.csv", 60, 0, 33)
    },
];

/// Each file of `workbooks/messytables`, as a person reads it. Two are no table at all and are
/// said as whole-file errors: `encrypted_no_password.xls` (password protected) and
/// `libreoffice.xlsx` (its one sheet is empty, as LibreOffice itself reads it).
const WORKBOOK_READINGS: &[Reading] = &[
    // NHS: definitions under a page of notes, a footnote under them. Sheet column A is empty in
    // the table's rows but holds the footnote's mark (`1`) beside its text under the table: the
    // sheet is read from column A so that the skipped note keeps its mark, and the table gets an
    // empty, unnamed column_1. A person would leave column A out; Sluice keeps it, empty, as
    // leaving it out would drop the mark (a `--columns B:D` reading does that on request).
    Reading {
        columns: &["column_1", "Data item", "Description", "Definition"],
        values: &[
            (0, "Data item", Some("PCT_LA_code")),
            (1, "Definition", None),
            (9, "Data item", Some("Reviews_conducted")),
        ],
        ..Reading::new("bian-anal-mca-2005-dols-eng-1011-0312-tab3.xlsm", 10, 0, 51)
    },
    // An empty row inside the table is a skipped blank line.
    Reading {
        columns: &["Name", "Age", "When"],
        types: &[("Age", "BIGINT"), ("When", "DATE")],
        values: &[(2, "Name", Some("Ian")), (2, "When", Some("2015-11-11"))],
        ..Reading::new("blank_line.ods", 3, 0, 1)
    },
    // Cells showing off formatting: words, an empty cell, 0 and dates. Nothing says the first
    // word is no header; taking it as the name loses nothing.
    Reading {
        columns: &["bold"],
        types: &[("bold", "VARCHAR")],
        values: &[(0, "bold", Some("italic")), (12, "bold", Some("2014-01-01"))],
        ..Reading::new("excel_properties.xls", 17, 0, 1)
    },
    // A report cover first; the data is on the hidden sheet `data` (the sheet list says so),
    // under a title line, and beside it, past the empty column E, a second table with its own
    // title (`mudData`), header and length (F to K, 1,986 rows). The table left of the gap is
    // read, and the other is named with the columns that read it.
    Reading {
        sheet: Some("data"),
        columns: &["RptDate", "Series", "RecordType", "Total Pieces"],
        types: &[("RptDate", "DATE"), ("Total Pieces", "BIGINT")],
        values: &[
            (0, "Total Pieces", Some("1026746")),
            (8543, "RecordType", Some("PiecesRedeemed")),
        ],
        ..Reading::new("large.xlsx", 8544, 0, 2)
    },
    Reading {
        sheet: Some("data"),
        sheet_columns: Some("F:K"),
        columns: &["ReportDate", "Series", "Bonds Out", "tranMonth", "FY", "Bonds Issued"],
        types: &[("ReportDate", "DATE"), ("Bonds Out", "BIGINT"), ("tranMonth", "BIGINT")],
        values: &[(0, "Bonds Out", Some("752")), (1985, "Series", Some("SN"))],
        ..Reading::new("large.xlsx", 1986, 0, 2)
    },
    // Six sheets of police figures; the first is read.
    Reading {
        columns: &[
            "Financial Year",
            "Financial Quarter",
            "Force Name",
            "Offence Code",
            "Number of Offences",
        ],
        types: &[
            ("Financial Quarter", "BIGINT"),
            ("Offence Code", "VARCHAR"),
            ("Number of Offences", "BIGINT"),
        ],
        values: &[(0, "Offence Code", Some("104")), (8, "Offence Code", Some("1/4.1/4.2"))],
        ..Reading::new("large.ods", 23760, 0, 0)
    },
    Reading {
        columns: &["Name", "Age", "When"],
        types: &[("Age", "BIGINT"), ("When", "DATE")],
        ..Reading::new("loffice-4.4.1.2.ods", 3, 0, 0)
    },
    // One cell of four lines on the first sheet: its text is the header's name, no rows.
    Reading {
        columns: &["1 2 3 4"],
        ..Reading::new("multilineods.ods", 0, 0, 0)
    },
    // Times are ISO durations in ODS (one is 27 hours): kept as written, beside `0` and a word.
    Reading {
        columns: &["Date", "Time", "Boolean", "Float", "Currency", "Percentage"],
        types: &[
            ("Date", "DATE"),
            ("Boolean", "BOOLEAN"),
            ("Float", "DOUBLE"),
            ("Currency", "BIGINT"),
        ],
        values: &[
            (0, "Time", Some("PT11H12M12S")),
            (1, "Currency", Some("-10000")),
            (1, "Float", None),
        ],
        ..Reading::new("ods_formats.ods", 5, 0, 0)
    },
    Reading {
        columns: &["Name", "Age", "When"],
        types: &[("When", "DATE")],
        ..Reading::new("simple.ods", 3, 0, 0)
    },
    Reading {
        columns: &["date", "temperature", "place"],
        types: &[("date", "DATE"), ("temperature", "BIGINT")],
        values: &[(1, "temperature", Some("-1"))],
        ..Reading::new("simple.xls", 6, 0, 0)
    },
    Reading {
        columns: &["date", "temperature", "place"],
        types: &[("date", "DATE"), ("temperature", "BIGINT")],
        ..Reading::new("simple.xlsx", 6, 0, 0)
    },
    // A zip of one CSV.
    Reading {
        columns: &["date", "temperature", "place"],
        types: &[("date", "DATE")],
        ..Reading::new("simple.zip", 6, 0, 0)
    },
    // Letters around a merged cell: the merge's other cells are empty.
    Reading {
        columns: &["I", "h", "g", "f"],
        values: &[
            (0, "h", Some("MERGE")),
            (0, "g", None),
            (3, "h", Some("bold and italic")),
        ],
        ..Reading::new("span_rich.xls", 5, 0, 0)
    },
    // Tweets: ids past 2^53 stay exact.
    Reading {
        columns: &["id_str", "tweet_url", "created_at"],
        types: &[("id_str", "BIGINT"), ("created_at", "TIMESTAMP WITH TIME ZONE")],
        values: &[(0, "id_str", Some("474939423470395392"))],
        ..Reading::new("sw_gen.xlsx", 15, 0, 0)
    },
    // One sentence in a sheet named `mês`: read as a header (see small.csv).
    Reading {
        columns: &["this spreadsheet has got a unicode character in the sheet name"],
        ..Reading::new("unicode_sheet_name.xls", 0, 0, 0)
    },
];

#[test]
fn every_messytables_csv_reads_as_a_person_reads_it() {
    let Some(dir) = messytables("csv") else {
        return;
    };
    assert_every_file_has_a_reading(&dir, CSV_READINGS, &[]);
    let db = TestDb::new();
    let found = differences(&db, &dir, CSV_READINGS);
    assert!(found.is_empty(), "{found:#?}");
    // 211.csv's bad bytes lie past the sample the sniff reads: each failed row still names the
    // encoding it was read in and one that reads its bytes.
    let summary = db.import(&dir.join("211.csv"), "directory");
    let failed = db.failed_rows(summary.job_id);
    assert_eq!(failed.len(), 13);
    for row in failed {
        let message = &row.problems[0].message;
        assert!(
            message.contains("is not valid UTF-8, the encoding the file is read in;")
                && message.contains("reads it: choose that encoding for the file"),
            "line {}: {message}",
            row.line
        );
    }
}

#[test]
fn every_messytables_workbook_reads_as_a_person_reads_it() {
    let Some(dir) = messytables("workbooks") else {
        return;
    };
    let refused = ["encrypted_no_password.xls", "libreoffice.xlsx"];
    assert_every_file_has_a_reading(&dir, WORKBOOK_READINGS, &refused);
    let db = TestDb::new();
    let found = differences(&db, &dir, WORKBOOK_READINGS);
    assert!(found.is_empty(), "{found:#?}");
    let error = |file: &str| {
        let request = ImportRequest::new(dir.join(file), "refused");
        run_import(&db.store, &request, &mut NoProgress, &CancelToken::new())
            .map(|summary| format!("imported {summary:?}"))
            .unwrap_or_else(|failure| failure.error.to_string())
    };
    assert!(error("encrypted_no_password.xls").contains("password protected"));
    assert!(error("libreoffice.xlsx").contains("is empty"));
}

/// `large.xlsx`: a report cover first, then the data sheet of 8,547 rows, hidden, as is a sheet of
/// criteria; the sheet list says which is which. The cover's size is what the workbook declares.
#[test]
fn a_workbooks_sheets_are_listed_with_their_sizes_so_the_data_sheet_stands_out() {
    let Some(dir) = messytables("workbooks") else {
        return;
    };
    let sniffed = sluice::import::sniff(&dir.join("large.xlsx"), &Default::default()).unwrap();
    let sheets: Vec<String> = sniffed.sheets.iter().map(|sheet| sheet.describe()).collect();
    assert_eq!(
        sheets,
        [
            "Report · 52 rows × 14 columns",
            "data · 8,547 rows × 11 columns (hidden)",
            "criteria · 10 rows × 5 columns (hidden)"
        ]
    );
    let empty = sluice::import::sniff(&dir.join("libreoffice.xlsx"), &Default::default());
    assert!(empty.is_err(), "an empty sheet is no table");
}

/// `large.xlsx`'s data sheet holds two tables side by side: the one left of the empty column E
/// is read, four columns wide, and the other is named with the columns that read it.
#[test]
fn a_table_beside_another_on_a_sheet_is_read_alone_and_the_other_named() {
    let Some(dir) = messytables("workbooks") else {
        return;
    };
    let hints = sluice::import::SniffHints {
        sheet: Some("data".into()),
        ..Default::default()
    };
    let sniffed = sluice::import::sniff(&dir.join("large.xlsx"), &hints).unwrap();
    assert_eq!(
        sniffed.layout.columns,
        ["RptDate", "Series", "RecordType", "Total Pieces"]
    );
    assert_eq!(
        sniffed.layout.sheet_columns.map(|span| span.to_string()).as_deref(),
        Some("A:D")
    );
    let notes: Vec<String> = sniffed.other_table_notes().into_iter().map(|(note, _)| note).collect();
    assert_eq!(
        notes,
        ["Not data: another table, beside this one, columns F:K (6 columns, 1,986 sampled rows)."]
    );
    assert_eq!(sniffed.layout_choice.other_tables[0].options(), "--columns F:K");
}

/// Every file of the folder has a reading or is named as refused, so a file added to the corpus
/// needs one.
fn assert_every_file_has_a_reading(dir: &Path, readings: &[Reading], refused: &[&str]) {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut read: Vec<String> = readings
        .iter()
        .map(|reading| reading.file.to_string())
        .chain(refused.iter().map(|file| file.to_string()))
        .collect();
    read.sort();
    read.dedup();
    assert_eq!(files, read);
}
