//! What surrounds the views: the navigation bar, the notice and error banners, the status bar
//! and whether the settings window is open. Its state is the window's own, not any view's.

use std::path::PathBuf;

use egui::{RichText, Ui};

use super::View;
use super::command::{Command, ViewContext};
use super::frame_stats::FrameStats;
use super::status_bar::StatusBar;

pub struct Shell {
    pub status: StatusBar,
    pub settings_open: bool,
    /// The database open now, for people.
    pub database: String,
    pub frame_stats: FrameStats,
    /// The last error, until dismissed.
    error: Option<String>,
    /// The last notice, with a folder it offers to open (after an export).
    notice: Option<(String, Option<PathBuf>)>,
}

impl Shell {
    pub fn new(database: String) -> Self {
        Self {
            status: StatusBar::default(),
            settings_open: false,
            database,
            frame_stats: FrameStats::default(),
            error: None,
            notice: None,
        }
    }

    pub fn notice(&mut self, text: String, folder: Option<PathBuf>) {
        self.notice = Some((text, folder));
    }

    pub fn error(&mut self, error: String) {
        self.error = Some(error);
    }

    pub fn nav_ui(&mut self, ui: &mut Ui, shown: &mut View) {
        ui.horizontal(|ui| {
            ui.heading(RichText::new("Sluice").strong());
            ui.separator();
            for view in View::ALL {
                if ui.selectable_label(*shown == view, view.label()).clicked() {
                    *shown = view;
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.toggle_value(&mut self.settings_open, "Settings");
            });
        });
    }

    /// The status bar at the bottom, and the notice and error banners at the top.
    pub fn banners_ui(
        &mut self,
        ui: &mut Ui,
        cx: &mut ViewContext<'_>,
        active_jobs: usize,
        duckdb_limit: Option<&str>,
    ) {
        if ui.input(|input| input.key_pressed(egui::Key::Escape)) {
            self.error = None;
            self.notice = None;
        }
        let status = &self.status;
        let database = &self.database;
        egui::Panel::bottom("status").show(ui, |ui| status.ui(ui, database, active_jobs, duckdb_limit));
        if let Some((text, folder)) = self.notice.clone() {
            egui::Panel::top("notice").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(text);
                    if let Some(folder) = folder
                        && ui.small_button("Open folder").clicked()
                    {
                        cx.push(Command::OpenFolder(folder));
                    }
                    if ui.small_button("Dismiss (Esc)").clicked() {
                        self.notice = None;
                    }
                });
            });
        }
        if let Some(error) = self.error.clone() {
            egui::Panel::top("message").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.colored_label(egui::Color32::from_rgb(220, 70, 60), error);
                    if ui.small_button("Dismiss (Esc)").clicked() {
                        self.error = None;
                    }
                });
            });
        }
    }
}
