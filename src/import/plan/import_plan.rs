//! Deciding, before any row is read, which CSV field feeds which target column, with which type and
//! rules. Every mismatch between file, schema and an existing table is found here and refused with
//! a message naming the columns, so an import never fails half-way for a reason known up front.

use regex::Regex;

use crate::import::plan::schema::{ColumnSpec, SchemaError, SchemaFile, compile_pattern};
use crate::import::read::record_reader::Record;
use crate::import::sniff::file_layout::FileLayout;
use crate::import::sniff::types::ColumnType;
use crate::import::sniff::value_formats::{ColumnFormat, ValueFormat};
use crate::records::{Column, ExistingTable};

/// The validation rules of one column, compiled.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    pub required: bool,
    /// The column is (part of) an upsert's key: an empty value fails the row as `required`,
    /// saying it is the key that is missing.
    pub key: bool,
    pub unique: bool,
    pub pattern: Option<Regex>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub one_of: Option<Vec<String>>,
}

impl Rules {
    /// The rules a schema column asks for, compiled.
    pub fn from_spec(spec: &ColumnSpec) -> Result<Self, SchemaError> {
        let pattern = spec
            .pattern
            .as_deref()
            .map(compile_pattern)
            .transpose()
            .map_err(|source| SchemaError::Pattern {
                column: spec.name.clone(),
                source: Box::new(source),
            })?;
        Ok(Self {
            required: spec.required,
            key: false,
            unique: spec.unique,
            pattern,
            min: spec.min,
            max: spec.max,
            min_length: spec.min_length,
            max_length: spec.max_length,
            one_of: spec.one_of.clone(),
        })
    }
}

/// Where a target column's values come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldSource {
    /// The record's field at this index.
    Field(usize),
    /// Nothing: the file has no such column (one of several files of an import), so NULL.
    Absent,
    /// The name of the file the record came from (`--source-column`).
    FileName(std::sync::Arc<str>),
}

impl FieldSource {
    /// The value's text in `record`: empty for a field the row is too short to have, `None`
    /// for a field that is not valid UTF-8.
    pub fn text<'a>(&'a self, record: &'a Record<'_>) -> Option<&'a str> {
        match self {
            Self::Field(index) if *index >= record.len() => Some(""),
            Self::Field(index) => record.field_str(*index),
            Self::Absent => Some(""),
            Self::FileName(name) => Some(name),
        }
    }
}

/// One target column and where its values come from.
#[derive(Clone, Debug)]
pub struct ColumnPlan {
    pub name: String,
    pub column_type: ColumnType,
    pub source: FieldSource,
    pub rules: Rules,
    /// How its values are written (dates, separators, null markers).
    pub format: ColumnFormat,
}

impl ColumnPlan {
    /// The index of the record's field that feeds this column, when one does.
    pub fn field_index(&self) -> Option<usize> {
        match self.source {
            FieldSource::Field(index) => Some(index),
            FieldSource::Absent | FieldSource::FileName(_) => None,
        }
    }
}

/// Everything the row pipeline needs to know.
#[derive(Clone, Debug)]
pub struct ImportPlan {
    /// How the file is read: its dialect, encoding, header, comment lines and columns.
    pub layout: FileLayout,
    /// The target columns in order, each with where its values come from, its type and its rules.
    pub columns: Vec<ColumnPlan>,
    /// A row with fewer fields than the header gets NULL for the missing ones instead of failing
    /// (only when the person asks for it).
    pub pad_missing: bool,
    /// Null markers the person gave (`--null-marker`): written in quotes, one is the text, as
    /// PostgreSQL reads its COPY `NULL` string; a detected marker in quotes is the text only
    /// where the record quotes no more than it needs.
    pub stated_null_markers: Vec<String>,
}

impl ImportPlan {
    /// Fields a well-formed record has.
    pub fn field_count(&self) -> usize {
        self.layout.columns.len()
    }

    /// Names of the file's columns, for messages about fields no target column reads.
    pub fn source_columns(&self) -> &[String] {
        &self.layout.columns
    }
}

/// Why a file's fields cannot be planned into the target's columns.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The schema is not valid.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A schema column finds no header of its name and no field at its position.
    #[error(
        "schema column '{column}' matches no header of the file (headers: {headers}) and there is no field at its position"
    )]
    MissingSource {
        /// The schema column.
        column: String,
        /// The file's column names, joined with commas.
        headers: String,
    },
    /// Columns of the file match none of the existing table's.
    #[error(
        "the file's columns {columns} are not in table '{table}' (its columns: {table_columns}); map them with a schema or add them to the table with --add-columns"
    )]
    UnmatchedColumns {
        /// The file's columns the table lacks, joined with commas.
        columns: String,
        /// The table.
        table: String,
        /// The table's columns, joined with commas.
        table_columns: String,
    },
    /// A schema column names no column of the existing table.
    #[error("column '{column}' is not in table '{table}'")]
    NotInTable {
        /// The schema column's name.
        column: String,
        /// The table.
        table: String,
    },
    /// A column of the existing table has a type Sluice does not import into.
    #[error("column '{column}' of table '{table}' has type {data_type}, which Sluice cannot import into")]
    UnsupportedType {
        /// The column.
        column: String,
        /// The table.
        table: String,
        /// The column's type as the database names it.
        data_type: String,
    },
    /// A schema column's type differs from the table column's.
    #[error("column '{column}' is {table_type} in table '{table}' but {schema_type} in the schema")]
    TypeMismatch {
        /// The column, as the table names it.
        column: String,
        /// The table.
        table: String,
        /// Its type in the table.
        table_type: ColumnType,
        /// Its type in the schema.
        schema_type: ColumnType,
    },
}

/// What a schema column the file lacks means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingColumns {
    /// An error, unless the file has no header and a field at the column's position.
    Refuse,
    /// NULL in this file: one of several files, matched by name, where a file may lack a column
    /// the others have (a required column is still refused).
    Null,
}

/// Plans an import of the file read by `layout` from an optional schema into an optional existing table.
pub fn plan_import(
    layout: &FileLayout,
    schema: Option<&SchemaFile>,
    existing: Option<&ExistingTable>,
) -> Result<ImportPlan, PlanError> {
    plan_part(layout, schema, existing, MissingColumns::Refuse)
}

/// [`plan_import`] for one file of several, where a schema column the file lacks may be NULL.
pub fn plan_part(
    layout: &FileLayout,
    schema: Option<&SchemaFile>,
    existing: Option<&ExistingTable>,
    missing: MissingColumns,
) -> Result<ImportPlan, PlanError> {
    let columns = match (schema, existing) {
        (Some(schema), _) => plan_from_schema(layout, schema, existing, missing)?,
        (None, Some(table)) => plan_into_table(layout, table, missing)?,
        (None, None) => layout
            .columns
            .iter()
            .zip(&layout.column_types)
            .enumerate()
            .map(|(index, (name, column_type))| ColumnPlan {
                name: name.clone(),
                column_type: *column_type,
                source: FieldSource::Field(index),
                rules: Rules::default(),
                format: ColumnFormat::new(&detected_format(layout, index, *column_type).unwrap_or_default()),
            })
            .collect(),
    };
    Ok(ImportPlan {
        pad_missing: layout.pad_short_rows,
        layout: layout.clone(),
        columns,
        stated_null_markers: Vec::new(),
    })
}

fn plan_from_schema(
    layout: &FileLayout,
    schema: &SchemaFile,
    existing: Option<&ExistingTable>,
    missing: MissingColumns,
) -> Result<Vec<ColumnPlan>, PlanError> {
    schema.check()?;
    let mut columns = Vec::new();
    for (position, spec) in schema.columns.iter().enumerate() {
        if spec.skip {
            continue;
        }
        let wanted = spec.source.as_deref().unwrap_or(&spec.name);
        // Among several files with headers, columns go by name only: a position means nothing
        // when the files order their columns differently.
        let by_position = spec.source.is_none()
            && position < layout.columns.len()
            && (missing == MissingColumns::Refuse || !layout.has_header);
        // A renamed column (`source` the old header, `name` the new) may appear in later files
        // under its new name.
        let renamed = || {
            (missing == MissingColumns::Null && spec.source.is_some())
                .then(|| find_header(layout, &spec.name))
                .flatten()
        };
        let found = find_header(layout, wanted)
            .or_else(renamed)
            .or_else(|| by_position.then_some(position));
        let source = match found {
            Some(index) => FieldSource::Field(index),
            None if missing == MissingColumns::Null && !spec.required => FieldSource::Absent,
            None => {
                return Err(PlanError::MissingSource {
                    column: wanted.to_string(),
                    headers: layout.columns.join(", "),
                });
            }
        };
        let mut name = spec.name.trim().to_string();
        if let Some(table) = existing {
            let (table_name, table_type) = table_column(table, &name)?;
            if table_type != spec.column_type {
                return Err(PlanError::TypeMismatch {
                    column: table_name,
                    table: table.name.clone(),
                    table_type,
                    schema_type: spec.column_type,
                });
            }
            name = table_name;
        }
        let detected = match source {
            FieldSource::Field(index) => detected_format(layout, index, spec.column_type),
            FieldSource::Absent | FieldSource::FileName(_) => None,
        };
        columns.push(ColumnPlan {
            name,
            column_type: spec.column_type,
            source,
            rules: Rules::from_spec(spec)?,
            format: ColumnFormat::new(&spec.value_format(detected.as_ref())),
        });
    }
    Ok(columns)
}

fn plan_into_table(
    layout: &FileLayout,
    table: &ExistingTable,
    missing: MissingColumns,
) -> Result<Vec<ColumnPlan>, PlanError> {
    let matches = table_matches(layout, table, missing);
    let unmatched: Vec<&str> = layout
        .columns
        .iter()
        .zip(&matches)
        .filter(|(_, matched)| matched.is_none())
        .map(|(column, _)| column.as_str())
        .collect();
    if !unmatched.is_empty() {
        return Err(PlanError::UnmatchedColumns {
            columns: unmatched.join(", "),
            table: table.name.clone(),
            table_columns: table
                .columns
                .iter()
                .map(|column| column.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let mut columns = Vec::new();
    for (source_index, table_index) in matches.into_iter().enumerate() {
        let Some(table_index) = table_index else {
            continue;
        };
        let Column { name, type_name, .. } = &table.columns[table_index];
        let column_type = supported_type(table, name, type_name)?;
        columns.push(ColumnPlan {
            name: name.clone(),
            column_type,
            source: FieldSource::Field(source_index),
            rules: Rules::default(),
            format: ColumnFormat::new(&detected_format(layout, source_index, column_type).unwrap_or_default()),
        });
    }
    Ok(columns)
}

/// For each of the file's columns, the table column it feeds: by name, ignoring case; by
/// position when no name matches and the widths agree (a file whose header is not the table's),
/// but never among several files, whose columns may come in any order.
pub(crate) fn table_matches(layout: &FileLayout, table: &ExistingTable, missing: MissingColumns) -> Vec<Option<usize>> {
    let by_name: Vec<Option<usize>> = layout
        .columns
        .iter()
        .map(|column| position_ignoring_case(table.columns.iter().map(|column| &column.name), column))
        .collect();
    let none_match = by_name.iter().all(Option::is_none);
    if none_match && missing == MissingColumns::Refuse && layout.columns.len() == table.columns.len() {
        (0..table.columns.len()).map(Some).collect()
    } else {
        by_name
    }
}

/// The format detected for the file's column `source_index`, when it was found to hold `wanted`
/// values (a format read for dates says nothing about a column declared as text). Null markers
/// hold whatever the type.
fn detected_format(layout: &FileLayout, source_index: usize, wanted: ColumnType) -> Option<ValueFormat> {
    let guess = layout.column_guesses.get(source_index)?;
    let same_kind = guess.column_type == wanted
        || (guess.column_type.is_numeric() && wanted.is_numeric())
        || (guess.column_type == ColumnType::Date && wanted == ColumnType::Timestamp);
    if same_kind {
        Some(guess.format.clone())
    } else if wanted != ColumnType::Varchar {
        Some(ValueFormat {
            null_markers: guess.format.null_markers.clone(),
            ..ValueFormat::default()
        })
    } else if !layout.null_convention.is_empty() {
        // The writer's NULL, bare, is NULL in text too (its quoted form stays text).
        Some(ValueFormat::with_null_markers(layout.null_convention.clone()))
    } else {
        None
    }
}

fn table_column(table: &ExistingTable, name: &str) -> Result<(String, ColumnType), PlanError> {
    let index = position_ignoring_case(table.columns.iter().map(|column| &column.name), name).ok_or_else(|| {
        PlanError::NotInTable {
            column: name.to_string(),
            table: table.name.clone(),
        }
    })?;
    let Column {
        name: column,
        type_name,
        ..
    } = &table.columns[index];
    Ok((column.clone(), supported_type(table, column, type_name)?))
}

fn supported_type(table: &ExistingTable, column: &str, data_type: &str) -> Result<ColumnType, PlanError> {
    data_type.parse().map_err(|_| PlanError::UnsupportedType {
        column: column.to_string(),
        table: table.name.clone(),
        data_type: data_type.to_string(),
    })
}

fn find_header(layout: &FileLayout, wanted: &str) -> Option<usize> {
    let wanted = wanted.trim();
    layout
        .columns
        .iter()
        .position(|column| column == wanted)
        .or_else(|| layout.raw_headers.iter().position(|raw| raw.trim() == wanted))
        .or_else(|| position_ignoring_case(layout.columns.iter(), wanted))
}

pub(crate) fn position_ignoring_case<'a>(mut names: impl Iterator<Item = &'a String>, wanted: &str) -> Option<usize> {
    let wanted = wanted.to_lowercase();
    names.position(|name| name.to_lowercase() == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(columns: &[&str], types: &[ColumnType]) -> FileLayout {
        let names: Vec<String> = columns.iter().map(|s| s.to_string()).collect();
        FileLayout::of_columns(&names, types.to_vec())
    }

    #[test]
    fn schema_columns_match_headers_by_name_then_position() {
        let file = layout(&["b", "a", "c"], &[ColumnType::Varchar; 3]);
        let schema = SchemaFile {
            columns: vec![
                ColumnSpec::new("a", ColumnType::BigInt),
                ColumnSpec::new("renamed", ColumnType::Varchar),
                ColumnSpec::new("zzz", ColumnType::Varchar),
            ],
        };
        let plan = plan_import(&file, Some(&schema), None).unwrap();
        let sources: Vec<Option<usize>> = plan.columns.iter().map(ColumnPlan::field_index).collect();
        assert_eq!(sources, [Some(1), Some(1), Some(2)]);
    }

    #[test]
    fn appending_maps_columns_by_name_and_refuses_strangers() {
        let table = ExistingTable {
            name: "t".into(),
            columns: vec![
                Column::from_catalog("ID", "BIGINT"),
                Column::from_catalog("name", "VARCHAR"),
            ],
        };
        let plan = plan_import(&layout(&["name", "id"], &[ColumnType::Varchar; 2]), None, Some(&table)).unwrap();
        assert_eq!(plan.columns[0].name, "name");
        assert_eq!(plan.columns[1].name, "ID");
        assert_eq!(plan.columns[1].column_type, ColumnType::BigInt);
        let error = plan_import(
            &layout(&["name", "extra"], &[ColumnType::Varchar; 2]),
            None,
            Some(&table),
        );
        assert!(matches!(error, Err(PlanError::UnmatchedColumns { .. })));
    }

    #[test]
    fn appending_without_any_matching_name_goes_by_position() {
        let table = ExistingTable {
            name: "t".into(),
            columns: vec![
                Column::from_catalog("x", "BIGINT"),
                Column::from_catalog("y", "VARCHAR"),
            ],
        };
        let plan = plan_import(
            &layout(&["column_1", "column_2"], &[ColumnType::Varchar; 2]),
            None,
            Some(&table),
        )
        .unwrap();
        assert_eq!(plan.columns[0].name, "x");
    }

    #[test]
    fn unsupported_table_types_are_refused_up_front() {
        let table = ExistingTable {
            name: "t".into(),
            columns: vec![Column::from_catalog("blob", "BLOB")],
        };
        let error = plan_import(&layout(&["blob"], &[ColumnType::Varchar]), None, Some(&table));
        assert!(matches!(error, Err(PlanError::UnsupportedType { .. })));
    }
}
