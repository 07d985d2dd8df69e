//! Desktop notifications for long imports and exports that finish while the window is in the
//! background: the desktop form of "we will email you when your export is ready". The outcome
//! and its counts go through the [`Notifier`] trait, so a test can see what would be shown; the
//! desktop one sends it with `notify-rust` on a thread of its own (D-Bus can be slow), and on
//! Linux and the BSDs offers an "Open folder" action.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sluice::engine::EngineEvent;
use sluice::engine::JobKind;

use crate::format::thousands;

/// A job shorter than this finishes while the person is still looking: no notification.
pub const LONG_JOB: Duration = Duration::from_secs(10);

/// What a notification says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    /// The folder the "Open folder" action opens.
    pub folder: Option<PathBuf>,
}

/// Where notices go.
pub trait Notifier {
    fn notify(&self, notice: Notice);
}

/// The desktop's notifications.
pub struct DesktopNotifier;

impl Notifier for DesktopNotifier {
    fn notify(&self, notice: Notice) {
        let spawned = std::thread::Builder::new()
            .name("sluice-notify".into())
            .spawn(move || show(&notice));
        if let Err(error) = spawned {
            eprintln!("sluice: could not start the notification thread: {error}");
        }
    }
}

fn show(notice: &Notice) {
    let mut notification = notify_rust::Notification::new();
    notification.appname("Sluice").summary(&notice.title).body(&notice.body);
    #[cfg(all(unix, not(target_os = "macos")))]
    if notice.folder.is_some() {
        notification.action("open-folder", "Open folder");
    }
    match notification.show() {
        #[cfg(all(unix, not(target_os = "macos")))]
        Ok(handle) => {
            if let Some(folder) = notice.folder.clone() {
                handle.wait_for_action(move |action| {
                    if action == "open-folder"
                        && let Err(error) = opener::open(&folder)
                    {
                        eprintln!("sluice: could not open {}: {error}", folder.display());
                    }
                });
            }
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        Ok(_) => {}
        // No notification service (a bare X server, a locked-down desktop): the Jobs view still
        // says everything.
        Err(error) => eprintln!("sluice: could not show a notification: {error}"),
    }
}

/// Keeps what was sent, for tests.
#[cfg(test)]
#[derive(Clone, Default)]
pub struct RecordingNotifier {
    pub sent: std::sync::Arc<std::sync::Mutex<Vec<Notice>>>,
}

#[cfg(test)]
impl Notifier for RecordingNotifier {
    fn notify(&self, notice: Notice) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(notice);
        }
    }
}

/// Follows job events and makes the notice of a long import or export that ended.
#[derive(Default)]
pub struct LongJobWatch {
    /// Jobs that started, with when and what they are.
    running: HashMap<i64, Running>,
    /// Queued jobs' kinds and labels, until they start.
    queued: HashMap<i64, Running>,
}

#[derive(Clone)]
struct Running {
    kind: JobKind,
    source: String,
    target: String,
    started: Option<Instant>,
}

impl LongJobWatch {
    /// Takes one event; returns the notice to send when a long import or export ended, whatever
    /// the window's focus (the caller decides that).
    pub fn observe(&mut self, event: &EngineEvent, long: Duration) -> Option<Notice> {
        match event {
            EngineEvent::Queued {
                job_id,
                kind,
                source,
                target,
                ..
            } => {
                if matches!(kind, JobKind::Import | JobKind::Export) {
                    let job = Running {
                        kind: *kind,
                        source: source.clone(),
                        target: target.clone(),
                        started: None,
                    };
                    self.queued.insert(*job_id, job);
                }
                None
            }
            EngineEvent::Started { job_id } => {
                if let Some(mut job) = self.queued.remove(job_id) {
                    job.started = Some(Instant::now());
                    self.running.insert(*job_id, job);
                }
                None
            }
            EngineEvent::Finished { job_id, outcome, .. } => {
                let job = self.ended(*job_id, long)?;
                let (title, body) = match job.kind {
                    JobKind::Import => (
                        format!("Import into {} finished", job.target),
                        format!(
                            "{} imported · {} failed · {} read",
                            thousands(outcome.rows_imported),
                            thousands(outcome.rows_failed),
                            thousands(outcome.rows_read + outcome.rows_skipped)
                        ),
                    ),
                    _ => (
                        format!("Export of {} finished", job.source),
                        format!(
                            "{} rows written to {} file{}",
                            thousands(outcome.rows_written),
                            outcome.outputs.len(),
                            if outcome.outputs.len() == 1 { "" } else { "s" }
                        ),
                    ),
                };
                Some(Notice {
                    title,
                    body,
                    folder: job.folder(),
                })
            }
            EngineEvent::Failed { job_id, error } => {
                let job = self.ended(*job_id, long)?;
                Some(Notice {
                    title: format!("{} failed", job.what()),
                    body: error.clone(),
                    folder: job.folder(),
                })
            }
            EngineEvent::Cancelled { job_id } => {
                self.running.remove(job_id);
                self.queued.remove(job_id);
                None
            }
            _ => None,
        }
    }

    /// The job that ended, if it ran long enough to be worth a notification.
    fn ended(&mut self, job_id: i64, long: Duration) -> Option<Running> {
        self.queued.remove(&job_id);
        let job = self.running.remove(&job_id)?;
        let ran = job.started.map_or(Duration::ZERO, |started| started.elapsed());
        (ran >= long).then_some(job)
    }
}

impl Running {
    fn what(&self) -> String {
        match self.kind {
            JobKind::Import => format!("Import into {}", self.target),
            _ => format!("Export of {}", self.source),
        }
    }

    /// The folder of the export's output, or of the imported file.
    fn folder(&self) -> Option<PathBuf> {
        let path = match self.kind {
            JobKind::Import => &self.source,
            _ => &self.target,
        };
        Path::new(path)
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty() && folder.is_dir())
            .map(Path::to_path_buf)
    }
}
