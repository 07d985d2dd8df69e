//! The layers stay apart. The engine has no window in it: nothing outside `src/app` may name
//! egui or eframe, so the engine and the command line can be read, reused and tested without a
//! GUI. And the store owns Sluice's own tables: no SQL on `sluice.*` is written outside
//! `src/store`, so their statements can be found, changed and reviewed in one place.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_engine_module_names_egui_or_eframe() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let window = src.join("app");
    let engine_files: Vec<&PathBuf> = files.iter().filter(|path| !path.starts_with(&window)).collect();
    assert!(
        engine_files.len() > 30,
        "only {} engine files found",
        engine_files.len()
    );
    let mut offenders = Vec::new();
    for path in engine_files {
        let text = std::fs::read_to_string(path).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("egui") || code.contains("eframe") {
                offenders.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "the engine names the window's crates:\n{}",
        offenders.join("\n")
    );
}

/// The string literals of a line of code (comments cut off), naively: enough for SQL text.
fn string_literals(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or_default();
    code.split('"').skip(1).step_by(2).collect()
}

/// Whether `text` names a table in Sluice's schema (`sluice.jobs`, `sluice.{}`), as opposed to a
/// file name such as `sluice.duckdb`.
fn names_a_sluice_table(text: &str) -> bool {
    text.match_indices("sluice.").any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let rest = &text[at + "sluice.".len()..];
        let starts_name = rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_' || c == '{' || c == '"');
        before.is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'))
            && starts_name
            && !rest.starts_with("duckdb")
    })
}

#[test]
fn the_test_for_sluice_tables_can_fail() {
    assert!(names_a_sluice_table("SELECT * FROM sluice.jobs"));
    assert!(names_a_sluice_table("sluice.{}"));
    assert!(!names_a_sluice_table("sluice.duckdb"));
    assert!(!names_a_sluice_table("bench-sluice.duckdb"));
    assert_eq!(
        string_literals(r#"conn.execute("DELETE FROM sluice.failed_rows", []) // sluice.x"#),
        ["DELETE FROM sluice.failed_rows"]
    );
}

#[test]
fn no_sql_on_sluice_tables_outside_the_store() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let store = src.join("store");
    let mut offenders = Vec::new();
    for path in files.iter().filter(|path| !path.starts_with(&store)) {
        // Tests (a `tests.rs` or a module in a `tests` folder beside it) may look at the store's
        // tables directly to check what it wrote.
        let is_tests = |name: &std::ffi::OsStr| name == "tests.rs" || name == "tests";
        if path.strip_prefix(&src).is_ok_and(|inner| inner.iter().any(is_tests)) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
        for (number, line) in code.lines().enumerate() {
            if string_literals(line).into_iter().any(names_a_sluice_table) {
                offenders.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "SQL on Sluice's own tables outside src/store:\n{}",
        offenders.join("\n")
    );
}
