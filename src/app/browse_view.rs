//! The Browse view: any table, of any size, in a table that lays out only the visible rows.
//! Pages come from the engine's keyset pagination on the query reader thread into a small LRU
//! cache, so memory stays the same whether the table has a thousand rows or ten million. A page
//! whose read failed, or that the reader had no room for, is asked for again.

use std::sync::Arc;

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};
use sluice::browse::{BrowseQuery, BrowseRow, PageIndex};
use sluice::export::OrderBy;
use sluice::store::TableInfo;

use super::command::{Command, ViewContext};
use super::filter_builder::FilterBuilder;
use super::page_cache::PageCache;
use super::reads::{BROWSE_PAGE_ROWS, BrowseAnswer, BrowseRead, LoadRequest, PageAnswer};
use super::table_picker::table_picker;
use crate::format::thousands;

/// Pages kept in memory at most; the least recently used goes first.
pub const MAX_CACHED_PAGES: usize = 12;
/// Page reads in flight at most: when scrolling fast, pages that have scrolled past are not
/// asked for at all.
const MAX_PENDING_PAGES: usize = 3;

#[derive(Default)]
pub struct BrowseView {
    tables: Vec<TableInfo>,
    table: Option<String>,
    pub filters: FilterBuilder,
    sort: Option<OrderBy>,
    /// The latest query asked for, and its generation.
    queried: Option<BrowseQuery>,
    generation: u64,
    /// The index shown: the previous one stays on screen, with its pages (which know the
    /// generation they answer), until the next arrives.
    index: Option<Result<Arc<PageIndex>, String>>,
    pages: PageCache<BrowseRow, MAX_CACHED_PAGES>,
    scroll_to_row: Option<usize>,
}

impl BrowseView {
    pub fn set_tables(&mut self, tables: Vec<TableInfo>) {
        self.tables = tables;
        // A job may have changed a table: read the index again.
        self.queried = None;
    }

    pub fn select_table(&mut self, name: &str) {
        if let Some(table) = self.tables.iter().find(|table| table.name == name) {
            self.table = Some(table.name.clone());
            self.filters.keep_columns(&table.columns.clone());
            self.sort = None;
            self.queried = None;
        }
    }

    /// A new index request when the table, filters or sort changed.
    pub fn index_request(&mut self) -> Option<LoadRequest> {
        let table = self.table.clone()?;
        let query = BrowseQuery {
            table,
            filters: self.filters.filters(),
            sort: self.sort.clone(),
        };
        if self.queried.as_ref() == Some(&query) {
            return None;
        }
        self.generation += 1;
        self.queried = Some(query.clone());
        Some(LoadRequest::Browse(BrowseRead::Index {
            generation: self.generation,
            query,
        }))
    }

    /// Takes an answer to one of the view's reads.
    pub fn loaded(&mut self, answer: BrowseAnswer) {
        match answer {
            BrowseAnswer::Index { generation, result } => self.set_index(generation, result),
            BrowseAnswer::Page(page) => self.add_page(page),
        }
    }

    pub fn set_index(&mut self, generation: u64, result: Result<Arc<PageIndex>, String>) {
        if generation == self.generation {
            self.index = Some(result);
            self.pages.restart(generation);
        }
    }

    /// Takes a page read's answer; a failed read is asked for again after a pause.
    pub fn add_page(&mut self, answer: PageAnswer<BrowseRow>) {
        self.pages.answer(answer);
    }

    /// Takes back a request the reader had no room for, so it is made again.
    pub fn given_back(&mut self, read: &BrowseRead) {
        match read {
            BrowseRead::Index { generation, .. } if *generation == self.generation => self.queried = None,
            BrowseRead::Page { generation, page, .. } => self.pages.give_back(*generation, *page),
            BrowseRead::Index { .. } => {}
        }
    }

    /// Pages in the cache now (for tests of its bound).
    #[cfg(test)]
    pub fn cached_pages(&self) -> Vec<u64> {
        self.pages.page_numbers()
    }

    pub fn ui(&mut self, ui: &mut Ui, cx: &mut ViewContext<'_>) {
        if let Some(name) = table_picker(ui, "browse table", &self.tables, self.table.as_deref()) {
            self.select_table(&name);
        }
        let Some(table) = self
            .tables
            .iter()
            .find(|table| Some(&table.name) == self.table.as_ref())
            .cloned()
        else {
            return;
        };
        self.filters.ui(ui, "browse", &table.columns);
        if let Some(request) = self.index_request() {
            cx.load(request);
        }
        let index = match &self.index {
            Some(Ok(index)) if index.query.table == table.name => index.clone(),
            Some(Err(error)) => {
                ui.label(RichText::new(error).color(egui::Color32::from_rgb(220, 70, 60)));
                return;
            }
            _ => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Indexing pages…");
                });
                return;
            }
        };
        let total = index.rows_matching;
        ui.horizontal(|ui| {
            ui.strong(format!("{} matching rows", thousands(total)));
            if self.queried.as_ref() != Some(&index.query) {
                ui.spinner();
            }
            if ui.button("Top").clicked() {
                self.scroll_to_row = Some(0);
            }
            if ui.button("Bottom").clicked() {
                self.scroll_to_row = Some(total.saturating_sub(1) as usize);
            }
            ui.label(RichText::new("click a header to sort · double-click a cell to copy it").weak());
        });
        if let Some(error) = self.pages.error() {
            ui.label(
                RichText::new(format!("A page could not be read ({error}); asking again"))
                    .color(egui::Color32::from_rgb(220, 70, 60)),
            );
        }
        self.table_ui(ui, &index, cx);
    }

    fn table_ui(&mut self, ui: &mut Ui, index: &Arc<PageIndex>, cx: &mut ViewContext<'_>) {
        let mut wanted = Vec::new();
        let mut shown = Vec::new();
        let mut sort_clicked = None;
        // Jumps go straight to the rows asked for: an animated scroll would fetch every page on the way.
        let mut builder = TableBuilder::new(ui)
            .id_salt(("browse", &index.query.table))
            .animate_scrolling(false)
            .striped(true)
            .column(Column::auto().at_least(60.0))
            .columns(Column::initial(130.0).clip(true).resizable(true), index.columns.len());
        if let Some(row) = self.scroll_to_row.take() {
            builder = builder.scroll_to_row(row, Some(egui::Align::Center));
        }
        builder
            .header(22.0, |mut header| {
                header.col(|ui| {
                    ui.strong("#");
                });
                for column in &index.columns {
                    let (name, data_type) = (&column.name, &column.type_name);
                    header.col(|ui| {
                        let arrow = match &self.sort {
                            Some(order) if &order.column == name => {
                                if order.descending {
                                    " (desc)"
                                } else {
                                    " (asc)"
                                }
                            }
                            _ => "",
                        };
                        if ui
                            .button(RichText::new(format!("{name}{arrow}")).strong())
                            .on_hover_text(format!("{data_type} · click to sort"))
                            .clicked()
                        {
                            sort_clicked = Some(name.clone());
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(18.0, index.rows_matching as usize, |mut row| {
                    let position = row.index() as u64;
                    let page = position / BROWSE_PAGE_ROWS;
                    let Some(stored) = self.pages.row(position, BROWSE_PAGE_ROWS) else {
                        wanted.push(page);
                        row.col(|ui| {
                            ui.label(RichText::new("…").weak());
                        });
                        return;
                    };
                    shown.push(page);
                    row.col(|ui| {
                        ui.label(RichText::new(thousands(position + 1)).weak());
                    });
                    for value in &stored.values {
                        row.col(|ui| {
                            let label = match value {
                                Some(text) => ui.add(egui::Label::new(text.as_str()).sense(egui::Sense::click())),
                                None => ui.add(
                                    egui::Label::new(RichText::new("NULL").weak().italics())
                                        .sense(egui::Sense::click()),
                                ),
                            };
                            if label.double_clicked() {
                                let text = value.clone().unwrap_or_default();
                                ui.ctx().copy_text(text.clone());
                                cx.push(Command::Notice {
                                    text: format!("Copied “{}”", ellipsize(&text, 60)),
                                    folder: None,
                                });
                            }
                        });
                    }
                });
            });
        if let Some(column) = sort_clicked {
            // The new index is asked for at the next frame; make sure there is one.
            ui.ctx().request_repaint();
            // Ascending, then descending, then table order.
            self.sort = match self.sort.take() {
                Some(order) if order.column == column && !order.descending => Some(OrderBy {
                    column,
                    descending: true,
                }),
                Some(order) if order.column == column => None,
                _ => Some(OrderBy {
                    column,
                    descending: false,
                }),
            };
        }
        wanted.dedup();
        for page in wanted {
            if self.pages.want(page, MAX_PENDING_PAGES) {
                cx.load(LoadRequest::Browse(BrowseRead::Page {
                    generation: self.pages.generation(),
                    index: index.clone(),
                    page,
                }));
            }
        }
        if let Some(pause) = self.pages.paused_for() {
            // Nothing else may wake the window when the pause ends.
            ui.ctx().request_repaint_after(pause);
        }
        shown.dedup();
        for page in shown {
            self.pages.touch(page);
        }
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

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn the_page_cache_keeps_its_bound_and_drops_pages_of_an_old_query() {
        let mut view = BrowseView::default();
        view.set_tables(vec![TableInfo {
            name: "t".into(),
            columns: vec![sluice::query::Column::from_catalog("id", "BIGINT")],
            rows: 1_000_000,
        }]);
        view.select_table("t");
        assert!(view.index_request().is_some());
        assert!(view.index_request().is_none(), "the same query is not asked for twice");
        view.set_index(view.generation, Err("not needed here".into()));
        for page in 0..100 {
            view.add_page(PageAnswer {
                generation: view.generation,
                page,
                result: Ok(Vec::new()),
            });
            assert!(view.pages.len() <= MAX_CACHED_PAGES);
        }
        view.add_page(PageAnswer {
            generation: view.generation - 1,
            page: 500,
            result: Ok(Vec::new()),
        });
        assert!(!view.pages.contains(500));
    }

    #[test]
    fn a_request_given_back_or_a_failed_page_is_asked_for_again() {
        let mut view = BrowseView::default();
        view.set_tables(vec![TableInfo {
            name: "t".into(),
            columns: vec![sluice::query::Column::from_catalog("id", "BIGINT")],
            rows: 10,
        }]);
        view.select_table("t");
        let Some(LoadRequest::Browse(index)) = view.index_request() else {
            panic!("a new table is indexed");
        };
        view.given_back(&index);
        assert!(view.index_request().is_some(), "the index is asked for again");

        view.set_index(view.generation, Err("not needed here".into()));
        assert!(view.pages.want(2, MAX_PENDING_PAGES));
        view.add_page(PageAnswer {
            generation: view.generation,
            page: 2,
            result: Err("gone".into()),
        });
        assert!(!view.pages.is_pending(2));
        assert_eq!(view.pages.error(), Some("gone"));
        view.pages.end_pause();
        assert!(view.pages.want(2, MAX_PENDING_PAGES), "asked for again");
    }
}
