//! Rules that fix failed rows by the thousand: each one plain data (serde) that the engine
//! applies to a row's fields, so the window and the command line only build them, a preview and
//! an apply run the same code, and a recipe can keep them for the next extract.
//!
//! A rule changes the fields a row was read into, never its raw text: the row can always be
//! traced back to the line the file wrote.

use regex::Regex;

use crate::import::plan::import_plan::ImportPlan;
use crate::import::sniff::value_formats::{ColumnFormat, ValueFormat};
use crate::import::write::read_as::{ReadInto, read_as};
use crate::records::ProblemKind;

/// How a rule changes the case of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    /// `ANNA`.
    Upper,
    /// `anna`.
    Lower,
    /// `Anna Maria`: each word's first letter upper case, the rest lower.
    Title,
}

/// One fix, applied to every row it targets, in order with the others.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum FixRule {
    /// In `column`, a value equal to `from` (any value when `None`) becomes `to`; an empty `to`
    /// is an empty field, which the import reads as it reads any empty field.
    SetValue {
        /// The column's name, as the file's header (or the failed rows' report) names it.
        column: String,
        /// The value replaced; every value when `None`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        /// The value put in its place.
        to: String,
    },
    /// In `column`, every match of the regular expression `pattern` is replaced by `with`, where
    /// `$1`, `${name}` are the pattern's groups.
    Replace {
        /// The column's name.
        column: String,
        /// A regular expression (Rust `regex` syntax).
        pattern: String,
        /// The replacement.
        with: String,
    },
    /// Spaces at both ends of `column`'s value are removed.
    Trim {
        /// The column's name.
        column: String,
    },
    /// Runs of white space inside `column`'s value become one space, and the ends are trimmed.
    CollapseSpaces {
        /// The column's name.
        column: String,
    },
    /// `column`'s value in another case.
    ChangeCase {
        /// The column's name.
        column: String,
        /// The case wanted.
        case: Case,
    },
    /// An empty `column` gets `value`.
    DefaultIfEmpty {
        /// The column's name.
        column: String,
        /// The value an empty field gets.
        value: String,
    },
    /// A row with too many fields: the field at `first` (counted from 0) and the one after it
    /// are joined with `delimiter`, as when an unquoted delimiter split one value in two.
    JoinFields {
        /// The first field joined, counted from 0.
        first: usize,
        /// What stood between them; the file's delimiter when `None`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delimiter: Option<String>,
    },
    /// In `column`, a value written in `written`'s format (a date format, a decimal comma or
    /// thousands separator, null markers) is read so and written again as the column reads its
    /// values: `31.12.2024` becomes `2024-12-31`, `1.234,5` becomes `1234.5`, a marker NULL.
    ReadAs {
        /// The column's name.
        column: String,
        /// How the value is written.
        #[serde(flatten)]
        written: ValueFormat,
    },
    /// A row with more fields than the header whose last field is empty: that field goes.
    DropEmptyLastField,
    /// A row with fewer fields than the header gets empty fields up to its width.
    PadFields,
}

impl FixRule {
    /// The rule in a few words, as a recipe's counts name it: `age: forty -> 40` (ASCII, so the
    /// window draws it with any font).
    pub fn describe(&self) -> String {
        // Quoted only where the value alone would not show what it is.
        let shown = |value: &str| match value.is_empty() || value.trim() != value {
            true => format!("\"{value}\""),
            false => value.to_string(),
        };
        match self {
            Self::SetValue {
                column,
                from: Some(from),
                to,
            } => format!("{column}: {} -> {}", shown(from), shown(to)),
            Self::SetValue { column, from: None, to } => format!("{column}: every value -> {}", shown(to)),
            Self::Replace { column, pattern, with } => format!("{column}: /{pattern}/ -> {}", shown(with)),
            Self::Trim { column } => format!("{column}: trim"),
            Self::CollapseSpaces { column } => format!("{column}: collapse spaces"),
            Self::ChangeCase { column, case } => format!(
                "{column}: {} case",
                match case {
                    Case::Upper => "upper",
                    Case::Lower => "lower",
                    Case::Title => "title",
                }
            ),
            Self::DefaultIfEmpty { column, value } => format!("{column}: empty -> {}", shown(value)),
            Self::ReadAs { column, written } => format!("{column}: read as {}", written.describe()),
            Self::JoinFields { first, .. } => format!("join fields {} and {}", first + 1, first + 2),
            Self::DropEmptyLastField => "drop an empty last field".to_string(),
            Self::PadFields => "pad short rows".to_string(),
        }
    }

    /// The kind of problem the rule is for, when it fixes a row's width: rows with too many
    /// fields are joined or lose an empty last field, rows with too few are padded.
    pub fn problem_kind(&self) -> Option<&'static str> {
        match self {
            Self::JoinFields { .. } | Self::DropEmptyLastField => Some(ProblemKind::TooManyFields.as_str()),
            Self::PadFields => Some(ProblemKind::TooFewFields.as_str()),
            _ => None,
        }
    }
}

/// Why a rule cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// A rule names a column the rows do not have.
    #[error("there is no column '{column}' in the failed rows (their columns: {columns})")]
    NoSuchColumn {
        /// The column named.
        column: String,
        /// The rows' columns, joined with commas.
        columns: String,
    },
    /// A replace rule's pattern is not a regular expression.
    #[error("'{pattern}' is not a regular expression: {reason}")]
    Pattern {
        /// The pattern given.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Rules ready to apply: each column named resolved to its field, each pattern compiled.
#[derive(Debug)]
pub struct CompiledRules {
    steps: Vec<Step>,
    /// Fields a row of the header's width has.
    width: usize,
    /// Empty fields a good row of the file has past its columns (a trailing delimiter): only
    /// a row wider still has too many fields.
    trailing: usize,
}

#[derive(Debug)]
enum Step {
    SetValue {
        field: usize,
        from: Option<String>,
        to: String,
    },
    Replace {
        field: usize,
        pattern: Regex,
        with: String,
    },
    Trim {
        field: usize,
    },
    CollapseSpaces {
        field: usize,
    },
    ChangeCase {
        field: usize,
        case: Case,
    },
    DefaultIfEmpty {
        field: usize,
        value: String,
    },
    JoinFields {
        first: usize,
        delimiter: String,
    },
    ReadAs {
        field: usize,
        // Boxed: a compiled format is many times the size of every other step.
        stated: Box<ColumnFormat>,
        /// The column the value goes into, once the plan is known ([`CompiledRules::reading_into`]).
        into: Option<ReadInto>,
    },
    DropEmptyLastField,
    PadFields,
}

impl CompiledRules {
    /// Resolves `rules` against the rows' `columns` (the import's header, in field order) and
    /// the file's `delimiter`.
    pub fn new(rules: &[FixRule], columns: &[String], delimiter: u8) -> Result<Self, RuleError> {
        let field = |column: &str| {
            columns
                .iter()
                .position(|name| name == column)
                .or_else(|| columns.iter().position(|name| name.eq_ignore_ascii_case(column)))
                .ok_or_else(|| RuleError::NoSuchColumn {
                    column: column.to_string(),
                    columns: columns.join(", "),
                })
        };
        let steps = rules
            .iter()
            .map(|rule| {
                Ok(match rule {
                    FixRule::SetValue { column, from, to } => Step::SetValue {
                        field: field(column)?,
                        from: from.clone(),
                        to: to.clone(),
                    },
                    FixRule::Replace { column, pattern, with } => Step::Replace {
                        field: field(column)?,
                        pattern: Regex::new(pattern).map_err(|error| RuleError::Pattern {
                            pattern: pattern.clone(),
                            reason: error.to_string(),
                        })?,
                        with: with.clone(),
                    },
                    FixRule::Trim { column } => Step::Trim { field: field(column)? },
                    FixRule::CollapseSpaces { column } => Step::CollapseSpaces { field: field(column)? },
                    FixRule::ChangeCase { column, case } => Step::ChangeCase {
                        field: field(column)?,
                        case: *case,
                    },
                    FixRule::DefaultIfEmpty { column, value } => Step::DefaultIfEmpty {
                        field: field(column)?,
                        value: value.clone(),
                    },
                    FixRule::JoinFields {
                        first,
                        delimiter: given,
                    } => Step::JoinFields {
                        first: *first,
                        delimiter: given.clone().unwrap_or_else(|| char::from(delimiter).to_string()),
                    },
                    FixRule::ReadAs { column, written } => Step::ReadAs {
                        field: field(column)?,
                        stated: Box::new(ColumnFormat::new(written)),
                        into: None,
                    },
                    FixRule::DropEmptyLastField => Step::DropEmptyLastField,
                    FixRule::PadFields => Step::PadFields,
                })
            })
            .collect::<Result<_, RuleError>>()?;
        Ok(Self {
            steps,
            width: columns.len(),
            trailing: 0,
        })
    }

    /// The rules reading values as they go into `plan`'s columns: a "read as" rule writes its
    /// value as the column of its field reads values. Until then, it changes nothing.
    pub fn reading_into(mut self, plan: &ImportPlan) -> Self {
        for step in &mut self.steps {
            if let Step::ReadAs { field, into, .. } = step {
                *into = plan
                    .columns
                    .iter()
                    .find(|column| column.field_index() == Some(*field))
                    .map(|column| ReadInto {
                        column_type: column.column_type,
                        format: column.format.value_format().clone(),
                    });
            }
        }
        self
    }

    /// The rules for records as a file's reader gives them, with `trailing` empty fields past the
    /// columns on every good row (a trailing delimiter). A failed row as stored has them dropped
    /// already, so a fix of stored rows leaves this at 0.
    pub fn with_trailing_fields(mut self, trailing: usize) -> Self {
        self.trailing = trailing;
        self
    }

    /// `fields` with every rule applied in order; a rule that does not apply to the row (a
    /// value other than the one replaced, a row already of the header's width) leaves it.
    pub fn apply(&self, fields: &[String]) -> Vec<String> {
        let mut fields = fields.to_vec();
        for step in &self.steps {
            apply_step(step, &mut fields, (self.width, self.trailing));
        }
        fields
    }
}

fn apply_step(step: &Step, fields: &mut Vec<String>, (width, trailing): (usize, usize)) {
    let mut change = |field: usize, change: &dyn Fn(&str) -> Option<String>| {
        if let Some(value) = fields.get_mut(field)
            && let Some(changed) = change(value)
        {
            *value = changed;
        }
    };
    match step {
        Step::SetValue { field, from, to } => change(*field, &|value| {
            from.as_deref().is_none_or(|from| from == value).then(|| to.clone())
        }),
        Step::Replace { field, pattern, with } => change(*field, &|value| {
            Some(pattern.replace_all(value, with.as_str()).into_owned())
        }),
        Step::Trim { field } => change(*field, &|value| Some(value.trim().to_string())),
        Step::CollapseSpaces { field } => change(*field, &|value| {
            Some(value.split_whitespace().collect::<Vec<_>>().join(" "))
        }),
        Step::ChangeCase { field, case } => change(*field, &|value| Some(in_case(value, *case))),
        Step::DefaultIfEmpty { field, value: default } => {
            change(*field, &|value| value.trim().is_empty().then(|| default.clone()))
        }
        Step::JoinFields { first, delimiter } => {
            if fields.len() > width + trailing && first + 1 < fields.len() {
                let second = fields.remove(first + 1);
                fields[*first] = format!("{}{delimiter}{second}", fields[*first]);
            }
        }
        Step::ReadAs {
            field,
            stated,
            into: Some(into),
        } => change(*field, &|value| read_as(value, stated, into)),
        Step::ReadAs { into: None, .. } => {}
        Step::DropEmptyLastField => {
            if fields.len() > width + trailing && fields.last().is_some_and(|last| last.trim().is_empty()) {
                fields.pop();
            }
        }
        Step::PadFields => {
            if fields.len() < width {
                fields.resize(width, String::new());
            }
        }
    }
}

fn in_case(value: &str, case: Case) -> String {
    match case {
        Case::Upper => value.to_uppercase(),
        Case::Lower => value.to_lowercase(),
        Case::Title => {
            let mut titled = String::with_capacity(value.len());
            let mut word_start = true;
            for character in value.chars() {
                if word_start {
                    titled.extend(character.to_uppercase());
                } else {
                    titled.extend(character.to_lowercase());
                }
                word_start = !character.is_alphanumeric();
            }
            titled
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<String> {
        ["id", "name", "age", "city"].map(String::from).to_vec()
    }

    fn fields(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    fn apply(rules: &[FixRule], row: &[&str]) -> Vec<String> {
        CompiledRules::new(rules, &columns(), b',').unwrap().apply(&fields(row))
    }

    #[test]
    fn a_value_is_set_only_where_it_is_the_one_replaced() {
        let rule = FixRule::SetValue {
            column: "age".into(),
            from: Some("forty".into()),
            to: "40".into(),
        };
        assert_eq!(
            apply(std::slice::from_ref(&rule), &["1", "Ann", "forty", "Oslo"]),
            ["1", "Ann", "40", "Oslo"]
        );
        assert_eq!(
            apply(std::slice::from_ref(&rule), &["2", "Bo", "Forty", "Oslo"]),
            ["2", "Bo", "Forty", "Oslo"]
        );
        // A row too short to have the field is left as it is.
        assert_eq!(apply(&[rule], &["3", "Cy"]), ["3", "Cy"]);
    }

    #[test]
    fn replace_uses_the_patterns_groups_and_rules_compose_in_order() {
        let rules = [
            FixRule::Trim { column: "age".into() },
            FixRule::Replace {
                column: "age".into(),
                pattern: r"^(\d+) years$".into(),
                with: "$1".into(),
            },
            FixRule::ChangeCase {
                column: "city".into(),
                case: Case::Title,
            },
            FixRule::CollapseSpaces { column: "name".into() },
        ];
        assert_eq!(
            apply(&rules, &["1", " Ann   Lee ", " 41 years ", "sAN josé"]),
            ["1", "Ann Lee", "41", "San José"]
        );
    }

    #[test]
    fn rows_of_the_wrong_width_are_joined_dropped_or_padded() {
        let join = FixRule::JoinFields {
            first: 1,
            delimiter: None,
        };
        assert_eq!(
            apply(std::slice::from_ref(&join), &["1", "Smith", " John", "40", "Oslo"]),
            ["1", "Smith, John", "40", "Oslo"]
        );
        // A row of the header's width is not joined.
        assert_eq!(apply(&[join], &["1", "Ann", "40", "Oslo"]), ["1", "Ann", "40", "Oslo"]);
        assert_eq!(
            apply(&[FixRule::DropEmptyLastField], &["1", "Ann", "40", "Oslo", " "]),
            ["1", "Ann", "40", "Oslo"]
        );
        assert_eq!(
            apply(&[FixRule::DropEmptyLastField], &["1", "Ann", "40", "Oslo", "x"]),
            ["1", "Ann", "40", "Oslo", "x"]
        );
        assert_eq!(apply(&[FixRule::PadFields], &["1", "Ann"]), ["1", "Ann", "", ""]);
    }

    #[test]
    fn an_empty_field_gets_its_default_and_an_empty_value_stays_apart_from_a_missing_one() {
        let rule = FixRule::DefaultIfEmpty {
            column: "city".into(),
            value: "unknown".into(),
        };
        assert_eq!(
            apply(std::slice::from_ref(&rule), &["1", "Ann", "40", ""]),
            ["1", "Ann", "40", "unknown"]
        );
        assert_eq!(apply(&[rule], &["1", "Ann", "40"]), ["1", "Ann", "40"]);
    }

    #[test]
    fn a_rule_on_an_unknown_column_or_a_bad_pattern_is_refused_with_its_reason() {
        let unknown = CompiledRules::new(&[FixRule::Trim { column: "zip".into() }], &columns(), b',');
        assert_eq!(
            unknown.map(|_| ()).map_err(|error| error.to_string()),
            Err("there is no column 'zip' in the failed rows (their columns: id, name, age, city)".into())
        );
        let bad = CompiledRules::new(
            &[FixRule::Replace {
                column: "age".into(),
                pattern: "(".into(),
                with: String::new(),
            }],
            &columns(),
            b',',
        );
        assert!(matches!(bad, Err(RuleError::Pattern { .. })));
    }

    #[test]
    fn rules_read_back_as_written() {
        let rules = vec![
            FixRule::SetValue {
                column: "age".into(),
                from: None,
                to: String::new(),
            },
            FixRule::JoinFields {
                first: 3,
                delimiter: Some(";".into()),
            },
            FixRule::PadFields,
        ];
        let json = serde_json::to_string(&rules).unwrap();
        assert_eq!(serde_json::from_str::<Vec<FixRule>>(&json).unwrap(), rules);
        assert!(json.contains(r#""rule":"set_value""#), "{json}");
    }
}
