//! Settings the window keeps between runs through eframe's storage: only choices a person made,
//! never runtime state. Those that shape the engine (database, workers, memory limit) take
//! effect at the next start; the theme and batch size at once.
//!
//! [`Settings`] is the one place each of them lives: the views that offer one (the Import view's
//! batch size, the Memory view's workers and memory limit) edit it here, through the same
//! editors as the settings window, and read it when they need it, so nothing is copied back.

use std::path::{Path, PathBuf};

use egui::{ThemePreference, Ui};
use sluice::import::DEFAULT_BATCH_ROWS;

pub const SETTINGS_KEY: &str = "sluice-settings";

/// DuckDB's memory limit in the window unless the user sets one. DuckDB's own default (80% of
/// RAM) lets its cache of table blocks grow with every table read or written, so a long-lived
/// window climbs towards it, and an import fills whatever limit there is with the blocks it
/// wrote. Measured in the window under Xvfb, a 5M-row import peaked at 352 MiB unbounded, 326-364
/// MiB under 128 MB, and 274 MiB under 64 MB (with [`WINDOW_BATCH_ROWS`] and two allocator
/// arenas). Sorting Browse by a column of a 10M-row table builds its page index in 1.6 s under
/// 64 MB against 1.35 s under 128 MB, at 163 against 222 MiB (`sluice bench browse`).
pub const DEFAULT_MEMORY_LIMIT: &str = "64MB";

/// Rows per import batch in the window unless the user sets another. Half the command line's
/// (one DuckDB row group): the parser runs up to three batches ahead of the writer, and in the
/// window a 5M-row import peaked 22 MiB lower with it (the command line took 4% longer with
/// half-size batches: 3.39 s against 3.25 s).
pub const WINDOW_BATCH_ROWS: usize = DEFAULT_BATCH_ROWS / 2;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The database to open when neither `--db` nor `SLUICE_DB` names one.
    pub database: Option<PathBuf>,
    pub workers: usize,
    pub batch_rows: usize,
    pub theme: ThemePreference,
    /// DuckDB's memory limit, such as "1GB"; [`DEFAULT_MEMORY_LIMIT`] when empty.
    pub memory_limit: String,
    pub recent_files: Vec<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database: None,
            workers: 2,
            batch_rows: WINDOW_BATCH_ROWS,
            theme: ThemePreference::System,
            memory_limit: String::new(),
            recent_files: Vec::new(),
        }
    }
}

impl Settings {
    pub fn load(storage: Option<&dyn eframe::Storage>) -> Self {
        storage
            .and_then(|storage| eframe::get_value(storage, SETTINGS_KEY))
            .unwrap_or_default()
    }

    /// The memory limit the user chose for DuckDB: none when the field is empty or is not a
    /// size (a typo must not keep the database from opening at the next start).
    pub fn memory_limit(&self) -> Option<String> {
        let limit = self.memory_limit.trim();
        sluice::store::is_memory_size(limit).then(|| limit.to_string())
    }

    /// Puts `path` first among the recent files, keeping eight.
    pub fn remember_file(&mut self, path: &Path) {
        self.recent_files.retain(|recent| recent.as_path() != path);
        self.recent_files.insert(0, path.to_path_buf());
        self.recent_files.truncate(8);
    }
}

/// The editor of the batch size, wherever it is offered, labelled by `label`.
pub fn batch_rows_edit(ui: &mut Ui, settings: &mut Settings, label: egui::Id) {
    // The editor clamps what it shows into its range: a 0 saved by hand would become batches of
    // one row, so it becomes the default instead.
    if settings.batch_rows == 0 {
        settings.batch_rows = WINDOW_BATCH_ROWS;
    }
    ui.add(egui::DragValue::new(&mut settings.batch_rows).range(1..=1_000_000))
        .labelled_by(label)
        .on_hover_text("Rows per batch for new imports");
}

/// The editor of the number of workers, wherever it is offered, labelled by `label`.
pub fn workers_edit(ui: &mut Ui, settings: &mut Settings, label: egui::Id) {
    ui.add(egui::DragValue::new(&mut settings.workers).range(1..=16))
        .labelled_by(label)
        .on_hover_text("Jobs that run at once, from the next start");
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn settings_written_by_an_older_version_load_with_defaults_for_the_rest() {
        let old = r#"{"workers":3,"recent_files":["/tmp/a.csv"]}"#;
        let settings: Settings = serde_json::from_str(old).unwrap();
        assert_eq!(settings.workers, 3);
        assert_eq!(settings.batch_rows, WINDOW_BATCH_ROWS);
        assert_eq!(settings.theme, ThemePreference::System);
        assert_eq!(settings.memory_limit(), None);
    }

    #[test]
    fn a_file_opened_again_moves_to_the_front_of_the_recent_files() {
        let mut settings = Settings::default();
        for name in ["a", "b", "a"] {
            settings.remember_file(Path::new(name));
        }
        assert_eq!(settings.recent_files, [PathBuf::from("a"), PathBuf::from("b")]);
        for index in 0..20 {
            settings.remember_file(Path::new(&format!("f{index}")));
        }
        assert_eq!(settings.recent_files.len(), 8);
    }

    #[test]
    fn a_memory_limit_that_is_not_a_size_is_not_used() {
        let mut settings = Settings {
            memory_limit: "lots".into(),
            ..Settings::default()
        };
        assert_eq!(settings.memory_limit(), None);
        settings.memory_limit = " 512MB ".into();
        assert_eq!(settings.memory_limit(), Some("512MB".into()));
    }
}
