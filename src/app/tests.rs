//! The window driven as a person would, with the real engine on small files (opened through the
//! path argument, not the OS dialog).

use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::SluiceApp;

mod endurance;

fn harness(dir: &Path, files: Vec<std::path::PathBuf>) -> Harness<'static, SluiceApp> {
    let db = dir.join("app.duckdb");
    Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .build_eframe(move |cc| {
            let launch = super::Launch {
                db_path: Some(db),
                files,
                ..super::Launch::default()
            };
            SluiceApp::new(&cc.egui_ctx, None, launch).unwrap()
        })
}

/// Runs frames until `done` holds, with real time passing for the engine's threads.
fn wait_for(
    harness: &mut Harness<'static, SluiceApp>,
    what: &str,
    done: impl Fn(&Harness<'static, SluiceApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(harness) {
        if Instant::now() >= deadline {
            let labels = labels(harness);
            panic!("timed out waiting for {what}; the window shows: {labels:?}");
        }
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.step();
}

/// Every label the window shows now.
fn labels(harness: &Harness<'static, SluiceApp>) -> Vec<String> {
    harness
        .query_all_by(|node| node.label().is_some())
        .filter_map(|node| {
            use egui_kittest::kittest::NodeT;
            node.accesskit_node().label()
        })
        .collect()
}

fn shows(text: &'static str) -> impl Fn(&Harness<'static, SluiceApp>) -> bool {
    move |harness| harness.query_by_label_contains(text).is_some()
}

/// A count from the window's own database, so a test asserts what is stored, not what is shown.
fn count(harness: &Harness<'static, SluiceApp>, sql: &str) -> i64 {
    harness
        .state()
        .engine
        .store()
        .conn()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

/// Imports a file of three rows (line 3 short by a field) and opens its failed rows.
fn import_with_one_failed_row(dir: &Path) -> Harness<'static, SluiceApp> {
    let file = dir.join("people.csv");
    std::fs::write(&file, "id,name\n1,Ann\n2\n3,Cy\n").unwrap();
    let mut harness = harness(dir, vec![file]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    harness.get_by_label("Start import").click();
    wait_for(
        &mut harness,
        "the job to finish",
        shows("2 imported · 1 failed · 3 read"),
    );
    harness.get_by_label("Show 1 failed rows").click();
    harness
}

#[test]
fn an_import_runs_and_its_failed_rows_show_the_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = import_with_one_failed_row(dir.path());
    wait_for(
        &mut harness,
        "the failed row",
        shows("the row has 1 field but the header has 2"),
    );
    // The row shown is the stored failed row: its tick box names its line.
    assert!(
        harness.query_by_label("Select line 3 for retry").is_some(),
        "the failing line 3 is shown as a row of its own"
    );
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM sluice.failed_rows WHERE line = 3 AND raw = '2'"
        ),
        1
    );
    assert_eq!(count(&harness, "SELECT count(*) FROM people"), 2);
}

#[test]
fn a_running_import_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.csv");
    let mut text = String::from("id,name\n");
    // At the throttle's 50,000 rows a second the job would run 30 s: the click comes once the
    // job shows it runs, and its end is the cancel's, not the file's.
    for i in 0..1_500_000 {
        text.push_str(&format!("{i},name {i}\n"));
    }
    std::fs::write(&file, text).unwrap();
    let mut harness = harness(dir.path(), vec![file]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    harness.get_by_label("limit rows/s").click();
    harness.step();
    harness.get_by_label("Start import").click();
    wait_for(&mut harness, "the job to run", |harness| {
        harness.query_by_label("Cancel").is_some()
    });
    harness.get_by_label("Cancel").click();
    wait_for(&mut harness, "the job to be cancelled", shows("cancelled"));
    assert!(harness.query_by_label_contains("imported ·").is_none());
    // Nothing of the cancelled import was kept: no table, and its job says so.
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main'"
        ),
        0
    );
    assert_eq!(
        count(&harness, "SELECT count(*) FROM sluice.jobs WHERE status = 'cancelled'"),
        1
    );
}

#[test]
fn a_failed_row_fixed_in_place_and_retried_moves_into_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = import_with_one_failed_row(dir.path());
    wait_for(&mut harness, "the failed row", |harness| {
        harness.query_by_label("Edit").is_some()
    });

    harness.get_by_label("Edit").click();
    wait_for(&mut harness, "the row's editors", |harness| {
        harness.query_by_label("line 3 name").is_some()
    });
    // The row had one field; editing pads it to the header's two, so its name can be filled in.
    harness.get_by_label("line 3 name").focus();
    harness.step();
    harness.get_by_label("line 3 name").type_text("Bo");
    harness.step();
    harness.get_by_label("Retry selected (1)").click();
    wait_for(
        &mut harness,
        "the retry",
        shows("1 row imported into 'people', 0 still failing"),
    );
    wait_for(&mut harness, "the failed set to shrink", shows("0 failed rows shown"));

    harness.get_by_label("Jobs").click();
    wait_for(
        &mut harness,
        "the import's new totals",
        shows("3 imported · 0 failed · 3 read"),
    );
    assert!(
        harness
            .query_by_label_contains("1 fixed and imported · 0 still failing")
            .is_some()
    );
    // The fixed row is in the table with the name typed, and no longer among the failed rows.
    assert_eq!(
        count(&harness, "SELECT count(*) FROM people WHERE id = 2 AND name = 'Bo'"),
        1
    );
    assert_eq!(count(&harness, "SELECT count(*) FROM sluice.failed_rows"), 0);

    // Undone from its card, the fix leaves the table and the row is failed again as it was read:
    // one field, its problem as the import gave it.
    harness.get_by_label("Undo").click();
    wait_for(&mut harness, "the undo", shows("undone by job"));
    assert!(
        harness
            .query_by_label_contains("2 imported · 1 failed · 3 read")
            .is_some()
    );
    assert_eq!(count(&harness, "SELECT count(*) FROM people WHERE id = 2"), 0);
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM sluice.failed_rows f JOIN sluice.failed_row_problems p USING (job_id, record_no) \
             WHERE f.line = 3 AND f.fields = '[\"2\"]' AND p.kind = 'too_few_fields'"
        ),
        1
    );
    assert!(harness.query_by_label("Undo").is_none());
}

#[test]
fn a_group_of_failed_rows_filters_the_table_to_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(&file, "id,name\n1,Ann\n2\n3,Cy\n4,Di,x\n5\n6,Fay\n").unwrap();
    let mut harness = harness(dir.path(), vec![file]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    harness.get_by_label("Start import").click();
    wait_for(
        &mut harness,
        "the job to finish",
        shows("3 imported · 3 failed · 6 read"),
    );
    harness.get_by_label("Show 3 failed rows").click();
    let short_rows = "too_few_fields · 1 field where the header has 2 × 2";
    wait_for(&mut harness, "the groups", |harness| {
        harness.query_by_label(short_rows).is_some()
    });
    assert!(
        harness
            .query_by_label("too_many_fields · 3 fields where the header has 2 × 1")
            .is_some()
    );
    harness.get_by_label(short_rows).click();
    wait_for(&mut harness, "the group's rows", shows("2 failed rows shown"));
    wait_for(&mut harness, "the group's rows", |harness| {
        harness.query_by_label("Select line 6 for retry").is_some()
    });
    // The rows shown are the group's: the short lines 3 and 6, not the long line 5.
    assert!(harness.query_by_label("Select line 3 for retry").is_some());
    assert!(harness.query_by_label("Select line 5 for retry").is_none());
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM sluice.failed_rows WHERE field_count = 1 AND line IN (3, 6)"
        ),
        2
    );
    // Clicked again, the group shows every failed row.
    harness.get_by_label(short_rows).click();
    wait_for(&mut harness, "every failed row", shows("3 failed rows shown"));
}

#[test]
fn a_group_fixed_by_a_previewed_rule_moves_into_the_table_and_its_undo_puts_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(&file, "id,name\n1,Ann\n2,Smith, Bo\n3,Cy\n4,Lee, Di\n5,Fay\n").unwrap();
    let mut harness = harness(dir.path(), vec![file]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    harness.get_by_label("Start import").click();
    wait_for(
        &mut harness,
        "the job to finish",
        shows("3 imported · 2 failed · 5 read"),
    );
    harness.get_by_label("Show 2 failed rows").click();
    let long_rows = "too_many_fields · 3 fields where the header has 2 × 2";
    wait_for(&mut harness, "the groups", |harness| {
        harness.query_by_label(long_rows).is_some()
    });
    harness.get_by_label(long_rows).click();
    // The group's width chose the rule, whose field is the first of the two to join: the name
    // split by its unquoted comma.
    wait_for(&mut harness, "the group's rows and the rule editor", |harness| {
        harness.query_by_label("Select line 5 for retry").is_some()
            && harness.query_by_label("number, from 1").is_some()
    });
    harness.get_by_label("number, from 1").focus();
    harness.step();
    harness.get_by_label("number, from 1").type_text("2");
    harness.step();
    harness.get_by_label("Preview over every row").click();
    wait_for(
        &mut harness,
        "the preview over every row",
        shows("2 rows targeted, 2 changed: 2 would pass, 0 would still fail"),
    );
    assert!(harness.query_by_label("2, Smith, Bo").is_some());
    // The preview changed nothing.
    assert_eq!(count(&harness, "SELECT count(*) FROM people"), 3);
    assert_eq!(count(&harness, "SELECT count(*) FROM sluice.failed_rows"), 2);

    harness.get_by_label("Apply fix").click();
    wait_for(
        &mut harness,
        "the fix",
        shows("2 rows imported into 'people', 0 still failing"),
    );
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM people WHERE name IN ('Smith, Bo', 'Lee, Di')"
        ),
        2
    );
    assert_eq!(count(&harness, "SELECT count(*) FROM sluice.failed_rows"), 0);
    assert_eq!(
        count(&harness, "SELECT rows_imported FROM sluice.jobs WHERE kind = 'import'"),
        5
    );

    harness.get_by_label("Jobs").click();
    wait_for(&mut harness, "the fix's card", |harness| {
        harness.query_by_label("Undo").is_some()
    });
    harness.get_by_label("Undo").click();
    wait_for(&mut harness, "the undo", shows("undone by job"));
    assert_eq!(count(&harness, "SELECT count(*) FROM people"), 3);
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM sluice.failed_rows WHERE field_count = 3 AND raw IN ('2,Smith, Bo', '4,Lee, Di')"
        ),
        2
    );
    assert_eq!(
        count(&harness, "SELECT rows_failed FROM sluice.jobs WHERE kind = 'import'"),
        2
    );
}

#[test]
fn a_recipe_chosen_for_an_import_fixes_its_rows_as_they_are_read() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = sluice::store::Store::open(&dir.path().join("app.duckdb"), &Default::default()).unwrap();
        sluice::import::Recipe {
            name: "crm-daily".into(),
            rules: vec![sluice::import::FixRule::JoinFields {
                first: 1,
                delimiter: None,
            }],
        }
        .save(&store)
        .unwrap();
    }
    let file = dir.path().join("people.csv");
    std::fs::write(&file, "id,name\n1,Ann\n2,Smith, Bo\n3,Cy\n").unwrap();
    let mut harness = harness(dir.path(), vec![file]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    choose(&mut harness, "recipe", "crm-daily");
    harness.key_press(egui::Key::Escape);
    harness.step();
    harness.get_by_label("Start import").click();
    wait_for(
        &mut harness,
        "the import with the recipe",
        shows("3 imported · 0 failed · 3 read"),
    );
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM people WHERE id = 2 AND name = 'Smith, Bo'"
        ),
        1
    );
    assert_eq!(count(&harness, "SELECT count(*) FROM sluice.failed_rows"), 0);
}

/// A database with table `people` of `rows` generated rows, made before the window opens.
fn database_with_people(dir: &Path, rows: u64) {
    let store = sluice::store::Store::open(&dir.join("app.duckdb"), &Default::default()).unwrap();
    sluice::bench::create_people_table(store.conn(), "people", rows).unwrap();
}

fn choose(harness: &mut Harness<'static, SluiceApp>, combo: &str, option: &'static str) {
    harness.get_by_label(combo).click();
    // The options may still be on their way from the database.
    wait_for(harness, option, |harness| harness.query_by_label(option).is_some());
    harness.get_by_label(option).click();
    harness.step();
}

fn type_into(harness: &mut Harness<'static, SluiceApp>, field: &str, text: &str) {
    harness.get_by_label(field).focus();
    harness.step();
    harness.get_by_label(field).type_text(text);
    harness.step();
}

/// Adds filter row `number` through its combo boxes and value field.
fn add_filter(
    harness: &mut Harness<'static, SluiceApp>,
    number: usize,
    column: &'static str,
    op: &'static str,
    value: &str,
) {
    harness.get_by_label("Add filter").click();
    let column_combo = format!("filter {number} column");
    wait_for(harness, "a new filter row", |harness| {
        harness.query_by_label(&column_combo).is_some()
    });
    choose(harness, &column_combo, column);
    choose(harness, &format!("filter {number} operator"), op);
    type_into(harness, &format!("filter {number} value"), value);
}

#[test]
fn an_export_with_two_filters_set_in_the_window_writes_exactly_the_matching_rows() {
    let dir = tempfile::tempdir().unwrap();
    database_with_people(dir.path(), 1_000);
    // The generator's age is 18 + i % 73 and its country is DE when i % 8 == 0.
    let expected: Vec<u64> = (1..=1_000u64).filter(|i| 18 + i % 73 >= 50 && i % 8 == 0).collect();
    let mut harness = harness(dir.path(), Vec::new());
    harness.get_by_label("Export").click();
    harness.step();
    choose(&mut harness, "export table", "people (1,000 rows)");
    wait_for(&mut harness, "the preview", shows("1,000 matching rows"));

    add_filter(&mut harness, 1, "age: INTEGER", "≥", "50");
    add_filter(&mut harness, 2, "country: VARCHAR", "=", "DE");
    let count = format!("{} matching rows", expected.len());
    wait_for(&mut harness, "the filtered count", |harness| {
        harness.query_by_label(&count).is_some()
    });

    let out = dir.path().join("slice.csv");
    harness.state_mut().views.export.set_destination(out.clone());
    harness.step();
    harness.get_by_label("Start export").click();
    wait_for(&mut harness, "the export", shows("Exported"));
    let written = std::fs::read_to_string(&out).unwrap();
    let ids: Vec<u64> = written
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, expected);
    assert!(written.starts_with("id,name,email,age,country,"));
}

/// Whether a field (a combo box's choice, a text field's text) shows `value`.
fn shows_value(harness: &Harness<'static, SluiceApp>, value: &str) -> bool {
    harness
        .query_all_by(|node| node.value().as_deref() == Some(value))
        .next()
        .is_some()
}

/// Opens the preset picker and takes `preset` from it, one frame at a time.
fn choose_preset(harness: &mut Harness<'static, SluiceApp>, preset: &str) {
    harness.get_by_label("export preset").click();
    for _ in 0..3 {
        harness.step();
    }
    harness.get_by_label(preset).click();
    for _ in 0..3 {
        harness.step();
    }
}

#[test]
fn choosing_a_preset_fills_the_export_fields_and_each_stays_editable() {
    use sluice::export::{ParquetCompression, QuoteStyle, TextEncoding};
    let dir = tempfile::tempdir().unwrap();
    database_with_people(dir.path(), 50);
    let mut harness = harness(dir.path(), Vec::new());
    harness.get_by_label("Export").click();
    harness.step();
    choose(&mut harness, "export table", "people (50 rows)");
    wait_for(&mut harness, "the preview", shows("50 matching rows"));

    choose_preset(&mut harness, "Excel on Windows");
    let options = &harness.state().views.export.options;
    assert_eq!(options.shape.encoding, TextEncoding::Utf8Bom);
    assert!(shows_value(&harness, "UTF-8 with BOM"), "the encoding field shows it");
    assert!(
        shows_value(&harness, "CRLF (Windows)"),
        "the line endings field shows it"
    );

    choose_preset(&mut harness, "PostgreSQL COPY");
    let options = &harness.state().views.export.options;
    assert_eq!(options.shape.quote, QuoteStyle::All);
    assert_eq!(options.shape.null_string, "\\N");
    assert_eq!(options.shape.encoding, TextEncoding::Utf8);
    assert!(shows_value(&harness, "every field"));
    assert!(shows_value(&harness, "\\N"), "the NULL field shows the preset's marker");

    // The preset's NULL string, changed by hand, is the one written.
    harness.get_by_label("NULL as").focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness.get_by_label("NULL as").type_text("NULL");
    harness.step();
    assert_eq!(harness.state().views.export.options.shape.null_string, "NULL");
    assert_eq!(
        harness.state().views.export.options.preset,
        None,
        "a changed field is no preset's any more"
    );
    harness
        .state()
        .engine
        .store()
        .conn()
        .execute_batch("UPDATE people SET country = NULL WHERE id = 1")
        .unwrap();
    let out = dir.path().join("pg.csv");
    harness.state_mut().views.export.set_destination(out.clone());
    harness.step();
    harness.get_by_label("Start export").click();
    wait_for(&mut harness, "the export", shows("Exported"));
    let written = std::fs::read_to_string(&out).unwrap();
    let first_row = written.lines().nth(1).unwrap();
    assert!(first_row.starts_with("\"1\","), "{first_row}");
    assert!(
        first_row.contains(",NULL,") || first_row.ends_with(",NULL"),
        "{first_row}"
    );

    // Starting the export showed the Jobs view; back to Export.
    harness.get_by_label("Export").click();
    harness.step();
    choose_preset(&mut harness, "Data lake (Parquet)");
    assert_eq!(
        harness.state().views.export.options.parquet.compression,
        ParquetCompression::Zstd
    );
    assert!(
        harness.query_by_label("Partition by").is_some(),
        "Parquet's own fields are shown"
    );
}

/// Says whether the window has the focus, as the desktop would.
fn set_focused(harness: &mut Harness<'static, SluiceApp>, focused: bool) {
    harness
        .input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .focused = Some(focused);
    harness.step();
}

#[test]
fn a_long_job_that_ends_in_the_background_sends_a_notification_with_its_counts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(&file, "id,name\n1,Ann\n2\n3,Cy\n").unwrap();
    let mut harness = harness(dir.path(), vec![file]);
    let recorder = super::notify::RecordingNotifier::default();
    harness.state_mut().notifier = Box::new(recorder.clone());
    // Every job counts as long here, so a small file shows what a large one would.
    harness.state_mut().notify_after = Duration::ZERO;
    wait_for(&mut harness, "the preview", shows("Start import"));
    harness.get_by_label("Start import").click();
    set_focused(&mut harness, false);
    wait_for(
        &mut harness,
        "the job to finish",
        shows("2 imported · 1 failed · 3 read"),
    );
    let sent = recorder.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].title, "Import into people finished");
    assert_eq!(sent[0].body, "2 imported · 1 failed · 3 read");
    assert_eq!(sent[0].folder.as_deref(), Some(dir.path()));

    // With the window in front, the Jobs view says it and nothing else does.
    set_focused(&mut harness, true);
    harness.get_by_label("Export").click();
    harness.step();
    choose(&mut harness, "export table", "people (2 rows)");
    let out = dir.path().join("out.csv");
    harness.state_mut().views.export.set_destination(out.clone());
    harness.step();
    harness.get_by_label("Start export").click();
    wait_for(&mut harness, "the export", shows("Exported"));
    assert_eq!(recorder.sent.lock().unwrap().len(), 1);
}

#[test]
fn browsing_to_the_end_of_a_million_rows_fetches_only_pages_near_the_view() {
    let dir = tempfile::tempdir().unwrap();
    database_with_people(dir.path(), 1_000_000);
    let mut harness = harness(dir.path(), Vec::new());
    harness.get_by_label("Browse").click();
    harness.step();
    choose(&mut harness, "browse table", "people (1,000,000 rows)");
    wait_for(&mut harness, "the page index", shows("1,000,000 matching rows"));
    harness.get_by_label("Bottom").click();
    wait_for(&mut harness, "the last row", |harness| {
        harness.query_by_label("1,000,000").is_some()
    });
    let last_page = 1_000_000 / super::reads::BROWSE_PAGE_ROWS - 1;
    let cached = harness.state().views.browse.cached_pages();
    assert!(cached.len() <= super::browse_view::MAX_CACHED_PAGES, "{cached:?}");
    assert!(
        cached.iter().all(|page| *page <= 2 || *page + 3 >= last_page),
        "only pages at the top (where it opened) and the end were fetched: {cached:?}"
    );
    assert!(cached.contains(&last_page));
}

/// The share of its budget a gauge's text gives ("23% of the 1280.0 MiB budget"), with the
/// budget in MiB.
fn budget_share(label: &str) -> Option<(f64, f64)> {
    let (percent, rest) = label.split_once("% of the ")?;
    let budget = rest.strip_suffix(" MiB budget")?;
    Some((percent.parse().ok()?, budget.parse().ok()?))
}

#[test]
fn the_memory_view_shows_the_process_against_its_budget_not_its_peak() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(dir.path(), Vec::new());
    harness.get_by_label("Memory").click();
    // Against the highest reading so far the gauge read 100% nearly always; against DuckDB's
    // limit (or the machine's RAM) a small process is far from it.
    wait_for(&mut harness, "the process against its budget", |harness| {
        labels(harness)
            .iter()
            .filter_map(|label| budget_share(label))
            .any(|(percent, budget_mib)| percent < 100.0 && budget_mib > 0.0)
    });
}

/// The window bounds DuckDB by default (64 MB, which DuckDB shows as 61.0 MiB) and says so.
#[test]
fn the_window_gives_duckdb_a_bounded_memory_default_and_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(dir.path(), Vec::new());
    harness.get_by_label("Memory").click();
    wait_for(&mut harness, "DuckDB's limit", shows("of its limit 61.0 MiB"));
}

#[test]
fn choosing_another_encoding_reads_the_file_again_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("names.csv");
    std::fs::write(&file, "id,name\n1,café\n").unwrap();
    let mut harness = harness(dir.path(), vec![file]);
    wait_for(&mut harness, "the preview", shows("café"));
    choose(&mut harness, "encoding", "windows-1252");
    // UTF-8's two bytes for é, read as windows-1252, are two characters.
    wait_for(&mut harness, "the preview in windows-1252", shows("cafÃ©"));
}

#[test]
fn a_messy_file_with_a_title_local_dates_and_decimal_commas_imports_typed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("messy.csv");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real_world/messy.csv"),
        &file,
    )
    .unwrap();
    let mut harness = harness(dir.path(), vec![file]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    // The title line is shown as skipped, and the dates read day first with dots.
    assert!(harness.query_by_label_contains("skipped: Umsatzbericht").is_some());
    harness.get_by_label("Start import").click();
    wait_for(
        &mut harness,
        "the job to finish",
        shows("4 imported · 0 failed · 4 read"),
    );
    let typed = |column: &str| -> String {
        harness
            .state()
            .engine
            .store()
            .conn()
            .query_row(
                "SELECT data_type FROM duckdb_columns() WHERE table_name = 'messy' AND column_name = ?",
                [column],
                |row| row.get(0),
            )
            .unwrap()
    };
    assert_eq!(typed("Datum"), "DATE");
    assert_eq!(typed("Betrag"), "DOUBLE");
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM messy WHERE Betrag = 1234.56 AND Datum = DATE '2024-03-15'"
        ),
        1
    );
    assert_eq!(count(&harness, "SELECT count(*) FROM messy WHERE Rabatt IS NULL"), 2);
}

/// A file dropped from a file manager, as the native integration hands it over.
#[derive(Debug)]
struct DroppedPath(std::path::PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|error| error.to_string())
    }
}

/// Drops `files` on the window, as a person dragging them from a file manager.
fn drop_files(harness: &mut Harness<'static, SluiceApp>, files: &[std::path::PathBuf]) {
    harness.input_mut().dropped_files = files
        .iter()
        .map(|path| std::sync::Arc::new(DroppedPath(path.clone())) as egui::DroppedFileHandle)
        .collect();
    harness.step();
}

#[test]
fn several_dropped_files_import_as_one_job_with_each_rows_file() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("jan.csv");
    let second = dir.path().join("feb.csv");
    std::fs::write(&first, "id,name\n1,Ann\n2,Bob\n").unwrap();
    // Enough good ids that the file's id column is typed as numbers (the sniff allows one value
    // in a thousand not to fit), with one that is not.
    let mut text = String::from("name,id\nDi,x\n");
    for id in 3..1503 {
        text.push_str(&format!("P{id},{id}\n"));
    }
    std::fs::write(&second, text).unwrap();
    let mut harness = harness(dir.path(), Vec::new());
    drop_files(&mut harness, &[first, second.clone()]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    assert!(harness.query_by_label_contains("and 1 more file").is_some());
    harness.get_by_label("source column").focus();
    harness.step();
    harness.get_by_label("source column").type_text("source_file");
    harness.step();
    harness.get_by_label("Start import").click();
    wait_for(
        &mut harness,
        "the job to finish",
        shows("1,502 imported · 1 failed · 1,503 read"),
    );
    assert_eq!(
        count(
            &harness,
            "SELECT count(DISTINCT source_file) FROM jan WHERE name IS NOT NULL"
        ),
        2,
        "each file's rows went in, their columns matched by name"
    );
    assert_eq!(
        count(&harness, "SELECT count(*) FROM jan WHERE id = 3 AND name = 'P3'"),
        1
    );
    let failed_in_second = format!(
        "SELECT count(*) FROM sluice.failed_rows WHERE line = 2 AND file = '{}'",
        second.display()
    );
    assert_eq!(count(&harness, &failed_in_second), 1);
}

#[test]
fn the_jobs_view_names_the_file_a_many_file_import_is_reading() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("parts");
    std::fs::create_dir(&folder).unwrap();
    // 500,000 rows a file: at the throttle's 50,000 rows a second the first file alone takes
    // 10 s, so the view is read and the job cancelled while it is still on that file.
    for part in 0..3 {
        let mut text = String::from("id,name\n");
        for row in 0..500_000 {
            text.push_str(&format!("{row},name {part} {row}\n"));
        }
        std::fs::write(folder.join(format!("part_{part}.csv")), text).unwrap();
    }
    let mut harness = harness(dir.path(), vec![folder]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    assert!(harness.query_by_label_contains("and 2 more files").is_some());
    harness.get_by_label("limit rows/s").click();
    harness.step();
    harness.get_by_label("Start import").click();
    wait_for(&mut harness, "the file being read", shows("Reading file 1 of 3: "));
    let reading = format!(
        "Reading file 1 of 3: {}",
        dir.path().join("parts").join("part_0.csv").display()
    );
    assert!(harness.query_by_label(&reading).is_some(), "{reading}");
    harness.get_by_label("Cancel").click();
    wait_for(&mut harness, "the cancel", shows("cancelled"));
}

#[test]
fn an_upsert_chosen_in_the_window_updates_the_stored_row_and_adds_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let monday = dir.path().join("accounts.csv");
    std::fs::write(&monday, "id,name\n1,Ann\n2,Bob\n").unwrap();
    let mut harness = harness(dir.path(), vec![monday]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    harness.get_by_label("Start import").click();
    wait_for(
        &mut harness,
        "the first import",
        shows("2 imported · 0 failed · 2 read"),
    );

    // The same extract again, a day later: Bob renamed, Cy new, Cy again.
    let tuesday = dir.path().join("tuesday").join("accounts.csv");
    std::fs::create_dir(tuesday.parent().unwrap()).unwrap();
    std::fs::write(&tuesday, "id,name\n2,Bobby\n3,Cy\n3,Cy again\n").unwrap();
    drop_files(&mut harness, std::slice::from_ref(&tuesday));
    wait_for(&mut harness, "the preview", shows("Start import"));
    choose(&mut harness, "mode", "update by key");
    wait_for(&mut harness, "the key picker", |harness| {
        harness.query_by_label("key").is_some()
    });
    choose(&mut harness, "key", "key id");
    harness.step();
    wait_for(&mut harness, "the target check", shows("updates 'accounts' by id"));
    harness.key_press(egui::Key::Escape);
    harness.step();
    harness.get_by_label("Start import").click();
    wait_for(
        &mut harness,
        "the upsert",
        shows("1 inserted · 1 updated · 1 failed · 3 read"),
    );
    assert_eq!(count(&harness, "SELECT count(*) FROM accounts"), 3);
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM accounts WHERE id = 2 AND name = 'Bobby'"
        ),
        1
    );
    assert_eq!(
        count(&harness, "SELECT count(*) FROM accounts WHERE id = 3 AND name = 'Cy'"),
        1
    );
}

#[test]
fn a_workbooks_sheet_is_chosen_in_the_window_and_imported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let notes = workbook.add_worksheet();
    notes.set_name("Notes").unwrap();
    notes.write_string(0, 0, "note").unwrap();
    notes.write_string(1, 0, "first sheet").unwrap();
    let sales = workbook.add_worksheet();
    sales.set_name("Sales").unwrap();
    sales.write_string(0, 0, "region").unwrap();
    sales.write_string(0, 1, "amount").unwrap();
    for row in 1..=3u32 {
        sales.write_string(row, 0, format!("R{row}")).unwrap();
        sales.write_number(row, 1, f64::from(row) * -1.5).unwrap();
    }
    workbook.save(&path).unwrap();

    let mut harness = harness(dir.path(), vec![path]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    assert!(
        harness.query_by_label_contains("first sheet").is_some(),
        "the first sheet is shown"
    );
    // Each sheet is offered with its size, the one shown too.
    assert!(
        shows_value(&harness, "Notes · 2 rows × 1 column"),
        "the sheet shown names its size"
    );
    choose(&mut harness, "sheet", "Sales · 4 rows × 2 columns");
    wait_for(&mut harness, "the Sales sheet", shows("R3"));
    harness.get_by_label("Start import").click();
    wait_for(&mut harness, "the import", shows("3 imported · 0 failed · 3 read"));
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM book WHERE region = 'R2' AND amount = -3"
        ),
        1
    );
}

/// Clicks Start once it is enabled: after a new reading it waits on the target's check against
/// the database.
fn start_import_once_enabled(harness: &mut Harness<'static, SluiceApp>) {
    wait_for(harness, "Start to be enabled", |harness| {
        use egui_kittest::kittest::NodeT;
        harness
            .query_by_label("Start import")
            .is_some_and(|start| !start.accesskit_node().is_disabled())
    });
    harness.get_by_label("Start import").click();
}

#[test]
fn a_layout_that_leaves_many_rows_failing_is_said_and_the_runner_up_is_one_click_away() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two_tables.csv");
    // The first table has the most rows, so it is read, but it leaves the second's failing.
    let mut text = String::from("station,lat,lon\n");
    for row in 0..12 {
        text.push_str(&format!("S{row},52.{row},4.{row}\n"));
    }
    text.push_str("site,date,depth,temp\n");
    for row in 0..10 {
        text.push_str(&format!("S{row},2024-01-{:02},{},{row}.5\n", row + 1, row * 5));
    }
    // Rows of the first table's width under the second: the first table does not end where the
    // second starts, so the second's rows fail in this reading.
    text.push_str("S20,52.9,4.9\nS21,53.0,5.0\n");
    std::fs::write(&file, text).unwrap();
    let mut harness = harness(dir.path(), vec![file]);
    wait_for(
        &mut harness,
        "the layout warning",
        shows("sampled records fit this reading"),
    );
    harness.get_by_label("Read it that way").click();
    wait_for(&mut harness, "the other layout's preview", shows("depth"));
    start_import_once_enabled(&mut harness);
    wait_for(
        &mut harness,
        "the job to finish",
        shows("10 imported · 2 failed · 12 read"),
    );
    assert_eq!(count(&harness, "SELECT count(*) FROM two_tables WHERE depth = 45"), 1);
    assert_eq!(count(&harness, "SELECT count(*) FROM two_tables"), 10);
}

#[test]
fn a_table_stacked_above_the_one_read_is_one_click_away_and_imports_only_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stacked.csv");
    let mut text = String::from("station,lat,lon\nS1,52.1,4.1\nS2,52.2,4.2\n");
    text.push_str("site,date,depth,temp\n");
    for row in 0..10 {
        text.push_str(&format!("S{row},2024-01-{:02},{},{row}.5\n", row + 1, row * 5));
    }
    std::fs::write(&file, text).unwrap();
    let mut harness = harness(dir.path(), vec![file]);
    wait_for(
        &mut harness,
        "the other table's note",
        shows("Not data: another table, lines 1-3 (3 columns, 2 rows)."),
    );
    harness.get_by_label("Read this table").click();
    wait_for(&mut harness, "the first table's preview", shows("station"));
    start_import_once_enabled(&mut harness);
    wait_for(
        &mut harness,
        "the job to finish",
        shows("2 imported · 0 failed · 2 read"),
    );
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM stacked WHERE station = 'S2' AND lat = 52.2"
        ),
        1
    );
    assert_eq!(count(&harness, "SELECT count(*) FROM stacked"), 2);
}

#[test]
fn a_table_beside_the_one_read_on_a_sheet_is_one_click_away_and_imports_only_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("side.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (column, name) in ["site", "depth", "temp"].into_iter().enumerate() {
        sheet.write_string(0, column as u16, name).unwrap();
    }
    for row in 1..=6u32 {
        sheet.write_string(row, 0, format!("S{row}")).unwrap();
        sheet.write_number(row, 1, f64::from(row * 5)).unwrap();
        sheet.write_number(row, 2, f64::from(row) + 0.5).unwrap();
    }
    // Column D is empty; a two-row lookup table stands in E and F.
    sheet.write_string(0, 4, "code").unwrap();
    sheet.write_string(0, 5, "label").unwrap();
    for (row, (code, label)) in [("S1", "north"), ("S2", "south")].into_iter().enumerate() {
        sheet.write_string(row as u32 + 1, 4, code).unwrap();
        sheet.write_string(row as u32 + 1, 5, label).unwrap();
    }
    workbook.save(&path).unwrap();

    let mut harness = harness(dir.path(), vec![path]);
    wait_for(
        &mut harness,
        "the other table's note",
        shows("Not data: another table, beside this one, columns E:F (2 columns, 2 sampled rows)."),
    );
    harness.get_by_label("Read this table").click();
    wait_for(&mut harness, "the lookup table's preview", shows("south"));
    assert!(
        harness.query_by_label("columns E:F").is_some(),
        "the file facts say which columns are read"
    );
    start_import_once_enabled(&mut harness);
    wait_for(
        &mut harness,
        "the job to finish",
        shows("2 imported · 0 failed · 2 read"),
    );
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM side WHERE code = 'S2' AND label = 'south'"
        ),
        1
    );
    assert_eq!(count(&harness, "SELECT count(*) FROM side"), 2);
}
