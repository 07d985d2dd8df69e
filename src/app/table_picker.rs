//! The table picker Export and Browse share: user tables with their row counts.

use egui::Ui;
use sluice::store::TableInfo;

use crate::format::thousands;

/// A "Table" combo box over `tables` with `selected` shown; returns the table picked this frame.
/// `name` is the combo's accessible name.
pub fn table_picker(ui: &mut Ui, name: &str, tables: &[TableInfo], selected: Option<&str>) -> Option<String> {
    let mut picked = None;
    ui.horizontal(|ui| {
        ui.label("Table");
        egui::ComboBox::from_id_salt(name)
            .selected_text(selected.unwrap_or("choose a table"))
            .width(260.0)
            .show_ui(ui, |ui| {
                for table in tables {
                    let label = format!("{} ({} rows)", table.name, thousands(table.rows));
                    if ui
                        .selectable_label(selected == Some(table.name.as_str()), label)
                        .clicked()
                    {
                        picked = Some(table.name.clone());
                    }
                }
            })
            .response
            .accessible_name(name);
    });
    if tables.is_empty() {
        ui.label("There are no tables yet. Import a file first.");
    }
    picked
}
