//! The Export view: pick a table, its columns and filter fields, see how many rows match and the
//! first of them, choose the output, and start an export job.

use std::path::PathBuf;

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};
use sluice::engine::JobSpec;
use sluice::export::{ExportFormat, ExportPreview, ExportRequest, OrderBy};
use sluice::query;
use sluice::store::TableInfo;

use super::command::{AfterSubmit, Command, Dialog, ViewContext};
use super::export_options::ExportOptions;
use super::filter_builder::FilterBuilder;
use super::reads::{ExportAnswer, ExportRead, LoadRequest};
use super::table_picker::table_picker;
use crate::format::thousands;

/// The kinds of output the view offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputKind {
    #[default]
    Csv,
    GzipCsv,
    Chunks,
    Excel,
    Parquet,
}

impl OutputKind {
    const ALL: [OutputKind; 5] = [Self::Csv, Self::GzipCsv, Self::Chunks, Self::Excel, Self::Parquet];

    fn label(&self) -> &'static str {
        match self {
            Self::Csv => "CSV",
            Self::GzipCsv => "gzip CSV",
            Self::Chunks => "CSV chunks",
            Self::Excel => "Excel (.xlsx)",
            Self::Parquet => "Parquet",
        }
    }

    pub fn extension(&self) -> &'static str {
        match self {
            Self::Csv | Self::Chunks => "csv",
            Self::GzipCsv => "csv.gz",
            Self::Excel => "xlsx",
            Self::Parquet => "parquet",
        }
    }

    fn is_csv(&self) -> bool {
        matches!(self, Self::Csv | Self::GzipCsv | Self::Chunks)
    }
}

/// A column of the chosen table and whether it is exported.
#[derive(Clone, Debug, PartialEq)]
struct ColumnChoice {
    column: query::Column,
    included: bool,
}

#[derive(Default)]
pub struct ExportView {
    tables: Vec<TableInfo>,
    table: Option<String>,
    columns: Vec<ColumnChoice>,
    pub filters: FilterBuilder,
    order_by: Option<String>,
    descending: bool,
    output: OutputKind,
    chunk_rows: u64,
    /// Parquet written as numbered files of `chunk_rows` rows.
    parquet_in_chunks: bool,
    delimiter: u8,
    header: bool,
    formula_guard: bool,
    pub options: ExportOptions,
    destination: Option<PathBuf>,
    /// The preview answered last, and for which request generation.
    preview: Option<Result<ExportPreview, String>>,
    preview_generation: u64,
    /// The generation of the preview shown.
    answered_generation: u64,
    /// What the current preview (or the one on its way) was asked for.
    previewed: Option<ExportRequest>,
}

impl ExportView {
    pub fn set_tables(&mut self, tables: Vec<TableInfo>) {
        self.tables = tables;
        let chosen = self
            .table
            .as_ref()
            .and_then(|name| self.tables.iter().find(|table| &table.name == name));
        match chosen {
            None => {
                self.table = None;
                self.columns.clear();
            }
            // A replaced table may have other columns: the checklist starts again from them.
            Some(table) if !self.has_columns_of(table) => {
                let name = table.name.clone();
                self.select_table(&name);
            }
            Some(_) => {}
        }
        // A job may have changed the table's rows: read the preview again.
        self.previewed = None;
    }

    fn has_columns_of(&self, table: &TableInfo) -> bool {
        let key = |column: &query::Column| (column.name.clone(), column.type_name.clone());
        let mut ours: Vec<_> = self.columns.iter().map(|choice| key(&choice.column)).collect();
        let mut theirs: Vec<_> = table.columns.iter().map(key).collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        ours == theirs
    }

    pub fn select_table(&mut self, name: &str) {
        let Some(table) = self.tables.iter().find(|table| table.name == name) else {
            return;
        };
        self.table = Some(table.name.clone());
        self.columns = table
            .columns
            .iter()
            .map(|column| ColumnChoice {
                column: column.clone(),
                included: true,
            })
            .collect();
        let columns = table.columns.clone();
        self.filters.keep_columns(&columns);
        self.order_by = None;
        self.preview = None;
        self.previewed = None;
    }

    /// Sets where the export goes (from the save dialog, or a test).
    pub fn set_destination(&mut self, path: PathBuf) {
        self.destination = Some(path);
    }

    /// Takes a preview if it answers the latest request.
    /// Takes an answer to one of the view's reads.
    pub fn loaded(&mut self, answer: ExportAnswer) {
        match answer {
            ExportAnswer::Preview { generation, result } => self.set_preview(generation, result),
        }
    }

    pub fn set_preview(&mut self, generation: u64, result: Result<ExportPreview, String>) {
        if generation == self.preview_generation {
            self.preview = Some(result);
            self.answered_generation = generation;
        }
    }

    /// Takes back a preview request the reader had no room for, so it is made again.
    pub fn given_back(&mut self, read: &ExportRead) {
        if let ExportRead::Preview { generation, .. } = read
            && *generation == self.preview_generation
        {
            self.previewed = None;
        }
    }

    /// The export as set up, without its destination when none is chosen yet.
    fn request(&self) -> Option<ExportRequest> {
        let table = self.table.clone()?;
        let out = self.destination.clone().unwrap_or_default();
        let mut request = ExportRequest::new(table, out);
        request.filters = self.filters.filters();
        let included: Vec<String> = self
            .columns
            .iter()
            .filter(|choice| choice.included)
            .map(|choice| choice.column.name.clone())
            .collect();
        if included.is_empty() {
            return None;
        }
        // All columns in table order is the engine's default; say nothing then.
        let table_order: Vec<&String> = self
            .tables
            .iter()
            .find(|table| table.name == request.table)
            .map(|table| table.columns.iter().map(|column| &column.name).collect())
            .unwrap_or_default();
        let all_in_order = included.iter().eq(table_order.iter().copied());
        request.columns = if all_in_order { Vec::new() } else { included };
        request.order_by = self.order_by.clone().map(|column| OrderBy {
            column,
            descending: self.descending,
        });
        match self.output {
            OutputKind::Csv => {}
            OutputKind::GzipCsv => request.gzip_level = Some(6),
            OutputKind::Chunks => request.chunk_rows = Some(self.chunk_rows.max(1)),
            OutputKind::Excel => request.format = ExportFormat::Xlsx,
            OutputKind::Parquet => {
                request.format = ExportFormat::Parquet;
                if self.parquet_in_chunks {
                    request.chunk_rows = Some(self.chunk_rows.max(1));
                }
            }
        }
        request.delimiter = self.delimiter;
        request.header = self.header;
        request.formula_guard = self.formula_guard;
        match request.format {
            ExportFormat::Csv => request.shape = self.options.shape.clone(),
            ExportFormat::Xlsx => request.xlsx.split = self.options.xlsx_split,
            ExportFormat::Parquet => request.parquet = self.options.parquet.clone(),
        }
        Some(request)
    }

    /// A new preview request when what the preview depends on changed since the last one.
    pub fn preview_request(&mut self) -> Option<(u64, ExportRequest)> {
        let mut request = self.request()?;
        request.out = PathBuf::new();
        let unchanged = self.previewed.as_ref().is_some_and(|previous| {
            previous.table == request.table
                && previous.filters == request.filters
                && previous.columns == request.columns
                && previous.order_by == request.order_by
                && previous.format == request.format
                && previous.shape == request.shape
        });
        if unchanged {
            return None;
        }
        self.preview_generation += 1;
        self.previewed = Some(request.clone());
        Some((self.preview_generation, request))
    }

    pub fn ui(&mut self, ui: &mut Ui, cx: &mut ViewContext<'_>) {
        if self.chunk_rows == 0 {
            self.chunk_rows = 1_000_000;
            self.delimiter = b',';
            self.header = true;
        }
        if let Some(name) = table_picker(ui, "export table", &self.tables, self.table.as_deref()) {
            self.select_table(&name);
        }
        if self.table.is_none() {
            return;
        }
        egui::Panel::bottom("export-output").show(ui, |ui| self.output_ui(ui, cx));
        egui::ScrollArea::vertical().id_salt("export-scroll").show(ui, |ui| {
            ui.columns(2, |halves| {
                halves[0].heading("Columns");
                self.columns_ui(&mut halves[0]);
                halves[1].heading("Filters");
                let columns: Vec<query::Column> = self.columns.iter().map(|choice| choice.column.clone()).collect();
                self.filters.ui(&mut halves[1], "export", &columns);
                halves[1].add_space(6.0);
                self.order_ui(&mut halves[1]);
            });
            ui.separator();
            self.preview_ui(ui);
        });
        if let Some((generation, request)) = self.preview_request() {
            cx.load(LoadRequest::Export(ExportRead::Preview {
                generation,
                request: Box::new(request),
            }));
        }
    }

    fn columns_ui(&mut self, ui: &mut Ui) {
        let mut moved = None;
        let count = self.columns.len();
        for (index, column) in self.columns.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                ui.checkbox(
                    &mut column.included,
                    format!("{} ({})", column.column.name, column.column.type_name),
                );
                if ui
                    .add_enabled(index > 0, egui::Button::new("up").small())
                    .accessible_name(format!("move {} up", column.column.name))
                    .clicked()
                {
                    moved = Some((index, index - 1));
                }
                if ui
                    .add_enabled(index + 1 < count, egui::Button::new("down").small())
                    .accessible_name(format!("move {} down", column.column.name))
                    .clicked()
                {
                    moved = Some((index, index + 1));
                }
            });
        }
        if let Some((from, to)) = moved {
            self.columns.swap(from, to);
        }
    }

    fn order_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.label("Order by");
            egui::ComboBox::from_id_salt("export-order")
                .selected_text(self.order_by.clone().unwrap_or_else(|| "table order".into()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.order_by, None, "table order");
                    for column in &self.columns {
                        ui.selectable_value(
                            &mut self.order_by,
                            Some(column.column.name.clone()),
                            &column.column.name,
                        );
                    }
                })
                .response
                .accessible_name("order by");
            if self.order_by.is_some() {
                ui.checkbox(&mut self.descending, "descending");
            }
        });
    }

    fn preview_ui(&self, ui: &mut Ui) {
        match &self.preview {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Counting matching rows…");
                });
            }
            Some(Err(error)) => {
                ui.label(RichText::new(error).color(Color32::from_rgb(220, 70, 60)));
            }
            Some(Ok(preview)) => {
                ui.horizontal(|ui| {
                    ui.heading(format!("{} matching rows", thousands(preview.rows_matching)));
                    // The numbers shown are for the filters as they were; newer ones are on their way.
                    if self.answered_generation < self.preview_generation {
                        ui.spinner();
                    }
                    ui.label(RichText::new(format!("first {} shown", preview.rows.len())).weak());
                });
                preview_table(ui, preview);
            }
        }
    }

    fn output_ui(&mut self, ui: &mut Ui, cx: &mut ViewContext<'_>) {
        if let Some(preset) = self.options.preset_ui(ui) {
            self.apply_preset(preset);
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("Format");
            for kind in OutputKind::ALL {
                ui.selectable_value(&mut self.output, kind, kind.label());
            }
            if self.output == OutputKind::Parquet {
                ui.checkbox(&mut self.parquet_in_chunks, "files of at most");
            }
            if self.output == OutputKind::Chunks || (self.output == OutputKind::Parquet && self.parquet_in_chunks) {
                let label = ui.label("rows per file");
                ui.add(egui::DragValue::new(&mut self.chunk_rows).range(1..=100_000_000))
                    .labelled_by(label.id);
            }
        });
        if self.output.is_csv() {
            ui.horizontal_wrapped(|ui| {
                egui::ComboBox::from_label("delimiter")
                    .selected_text(delimiter_label(self.delimiter))
                    .show_ui(ui, |ui| {
                        for delimiter in [b',', b';', b'\t', b'|'] {
                            ui.selectable_value(&mut self.delimiter, delimiter, delimiter_label(delimiter));
                        }
                    });
                ui.checkbox(&mut self.header, "header row");
                ui.checkbox(&mut self.formula_guard, "formula guard");
                ui.label(
                    RichText::new(
                        "prefixes values starting with = + - @ with ' so a spreadsheet shows them instead of running them",
                    )
                    .weak(),
                );
            });
            self.options.csv_ui(ui, self.delimiter);
        }
        match self.output {
            OutputKind::Excel => self.options.xlsx_ui(ui),
            OutputKind::Parquet => {
                let columns: Vec<String> = self
                    .columns
                    .iter()
                    .filter(|choice| choice.included)
                    .map(|choice| choice.column.name.clone())
                    .collect();
                self.options.parquet_ui(ui, &columns);
            }
            _ => {}
        }
        ui.horizontal(|ui| {
            let shown = self
                .destination
                .as_ref()
                .map_or_else(|| "no file chosen".to_string(), |path| path.display().to_string());
            if ui.button("Destination…").clicked() {
                let suggested = format!(
                    "{}.{}",
                    self.table.clone().unwrap_or_else(|| "export".into()),
                    self.output.extension()
                );
                cx.open_dialog(Dialog::ExportDestination(suggested));
            }
            ui.label(shown);
            let ready = self.request().filter(|_| self.destination.is_some());
            let start = ui.add_enabled(
                ready.is_some(),
                egui::Button::new(RichText::new("Start export").strong()),
            );
            if start.clicked()
                && let Some(request) = ready
            {
                cx.push(Command::Submit {
                    spec: Box::new(JobSpec::Export(request)),
                    then: AfterSubmit::ShowJobs,
                });
            }
        });
    }
}

impl ExportView {
    /// Fills the fields `preset` sets; everything stays editable.
    pub fn apply_preset(&mut self, preset: sluice::export::Preset) {
        let choice = self.options.apply(preset);
        self.output = if choice.is_parquet() {
            OutputKind::Parquet
        } else if self.output.is_csv() {
            self.output
        } else {
            OutputKind::Csv
        };
        self.delimiter = choice.delimiter;
        self.header = choice.header;
        self.formula_guard = choice.formula_guard;
    }
}

fn preview_table(ui: &mut Ui, preview: &ExportPreview) {
    TableBuilder::new(ui)
        .id_salt("export-preview")
        .striped(true)
        .vscroll(false)
        .columns(Column::auto().at_least(60.0).clip(true), preview.columns.len())
        .header(20.0, |mut header| {
            for name in &preview.columns {
                header.col(|ui| {
                    ui.strong(name);
                });
            }
        })
        .body(|body| {
            body.rows(18.0, preview.rows.len(), |mut row| {
                let values = &preview.rows[row.index()];
                for value in values {
                    row.col(|ui| match value {
                        Some(text) => {
                            ui.label(text);
                        }
                        None => {
                            ui.label(RichText::new("NULL").weak().italics());
                        }
                    });
                }
            });
        });
}

fn delimiter_label(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tab".into(),
        other => char::from(other).to_string(),
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use crate::app::filter_builder::FilterRow;
    use sluice::export::FilterOp;

    fn view() -> ExportView {
        let mut view = ExportView::default();
        view.set_tables(vec![TableInfo {
            name: "people".into(),
            columns: vec![
                sluice::query::Column::from_catalog("id", "BIGINT"),
                sluice::query::Column::from_catalog("name", "VARCHAR"),
            ],
            rows: 10,
        }]);
        view.select_table("people");
        view
    }

    #[test]
    fn a_preview_is_asked_for_once_per_change_and_only_the_latest_is_kept() {
        let mut view = view();
        let (first, _) = view.preview_request().unwrap();
        assert!(view.preview_request().is_none(), "nothing changed");
        view.filters.rows.push(FilterRow {
            column: "id".into(),
            op: Some(FilterOp::Gt),
            value: "3".into(),
        });
        let (second, request) = view.preview_request().unwrap();
        assert_eq!(request.filters.len(), 1);
        view.set_preview(first, Err("old".into()));
        assert!(view.preview.is_none(), "an answer to an older request is dropped");
        view.set_preview(second, Err("new".into()));
        assert_eq!(view.preview, Some(Err("new".into())));
    }

    #[test]
    fn a_preview_the_reader_had_no_room_for_is_asked_for_again() {
        let mut view = view();
        let (generation, request) = view.preview_request().unwrap();
        assert!(view.preview_request().is_none());
        view.given_back(&ExportRead::Preview {
            generation,
            request: Box::new(request),
        });
        let (again, _) = view.preview_request().unwrap();
        assert!(again > generation);
    }

    #[test]
    fn a_replaced_table_with_other_columns_resets_the_checklist() {
        let mut view = view();
        view.columns[0].included = false;
        view.set_tables(vec![TableInfo {
            name: "people".into(),
            columns: vec![
                sluice::query::Column::from_catalog("id", "BIGINT"),
                sluice::query::Column::from_catalog("email", "VARCHAR"),
            ],
            rows: 3,
        }]);
        let names: Vec<&str> = view.columns.iter().map(|choice| choice.column.name.as_str()).collect();
        assert_eq!(names, vec!["id", "email"]);
        assert!(view.columns.iter().all(|column| column.included));
    }

    #[test]
    fn the_request_follows_the_choices() {
        let mut view = view();
        view.columns.swap(0, 1);
        view.output = OutputKind::Chunks;
        view.chunk_rows = 5;
        view.set_destination(PathBuf::from("/tmp/out.csv"));
        let request = view.request().unwrap();
        assert_eq!(request.columns, vec!["name".to_string(), "id".to_string()]);
        assert_eq!(request.chunk_rows, Some(5));
        view.columns[1].included = false;
        assert_eq!(view.request().unwrap().columns, vec!["name".to_string()]);
        // Parquet is split into files of N rows only when asked.
        view.output = OutputKind::Parquet;
        assert_eq!(view.request().unwrap().chunk_rows, None);
        view.parquet_in_chunks = true;
        let request = view.request().unwrap();
        assert_eq!((request.format, request.chunk_rows), (ExportFormat::Parquet, Some(5)));
    }
}
