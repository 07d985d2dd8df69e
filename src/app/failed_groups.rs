//! The "What is wrong" list above the Failed rows table: the job's failed rows grouped by column,
//! kind of problem and value (worded by the engine), each group a click that filters the table to
//! its rows. Apart from the view so the table's code stays about the table.

use egui::Ui;
use sluice::store::{FailedGroup, GroupFilter};

/// Groups listed before the rest are folded under "more".
const GROUPS_SHOWN: usize = 12;

/// Lists `groups`, the one `current` filters by marked; returns the filter a click asks for
/// (`Some(None)` when the marked group is clicked again, to show every row).
pub fn groups_ui(
    ui: &mut Ui,
    groups: &[FailedGroup],
    header_fields: Option<usize>,
    current: Option<&GroupFilter>,
) -> Option<Option<GroupFilter>> {
    if groups.is_empty() {
        return None;
    }
    let mut wanted = None;
    let mut group_label = |ui: &mut Ui, group: &FailedGroup| {
        let filter = group.filter();
        let selected = current == Some(&filter);
        let label = ui
            .selectable_label(selected, group.describe(header_fields))
            .on_hover_text("Show only these rows; click again to show all");
        if label.clicked() {
            wanted = Some((!selected).then_some(filter));
        }
    };
    ui.horizontal_wrapped(|ui| {
        ui.label("What is wrong:");
        for group in groups.iter().take(GROUPS_SHOWN) {
            group_label(ui, group);
        }
    });
    if groups.len() > GROUPS_SHOWN {
        egui::CollapsingHeader::new(format!("{} more groups", groups.len() - GROUPS_SHOWN))
            .id_salt("failed-groups-more")
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    for group in &groups[GROUPS_SHOWN..] {
                        group_label(ui, group);
                    }
                });
            });
    }
    wanted
}
