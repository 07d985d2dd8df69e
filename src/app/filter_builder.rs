//! Filter fields, one row per condition: a column, the operators its type allows, and a value.
//! Export and Browse share it. Values are checked by the engine with DuckDB's own casts when the
//! preview or count is read; here only what can be told without the database is checked.

use egui::{Color32, RichText, Ui};
use sluice::export::{Filter, FilterOp};
use sluice::query::Column;
use sluice::sql_type::SqlType;

/// One condition as the person is editing it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilterRow {
    pub column: String,
    pub op: Option<FilterOp>,
    pub value: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilterBuilder {
    pub rows: Vec<FilterRow>,
}

impl FilterBuilder {
    /// The complete conditions, as the engine takes them. A row still missing its column,
    /// operator or value is left out (and says so beside it).
    pub fn filters(&self) -> Vec<Filter> {
        self.rows.iter().filter_map(FilterRow::to_filter).collect()
    }

    /// Forgets conditions on columns `columns` does not have (another table was picked).
    pub fn keep_columns(&mut self, columns: &[Column]) {
        self.rows
            .retain(|row| row.column.is_empty() || columns.iter().any(|column| column.name == row.column));
    }

    /// Draws the rows and an "Add filter" button; `id` keeps two builders apart.
    pub fn ui(&mut self, ui: &mut Ui, id: &str, columns: &[Column]) {
        let mut removed = None;
        for (index, row) in self.rows.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                let sql_type = columns
                    .iter()
                    .find(|column| column.name == row.column)
                    .map(|column| column.sql_type);
                egui::ComboBox::from_id_salt((id, "column", index))
                    .selected_text(if row.column.is_empty() { "column" } else { &row.column })
                    .width(150.0)
                    .show_ui(ui, |ui| {
                        for column in columns {
                            let label = format!("{}: {}", column.name, column.type_name);
                            ui.selectable_value(&mut row.column, column.name.clone(), label);
                        }
                    })
                    .response
                    .accessible_name(format!("filter {} column", index + 1));
                let allowed: Vec<FilterOp> = FilterOp::ALL
                    .into_iter()
                    .filter(|op| sql_type.is_none_or(|sql_type| op.applies_to(sql_type)))
                    .collect();
                if row.op.is_some_and(|op| !allowed.contains(&op)) {
                    row.op = None;
                }
                egui::ComboBox::from_id_salt((id, "op", index))
                    .selected_text(row.op.map_or("operator", |op| op_label(op)))
                    .width(110.0)
                    .show_ui(ui, |ui| {
                        for op in allowed {
                            ui.selectable_value(&mut row.op, Some(op), op_label(op));
                        }
                    })
                    .response
                    .accessible_name(format!("filter {} operator", index + 1));
                if row.op.is_none_or(|op| op.takes_value()) {
                    let hint = match row.op {
                        Some(FilterOp::In) => "a, b, c",
                        Some(FilterOp::Between) => "low, high",
                        _ => "value",
                    };
                    ui.add(
                        egui::TextEdit::singleline(&mut row.value)
                            .hint_text(hint)
                            .desired_width(160.0),
                    )
                    .accessible_name(format!("filter {} value", index + 1));
                }
                if let Some(problem) = row.problem(sql_type) {
                    ui.label(RichText::new(problem).color(Color32::from_rgb(220, 140, 40)));
                }
                if ui.small_button("✖").on_hover_text("Remove this condition").clicked() {
                    removed = Some(index);
                }
            });
        }
        if let Some(index) = removed {
            self.rows.remove(index);
        }
        if ui.button("Add filter").clicked() {
            self.rows.push(FilterRow::default());
        }
    }
}

impl FilterRow {
    fn to_filter(&self) -> Option<Filter> {
        let op = self.op?;
        if self.column.is_empty() || (op.takes_value() && self.value.trim().is_empty()) {
            return None;
        }
        Some(Filter {
            column: self.column.clone(),
            op,
            value: op.takes_value().then(|| self.value.trim().to_string()),
        })
    }

    /// What keeps this row from counting, as far as can be told without the database.
    fn problem(&self, sql_type: Option<SqlType>) -> Option<String> {
        if self.column.is_empty() {
            return Some("pick a column".into());
        }
        let op = match self.op {
            None => return Some("pick an operator".into()),
            Some(op) => op,
        };
        if op.takes_value() && self.value.trim().is_empty() {
            return Some("needs a value".into());
        }
        if op == FilterOp::Between && !self.value.contains(',') {
            return Some("write low, high".into());
        }
        let numeric = sql_type.is_some_and(|sql_type| sql_type.is_numeric());
        if numeric && op.takes_value() {
            let values: Vec<&str> = match op {
                FilterOp::In | FilterOp::Between => self.value.split(',').map(str::trim).collect(),
                _ => vec![self.value.trim()],
            };
            if let Some(bad) = values.iter().find(|value| value.parse::<f64>().is_err()) {
                return Some(format!("'{bad}' is not a number"));
            }
        }
        None
    }
}

pub fn op_label(op: FilterOp) -> &'static str {
    match op {
        FilterOp::Eq => "=",
        FilterOp::Ne => "≠",
        FilterOp::Lt => "<",
        FilterOp::Le => "≤",
        FilterOp::Gt => ">",
        FilterOp::Ge => "≥",
        FilterOp::Contains => "contains",
        FilterOp::StartsWith => "starts with",
        FilterOp::EndsWith => "ends with",
        FilterOp::IsNull => "is empty",
        FilterOp::NotNull => "is not empty",
        FilterOp::In => "is one of",
        FilterOp::Between => "between",
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn only_complete_rows_become_filters() {
        let builder = FilterBuilder {
            rows: vec![
                FilterRow {
                    column: "age".into(),
                    op: Some(FilterOp::Ge),
                    value: " 30 ".into(),
                },
                FilterRow {
                    column: "name".into(),
                    op: Some(FilterOp::Contains),
                    value: String::new(),
                },
                FilterRow {
                    column: "email".into(),
                    op: Some(FilterOp::IsNull),
                    value: "ignored".into(),
                },
            ],
        };
        assert_eq!(
            builder.filters(),
            vec![
                Filter {
                    column: "age".into(),
                    op: FilterOp::Ge,
                    value: Some("30".into())
                },
                Filter {
                    column: "email".into(),
                    op: FilterOp::IsNull,
                    value: None
                },
            ]
        );
    }

    #[test]
    fn numbers_are_checked_as_typed() {
        let row = FilterRow {
            column: "age".into(),
            op: Some(FilterOp::Between),
            value: "10, x".into(),
        };
        assert_eq!(
            row.problem(Some(SqlType::from_catalog("INTEGER"))),
            Some("'x' is not a number".into())
        );
        assert_eq!(row.problem(Some(SqlType::from_catalog("VARCHAR"))), None);
    }
}
