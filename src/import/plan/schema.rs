//! The schema file (`--schema`): target columns, their types and validation rules, as JSON.
//!
//! ```json
//! {"columns": [
//!   {"name": "id", "type": "BIGINT", "required": true, "unique": true},
//!   {"name": "email", "type": "VARCHAR", "pattern": "[^@]+@[^@]+"},
//!   {"name": "country", "type": "VARCHAR", "source": "Country Code", "one_of": ["DE", "FR"]}
//! ]}
//! ```
//! A column reads the CSV field whose header equals `source` (if given) or `name`; failing that,
//! the field at the column's position. The window's schema editor saves this same format.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::import::sniff::types::ColumnType;
use crate::import::sniff::value_formats::ValueFormat;

/// A whole schema file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaFile {
    /// The target columns, each with its type and rules.
    pub columns: Vec<ColumnSpec>,
}

/// One target column and its rules. All rules are optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnSpec {
    /// The target column's name.
    pub name: String,
    /// The target column's type (`type` in the file).
    #[serde(rename = "type")]
    pub column_type: ColumnType,
    /// The CSV header to read from, when it differs from `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Leave this CSV column out of the import.
    #[serde(default, skip_serializing_if = "is_false")]
    pub skip: bool,
    /// An empty value fails the row.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// A value may occur once in the file and, when appending, not already be in the table.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// A regular expression that the whole value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// The smallest value allowed, for a numeric column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The largest value allowed, for a numeric column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The fewest characters a value may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    /// The most characters a value may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// The only values allowed, matched exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<String>>,
    /// How the values are written (`format`, `decimal_separator`, `thousands`, `null_markers`,
    /// `checkmark`, beside the rules in the file): the parts stated override what is detected.
    #[serde(flatten)]
    pub written: ValueFormat,
    /// Whatever fields are left once every known one is taken: a misspelt rule, refused while
    /// reading (serde's `deny_unknown_fields` does not work beside a flattened field).
    #[serde(flatten, skip_serializing)]
    pub unknown_fields: NoUnknownFields,
}

/// The fields of a column left over once every known one is taken, which must be none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoUnknownFields;

impl<'de> Deserialize<'de> for NoUnknownFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let left: std::collections::BTreeMap<String, serde::de::IgnoredAny> = Deserialize::deserialize(deserializer)?;
        match left.keys().next() {
            None => Ok(Self),
            Some(field) => Err(serde::de::Error::custom(format_args!("unknown field `{field}`"))),
        }
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl ColumnSpec {
    /// A column with a type and no rules.
    pub fn new(name: impl Into<String>, column_type: ColumnType) -> Self {
        Self {
            name: name.into(),
            column_type,
            source: None,
            skip: false,
            required: false,
            unique: false,
            pattern: None,
            min: None,
            max: None,
            min_length: None,
            max_length: None,
            one_of: None,
            written: ValueFormat::default(),
            unknown_fields: NoUnknownFields,
        }
    }

    /// How this column's values are written: what the schema states, and for the rest what was
    /// detected in the file (`detected`, when the file's column was found to have this type).
    pub fn value_format(&self, detected: Option<&ValueFormat>) -> ValueFormat {
        // Each stated part overrides its own part of what was detected, and only that.
        self.written.or(detected.cloned().unwrap_or_default())
    }
}

/// Problems with a schema file, found before any row is read.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The schema file could not be read.
    #[error("cannot read schema file {path}: {source}")]
    Read {
        /// The schema file.
        path: String,
        /// The error reading it.
        source: std::io::Error,
    },
    /// The schema file is not valid JSON, or not a schema (an unknown field, a wrong type).
    #[error("schema file {path} is not valid: {source} (line {line}, column {column})", line = source.line(), column = source.column())]
    Json {
        /// The schema file.
        path: String,
        /// The parser's error, with the line and column it stopped at.
        source: serde_json::Error,
    },
    /// The schema has no column that is not skipped.
    #[error("the schema has no columns")]
    NoColumns,
    /// A column's pattern is not a valid regular expression.
    #[error("column '{column}': the pattern is not a valid regular expression: {source}")]
    Pattern {
        /// The column.
        column: String,
        /// What the regular expression parser found wrong with it.
        source: Box<regex::Error>,
    },
    /// A column that is not numeric has a `min` or `max` rule.
    #[error("column '{column}': {rule} applies only to numeric columns, not {column_type}")]
    RuleNeedsNumber {
        /// The column.
        column: String,
        /// The rule: `min` or `max`.
        rule: &'static str,
        /// The column's type.
        column_type: ColumnType,
    },
    /// A column's `min` is greater than its `max`, so no value could pass.
    #[error("column '{column}': min ({min}) is greater than max ({max})")]
    EmptyRange {
        /// The column.
        column: String,
        /// Its `min`.
        min: f64,
        /// Its `max`.
        max: f64,
    },
    /// Two columns have the same name, in any case.
    #[error("column '{column}' appears twice in the schema")]
    DuplicateColumn {
        /// The name, as the second of them writes it.
        column: String,
    },
    /// A column that is not skipped has an empty name.
    #[error("column '{column}': the name is empty")]
    EmptyName {
        /// Its `source`, to tell which column it is; empty when it has none.
        column: String,
    },
}

impl SchemaFile {
    /// Reads the schema file at `path` and checks it.
    pub fn load(path: &Path) -> Result<Self, SchemaError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
            path: display.clone(),
            source,
        })?;
        let schema: SchemaFile =
            serde_json::from_str(&text).map_err(|source| SchemaError::Json { path: display, source })?;
        schema.check()?;
        Ok(schema)
    }

    /// The schema as indented JSON, which `load` reads back.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks what can be checked without the file: names, patterns, ranges.
    pub fn check(&self) -> Result<(), SchemaError> {
        if self.columns.iter().all(|column| column.skip) {
            return Err(SchemaError::NoColumns);
        }
        let mut names = std::collections::HashSet::new();
        for column in self.columns.iter().filter(|column| !column.skip) {
            if column.name.trim().is_empty() {
                return Err(SchemaError::EmptyName {
                    column: column.source.clone().unwrap_or_default(),
                });
            }
            if !names.insert(column.name.to_lowercase()) {
                return Err(SchemaError::DuplicateColumn {
                    column: column.name.clone(),
                });
            }
            if let Some(pattern) = &column.pattern {
                compile_pattern(pattern).map_err(|source| SchemaError::Pattern {
                    column: column.name.clone(),
                    source: Box::new(source),
                })?;
            }
            for (rule, bound) in [("min", column.min), ("max", column.max)] {
                if bound.is_some() && !column.column_type.is_numeric() {
                    return Err(SchemaError::RuleNeedsNumber {
                        column: column.name.clone(),
                        rule,
                        column_type: column.column_type,
                    });
                }
            }
            if let (Some(min), Some(max)) = (column.min, column.max)
                && min > max
            {
                return Err(SchemaError::EmptyRange {
                    column: column.name.clone(),
                    min,
                    max,
                });
            }
        }
        Ok(())
    }
}

/// Compiles a rule's pattern so that it must match the whole value.
pub fn compile_pattern(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&format!("^(?:{pattern})$"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<SchemaFile, SchemaError> {
        let schema: SchemaFile = serde_json::from_str(json).map_err(|source| SchemaError::Json {
            path: "inline".into(),
            source,
        })?;
        schema.check()?;
        Ok(schema)
    }

    #[test]
    fn reads_columns_with_rules() {
        let schema = parse(
            r#"{"columns":[{"name":"id","type":"bigint","required":true,"unique":true},
               {"name":"price","type":"DECIMAL(10,2)","min":0},
               {"name":"code","type":"VARCHAR","one_of":["A","B"],"max_length":1}]}"#,
        )
        .unwrap();
        assert_eq!(schema.columns.len(), 3);
        assert!(schema.columns[0].unique);
        assert_eq!(schema.columns[1].min, Some(0.0));
        let again: SchemaFile = serde_json::from_str(&schema.to_json_pretty()).unwrap();
        assert_eq!(again, schema);
    }

    #[test]
    fn refuses_typos_bad_patterns_and_rules_that_do_not_fit() {
        assert!(matches!(
            parse(r#"{"columns":[{"name":"a","type":"BIGINT","requried":true}]}"#),
            Err(SchemaError::Json { .. })
        ));
        assert!(matches!(
            parse(r#"{"columns":[{"name":"a","type":"VARCHAR","pattern":"("}]}"#),
            Err(SchemaError::Pattern { .. })
        ));
        assert!(matches!(
            parse(r#"{"columns":[{"name":"a","type":"VARCHAR","min":1}]}"#),
            Err(SchemaError::RuleNeedsNumber { .. })
        ));
        assert!(matches!(
            parse(r#"{"columns":[{"name":"a","type":"BIGINT"},{"name":"A","type":"BIGINT"}]}"#),
            Err(SchemaError::DuplicateColumn { .. })
        ));
    }

    #[test]
    fn how_values_are_written_sits_beside_the_rules_and_states_only_what_it_names() {
        let schema = parse(
            r#"{"columns":[{"name":"amount","type":"DOUBLE","decimal_separator":",","thousands":".","min":0},
               {"name":"note","type":"VARCHAR","null_markers":[]},
               {"name":"day","type":"DATE","format":"%d.%m.%Y","null_markers":["n/a"]}]}"#,
        )
        .unwrap();
        let [amount, note, day] = &schema.columns[..] else {
            panic!("three columns")
        };
        assert_eq!(
            (amount.written.decimal_separator, amount.written.thousands),
            (Some(','), Some('.'))
        );
        assert_eq!(amount.min, Some(0.0));
        let detected = ValueFormat::with_null_markers(vec!["NA".into()]);
        assert_eq!(
            amount.value_format(Some(&detected)).null_markers(),
            ["NA"],
            "not stated: detected"
        );
        assert!(
            note.value_format(Some(&detected)).null_markers().is_empty(),
            "stated as none"
        );
        assert_eq!(day.value_format(Some(&detected)).null_markers(), ["n/a"]);
        assert_eq!(day.value_format(None).format.as_deref(), Some("%d.%m.%Y"));
        let again: SchemaFile = serde_json::from_str(&schema.to_json_pretty()).unwrap();
        assert_eq!(again, schema);
        let misspelt = parse(r#"{"columns":[{"name":"a","type":"DATE","fromat":"%d.%m.%Y"}]}"#).unwrap_err();
        assert!(misspelt.to_string().contains("unknown field `fromat`"), "{misspelt}");
    }

    #[test]
    fn patterns_match_whole_values() {
        let pattern = compile_pattern("[a-z]+").unwrap();
        assert!(pattern.is_match("abc"));
        assert!(!pattern.is_match("abc1"));
    }
}
