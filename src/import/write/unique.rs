//! The `unique` rule of an import: which of its columns are unique, and the problem a row that
//! broke the rule is given. The rule is judged in DuckDB, on a keys table the store keeps
//! (`store/unique_keys.rs` says how and why), so memory does not grow with the file.

use std::sync::Arc;

use crate::import::plan::import_plan::{ColumnPlan, ImportPlan};
use crate::import::sniff::types::ColumnType;
use crate::import::write::cell::quoted;
use crate::records::{Problem, ProblemKind};
pub use crate::store::unique_keys::{
    Duplicate, LINE, ORDINAL, RECORD_NO, UniqueKey, UniqueKeys, committed_rowid, main_table,
};

/// Words the problems of a row that broke the rule, from its plan and fields.
pub type Wording<'w> = dyn Fn(&Duplicate, &ImportPlan, &[String]) -> Vec<Problem> + 'w;

/// The check an import of `plan` needs as job `job_id`: `None` when no column is unique.
pub fn check_for_plan(plan: &ImportPlan, job_id: i64) -> Option<UniqueKeys> {
    let keys = plan
        .columns
        .iter()
        .enumerate()
        .filter(|(_, column)| column.rules.unique)
        .map(|(index, column)| unique_key(index, column))
        .collect();
    UniqueKeys::new(job_id, keys)
}

/// The plan's column `index` as the keys table keeps it.
pub fn unique_key(index: usize, column: &ColumnPlan) -> UniqueKey {
    UniqueKey {
        index,
        column: column.name.clone(),
        sql_type: column.column_type.sql_name(),
        is_text: column.column_type == ColumnType::Varchar,
    }
}

/// The problems of a duplicate, one per unique column it broke the rule in; `fields` are the
/// row's fields, for showing the value. `file_of` names the file a record number of the job is
/// in, so a value first seen in another of the job's files is said to be there.
pub fn unique_problems(
    duplicate: &Duplicate,
    plan: &ImportPlan,
    fields: &[String],
    table: &str,
    file_of: &dyn Fn(u64) -> Option<Arc<str>>,
) -> Vec<Problem> {
    duplicate
        .hits
        .iter()
        .filter_map(|&(index, first)| {
            let column = plan.columns.get(index)?;
            let value = column
                .field_index()
                .and_then(|index| fields.get(index))
                .map_or("", String::as_str);
            let place = match first {
                None => format!("is already in table '{table}'"),
                Some(first) => match file_of(first.record_no) {
                    Some(file) if file_of(duplicate.record_no).as_ref() != Some(&file) => {
                        format!("already appears on line {} of {file}", first.line)
                    }
                    _ => format!("already appears on line {}", first.line),
                },
            };
            Some(unique_problem(column, value, &place))
        })
        .collect()
}

/// The problem of a value that broke the rule in `column`; `place` says where it was before.
fn unique_problem(column: &ColumnPlan, value: &str, place: &str) -> Problem {
    Problem {
        field_index: column.field_index(),
        column: Some(column.name.clone()),
        kind: ProblemKind::Unique,
        message: format!("{} {place}; values must be unique", quoted(value)),
    }
}
