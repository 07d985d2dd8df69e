//! The engine has no window in it: nothing outside `src/app` may name egui or eframe, so the
//! engine and the command line can be read, reused and tested without a GUI.

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
