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

/// The sibling modules of each folder under `src` (its `.rs` files but `mod.rs`, and its
/// subfolders) that a file names, through `super::` or its folder's `crate::` path.
fn sibling_imports() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // `super::name`, `super::{a, b::c}` and the folder's own `crate::` path.
    let single = regex::Regex::new(r"\bsuper::([a-z_][a-z0-9_]*)").unwrap();
    let grouped = regex::Regex::new(r"\bsuper::\{([^}]*)\}").unwrap();
    let mut edges = Vec::new();
    for path in &files {
        let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) else {
            continue;
        };
        if stem == "mod" || stem == "lib" || stem == "main" {
            continue;
        }
        let folder = path.parent().unwrap();
        let siblings: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .filter_map(|entry| {
                let path = entry.unwrap().path();
                let name = path.file_stem()?.to_str()?.to_string();
                (name != stem && name != "mod" && (path.is_dir() || path.extension().is_some_and(|e| e == "rs")))
                    .then_some(name)
            })
            .collect();
        let inside = folder.strip_prefix(&src).unwrap();
        let crate_path: String = std::iter::once("crate".to_string())
            .chain(inside.iter().map(|part| part.to_string_lossy().into_owned()))
            .collect::<Vec<_>>()
            .join("::");
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
        let by_crate = regex::Regex::new(&format!(r"\b{}::([a-z_][a-z0-9_]*)", regex::escape(&crate_path))).unwrap();
        let mut named: Vec<String> = single
            .captures_iter(code)
            .chain(by_crate.captures_iter(code))
            .map(|captures| captures[1].to_string())
            .collect();
        for captures in grouped.captures_iter(code) {
            for item in captures[1].split(',') {
                named.push(item.trim().split("::").next().unwrap_or_default().to_string());
            }
        }
        let from = format!("{}/{stem}", inside.display());
        for name in named.into_iter().filter(|name| siblings.contains(name)) {
            let edge = (from.clone(), format!("{}/{name}", inside.display()));
            if !edges.contains(&edge) {
                edges.push(edge);
            }
        }
    }
    edges
}

/// Two modules that import each other are one concern in two files, or two that lean on each
/// other's insides: either way neither can be read, tested or moved alone.
#[test]
fn no_two_sibling_modules_import_each_other() {
    let edges = sibling_imports();
    assert!(edges.len() > 100, "only {} imports between siblings found", edges.len());
    let mut cycles = Vec::new();
    for (from, to) in &edges {
        if from < to && edges.contains(&(to.clone(), from.clone())) {
            cycles.push(format!("{from} <-> {to}"));
        }
    }
    assert!(
        cycles.is_empty(),
        "modules that import each other:\n{}",
        cycles.join("\n")
    );
}

/// The import's stages, in the order a file passes through them. A stage may use the stages
/// before it and never one after: opening knows nothing of how a file is sniffed, and nothing
/// but writing touches the database's rows.
const IMPORT_STAGES: [&str; 5] = ["open", "read", "sniff", "plan", "write"];

/// Each `(stage, later stage)` that a file of the first names, outside its tests.
fn import_stage_edges_backwards() -> Vec<String> {
    let import = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/import");
    let mut backwards = Vec::new();
    for (position, stage) in IMPORT_STAGES.iter().enumerate() {
        let mut files = Vec::new();
        rust_files(&import.join(stage), &mut files);
        assert!(!files.is_empty(), "no files in src/import/{stage}");
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for later in &IMPORT_STAGES[position + 1..] {
                if code.contains(&format!("crate::import::{later}::")) {
                    backwards.push(format!("{} uses {later}", path.display()));
                }
            }
        }
    }
    backwards
}

#[test]
fn each_import_stage_uses_only_the_stages_before_it() {
    let backwards = import_stage_edges_backwards();
    assert!(
        backwards.is_empty(),
        "an import stage uses a later one:\n{}",
        backwards.join("\n")
    );
}

#[test]
fn the_import_stages_use_each_other() {
    // The check above finds nothing when the stages name each other some other way.
    let import = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/import/write/run.rs");
    let text = std::fs::read_to_string(import).unwrap();
    assert!(text.contains("crate::import::sniff::"));
}
