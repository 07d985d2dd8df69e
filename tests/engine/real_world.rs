//! Files in the shapes real exports have: local dates and numbers, null markers, a stray bad
//! value among typed ones. Sniffed with everything guessed, they get typed columns, and what does
//! not fit is a failed row with its reason, never text that slipped through.

use std::path::{Path, PathBuf};

use sluice::import::{BreakKind, ColumnType, ImportRequest, ImportSummary, ProblemKind, SniffHints, sniff};

use crate::support::{NULL_SHOWN, TestDb};

/// (rows read, imported, failed, lines skipped) of an import.
fn counts(summary: &ImportSummary) -> [u64; 4] {
    [
        summary.rows_read,
        summary.rows_imported,
        summary.rows_failed,
        summary.rows_skipped,
    ]
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real_world")
        .join(name)
}

#[test]
fn a_european_export_with_semicolons_decimal_commas_and_dotted_dates_is_typed() {
    let path = fixture("european.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.dialect.delimiter, b';');
    assert_eq!(
        sniffed.layout.column_types,
        [
            ColumnType::Date,
            ColumnType::Varchar,
            ColumnType::Double,
            ColumnType::BigInt,
            ColumnType::Double
        ]
    );
    assert_eq!(
        sniffed.layout.column_guesses[0].format.format.as_deref(),
        Some("%d.%m.%Y")
    );
    assert_eq!(sniffed.layout.column_guesses[2].format.decimal_separator, Some(','));
    assert_eq!(sniffed.layout.column_guesses[2].format.thousands, Some('.'));
    assert_eq!(sniffed.layout.column_guesses[3].format.null_markers(), ["n/a"]);

    let db = TestDb::new();
    let summary = db.import(&path, "orders");
    assert_eq!(
        (summary.rows_read, summary.rows_imported, summary.rows_failed),
        (4, 4, 0)
    );
    assert_eq!(
        db.rows_as_text("orders"),
        [
            ["2024-03-15", "Müller GmbH", "1234.56", "3", NULL_SHOWN],
            ["2023-12-01", "Schmidt & Co", "0.99", "12", "5.5"],
            ["2020-01-31", "Weber; Söhne", "12000.0", NULL_SHOWN, "0.0"],
            ["2024-02-29", "Becker AG", "-45.1", "1", NULL_SHOWN],
        ]
    );
}

#[test]
fn a_spending_report_with_grouped_amounts_and_month_first_dates_is_typed() {
    let path = fixture("spending.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(
        sniffed.layout.column_types,
        [
            ColumnType::Date,
            ColumnType::Varchar,
            ColumnType::Double,
            ColumnType::Timestamp
        ]
    );
    // 12/25 settles it: month first, whatever the day-first default says.
    assert_eq!(
        sniffed.layout.column_guesses[0].format.format.as_deref(),
        Some("%m/%d/%Y")
    );
    assert!(!sniffed.layout.column_guesses[0].ambiguous_date_order);
    assert_eq!(sniffed.layout.column_guesses[2].format.thousands, Some(','));

    let db = TestDb::new();
    let summary = db.import(&path, "spending");
    assert_eq!((summary.rows_imported, summary.rows_failed), (4, 0));
    let rows = db.rows_as_text("spending");
    assert_eq!(rows[0][0], "2019-02-01");
    assert_eq!(rows[0][2], "68527.0");
    assert_eq!(rows[2][2], "980.0");
    assert_eq!(rows[3][2], "12000000.0");
    assert_eq!(rows[1][3], "2019-12-30 08:00:00");
}

#[test]
fn one_bad_value_among_thousands_fails_its_row_instead_of_making_the_column_text() {
    let db = TestDb::new();
    let mut text = String::from("id,reading,taken\n");
    for n in 0..3_000 {
        let reading = match n {
            1_234 => "sensor error".to_string(),
            n if n % 100 == 7 => "NA".to_string(),
            n => format!("{}.{}", n % 97, n % 10),
        };
        text.push_str(&format!("{n},{reading},0{}/01/2024\n", 1 + n % 9));
    }
    let path = db.file("sensor.csv", text.as_bytes());
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.column_types[1], ColumnType::Double);
    assert_eq!(sniffed.layout.column_guesses[1].misfits, 1);
    assert_eq!(sniffed.layout.column_guesses[1].examples, ["sensor error"]);
    assert_eq!(sniffed.layout.column_guesses[1].format.null_markers(), ["NA"]);
    // Every date reads both ways (day and month at most 12): ambiguous, day first by default.
    assert!(sniffed.layout.column_guesses[2].ambiguous_date_order);
    assert_eq!(
        sniffed.layout.column_guesses[2].format.format.as_deref(),
        Some("%d/%m/%Y")
    );

    let summary = db.import(&path, "sensor");
    assert_eq!(
        (summary.rows_read, summary.rows_imported, summary.rows_failed),
        (3_000, 2_999, 1)
    );
    let failed = db.failed_lines(summary.job_id);
    assert_eq!(failed, [(1_236, vec!["invalid_value".to_string()])]);
    assert_eq!(db.count("SELECT count(*) FROM sensor WHERE reading IS NULL"), 30);

    let month_first = SniffHints {
        day_first: Some(false),
        ..SniffHints::default()
    };
    let sniffed = sniff(&path, &month_first).unwrap();
    assert_eq!(
        sniffed.layout.column_guesses[2].format.format.as_deref(),
        Some("%m/%d/%Y")
    );
}

#[test]
fn keep_everything_as_text_types_nothing() {
    let hints = SniffHints {
        all_text: true,
        ..SniffHints::default()
    };
    let sniffed = sniff(&fixture("european.csv"), &hints).unwrap();
    assert!(sniffed.layout.column_types.iter().all(|t| *t == ColumnType::Varchar));
    let db = TestDb::new();
    let mut request = ImportRequest::new(fixture("european.csv"), "raw");
    request.hints = hints;
    let summary = db.import_request(&request);
    assert_eq!(summary.rows_imported, 4);
    assert_eq!(db.rows_as_text("raw")[0][2], "1.234,56");
}

#[test]
fn title_lines_above_the_header_are_skipped_and_counted() {
    let path = fixture("titled.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.skip_records, 2);
    assert!(sniffed.layout.has_header);
    assert_eq!(sniffed.layout.columns, ["Date", "Supplier", "Amount", "Category"]);
    assert_eq!(sniffed.layout.column_types[0], ColumnType::Date);
    assert_eq!(sniffed.layout.column_types[2], ColumnType::Double);

    let db = TestDb::new();
    let summary = db.import(&path, "spending");
    assert_eq!(counts(&summary), [3, 3, 0, 2]);
    assert_eq!(
        db.rows_as_text("spending")[0],
        ["2024-03-01", "Acme, Inc.", "68527.0", "Services"]
    );
    let job = db.store.job(summary.job_id).unwrap().unwrap();
    assert_eq!(job.rows_skipped, 2);
    let skipped = sluice::store::read_skipped_lines(db.store.conn(), summary.job_id, 10).unwrap();
    assert_eq!(
        skipped
            .iter()
            .map(|line| (line.line, line.reason.as_str()))
            .collect::<Vec<_>>(),
        [(1, "above_header"), (2, "above_header")]
    );
    assert!(skipped[0].raw.starts_with("City of Example"), "{skipped:?}");

    // Told otherwise, Sluice reads what it is told: the title is then the header, and the rows
    // no longer fit it.
    let mut request = ImportRequest::new(&path, "as_told");
    request.hints = SniffHints {
        skip: Some(0),
        ..SniffHints::default()
    };
    let told = db.import_request(&request);
    assert_eq!(told.rows_skipped, 0);
    assert_eq!(told.rows_imported + told.rows_failed, told.rows_read);
}

#[test]
fn a_delimiter_at_the_end_of_every_row_is_not_a_column() {
    let path = fixture("trailing.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert!(sniffed.layout.trailing_delimiter);
    assert_eq!(sniffed.layout.columns, ["time", "sensor", "temp", "humidity"]);
    assert_eq!(sniffed.layout.column_types[0], ColumnType::Timestamp);
    let db = TestDb::new();
    let summary = db.import(&path, "sensor");
    // 'oops' is one value in four: the column stays text, and no row fails for its width.
    assert_eq!(
        (summary.rows_read, summary.rows_imported, summary.rows_failed),
        (4, 4, 0)
    );
    assert_eq!(db.rows_as_text("sensor")[2][0], "2024-01-01 00:20:00");
}

#[test]
fn a_short_first_data_row_is_never_taken_for_a_title() {
    let db = TestDb::new();
    let path = db.file("short.csv", b"1,2,3\n4\n5,6,7\n8,9,10\n");
    let summary = db.import(&path, "t");
    assert_eq!(summary.rows_skipped, 0);
    assert_eq!(summary.rows_imported + summary.rows_failed, 4);
}

#[test]
fn a_damaged_header_does_not_fail_every_row() {
    for (file, repair) in [
        ("extra_delimiter_header.csv", "the empty ones were dropped"),
        ("other_delimiter_header.csv", "it was split at ';'"),
    ] {
        let path = fixture(file);
        let sniffed = sniff(&path, &SniffHints::default()).unwrap();
        assert_eq!(sniffed.layout.columns, ["id", "name", "amount"], "{file}");
        assert!(
            sniffed.header_repair.as_deref().unwrap_or("").contains(repair),
            "{file}: {:?}",
            sniffed.header_repair
        );
        let db = TestDb::new();
        let summary = db.import(&path, "t");
        assert_eq!((summary.rows_imported, summary.rows_failed), (25, 0), "{file}");
        assert_eq!(db.rows_as_text("t")[2], ["3", "Name 3", "9"]);
    }
}

#[test]
fn a_column_that_changes_form_after_the_first_megabyte_is_typed_for_all_of_it() {
    let db = TestDb::new();
    let mut text = String::from("id,amount,seen,note\n");
    for n in 0..60_000u32 {
        // Whole amounts and ISO dates at first; from row 30,000 on, cents and day-first dates.
        let (amount, seen) = if n < 30_000 {
            (
                format!("{}", n % 5_000),
                format!("2024-{:02}-{:02}", 1 + n % 12, 1 + n % 28),
            )
        } else {
            (
                format!("{}.{:02}", n % 5_000, n % 100),
                format!("{:02}.{:02}.2024", 13 + n % 15, 1 + n % 12),
            )
        };
        text.push_str(&format!(
            "{n},{amount},{seen},padding to make the rows about sixty bytes\n"
        ));
    }
    assert!(text.len() > 3 * 1024 * 1024);
    let path = db.file("drift.csv", text.as_bytes());
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.column_types[1], ColumnType::Double);
    let summary = db.import(&path, "drift");
    assert_eq!((summary.rows_imported, summary.rows_failed), (60_000, 0));
}

#[test]
fn comment_lines_anywhere_are_skipped_and_counted() {
    let path = fixture("lab_comments.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.comment, Some(b'#'));
    assert_eq!(sniffed.layout.columns, ["sample", "conc", "unit"]);
    assert_eq!(sniffed.layout.column_types[1], ColumnType::Double);
    let db = TestDb::new();
    let summary = db.import(&path, "lab");
    assert_eq!(counts(&summary), [3, 3, 0, 3]);
    assert_eq!(db.rows_as_text("lab")[1], ["A2", "0.61", "mg/l"]);
}

#[test]
fn short_rows_fail_unless_padding_is_asked_for() {
    let db = TestDb::new();
    let path = db.file(
        "short_rows.csv",
        b"id,name,city\n1,Ann,Oslo\n2,Bob\n3\n4,Dan,Rome,extra\n",
    );
    let strict = db.import(&path, "strict");
    assert_eq!((strict.rows_imported, strict.rows_failed), (1, 3));
    let mut request = ImportRequest::new(&path, "padded");
    request.pad_missing = true;
    let padded = db.import_request(&request);
    // Short rows are padded with NULL; a row too long still fails.
    assert_eq!((padded.rows_imported, padded.rows_failed), (3, 1));
    assert_eq!(db.count("SELECT count(*) FROM padded WHERE city IS NULL"), 2);
    assert_eq!(db.count("SELECT count(*) FROM padded WHERE id = 3 AND name IS NULL"), 1);
}

#[test]
fn timestamps_with_zones_and_times_of_day_are_typed_and_stored_in_utc() {
    let path = fixture("zoned.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.column_types[0], ColumnType::TimestampTz);
    assert_eq!(sniffed.layout.column_types[1], ColumnType::Time);
    let db = TestDb::new();
    let summary = db.import(&path, "readings");
    assert_eq!((summary.rows_imported, summary.rows_failed), (3, 0));
    // 12:45 at +02:00 is 10:45 UTC; 08:00 at -05:00 is 13:00 UTC.
    assert_eq!(
        db.count(
            "SELECT count(*) FROM readings WHERE reading_at = TIMESTAMPTZ '2024-03-15 10:45:00+00' \
             AND local_time = TIME '12:45:30'"
        ),
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM readings WHERE reading_at = TIMESTAMPTZ '2024-03-16 13:00:00+00'"),
        1
    );
}

#[test]
fn backslash_escaped_quotes_are_detected_and_read() {
    let path = fixture("backslash_escapes.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.dialect.escape, Some(b'\\'));
    let db = TestDb::new();
    let summary = db.import(&path, "quotes");
    assert_eq!((summary.rows_imported, summary.rows_failed), (4, 0));
    let rows = db.rows_as_text("quotes");
    assert_eq!(rows[0][1], "He said \"hi\", then left");
    assert_eq!(rows[2][1], "A \"quoted, comma\" inside");
    assert_eq!(rows[3][1], "Doubled \"too\"");
}

#[test]
fn a_line_of_units_under_the_header_is_joined_into_the_column_names() {
    let path = fixture("lab_units.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.header_lines, 2);
    assert_eq!(sniffed.layout.columns, ["Sample", "Temp °C", "Pressure kPa", "Note"]);
    assert_eq!(sniffed.layout.column_types[1], ColumnType::Double);
    let db = TestDb::new();
    let summary = db.import(&path, "lab");
    assert_eq!(
        (summary.rows_read, summary.rows_imported, summary.rows_failed),
        (3, 3, 0)
    );

    // A first data row with one bad value and an empty cell stays a data row, and fails.
    let bad = db.file(
        "bad_first.csv",
        b"id,amount,score,note\n,x,7,\n2,5,8,a\n3,6,9,b\n4,7,1,c\n",
    );
    let sniffed = sniff(&bad, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.header_lines, 1);
}

#[test]
fn a_header_over_three_lines_with_a_name_over_merged_cells_becomes_one_name_per_column() {
    let path = fixture("lab_three_line_header.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.header_lines, 3);
    assert_eq!(
        sniffed.layout.columns,
        [
            "Station",
            "Temperature min °C",
            "Temperature max °C",
            "Pressure hPa",
            "Remark"
        ]
    );
    assert_eq!(
        sniffed.layout.column_types,
        [
            ColumnType::Varchar,
            ColumnType::Double,
            ColumnType::Double,
            ColumnType::BigInt,
            ColumnType::Varchar
        ]
    );
    let db = TestDb::new();
    let summary = db.import(&path, "stations");
    assert_eq!(counts(&summary), [4, 4, 0, 0]);
    let rows = db.rows_as_text("stations");
    assert_eq!(rows[0], ["Berlin", "-3.5", "4.25", "1013", "cold"]);
    assert_eq!(rows[1], ["Hamburg", "-1.0", "6.5", "1009", NULL_SHOWN]);

    // Told how many lines the header takes, Sluice joins that many and no more.
    let two = SniffHints {
        header_lines: Some(2),
        ..SniffHints::default()
    };
    let sniffed = sniff(&path, &two).unwrap();
    assert_eq!(sniffed.layout.header_lines, 2);
    assert_eq!(sniffed.layout.columns[1], "Temperature min");
    let mut request = ImportRequest::new(&path, "two_line_header");
    request.hints = two;
    let summary = db.import_request(&request);
    // The units line is now a row: in so small a sample its text keeps the columns text.
    assert_eq!(
        (summary.rows_read, summary.rows_imported, summary.rows_failed),
        (5, 5, 0)
    );
    assert_eq!(db.rows_as_text("two_line_header")[0][1], "°C");
}

#[test]
fn yes_no_letters_and_a_column_of_ticks_are_booleans_and_an_unticked_box_is_false() {
    let path = fixture("survey.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(
        sniffed.layout.column_types,
        [
            ColumnType::BigInt,
            ColumnType::Boolean,
            ColumnType::Boolean,
            ColumnType::Varchar,
            ColumnType::BigInt
        ]
    );
    assert_eq!(sniffed.layout.column_guesses[2].format.checkmark.as_deref(), Some("x"));
    let db = TestDb::new();
    let summary = db.import(&path, "survey");
    assert_eq!((summary.rows_imported, summary.rows_failed), (5, 0));
    let rows = db.rows_as_text("survey");
    let flags: Vec<(&str, &str)> = rows.iter().map(|row| (row[1].as_str(), row[2].as_str())).collect();
    assert_eq!(
        flags,
        [
            ("true", "true"),
            ("false", "false"),
            ("true", "true"),
            ("false", "false"),
            ("true", "true")
        ]
    );
    // The empty score stays NULL: only a checkbox column reads an empty field as false.
    assert_eq!(rows[2][4], NULL_SHOWN);
}

#[test]
fn spaces_between_a_delimiter_and_a_quoted_field_are_allowed() {
    let path = fixture("spaced_quotes.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert!(sniffed.layout.dialect.spaces_before_quotes);
    assert_eq!(sniffed.layout.columns, ["name", "city", "note", "amount"]);
    assert_eq!(sniffed.layout.column_types[3], ColumnType::Double);
    let db = TestDb::new();
    let summary = db.import(&path, "people");
    assert_eq!((summary.rows_imported, summary.rows_failed), (4, 0));
    let rows = db.rows("people");
    let text = |value: &str| Some(value.to_string());
    assert_eq!(
        rows[0],
        [text("Ann"), text("Paris, France"), text("said \"hi\""), text("12.5")]
    );
    // Quoted commas show that the file's separator is `, `: the space is not the value's, and a
    // field of that space only is empty.
    assert!(sniffed.layout.dialect.spaced_separator);
    assert_eq!(rows[1], [text("Bob"), text("Berlin"), text("plain"), text("7.0")]);
    assert_eq!(rows[2], [text("Cleo"), text("Rome, Italy"), None, text("-3.0")]);
    assert_eq!(rows[3][2], text("a, b, c"));

    // Quotes after spaces but no quoted delimiter prove nothing: spaces before a value stay.
    let path = db.file("aligned.csv", b"code, label, note\nA1, \"red\", y\nB2,   , \"z\"\n");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert!(sniffed.layout.dialect.spaces_before_quotes && !sniffed.layout.dialect.spaced_separator);
    db.import(&path, "aligned");
    assert_eq!(db.rows("aligned")[1], [text("B2"), text("   "), text("z")]);
}

#[test]
fn a_closing_total_and_the_note_under_it_fail_and_the_amounts_stay_typed() {
    let path = fixture("spending_footer.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert!(sniffed.layout.summary_rows);
    assert_eq!(sniffed.breaks.len(), 1);
    assert_eq!(sniffed.breaks[0].kind, BreakKind::Summary);
    assert!(sniffed.breaks[0].text.starts_with("Total"), "{:?}", sniffed.breaks);
    assert_eq!(
        sniffed.layout.column_types,
        [
            ColumnType::Date,
            ColumnType::Varchar,
            ColumnType::Varchar,
            ColumnType::Double
        ]
    );
    let db = TestDb::new();
    let summary = db.import(&path, "spending");
    // The blank line above the total is skipped, counted and listed.
    assert_eq!(counts(&summary), [12, 10, 2, 1]);
    let skipped = sluice::store::read_skipped_lines(db.store.conn(), summary.job_id, 10).unwrap();
    assert_eq!(
        skipped
            .iter()
            .map(|line| (line.line, line.reason.as_str()))
            .collect::<Vec<_>>(),
        [(12, "blank")]
    );
    assert_eq!(
        db.failed_lines(summary.job_id),
        [
            (13, vec![ProblemKind::SummaryRow.as_str().to_string()]),
            (14, vec![ProblemKind::InvalidValue.as_str().to_string()])
        ]
    );
    // "Total Office Supplies" is a supplier, not a label: its row is data.
    assert_eq!(
        db.count("SELECT count(*) FROM spending WHERE Supplier = 'Total Office Supplies'"),
        1
    );
}

#[test]
fn a_total_category_on_every_groups_rows_is_data_not_a_summary_line() {
    let path = fixture("long_format_totals.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert!(!sniffed.layout.summary_rows);
    assert!(sniffed.breaks.is_empty(), "{:?}", sniffed.breaks);
    let db = TestDb::new();
    let summary = db.import(&path, "population");
    assert_eq!((summary.rows_imported, summary.rows_failed), (12, 0));
}

#[test]
fn the_header_repeated_where_exports_were_joined_fails_as_a_header_line_even_in_text_columns() {
    let path = fixture("joined_exports.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.breaks.len(), 1);
    assert_eq!(sniffed.breaks[0].kind, BreakKind::RepeatedHeader);
    let db = TestDb::new();
    let summary = db.import(&path, "customers");
    assert_eq!((summary.rows_imported, summary.rows_failed), (5, 1));
    assert_eq!(
        db.failed_lines(summary.job_id),
        [(5, vec![ProblemKind::HeaderLine.as_str().to_string()])]
    );
}

#[test]
fn a_second_tables_header_is_reported_and_fails_as_a_header_line() {
    let path = fixture("second_table.csv");
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert_eq!(
        sniffed.layout.column_types,
        [ColumnType::BigInt, ColumnType::Date, ColumnType::Double],
        "{:?}",
        sniffed.layout.column_guesses
    );
    assert!(
        sniffed.breaks.iter().any(|found| found.kind == BreakKind::SecondHeader),
        "{:?}",
        sniffed.breaks
    );
    let db = TestDb::new();
    let summary = db.import(&path, "orders");
    assert_eq!((summary.rows_imported, summary.rows_failed), (4, 3));
    let failed = db.failed_lines(summary.job_id);
    assert_eq!(failed[0], (6, vec![ProblemKind::HeaderLine.as_str().to_string()]));
    assert_eq!(failed[1], (7, vec![ProblemKind::InvalidValue.as_str().to_string()]));
}

#[test]
fn a_total_at_the_end_of_a_large_file_is_found_in_the_last_block_read() {
    let db = TestDb::new();
    let mut text = String::from("region,day,amount\n");
    let mut sum = 0i64;
    for row in 0..60_000i64 {
        let amount = (row * 37) % 1000 - 300;
        sum += amount;
        text.push_str(&format!("R{},2024-01-{:02},{amount}\n", row % 7, row % 28 + 1));
    }
    text.push_str(&format!("TOTAL,,{sum}"));
    let path = db.file("large_total.csv", text.as_bytes());
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert!(sniffed.layout.summary_rows, "{:?}", sniffed.breaks);
    let summary = db.import(&path, "large");
    assert_eq!((summary.rows_imported, summary.rows_failed), (60_000, 1));
    assert_eq!(
        db.failed_lines(summary.job_id),
        [(60_002, vec![ProblemKind::SummaryRow.as_str().to_string()])]
    );
}

#[test]
fn values_that_start_like_a_total_label_and_null_markers_under_the_header_stay_data() {
    let db = TestDb::new();
    // "Total loss" is a claim's outcome, not a summary line, though the file has a closing total.
    let claims = db.file(
        "claims.csv",
        b"outcome,region,amount\nTotal loss,North,1200\nRepaired,South,300\nTotal loss,East,950\n\
          Repaired,West,120\nRepaired,North,80\nTotal,,2650\n",
    );
    let sniffed = sniff(&claims, &SniffHints::default()).unwrap();
    assert!(sniffed.layout.summary_rows);
    let summary = db.import(&claims, "claims");
    assert_eq!(counts(&summary), [6, 5, 1, 0]);
    assert_eq!(
        db.failed_lines(summary.job_id),
        [(7, vec![ProblemKind::SummaryRow.as_str().to_string()])]
    );

    // A first data row of null markers with an empty cell is data, not a line of units.
    let markers = db.file(
        "markers.csv",
        b"id,temp,pressure,note\n1,n/a,-,\n2,21.5,1013,a\n3,22.0,1009,b\n4,20.5,1011,c\n",
    );
    let sniffed = sniff(&markers, &SniffHints::default()).unwrap();
    assert_eq!(sniffed.layout.header_lines, 1);
    let summary = db.import(&markers, "markers");
    assert_eq!(counts(&summary), [4, 4, 0, 0]);
}

#[test]
fn a_total_just_past_the_first_megabyte_is_found_whatever_the_sample_cut() {
    let db = TestDb::new();
    let mut text = String::from("region,amount\n");
    let mut row = 0u64;
    while text.len() < 1024 * 1024 + 300 {
        text.push_str(&format!("R{},{}\n", row % 9, row % 997));
        row += 1;
    }
    text.push_str("Total,123456\n");
    let path = db.file("just_past.csv", text.as_bytes());
    let sniffed = sniff(&path, &SniffHints::default()).unwrap();
    assert!(sniffed.layout.summary_rows, "{:?}", sniffed.breaks);
    let summary = db.import(&path, "just_past");
    assert_eq!(counts(&summary), [row + 1, row, 1, 0]);
}
