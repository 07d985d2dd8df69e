//! The `unique` rule of an import: which of its columns are unique, and the problem a row that
//! broke the rule is given. The rule is judged in DuckDB, on a keys table the store keeps
//! (`store/unique_keys.rs` says how and why), so memory does not grow with the file.

use super::plan::{ColumnPlan, ImportPlan};
use super::types::ColumnType;
use super::validate::quoted;
use crate::records::{Problem, ProblemKind};
use crate::store::unique_keys::UniqueKey;
pub use crate::store::unique_keys::{Duplicate, LINE, ORDINAL, RECORD_NO, UniqueKeys, committed_rowid};

/// The check an import of `plan` needs as job `job_id`: `None` when no column is unique.
pub fn check_for_plan(plan: &ImportPlan, job_id: i64) -> Option<UniqueKeys> {
    let keys = plan
        .columns
        .iter()
        .enumerate()
        .filter(|(_, column)| column.rules.unique)
        .map(|(index, column)| UniqueKey {
            index,
            column: column.name.clone(),
            sql_type: column.column_type.sql_name(),
            is_text: column.column_type == ColumnType::Varchar,
        })
        .collect();
    UniqueKeys::new(job_id, keys)
}

/// The problems of a duplicate, one per unique column it broke the rule in; `fields` are the
/// row's fields, for showing the value.
pub fn unique_problems(duplicate: &Duplicate, plan: &ImportPlan, fields: &[String], table: &str) -> Vec<Problem> {
    duplicate
        .hits
        .iter()
        .filter_map(|&(index, first_line)| {
            let column = plan.columns.get(index)?;
            let value = fields.get(column.source_index).map_or("", String::as_str);
            Some(unique_problem(column, value, first_line, table))
        })
        .collect()
}

/// The problem of a value that broke the rule in `column`; `first_line` is where it first
/// appeared in the file, `None` when it was already in `table`.
fn unique_problem(column: &ColumnPlan, value: &str, first_line: Option<u64>, table: &str) -> Problem {
    let place = match first_line {
        None => format!("is already in table '{table}'"),
        Some(line) => format!("already appears on line {line}"),
    };
    Problem {
        field_index: Some(column.source_index),
        column: Some(column.name.clone()),
        kind: ProblemKind::Unique,
        message: format!("{} {place}; values must be unique", quoted(value)),
    }
}
