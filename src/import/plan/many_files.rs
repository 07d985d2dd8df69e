//! Planning an import of several files into one table.
//!
//! Each file is sniffed on its own, with the same hints: a folder of monthly extracts may change
//! its encoding, delimiter or column order from one month to the next. Columns are matched by
//! name, whatever their order; a column a file lacks is NULL in that file's rows; a file with
//! columns the table lacks is refused, before anything is written, unless the person asked for
//! them to be added. Every file's plan then lists the same columns in the same order, so one batch
//! shape and one appender serve the whole job, and the unique rule sees every file's rows at once.

use std::path::PathBuf;
use std::sync::Arc;

use crate::import::ImportRequest;
use crate::import::open::input_formats::InputFormat;
use crate::import::open::source::FileToRead;
use crate::import::plan::import_plan::{
    ColumnPlan, FieldSource, ImportPlan, MissingColumns, PlanError, Rules, plan_part, position_ignoring_case,
    table_matches,
};
use crate::import::plan::schema::{ColumnSpec, SchemaFile};
use crate::import::plan::type_widening::unify;
use crate::import::sniff::file_layout::FileLayout;
use crate::import::sniff::types::ColumnType;
use crate::records::{Column, ExistingTable};

/// One file of an import, layout and planned.
#[derive(Debug)]
pub struct PlannedFile {
    pub path: PathBuf,
    /// How the file is named in failed rows, skipped lines and the source column.
    pub label: Arc<str>,
    pub plan: ImportPlan,
}

/// The plans of all of an import's files.
#[derive(Debug)]
pub struct FilesPlan {
    pub files: Vec<PlannedFile>,
    /// Columns to add to an existing table before its rows are appended.
    pub added_columns: Vec<(String, ColumnType)>,
}

impl PlannedFile {
    /// How the file is opened to be read.
    pub fn to_read(&self) -> FileToRead {
        FileToRead {
            path: self.path.clone(),
            label: self.label.clone(),
            encoding: self.plan.layout.encoding.encoding,
            sheet: self.plan.layout.sheet.clone(),
            columns: self.plan.layout.sheet_columns,
        }
    }
}

impl FilesPlan {
    /// The header the job stores for its failed rows' fields: the files' own, when they all
    /// share one; none when they differ (the fields of each row are then in its file's order).
    pub fn source_columns(&self) -> Vec<String> {
        let first = self.files.first().map(|file| &file.plan.layout.columns);
        match first {
            Some(columns) if self.files.iter().all(|file| &file.plan.layout.columns == columns) => columns.clone(),
            _ => Vec::new(),
        }
    }
}

/// Why several files cannot go into one table as asked.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// A file has columns the table lacks, and adding them was not asked for.
    #[error(
        "{file} has columns that table '{table}' lacks: {columns}; nothing was imported. Give --add-columns to add them, or leave the file out"
    )]
    ExtraColumns {
        /// The file, as the job names it.
        file: String,
        /// The table.
        table: String,
        /// The columns the table lacks, joined with commas.
        columns: String,
    },
    /// One file's fields cannot be planned into the table's columns.
    #[error("{file}: {source}")]
    Plan {
        /// The file, as the job names it.
        file: String,
        /// Why.
        source: PlanError,
    },
    /// A file has a column of the source column's name.
    #[error("the source column '{column}' clashes with a column of the same name in {file}; choose another name")]
    SourceColumnClash {
        /// The source column's name.
        column: String,
        /// The file, as the job names it.
        file: String,
    },
    /// The existing table has a column of the source column's name, and it is not text.
    #[error("the source column '{column}' of table '{table}' is {data_type}, not text, so it cannot hold file names")]
    SourceColumnType {
        /// The column, as the table names it.
        column: String,
        /// The table.
        table: String,
        /// The column's type as the database names it.
        data_type: String,
    },
}

/// Plans every file of `request`, each read by its layout in `layouts` (in the request's order),
/// into the table `existing` (when appending) or a new one.
/// `several` says the job has more than one file (a retry plans only the files its rows are from).
pub fn plan_files(
    layouts: Vec<(PathBuf, FileLayout)>,
    request: &ImportRequest,
    existing: Option<&ExistingTable>,
    several: bool,
) -> Result<FilesPlan, FilesError> {
    let missing = if several {
        MissingColumns::Null
    } else {
        MissingColumns::Refuse
    };
    let label = |path: &PathBuf| path.display().to_string();
    let mut added_columns = Vec::new();
    let extended;
    let schema = match &request.schema {
        Some(schema) if several => {
            extended = schema_for_files(schema, &layouts, request, existing)?;
            Some(&extended)
        }
        schema => schema.as_ref(),
    };
    let target = target_table(&layouts, request, (schema, existing), missing, &mut added_columns)?;
    let mut files = Vec::with_capacity(layouts.len());
    for (path, layout) in layouts {
        let mut plan = plan_part(&layout, schema, target.as_ref(), missing).map_err(|source| FilesError::Plan {
            file: label(&path),
            source,
        })?;
        // A sheet row simply ends at its last filled cell: the empty cells after it are empty
        // values, not missing ones.
        plan.pad_missing = plan.pad_missing || request.pad_missing || layout.format == InputFormat::Workbook;
        plan.stated_null_markers = request.hints.null_markers.clone();
        plan.stated_null_markers.extend(layout.null_convention.iter().cloned());
        files.push(PlannedFile {
            label: Arc::from(label(&path)),
            path,
            plan,
        });
    }
    if let (Some(table), None) = (&target, schema) {
        align_to_table(&mut files, table);
    }
    refuse_unfed_columns(&files)?;
    if let Some(column) = &request.source_column {
        add_source_column(&mut files, column, existing, &mut added_columns)?;
    }
    Ok(FilesPlan { files, added_columns })
}

/// The table each file is planned against, with the columns the import adds to it (into
/// `added_columns`); `None` lets a lone file (or a schema) say.
fn target_table(
    layouts: &[(PathBuf, FileLayout)],
    request: &ImportRequest,
    (schema, existing): (Option<&SchemaFile>, Option<&ExistingTable>),
    missing: MissingColumns,
    added_columns: &mut Vec<(String, ColumnType)>,
) -> Result<Option<ExistingTable>, FilesError> {
    let label = |path: &PathBuf| path.display().to_string();
    Ok(match (schema, existing) {
        (Some(schema), Some(table)) => {
            let mut table = table.clone();
            for spec in schema.columns.iter().filter(|spec| !spec.skip) {
                if position_ignoring_case(table.columns.iter().map(|column| &column.name), spec.name.trim()).is_none()
                    && request.add_columns
                {
                    let name = spec.name.trim().to_string();
                    table
                        .columns
                        .push(Column::from_catalog(name.clone(), spec.column_type.sql_name()));
                    added_columns.push((name, spec.column_type));
                }
            }
            Some(table)
        }
        (Some(_), None) => None,
        (None, Some(table)) => {
            let extras = extra_columns(layouts, table, missing);
            if let Some((file, columns)) = extras.first().filter(|_| !request.add_columns) {
                return Err(FilesError::ExtraColumns {
                    file: label(file),
                    table: table.name.clone(),
                    columns: columns
                        .iter()
                        .map(|(name, _)| name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            let mut table = table.clone();
            for (name, column_type) in unify(extras.into_iter().flat_map(|(_, columns)| columns)) {
                let column_type = column_type.unwrap_or(ColumnType::Varchar);
                table
                    .columns
                    .push(Column::from_catalog(name.clone(), column_type.sql_name()));
                added_columns.push((name, column_type));
            }
            Some(table)
        }
        (None, None) if layouts.len() > 1 => Some(new_table(layouts, request)?),
        (None, None) => None,
    })
}

/// A schema (the window always sends one, made from the first file) applied to several files:
/// it says what becomes of the first file's columns, so it may leave some out; a column only a
/// later file has is one the person has not seen: read into the existing table's column of that
/// name when there is one, else refused unless `add_columns`, which adds it typed to hold every
/// file's values.
fn schema_for_files(
    schema: &SchemaFile,
    layouts: &[(PathBuf, FileLayout)],
    request: &ImportRequest,
    existing: Option<&ExistingTable>,
) -> Result<SchemaFile, FilesError> {
    let mut schema = schema.clone();
    let Some((_, first)) = layouts.first() else {
        return Ok(schema);
    };
    let read_by_schema = |schema: &SchemaFile, name: &str| {
        schema.columns.iter().any(|spec| {
            spec.source
                .as_deref()
                .unwrap_or(&spec.name)
                .trim()
                .eq_ignore_ascii_case(name.trim())
                || spec.name.trim().eq_ignore_ascii_case(name.trim())
        })
    };
    let in_table = |name: &str| {
        existing.and_then(|table| {
            table
                .columns
                .iter()
                .find(|column| column.name.eq_ignore_ascii_case(name.trim()))
        })
    };
    let mut new_columns = Vec::new();
    for (path, layout) in layouts.iter().skip(1) {
        let mut new = Vec::new();
        for (name, column_type) in typed_columns(layout) {
            if position_ignoring_case(first.columns.iter(), &name).is_some() || read_by_schema(&schema, &name) {
                continue;
            }
            match in_table(&name).and_then(|column| Some((column, column.type_name.parse::<ColumnType>().ok()?))) {
                Some((column, table_type)) => {
                    let mut spec = ColumnSpec::new(column.name.clone(), table_type);
                    spec.source = Some(name.clone());
                    schema.columns.push(spec);
                }
                None => new.push((name, column_type)),
            }
        }
        if !new.is_empty() && !request.add_columns {
            return Err(FilesError::ExtraColumns {
                file: path.display().to_string(),
                table: request.table.clone(),
                columns: new.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(", "),
            });
        }
        new_columns.extend(new);
    }
    for (name, column_type) in unify(new_columns.into_iter()) {
        let mut spec = ColumnSpec::new(name.clone(), column_type.unwrap_or(ColumnType::Varchar));
        spec.source = Some(name);
        schema.columns.push(spec);
    }
    Ok(schema)
}

/// The table a create (or replace) of several files makes: the first file's columns, then the
/// columns only later files have (refused unless `add_columns`), each typed to hold every file's
/// values.
fn new_table(layouts: &[(PathBuf, FileLayout)], request: &ImportRequest) -> Result<ExistingTable, FilesError> {
    let mut names: Vec<String> = Vec::new();
    for (path, layout) in layouts {
        let new: Vec<&String> = layout
            .columns
            .iter()
            .filter(|column| position_ignoring_case(names.iter(), column).is_none())
            .collect();
        if !names.is_empty() && !new.is_empty() && !request.add_columns {
            return Err(FilesError::ExtraColumns {
                file: path.display().to_string(),
                table: request.table.clone(),
                columns: new.iter().map(|name| name.as_str()).collect::<Vec<_>>().join(", "),
            });
        }
        names.extend(new.into_iter().cloned());
    }
    let types = unify(layouts.iter().flat_map(|(_, layout)| typed_columns(layout)));
    let columns = names
        .iter()
        .map(|name| {
            let column_type = position_ignoring_case(types.iter().map(|(name, _)| name), name)
                .and_then(|index| types[index].1)
                .unwrap_or(ColumnType::Varchar);
            Column::from_catalog(name.clone(), column_type.sql_name())
        })
        .collect();
    Ok(ExistingTable {
        name: request.table.clone(),
        columns,
    })
}

/// A column's name and the type its values were found to have, if any were sampled.
type TypedColumn = (String, Option<ColumnType>);

/// A file's columns with the type its values were found to have; `None` for a column whose
/// sample held no values, which says nothing of its type.
fn typed_columns(layout: &FileLayout) -> impl Iterator<Item = (String, Option<ColumnType>)> + '_ {
    layout.columns.iter().enumerate().map(|(index, name)| {
        let column_type = match layout.column_guesses.get(index) {
            Some(guess) if guess.sampled > 0 => Some(guess.column_type),
            Some(_) => None,
            None => layout.column_types.get(index).copied(),
        };
        (name.clone(), column_type)
    })
}

/// Each file's columns that `table` lacks, with their layout types, for the files that have any.
fn extra_columns(
    layouts: &[(PathBuf, FileLayout)],
    table: &ExistingTable,
    missing: MissingColumns,
) -> Vec<(PathBuf, Vec<TypedColumn>)> {
    layouts
        .iter()
        .filter_map(|(path, layout)| {
            let extra: Vec<TypedColumn> = table_matches(layout, table, missing)
                .iter()
                .zip(typed_columns(layout))
                .filter(|(matched, _)| matched.is_none())
                .map(|(_, column)| column)
                .collect();
            (!extra.is_empty()).then(|| (path.clone(), extra))
        })
        .collect()
}

/// Refuses a column no file feeds (a schema column matching no header of any file): it would be
/// NULL in every row, which is never what a schema asks for.
fn refuse_unfed_columns(files: &[PlannedFile]) -> Result<(), FilesError> {
    let Some(first) = files.first() else {
        return Ok(());
    };
    for (index, column) in first.plan.columns.iter().enumerate() {
        let unfed = files.iter().all(|file| {
            file.plan
                .columns
                .get(index)
                .is_some_and(|column| column.source == FieldSource::Absent)
        });
        if unfed {
            return Err(FilesError::Plan {
                file: first.label.to_string(),
                source: PlanError::MissingSource {
                    column: column.name.clone(),
                    headers: first.plan.layout.columns.join(", "),
                },
            });
        }
    }
    Ok(())
}

/// Puts every file's columns in the table's order, NULL where a file lacks one, so all the
/// files' batches have one shape. Table columns no file has are left to the table's default.
fn align_to_table(files: &mut [PlannedFile], table: &ExistingTable) {
    let fed: Vec<&Column> = table
        .columns
        .iter()
        .filter(|column| {
            files
                .iter()
                .any(|file| file.plan.columns.iter().any(|planned| planned.name == column.name))
        })
        .collect();
    for file in files.iter_mut() {
        let mut planned = std::mem::take(&mut file.plan.columns);
        file.plan.columns = fed
            .iter()
            .map(
                |column| match planned.iter().position(|planned| planned.name == column.name) {
                    Some(index) => planned.swap_remove(index),
                    None => ColumnPlan {
                        name: column.name.clone(),
                        column_type: column.type_name.parse().unwrap_or(ColumnType::Varchar),
                        source: FieldSource::Absent,
                        rules: Rules::default(),
                        format: Default::default(),
                    },
                },
            )
            .collect();
    }
}

/// Adds the column that names each row's file: to the new table, or to an existing one that
/// lacks it (asking for it is asking for it to exist).
fn add_source_column(
    files: &mut [PlannedFile],
    column: &str,
    existing: Option<&ExistingTable>,
    added_columns: &mut Vec<(String, ColumnType)>,
) -> Result<(), FilesError> {
    let mut name = column.trim().to_string();
    if let Some(table) = existing {
        match table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(&name)) {
            Some(found) if found.type_name.parse() != Ok(ColumnType::Varchar) => {
                return Err(FilesError::SourceColumnType {
                    column: found.name.clone(),
                    table: table.name.clone(),
                    data_type: found.type_name.clone(),
                });
            }
            Some(found) => name = found.name.clone(),
            None => added_columns.push((name.clone(), ColumnType::Varchar)),
        }
    }
    for file in files.iter_mut() {
        let clash = file
            .plan
            .columns
            .iter()
            .find(|planned| planned.name.eq_ignore_ascii_case(&name) && planned.source != FieldSource::Absent);
        if clash.is_some() {
            return Err(FilesError::SourceColumnClash {
                column: name,
                file: file.label.to_string(),
            });
        }
        file.plan
            .columns
            .retain(|planned| !planned.name.eq_ignore_ascii_case(&name));
        file.plan.columns.push(ColumnPlan {
            name: name.clone(),
            column_type: ColumnType::Varchar,
            source: FieldSource::FileName(file.label.clone()),
            rules: Rules::default(),
            format: Default::default(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(columns: &[&str], types: &[ColumnType]) -> FileLayout {
        let names: Vec<String> = columns.iter().map(|name| name.to_string()).collect();
        let mut layout = FileLayout::of_columns(&names, types.to_vec());
        for (guess, column_type) in layout.column_guesses.iter_mut().zip(types) {
            guess.column_type = *column_type;
            guess.sampled = 10;
        }
        layout
    }

    fn names(plan: &ImportPlan) -> Vec<(&str, Option<usize>)> {
        plan.columns
            .iter()
            .map(|column| (column.name.as_str(), column.field_index()))
            .collect()
    }

    use ColumnType::*;

    #[test]
    fn files_in_another_order_share_one_column_list_with_nulls_for_what_they_lack() {
        let mut request = ImportRequest::new("unused", "t");
        request.add_columns = true;
        let plan = plan_files(
            vec![
                ("a.csv".into(), layout(&["id", "name"], &[BigInt, Varchar])),
                (
                    "b.csv".into(),
                    layout(&["NAME", "id", "score"], &[Varchar, Double, Integer]),
                ),
            ],
            &request,
            None,
            true,
        )
        .unwrap();
        assert_eq!(
            names(&plan.files[0].plan),
            [("id", Some(0)), ("name", Some(1)), ("score", None)]
        );
        assert_eq!(
            names(&plan.files[1].plan),
            [("id", Some(1)), ("name", Some(0)), ("score", Some(2))]
        );
        let types: Vec<ColumnType> = plan.files[0].plan.columns.iter().map(|c| c.column_type).collect();
        assert_eq!(
            types,
            [Double, Varchar, Integer],
            "id widens to hold both files' values"
        );
        assert_eq!(plan.files[0].plan.columns[2].source, FieldSource::Absent);
        assert!(plan.source_columns().is_empty(), "the files' headers differ");
    }

    #[test]
    fn a_later_file_with_new_columns_is_refused_without_add_columns() {
        let request = ImportRequest::new("unused", "t");
        let error = plan_files(
            vec![
                ("a.csv".into(), layout(&["id"], &[BigInt])),
                ("b.csv".into(), layout(&["id", "extra"], &[BigInt, Varchar])),
            ],
            &request,
            None,
            true,
        )
        .unwrap_err();
        assert!(
            matches!(&error, FilesError::ExtraColumns { file, columns, .. } if file == "b.csv" && columns == "extra")
        );
    }

    #[test]
    fn appending_adds_columns_only_when_asked_and_the_source_column_when_missing() {
        let table = ExistingTable {
            name: "t".into(),
            columns: vec![
                Column::from_catalog("id", "BIGINT"),
                Column::from_catalog("note", "VARCHAR"),
            ],
        };
        let sniffs = || {
            vec![
                ("a.csv".into(), layout(&["id"], &[BigInt])),
                ("b.csv".into(), layout(&["id", "city"], &[BigInt, Varchar])),
            ]
        };
        let mut request = ImportRequest::new("unused", "t");
        request.mode = crate::import::ImportMode::Append;
        assert!(matches!(
            plan_files(sniffs(), &request, Some(&table), true),
            Err(FilesError::ExtraColumns { .. })
        ));
        request.add_columns = true;
        request.source_column = Some("source_file".into());
        let plan = plan_files(sniffs(), &request, Some(&table), true).unwrap();
        assert_eq!(
            plan.added_columns,
            [("city".to_string(), Varchar), ("source_file".to_string(), Varchar)]
        );
        assert_eq!(
            names(&plan.files[0].plan),
            [("id", Some(0)), ("city", None), ("source_file", None)],
            "note is fed by no file and keeps its default"
        );
        assert_eq!(
            plan.files[1].plan.columns[2].source,
            FieldSource::FileName(Arc::from("b.csv"))
        );
    }

    #[test]
    fn a_source_column_may_not_shadow_a_file_column() {
        let mut request = ImportRequest::new("unused", "t");
        request.source_column = Some("ID".into());
        let error = plan_files(
            vec![("a.csv".into(), layout(&["id"], &[BigInt]))],
            &request,
            None,
            false,
        )
        .unwrap_err();
        assert!(matches!(error, FilesError::SourceColumnClash { .. }));
    }
}
