//! The Jobs view: one card per job, live while it runs, with its totals stated plainly when done.

use std::collections::{BTreeMap, HashMap};

use egui::{Color32, RichText, Ui};
use sluice::engine::{EngineEvent, JobProgress, JobSummary};

use super::command::{AfterSubmit, Command, ViewContext};
use sluice::engine::JobSpec;
use sluice::engine::{JobKind, JobRecord};
use sluice::import::UndoFixRequest;
use sluice::progress::Progress;
use sluice::store::{JobStatus, now_ms};

use crate::format::{megabytes, thousands};

/// What the window knows of one job, built from the job history and then from events.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRow {
    pub job_id: i64,
    pub kind: JobKind,
    pub source: String,
    pub target: String,
    /// The files of a job that reads several, which its progress names by index.
    pub files: Vec<String>,
    pub status: JobStatus,
    pub progress: JobProgress,
    /// Of the rows imported, those that replaced a stored row (an upsert).
    pub rows_updated: u64,
    /// The job that undid this fix, when one did.
    pub undone_by: Option<i64>,
    pub error: Option<String>,
    /// Wall-clock times (ms since the epoch) the job started and ended, for the memory plot.
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
}

/// A card's height before it is first drawn: a finished job's two lines.
const ESTIMATED_CARD_HEIGHT: f32 = 56.0;
const CARD_GAP: f32 = 4.0;

/// All jobs, newest first.
#[derive(Default)]
pub struct JobsView {
    pub rows: BTreeMap<i64, JobRow>,
    /// Each card's height as last drawn. Only the cards in view are drawn, so the rest are placed
    /// by these: a window left open for hundreds of jobs drew (and laid out, and described to
    /// screen readers) every card every frame, and its memory grew with the job history.
    card_heights: HashMap<i64, f32>,
}

impl JobsView {
    /// Takes in the stored history (jobs the window has live data for are kept as they are).
    pub fn load_history(&mut self, jobs: Vec<JobRecord>) {
        for job in jobs {
            self.rows.entry(job.job_id).or_insert_with(|| JobRow::from_record(&job));
        }
    }

    /// Applies one engine event.
    pub fn apply(&mut self, event: &EngineEvent) {
        match event {
            EngineEvent::Queued {
                job_id,
                kind,
                source,
                target,
                files,
            } => {
                self.rows.insert(
                    *job_id,
                    JobRow {
                        job_id: *job_id,
                        kind: *kind,
                        source: source.clone(),
                        target: target.clone(),
                        files: files.clone(),
                        status: JobStatus::Queued,
                        progress: JobProgress::default(),
                        rows_updated: 0,
                        undone_by: None,
                        error: None,
                        started_at_ms: None,
                        finished_at_ms: None,
                    },
                );
            }
            EngineEvent::Started { job_id } => {
                self.set_status(*job_id, JobStatus::Running);
                if let Some(row) = self.rows.get_mut(job_id) {
                    row.started_at_ms = Some(now_ms());
                }
            }
            EngineEvent::Progress { job_id, progress } => {
                if let Some(row) = self.rows.get_mut(job_id) {
                    row.progress = *progress;
                }
            }
            EngineEvent::Finished {
                job_id,
                summary,
                outcome,
            } => {
                if let Some(row) = self.rows.get_mut(job_id) {
                    row.status = JobStatus::Completed;
                    row.finished_at_ms = Some(now_ms());
                    let counts = &mut row.progress.counts;
                    counts.rows_read = outcome.rows_read;
                    counts.rows_skipped = outcome.rows_skipped;
                    counts.rows_imported = outcome.rows_imported;
                    counts.rows_failed = outcome.rows_failed;
                    counts.rows_written = outcome.rows_written;
                    row.rows_updated = outcome.rows_updated;
                }
                // The rows a retry imported left the import's failed set: its card says so too.
                if let JobSummary::Retry(summary) | JobSummary::Fix(summary) = summary
                    && let Some(import) = self.rows.get_mut(&summary.import_job_id)
                {
                    let counts = &mut import.progress.counts;
                    counts.rows_imported += summary.rows_imported;
                    counts.rows_failed = counts.rows_failed.saturating_sub(summary.rows_imported);
                }
                // An undone fix's rows are back among its import's failed rows.
                if let JobSummary::Undo(summary) = summary {
                    if let Some(fix) = self.rows.get_mut(&summary.fix_job_id) {
                        fix.undone_by = Some(summary.job_id);
                    }
                    if let Some(import) = self.rows.get_mut(&summary.import_job_id) {
                        let counts = &mut import.progress.counts;
                        counts.rows_imported = counts.rows_imported.saturating_sub(summary.rows_removed);
                        counts.rows_failed += summary.rows_removed;
                    }
                }
            }
            EngineEvent::Failed { job_id, error } => {
                self.set_status(*job_id, JobStatus::Failed);
                if let Some(row) = self.rows.get_mut(job_id) {
                    row.error = Some(error.clone());
                }
            }
            EngineEvent::Cancelled { job_id } => self.set_status(*job_id, JobStatus::Cancelled),
            EngineEvent::Memory(_) => {}
        }
    }

    fn set_status(&mut self, job_id: i64, status: JobStatus) {
        if let Some(row) = self.rows.get_mut(&job_id) {
            row.status = status;
            if status.is_final() {
                row.finished_at_ms = Some(now_ms());
            }
        }
    }

    /// When each job started and ended, as far as known.
    pub fn time_spans(&self) -> impl DoubleEndedIterator<Item = (Option<i64>, Option<i64>)> + '_ {
        self.rows.values().map(|row| (row.started_at_ms, row.finished_at_ms))
    }

    pub fn row(&self, job_id: i64) -> Option<&JobRow> {
        self.rows.get(&job_id)
    }

    pub fn kind_of(&self, job_id: i64) -> Option<JobKind> {
        self.rows.get(&job_id).map(|row| row.kind)
    }

    pub fn active_count(&self) -> usize {
        self.rows.values().filter(|row| !row.status.is_final()).count()
    }

    pub fn ui(&mut self, ui: &mut Ui, cx: &mut ViewContext<'_>) {
        if self.rows.is_empty() {
            ui.label("No jobs yet. Import a file to start one.");
            return;
        }
        let Self { rows, card_heights } = self;
        egui::ScrollArea::vertical()
            .auto_shrink(false)
            .show_viewport(ui, |ui, viewport| {
                let origin = ui.max_rect().min;
                let width = ui.available_width();
                let mut top = 0.0;
                let mut moved = false;
                for row in rows.values().rev() {
                    let height = card_heights.get(&row.job_id).copied().unwrap_or(ESTIMATED_CARD_HEIGHT);
                    if top + height >= viewport.min.y && top <= viewport.max.y {
                        let rect = egui::Rect::from_min_size(origin + egui::vec2(0.0, top), egui::vec2(width, height));
                        let drawn = ui
                            .scope_builder(egui::UiBuilder::new().max_rect(rect).id_salt(row.job_id), |ui| {
                                egui::Frame::group(ui.style())
                                    .show(ui, |ui| {
                                        ui.set_width(ui.available_width());
                                        job_card_ui(ui, row, cx);
                                    })
                                    .response
                                    .rect
                                    .height()
                            })
                            .inner;
                        if (drawn - height).abs() > 0.5 {
                            card_heights.insert(row.job_id, drawn);
                            moved = true;
                        }
                    }
                    top += height + CARD_GAP;
                }
                ui.set_min_height(top);
                // A card that changed height moves the ones below it: place them again.
                if moved {
                    ui.ctx().request_repaint();
                }
            });
    }
}

impl JobRow {
    /// "Reading file 3 of 20: part_03.csv", while a job of several files runs.
    pub fn current_file(&self) -> Option<String> {
        let index = self.progress.counts.file_index? as usize;
        let name = self.files.get(index)?;
        Some(format!("Reading file {} of {}: {name}", index + 1, self.files.len()))
    }

    fn from_record(job: &JobRecord) -> Self {
        let status = job.status;
        let count = |value: i64| value.max(0) as u64;
        Self {
            job_id: job.job_id,
            kind: job.kind,
            source: job.source.clone().unwrap_or_default(),
            target: job.target.clone().unwrap_or_default(),
            files: Vec::new(),
            rows_updated: count(job.rows_updated),
            undone_by: job.undone_by,
            status,
            progress: JobProgress {
                counts: Progress {
                    rows_read: count(job.rows_read),
                    rows_skipped: count(job.rows_skipped),
                    rows_imported: count(job.rows_imported),
                    rows_failed: count(job.rows_failed),
                    rows_written: count(job.rows_written),
                    bytes_read: count(job.bytes_read),
                    bytes_total: job.bytes_total.map(count),
                    ..Progress::default()
                },
                ..JobProgress::default()
            },
            error: job.error.clone(),
            started_at_ms: job.started_at_ms,
            finished_at_ms: job.finished_at_ms,
        }
    }

    /// The plain statement of a finished job's totals, e.g. "4,950,000 imported · 50,000 failed".
    pub fn totals_text(&self) -> String {
        let counts = &self.progress.counts;
        sluice::engine::JobTotals {
            rows_read: counts.rows_read,
            rows_skipped: counts.rows_skipped,
            rows_imported: counts.rows_imported,
            rows_updated: self.rows_updated,
            rows_failed: counts.rows_failed,
            rows_written: counts.rows_written,
            files: None,
            undone_by: self.undone_by,
        }
        .describe(self.kind)
    }
}

fn job_card_ui(ui: &mut Ui, row: &JobRow, cx: &mut ViewContext<'_>) {
    let progress = &row.progress;
    ui.horizontal(|ui| {
        let kind = row.kind.title();
        ui.strong(format!("#{} {kind}", row.job_id));
        ui.label(format!("{} to {}", row.source, row.target));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if !row.status.is_final() && ui.button("Cancel").clicked() {
                cx.push(Command::Cancel(row.job_id));
            }
            let color = match row.status {
                JobStatus::Completed if progress.counts.rows_failed > 0 => Color32::from_rgb(230, 160, 0),
                JobStatus::Completed => Color32::from_rgb(60, 170, 90),
                JobStatus::Failed | JobStatus::Interrupted => Color32::from_rgb(220, 70, 60),
                _ => ui.visuals().text_color(),
            };
            ui.label(RichText::new(row.status.as_str()).color(color).strong());
        });
    });
    match row.status {
        JobStatus::Queued | JobStatus::Running => {
            let fraction = progress.fraction().unwrap_or(0.0);
            ui.add(egui::ProgressBar::new(fraction).show_percentage());
            if let Some(file) = row.current_file() {
                ui.label(file);
            }
            let eta = progress
                .eta_secs
                .map_or_else(|| "–".to_string(), |eta| format!("{eta:.0} s"));
            ui.label(format!(
                "{} read · {} imported · {} failed · {} rows/s · {}/s · {:.1} s elapsed · ETA {eta}",
                thousands(progress.counts.rows_read.max(progress.counts.rows_written)),
                thousands(progress.counts.rows_imported),
                thousands(progress.counts.rows_failed),
                thousands(progress.rows_per_sec as u64),
                megabytes(progress.bytes_per_sec as u64),
                progress.elapsed_secs,
            ));
        }
        JobStatus::Completed => {
            let text = RichText::new(row.totals_text()).size(15.0);
            if matches!(row.kind, JobKind::Retry | JobKind::Fix) {
                ui.horizontal(|ui| {
                    if progress.counts.rows_failed > 0 {
                        ui.label(text.color(Color32::from_rgb(230, 160, 0)).strong());
                    } else {
                        ui.label(text);
                    }
                    if row.undone_by.is_none()
                        && ui
                            .button("Undo")
                            .on_hover_text(
                                "Take this fix's rows back out of the table and return them to the failed rows",
                            )
                            .clicked()
                    {
                        cx.push(Command::Submit {
                            spec: Box::new(JobSpec::Undo(UndoFixRequest { fix_job_id: row.job_id })),
                            then: AfterSubmit::Notice(format!("Undoing job {}…", row.job_id)),
                        });
                    }
                });
            } else if progress.counts.rows_failed > 0 {
                ui.horizontal(|ui| {
                    ui.label(text.color(Color32::from_rgb(230, 160, 0)).strong());
                    if ui
                        .button(format!("Show {} failed rows", thousands(progress.counts.rows_failed)))
                        .clicked()
                    {
                        cx.push(Command::ShowFailedRows(row.job_id));
                    }
                });
            } else {
                ui.label(text);
            }
        }
        JobStatus::Failed | JobStatus::Cancelled | JobStatus::Interrupted => {
            if let Some(error) = &row.error {
                ui.label(RichText::new(error).color(Color32::from_rgb(220, 70, 60)));
            }
        }
    }
}
