//! The Failed rows view: one job's rejected rows in a table that lays out only the visible rows
//! and pages them from DuckDB on demand into a small cache, so it scrolls the same through a
//! hundred rows or a million. Pages are read by key: the summary brings the record number each
//! page starts at, and a page is "from its start to the next page's". Failing cells are marked,
//! with the reason on hover; rows can be fixed in place and retried.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};
use sluice::engine::JobSpec;
use sluice::import::{RetryRequest, RowEdit};
use sluice::store::{FailedGroup, FailedRowFilter, StoredFailedRow};

use super::command::{AfterSubmit, Command, Dialog, ViewContext};
use super::failed_groups::groups_ui;
use super::fix_editor::FixEditor;
use super::page_cache::PageCache;
use super::reads::{FailedAnswer, FailedRead, FailedSummary, LoadRequest, PAGE_ROWS, PageAnswer};
use crate::format::thousands;

/// Pages kept in memory at most; the least recently used goes first.
pub const MAX_CACHED_PAGES: usize = 16;

const FAILING_CELL: Color32 = Color32::from_rgb(130, 35, 35);

#[derive(Default)]
pub struct FailedView {
    pub job_id: Option<i64>,
    /// Bumped whenever what is shown is read again, so answers to older reads are dropped.
    generation: u64,
    filter: FailedRowFilter,
    search_text: String,
    total: Option<u64>,
    /// Why the summary could not be read, if it could not.
    summary_error: Option<String>,
    /// Where each page of the current generation starts (see [`FailedSummary::page_starts`]).
    page_starts: Arc<Vec<i64>>,
    kinds: Vec<(String, u64)>,
    problem_columns: Vec<(String, u64)>,
    groups: Vec<FailedGroup>,
    columns: Vec<String>,
    pages: PageCache<StoredFailedRow, MAX_CACHED_PAGES>,
    /// Rows ticked for retry, by record number (they stay ticked across pages and filters).
    selected: BTreeSet<i64>,
    /// Fields a person changed, by record number; kept until the row is retried.
    edits: BTreeMap<i64, Vec<String>>,
    /// The rule being built for the rows shown, and its preview.
    fix: FixEditor,
}

impl FailedView {
    /// Shows job `job_id` with `filter`; returns the first request to make.
    pub fn show_job(&mut self, job_id: i64, filter: FailedRowFilter) -> LoadRequest {
        let same_job = self.job_id == Some(job_id);
        let previous = std::mem::take(self);
        if !same_job {
            // Another job's preview would keep a reader busy for an answer no one reads.
            previous.fix.stop_preview();
        }
        *self = Self {
            job_id: Some(job_id),
            generation: previous.generation + 1,
            search_text: filter.search.clone().unwrap_or_default(),
            filter: filter.clone(),
            ..Self::default()
        };
        self.pages.restart(self.generation);
        if same_job {
            // Changing the filter keeps what the person was doing to this job's rows.
            self.selected = previous.selected;
            self.edits = previous.edits;
            self.kinds = previous.kinds;
            self.problem_columns = previous.problem_columns;
            self.groups = previous.groups;
            self.columns = previous.columns;
            self.fix = previous.fix;
        }
        self.fix.target(&filter);
        LoadRequest::Failed(FailedRead::Summary {
            job_id,
            filter: Box::new(filter),
            generation: self.generation,
        })
    }

    /// Takes an answer to one of the view's reads.
    pub fn loaded(&mut self, answer: FailedAnswer) {
        match answer {
            FailedAnswer::Summary { generation, result } => self.set_summary(generation, result),
            FailedAnswer::Page(page) => self.add_page(page),
            FailedAnswer::Preview {
                generation,
                rule,
                result,
            } => self.fix.preview_loaded(generation, *rule, result),
        }
    }

    /// Reads the job again (after a retry changed its failed set), keeping the filter.
    pub fn reload(&mut self) -> Option<LoadRequest> {
        let job_id = self.job_id?;
        Some(self.show_job(job_id, self.filter.clone()))
    }

    pub fn set_summary(&mut self, generation: u64, result: Result<FailedSummary, String>) {
        if generation != self.generation {
            return;
        }
        match result {
            Ok(summary) => {
                self.total = Some(summary.total);
                self.page_starts = summary.page_starts;
                self.kinds = summary.kinds;
                self.problem_columns = summary.problem_columns;
                self.groups = summary.groups;
                self.columns = summary.columns;
                self.summary_error = None;
            }
            Err(error) => self.summary_error = Some(error),
        }
    }

    /// Takes a page read's answer; a failed read is asked for again after a pause.
    pub fn add_page(&mut self, answer: PageAnswer<StoredFailedRow>) {
        self.pages.answer(answer);
    }

    /// Takes back a page request the loader had no room for, so the page is asked for again.
    pub fn given_back(&mut self, read: &FailedRead) {
        if let FailedRead::Page { generation, page, .. } = read {
            self.pages.give_back(*generation, *page);
        }
    }

    /// Requests for the pages in `wanted` not yet here nor on their way.
    fn ask_for_pages(&mut self, job_id: i64, wanted: &[u64], requests: &mut Vec<LoadRequest>) {
        for &page in wanted {
            // Rows past the last known start (the set grew since the summary) wait for the
            // next summary rather than being read from a guessed place.
            let Some(&start) = self.page_starts.get(page as usize) else {
                continue;
            };
            if self.pages.want(page, usize::MAX) {
                requests.push(LoadRequest::Failed(FailedRead::Page {
                    job_id,
                    filter: Box::new(self.filter.clone()),
                    page,
                    start,
                    next_start: self.page_starts.get(page as usize + 1).copied(),
                    generation: self.generation,
                }));
            }
        }
    }

    #[cfg(test)]
    pub fn cached_pages(&self) -> usize {
        self.pages.len()
    }

    /// Draws the view, and asks for the pages it needs.
    pub fn ui(&mut self, ui: &mut Ui, cx: &mut ViewContext<'_>) {
        let Some(job_id) = self.job_id else {
            ui.label("Choose a finished import with failed rows in Jobs.");
            return;
        };
        let Some(total) = self.total else {
            match &self.summary_error {
                Some(error) => {
                    ui.colored_label(
                        Color32::from_rgb(220, 70, 60),
                        format!("The failed rows of job {job_id} could not be read: {error}"),
                    );
                }
                None => {
                    ui.spinner();
                }
            }
            return;
        };
        ui.horizontal_wrapped(|ui| {
            ui.heading(format!("Job {job_id}: {} failed rows shown", thousands(total)));
            if ui.button("Export report…").clicked() {
                cx.open_dialog(Dialog::SaveReport(job_id));
            }
            let retry_label = format!("Retry selected ({})", self.selected.len());
            let retry = ui
                .add_enabled(!self.selected.is_empty(), egui::Button::new(retry_label))
                .on_hover_text("Validate the ticked rows again, with your edits, and import those that pass");
            if retry.clicked() {
                let retry = self.take_retry(job_id);
                let rows = retry.rows.len();
                cx.push(Command::Submit {
                    spec: Box::new(JobSpec::Retry(retry)),
                    then: AfterSubmit::Notice(format!("Retrying {rows} row{}…", if rows == 1 { "" } else { "s" })),
                });
            }
        });
        let mut requests = Vec::new();
        self.filters_ui(ui, job_id, &mut requests);
        self.fix.ui(ui, job_id, &self.filter, cx);
        if let Some(error) = self.pages.error() {
            ui.colored_label(
                Color32::from_rgb(220, 70, 60),
                format!("A page of rows could not be read ({error}); asking again"),
            );
        }
        ui.add_space(4.0);
        self.table_ui(ui, job_id, total, &mut requests);
        for request in requests {
            cx.load(request);
        }
    }

    /// The retry of every ticked row. The ticks go with it; the edits stay until the rows are
    /// read again, so a retry that fails loses nothing typed.
    fn take_retry(&mut self, job_id: i64) -> RetryRequest {
        let rows = std::mem::take(&mut self.selected)
            .into_iter()
            .map(|record_no| RowEdit {
                record_no,
                fields: self.edits.get(&record_no).cloned(),
            })
            .collect();
        RetryRequest {
            import_job_id: job_id,
            rows,
        }
    }

    fn filters_ui(&mut self, ui: &mut Ui, job_id: i64, requests: &mut Vec<LoadRequest>) {
        let mut wanted = None;
        let header_fields = (!self.columns.is_empty()).then_some(self.columns.len());
        if let Some(group) = groups_ui(ui, &self.groups, header_fields, self.filter.group.as_deref()) {
            wanted = Some(FailedRowFilter {
                group: group.map(Box::new),
                ..self.filter.clone()
            });
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("Kind:");
            if ui.selectable_label(self.filter.kind.is_none(), "all").clicked() && self.filter.kind.is_some() {
                wanted = Some(FailedRowFilter {
                    kind: None,
                    ..self.filter.clone()
                });
            }
            for (kind, count) in &self.kinds {
                let selected = self.filter.kind.as_deref() == Some(kind.as_str());
                if ui
                    .selectable_label(selected, format!("{kind} ({})", thousands(*count)))
                    .clicked()
                {
                    wanted = Some(FailedRowFilter {
                        kind: (!selected).then(|| kind.clone()),
                        ..self.filter.clone()
                    });
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            if !self.problem_columns.is_empty() {
                ui.label("Column:");
                let shown = match &self.filter.column {
                    Some(column) => column.clone(),
                    None => "any".into(),
                };
                egui::ComboBox::from_id_salt("failed-column")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        if ui.selectable_label(self.filter.column.is_none(), "any").clicked() {
                            wanted = Some(FailedRowFilter {
                                column: None,
                                ..self.filter.clone()
                            });
                        }
                        for (column, count) in &self.problem_columns {
                            let selected = self.filter.column.as_deref() == Some(column.as_str());
                            if ui
                                .selectable_label(selected, format!("{column} ({})", thousands(*count)))
                                .clicked()
                            {
                                wanted = Some(FailedRowFilter {
                                    column: Some(column.clone()),
                                    ..self.filter.clone()
                                });
                            }
                        }
                    });
            }
            ui.label("Search:");
            let search = ui
                .add(
                    egui::TextEdit::singleline(&mut self.search_text)
                        .hint_text("text in the raw line")
                        .desired_width(220.0),
                )
                .accessible_name("Search failed rows");
            let typed = self.search_text.trim().to_string();
            let current = self.filter.search.clone().unwrap_or_default();
            if search.changed() && typed != current {
                wanted = Some(FailedRowFilter {
                    search: (!typed.is_empty()).then_some(typed),
                    ..self.filter.clone()
                });
            }
        });
        if let Some(filter) = wanted {
            let search_text = self.search_text.clone();
            requests.push(self.show_job(job_id, filter));
            self.search_text = search_text;
        }
    }

    fn table_ui(&mut self, ui: &mut Ui, job_id: i64, total: u64, requests: &mut Vec<LoadRequest>) {
        // As many field columns as the widest row shown, within the report's bound: one line of
        // commas must not lay out millions of columns (its raw text has them all).
        let field_count = self
            .columns
            .len()
            .max(self.pages.rows().map(|row| row.fields.len()).max().unwrap_or(0))
            .min(self.columns.len() + sluice::store::MAX_EXTRA_COLUMNS);
        let mut wanted = Vec::new();
        let mut shown = Vec::new();
        let mut toggled = Vec::new();
        let mut started_editing = Vec::new();
        let mut undone = Vec::new();
        TableBuilder::new(ui)
            .id_salt(("failed", job_id))
            .striped(true)
            .column(Column::exact(24.0))
            .column(Column::auto().at_least(50.0))
            .column(Column::exact(54.0))
            .column(Column::initial(300.0).clip(true).resizable(true))
            .columns(Column::initial(110.0).clip(true).resizable(true), field_count)
            .header(20.0, |mut header| {
                header.col(|_| {});
                header.col(|ui| {
                    ui.strong("line");
                });
                header.col(|_| {});
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
                body.rows(22.0, total as usize, |mut row| {
                    let index = row.index() as u64;
                    let page = index / PAGE_ROWS;
                    let Some(stored) = self.pages.row(index, PAGE_ROWS) else {
                        wanted.push(page);
                        row.col(|ui| {
                            ui.label("…");
                        });
                        return;
                    };
                    shown.push(page);
                    let record_no = stored.record_no;
                    row.col(|ui| {
                        let mut ticked = self.selected.contains(&record_no);
                        let line = stored.line;
                        if ui
                            .checkbox(&mut ticked, "")
                            .accessible_name(format!("Select line {line} for retry"))
                            .changed()
                        {
                            toggled.push(record_no);
                        }
                    });
                    row.col(|ui| {
                        ui.label(stored.line.to_string());
                    });
                    let editing = self.edits.get_mut(&record_no);
                    row.col(|ui| {
                        if editing.is_some() {
                            if ui
                                .small_button("Undo")
                                .on_hover_text("Forget your edits of this row")
                                .clicked()
                            {
                                undone.push(record_no);
                            }
                        } else if ui
                            .small_button("Edit")
                            .on_hover_text(format!("Fix line {} in place", stored.line))
                            .clicked()
                        {
                            started_editing.push((record_no, stored.fields.clone(), field_count));
                        }
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
                    match editing {
                        Some(fields) => {
                            for (field, value) in fields.iter_mut().enumerate().take(field_count) {
                                let name = self.columns.get(field).cloned().unwrap_or_default();
                                let failing = stored.problems.iter().any(|p| p.field_index == Some(field as i64));
                                row.col(|ui| {
                                    let mut edit = egui::TextEdit::singleline(value).desired_width(f32::INFINITY);
                                    // The fields that failed stay marked while they are fixed.
                                    if failing {
                                        edit = edit.background_color(FAILING_CELL);
                                    }
                                    ui.add(edit).accessible_name(format!("line {} {name}", stored.line));
                                });
                            }
                        }
                        None => {
                            for field in 0..field_count {
                                let value = stored.fields.get(field).map(String::as_str).unwrap_or_default();
                                let problem = stored.problems.iter().find(|p| p.field_index == Some(field as i64));
                                row.col(|ui| match problem {
                                    // An empty failing cell still shows where the problem is.
                                    Some(problem) if value.is_empty() => {
                                        ui.label(RichText::new("(empty)").italics().background_color(FAILING_CELL))
                                            .on_hover_text(&problem.message);
                                    }
                                    Some(problem) => {
                                        ui.label(RichText::new(value).background_color(FAILING_CELL))
                                            .on_hover_text(&problem.message);
                                    }
                                    None => {
                                        ui.label(value);
                                    }
                                });
                            }
                        }
                    }
                });
            });
        for record_no in toggled {
            if !self.selected.remove(&record_no) {
                self.selected.insert(record_no);
            }
        }
        for (record_no, mut fields, width) in started_editing {
            // A row with too few fields gets empty ones to fill in; a long row keeps its extras.
            if fields.len() < width {
                fields.resize(width, String::new());
            }
            self.edits.insert(record_no, fields);
            self.selected.insert(record_no);
        }
        for record_no in undone {
            self.edits.remove(&record_no);
        }
        wanted.dedup();
        self.ask_for_pages(job_id, &wanted, requests);
        if let Some(pause) = self.pages.paused_for() {
            // Nothing else may wake the window when the pause ends.
            ui.ctx().request_repaint_after(pause);
        }
        // Pages drawn this frame are the most recently used; eviction takes the others first.
        shown.dedup();
        for page in shown {
            self.pages.touch(page);
        }
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn all() -> FailedRowFilter {
        FailedRowFilter::default()
    }

    #[test]
    fn the_page_cache_keeps_its_bound_while_scrolling_far() {
        let mut view = FailedView::default();
        let _ = view.show_job(1, all());
        for page in 0..(MAX_CACHED_PAGES as u64 * 5) {
            view.add_page(PageAnswer {
                generation: view.generation,
                page,
                result: Ok(Vec::new()),
            });
            assert!(view.cached_pages() <= MAX_CACHED_PAGES);
        }
        assert!(view.pages.contains(MAX_CACHED_PAGES as u64 * 5 - 1));
        assert!(!view.pages.contains(0));
    }

    #[test]
    fn a_page_in_use_outlives_newer_ones() {
        let mut view = FailedView::default();
        let _ = view.show_job(1, all());
        view.add_page(PageAnswer {
            generation: view.generation,
            page: 0,
            result: Ok(Vec::new()),
        });
        for page in 1..(MAX_CACHED_PAGES as u64 * 2) {
            view.pages.touch(0);
            view.add_page(PageAnswer {
                generation: view.generation,
                page,
                result: Ok(Vec::new()),
            });
        }
        assert!(view.pages.contains(0));
        assert_eq!(view.cached_pages(), MAX_CACHED_PAGES);
    }

    #[test]
    fn pages_read_before_the_view_was_read_again_are_ignored() {
        let mut view = FailedView::default();
        let _ = view.show_job(1, all());
        let before = view.generation;
        // A retry finished: the job is read again while a page of the old read is on its way.
        let _ = view.reload();
        view.add_page(PageAnswer {
            generation: before,
            page: 0,
            result: Ok(Vec::new()),
        });
        assert_eq!(view.cached_pages(), 0);
        view.add_page(PageAnswer {
            generation: view.generation,
            page: 0,
            result: Ok(Vec::new()),
        });
        assert_eq!(view.cached_pages(), 1);
    }

    #[test]
    fn a_retry_takes_the_ticked_rows_with_their_edits_and_keeps_filters_apart() {
        let mut view = FailedView::default();
        let _ = view.show_job(7, all());
        view.selected.extend([3, 9]);
        view.edits.insert(3, vec!["1".into(), "Ann".into(), String::new()]);
        view.edits.insert(4, vec!["x".into()]);
        let _ = view.show_job(
            7,
            FailedRowFilter {
                search: Some("ann".into()),
                ..all()
            },
        );
        let retry = view.take_retry(7);
        assert_eq!(retry.import_job_id, 7);
        assert_eq!(
            retry.rows,
            vec![
                RowEdit {
                    record_no: 3,
                    fields: Some(vec!["1".into(), "Ann".into(), String::new()])
                },
                RowEdit {
                    record_no: 9,
                    fields: None
                },
            ]
        );
        assert!(view.selected.is_empty());
        assert!(view.edits.contains_key(&3), "edits stay until the rows are read again");
        assert!(view.edits.contains_key(&4));
    }

    /// A view showing job 1 whose summary says there are `pages` pages, starting at records
    /// 10, 2010, 4010…
    fn view_with_pages(pages: u64) -> FailedView {
        let mut view = FailedView::default();
        let _ = view.show_job(1, all());
        let summary = FailedSummary {
            total: pages * PAGE_ROWS,
            page_starts: Arc::new((0..pages as i64).map(|page| 10 + page * 2000).collect()),
            kinds: Vec::new(),
            problem_columns: Vec::new(),
            groups: Vec::new(),
            columns: Vec::new(),
        };
        view.set_summary(view.generation, Ok(summary));
        view
    }

    fn asked(view: &mut FailedView, pages: &[u64]) -> Vec<(u64, i64, Option<i64>)> {
        let mut requests = Vec::new();
        view.ask_for_pages(1, pages, &mut requests);
        requests
            .into_iter()
            .map(|request| match request {
                LoadRequest::Failed(FailedRead::Page {
                    page,
                    start,
                    next_start,
                    ..
                }) => (page, start, next_start),
                other => panic!("expected a page, got {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_page_is_asked_for_from_its_start_to_the_next_pages_start() {
        let mut view = view_with_pages(3);
        assert_eq!(
            asked(&mut view, &[0, 2]),
            [(0, 10, Some(2010)), (2, 4010, None)],
            "the last page has no upper bound"
        );
        assert!(asked(&mut view, &[0, 2]).is_empty(), "already on their way");
        assert!(asked(&mut view, &[3]).is_empty(), "no page starts there");
    }

    #[test]
    fn a_page_the_loader_had_no_room_for_is_asked_for_again() {
        let mut view = view_with_pages(3);
        let (mut loader, _queue) = super::super::loader::Loader::unstarted(1);
        loader.request(LoadRequest::Jobs);
        let mut requests = Vec::new();
        view.ask_for_pages(1, &[1], &mut requests);
        for request in requests {
            if let Err(LoadRequest::Failed(back)) = loader.try_request(request) {
                view.given_back(&back);
            }
        }
        assert!(!view.pages.is_pending(1));
        assert_eq!(asked(&mut view, &[1]), [(1, 2010, Some(4010))]);
    }

    #[test]
    fn a_page_whose_read_failed_is_asked_for_again() {
        let mut view = view_with_pages(3);
        assert_eq!(asked(&mut view, &[1]).len(), 1);
        view.add_page(PageAnswer {
            generation: view.generation,
            page: 1,
            result: Err("the disk is gone".into()),
        });
        assert!(
            !view.pages.is_pending(1),
            "the failed read no longer counts as on its way"
        );
        assert_eq!(view.pages.error(), Some("the disk is gone"));
        view.pages.end_pause();
        assert_eq!(asked(&mut view, &[1]), [(1, 2010, Some(4010))]);
        view.add_page(PageAnswer {
            generation: view.generation,
            page: 1,
            result: Ok(Vec::new()),
        });
        assert_eq!(view.pages.error(), None);
    }

    #[test]
    fn a_summary_that_cannot_be_read_is_said_instead_of_waiting_for_good() {
        let mut view = FailedView::default();
        let _ = view.show_job(1, all());
        view.set_summary(view.generation - 1, Err("old".into()));
        assert_eq!(view.summary_error, None, "an answer to an older read is ignored");
        view.set_summary(view.generation, Err("no such job".into()));
        assert_eq!(view.summary_error.as_deref(), Some("no such job"));
    }
}
