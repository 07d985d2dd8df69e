//! The window driven as a person would, with the real engine on small files (opened through the
//! path argument, not the OS dialog).

use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::SluiceApp;

fn harness(dir: &Path, files: Vec<std::path::PathBuf>) -> Harness<'static, SluiceApp> {
    let db = dir.join("app.duckdb");
    Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .build_eframe(move |cc| SluiceApp::new(&cc.egui_ctx, None, Some(db), files).unwrap())
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
            let labels: Vec<String> = harness
                .query_all_by(|node| node.label().is_some())
                .filter_map(|node| {
                    use egui_kittest::kittest::NodeT;
                    node.accesskit_node().label()
                })
                .collect();
            panic!("timed out waiting for {what}; the window shows: {labels:?}");
        }
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.step();
}

fn shows(text: &'static str) -> impl Fn(&Harness<'static, SluiceApp>) -> bool {
    move |harness| harness.query_by_label_contains(text).is_some()
}

#[test]
fn an_import_runs_and_its_failed_rows_show_the_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(&file, "id,name\n1,Ann\n2\n3,Cy\n").unwrap();
    let mut harness = harness(dir.path(), vec![file]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    harness.get_by_label("Start import").click();
    wait_for(
        &mut harness,
        "the job to finish",
        shows("2 imported · 1 failed · 3 read"),
    );

    harness.get_by_label("Show 1 failed rows").click();
    wait_for(
        &mut harness,
        "the failed row",
        shows("the row has 1 field but the header has 2"),
    );
    assert!(
        harness.query_by_label("3").is_some(),
        "the failing line number is shown"
    );
}

#[test]
fn a_running_import_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.csv");
    let mut text = String::from("id,name\n");
    for i in 0..300_000 {
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
}

#[test]
fn a_failed_row_fixed_in_place_and_retried_moves_into_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(&file, "id,name\n1,Ann\n2\n3,Cy\n").unwrap();
    let mut harness = harness(dir.path(), vec![file]);
    wait_for(&mut harness, "the preview", shows("Start import"));
    harness.get_by_label("Start import").click();
    wait_for(&mut harness, "the job to finish", shows("Show 1 failed rows"));
    harness.get_by_label("Show 1 failed rows").click();
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
}
