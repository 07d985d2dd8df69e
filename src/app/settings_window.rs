//! The settings window: the theme, batch size, database, workers and DuckDB memory limit, edited
//! in [`Settings`] through the same editors the Import and Memory views use.

use egui::{ThemePreference, Ui};

use super::command::{Dialog, ViewContext};
use super::settings::{DEFAULT_MEMORY_LIMIT, batch_rows_edit, workers_edit};

/// The settings window's body. `database_in_use` is the database open now.
pub fn settings_ui(ui: &mut Ui, cx: &mut ViewContext<'_>, database_in_use: &str) {
    let mut choose_database = false;
    let settings = &mut *cx.settings;
    egui::Grid::new("settings")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            ui.label("Theme");
            ui.horizontal(|ui| {
                for (theme, name) in [
                    (ThemePreference::System, "System"),
                    (ThemePreference::Dark, "Dark"),
                    (ThemePreference::Light, "Light"),
                ] {
                    if ui.selectable_value(&mut settings.theme, theme, name).changed() {
                        ui.ctx().set_theme(theme);
                    }
                }
            });
            ui.end_row();

            let label = ui.label("Batch rows");
            batch_rows_edit(ui, settings, label.id);
            ui.end_row();

            ui.label("Database");
            ui.vertical(|ui| {
                let shown = settings
                    .database
                    .as_ref()
                    .map_or_else(|| "the default database".to_string(), |path| path.display().to_string());
                ui.horizontal(|ui| {
                    ui.label(shown);
                    if ui.button("Choose…").clicked() {
                        choose_database = true;
                    }
                    if settings.database.is_some() && ui.button("Use default").clicked() {
                        settings.database = None;
                    }
                });
                ui.label(egui::RichText::new(format!("open now: {database_in_use}")).weak());
            });
            ui.end_row();

            let label = ui.label("Workers");
            workers_edit(ui, settings, label.id);
            ui.end_row();

            let label = ui.label("DuckDB memory limit");
            ui.add(
                egui::TextEdit::singleline(&mut settings.memory_limit)
                    .hint_text(format!("{DEFAULT_MEMORY_LIMIT} (default)"))
                    .desired_width(120.0),
            )
            .labelled_by(label.id)
            .on_hover_text("Such as 512MB or 2GB. DuckDB caches table blocks up to this limit.");
            ui.end_row();
        });
    ui.label(
        egui::RichText::new("Database, workers and memory limit take effect the next time Sluice starts; --db and SLUICE_DB come first.")
            .weak(),
    );
    if choose_database {
        cx.open_dialog(Dialog::ChooseDatabase);
    }
}
