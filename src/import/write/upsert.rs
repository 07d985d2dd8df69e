//! Updating a table from the same extract again (`--mode upsert --key COL[,COL]`): which
//! columns are the key, checked against the table and every file before anything is written,
//! and what a row whose key repeats is told.
//!
//! Rows go to a staging table (`store::upsert`). A row with an empty key fails as `required`
//! (it cannot be matched); a row whose key an earlier row of the job had fails as `unique`, the
//! first occurrence being the one that counts (the key rule, judged on the whole key at once).
//! What is left replaces the stored row with the same key, or is inserted.

use std::sync::Arc;

use crate::import::plan::import_plan::{FieldSource, ImportPlan};
use crate::import::plan::many_files::PlannedFile;
use crate::import::write::cell::quoted;
use crate::import::write::unique::{self, Duplicate, UniqueKeys};
use crate::records::{ExistingTable, Problem, ProblemKind};

/// Why the key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// An upsert was asked for without a key column.
    #[error("an upsert needs its key: the columns that match a row with a stored one")]
    NoKey,
    /// A key column is not in the existing table.
    #[error("the key column '{column}' is not in table '{table}' (its columns: {columns}); nothing was imported")]
    NotInTable {
        /// The key column as given.
        column: String,
        /// The table.
        table: String,
        /// The table's columns, joined with commas.
        columns: String,
    },
    /// A file has no field that feeds a key column.
    #[error("{file} has no key column '{column}', so its rows cannot be matched; nothing was imported")]
    NotInFile {
        /// The key column.
        column: String,
        /// The file, as the job names it.
        file: String,
    },
    /// A schema column has the unique rule, which an upsert does not judge beside its key.
    #[error(
        "column '{column}' has the unique rule; an upsert's only uniqueness is its key (--key), so drop the rule or make it the key"
    )]
    UniqueRule {
        /// The column with the rule.
        column: String,
    },
}

/// The key of an upsert: its columns' places among the plan's columns and their names in the
/// table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub indexes: Vec<usize>,
    pub names: Vec<String>,
}

/// The key's column names as given, trimmed, each once (any case); refused when there are none.
fn wanted_names(key: &[String]) -> Result<Vec<&str>, KeyError> {
    let mut wanted: Vec<&str> = Vec::new();
    for name in key.iter().map(|name| name.trim()).filter(|name| !name.is_empty()) {
        if !wanted.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
            wanted.push(name);
        }
    }
    if wanted.is_empty() {
        return Err(KeyError::NoKey);
    }
    Ok(wanted)
}

/// Refuses a key column the table lacks.
fn check_in_table(wanted: &[&str], existing: Option<&ExistingTable>) -> Result<(), KeyError> {
    let Some(table) = existing else {
        return Ok(());
    };
    match wanted.iter().find(|name| {
        !table
            .columns
            .iter()
            .any(|column| column.name.eq_ignore_ascii_case(name))
    }) {
        Some(name) => Err(KeyError::NotInTable {
            column: name.to_string(),
            table: table.name.clone(),
            columns: table
                .columns
                .iter()
                .map(|column| column.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
        None => Ok(()),
    }
}

/// Refuses a key column that a file (`label`, planned as `plan`) does not feed, and a column
/// with the unique rule: an upsert's only uniqueness is its key.
fn check_in_file(wanted: &[&str], plan: &ImportPlan, label: &str) -> Result<(), KeyError> {
    for name in wanted {
        let fed = plan
            .columns
            .iter()
            .any(|column| column.name.eq_ignore_ascii_case(name) && matches!(column.source, FieldSource::Field(_)));
        if !fed {
            return Err(KeyError::NotInFile {
                column: name.to_string(),
                file: label.to_string(),
            });
        }
    }
    match plan.columns.iter().find(|column| column.rules.unique) {
        Some(column) => Err(KeyError::UniqueRule {
            column: column.name.clone(),
        }),
        None => Ok(()),
    }
}

/// Whether `key` can be an upsert's key for a file named `label` planned as `plan`, into the
/// table as it stands (`existing`): the check the job makes of every file, for a front end to
/// make before anything starts.
pub fn check_key(
    key: &[String],
    plan: &ImportPlan,
    existing: Option<&ExistingTable>,
    label: &str,
) -> Result<(), KeyError> {
    let wanted = wanted_names(key)?;
    check_in_table(&wanted, existing)?;
    check_in_file(&wanted, plan, label)
}

/// Finds `key` (column names, any case) among the planned columns of every file, marks those
/// columns as the key, and refuses what an upsert cannot do.
pub fn plan_key(key: &[String], files: &mut [PlannedFile], existing: Option<&ExistingTable>) -> Result<Key, KeyError> {
    let wanted = wanted_names(key)?;
    check_in_table(&wanted, existing)?;
    for file in files.iter() {
        check_in_file(&wanted, &file.plan, &file.label)?;
    }
    let first = files.first().map(|file| &file.plan.columns);
    let mut indexes = Vec::with_capacity(wanted.len());
    let mut names = Vec::with_capacity(wanted.len());
    for name in &wanted {
        let index = first
            .and_then(|columns| columns.iter().position(|column| column.name.eq_ignore_ascii_case(name)))
            .unwrap_or_default();
        indexes.push(index);
        names.push(
            first
                .and_then(|columns| columns.get(index))
                .map_or_else(String::new, |column| column.name.clone()),
        );
    }
    for file in files.iter_mut() {
        for &index in &indexes {
            if let Some(column) = file.plan.columns.get_mut(index) {
                column.rules.key = true;
            }
        }
    }
    Ok(Key { indexes, names })
}

/// The check that fails rows whose whole key an earlier row of job `job_id` had.
pub fn key_check(plan: &ImportPlan, key: &Key, job_id: i64) -> Option<UniqueKeys> {
    let keys = key
        .indexes
        .iter()
        .filter_map(|&index| Some(unique::unique_key(index, plan.columns.get(index)?)))
        .collect();
    UniqueKeys::one_key(job_id, keys)
}

/// The problem of a row whose key repeats an earlier row's; `file_of` names the file a record
/// number of the job is in.
pub fn key_problems(
    duplicate: &Duplicate,
    plan: &ImportPlan,
    fields: &[String],
    key: &Key,
    file_of: &dyn Fn(u64) -> Option<Arc<str>>,
) -> Vec<Problem> {
    let Some(first) = duplicate.hits.iter().find_map(|(_, first)| *first) else {
        return Vec::new();
    };
    let values: Vec<String> = key
        .indexes
        .iter()
        .filter_map(|&index| plan.columns.get(index))
        .map(|column| {
            let value = column
                .field_index()
                .and_then(|index| fields.get(index))
                .map_or("", String::as_str);
            format!("{} = {}", column.name, quoted(value))
        })
        .collect();
    let place = match file_of(first.record_no) {
        Some(file) if file_of(duplicate.record_no).as_ref() != Some(&file) => {
            format!("line {} of {file}", first.line)
        }
        _ => format!("line {}", first.line),
    };
    let column = key.indexes.first().and_then(|&index| plan.columns.get(index));
    vec![Problem {
        field_index: column.and_then(|column| column.field_index()),
        column: column.map(|column| column.name.clone()),
        kind: ProblemKind::Unique,
        message: format!(
            "the key ({}) repeats {place}; the first row with a key is the one imported",
            values.join(", ")
        ),
    }]
}
