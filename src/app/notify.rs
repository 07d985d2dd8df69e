//! Desktop notifications for long imports and exports that finish while the window is in the
//! background: the desktop form of "we will email you when your export is ready". The outcome
//! and its counts go through the [`Notifier`] trait, so a test can see what would be shown; the
//! desktop one sends it with `notify-rust` on a thread of its own (D-Bus can be slow), and on
//! Linux and the BSDs offers an "Open folder" action.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sluice::engine::EngineEvent;
use sluice::engine::JobKind;

use super::jobs_view::JobRow;

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

/// The notice of a long import or export that `event` ends, whatever the window's focus (the
/// caller decides that). `job` is what the Jobs view knows of it before taking the event in;
/// `now_ms` is the wall clock its times are kept in.
pub fn notice_for(event: &EngineEvent, job: &JobRow, now_ms: i64, long: Duration) -> Option<Notice> {
    if !matches!(job.kind, JobKind::Import | JobKind::Export) {
        return None;
    }
    let ran_ms = job.started_at_ms.map_or(0, |started| now_ms.saturating_sub(started));
    if u128::try_from(ran_ms).unwrap_or(0) < long.as_millis() {
        return None;
    }
    let (title, body) = match event {
        EngineEvent::Finished { outcome, .. } => {
            let title = match job.kind {
                JobKind::Import => format!("Import into {} finished", job.target),
                _ => format!("Export of {} finished", job.source),
            };
            let totals = sluice::engine::JobTotals {
                rows_read: outcome.rows_read,
                rows_skipped: outcome.rows_skipped,
                rows_imported: outcome.rows_imported,
                rows_updated: outcome.rows_updated,
                rows_failed: outcome.rows_failed,
                rows_written: outcome.rows_written,
                files: Some(outcome.outputs.len()),
                undone_by: None,
            };
            (title, totals.describe(job.kind))
        }
        EngineEvent::Failed { error, .. } => (format!("{} failed", what(job)), error.clone()),
        _ => return None,
    };
    Some(Notice {
        title,
        body,
        folder: folder(job),
    })
}

fn what(job: &JobRow) -> String {
    match job.kind {
        JobKind::Import => format!("Import into {}", job.target),
        _ => format!("Export of {}", job.source),
    }
}

/// The folder of the export's output, or of the imported file.
fn folder(job: &JobRow) -> Option<PathBuf> {
    let path = match job.kind {
        JobKind::Import => &job.source,
        _ => &job.target,
    };
    Path::new(path)
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty() && folder.is_dir())
        .map(Path::to_path_buf)
}
