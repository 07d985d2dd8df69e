//! The Import view: choose a file, see what Sluice understood of it, adjust the schema, start.
//! The batch size and the recent files are settings: the view reads and edits them in
//! [`Settings`] and keeps no copy of its own.

use std::path::PathBuf;
use std::sync::Arc;

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};
use sluice::engine::JobSpec;
use sluice::import::{
    ColumnSpec, ColumnType, ImportMode, ImportRequest, PreviewColumn, Recipe, SchemaFile, SniffHints, Sniffed,
    plan_import,
};
use sluice::store::TableInfo;

use super::command::{AfterSubmit, Command, Dialog, ViewContext};
use super::reads::{ImportAnswer, ImportRead, LoadRequest};
use super::settings::{Settings, batch_rows_edit};
use crate::format::{megabytes, thousands};

/// Rows of the file shown in the preview grid.
const PREVIEW_ROWS: usize = 50;

#[derive(Default)]
pub struct ImportView {
    /// The file shown in the preview: the first of the import's files.
    pub path: Option<PathBuf>,
    /// The import's other files, read after `path` into the same table.
    more_files: Vec<PathBuf>,
    /// Columns only some files have are added instead of refusing those files.
    add_columns: bool,
    /// The column that gets each row's file, as typed (empty: none).
    source_column: String,
    /// An upsert's key: target column names, in the order ticked.
    key: Vec<String>,
    /// The recipes kept in the database, and the one whose rules fix each record (by name).
    recipes: Vec<Recipe>,
    recipe: Option<String>,
    /// The columns as sniffed, before any edit: a many-file import whose columns were not
    /// edited lets the engine type each column for every file, not just the first.
    sniffed_columns: Vec<ColumnSpec>,
    hints: SniffHints,
    /// Shared, so a frame that draws from it holds it without copying its preview.
    sniffed: Option<Arc<Sniffed>>,
    /// Counts the sniffs taken, so what is derived from one is known to be stale.
    sniff_generation: u64,
    sniff_error: Option<String>,
    columns: Vec<ColumnSpec>,
    /// What is typed in each column's rule fields, kept apart so half-typed numbers survive.
    rule_texts: Vec<RuleTexts>,
    /// The database's tables, to check the target against before starting.
    tables: Vec<TableInfo>,
    table: String,
    mode: ImportMode,
    throttle: bool,
    max_rows_per_sec: u64,
    /// Give short rows NULL for their missing fields instead of failing them.
    pad_missing: bool,
    /// The file-wide null markers as typed, applied when the field loses focus.
    null_markers_text: String,
    /// The comment prefix as typed, applied when the field loses focus (empty: detected).
    comment_text: String,
    /// Counts the table lists received, so the target is checked again against a new one.
    tables_generation: u64,
    derived: Derived,
}

/// What the view derives from its settings: the target's check (a whole plan of the import)
/// and each column's compiled rules for the preview. Kept until a setting changes, because
/// working them out each frame (every rule per preview cell) slowed the frames of wide files.
#[derive(Default)]
struct Derived {
    /// The settings it was derived from; none before the first.
    from: Option<DerivedFrom>,
    target: Option<TargetCheck>,
    preview_columns: Vec<PreviewColumn>,
}

/// The settings the target's check and the preview's rules depend on.
#[derive(PartialEq)]
struct DerivedFrom {
    sniff_generation: u64,
    tables_generation: u64,
    columns: Vec<ColumnSpec>,
    table: String,
    mode: ImportMode,
    key: Vec<String>,
}

/// The text of one column's numeric and list rules as typed.
#[derive(Clone, Debug, Default, PartialEq)]
struct RuleTexts {
    min: String,
    max: String,
    min_length: String,
    max_length: String,
    one_of: String,
    null_markers: String,
}

impl RuleTexts {
    fn of(spec: &ColumnSpec) -> Self {
        let text = |value: Option<String>| value.unwrap_or_default();
        Self {
            min: text(spec.min.map(|v| v.to_string())),
            max: text(spec.max.map(|v| v.to_string())),
            min_length: text(spec.min_length.map(|v| v.to_string())),
            max_length: text(spec.max_length.map(|v| v.to_string())),
            one_of: text(spec.one_of.as_ref().map(|values| values.join(", "))),
            null_markers: text(spec.written.null_markers.as_ref().map(|values| values.join(", "))),
        }
    }
}

/// Whether the target can take the file, as far as the window can tell before starting.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetCheck {
    /// Fine; the text says what will happen.
    Ready(String),
    /// Starting would fail; the text says why.
    Problem(String),
}

const TYPES: [ColumnType; 9] = [
    ColumnType::Boolean,
    ColumnType::Integer,
    ColumnType::BigInt,
    ColumnType::Double,
    ColumnType::Varchar,
    ColumnType::Date,
    ColumnType::Timestamp,
    ColumnType::TimestampTz,
    ColumnType::Time,
];

impl ImportView {
    pub fn set_tables(&mut self, tables: Vec<TableInfo>) {
        self.tables = tables;
        self.tables_generation += 1;
    }

    /// Works out the target's check and the preview's rules again when a setting they depend
    /// on changed since they were last worked out, and asks for another frame so that what was
    /// drawn from the old ones earlier in this frame is drawn again.
    fn refresh_derived(&mut self, ctx: &egui::Context) {
        let from = DerivedFrom {
            sniff_generation: self.sniff_generation,
            tables_generation: self.tables_generation,
            columns: self.columns.clone(),
            table: self.table.clone(),
            mode: self.mode,
            key: self.key.clone(),
        };
        if self.derived.from.as_ref() == Some(&from) {
            return;
        }
        self.derived = Derived {
            target: self.target_check(),
            preview_columns: self.columns.iter().map(PreviewColumn::new).collect(),
            from: Some(from),
        };
        ctx.request_repaint();
    }

    /// Checks the target against the database's tables and, when appending, plans the import
    /// exactly as the engine will, so a mismatch shows before anything starts.
    pub fn target_check(&self) -> Option<TargetCheck> {
        let sniffed = self.sniffed.as_ref()?;
        let name = self.table.trim();
        if let Err(error) = sluice::sql::validate_table_name(name) {
            return Some(TargetCheck::Problem(error.to_string()));
        }
        let shown = self.tables.iter().find(|table| table.name.eq_ignore_ascii_case(name));
        let schema = SchemaFile {
            columns: self.columns.clone(),
        };
        // The engine's rules, in its words: the mode against the table, the plan against its
        // columns, and an upsert's key. Only what a ready import will do is worded here.
        let target = match sluice::import::target(self.mode, name, shown.map(TableInfo::as_existing)) {
            Ok(target) => target,
            Err(error) => return Some(TargetCheck::Problem(error.to_string())),
        };
        let plan = match plan_import(&sniffed.layout, Some(&schema), target.existing.as_ref()) {
            Ok(plan) => plan,
            Err(error) => return Some(TargetCheck::Problem(error.to_string())),
        };
        if self.mode == ImportMode::Upsert {
            let label = sniffed.path.file_name().map(|name| name.to_string_lossy().into_owned());
            if let Err(error) = sluice::import::check_key(
                &self.key,
                &plan,
                target.existing.as_ref(),
                label.as_deref().unwrap_or_default(),
            ) {
                return Some(TargetCheck::Problem(error.to_string()));
            }
        }
        let rows = shown.map_or(0, |table| table.rows);
        let check = match (self.mode, &target.existing) {
            (ImportMode::Append, Some(table)) => {
                let fed = plan.columns.len();
                let unfed = table.columns.len().saturating_sub(fed);
                TargetCheck::Ready(format!(
                    "appends to '{}' ({} rows): {fed} of its {} columns matched{}",
                    table.name,
                    thousands(rows),
                    table.columns.len(),
                    if unfed > 0 {
                        format!(", {unfed} left empty (NULL)")
                    } else {
                        String::new()
                    }
                ))
            }
            (ImportMode::Upsert, Some(table)) => TargetCheck::Ready(format!(
                "updates '{}' by {}: a row whose key is stored replaces it, the others are added",
                table.name,
                self.key.join(", ")
            )),
            (ImportMode::Upsert, None) => {
                TargetCheck::Ready(format!("creates '{}' keyed by {}", target.name, self.key.join(", ")))
            }
            (ImportMode::Replace, _) if shown.is_some() => TargetCheck::Ready(format!(
                "replaces '{}' and its {} rows when the import completes",
                target.name,
                thousands(rows)
            )),
            _ => TargetCheck::Ready(format!("creates '{}' with {} columns", target.name, plan.columns.len())),
        };
        Some(check)
    }

    /// Opens `files` as one import (the first in the preview); returns the sniff to run on the
    /// loader thread, whose answer arrives in [`Self::set_sniffed`].
    /// `folder` is the folder they were found in, which then names the table.
    pub fn open_files(
        &mut self,
        mut files: Vec<PathBuf>,
        folder: Option<&std::path::Path>,
        settings: &mut Settings,
    ) -> Option<LoadRequest> {
        if files.is_empty() {
            return None;
        }
        let first = files.remove(0);
        let sniff = self.open(first, settings);
        self.more_files = files;
        if let Some(folder) = folder {
            self.table = table_name_for(folder);
        }
        Some(sniff)
    }

    /// Opens `path` and notes it among the recent files; returns the sniff to run on the loader
    /// thread, whose answer arrives in [`Self::set_sniffed`].
    pub fn open(&mut self, path: PathBuf, settings: &mut Settings) -> LoadRequest {
        self.path = Some(path.clone());
        self.more_files.clear();
        self.add_columns = false;
        self.source_column.clear();
        self.key.clear();
        self.hints = SniffHints::default();
        self.null_markers_text.clear();
        self.comment_text.clear();
        // A new file gets its own table name and starts as a new table: carrying "replace" and
        // the last name over would make overwriting the wrong table one click away.
        self.table.clear();
        self.mode = ImportMode::Create;
        self.sniffed = None;
        self.sniff_error = None;
        settings.remember_file(&path);
        LoadRequest::Import(ImportRead::Sniff {
            path,
            hints: Box::new(self.hints.clone()),
        })
    }

    /// Takes an answer to one of the view's reads (the files a drop named are the window's).
    pub fn loaded(&mut self, answer: ImportAnswer) {
        match answer {
            ImportAnswer::Sniffed { path, result } => self.set_sniffed(path, result),
            ImportAnswer::Schema(schema) => self.apply_schema(schema),
            ImportAnswer::Inputs { .. } => {}
        }
    }

    pub fn set_sniffed(&mut self, path: PathBuf, result: Result<Box<Sniffed>, String>) {
        if self.path.as_ref() != Some(&path) {
            return;
        }
        match result {
            Ok(sniffed) => {
                self.columns = sniffed
                    .layout
                    .columns
                    .iter()
                    .zip(&sniffed.layout.column_types)
                    .enumerate()
                    .map(|(index, (name, column_type))| {
                        let mut spec = ColumnSpec::new(name, *column_type);
                        spec.source = Some(name.clone());
                        // What was detected is stated in the schema, where it can be changed and
                        // where the preview reads it.
                        if let Some(guess) = sniffed.layout.column_guesses.get(index) {
                            spec.written = guess.format.clone();
                        }
                        spec
                    })
                    .collect();
                self.rule_texts = self.columns.iter().map(RuleTexts::of).collect();
                self.sniffed_columns = self.columns.clone();
                if self.table.is_empty() {
                    self.table = table_name_for(&path);
                }
                self.sniff_error = None;
                self.sniffed = Some(Arc::from(sniffed));
                self.sniff_generation += 1;
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
        for (index, header) in sniffed.layout.columns.iter().enumerate() {
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
                column.source = Some(header.to_string());
            }
        }
        self.rule_texts = self.columns.iter().map(RuleTexts::of).collect();
    }

    /// The request the Start button would submit with `settings`, if the form is complete.
    #[cfg(test)]
    pub fn request(&self, settings: &Settings) -> Option<ImportRequest> {
        self.request_given(self.target_check().as_ref(), settings)
    }

    /// The request, with the target already checked (planning compiles every pattern, so a
    /// frame does it once). The batch size is the setting's as it stands.
    fn request_given(&self, check: Option<&TargetCheck>, settings: &Settings) -> Option<ImportRequest> {
        let path = self.path.clone()?;
        let sniffed = self.sniffed.as_ref()?;
        if !matches!(check, Some(TargetCheck::Ready(_))) || !self.rules_are_valid() {
            return None;
        }
        let several = !self.more_files.is_empty();
        let mut paths = vec![path];
        paths.extend(self.more_files.iter().cloned());
        let mut request = ImportRequest::of_files(paths, self.table.trim());
        request.mode = self.mode;
        // Each of several files is sniffed on its own: only what the person chose applies to
        // all, not what the first file was found to be.
        request.hints = if several {
            self.hints.clone()
        } else {
            SniffHints {
                delimiter: Some(sniffed.layout.dialect.delimiter),
                quote: Some(sniffed.layout.dialect.quote),
                has_header: Some(sniffed.layout.has_header),
                encoding: Some(sniffed.layout.encoding.encoding),
                sheet: sniffed.layout.sheet.clone(),
                ..self.hints.clone()
            }
        };
        let edited = self.columns != self.sniffed_columns;
        request.schema = (!several || edited).then(|| SchemaFile {
            columns: self.columns.clone(),
        });
        request.add_columns = self.add_columns;
        if self.mode == ImportMode::Upsert {
            request.key = self.key.clone();
        }
        let source_column = self.source_column.trim();
        request.source_column = (!source_column.is_empty()).then(|| source_column.to_string());
        // Settings saved by hand (or by an old version) may say 0, which the engine refuses.
        request.batch_rows = if settings.batch_rows == 0 {
            super::settings::WINDOW_BATCH_ROWS
        } else {
            settings.batch_rows
        };
        request.max_rows_per_sec = self.throttle.then_some(self.max_rows_per_sec.max(1));
        request.pad_missing = self.pad_missing;
        request.recipe = self
            .recipe
            .as_ref()
            .and_then(|name| self.recipes.iter().find(|recipe| &recipe.name == name))
            .cloned();
        Some(request)
    }

    pub fn ui(&mut self, ui: &mut Ui, cx: &mut ViewContext<'_>) {
        ui.horizontal(|ui| {
            if ui.button("Open files… (Ctrl+O)").clicked() {
                cx.open_dialog(Dialog::OpenCsv);
            }
            if ui
                .button("Open folder…")
                .on_hover_text("Every CSV, TSV or text file of a folder, into one table")
                .clicked()
            {
                cx.open_dialog(Dialog::OpenFolder);
            }
            if !cx.settings.recent_files.is_empty() {
                egui::ComboBox::from_id_salt("recent")
                    .selected_text("Recent files")
                    .show_ui(ui, |ui| {
                        for recent in cx.settings.recent_files.clone() {
                            if ui.selectable_label(false, recent.display().to_string()).clicked() {
                                let sniff = self.open(recent, cx.settings);
                                cx.load(sniff);
                            }
                        }
                    });
            }
            ui.label(
                RichText::new(format!(
                    "or drop {} on the window",
                    sluice::import::input_formats::DROP_LABEL
                ))
                .weak(),
            );
        });
        let Some(path) = self.path.clone() else {
            return;
        };
        ui.separator();
        if let Some(error) = &self.sniff_error {
            ui.label(RichText::new(format!("Cannot read {}: {error}", path.display())).color(Color32::RED));
            return;
        }
        let Some(sniffed) = self.sniffed.clone() else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("Reading {}…", path.display()));
            });
            return;
        };
        if let Some(resniff) = self.facts_ui(ui, &sniffed) {
            cx.load(resniff);
        }
        if let Some(resniff) = self.layout_warning_ui(ui, &sniffed) {
            cx.load(resniff);
        }
        if let Some(resniff) = self.other_tables_ui(ui, &sniffed) {
            cx.load(resniff);
        }
        self.files_ui(ui);
        ui.separator();
        // The target and Start stay in view however long the schema and preview grow.
        self.refresh_derived(ui.ctx());
        egui::Panel::bottom("import-target").show(ui, |ui| self.target_ui(ui, cx));
        egui::ScrollArea::both()
            .id_salt("import-scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.heading("Columns");
                    if ui.button("Load schema…").clicked() {
                        cx.open_dialog(Dialog::OpenSchema);
                    }
                    if ui.button("Save schema…").clicked() {
                        cx.open_dialog(Dialog::SaveSchema(Box::new(SchemaFile {
                            columns: self.columns.clone(),
                        })));
                    }
                });
                self.schema_ui(ui);
                self.refresh_derived(ui.ctx());
                ui.add_space(8.0);
                ui.heading("Preview");
                self.preview_ui(ui, &sniffed);
            });
    }

    /// The import's other files and what applies across files.
    fn files_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            if !self.more_files.is_empty() {
                let count = self.more_files.len();
                egui::CollapsingHeader::new(format!(
                    "and {count} more file{} into the same table, columns matched by name",
                    if count == 1 { "" } else { "s" }
                ))
                .id_salt("more-files")
                .show(ui, |ui| {
                    for file in &self.more_files {
                        ui.label(file.display().to_string());
                    }
                });
            }
        });
        ui.horizontal(|ui| {
            if !self.more_files.is_empty() {
                ui.checkbox(&mut self.add_columns, "Add columns only some files have")
                    .on_hover_text(
                        "Otherwise a file with columns the table lacks stops the import before anything is written",
                    );
            }
            ui.label("Source column");
            ui.add(
                egui::TextEdit::singleline(&mut self.source_column)
                    .hint_text("none")
                    .desired_width(140.0),
            )
            .on_hover_text("A text column that gets the file each row came from")
            .accessible_name("source column");
        });
    }

    /// File facts, each editable: a change re-sniffs at once.
    fn facts_ui(&mut self, ui: &mut Ui, sniffed: &Sniffed) -> Option<LoadRequest> {
        let mut changed = false;
        let mut sheet_changed = false;
        ui.horizontal_wrapped(|ui| {
            ui.strong(sniffed.path.display().to_string());
            ui.label(format!(
                "{}{}",
                megabytes(sniffed.bytes_total),
                [sniffed.layout.format.name(), sniffed.compression.name()]
                    .into_iter()
                    .flatten()
                    .map(|name| format!(" {name}"))
                    .collect::<String>()
            ));
            if !sniffed.sheets.is_empty() {
                let mut sheet = sniffed.layout.sheet.clone().unwrap_or_default();
                ui.label("Sheet");
                let selected = sniffed
                    .sheets
                    .iter()
                    .find(|info| info.name == sheet)
                    .map_or_else(|| sheet.clone(), |info| info.describe());
                egui::ComboBox::from_id_salt("sheet")
                    .selected_text(selected)
                    .show_ui(ui, |ui| {
                        for info in &sniffed.sheets {
                            sheet_changed |= ui
                                .selectable_value(&mut sheet, info.name.clone(), info.describe())
                                .changed();
                        }
                    })
                    .response
                    .accessible_name("sheet");
                if let Some(columns) = sniffed.layout.sheet_columns {
                    ui.label(format!("columns {columns}"));
                }
                if sheet_changed {
                    self.hints.sheet = Some(sheet);
                    // Another sheet's tables stand where they do: its columns are found anew.
                    self.hints.sheet_columns = None;
                }
            }
            let mut encoding = sniffed.layout.encoding.encoding;
            ui.label("Encoding");
            egui::ComboBox::from_id_salt("encoding")
                .selected_text(sniffed.layout.encoding.describe())
                .show_ui(ui, |ui| {
                    for candidate in sluice::import::SOURCE_ENCODINGS {
                        changed |= ui
                            .selectable_value(&mut encoding, candidate, candidate.name())
                            .changed();
                    }
                })
                .response
                .accessible_name("encoding");
            let evidence = &sniffed.encoding_evidence;
            let confidence = format!("confidence {}", evidence.confidence().as_str());
            let confidence = if evidence.confidence() == sluice::import::Confidence::Low {
                egui::RichText::new(confidence).color(ui.visuals().warn_fg_color)
            } else {
                egui::RichText::new(confidence).weak()
            };
            ui.label(confidence).on_hover_text(evidence.describe());
            let mut delimiter = sniffed.layout.dialect.delimiter;
            ui.label("Delimiter");
            egui::ComboBox::from_id_salt("delimiter")
                .selected_text(delimiter_name(delimiter))
                .show_ui(ui, |ui| {
                    for candidate in [b',', b';', b'\t', b'|'] {
                        changed |= ui
                            .selectable_value(&mut delimiter, candidate, delimiter_name(candidate))
                            .changed();
                    }
                })
                .response
                .accessible_name("delimiter");
            let mut quote = sniffed.layout.dialect.quote;
            ui.label("Quote");
            egui::ComboBox::from_id_salt("quote")
                .selected_text(char::from(quote).to_string())
                .show_ui(ui, |ui| {
                    for candidate in [b'"', b'\''] {
                        changed |= ui
                            .selectable_value(&mut quote, candidate, char::from(candidate).to_string())
                            .changed();
                    }
                })
                .response
                .accessible_name("quote");
            let mut has_header = sniffed.layout.has_header;
            changed |= ui.checkbox(&mut has_header, "Header").changed();
            ui.label("Header lines");
            let mut header_lines = sniffed.layout.header_lines.max(1);
            let header_lines_changed = ui
                .add_enabled(has_header, egui::DragValue::new(&mut header_lines).range(1..=4))
                .on_hover_text(
                    "Lines the header spans (names, then units or sub-names), joined into one name per column",
                )
                .accessible_name("header lines")
                .changed();
            ui.label("Comment");
            let comment_response = ui
                .add(
                    egui::TextEdit::singleline(&mut self.comment_text)
                        .char_limit(1)
                        .hint_text(
                            sniffed
                                .layout
                                .comment
                                .map(|prefix| char::from(prefix).to_string())
                                .unwrap_or_default(),
                        )
                        .desired_width(16.0),
                )
                .on_hover_text("Lines starting with this character are comments: skipped and counted (# is detected)")
                .accessible_name("comment prefix");
            let comment = self.comment_text.bytes().next().filter(u8::is_ascii);
            let comment_changed = comment_response.lost_focus() && comment != self.hints.comment;
            ui.label("Skip lines");
            let mut skip = sniffed.layout.skip_records;
            let skip_changed = ui
                .add(egui::DragValue::new(&mut skip).range(0..=1000))
                .on_hover_text("Lines above the header that are not part of the table (a title, notes)")
                .accessible_name("skip lines")
                .changed();
            let mut decimal_comma = self
                .hints
                .decimal_comma
                .unwrap_or(sniffed.layout.dialect.delimiter == b';');
            let decimal_changed = ui.checkbox(&mut decimal_comma, "Decimal comma").changed();
            let mut day_first = self.hints.day_first.unwrap_or(true);
            let mut day_changed = false;
            ui.label("Dates");
            egui::ComboBox::from_id_salt("date order")
                .selected_text(if day_first { "day first" } else { "month first" })
                .show_ui(ui, |ui| {
                    day_changed |= ui.selectable_value(&mut day_first, true, "day first").changed();
                    day_changed |= ui.selectable_value(&mut day_first, false, "month first").changed();
                })
                .response
                .on_hover_text("How to read a date such as 02/01/2019 when no day above 12 settles it")
                .accessible_name("date order");
            ui.label("Nulls")
                .on_hover_text("Null markers: values that mean no value in every column");
            let null_response = ui
                .add(
                    egui::TextEdit::singleline(&mut self.null_markers_text)
                        .hint_text("NA, n/a")
                        .desired_width(90.0),
                )
                .on_hover_text("Values that mean no value in every column, besides the empty field")
                .accessible_name("null markers");
            let null_markers: Vec<String> = self
                .null_markers_text
                .split(',')
                .map(|marker| marker.trim().to_string())
                .filter(|marker| !marker.is_empty())
                .collect();
            let nulls_changed = null_response.lost_focus() && null_markers != self.hints.null_markers;
            // Each fact is pinned only when its own control changed: the others stay guessed,
            // so a new delimiter still finds its title lines and its decimal comma.
            if changed {
                self.hints.delimiter = Some(delimiter);
                self.hints.quote = Some(quote);
                self.hints.has_header = Some(has_header);
                self.hints.encoding = Some(encoding);
            }
            if skip_changed {
                self.hints.skip = Some(skip);
                self.hints.rows = None;
            }
            if decimal_changed {
                self.hints.decimal_comma = Some(decimal_comma);
            }
            if day_changed {
                self.hints.day_first = Some(day_first);
            }
            if nulls_changed {
                self.hints.null_markers = null_markers;
            }
            if header_lines_changed {
                self.hints.header_lines = Some(header_lines);
            }
            if comment_changed {
                self.hints.comment = comment;
            }
            changed |= sheet_changed
                || skip_changed
                || decimal_changed
                || day_changed
                || nulls_changed
                || header_lines_changed
                || comment_changed;
        });
        if changed { self.resniff() } else { None }
    }

    /// A new sniff of the file with the hints as they now are; the old result is dropped.
    fn resniff(&mut self) -> Option<LoadRequest> {
        let path = self.path.clone()?;
        self.sniffed = None;
        Some(LoadRequest::Import(ImportRead::Sniff {
            path,
            hints: Box::new(self.hints.clone()),
        }))
    }

    /// The warning the engine gives when the layout read leaves many records failing, with the
    /// runner-up one click away: a new sniff with its lines skipped and its header.
    fn layout_warning_ui(&mut self, ui: &mut Ui, sniffed: &Sniffed) -> Option<LoadRequest> {
        let (warning, other) = sniffed.layout_warning()?;
        let mut read_other = false;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(warning).color(ui.visuals().warn_fg_color));
            read_other = ui.button("Read it that way").clicked();
        });
        if !read_other {
            return None;
        }
        self.hints.skip = Some(other.skip);
        self.hints.rows = None;
        self.hints.has_header = Some(other.has_header);
        self.hints.header_lines = other.has_header.then_some(other.header_lines);
        self.resniff()
    }

    /// The other tables stacked in the file, each with a button that reads it instead: a new
    /// sniff that skips the records above its header and reads its rows.
    fn other_tables_ui(&mut self, ui: &mut Ui, sniffed: &Sniffed) -> Option<LoadRequest> {
        let mut chosen = None;
        for (note, table) in sniffed.other_table_notes() {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(note).color(ui.visuals().warn_fg_color));
                let button = ui.add(egui::Button::new("Read this table")).on_hover_text(format!(
                    "Lines {}-{}: {} columns",
                    table.first_line, table.last_line, table.columns
                ));
                if button.clicked() {
                    chosen = Some(table.clone());
                }
            });
        }
        let table = chosen?;
        if let Some(columns) = table.beside {
            // A table beside the one read is read from its columns, its layout found anew.
            self.hints.sheet_columns = Some(columns);
            self.hints.skip = None;
            self.hints.rows = None;
            self.hints.has_header = None;
        } else {
            self.hints.skip = Some(table.skip);
            self.hints.rows = table.rows_to_read;
            self.hints.has_header = Some(true);
        }
        self.hints.header_lines = None;
        self.resniff()
    }

    /// Whether every typed rule parses (a half-typed number keeps Start disabled).
    fn rules_are_valid(&self) -> bool {
        self.rule_texts.iter().all(|texts| {
            parse_optional::<f64>(&texts.min).is_ok()
                && parse_optional::<f64>(&texts.max).is_ok()
                && parse_optional::<usize>(&texts.min_length).is_ok()
                && parse_optional::<usize>(&texts.max_length).is_ok()
        })
    }

    fn schema_ui(&mut self, ui: &mut Ui) {
        if self.rule_texts.len() != self.columns.len() {
            self.rule_texts = self.columns.iter().map(RuleTexts::of).collect();
        }
        egui::Grid::new("schema").striped(true).show(ui, |ui| {
            let headers = [
                "Column",
                "Target name",
                "Type",
                "Skip",
                "Required",
                "Unique",
                "Pattern",
                "Min",
                "Max",
                "Length",
                "Allowed values",
                "Format",
                "Null markers",
            ];
            for header in headers {
                ui.strong(header);
            }
            ui.end_row();
            let sniffed = self.sniffed.clone();
            let guesses = sniffed
                .as_ref()
                .map_or(&[][..], |sniffed| &sniffed.layout.column_guesses[..]);
            for (index, (spec, texts)) in self.columns.iter_mut().zip(&mut self.rule_texts).enumerate() {
                let source = spec.source.clone().unwrap_or_default();
                match guesses.get(index).filter(|guess| guess.misfits > 0) {
                    // Values that do not fit the inferred type will fail: said where the type is.
                    Some(guess) => {
                        ui.label(RichText::new(format!("{source} ⚠")).color(Color32::from_rgb(230, 160, 40)))
                            .on_hover_text(guess.misfits_text());
                    }
                    None => {
                        ui.label(&source);
                    }
                }
                ui.add(egui::TextEdit::singleline(&mut spec.name).desired_width(130.0))
                    .accessible_name(format!("{source} target name"));
                egui::ComboBox::from_id_salt(("type", index))
                    .selected_text(spec.column_type.to_string())
                    .show_ui(ui, |ui| {
                        for column_type in TYPES {
                            ui.selectable_value(&mut spec.column_type, column_type, column_type.to_string());
                        }
                    })
                    .response
                    .accessible_name(format!("{source} type"));
                ui.checkbox(&mut spec.skip, "")
                    .accessible_name(format!("{source} skip"));
                ui.checkbox(&mut spec.required, "")
                    .accessible_name(format!("{source} required"));
                ui.checkbox(&mut spec.unique, "")
                    .accessible_name(format!("{source} unique"));
                let mut pattern = spec.pattern.clone().unwrap_or_default();
                if ui
                    .add(egui::TextEdit::singleline(&mut pattern).desired_width(110.0))
                    .accessible_name(format!("{source} pattern"))
                    .changed()
                {
                    spec.pattern = (!pattern.is_empty()).then_some(pattern);
                }
                rule_edit(ui, &mut texts.min, &mut spec.min, &format!("{source} min"), 60.0);
                rule_edit(ui, &mut texts.max, &mut spec.max, &format!("{source} max"), 60.0);
                ui.horizontal(|ui| {
                    rule_edit(
                        ui,
                        &mut texts.min_length,
                        &mut spec.min_length,
                        &format!("{source} min length"),
                        36.0,
                    );
                    ui.label("–");
                    rule_edit(
                        ui,
                        &mut texts.max_length,
                        &mut spec.max_length,
                        &format!("{source} max length"),
                        36.0,
                    );
                });
                let allowed = ui
                    .add(
                        egui::TextEdit::singleline(&mut texts.one_of)
                            .hint_text("a, b, c")
                            .desired_width(140.0),
                    )
                    .accessible_name(format!("{source} allowed values"));
                if allowed.changed() {
                    let values: Vec<String> = texts
                        .one_of
                        .split(',')
                        .map(|value| value.trim().to_string())
                        .filter(|value| !value.is_empty())
                        .collect();
                    spec.one_of = (!values.is_empty()).then_some(values);
                }
                format_edit(ui, spec, &source);
                if ui
                    .add(
                        egui::TextEdit::singleline(&mut texts.null_markers)
                            .hint_text("NA")
                            .desired_width(70.0),
                    )
                    .accessible_name(format!("{source} null markers"))
                    .changed()
                {
                    let markers: Vec<String> = texts
                        .null_markers
                        .split(',')
                        .map(|marker| marker.trim().to_string())
                        .filter(|marker| !marker.is_empty())
                        .collect();
                    spec.written.null_markers = (!markers.is_empty()).then_some(markers);
                }
                ui.end_row();
            }
        });
    }

    /// The first rows, with cells that would fail marked and the reason on hover; above them, in
    /// grey, the lines skipped above the header and what was done to the header.
    fn preview_ui(&self, ui: &mut Ui, sniffed: &Sniffed) {
        for skipped in &sniffed.skipped_preview {
            ui.label(
                RichText::new(format!("skipped: {}", skipped.join(" | ")))
                    .weak()
                    .italics(),
            );
        }
        for note in sniffed.reading_notes() {
            ui.label(RichText::new(note).weak());
        }
        for found in &sniffed.breaks {
            ui.label(
                RichText::new(format!(
                    "Not data, further down: {} — {} (such lines fail as {})",
                    found.kind.describe(),
                    found.text,
                    found.kind.problem_kind().as_str()
                ))
                .color(ui.visuals().warn_fg_color),
            );
        }
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
                        let checker = self.derived.preview_columns.get(index);
                        row.col(|ui| {
                            let problem = checker
                                .filter(|_| !spec.skip)
                                .and_then(|checker| checker.problem(value));
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

    /// Takes the recipes kept in the database; a chosen one that is gone is unchosen.
    pub fn set_recipes(&mut self, recipes: Vec<Recipe>) {
        if let Some(name) = &self.recipe
            && !recipes.iter().any(|recipe| &recipe.name == name)
        {
            self.recipe = None;
        }
        self.recipes = recipes;
    }

    /// The recipe picker: the rules of the one chosen run on each record before it is checked.
    fn recipe_ui(&mut self, ui: &mut Ui) {
        if self.recipes.is_empty() {
            return;
        }
        let selected = self.recipe.clone().unwrap_or_else(|| "none".into());
        egui::ComboBox::from_label("recipe")
            .selected_text(selected)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.recipe, None, "none");
                for recipe in &self.recipes {
                    ui.selectable_value(&mut self.recipe, Some(recipe.name.clone()), &recipe.name)
                        .on_hover_text(recipe.labels().join("\n"));
                }
            });
    }

    /// The key of an upsert: a tick per imported column.
    fn key_ui(&mut self, ui: &mut Ui) {
        let selected = if self.key.is_empty() {
            "choose…".to_string()
        } else {
            self.key.join(", ")
        };
        egui::ComboBox::from_label("key")
            .selected_text(selected)
            .show_ui(ui, |ui| {
                for column in self.columns.iter().filter(|column| !column.skip) {
                    let name = column.name.trim().to_string();
                    let mut ticked = self.key.iter().any(|key| key == &name);
                    let tick = ui.checkbox(&mut ticked, &name).accessible_name(format!("key {name}"));
                    if tick.changed() {
                        if ticked {
                            self.key.push(name);
                        } else {
                            self.key.retain(|key| key != &name);
                        }
                    }
                }
            });
    }

    fn target_ui(&mut self, ui: &mut Ui, cx: &mut ViewContext<'_>) {
        ui.horizontal_wrapped(|ui| {
            let table_label = ui.label("Table");
            ui.add(egui::TextEdit::singleline(&mut self.table).desired_width(160.0))
                .labelled_by(table_label.id);
            egui::ComboBox::from_label("mode")
                .selected_text(mode_name(self.mode))
                .show_ui(ui, |ui| {
                    for mode in [
                        ImportMode::Create,
                        ImportMode::Append,
                        ImportMode::Replace,
                        ImportMode::Upsert,
                    ] {
                        ui.selectable_value(&mut self.mode, mode, mode_name(mode));
                    }
                });
            if self.mode == ImportMode::Upsert {
                self.key_ui(ui);
            }
            let batch_label = ui.label("batch rows");
            batch_rows_edit(ui, cx.settings, batch_label.id);
            ui.checkbox(&mut self.pad_missing, "pad short rows").on_hover_text(
                "A row with fewer fields than the header gets empty values (NULL) for the rest instead of failing",
            );
            self.recipe_ui(ui);
            ui.checkbox(&mut self.throttle, "limit rows/s");
            if self.throttle {
                if self.max_rows_per_sec == 0 {
                    self.max_rows_per_sec = 50_000;
                }
                ui.add(egui::DragValue::new(&mut self.max_rows_per_sec).range(1..=10_000_000))
                    .accessible_name("rows per second");
            }
            let check = self.derived.target.clone();
            match &check {
                Some(TargetCheck::Ready(text)) => {
                    ui.label(RichText::new(text).weak());
                }
                Some(TargetCheck::Problem(text)) => {
                    ui.label(RichText::new(text).color(Color32::from_rgb(220, 70, 60)));
                }
                None => {}
            }
            if !self.rules_are_valid() {
                ui.label(RichText::new("a rule above is not a number").color(Color32::from_rgb(220, 70, 60)));
            }
            let ready = self.request_given(check.as_ref(), cx.settings);
            let start = ui.add_enabled(
                ready.is_some(),
                egui::Button::new(RichText::new("Start import").strong()),
            );
            let shortcut = ui.input(|input| input.modifiers.command && input.key_pressed(egui::Key::Enter));
            if (start.clicked() || shortcut)
                && let Some(request) = ready
            {
                cx.push(Command::Submit {
                    spec: Box::new(JobSpec::Import(request)),
                    then: AfterSubmit::ShowJobs,
                });
            }
        });
    }
}

/// An optional number typed as text: empty is none, anything else must parse.
fn parse_optional<T: std::str::FromStr>(text: &str) -> Result<Option<T>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| ())
}

/// A small text field for a numeric rule; the rule follows the text while the text parses, and
/// the field turns red when it does not.
fn rule_edit<T: std::str::FromStr>(ui: &mut Ui, text: &mut String, rule: &mut Option<T>, name: &str, width: f32) {
    let invalid = parse_optional::<T>(text).is_err();
    let mut edit = egui::TextEdit::singleline(text).desired_width(width);
    if invalid {
        edit = edit.text_color(Color32::from_rgb(220, 70, 60));
    }
    if ui.add(edit).accessible_name(name).changed()
        && let Ok(parsed) = parse_optional::<T>(text)
    {
        *rule = parsed;
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
        ImportMode::Upsert => "update by key",
    }
}

/// A table name from a file name: `Customers 2024.csv.gz` -> `customers_2024`.
pub fn table_name_for(path: &std::path::Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let unpacked = [".gz", ".zst", ".zip"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(&name);
    let stem = [
        ".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".parquet", ".ndjson", ".jsonl",
    ]
    .iter()
    .find_map(|ext| unpacked.strip_suffix(ext))
    .unwrap_or(unpacked);
    let cleaned: String = stem
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    let cleaned = cleaned.trim_matches('_').to_string();
    if cleaned.is_empty() { "imported".into() } else { cleaned }
}

/// The format of a column as the schema states it: a strftime date format for dates and
/// timestamps, the decimal and thousands separators for numbers ("," and "." for 1.234,5).
fn format_edit(ui: &mut Ui, spec: &mut ColumnSpec, source: &str) {
    match spec.column_type {
        ColumnType::Date | ColumnType::Timestamp => {
            let mut format = spec.written.format.clone().unwrap_or_default();
            if ui
                .add(
                    egui::TextEdit::singleline(&mut format)
                        .hint_text("ISO")
                        .desired_width(110.0),
                )
                .on_hover_text("strftime style, such as %d/%m/%Y or %d.%m.%Y %H:%M; ISO when empty")
                .accessible_name(format!("{source} format"))
                .changed()
            {
                spec.written.format = (!format.trim().is_empty()).then_some(format);
            }
        }
        column_type if column_type.is_numeric() => {
            let mut separators = format!(
                "{}{}",
                spec.written.decimal_separator.unwrap_or('.'),
                spec.written.thousands.map(String::from).unwrap_or_default()
            );
            if ui
                .add(egui::TextEdit::singleline(&mut separators).desired_width(110.0))
                .on_hover_text("The decimal separator, then the thousands separator if any: \".,\" reads 1,234.5, \",.\" reads 1.234,5")
                .accessible_name(format!("{source} separators"))
                .changed()
            {
                let mut chars = separators.chars();
                spec.written.decimal_separator = chars.next().filter(|c| *c != '.');
                spec.written.thousands = chars.next();
            }
        }
        _ => {
            ui.label("");
        }
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn view_of(contents: &str) -> (tempfile::TempDir, ImportView) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.csv");
        std::fs::write(&path, contents).unwrap();
        let mut view = ImportView::default();
        let _ = view.open(path.clone(), &mut Settings::default());
        let sniffed = sluice::import::sniff(&path, &SniffHints::default()).unwrap();
        view.set_sniffed(path, Ok(Box::new(sniffed)));
        (dir, view)
    }

    fn people_table(columns: &[(&str, &str)]) -> TableInfo {
        TableInfo {
            name: "people".into(),
            columns: columns
                .iter()
                .map(|(name, type_name)| sluice::query::Column::from_catalog(*name, *type_name))
                .collect(),
            rows: 1_500,
        }
    }

    #[test]
    fn a_table_is_named_after_the_file_without_its_packing_and_text_extensions() {
        let name = |file: &str| table_name_for(std::path::Path::new(file));
        assert_eq!(name("/x/Customers 2024.csv.gz"), "customers_2024");
        assert_eq!(name("orders.csv.zst"), "orders");
        assert_eq!(name("orders.zip"), "orders");
        assert_eq!(name("log.tsv"), "log");
        assert_eq!(name("data.parquet"), "data", "Parquet is an input now");
        assert_eq!(name("Billing Q3.xlsx"), "billing_q3");
        assert_eq!(name("notes.md"), "notes_md");
        assert_eq!(name(".zip"), "imported");
    }

    #[test]
    fn a_new_table_over_an_existing_one_is_refused_before_starting() {
        let (_dir, mut view) = view_of("id,name\n1,Ann\n");
        view.set_tables(vec![people_table(&[("id", "BIGINT"), ("name", "VARCHAR")])]);
        assert_eq!(
            view.target_check(),
            Some(TargetCheck::Problem(
                "table 'people' already exists; append to it or replace it".into()
            ))
        );
        assert!(view.request(&Settings::default()).is_none());
    }

    #[test]
    fn appending_shows_the_column_match_and_refuses_a_mismatch() {
        let (_dir, mut view) = view_of("id,name\n1,Ann\n");
        view.mode = ImportMode::Append;
        view.set_tables(vec![people_table(&[
            ("id", "BIGINT"),
            ("name", "VARCHAR"),
            ("age", "INTEGER"),
        ])]);
        assert_eq!(
            view.target_check(),
            Some(TargetCheck::Ready(
                "appends to 'people' (1,500 rows): 2 of its 3 columns matched, 1 left empty (NULL)".into()
            ))
        );
        assert!(view.request(&Settings::default()).is_some());

        view.set_tables(vec![people_table(&[("id", "DATE"), ("name", "VARCHAR")])]);
        match view.target_check() {
            Some(TargetCheck::Problem(text)) => assert!(text.contains("'id'"), "{text}"),
            other => panic!("expected a problem, got {other:?}"),
        }
        assert!(view.request(&Settings::default()).is_none());
    }

    #[test]
    fn the_request_takes_its_batch_size_from_the_settings() {
        let (_dir, view) = view_of("id,name\n1,Ann\n");
        let mut settings = Settings {
            batch_rows: 1_234,
            ..Settings::default()
        };
        assert_eq!(view.request(&settings).map(|request| request.batch_rows), Some(1_234));
        // Changed in the settings window while the file is open: the next start uses it.
        settings.batch_rows = 77;
        assert_eq!(view.request(&settings).map(|request| request.batch_rows), Some(77));
    }

    #[test]
    fn a_half_typed_rule_keeps_start_disabled_until_it_parses() {
        let (_dir, mut view) = view_of("id,name\n1,Ann\n");
        assert!(view.request(&Settings::default()).is_some());
        view.rule_texts[0].min = "-".into();
        assert!(view.request(&Settings::default()).is_none());
        view.rule_texts[0].min = "-5".into();
        assert!(view.request(&Settings::default()).is_some());
    }
}
