//! What the window shows when Sluice cannot start its engine (the database is locked by another
//! program, its folder cannot be created, the file is not a DuckDB database): the reason, in the
//! window the person opened, instead of a window that never appears.

use egui::{RichText, Ui};

pub struct StartupError {
    pub message: String,
}

impl eframe::App for StartupError {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.add_space(40.0);
            ui.vertical_centered(|ui| {
                ui.heading("Sluice could not open its database");
                ui.add_space(12.0);
                ui.label(RichText::new(&self.message).color(egui::Color32::from_rgb(220, 70, 60)));
                ui.add_space(12.0);
                ui.label("Close the other program using it, or start Sluice with --db PATH to use another database.");
                ui.add_space(12.0);
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
        });
    }
}

#[cfg(test)]
mod unit_tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::StartupError;

    #[test]
    fn the_reason_is_shown_in_the_window() {
        let message = "the database /tmp/x.duckdb is already open in another Sluice window or program".to_string();
        let harness = Harness::builder().build_eframe(move |_| StartupError {
            message: message.clone(),
        });
        assert!(harness.query_by_label_contains("already open in another").is_some());
        assert!(harness.query_by_label("Quit").is_some());
    }
}
