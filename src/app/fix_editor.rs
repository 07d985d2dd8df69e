//! The rule editor above the Failed rows table: one rule for the rows shown (the group or filter
//! chosen), previewed over every row it targets on a reader thread, then applied as a fix job
//! and, when asked, kept in a recipe. The engine applies, checks and words the rule; this only
//! builds it.

use egui::{Color32, RichText, Ui};
use sluice::engine::JobSpec;
use sluice::import::{Case, FixPreview, FixRequest, FixRule, ValueFormat};
use sluice::progress::CancelToken;
use sluice::records::ProblemKind;
use sluice::store::{FailedRowFilter, GroupKey};

use super::command::{AfterSubmit, Command, ViewContext};
use super::reads::{FailedRead, LoadRequest};

/// The rules a person can build here, as the menu lists them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum RuleChoice {
    #[default]
    SetValue,
    Replace,
    Trim,
    CollapseSpaces,
    ChangeCase,
    DefaultIfEmpty,
    ReadAs,
    JoinFields,
    DropEmptyLastField,
    PadFields,
}

impl RuleChoice {
    const ALL: [Self; 10] = [
        Self::SetValue,
        Self::Replace,
        Self::Trim,
        Self::CollapseSpaces,
        Self::ChangeCase,
        Self::DefaultIfEmpty,
        Self::ReadAs,
        Self::JoinFields,
        Self::DropEmptyLastField,
        Self::PadFields,
    ];

    fn label(&self) -> &'static str {
        match self {
            Self::SetValue => "Set a value",
            Self::Replace => "Find and replace",
            Self::Trim => "Trim spaces",
            Self::CollapseSpaces => "Collapse spaces",
            Self::ChangeCase => "Change case",
            Self::DefaultIfEmpty => "Default for empty",
            Self::ReadAs => "Read in a format",
            Self::JoinFields => "Join two fields",
            Self::DropEmptyLastField => "Drop an empty last field",
            Self::PadFields => "Pad short rows",
        }
    }

    fn has_column(&self) -> bool {
        !matches!(self, Self::JoinFields | Self::DropEmptyLastField | Self::PadFields)
    }
}

/// Where the preview of the rule stands.
#[derive(Default)]
enum PreviewState {
    #[default]
    NotRun,
    Running {
        generation: u64,
        cancel: CancelToken,
    },
    Ready {
        rule: FixRule,
        preview: FixPreview,
    },
    Failed(String),
}

/// What the person has typed into the editor, and its preview.
#[derive(Default)]
pub struct FixEditor {
    choice: RuleChoice,
    column: String,
    /// The value a "set" replaces; every value when empty.
    from: String,
    to: String,
    pattern: String,
    with: String,
    case_upper: bool,
    default_value: String,
    /// The first of the two fields joined, counted from 1 as people count.
    join_first: String,
    /// A "read in a format" rule's date format, separators and null marker.
    date_format: String,
    decimal_comma: bool,
    thousands: String,
    null_marker: String,
    recipe: String,
    keep_in_recipe: bool,
    preview: PreviewState,
    /// Bumped by each preview asked for, so an answer to an older one is dropped.
    generation: u64,
    /// Whether the editor is shown; choosing a group opens it with its rule ready.
    open: bool,
}

impl FixEditor {
    /// The rows shown changed to those of `filter`: the preview no longer holds, and a group's
    /// column, value or width says which rule fits.
    pub fn target(&mut self, filter: &FailedRowFilter) {
        self.stop_preview();
        self.preview = PreviewState::NotRun;
        self.open |= filter.group.is_some();
        let Some(group) = filter.group.as_deref() else {
            if let Some(column) = &filter.column {
                self.column = column.clone();
            }
            return;
        };
        if let Some(column) = &group.column {
            self.column = column.clone();
        }
        if group.kind == ProblemKind::TooManyFields.as_str() {
            self.choice = RuleChoice::JoinFields;
        } else if group.kind == ProblemKind::TooFewFields.as_str() {
            self.choice = RuleChoice::PadFields;
        } else if let GroupKey::Value(Some(value)) = &group.key {
            self.choice = RuleChoice::SetValue;
            self.from = value.clone();
        }
    }

    pub fn stop_preview(&self) {
        if let PreviewState::Running { cancel, .. } = &self.preview {
            cancel.cancel();
        }
    }

    /// The rule as typed; `None` while a field it needs is empty.
    fn rule(&self) -> Option<FixRule> {
        let column = self.column.trim().to_string();
        if self.choice.has_column() && column.is_empty() {
            return None;
        }
        Some(match self.choice {
            RuleChoice::SetValue => FixRule::SetValue {
                column,
                from: (!self.from.is_empty()).then(|| self.from.clone()),
                to: self.to.clone(),
            },
            RuleChoice::Replace if self.pattern.is_empty() => return None,
            RuleChoice::Replace => FixRule::Replace {
                column,
                pattern: self.pattern.clone(),
                with: self.with.clone(),
            },
            RuleChoice::Trim => FixRule::Trim { column },
            RuleChoice::CollapseSpaces => FixRule::CollapseSpaces { column },
            RuleChoice::ChangeCase => FixRule::ChangeCase {
                column,
                case: if self.case_upper { Case::Upper } else { Case::Lower },
            },
            RuleChoice::DefaultIfEmpty => FixRule::DefaultIfEmpty {
                column,
                value: self.default_value.clone(),
            },
            RuleChoice::ReadAs => {
                let written = ValueFormat {
                    format: Some(self.date_format.trim().to_string()).filter(|format| !format.is_empty()),
                    decimal_separator: self.decimal_comma.then_some(','),
                    thousands: self.thousands.trim().chars().next(),
                    null_markers: Some(vec![self.null_marker.trim().to_string()])
                        .filter(|_| !self.null_marker.trim().is_empty()),
                    ..ValueFormat::default()
                };
                if written.is_default() {
                    return None;
                }
                FixRule::ReadAs { column, written }
            }
            RuleChoice::JoinFields => FixRule::JoinFields {
                first: self
                    .join_first
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|first| *first >= 1)?
                    - 1,
                delimiter: None,
            },
            RuleChoice::DropEmptyLastField => FixRule::DropEmptyLastField,
            RuleChoice::PadFields => FixRule::PadFields,
        })
    }

    /// Takes a preview's answer.
    pub fn preview_loaded(&mut self, generation: u64, rule: FixRule, result: Result<FixPreview, String>) {
        if !matches!(&self.preview, PreviewState::Running { generation: running, .. } if *running == generation) {
            return;
        }
        self.preview = match result {
            Ok(preview) => PreviewState::Ready { rule, preview },
            Err(error) => PreviewState::Failed(error),
        };
    }

    /// Draws the editor for the rows of job `job_id` that `filter` shows.
    pub fn ui(&mut self, ui: &mut Ui, job_id: i64, filter: &FailedRowFilter, cx: &mut ViewContext<'_>) {
        if ui
            .selectable_label(self.open, "Fix these rows with a rule")
            .on_hover_text("Build one rule for the rows shown, preview it over all of them, and apply it")
            .clicked()
        {
            self.open = !self.open;
        }
        if !self.open {
            return;
        }
        ui.group(|ui| {
            self.rule_ui(ui);
            let rule = self.rule();
            self.actions_ui(ui, job_id, filter, rule, cx);
            self.preview_ui(ui);
        });
    }

    fn rule_ui(&mut self, ui: &mut Ui) {
        let before = (self.choice, self.rule());
        ui.horizontal_wrapped(|ui| {
            egui::ComboBox::from_id_salt("fix-rule")
                .selected_text(self.choice.label())
                .show_ui(ui, |ui| {
                    for choice in RuleChoice::ALL {
                        ui.selectable_value(&mut self.choice, choice, choice.label());
                    }
                });
            if self.choice.has_column() {
                ui.label("in");
                text(ui, &mut self.column, "column", 110.0);
            }
            match self.choice {
                RuleChoice::SetValue => {
                    ui.label("where it is");
                    text(ui, &mut self.from, "value replaced (any when empty)", 160.0);
                    ui.label("to");
                    text(ui, &mut self.to, "new value", 110.0);
                }
                RuleChoice::Replace => {
                    text(ui, &mut self.pattern, "regular expression", 160.0);
                    ui.label("with");
                    text(ui, &mut self.with, "replacement ($1 for a group)", 160.0);
                }
                RuleChoice::ChangeCase => {
                    ui.radio_value(&mut self.case_upper, true, "UPPER");
                    ui.radio_value(&mut self.case_upper, false, "lower");
                }
                RuleChoice::DefaultIfEmpty => {
                    text(ui, &mut self.default_value, "value for an empty field", 160.0);
                }
                RuleChoice::ReadAs => {
                    text(ui, &mut self.date_format, "date format, such as %d.%m.%Y", 170.0);
                    ui.checkbox(&mut self.decimal_comma, "decimal comma");
                    text(ui, &mut self.thousands, "thousands separator", 120.0);
                    text(ui, &mut self.null_marker, "null marker", 90.0);
                }
                RuleChoice::JoinFields => {
                    ui.label("field");
                    text(ui, &mut self.join_first, "number, from 1", 80.0);
                    ui.label("and the one after it");
                }
                _ => {}
            }
        });
        if before != (self.choice, self.rule()) {
            self.stop_preview();
            self.preview = PreviewState::NotRun;
        }
    }

    fn actions_ui(
        &mut self,
        ui: &mut Ui,
        job_id: i64,
        filter: &FailedRowFilter,
        rule: Option<FixRule>,
        cx: &mut ViewContext<'_>,
    ) {
        ui.horizontal_wrapped(|ui| {
            let running = matches!(self.preview, PreviewState::Running { .. });
            let preview = ui
                .add_enabled(rule.is_some() && !running, egui::Button::new("Preview over every row"))
                .on_hover_text("Run the rule over every row it targets, changing nothing");
            if let (true, Some(rule)) = (preview.clicked(), &rule) {
                self.generation += 1;
                let cancel = CancelToken::new();
                self.preview = PreviewState::Running {
                    generation: self.generation,
                    cancel: cancel.clone(),
                };
                cx.load(LoadRequest::Failed(FailedRead::PreviewFix {
                    job_id,
                    filter: Box::new(filter.clone()),
                    rule: Box::new(rule.clone()),
                    generation: self.generation,
                    cancel,
                }));
            }
            if running {
                ui.spinner();
                if ui.button("Cancel preview").clicked() {
                    self.stop_preview();
                    self.preview = PreviewState::NotRun;
                }
            }
            let previewed =
                matches!(&self.preview, PreviewState::Ready { rule: shown, .. } if Some(shown) == rule.as_ref());
            ui.checkbox(&mut self.keep_in_recipe, "Keep in recipe");
            if self.keep_in_recipe {
                text(ui, &mut self.recipe, "recipe name", 120.0);
            }
            let recipe_ready = !self.keep_in_recipe || !self.recipe.trim().is_empty();
            let apply = ui
                .add_enabled(previewed && recipe_ready, egui::Button::new("Apply fix"))
                .on_hover_text("Apply the previewed rule as one job; it can be undone from Jobs");
            if let (true, Some(rule)) = (apply.clicked(), rule) {
                if self.keep_in_recipe {
                    cx.load(LoadRequest::Failed(FailedRead::KeepInRecipe {
                        recipe: self.recipe.trim().to_string(),
                        rule: Box::new(rule.clone()),
                    }));
                }
                cx.push(Command::Submit {
                    spec: Box::new(JobSpec::Fix(FixRequest {
                        import_job_id: job_id,
                        filter: filter.clone(),
                        rules: vec![rule],
                    })),
                    then: AfterSubmit::Notice(format!("Fixing the failed rows of job {job_id}…")),
                });
                self.preview = PreviewState::NotRun;
            }
        });
    }

    fn preview_ui(&self, ui: &mut Ui) {
        match &self.preview {
            PreviewState::NotRun | PreviewState::Running { .. } => {}
            PreviewState::Failed(error) => {
                ui.colored_label(Color32::from_rgb(220, 70, 60), format!("The preview failed: {error}"));
            }
            PreviewState::Ready { preview, .. } => {
                ui.label(RichText::new(preview.describe()).strong());
                // The first rows before and after, in a strip of their own: the table stays in view.
                egui::ScrollArea::vertical()
                    .id_salt("fix-preview-rows")
                    .max_height(160.0)
                    .show(ui, |ui| examples_ui(ui, preview));
            }
        }
    }
}

fn examples_ui(ui: &mut Ui, preview: &FixPreview) {
    egui::Grid::new("fix-preview").striped(true).show(ui, |ui| {
        for example in &preview.examples {
            ui.label(format!("line {}", example.line));
            ui.label(example.before.join(", "));
            ui.label("->");
            ui.label(example.after.join(", "));
            match example.problems.as_slice() {
                [] => ui.colored_label(Color32::from_rgb(60, 170, 90), "passes"),
                problems => ui.colored_label(Color32::from_rgb(230, 160, 0), problems.join("; ")),
            };
            ui.end_row();
        }
    });
}

fn text(ui: &mut Ui, value: &mut String, hint: &str, width: f32) {
    ui.add(egui::TextEdit::singleline(value).hint_text(hint).desired_width(width))
        .accessible_name(hint.to_string());
}
