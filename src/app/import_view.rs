//! The Import view: choose a file, see what Sluice understood of it, adjust the schema, start.

use std::path::PathBuf;

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};
use sluice::import::{
    ColumnSpec, ColumnType, DEFAULT_BATCH_ROWS, ImportMode, ImportRequest, SchemaFile, SniffHints, Sniffed,
    preview_problem,
};

use crate::format::megabytes;

/// Rows of the file shown in the preview grid.
const PREVIEW_ROWS: usize = 50;

/// What the user asked for in the Import view this frame.
pub enum ImportAction {
    OpenDialog,
    LoadSchema,
    SaveSchema(SchemaFile),
    Sniff { path: PathBuf, hints: SniffHints },
    Start(Box<ImportRequest>),
}

#[derive(Default)]
pub struct ImportView {
    pub path: Option<PathBuf>,
    hints: SniffHints,
    sniffed: Option<Sniffed>,
    sniff_error: Option<String>,
    columns: Vec<ColumnSpec>,
    table: String,
    mode: ImportMode,
    batch_rows: usize,
    throttle: bool,
    max_rows_per_sec: u64,
    pub recent: Vec<PathBuf>,
}

const TYPES: [ColumnType; 7] = [
    ColumnType::Boolean,
    ColumnType::Integer,
    ColumnType::BigInt,
    ColumnType::Double,
    ColumnType::Varchar,
    ColumnType::Date,
    ColumnType::Timestamp,
];

impl ImportView {
    pub fn with_recent(recent: Vec<PathBuf>) -> Self {
        Self {
            recent,
            ..Self::default()
        }
    }

    /// Opens `path`: the sniff runs on the loader thread and arrives in [`Self::set_sniffed`].
    pub fn open(&mut self, path: PathBuf) -> ImportAction {
        self.path = Some(path.clone());
        self.hints = SniffHints::default();
        self.sniffed = None;
        self.sniff_error = None;
        self.recent.retain(|recent| recent != &path);
        self.recent.insert(0, path.clone());
        self.recent.truncate(8);
        ImportAction::Sniff {
            path,
            hints: self.hints.clone(),
        }
    }

    pub fn set_sniffed(&mut self, path: PathBuf, result: Result<Box<Sniffed>, String>) {
        if self.path.as_ref() != Some(&path) {
            return;
        }
        match result {
            Ok(sniffed) => {
                self.columns = sniffed
                    .columns
                    .iter()
                    .zip(&sniffed.column_types)
                    .map(|(name, column_type)| {
                        let mut spec = ColumnSpec::new(name, *column_type);
                        spec.source = Some(name.clone());
                        spec
                    })
                    .collect();
                if self.table.is_empty() {
                    self.table = table_name_for(&path);
                }
                self.sniff_error = None;
                self.sniffed = Some(*sniffed);
            }
            Err(error) => {
                self.sniffed = None;
                self.sniff_error = Some(error);
            }
        }
    }

    /// Takes a loaded schema: each column of the file gets the schema column whose source (or
    /// name) matches its header, else the one at its position; the rest keep their guesses.
    pub fn apply_schema(&mut self, schema: SchemaFile) {
        let Some(sniffed) = &self.sniffed else {
            return;
        };
        for (index, header) in sniffed.columns.iter().enumerate() {
            let matched = schema
                .columns
                .iter()
                .find(|spec| {
                    spec.source
                        .as_deref()
                        .unwrap_or(&spec.name)
                        .eq_ignore_ascii_case(header)
                })
                .or_else(|| schema.columns.get(index));
            if let (Some(spec), Some(column)) = (matched, self.columns.get_mut(index)) {
                *column = spec.clone();
                column.source = Some(header.clone());
            }
        }
    }

    /// The request the Start button would submit, if the form is complete.
    pub fn request(&self) -> Option<ImportRequest> {
        let path = self.path.clone()?;
        let sniffed = self.sniffed.as_ref()?;
        if self.table.trim().is_empty() || sluice::sql::validate_table_name(&self.table).is_err() {
            return None;
        }
        let mut request = ImportRequest::new(path, self.table.trim());
        request.mode = self.mode;
        request.hints = SniffHints {
            delimiter: Some(sniffed.dialect.delimiter),
            quote: Some(sniffed.dialect.quote),
            has_header: Some(sniffed.has_header),
            encoding: Some(sniffed.encoding.encoding),
        };
        request.schema = Some(SchemaFile {
            columns: self.columns.clone(),
        });
        request.batch_rows = if self.batch_rows == 0 {
            DEFAULT_BATCH_ROWS
        } else {
            self.batch_rows
        };
        request.max_rows_per_sec = self.throttle.then_some(self.max_rows_per_sec.max(1));
        Some(request)
    }

    pub fn ui(&mut self, ui: &mut Ui) -> Option<ImportAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            if ui.button("Open file… (Ctrl+O)").clicked() {
                action = Some(ImportAction::OpenDialog);
            }
            if !self.recent.is_empty() {
                egui::ComboBox::from_id_salt("recent")
                    .selected_text("Recent files")
                    .show_ui(ui, |ui| {
                        for recent in self.recent.clone() {
                            if ui.selectable_label(false, recent.display().to_string()).clicked() {
                                action = Some(self.open(recent));
                            }
                        }
                    });
            }
            ui.label(RichText::new("or drop a CSV, TSV or .gz file on the window").weak());
        });
        let Some(path) = self.path.clone() else {
            return action;
        };
        ui.separator();
        if let Some(error) = &self.sniff_error {
            ui.label(RichText::new(format!("Cannot read {}: {error}", path.display())).color(Color32::RED));
            return action;
        }
        let Some(sniffed) = self.sniffed.clone() else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("Reading {}…", path.display()));
            });
            return action;
        };
        if let Some(resniff) = self.facts_ui(ui, &sniffed) {
            action = Some(resniff);
        }
        ui.separator();
        // The target and Start stay in view however long the schema and preview grow.
        egui::Panel::bottom("import-target").show(ui, |ui| {
            if let Some(start) = self.target_ui(ui) {
                action = Some(start);
            }
        });
        egui::ScrollArea::vertical().id_salt("import-scroll").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("Columns");
                if ui.button("Load schema…").clicked() {
                    action = Some(ImportAction::LoadSchema);
                }
                if ui.button("Save schema…").clicked() {
                    action = Some(ImportAction::SaveSchema(SchemaFile {
                        columns: self.columns.clone(),
                    }));
                }
            });
            self.schema_ui(ui);
            ui.add_space(8.0);
            ui.heading("Preview");
            self.preview_ui(ui, &sniffed);
        });
        action
    }

    /// File facts, each editable: a change re-sniffs at once.
    fn facts_ui(&mut self, ui: &mut Ui, sniffed: &Sniffed) -> Option<ImportAction> {
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            ui.strong(sniffed.path.display().to_string());
            ui.label(format!(
                "{}{}",
                megabytes(sniffed.bytes_total),
                if sniffed.gzip { " gzip" } else { "" }
            ));
            ui.label(format!("encoding {}", sniffed.encoding.describe()));
            let mut delimiter = sniffed.dialect.delimiter;
            egui::ComboBox::from_label("delimiter")
                .selected_text(delimiter_name(delimiter))
                .show_ui(ui, |ui| {
                    for candidate in [b',', b';', b'\t', b'|'] {
                        changed |= ui
                            .selectable_value(&mut delimiter, candidate, delimiter_name(candidate))
                            .changed();
                    }
                });
            let mut quote = sniffed.dialect.quote;
            egui::ComboBox::from_label("quote")
                .selected_text(char::from(quote).to_string())
                .show_ui(ui, |ui| {
                    for candidate in [b'"', b'\''] {
                        changed |= ui
                            .selectable_value(&mut quote, candidate, char::from(candidate).to_string())
                            .changed();
                    }
                });
            let mut has_header = sniffed.has_header;
            changed |= ui.checkbox(&mut has_header, "header").changed();
            if changed {
                self.hints = SniffHints {
                    delimiter: Some(delimiter),
                    quote: Some(quote),
                    has_header: Some(has_header),
                    encoding: Some(sniffed.encoding.encoding),
                };
            }
        });
        let path = self.path.clone()?;
        changed.then(|| {
            self.sniffed = None;
            ImportAction::Sniff {
                path,
                hints: self.hints.clone(),
            }
        })
    }

    fn schema_ui(&mut self, ui: &mut Ui) {
        egui::Grid::new("schema").striped(true).show(ui, |ui| {
            for header in ["Column", "Target name", "Type", "Skip", "Required", "Unique", "Pattern"] {
                ui.strong(header);
            }
            ui.end_row();
            for (index, spec) in self.columns.iter_mut().enumerate() {
                ui.label(spec.source.clone().unwrap_or_default());
                ui.add(egui::TextEdit::singleline(&mut spec.name).desired_width(140.0));
                egui::ComboBox::from_id_salt(("type", index))
                    .selected_text(spec.column_type.to_string())
                    .show_ui(ui, |ui| {
                        for column_type in TYPES {
                            ui.selectable_value(&mut spec.column_type, column_type, column_type.to_string());
                        }
                    });
                ui.checkbox(&mut spec.skip, "");
                ui.checkbox(&mut spec.required, "");
                ui.checkbox(&mut spec.unique, "");
                let mut pattern = spec.pattern.clone().unwrap_or_default();
                if ui
                    .add(egui::TextEdit::singleline(&mut pattern).desired_width(120.0))
                    .changed()
                {
                    spec.pattern = (!pattern.is_empty()).then_some(pattern);
                }
                ui.end_row();
            }
        });
    }

    /// The first rows, with cells that would fail marked and the reason on hover.
    fn preview_ui(&self, ui: &mut Ui, sniffed: &Sniffed) {
        let width = self.columns.len();
        TableBuilder::new(ui)
            .id_salt("preview")
            .striped(true)
            .vscroll(false)
            .columns(Column::auto().at_least(60.0).clip(true), width)
            .header(20.0, |mut header| {
                for spec in &self.columns {
                    header.col(|ui| {
                        ui.strong(&spec.name);
                    });
                }
            })
            .body(|body| {
                let rows = &sniffed.preview[..sniffed.preview.len().min(PREVIEW_ROWS)];
                body.rows(18.0, rows.len(), |mut row| {
                    let record = &rows[row.index()];
                    for (index, spec) in self.columns.iter().enumerate() {
                        let value = record.get(index).map(String::as_str).unwrap_or_default();
                        row.col(|ui| {
                            let problem = (!spec.skip).then(|| preview_problem(spec, value)).flatten();
                            match problem {
                                Some(problem) => {
                                    ui.label(RichText::new(value).background_color(Color32::from_rgb(120, 30, 30)))
                                        .on_hover_text(problem.message);
                                }
                                None => {
                                    ui.label(value);
                                }
                            }
                        });
                    }
                });
            });
    }

    fn target_ui(&mut self, ui: &mut Ui) -> Option<ImportAction> {
        let mut action = None;
        ui.horizontal_wrapped(|ui| {
            ui.label("Table");
            ui.add(egui::TextEdit::singleline(&mut self.table).desired_width(160.0));
            if let Err(error) = sluice::sql::validate_table_name(&self.table) {
                ui.label(RichText::new(error.to_string()).color(Color32::RED));
            }
            egui::ComboBox::from_label("mode")
                .selected_text(mode_name(self.mode))
                .show_ui(ui, |ui| {
                    for mode in [ImportMode::Create, ImportMode::Append, ImportMode::Replace] {
                        ui.selectable_value(&mut self.mode, mode, mode_name(mode));
                    }
                });
            if self.batch_rows == 0 {
                self.batch_rows = DEFAULT_BATCH_ROWS;
            }
            ui.label("batch rows");
            ui.add(egui::DragValue::new(&mut self.batch_rows).range(1..=1_000_000));
            ui.checkbox(&mut self.throttle, "limit rows/s");
            if self.throttle {
                if self.max_rows_per_sec == 0 {
                    self.max_rows_per_sec = 50_000;
                }
                ui.add(egui::DragValue::new(&mut self.max_rows_per_sec).range(1..=10_000_000));
            }
            let ready = self.request();
            let start = ui.add_enabled(
                ready.is_some(),
                egui::Button::new(RichText::new("Start import").strong()),
            );
            let shortcut = ui.input(|input| input.modifiers.command && input.key_pressed(egui::Key::Enter));
            if (start.clicked() || shortcut)
                && let Some(request) = ready
            {
                action = Some(ImportAction::Start(Box::new(request)));
            }
        });
        action
    }
}

fn delimiter_name(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tab".into(),
        other => char::from(other).to_string(),
    }
}

fn mode_name(mode: ImportMode) -> &'static str {
    match mode {
        ImportMode::Create => "new table",
        ImportMode::Append => "append to existing",
        ImportMode::Replace => "replace",
    }
}

/// A table name from a file name: `Customers 2024.csv.gz` -> `customers_2024`.
pub fn table_name_for(path: &std::path::Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let stem = [".csv.gz", ".tsv.gz", ".txt.gz", ".csv", ".tsv", ".txt", ".gz"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(&name);
    let cleaned: String = stem
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    let cleaned = cleaned.trim_matches('_').to_string();
    if cleaned.is_empty() { "imported".into() } else { cleaned }
}
