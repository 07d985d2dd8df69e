//! The desktop window: a thin egui front end over the engine. It submits jobs and reads events;
//! every file and database read goes through the loader threads, so drawing never waits.
//!
//! One frame, in order: [`SluiceApp::logic`] drains engine events and loader answers (the one
//! place state changes from outside); `ui` draws the views from plain state, and the views push
//! [`Command`]s through a [`ViewContext`] instead of acting; then [`SluiceApp::run_commands`]
//! carries the commands out, once, after drawing. Settings live in one [`Settings`] that the
//! views read and edit through their context, so saving them is writing that struct.

mod browse_view;
mod command;
mod export_options;
mod export_view;
mod failed_groups;
mod failed_view;
mod filter_builder;
mod fix_editor;
mod fonts;
mod frame_stats;
mod import_view;
mod jobs_view;
mod loader;
mod loaders;
mod memory_budget;
mod memory_view;
mod notify;
mod page_cache;
mod reads;
mod settings;
mod settings_window;
mod shell;
mod startup_error;
mod status_bar;
mod table_picker;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::Receiver;
use egui::Ui;
use sluice::engine::JobKind;
use sluice::engine::{Engine, EngineConfig, EngineEvent, JobSummary};
use sluice::export::ExportSummary;
use sluice::import::{RetrySummary, UndoFixSummary};
use sluice::store::FailedRowFilter;

pub use reads::BROWSE_PAGE_ROWS;

/// glibc heap arenas the window allows (see [`sluice::memory::limit_allocator_arenas`]).
const WINDOW_ALLOCATOR_ARENAS: usize = 2;
pub use settings::DEFAULT_MEMORY_LIMIT;

use crate::format::thousands;
use browse_view::BrowseView;
use command::{AfterSubmit, Command, Dialog, ViewContext};
use export_view::ExportView;
use failed_view::FailedView;
use import_view::ImportView;
use jobs_view::JobsView;
use loaders::Loaders;
use memory_view::MemoryView;
use reads::{FailedRead, ImportAnswer, ImportRead, LoadRequest, Loaded};
use settings::{SETTINGS_KEY, Settings};
use settings_window::settings_ui;
use shell::Shell;

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

/// The six views and which one is shown.
struct Views {
    shown: View,
    import: ImportView,
    jobs: JobsView,
    failed: FailedView,
    export: ExportView,
    browse: BrowseView,
    memory: MemoryView,
}

pub struct SluiceApp {
    engine: Engine,
    loaders: Loaders,
    views: Views,
    /// What surrounds the views: status bar, notices, the settings window.
    shell: Shell,
    settings: Settings,
    /// The native file dialog open now, on a thread of its own.
    /// The open dialog's answer: what was picked, nothing when it was cancelled.
    dialog: Option<Receiver<(Dialog, Vec<PathBuf>)>>,
    /// What the views asked for this frame, run after drawing.
    commands: Vec<Command>,
    ctx: egui::Context,
    /// Where the notice of a long job that ended in the background goes.
    notifier: Box<dyn notify::Notifier>,
    /// How long a job runs before its end is worth a notification.
    notify_after: std::time::Duration,
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
        let waker_ctx = ctx.clone();
        let mut config = EngineConfig::new(&db_path);
        config.workers = settings.workers.max(1);
        config.memory_limit = launch
            .memory_limit
            .or_else(|| settings.memory_limit())
            .or_else(|| Some(settings::DEFAULT_MEMORY_LIMIT.to_string()));
        config.duckdb_threads = launch.duckdb_threads;
        config.waker = Some(Arc::new(move || waker_ctx.request_repaint()));
        let engine = Engine::start(config)?;
        let loaders = Loaders::start(engine.store(), ctx)?;
        let mut app = Self {
            engine,
            loaders,
            views: Views {
                shown: View::Import,
                import: ImportView::default(),
                jobs: JobsView::default(),
                failed: FailedView::default(),
                export: ExportView::default(),
                browse: BrowseView::default(),
                memory: MemoryView::default(),
            },
            shell: Shell::new(db_path.display().to_string()),
            settings,
            dialog: None,
            commands: vec![
                Command::Load(LoadRequest::Jobs),
                Command::Load(LoadRequest::Tables),
                Command::Load(LoadRequest::Recipes),
                Command::Load(LoadRequest::MemoryLimit),
            ],
            ctx: ctx.clone(),
            notifier: Box::new(notify::DesktopNotifier),
            notify_after: notify::LONG_JOB,
        };
        if !launch.files.is_empty() {
            app.open_files(launch.files);
        }
        app.run_commands();
        Ok(app)
    }

    /// Drains engine events, loader answers and the dialog's pick: the one place state changes
    /// from outside.
    fn drain(&mut self) {
        while let Ok(event) = self.engine.events().try_recv() {
            if let Some(job) = event.job_id().and_then(|job_id| self.views.jobs.row(job_id))
                && let Some(notice) = notify::notice_for(&event, job, sluice::store::now_ms(), self.notify_after)
                && self.in_background()
            {
                self.notifier.notify(notice);
            }
            match &event {
                EngineEvent::Memory(sample) => self.shell.status.record(*sample),
                EngineEvent::Finished {
                    summary: JobSummary::Retry(summary),
                    ..
                } => self.retry_finished("Retry", summary),
                EngineEvent::Finished {
                    summary: JobSummary::Fix(summary),
                    ..
                } => self.retry_finished("Fix", summary),
                EngineEvent::Finished {
                    summary: JobSummary::Undo(summary),
                    ..
                } => self.undo_finished(summary),
                EngineEvent::Finished {
                    summary: JobSummary::Export(summary),
                    ..
                } => self.export_finished(summary),
                EngineEvent::Failed { job_id, error }
                    if matches!(self.views.jobs.kind_of(*job_id), Some(JobKind::Retry | JobKind::Fix)) =>
                {
                    self.shell.error(format!("The fix did not run: {error}"));
                }
                EngineEvent::Failed { job_id, error } if self.views.jobs.kind_of(*job_id) == Some(JobKind::Undo) => {
                    self.shell.error(format!("Nothing was undone: {error}"));
                }
                _ => {}
            }
            if event.is_terminal() {
                // A finished job may have made, grown or replaced a table.
                self.commands.push(Command::Load(LoadRequest::Tables));
                // A fix may have kept a rule in a recipe.
                self.commands.push(Command::Load(LoadRequest::Recipes));
            }
            self.views.jobs.apply(&event);
        }
        // Requests that found a queue full go now if it has room.
        if self.loaders.pump() {
            // An answer arriving wakes the window too, but a request the thread skipped as
            // superseded answers nothing; look again soon rather than rely on it.
            self.ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
        for loaded in self.loaders.answers() {
            self.take_answer(loaded);
        }
        if let Some(dialog) = &self.dialog
            && let Ok((purpose, picked)) = dialog.try_recv()
        {
            self.dialog = None;
            if !picked.is_empty() {
                self.dialog_done(purpose, picked);
            }
        }
    }

    /// Whether the window is behind others or minimized: a job ending then gets a notification.
    fn in_background(&self) -> bool {
        self.ctx
            .input(|input| input.viewport().focused == Some(false) || input.viewport().minimized == Some(true))
    }

    fn take_answer(&mut self, loaded: Loaded) {
        if let Loaded::Import(ImportAnswer::Inputs { paths, folder, result }) = loaded {
            self.inputs_found(&paths, folder, result);
            return;
        }
        let views = &mut self.views;
        match loaded {
            Loaded::Import(answer) => views.import.loaded(answer),
            Loaded::Failed(answer) => views.failed.loaded(answer),
            Loaded::Export(answer) => views.export.loaded(answer),
            Loaded::Browse(answer) => views.browse.loaded(answer),
            Loaded::Jobs(jobs) => views.jobs.load_history(jobs),
            Loaded::Recipes(recipes) => views.import.set_recipes(recipes),
            Loaded::Tables(tables) => {
                views.export.set_tables(tables.clone());
                views.browse.set_tables(tables.clone());
                views.import.set_tables(tables);
            }
            Loaded::MemoryLimit(limit) => views.memory.duckdb_limit = Some(limit),
            Loaded::Done(notice) => self.shell.notice(notice, None),
            Loaded::Error(error) => self.shell.error(error),
        }
    }

    fn export_finished(&mut self, summary: &ExportSummary) {
        let files = summary.files.len();
        let first = summary.files.first();
        let text = format!(
            "Exported {} rows of '{}' to {}",
            thousands(summary.rows_written),
            summary.table,
            match (files, first) {
                (1, Some(file)) => file.display().to_string(),
                (_, Some(file)) => format!("{files} files, from {}", file.display()),
                _ => "no file".into(),
            }
        );
        let folder = first.and_then(|file| file.parent()).map(PathBuf::from);
        self.shell.notice(text, folder);
    }

    /// A retry or a fix (`what`) of an import's failed rows ended.
    fn retry_finished(&mut self, what: &str, summary: &RetrySummary) {
        self.shell.notice(
            format!(
                "{what} of job {}: {} row{} imported into '{}', {} still failing",
                summary.import_job_id,
                thousands(summary.rows_imported),
                if summary.rows_imported == 1 { "" } else { "s" },
                summary.table,
                thousands(summary.rows_still_failing),
            ),
            None,
        );
        if self.views.failed.job_id == Some(summary.import_job_id)
            && let Some(request) = self.views.failed.reload()
        {
            self.commands.push(Command::Load(request));
        }
    }

    fn undo_finished(&mut self, summary: &UndoFixSummary) {
        let totals = sluice::engine::JobTotals {
            rows_read: summary.rows_removed,
            rows_updated: summary.rows_put_back,
            rows_failed: summary.rows_returned,
            ..Default::default()
        };
        self.shell.notice(
            format!("Undid job {}: {}", summary.fix_job_id, totals.describe(JobKind::Undo)),
            None,
        );
        if self.views.failed.job_id == Some(summary.import_job_id)
            && let Some(request) = self.views.failed.reload()
        {
            self.commands.push(Command::Load(request));
        }
    }

    fn dialog_done(&mut self, purpose: Dialog, mut picked: Vec<PathBuf>) {
        if matches!(purpose, Dialog::OpenCsv | Dialog::OpenFolder) {
            self.open_files(picked);
            return;
        }
        let path = picked.swap_remove(0);
        match purpose {
            Dialog::OpenCsv | Dialog::OpenFolder => {}
            Dialog::OpenSchema => self
                .commands
                .push(Command::Load(LoadRequest::Import(ImportRead::LoadSchema { path }))),
            Dialog::SaveSchema(schema) => {
                self.commands
                    .push(Command::Load(LoadRequest::Import(ImportRead::SaveSchema {
                        path,
                        schema: *schema,
                    })))
            }
            Dialog::SaveReport(job_id) => self
                .commands
                .push(Command::Load(LoadRequest::Failed(FailedRead::Report { job_id, path }))),
            Dialog::ExportDestination(_) => self.views.export.set_destination(path),
            Dialog::ChooseDatabase => {
                self.settings.database = Some(path);
                self.shell
                    .notice("The chosen database opens the next time Sluice starts.".into(), None);
            }
        }
    }

    /// Shows `paths` (files or folders) in the Import view as one import, once the loader has
    /// opened the folders and matched the patterns among them.
    fn open_files(&mut self, paths: Vec<PathBuf>) {
        self.commands
            .push(Command::Load(LoadRequest::Import(ImportRead::ExpandInputs { paths })));
    }

    /// The files of `paths`, found: the Import view shows them and sniffs the first for the
    /// preview.
    fn inputs_found(&mut self, paths: &[PathBuf], folder: bool, result: Result<Vec<PathBuf>, String>) {
        let files = match result {
            Ok(files) => files,
            Err(error) => {
                self.shell.error(error);
                return;
            }
        };
        self.views.shown = View::Import;
        // A folder names the table its files go into, rather than its first file.
        let folder = paths.first().filter(|_| folder).map(PathBuf::as_path);
        if let Some(sniff) = self.views.import.open_files(files, folder, &mut self.settings) {
            self.commands.push(Command::Load(sniff));
        }
    }

    /// Carries out the commands queued since the last run, in order: the one place the window
    /// submits, cancels, reads, opens dialogs and switches views.
    fn run_commands(&mut self) {
        for command in std::mem::take(&mut self.commands) {
            match command {
                Command::Submit { spec, then } => match self.engine.submit(*spec) {
                    Ok(_) => match then {
                        AfterSubmit::ShowJobs => self.views.shown = View::Jobs,
                        AfterSubmit::Notice(text) => self.shell.notice(text, None),
                    },
                    Err(error) => self.shell.error(error.to_string()),
                },
                Command::Cancel(job_id) => {
                    if let Err(error) = self.engine.cancel(job_id) {
                        self.shell.error(error.to_string());
                    }
                }
                Command::Load(request) => {
                    if let Err(back) = self.loaders.send(request) {
                        self.given_back(&back);
                    }
                }
                Command::OpenDialog(dialog) => self.open_dialog(dialog),
                Command::Notice { text, folder } => self.shell.notice(text, folder),
                Command::OpenFolder(folder) => {
                    if let Err(error) = opener::open(&folder) {
                        self.shell.error(format!("cannot open {}: {error}", folder.display()));
                    }
                }
                Command::ShowFailedRows(job_id) => {
                    let request = self.views.failed.show_job(job_id, FailedRowFilter::default());
                    self.views.shown = View::FailedRows;
                    if let Err(back) = self.loaders.send(request) {
                        self.given_back(&back);
                    }
                }
            }
        }
    }

    /// A page or preview the loaders had no room for goes back to the view that asked, which
    /// asks again.
    fn given_back(&mut self, request: &LoadRequest) {
        match request {
            LoadRequest::Failed(read) => self.views.failed.given_back(read),
            LoadRequest::Export(read) => self.views.export.given_back(read),
            LoadRequest::Browse(read) => self.views.browse.given_back(read),
            _ => {}
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
                    .add_filter(
                        sluice::import::input_formats::DIALOG_LABEL,
                        &sluice::import::input_formats::dialog_extensions(),
                    )
                    .add_filter("Any file", &["*"])
                    .pick_files()
                    .unwrap_or_default(),
                Dialog::OpenFolder => rfd::FileDialog::new().pick_folder().into_iter().collect(),
                Dialog::OpenSchema => rfd::FileDialog::new()
                    .add_filter("Schema", &["json"])
                    .pick_file()
                    .into_iter()
                    .collect(),
                Dialog::SaveSchema(_) => rfd::FileDialog::new()
                    .add_filter("Schema", &["json"])
                    .set_file_name("schema.json")
                    .save_file()
                    .into_iter()
                    .collect(),
                Dialog::SaveReport(job_id) => rfd::FileDialog::new()
                    .add_filter("CSV", &["csv"])
                    .set_file_name(format!("failed-rows-job-{job_id}.csv"))
                    .save_file()
                    .into_iter()
                    .collect(),
                Dialog::ExportDestination(suggested) => rfd::FileDialog::new()
                    .set_file_name(suggested)
                    .save_file()
                    .into_iter()
                    .collect(),
                Dialog::ChooseDatabase => rfd::FileDialog::new()
                    .add_filter("DuckDB database", &["duckdb", "db"])
                    .set_file_name("sluice.duckdb")
                    .save_file()
                    .into_iter()
                    .collect(),
            };
            let _ = sender.send((purpose, picked));
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => self.dialog = Some(receiver),
            Err(error) => self.shell.error(format!("cannot open the file dialog: {error}")),
        }
    }

    /// Files (and folders) dropped on the window open in the Import view, as one import.
    fn queue_dropped_files(&mut self, ui: &Ui) {
        let dropped: Vec<PathBuf> = ui.input(|input| {
            input
                .raw
                .dropped_files
                .iter()
                .map(|file| file.path().to_path_buf())
                .filter(|path| !path.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            self.open_files(dropped);
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
        self.run_commands();
        // Memory samples do not wake the window; an idle window refreshes its gauge now and then.
        ui.ctx().request_repaint_after(std::time::Duration::from_secs(2));
        self.shell
            .frame_stats
            .record(frame_started.elapsed(), frame.info().cpu_usage);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}

impl SluiceApp {
    /// Draws the frame and queues what the user asked for; acts on nothing itself.
    fn draw(&mut self, ui: &mut Ui) {
        self.queue_dropped_files(ui);
        let mut cx = ViewContext::new(&mut self.settings, &mut self.commands);
        if ui.input(|input| input.modifiers.command && input.key_pressed(egui::Key::O)) {
            cx.open_dialog(Dialog::OpenCsv);
        }
        let views = &mut self.views;
        let shell = &mut self.shell;
        let engine = &self.engine;
        egui::Panel::top("nav").show(ui, |ui| shell.nav_ui(ui, &mut views.shown));
        if shell.settings_open {
            let mut open = true;
            let database = shell.database.clone();
            egui::Window::new("Settings")
                .open(&mut open)
                .resizable(false)
                .collapsible(false)
                .show(ui.ctx(), |ui| settings_ui(ui, &mut cx, &database));
            shell.settings_open = open;
        }
        let active = views.jobs.active_count();
        let duckdb_limit = views.memory.duckdb_limit.clone();
        shell.banners_ui(ui, &mut cx, active, duckdb_limit.as_deref());
        egui::CentralPanel::default().show(ui, |ui| match views.shown {
            View::Import => views.import.ui(ui, &mut cx),
            View::Jobs => views.jobs.ui(ui, &mut cx),
            View::FailedRows => views.failed.ui(ui, &mut cx),
            View::Export => views.export.ui(ui, &mut cx),
            View::Browse => views.browse.ui(ui, &mut cx),
            View::Memory => {
                let budget = shell.status.budget(duckdb_limit.as_deref());
                let history = engine.memory_history();
                views.memory.ui(ui, &history, &views.jobs, budget.as_ref(), &mut cx);
            }
        });
    }
}

/// Opens the window as `launch` says (what it leaves out comes from the settings, then the
/// defaults); returns when it is closed.
pub fn run(launch: Launch) -> anyhow::Result<()> {
    // First of all: glibc fixes its arena limit when a second thread first allocates, and the
    // graphics driver starts threads as the window opens.
    sluice::memory::limit_allocator_arenas(WINDOW_ALLOCATOR_ARENAS);
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
        Box::new(|cc| {
            fonts::add_cjk_fallback(&cc.egui_ctx);
            match SluiceApp::new(&cc.egui_ctx, cc.storage, launch) {
                Ok(app) => Ok(Box::new(app) as Box<dyn eframe::App>),
                Err(error) => {
                    // Said in the window (a person may have started Sluice from a launcher) and, on
                    // exit, on the terminal too.
                    let message = format!("{error:#}");
                    failure = Some(error);
                    Ok(Box::new(startup_error::StartupError { message }))
                }
            }
        }),
    );
    if let Some(error) = failure {
        return Err(error);
    }
    result.map_err(|error| anyhow::anyhow!("the window could not be opened: {error}"))
}
