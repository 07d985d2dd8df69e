//! The Failed rows view: one job's rejected rows in a table that lays out only the visible rows
//! and pages them from DuckDB on demand into a small cache, so it scrolls the same through a
//! hundred rows or a million. Failing cells are marked, with the reason on hover.

use std::collections::{BTreeMap, HashSet, VecDeque};

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};
use sluice::store::StoredFailedRow;

use super::loader::{LoadRequest, PAGE_ROWS};
use crate::format::thousands;

/// Pages kept in memory at most; the least recently used goes first.
pub const MAX_CACHED_PAGES: usize = 16;

#[derive(Default)]
pub struct FailedView {
    pub job_id: Option<i64>,
    kind: Option<String>,
    total: Option<u64>,
    kinds: Vec<(String, u64)>,
    columns: Vec<String>,
    pages: BTreeMap<u64, Vec<StoredFailedRow>>,
    recent: VecDeque<u64>,
    pending: HashSet<u64>,
}

impl FailedView {
    /// Shows job `job_id`, filtered to problems of `kind`; returns the first request to make.
    pub fn show_job(&mut self, job_id: i64, kind: Option<String>) -> LoadRequest {
        *self = Self {
            job_id: Some(job_id),
            kind: kind.clone(),
            ..Self::default()
        };
        LoadRequest::FailedSummary { job_id, kind }
    }

    pub fn set_summary(
        &mut self,
        job_id: i64,
        kind: Option<String>,
        total: u64,
        kinds: Vec<(String, u64)>,
        columns: Vec<String>,
    ) {
        if self.job_id == Some(job_id) && self.kind == kind {
            self.total = Some(total);
            self.kinds = kinds;
            self.columns = columns;
        }
    }

    pub fn add_page(&mut self, job_id: i64, kind: Option<String>, page: u64, rows: Vec<StoredFailedRow>) {
        if self.job_id != Some(job_id) || self.kind != kind {
            return;
        }
        self.pending.remove(&page);
        self.pages.insert(page, rows);
        self.touch(page);
        while self.pages.len() > MAX_CACHED_PAGES {
            let Some(oldest) = self.recent.pop_front() else { break };
            self.pages.remove(&oldest);
        }
    }

    #[cfg(test)]
    pub fn cached_pages(&self) -> usize {
        self.pages.len()
    }

    fn touch(&mut self, page: u64) {
        self.recent.retain(|p| *p != page);
        self.recent.push_back(page);
    }

    /// Draws the view; returns a job id when the user asked to export its error report.
    pub fn ui(&mut self, ui: &mut Ui, requests: &mut Vec<LoadRequest>) -> Option<i64> {
        let Some(job_id) = self.job_id else {
            ui.label("Choose a finished import with failed rows in Jobs.");
            return None;
        };
        let Some(total) = self.total else {
            ui.spinner();
            return None;
        };
        let mut export_report = None;
        ui.horizontal_wrapped(|ui| {
            ui.heading(format!("Job {job_id}: {} failed rows", thousands(total)));
            if ui.button("Export report…").clicked() {
                export_report = Some(job_id);
            }
            let all_selected = self.kind.is_none();
            if ui.selectable_label(all_selected, "all").clicked() && !all_selected {
                requests.push(self.show_job(job_id, None));
            }
            for (kind, count) in self.kinds.clone() {
                let selected = self.kind.as_deref() == Some(kind.as_str());
                if ui
                    .selectable_label(selected, format!("{kind} ({})", thousands(count)))
                    .clicked()
                    && !selected
                {
                    requests.push(self.show_job(job_id, Some(kind)));
                }
            }
        });
        let field_count = self.columns.len().max(
            self.pages
                .values()
                .flatten()
                .map(|row| row.fields.len())
                .max()
                .unwrap_or(0),
        );
        let mut wanted = Vec::new();
        let mut shown = Vec::new();
        TableBuilder::new(ui)
            .id_salt(("failed", job_id))
            .striped(true)
            .column(Column::auto().at_least(50.0))
            .column(Column::initial(320.0).clip(true).resizable(true))
            .columns(Column::initial(110.0).clip(true).resizable(true), field_count)
            .header(20.0, |mut header| {
                header.col(|ui| {
                    ui.strong("line");
                });
                header.col(|ui| {
                    ui.strong("problems");
                });
                for index in 0..field_count {
                    header.col(|ui| {
                        ui.strong(
                            self.columns
                                .get(index)
                                .cloned()
                                .unwrap_or_else(|| format!("field {}", index + 1)),
                        );
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, total as usize, |mut row| {
                    let index = row.index() as u64;
                    let page = index / PAGE_ROWS;
                    let Some(stored) = self
                        .pages
                        .get(&page)
                        .and_then(|rows| rows.get((index % PAGE_ROWS) as usize))
                    else {
                        wanted.push(page);
                        row.col(|ui| {
                            ui.label("…");
                        });
                        return;
                    };
                    shown.push(page);
                    row.col(|ui| {
                        ui.label(stored.line.to_string());
                    });
                    row.col(|ui| {
                        let all: Vec<String> = stored
                            .problems
                            .iter()
                            .map(|p| match &p.column {
                                Some(column) => format!("{column}: {}", p.message),
                                None => p.message.clone(),
                            })
                            .collect();
                        ui.label(all.join("; "))
                            .on_hover_text(format!("{}\n\nraw: {}", all.join("\n"), stored.raw));
                    });
                    for field in 0..field_count {
                        let value = stored.fields.get(field).map(String::as_str).unwrap_or_default();
                        let problem = stored.problems.iter().find(|p| p.field_index == Some(field as i64));
                        row.col(|ui| match problem {
                            Some(problem) => {
                                ui.label(RichText::new(value).background_color(Color32::from_rgb(130, 35, 35)))
                                    .on_hover_text(&problem.message);
                            }
                            None => {
                                ui.label(value);
                            }
                        });
                    }
                });
            });
        for page in wanted {
            if self.pending.insert(page) {
                requests.push(LoadRequest::FailedPage {
                    job_id,
                    kind: self.kind.clone(),
                    page,
                });
            }
        }
        // Pages drawn this frame are the most recently used; eviction takes the others first.
        shown.dedup();
        for page in shown {
            self.touch(page);
        }
        export_report
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn the_page_cache_keeps_its_bound_while_scrolling_far() {
        let mut view = FailedView::default();
        let _ = view.show_job(1, None);
        for page in 0..(MAX_CACHED_PAGES as u64 * 5) {
            view.add_page(1, None, page, Vec::new());
            assert!(view.cached_pages() <= MAX_CACHED_PAGES);
        }
        assert!(view.pages.contains_key(&(MAX_CACHED_PAGES as u64 * 5 - 1)));
        assert!(!view.pages.contains_key(&0));
    }

    #[test]
    fn a_page_in_use_outlives_newer_ones() {
        let mut view = FailedView::default();
        let _ = view.show_job(1, None);
        view.add_page(1, None, 0, Vec::new());
        for page in 1..(MAX_CACHED_PAGES as u64 * 2) {
            view.touch(0);
            view.add_page(1, None, page, Vec::new());
        }
        assert!(view.pages.contains_key(&0));
        assert_eq!(view.cached_pages(), MAX_CACHED_PAGES);
    }
}
