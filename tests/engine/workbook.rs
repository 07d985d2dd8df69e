//! Workbooks: a sheet written by rust_xlsxwriter with a title, a blank row, dates, numbers of
//! every sign and length, booleans, empty cells, a formula, a multi-line cell and bad values,
//! beside a second sheet. Types come from the cells, every row is accounted for, and a failed
//! row's line is its sheet row.

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use sluice::import::{ImportRequest, SniffHints, sniff};
use sluice::store::{FailedRowFilter, read_failed_rows};

use crate::support::TestDb;

const DATA_ROWS: u32 = 1_500;
/// Sheet rows (0-based) of the title and the header; data starts under the header.
const TITLE_ROW: u32 = 0;
const HEADER_ROW: u32 = 2;
/// A data row left out, so the sheet has an empty row among its data.
const GAP_AFTER: u32 = 700;

/// (sheet row, 1-based) of data row `i` (1-based).
fn sheet_row(i: u32) -> u32 {
    HEADER_ROW + i + 1 + u32::from(i > GAP_AFTER)
}

fn write_workbook(path: &std::path::Path) {
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let notes = workbook.add_worksheet();
    notes.set_name("Notes").unwrap();
    notes.write_string(0, 0, "key").unwrap();
    notes.write_string(0, 1, "value").unwrap();
    notes.write_string(1, 0, "source").unwrap();
    notes.write_string(1, 1, "billing").unwrap();

    let sales = workbook.add_worksheet();
    sales.set_name("Sales").unwrap();
    sales.write_string(TITLE_ROW, 0, "Sales 2024, exported").unwrap();
    for (column, name) in ["id", "customer", "amount", "signed", "active", "double"]
        .iter()
        .enumerate()
    {
        sales.write_string(HEADER_ROW, column as u16, *name).unwrap();
    }
    for i in 1..=DATA_ROWS {
        let row = sheet_row(i) - 1;
        if i == 100 {
            sales.write_string(row, 0, "x100").unwrap();
        } else {
            sales.write_number(row, 0, f64::from(i)).unwrap();
        }
        if i == 7 {
            sales.write_string(row, 1, "two\nlines, and \"quotes\"").unwrap();
        } else if i % 50 != 0 {
            sales.write_string(row, 1, format!("customer {i}")).unwrap();
        }
        let amount = f64::from(i) * 1.25 - 100.0;
        if i == 200 {
            sales.write_string(row, 2, "abc").unwrap();
        } else {
            sales.write_number(row, 2, amount).unwrap();
        }
        if i == 300 {
            sales.write_string(row, 3, "not a date").unwrap();
        } else if i % 97 != 0 {
            let signed = ExcelDateTime::from_ymd(2024, 1 + (i % 12) as u8, 1 + (i % 28) as u8).unwrap();
            sales.write_datetime_with_format(row, 3, &signed, &date).unwrap();
        }
        sales.write_boolean(row, 4, i % 2 == 0).unwrap();
        let cell = format!("C{}", row + 1);
        let formula = Formula::new(format!("={cell}*2")).set_result((amount * 2.0).to_string());
        sales.write_formula(row, 5, formula).unwrap();
    }
    workbook.save(path).unwrap();
}

#[test]
fn a_sheet_imports_with_its_cells_types_and_every_row_accounted_for_by_sheet_row() {
    let db = TestDb::new();
    let path = db.dir.path().join("sales.xlsx");
    write_workbook(&path);

    let hints = SniffHints {
        sheet: Some("sales".into()),
        ..SniffHints::default()
    };
    let sniffed = sniff(&path, &hints).unwrap();
    let sheets: Vec<String> = sniffed.sheets.iter().map(|sheet| sheet.describe()).collect();
    // The sheet's rows run from its title to its last data row.
    assert_eq!(sheets, ["Notes · 2 rows × 2 columns", "Sales · 1,504 rows × 6 columns"]);
    assert_eq!(sniffed.layout.sheet.as_deref(), Some("Sales"));
    assert_eq!(
        sniffed.layout.columns,
        ["id", "customer", "amount", "signed", "active", "double"]
    );
    let types: Vec<String> = sniffed.layout.column_types.iter().map(ToString::to_string).collect();
    assert_eq!(types[0], "BIGINT");
    assert_eq!(types[1], "VARCHAR");
    assert!(types[2] == "DOUBLE" || types[2].starts_with("DECIMAL"), "{types:?}");
    assert_eq!(types[3], "DATE", "Excel date serials are dates");
    assert_eq!(types[4], "BOOLEAN");

    let mut request = ImportRequest::new(&path, "sales");
    request.hints = hints;
    let summary = db.import_request(&request);
    assert_eq!(summary.rows_read, u64::from(DATA_ROWS));
    assert_eq!(summary.rows_failed, 3);
    assert_eq!(summary.rows_imported + summary.rows_failed, summary.rows_read);
    // The title above the header, the blank row under it and the empty row among the data.
    assert_eq!(summary.rows_skipped, 3);

    let failed = read_failed_rows(
        db.store.conn(),
        summary.job_id,
        &FailedRowFilter::default(),
        i64::MIN,
        None,
        100,
    )
    .unwrap();
    let lines: Vec<i64> = failed.iter().map(|row| row.line).collect();
    assert_eq!(lines, [sheet_row(100), sheet_row(200), sheet_row(300)].map(i64::from));
    assert!(failed.iter().all(|row| row.problems[0].kind == "invalid_value"));

    let one: (i64, String, f64, String, bool, f64) = db
        .store
        .conn()
        .query_row(
            "SELECT id, customer, amount, CAST(signed AS VARCHAR), active, double FROM sales WHERE id = 1",
            [],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(
        one,
        (1, "customer 1".into(), -98.75, "2024-02-02".into(), false, -197.5)
    );
    assert_eq!(
        db.count("SELECT count(*) FROM sales WHERE customer = 'two\nlines, and \"quotes\"' AND id = 7"),
        1,
        "a cell's line break and quotes are its value"
    );
    // Every 50th customer is empty; rows 100, 200 and 300 among them failed.
    assert_eq!(
        db.count("SELECT count(*) FROM sales WHERE customer IS NULL"),
        27,
        "empty cells are NULL"
    );
    assert_eq!(db.count("SELECT count(*) FROM sales WHERE signed IS NULL"), 15);
    // A row after the multi-line cell keeps its sheet row as its line.
    assert_eq!(
        db.count("SELECT count(*) FROM sales WHERE id = 1200 AND double = 2 * amount"),
        1,
        "formulas come in as their cached values"
    );
}

#[test]
fn another_sheet_is_chosen_by_name_and_a_missing_one_is_named_with_the_sheets_there_are() {
    let db = TestDb::new();
    let path = db.dir.path().join("book.xlsx");
    write_workbook(&path);
    let mut request = ImportRequest::new(&path, "notes");
    request.hints.sheet = Some("Notes".into());
    let summary = db.import_request(&request);
    assert_eq!((summary.rows_imported, summary.rows_failed), (1, 0));
    assert_eq!(db.rows_as_text("notes"), [["source", "billing"]]);

    // Without a sheet, the first is read.
    let first = db.import(&path, "first");
    assert_eq!(first.rows_imported, 1);

    let mut missing = ImportRequest::new(&path, "missing");
    missing.hints.sheet = Some("Q3".into());
    let error = sluice::engine::run_import(
        &db.store,
        &missing,
        &mut sluice::progress::NoProgress,
        &sluice::progress::CancelToken::new(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("no sheet 'Q3'; its sheets: Notes, Sales"),
        "{error}"
    );
}

#[test]
fn the_sheet_list_says_which_sheets_are_hidden_and_a_sheet_spans_its_filled_cells_only() {
    let db = TestDb::new();
    let path = db.dir.path().join("hidden.xlsx");
    let mut workbook = Workbook::new();
    let data = workbook.add_worksheet();
    data.set_name("Data").unwrap();
    // Filled from C3 to E4: 2 rows, 3 columns.
    for (column, name) in ["a", "b", "c"].iter().enumerate() {
        data.write_string(2, 2 + column as u16, *name).unwrap();
        data.write_number(3, 2 + column as u16, column as f64).unwrap();
    }
    let lookup = workbook.add_worksheet();
    lookup.set_name("Lookup").unwrap();
    lookup.write_string(0, 0, "code").unwrap();
    lookup.set_hidden(true);
    workbook.save(&path).unwrap();

    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    let sheets: Vec<String> = sniffed.sheets.iter().map(|sheet| sheet.describe()).collect();
    assert_eq!(
        sheets,
        ["Data · 2 rows × 3 columns", "Lookup · 1 row × 1 column (hidden)"]
    );
    assert_eq!(sniffed.layout.columns, ["a", "b", "c"]);
}

/// A sheet's row ends at its last filled cell. A last column filled in a few rows only (a
/// comment now and then) leaves most rows shorter than the header: they are rows with an empty
/// comment, and the few that fill it are rows too, not a header to cut down to the others' width.
#[test]
fn a_last_column_filled_in_a_few_rows_keeps_its_name_and_every_row() {
    let db = TestDb::new();
    let path = db.dir.path().join("sparse.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (column, name) in ["id", "name", "comment"].iter().enumerate() {
        sheet.write_string(0, column as u16, *name).unwrap();
    }
    for row in 1..=40u32 {
        sheet.write_number(row, 0, f64::from(row)).unwrap();
        sheet.write_string(row, 1, format!("n{row}")).unwrap();
        if row <= 3 {
            sheet.write_string(row, 2, "late").unwrap();
        }
    }
    workbook.save(&path).unwrap();
    let summary = db.import_request(&ImportRequest::new(&path, "sparse"));
    assert_eq!((summary.rows_imported, summary.rows_failed), (40, 0));
    assert_eq!(db.columns("sparse"), ["id", "name", "comment"]);
    assert_eq!(db.count("SELECT count(*) FROM sparse WHERE comment = 'late'"), 3);
    assert_eq!(db.count("SELECT count(*) FROM sparse WHERE comment IS NULL"), 37);
}

/// A statistics release's definitions sheet: a page of notes in column A, one sentence a row,
/// then a small all-text table under them. Read as a one-column list the notes would outnumber
/// the table's rows; a sentence is no row of a list against a table of several columns.
#[test]
fn a_page_of_notes_above_a_small_table_is_preamble_not_a_one_column_table() {
    let db = TestDb::new();
    let path = db.dir.path().join("definitions.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let mut row = 0u32;
    for line in 0..30 {
        sheet
            .write_string(
                row,
                0,
                format!("Note {line}: these statistics count the requests made in the year"),
            )
            .unwrap();
        row += if line % 4 == 3 { 2 } else { 1 };
    }
    row += 1;
    for (column, name) in ["Data item", "Description", "Definition"].iter().enumerate() {
        sheet.write_string(row, column as u16, *name).unwrap();
    }
    for item in 0..10u32 {
        row += 1;
        sheet.write_string(row, 0, format!("item_{item}")).unwrap();
        if item % 3 != 0 {
            sheet.write_string(row, 1, format!("what item {item} counts")).unwrap();
        }
        if item % 2 == 0 {
            sheet
                .write_string(row, 2, format!("how item {item} is counted"))
                .unwrap();
        }
    }
    workbook.save(&path).unwrap();
    let summary = db.import_request(&ImportRequest::new(&path, "definitions"));
    assert_eq!((summary.rows_imported, summary.rows_failed), (10, 0));
    assert_eq!(db.columns("definitions"), ["Data item", "Description", "Definition"]);
    assert_eq!(
        db.count("SELECT count(*) FROM definitions WHERE \"Data item\" = 'item_9' AND Definition IS NULL"),
        1
    );
}

/// openpyxl writes a formula without its cached value (`<f>SUM(A2:B2)</f><v/>`): the cell is
/// empty, and last columns of formulas leave every row ending before them. Those rows are typed
/// as the import reads them, padded, so the other columns keep their types (they were all text).
/// The fixture was written by openpyxl 3.1: `id`, `amount`, then `=SUM(..)` and `=CONCATENATE(..)`.
#[test]
fn formulas_without_cached_values_in_the_last_columns_leave_the_others_typed() {
    let db = TestDb::new();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workbooks/openpyxl_formulas.xlsx");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    let types: Vec<String> = sniffed
        .layout
        .column_types
        .iter()
        .map(|column| column.to_string())
        .collect();
    assert_eq!(types, ["BIGINT", "DOUBLE", "VARCHAR", "VARCHAR"]);
    let summary = db.import_request(&ImportRequest::new(&path, "formulas"));
    assert_eq!((summary.rows_imported, summary.rows_failed), (30, 0));
    assert_eq!(
        db.count("SELECT count(*) FROM formulas WHERE amount = 45 AND total IS NULL AND label IS NULL"),
        1
    );
}
