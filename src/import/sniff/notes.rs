//! What a sniff result tells a person about how the file will be read: what was done to the
//! header, fields that are no column, and a warning when the layout read leaves many records
//! failing. Worded once here, so the command line and the window say the same.

use crate::import::sniff::layout::{LayoutScore, OtherTable};
use crate::import::sniff::sniffer::Sniffed;

impl Sniffed {
    /// Sentences on how the table was found in the file, one per thing done to it.
    pub fn reading_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(repair) = &self.header_repair {
            notes.push(format!("Header: {repair}."));
        }
        if self.layout.trailing_delimiter {
            notes.push("Every row ends with a delimiter; its empty last field is not a column.".to_string());
        }
        if self.layout.unnamed_empty_columns > 0 {
            let count = self.layout.unnamed_empty_columns;
            notes.push(format!(
                "{count} more field{} at the end of each row {} no name and no value in any sampled row: left out.",
                if count == 1 { "" } else { "s" },
                if count == 1 { "has" } else { "have" },
            ));
        }
        if self.layout.header_lines > 1 {
            notes.push(format!(
                "The header spans {} lines; they are joined into one name per column.",
                self.layout.header_lines
            ));
        }
        if let Some(rows) = self.layout.table_rows {
            notes.push(format!(
                "The table ends after {rows} row{}: the records under them are skipped as below the table.",
                if rows == 1 { "" } else { "s" }
            ));
        }
        notes
    }

    /// Each other table in the sample (tables stacked in one file), in words, with the table:
    /// its [`OtherTable::options`] and `skip`/`rows_to_read` read it instead.
    pub fn other_table_notes(&self) -> Vec<(String, &OtherTable)> {
        self.layout_choice
            .other_tables
            .iter()
            .map(|table| {
                let rows = match table.rows_to_read {
                    Some(rows) => format!("{rows} row{}", if rows == 1 { "" } else { "s" }),
                    None => format!("{} sampled rows", crate::format::thousands(table.rows as u64)),
                };
                let place = match table.beside {
                    Some(columns) => format!("beside this one, columns {columns}"),
                    None => format!("lines {}-{}", table.first_line, table.last_line),
                };
                (
                    format!("Not data: another table, {place} ({} columns, {rows}).", table.columns),
                    table,
                )
            })
            .collect()
    }

    /// When the layout read leaves more than one sampled record in ten failing: that, and the
    /// next best layout, which a person may choose instead.
    pub fn layout_warning(&self) -> Option<(String, &LayoutScore)> {
        let chosen = self.layout_choice.chosen.as_ref()?;
        let runner_up = self.layout_choice.runner_up.as_ref()?;
        if !chosen.leaves_many_failing() {
            return None;
        }
        Some((
            format!(
                "Only {} of {} sampled records fit this reading of the file ({}). The next best reading ({}) \
                 fits {} of {}.",
                chosen.accepted,
                chosen.judged,
                chosen.describe(),
                runner_up.describe(),
                runner_up.accepted,
                runner_up.judged
            ),
            runner_up,
        ))
    }
}
