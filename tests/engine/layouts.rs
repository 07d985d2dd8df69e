//! The shapes real open-data files come in, each built here from data of the same shape: where
//! the table starts and how wide it is (a title wider than the table, tables stacked in one file,
//! R's row names, names no row fills, trailing delimiters and empty columns, lines of delimiters
//! only), and values people write (a decimal point in a `;` file, `NaN`, `missing`, one-digit
//! hours, currency signs). Each import is checked against the table it must make, NULL told
//! apart from the empty string.

use sluice::import::{ColumnType, SniffHints, sniff};

use crate::support::TestDb;

fn text(value: &str) -> Option<String> {
    Some(value.to_string())
}

#[test]
fn a_point_with_three_digits_in_a_semicolon_file_is_a_decimal_point_unless_the_column_proves_grouping() {
    let db = TestDb::new();
    let path = db.file("messwerte.csv", b"id;wert\n1;75.775\n2;-293.393\n3;12.5\n4;0.001\n");
    let summary = db.import(&path, "decimals");
    assert_eq!((summary.rows_imported, summary.rows_failed), (4, 0));
    assert_eq!(
        db.rows("decimals"),
        [
            [text("1"), text("75.775")],
            [text("2"), text("-293.393")],
            [text("3"), text("12.5")],
            [text("4"), text("0.001")],
        ]
    );
    // Two points in one value prove that a point groups thousands.
    let path = db.file("betraege.csv", b"id;betrag\n1;1.234.567\n2;12.500\n3;800\n");
    db.import(&path, "grouped");
    assert_eq!(
        db.rows("grouped"),
        [
            [text("1"), text("1234567")],
            [text("2"), text("12500")],
            [text("3"), text("800")],
        ]
    );
}

#[test]
fn an_r_export_without_a_name_over_its_row_names_keeps_every_name_over_its_own_field() {
    let db = TestDb::new();
    let path = db.file(
        "r_output.csv",
        b"\"CompTime\",\"TIME_LIMIT\",\"Solver\"\n\"1\",12.5,600,\"cbc\"\n\"2\",3.25,600,\"glpk\"\n\"3\",0.5,300,\"cbc\"\n",
    );
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.columns, ["row_name", "CompTime", "TIME_LIMIT", "Solver"]);
    let summary = db.import(&path, "solvers");
    assert_eq!((summary.rows_imported, summary.rows_failed), (3, 0));
    assert_eq!(db.columns("solvers"), ["row_name", "CompTime", "TIME_LIMIT", "Solver"]);
    assert_eq!(
        db.rows("solvers")[1],
        [text("2"), text("3.25"), text("600"), text("glpk")]
    );
}

#[test]
fn a_title_wider_than_the_table_is_preamble_when_the_table_has_its_own_header() {
    let mut file =
        b"Created as New Dataset,Sample 022 By Administrator Date Saturday,February 11 2017\nWavelength,Absorbance\n"
            .to_vec();
    for row in 0..3400 {
        file.extend_from_slice(format!("{},{}.{:03}\n", 200 + row, row % 7, row % 1000).as_bytes());
    }
    let db = TestDb::new();
    let path = db.file("spectrum.csv", &file);
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.skip_records, 1);
    assert_eq!(sniffed.layout.columns, ["Wavelength", "Absorbance"]);
    assert_eq!(sniffed.layout.column_types, [ColumnType::BigInt, ColumnType::Double]);
    let chosen = sniffed.layout_choice.chosen.as_ref().unwrap();
    let runner_up = sniffed.layout_choice.runner_up.as_ref().unwrap();
    assert_eq!((chosen.skip, chosen.columns), (1, 2));
    assert!(chosen.accepted >= runner_up.accepted, "{chosen:?} {runner_up:?}");
    assert_eq!(runner_up.skip, 0);
    let summary = db.import(&path, "spectrum");
    assert_eq!(
        (summary.rows_imported, summary.rows_failed, summary.rows_skipped),
        (3400, 0, 1)
    );
}

/// Three tables, one under another: 2 rows of 3 columns, 40 of 5 and 10 of 8, each with its
/// header.
fn three_stacked_tables() -> Vec<u8> {
    let mut file = b"site,lat,lon\nA,52.1,4.3\nB,51.9,4.5\n".to_vec();
    file.extend_from_slice(b"site,date,depth,temperature,salinity\n");
    for row in 0..40 {
        file.extend_from_slice(format!("A,2024-01-{:02},{row},{}.5,35.1\n", row % 28 + 1, row % 20).as_bytes());
    }
    file.extend_from_slice(b"instrument,serial,calibrated,offset,gain,low,high,unit\n");
    for row in 0..10 {
        file.extend_from_slice(
            format!(
                "CTD-{row},{},2023-12-0{},0.{row},1.0{row},0,{},dbar\n",
                9000 + row,
                row % 9 + 1,
                100 * row
            )
            .as_bytes(),
        );
    }
    file
}

fn skipped_reasons(db: &TestDb, job_id: i64) -> Vec<(i64, String)> {
    sluice::store::read_skipped_lines(db.store.conn(), job_id, 1000)
        .unwrap()
        .into_iter()
        .map(|line| (line.line, line.reason))
        .collect()
}

#[test]
fn of_tables_stacked_in_one_file_the_one_most_rows_belong_to_is_read_with_its_own_header() {
    let db = TestDb::new();
    let path = db.file("stacked.csv", &three_stacked_tables());
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.skip_records, 3);
    assert_eq!(
        sniffed.layout.columns,
        ["site", "date", "depth", "temperature", "salinity"]
    );
    assert_eq!(sniffed.layout.table_rows, Some(40));
    // The other tables are named with their lines, so a person can read them too.
    assert_eq!(
        sniffed.layout_choice.other_tables,
        [
            sluice::import::OtherTable {
                skip: 0,
                first_line: 1,
                last_line: 3,
                columns: 3,
                rows: 2,
                rows_to_read: Some(2),
                beside: None,
            },
            sluice::import::OtherTable {
                skip: 44,
                first_line: 45,
                last_line: 55,
                columns: 8,
                rows: 10,
                rows_to_read: None,
                beside: None,
            }
        ]
    );
    let notes = sniffed.other_table_notes();
    assert!(notes[0].0.contains("lines 1-3"), "{:?}", notes[0].0);
    assert_eq!(notes[0].1.options(), "--skip 0 --rows 2");
    assert_eq!(notes[1].1.options(), "--skip 44");

    // The table read ends where the next starts: those lines are skipped, not failed.
    let summary = db.import(&path, "casts");
    assert_eq!(
        (
            summary.rows_read,
            summary.rows_imported,
            summary.rows_failed,
            summary.rows_skipped
        ),
        (40, 40, 0, 14)
    );
    let reasons = skipped_reasons(&db, summary.job_id);
    assert_eq!(reasons.len(), 14);
    assert!(
        reasons[..3].iter().all(|(_, reason)| reason == "above_header"),
        "{reasons:?}"
    );
    assert_eq!(reasons[3], (45, "below_table".to_string()));
    assert_eq!(reasons[13], (55, "below_table".to_string()));

    // Each of the others is read with the options the sniff gave for it.
    let mut first = sluice::import::ImportRequest::new(&path, "sites");
    first.hints = SniffHints {
        skip: Some(0),
        rows: Some(2),
        ..SniffHints::default()
    };
    let summary = db.import_request(&first);
    let reasons = skipped_reasons(&db, summary.job_id);
    assert_eq!(
        (summary.rows_imported, summary.rows_failed, summary.rows_skipped),
        (2, 0, 52),
        "{reasons:?}"
    );
    assert_eq!(db.columns("sites"), ["site", "lat", "lon"]);
    assert_eq!(db.rows("sites")[1], [text("B"), text("51.9"), text("4.5")]);

    let mut last = sluice::import::ImportRequest::new(&path, "instruments");
    last.hints = SniffHints {
        skip: Some(44),
        ..SniffHints::default()
    };
    let summary = db.import_request(&last);
    assert_eq!(
        (summary.rows_imported, summary.rows_failed, summary.rows_skipped),
        (10, 0, 44)
    );
    assert_eq!(db.columns("instruments")[7], "unit");
}

#[test]
fn a_table_whose_rows_go_on_under_a_stray_block_is_not_cut_short() {
    // Rows of the table come again under a small block that reads as a header over its rows:
    // the table does not end there, and the block's lines fail as rows of the wrong width.
    let mut file = b"id,name,score,city\n".to_vec();
    for row in 0..30 {
        file.extend_from_slice(format!("{row},n{row},{}.5,Lyon\n", row % 7).as_bytes());
    }
    file.extend_from_slice(b"note,author,date\nchecked,AB,2024-01-02\nchecked,CD,2024-01-03\n");
    for row in 30..60 {
        file.extend_from_slice(format!("{row},n{row},{}.5,Lyon\n", row % 7).as_bytes());
    }
    let db = TestDb::new();
    let path = db.file("stray_block.csv", &file);
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.table_rows, None);
    let summary = db.import(&path, "scores");
    assert_eq!(
        (summary.rows_imported, summary.rows_failed, summary.rows_skipped),
        (60, 3, 0)
    );
}

#[test]
fn a_one_row_file_with_a_trailing_delimiter_is_decided_from_its_header_and_that_row() {
    let db = TestDb::new();
    let path = db.file("one_row.csv", b"name;amount;\nwidget;5;\"\n\"\n");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert!(sniffed.layout.trailing_delimiter);
    assert_eq!(sniffed.layout.columns, ["name", "amount"]);
    let summary = db.import(&path, "one_row");
    assert_eq!((summary.rows_imported, summary.rows_failed), (1, 0));
    assert_eq!(db.rows("one_row"), [[text("widget"), text("5")]]);
}

#[test]
fn a_last_field_empty_at_the_start_but_filled_further_in_is_a_column() {
    // More than the first megabyte ends every row with an empty field; the rest fill it.
    let mut file = b"id,kind,\n".to_vec();
    let mut rows = 0;
    while file.len() < 1_300_000 {
        rows += 1;
        file.extend_from_slice(format!("{rows},plain,\n").as_bytes());
    }
    for _ in 0..40_000 {
        rows += 1;
        file.extend_from_slice(format!("{rows},noted,see below\n").as_bytes());
    }
    let db = TestDb::new();
    let path = db.file("filled_later.csv", &file);
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert!(!sniffed.layout.trailing_delimiter);
    assert_eq!(sniffed.layout.columns.len(), 3);
    let summary = db.import(&path, "filled_later");
    assert_eq!((summary.rows_imported, summary.rows_failed), (rows, 0));
    assert_eq!(
        db.count("SELECT count(*) FROM filled_later WHERE column_3 = 'see below'"),
        40_000
    );
}

#[test]
fn names_no_row_fills_are_kept_and_the_rows_read_padded() {
    let db = TestDb::new();
    let path = db.file(
        "approvals.csv",
        b"id,requested,amount,Approve,Reject\n1,2024-03-01,120.5\n2,2024-03-02,80\n3,2024-03-05,15.25\n",
    );
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert!(sniffed.layout.pad_short_rows);
    assert_eq!(
        sniffed.layout.column_types[..3],
        [ColumnType::BigInt, ColumnType::Date, ColumnType::Double]
    );
    let summary = db.import(&path, "approvals");
    assert_eq!((summary.rows_imported, summary.rows_failed), (3, 0));
    assert_eq!(
        db.columns("approvals"),
        ["id", "requested", "amount", "Approve", "Reject"]
    );
    assert_eq!(
        db.rows("approvals")[2],
        [text("3"), text("2024-03-05"), text("15.25"), None, None]
    );
}

#[test]
fn lines_of_delimiters_only_are_skipped_and_counted_as_blank_lines() {
    let db = TestDb::new();
    let path = db.file("gaps.csv", b"a,b,c\n1,2,3\n,,\n4,5,6\n,,\n\"\",,\n");
    let summary = db.import(&path, "gaps");
    assert_eq!(
        (
            summary.rows_read,
            summary.rows_imported,
            summary.rows_failed,
            summary.rows_skipped
        ),
        (3, 3, 0, 2)
    );
    // A quoted empty string is a value, so its line is a row.
    assert_eq!(
        db.rows("gaps"),
        [
            [text("1"), text("2"), text("3")],
            [text("4"), text("5"), text("6")],
            [None, None, None],
        ]
    );
}

#[test]
fn nan_missing_one_digit_hours_and_a_second_header_line_without_an_empty_cell_are_read() {
    let db = TestDb::new();
    let path = db.file(
        "values.csv",
        b"ratio,count,elapsed\n1.5,4,0:10:00\nNaN,missing,9:50:00\n2,missing,10:00:00\n",
    );
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(
        sniffed.layout.column_types,
        [ColumnType::Double, ColumnType::BigInt, ColumnType::Time]
    );
    let summary = db.import(&path, "values");
    assert_eq!((summary.rows_imported, summary.rows_failed), (3, 0));
    assert_eq!(
        db.rows("values"),
        [
            [text("1.5"), text("4"), text("00:10:00")],
            [text("nan"), None, text("09:50:00")],
            [text("2.0"), None, text("10:00:00")],
        ]
    );

    let path = db.file(
        "grid.csv",
        b"Easting,Northing,Site\nX,Y,Name\n531000,181000,Mill\n531250,181500,Ford\n532000,179750,Weir\n\
          532500,180250,Lock\n533000,180500,Quay\n",
    );
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.header_lines, 2);
    assert_eq!(sniffed.layout.columns, ["Easting X", "Northing Y", "Site Name"]);
    assert_eq!(
        sniffed.layout.column_types,
        [ColumnType::BigInt, ColumnType::BigInt, ColumnType::Varchar]
    );
    // A line whose values fit the typed columns is a row, not a header line.
    let path = db.file(
        "grid_row.csv",
        b"Easting,Northing,Site\nX,181000,Mill\n531000,181000,Ford\n531250,181500,Weir\n532000,179750,Dam\n",
    );
    assert_eq!(sniff(&path, &SniffHints::default()).unwrap().layout.header_lines, 1);
}

#[test]
fn unnamed_empty_columns_at_the_end_are_left_out_and_said() {
    let db = TestDb::new();
    let path = db.file("padded.csv", b"a,b,,,,\n1,x,,,,\n2,y,,,,\n3,z,,,,\n");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.columns, ["a", "b"]);
    assert_eq!(sniffed.layout.trailing_fields(), 4);
    assert!(
        sniffed.reading_notes().iter().any(|note| note.contains("left out")),
        "{:?}",
        sniffed.reading_notes()
    );
    let summary = db.import(&path, "padded");
    assert_eq!((summary.rows_imported, summary.rows_failed), (3, 0));
    assert_eq!(db.columns("padded"), ["a", "b"]);
}

#[test]
fn a_dropped_currency_sign_is_named_in_the_column_format() {
    let db = TestDb::new();
    let path = db.file("prices.csv", b"item,price\nlamp,$74.69\nchair,$5.00\ndesk,$120\n");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.column_types[1], ColumnType::Double);
    assert_eq!(sniffed.layout.column_guesses[1].format.currency, Some('$'));
    db.import(&path, "prices");
    assert_eq!(
        db.rows("prices")
            .into_iter()
            .map(|row| row[1].clone())
            .collect::<Vec<_>>(),
        [text("74.69"), text("5.0"), text("120.0")]
    );
}

#[test]
fn titles_as_wide_as_the_table_are_preamble_over_typed_and_over_text_tables() {
    let db = TestDb::new();
    let mut file =
        b"Temperature anomaly 1880 to 2012,,,\r\nbase period: 1951-1980,,,\r\n,,,\r\nYear,Jan,Feb,Mar\r\n".to_vec();
    for year in 1880..1900 {
        file.extend_from_slice(format!("{year},-{},{},-{}\r\n", year % 40, year % 7, year % 13).as_bytes());
    }
    let path = db.file("anomalies.csv", &file);
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.skip_records, 2);
    assert_eq!(sniffed.layout.columns, ["Year", "Jan", "Feb", "Mar"]);
    assert_eq!(sniffed.layout.column_types, [ColumnType::BigInt; 4]);
    let summary = db.import(&path, "anomalies");
    assert_eq!(
        (summary.rows_imported, summary.rows_failed, summary.rows_skipped),
        (20, 0, 3)
    );

    // In an all-text table every row could be a header: the title's one value says it is not.
    let path = db.file(
        "titled_text.csv",
        b"\"This is a title row\",,\n\"Foo\",\"Bar\",\"Baz\"\n\"Biff\",\"Baff\",\"Boff\"\n\"Qux\",\"Teaspoon\",\"Doge\"\n",
    );
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.skip_records, 1);
    assert_eq!(sniffed.layout.columns, ["Foo", "Bar", "Baz"]);
}
