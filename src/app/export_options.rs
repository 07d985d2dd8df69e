//! The Export view's output options: how CSV is shaped for its reader, how a workbook splits,
//! how Parquet is compressed and partitioned, and the presets that fill them for the programs
//! people export to most. A preset only fills fields; every one stays editable afterwards.

use egui::{RichText, Ui};
use sluice::export::{
    CsvShape, LineEnding, ParquetCompression, ParquetOptions, Preset, PresetChoice, QuoteStyle, TextEncoding, XlsxSplit,
};

/// What the options part of the Export view holds.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportOptions {
    pub shape: CsvShape,
    pub xlsx_split: XlsxSplit,
    pub parquet: ParquetOptions,
    /// The last preset chosen, shown in its picker until a field is changed by hand.
    pub preset: Option<Preset>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            shape: CsvShape::default(),
            xlsx_split: XlsxSplit::Sheets,
            parquet: ParquetOptions::default(),
            preset: None,
        }
    }
}

impl ExportOptions {
    /// Fills the fields `preset` sets; returns the view's part of the choice.
    pub fn apply(&mut self, preset: Preset) -> PresetChoice {
        self.preset = Some(preset);
        let choice = preset.choice();
        if let Some(shape) = &choice.shape {
            self.shape = shape.clone();
        }
        if let Some(compression) = choice.parquet_compression {
            self.parquet.compression = compression;
        }
        choice
    }

    /// The preset picker; returns the preset chosen this frame.
    pub fn preset_ui(&mut self, ui: &mut Ui) -> Option<Preset> {
        let mut chosen = None;
        ui.horizontal(|ui| {
            ui.label("Preset");
            egui::ComboBox::from_id_salt("export-preset")
                .selected_text(self.preset.map_or("choose…", |preset| preset.label()))
                .show_ui(ui, |ui| {
                    for preset in Preset::ALL {
                        if ui
                            .selectable_label(self.preset == Some(preset), preset.label())
                            .clicked()
                        {
                            chosen = Some(preset);
                        }
                    }
                })
                .response
                .accessible_name("export preset");
            if let Some(preset) = self.preset {
                ui.label(RichText::new(preset.explanation()).weak());
            }
        });
        chosen
    }

    /// The CSV shape's fields. `delimiter` is the view's, for the decimal comma's warning.
    pub fn csv_ui(&mut self, ui: &mut Ui, delimiter: u8) {
        let before = self.shape.clone();
        let shape = &mut self.shape;
        ui.horizontal_wrapped(|ui| {
            egui::ComboBox::from_label("encoding")
                .selected_text(shape.encoding.label())
                .show_ui(ui, |ui| {
                    for encoding in TextEncoding::ALL {
                        ui.selectable_value(&mut shape.encoding, encoding, encoding.label());
                    }
                });
            if shape.encoding == TextEncoding::Windows1252 {
                ui.checkbox(&mut shape.replace_unencodable, "write characters it lacks as ?");
            }
            egui::ComboBox::from_label("line endings")
                .selected_text(shape.line_ending.label())
                .show_ui(ui, |ui| {
                    for ending in [LineEnding::Lf, LineEnding::CrLf] {
                        ui.selectable_value(&mut shape.line_ending, ending, ending.label());
                    }
                });
            egui::ComboBox::from_label("quotes")
                .selected_text(shape.quote.label())
                .show_ui(ui, |ui| {
                    for quote in QuoteStyle::ALL {
                        ui.selectable_value(&mut shape.quote, quote, quote.label());
                    }
                });
        });
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("NULL as");
            ui.add(
                egui::TextEdit::singleline(&mut shape.null_string)
                    .desired_width(50.0)
                    .hint_text("empty"),
            )
            .labelled_by(label.id);
            optional_text(ui, "date format", &mut shape.date_format, "%Y-%m-%d");
            optional_text(ui, "timestamp format", &mut shape.timestamp_format, "%Y-%m-%d %H:%M:%S");
            ui.checkbox(&mut shape.decimal_comma, "decimal comma");
        });
        if let Err(problem) = shape.check(delimiter) {
            ui.label(RichText::new(problem.to_string()).color(ui.visuals().warn_fg_color));
        }
        if self.shape != before {
            self.preset = None;
        }
    }

    pub fn xlsx_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Past 1,048,575 rows, go on in");
            ui.radio_value(&mut self.xlsx_split, XlsxSplit::Sheets, "further sheets");
            ui.radio_value(&mut self.xlsx_split, XlsxSplit::Files, "further files");
            ui.label(RichText::new("typed cells, bold frozen header, sized columns").weak());
        });
    }

    /// Parquet's fields; `columns` are the exported columns, the ones it can partition by.
    pub fn parquet_ui(&mut self, ui: &mut Ui, columns: &[String]) {
        let before = self.parquet.clone();
        let parquet = &mut self.parquet;
        ui.horizontal_wrapped(|ui| {
            egui::ComboBox::from_label("compression")
                .selected_text(parquet.compression.as_str())
                .show_ui(ui, |ui| {
                    for compression in ParquetCompression::ALL {
                        ui.selectable_value(&mut parquet.compression, compression, compression.as_str());
                    }
                });
            let mut own_size = parquet.row_group_rows.is_some();
            ui.checkbox(&mut own_size, "row group rows");
            match (own_size, parquet.row_group_rows) {
                (true, None) => parquet.row_group_rows = Some(sluice::store::ROW_GROUP_ROWS),
                (false, Some(_)) => parquet.row_group_rows = None,
                _ => {}
            }
            if let Some(rows) = parquet.row_group_rows.as_mut() {
                ui.add(egui::DragValue::new(rows).range(1..=100_000_000));
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("Partition by");
            for column in columns {
                let mut chosen = parquet.partition_by.contains(column);
                if ui.checkbox(&mut chosen, column).changed() {
                    if chosen {
                        parquet.partition_by.push(column.clone());
                    } else {
                        parquet.partition_by.retain(|name| name != column);
                    }
                }
            }
            if !parquet.partition_by.is_empty() {
                ui.label(RichText::new("writes a folder: col=value/data_0.parquet").weak());
            }
        });
        parquet.partition_by.retain(|name| columns.contains(name));
        if self.parquet != before {
            self.preset = None;
        }
    }
}

/// A text field for an optional value: empty means `None` (the default).
fn optional_text(ui: &mut Ui, name: &str, value: &mut Option<String>, hint: &str) {
    let label = ui.label(name);
    let mut text = value.clone().unwrap_or_default();
    let response = ui
        .add(
            egui::TextEdit::singleline(&mut text)
                .desired_width(120.0)
                .hint_text(hint),
        )
        .labelled_by(label.id);
    if response.changed() {
        *value = (!text.trim().is_empty()).then_some(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_preset_fills_what_its_reader_needs() {
        let mut options = ExportOptions::default();
        let choice = options.apply(Preset::ExcelWindows);
        assert_eq!(options.shape.encoding, TextEncoding::Utf8Bom);
        assert_eq!(options.shape.line_ending, LineEnding::CrLf);
        assert!(choice.formula_guard && !choice.is_parquet());
        let choice = options.apply(Preset::PostgresCopy);
        assert_eq!(options.shape.quote, QuoteStyle::All);
        assert_eq!(options.shape.null_string, "\\N");
        assert_eq!(
            options.shape.encoding,
            TextEncoding::Utf8,
            "a preset sets every CSV field"
        );
        assert!(!choice.formula_guard);
        let choice = options.apply(Preset::DataLake);
        assert!(choice.is_parquet());
        assert_eq!(options.parquet.compression, ParquetCompression::Zstd);
    }
}
