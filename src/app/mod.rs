//! The desktop window: a thin egui front end over the engine. It submits jobs and reads events;
//! every file and database read goes through the loader thread, so drawing never waits.
//!
//! Events are drained in one place ([`SluiceApp::logic`]); each view is its own struct that draws
//! from plain state and returns what the user asked for. Settings live in one [`Settings`] that
//! the views read and edit in place, so saving them is writing that struct, nothing more.

mod browse_view;
mod export_view;
mod failed_view;
mod filter_builder;
mod frame_stats;
mod import_view;
mod jobs_view;
mod loader;
mod memory_budget;
mod memory_view;
mod page_cache;
mod settings;
mod startup_error;
mod status_bar;
mod table_picker;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::Receiver;
use egui::{RichText, Ui};
use sluice::engine::{Engine, EngineConfig, EngineEvent, JobSpec, JobSummary};
use sluice::export::ExportSummary;
use sluice::import::RetrySummary;
use sluice::store::{FailedRowFilter, JobKind};

use crate::format::thousands;
use browse_view::{BrowseAction, BrowseView};
use export_view::{ExportAction, ExportView};
use failed_view::{FailedAction, FailedView};
use frame_stats::FrameStats;
use import_view::{ImportAction, ImportView};
use jobs_view::{JobsAction, JobsView};
use loader::{LoadRequest, Loaded, Loader};
use memory_view::{MemoryAction, MemoryView};
use settings::{SETTINGS_KEY, Settings, SettingsAction, settings_ui};
use status_bar::StatusBar;

/// The views, in navigation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Import,
    Jobs,
    FailedRows,
    Export,
    Browse,
    Memory,
}

impl View {
    const ALL: [View; 6] = [
        View::Import,
        View::Jobs,
        View::FailedRows,
        View::Export,
        View::Browse,
        View::Memory,
    ];

    fn label(&self) -> &'static str {
        match self {
            Self::Import => "Import",
            Self::Jobs => "Jobs",
            Self::FailedRows => "Failed rows",
            Self::Export => "Export",
            Self::Browse => "Browse",
            Self::Memory => "Memory",
        }
    }
}

/// What a native file dialog was opened for.
enum Dialog {
    OpenCsv,
    OpenSchema,
    SaveSchema(Box<sluice::import::SchemaFile>),
    /// The error report of this job.
    SaveReport(i64),
    /// The database to open from the next start.
    ChooseDatabase,
    /// Where an export goes; the text is the suggested file name.
    ExportDestination(String),
}

pub struct SluiceApp {
    engine: Engine,
    /// Quick reads: sniffing, failed rows, jobs, tables.
    loader: Loader,
    /// Reads that may take a while on big tables (counts, previews, page indexes), on a thread of
    /// their own so they never hold up the quick ones.
    queries: Loader,
    view: View,
    import: ImportView,
    jobs: JobsView,
    failed: FailedView,
    export: ExportView,
    browse: BrowseView,
    memory: MemoryView,
    status: StatusBar,
    settings: Settings,
    settings_open: bool,
    dialog: Option<Receiver<(Dialog, Option<PathBuf>)>>,
    message: Option<String>,
    notice: Option<String>,
    /// A folder the notice offers to open (after an export).
    notice_folder: Option<PathBuf>,
    database: String,
    ctx: egui::Context,
    frame_stats: FrameStats,
}

/// What the command line says about the window it opens; what it leaves out comes from the
/// settings, then from the defaults.
#[derive(Clone, Debug, Default)]
pub struct Launch {
    pub db_path: Option<PathBuf>,
    pub memory_limit: Option<String>,
    pub duckdb_threads: Option<usize>,
    /// Files to open in the Import view.
    pub files: Vec<PathBuf>,
}

impl SluiceApp {
    /// Starts the engine on the database `launch` names (else the one the settings name, else
    /// the default one) and opens its files in the Import view.
    pub fn new(ctx: &egui::Context, storage: Option<&dyn eframe::Storage>, launch: Launch) -> anyhow::Result<Self> {
        let settings = Settings::load(storage);
        ctx.set_theme(settings.theme);
        let db_path = match launch.db_path.or_else(|| settings.database.clone()) {
            Some(path) => path,
            None => sluice::store::default_database_path()?,
        };
        let files = launch.files;
        let waker_ctx = ctx.clone();
        let mut config = EngineConfig::new(&db_path);
        config.workers = settings.workers.max(1);
        config.memory_limit = launch.memory_limit.or_else(|| settings.memory_limit());
        config.duckdb_threads = launch.duckdb_threads;
        config.waker = Some(Arc::new(move || waker_ctx.request_repaint()));
        let engine = Engine::start(config)?;
        let loader_ctx = ctx.clone();
        let mut loader = Loader::start("sluice-ui-loader", engine.store().try_clone()?, move || {
            loader_ctx.request_repaint()
        })?;
        let queries_ctx = ctx.clone();
        let mut queries = Loader::start("sluice-ui-queries", engine.store().try_clone()?, move || {
            queries_ctx.request_repaint()
        })?;
        loader.request(LoadRequest::Jobs);
        loader.request(LoadRequest::Tables);
        queries.request(LoadRequest::MemoryLimit);
        let mut app = Self {
            engine,
            loader,
            queries,
            view: View::Import,
            import: ImportView::default(),
            jobs: JobsView::default(),
            failed: FailedView::default(),
            export: ExportView::default(),
            browse: BrowseView::default(),
            memory: MemoryView::default(),
            status: StatusBar::default(),
            settings,
            settings_open: false,
            dialog: None,
            message: None,
            notice: None,
            notice_folder: None,
            database: db_path.display().to_string(),
            ctx: ctx.clone(),
            frame_stats: FrameStats::default(),
        };
        for file in files {
            let action = app.import.open(file, &mut app.settings);
            app.handle_import(action);
        }
        Ok(app)
    }

    /// Drains engine events and loader results: the one place state changes from outside.
    fn drain(&mut self) {
        while let Ok(event) = self.engine.events().try_recv() {
            match &event {
                EngineEvent::Memory(sample) => self.status.record(*sample),
                EngineEvent::Finished {
                    summary: JobSummary::Retry(summary),
                    ..
                } => self.retry_finished(summary),
                EngineEvent::Finished {
                    summary: JobSummary::Export(summary),
                    ..
                } => self.export_finished(summary),
                EngineEvent::Failed { job_id, error } if self.jobs.kind_of(*job_id) == Some(JobKind::Retry) => {
                    self.message = Some(format!("The retry did not run: {error}"));
                }
                _ => {}
            }
            if event.is_terminal() {
                // A finished job may have made, grown or replaced a table.
                self.loader.request(LoadRequest::Tables);
            }
            self.jobs.apply(&event);
        }
        // Requests that found a queue full go now if it has room.
        self.loader.pump();
        self.queries.pump();
        if self.loader.backed_up() || self.queries.backed_up() {
            // An answer arriving wakes the window too, but a request the thread skipped as
            // superseded answers nothing; look again soon rather than rely on it.
            self.ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
        let mut loaded_all = Vec::new();
        while let Some(loaded) = self.loader.try_recv() {
            loaded_all.push(loaded);
        }
        while let Some(loaded) = self.queries.try_recv() {
            loaded_all.push(loaded);
        }
        for loaded in loaded_all {
            match loaded {
                Loaded::Sniffed { path, result } => self.import.set_sniffed(path, result),
                Loaded::FailedSummary { generation, result } => self.failed.set_summary(generation, result),
                Loaded::FailedPage {
                    generation,
                    page,
                    result,
                } => self.failed.add_page(generation, page, result),
                Loaded::Jobs(jobs) => self.jobs.load_history(jobs),
                Loaded::Tables(tables) => {
                    self.export.set_tables(tables.clone());
                    self.browse.set_tables(tables.clone());
                    self.import.set_tables(tables);
                }
                Loaded::ExportPreview { generation, result } => self.export.set_preview(generation, result),
                Loaded::BrowseIndex { generation, result } => self.browse.set_index(generation, result),
                Loaded::BrowsePage {
                    generation,
                    page,
                    result,
                } => self.browse.add_page(generation, page, result),
                Loaded::MemoryLimit(limit) => self.memory.duckdb_limit = Some(limit),
                Loaded::Schema(schema) => self.import.apply_schema(schema),
                Loaded::Done(notice) => self.notice = Some(notice),
                Loaded::Error(error) => self.message = Some(error),
            }
        }
        if let Some(dialog) = &self.dialog
            && let Ok((purpose, picked)) = dialog.try_recv()
        {
            self.dialog = None;
            if let Some(path) = picked {
                self.dialog_done(purpose, path);
            }
        }
    }

    fn export_finished(&mut self, summary: &ExportSummary) {
        let files = summary.files.len();
        let first = summary.files.first();
        self.notice = Some(format!(
            "Exported {} rows of '{}' to {}",
            thousands(summary.rows_written),
            summary.table,
            match (files, first) {
                (1, Some(file)) => file.display().to_string(),
                (_, Some(file)) => format!("{files} files, from {}", file.display()),
                _ => "no file".into(),
            }
        ));
        self.notice_folder = first.and_then(|file| file.parent()).map(PathBuf::from);
    }

    fn retry_finished(&mut self, summary: &RetrySummary) {
        self.notice = Some(format!(
            "Retry of job {}: {} row{} imported into '{}', {} still failing",
            summary.import_job_id,
            thousands(summary.rows_imported),
            if summary.rows_imported == 1 { "" } else { "s" },
            summary.table,
            thousands(summary.rows_still_failing),
        ));
        if self.failed.job_id == Some(summary.import_job_id)
            && let Some(request) = self.failed.reload()
        {
            self.loader.request(request);
        }
    }

    fn dialog_done(&mut self, purpose: Dialog, path: PathBuf) {
        match purpose {
            Dialog::OpenCsv => {
                let action = self.import.open(path, &mut self.settings);
                self.handle_import(action);
            }
            Dialog::OpenSchema => self.loader.request(LoadRequest::LoadSchema { path }),
            Dialog::SaveSchema(schema) => self.loader.request(LoadRequest::SaveSchema { path, schema: *schema }),
            Dialog::SaveReport(job_id) => self.loader.request(LoadRequest::WriteReport { job_id, path }),
            Dialog::ExportDestination(_) => self.export.set_destination(path),
            Dialog::ChooseDatabase => {
                self.settings.database = Some(path);
                self.notice = Some("The chosen database opens the next time Sluice starts.".into());
            }
        }
    }

    fn handle_import(&mut self, action: ImportAction) {
        match action {
            ImportAction::OpenDialog => self.open_dialog(Dialog::OpenCsv),
            ImportAction::LoadSchema => self.open_dialog(Dialog::OpenSchema),
            ImportAction::SaveSchema(schema) => self.open_dialog(Dialog::SaveSchema(Box::new(schema))),
            ImportAction::Sniff { path, hints } => self.loader.request(LoadRequest::Sniff { path, hints }),
            ImportAction::Start(request) => match self.engine.submit(JobSpec::Import(*request)) {
                Ok(_) => self.view = View::Jobs,
                Err(error) => self.message = Some(error.to_string()),
            },
        }
    }

    /// The native dialog blocks its thread, so it gets one of its own.
    fn open_dialog(&mut self, purpose: Dialog) {
        if self.dialog.is_some() {
            return;
        }
        let (sender, receiver) = crossbeam_channel::bounded(1);
        let ctx = self.ctx.clone();
        let spawned = std::thread::Builder::new().name("sluice-dialog".into()).spawn(move || {
            let picked = match &purpose {
                Dialog::OpenCsv => rfd::FileDialog::new()
                    .add_filter("CSV, TSV, text or gzip", &["csv", "tsv", "txt", "gz"])
                    .pick_file(),
                Dialog::OpenSchema => rfd::FileDialog::new().add_filter("Schema", &["json"]).pick_file(),
                Dialog::SaveSchema(_) => rfd::FileDialog::new()
                    .add_filter("Schema", &["json"])
                    .set_file_name("schema.json")
                    .save_file(),
                Dialog::SaveReport(job_id) => rfd::FileDialog::new()
                    .add_filter("CSV", &["csv"])
                    .set_file_name(format!("failed-rows-job-{job_id}.csv"))
                    .save_file(),
                Dialog::ExportDestination(suggested) => rfd::FileDialog::new().set_file_name(suggested).save_file(),
                Dialog::ChooseDatabase => rfd::FileDialog::new()
                    .add_filter("DuckDB database", &["duckdb", "db"])
                    .set_file_name("sluice.duckdb")
                    .save_file(),
            };
            let _ = sender.send((purpose, picked));
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.dialog = Some(receiver),
            Err(error) => self.message = Some(format!("cannot open the file dialog: {error}")),
        }
    }

    fn nav_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.heading(RichText::new("Sluice").strong());
            ui.separator();
            for view in View::ALL {
                if ui.selectable_label(self.view == view, view.label()).clicked() {
                    self.view = view;
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.toggle_value(&mut self.settings_open, "Settings");
            });
        });
    }

    fn dropped_files(&mut self, ui: &Ui) {
        let dropped: Vec<PathBuf> = ui.input(|input| {
            input
                .raw
                .dropped_files
                .iter()
                .map(|file| file.path().to_path_buf())
                .filter(|path| !path.as_os_str().is_empty())
                .collect()
        });
        for path in dropped {
            self.view = View::Import;
            let action = self.import.open(path, &mut self.settings);
            self.handle_import(action);
        }
    }
}

impl eframe::App for SluiceApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain();
    }

    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        let frame_started = std::time::Instant::now();
        self.draw(ui);
        // Memory samples do not wake the window; an idle window refreshes its gauge now and then.
        ui.ctx().request_repaint_after(std::time::Duration::from_secs(2));
        self.frame_stats.record(frame_started.elapsed(), frame.info().cpu_usage);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}

impl SluiceApp {
    fn draw(&mut self, ui: &mut Ui) {
        self.dropped_files(ui);
        if ui.input(|input| input.modifiers.command && input.key_pressed(egui::Key::O)) {
            self.open_dialog(Dialog::OpenCsv);
        }
        if ui.input(|input| input.key_pressed(egui::Key::Escape)) {
            self.message = None;
            self.notice = None;
            self.notice_folder = None;
        }
        egui::Panel::top("nav").show(ui, |ui| self.nav_ui(ui));
        if self.settings_open {
            let mut open = true;
            let mut action = None;
            egui::Window::new("Settings")
                .open(&mut open)
                .resizable(false)
                .collapsible(false)
                .show(ui.ctx(), |ui| {
                    action = settings_ui(ui, &mut self.settings, &self.database)
                });
            self.settings_open = open;
            if let Some(SettingsAction::ChooseDatabase) = action {
                self.open_dialog(Dialog::ChooseDatabase);
            }
        }
        let active = self.jobs.active_count();
        let duckdb_limit = self.memory.duckdb_limit.as_deref();
        egui::Panel::bottom("status").show(ui, |ui| self.status.ui(ui, &self.database, active, duckdb_limit));
        if let Some(notice) = self.notice.clone() {
            egui::Panel::top("notice").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(notice);
                    if let Some(folder) = self.notice_folder.clone()
                        && ui.small_button("Open folder").clicked()
                        && let Err(error) = opener::open(&folder)
                    {
                        self.message = Some(format!("cannot open {}: {error}", folder.display()));
                    }
                    if ui.small_button("Dismiss (Esc)").clicked() {
                        self.notice = None;
                        self.notice_folder = None;
                    }
                });
            });
        }
        if let Some(message) = self.message.clone() {
            egui::Panel::top("message").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.colored_label(egui::Color32::from_rgb(220, 70, 60), message);
                    if ui.small_button("Dismiss (Esc)").clicked() {
                        self.message = None;
                    }
                });
            });
        }
        egui::CentralPanel::default().show(ui, |ui| match self.view {
            View::Import => {
                if let Some(action) = self.import.ui(ui, &mut self.settings) {
                    self.handle_import(action);
                }
            }
            View::Jobs => match self.jobs.ui(ui) {
                Some(JobsAction::Cancel(job_id)) => {
                    if let Err(error) = self.engine.cancel(job_id) {
                        self.message = Some(error.to_string());
                    }
                }
                Some(JobsAction::OpenFailedRows(job_id)) => {
                    let request = self.failed.show_job(job_id, FailedRowFilter::default());
                    self.loader.request(request);
                    self.view = View::FailedRows;
                }
                None => {}
            },
            View::FailedRows => {
                let mut requests = Vec::new();
                match self.failed.ui(ui, &mut requests) {
                    Some(FailedAction::ExportReport(job_id)) => self.open_dialog(Dialog::SaveReport(job_id)),
                    Some(FailedAction::Retry(request)) => {
                        let rows = request.rows.len();
                        match self.engine.submit(JobSpec::Retry(request)) {
                            Ok(_) => {
                                self.notice =
                                    Some(format!("Retrying {} row{}…", rows, if rows == 1 { "" } else { "s" }))
                            }
                            Err(error) => self.message = Some(error.to_string()),
                        }
                    }
                    None => {}
                }
                for request in requests {
                    if matches!(request, LoadRequest::FailedPage { .. }) {
                        if let Err(back) = self.loader.try_request(request) {
                            self.failed.given_back(&back);
                        }
                    } else {
                        // A new filter's summary: the view waits for it and never asks again.
                        self.loader.request(request);
                    }
                }
            }
            View::Export => {
                match self.export.ui(ui) {
                    Some(ExportAction::ChooseDestination(suggested)) => {
                        self.open_dialog(Dialog::ExportDestination(suggested))
                    }
                    Some(ExportAction::Start(request)) => match self.engine.submit(JobSpec::Export(*request)) {
                        Ok(_) => self.view = View::Jobs,
                        Err(error) => self.message = Some(error.to_string()),
                    },
                    None => {}
                }
                if let Some((generation, request)) = self.export.preview_request() {
                    let preview = LoadRequest::ExportPreview {
                        generation,
                        request: Box::new(request),
                    };
                    if let Err(back) = self.queries.try_request(preview) {
                        self.export.given_back(&back);
                    }
                }
            }
            View::Browse => {
                let mut requests = Vec::new();
                if let Some(BrowseAction::Copied(text)) = self.browse.ui(ui, &mut requests) {
                    self.notice = Some(format!("Copied “{}”", ellipsize(&text, 60)));
                    self.notice_folder = None;
                }
                // Only indexes and pages, which the view asks for again once given back.
                for request in requests {
                    if let Err(back) = self.queries.try_request(request) {
                        self.browse.given_back(&back);
                    }
                }
            }
            View::Memory => {
                let budget = self.status.budget(self.memory.duckdb_limit.as_deref());
                if let Some(MemoryAction::ApplyMemoryLimit(limit)) =
                    self.memory
                        .ui(ui, &self.status.memory, &self.jobs, &mut self.settings, budget.as_ref())
                {
                    self.queries.request(LoadRequest::SetMemoryLimit(limit));
                }
            }
        });
    }
}

/// At most `limit` characters of `text`, with an ellipsis when cut.
fn ellipsize(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit).collect();
    format!("{cut}…")
}

/// Opens the window as `launch` says (what it leaves out comes from the settings, then the
/// defaults); returns when it is closed.
pub fn run(launch: Launch) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Sluice")
            .with_inner_size([1200.0, 780.0])
            .with_drag_and_drop(true),
        ..eframe::NativeOptions::default()
    };
    let mut failure = None;
    let result = eframe::run_native(
        "Sluice",
        options,
        Box::new(|cc| match SluiceApp::new(&cc.egui_ctx, cc.storage, launch) {
            Ok(app) => Ok(Box::new(app) as Box<dyn eframe::App>),
            Err(error) => {
                // Said in the window (a person may have started Sluice from a launcher) and, on
                // exit, on the terminal too.
                let message = format!("{error:#}");
                failure = Some(error);
                Ok(Box::new(startup_error::StartupError { message }))
            }
        }),
    );
    if let Some(error) = failure {
        return Err(error);
    }
    result.map_err(|error| anyhow::anyhow!("the window could not be opened: {error}"))
}
