//! What views ask of the window, queued while they draw and run once per frame after drawing,
//! as rerun's command sender does. A view never submits a job, opens a dialog or starts a read
//! itself: it pushes a [`Command`] through its [`ViewContext`], so every effect the window has
//! is written in one place ([`super::SluiceApp::run_commands`]).

use std::path::PathBuf;

use sluice::engine::JobSpec;

use super::reads::LoadRequest;
use super::settings::Settings;

/// What a native file dialog is opened for.
pub enum Dialog {
    /// One file or several, to import into one table.
    OpenCsv,
    /// A folder, whose table files are imported into one table.
    OpenFolder,
    OpenSchema,
    SaveSchema(Box<sluice::import::SchemaFile>),
    /// The error report of this job.
    SaveReport(i64),
    /// The database to open from the next start.
    ChooseDatabase,
    /// Where an export goes; the text is the suggested file name.
    ExportDestination(String),
}

/// What the window does once a submitted job is queued.
pub enum AfterSubmit {
    ShowJobs,
    Notice(String),
}

/// One thing a view asked for.
pub enum Command {
    Submit {
        spec: Box<JobSpec>,
        then: AfterSubmit,
    },
    Cancel(i64),
    /// A read on a loader thread; pages and previews the loader has no room for are given back
    /// to their view, which asks again.
    Load(LoadRequest),
    OpenDialog(Dialog),
    Notice {
        text: String,
        folder: Option<PathBuf>,
    },
    /// The failed rows of this import, in the Failed rows view.
    ShowFailedRows(i64),
    /// A folder in the system's file manager.
    OpenFolder(PathBuf),
}

/// What a view gets while it draws: the settings it reads and edits, and the queue it pushes
/// commands to.
pub struct ViewContext<'a> {
    pub settings: &'a mut Settings,
    commands: &'a mut Vec<Command>,
}

impl<'a> ViewContext<'a> {
    pub fn new(settings: &'a mut Settings, commands: &'a mut Vec<Command>) -> Self {
        Self { settings, commands }
    }

    pub fn push(&mut self, command: Command) {
        self.commands.push(command);
    }

    pub fn load(&mut self, request: LoadRequest) {
        self.push(Command::Load(request));
    }

    pub fn open_dialog(&mut self, dialog: Dialog) {
        self.push(Command::OpenDialog(dialog));
    }
}
